// `palisade start`: the server, configured from the flags (already merged with the PALISADE_*
// environment and the defaults by the parser, see commands.ts).
import type { ServerConfig } from '../core/context.ts';
import { createLogger, type LogFormat } from '../core/log.ts';
import { startServer } from '../server.ts';
import { InputError } from './errors.ts';

export async function start(o: Record<string, unknown>): Promise<void> {
  const account = String(o.defaultAccount);
  if (!/^\d{12}$/.test(account)) throw new InputError(`invalid account id '${account}': 12 digits expected`);
  const logLevel = o.logLevel as ServerConfig['logLevel'];
  const config: ServerConfig = {
    host: String(o.host),
    port: o.port as number,
    stateDir: o.inMemory ? null : String(o.stateDir),
    region: String(o.region),
    defaultAccount: account,
    logLevel,
    clock: o.clock as ServerConfig['clock'],
    auth: o.auth as ServerConfig['auth'],
    dataplane: o.dataplane as ServerConfig['dataplane'],
  };
  let server;
  try {
    server = await startServer(config, { logger: createLogger(logLevel, undefined, o.logFormat as LogFormat) });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EADDRINUSE')
      throw new InputError(
        `cannot listen on ${config.host}:${config.port}: the port is in use (another palisade start?); --port 0 picks a free one`,
      );
    if (code === 'EADDRNOTAVAIL') throw new InputError(`cannot listen on ${config.host}: not an address of this machine`);
    throw e;
  }
  let banner = `Palisade listening on ${server.url} (state: ${config.stateDir ?? 'in memory'}, auth: ${config.auth})\n`;
  if (config.auth !== 'open') {
    const root = server.gateway.rootKey();
    if (root.generated) {
      banner +=
        `Root credentials of account ${config.defaultAccount} (shown once, kept in the state):\n` +
        `export AWS_ACCESS_KEY_ID=${root.accessKeyId} AWS_SECRET_ACCESS_KEY=${root.secretAccessKey}\n`;
    }
  }
  process.stdout.write(`${banner}export AWS_ENDPOINT_URL=${server.url}\n`);
  const stop = () => {
    server.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
