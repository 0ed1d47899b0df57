import { parseArgs } from 'node:util';
import { DEFAULTS, startServer } from '../server.ts';
import type { ServerConfig } from '../gateway/context.ts';

const USAGE = `Usage: palisade <command> [options]

Commands:
  start     run the server
    --host HOST             address to listen on (PALISADE_HOST, default 127.0.0.1)
    --port PORT             port to listen on; 0 picks a free one (PALISADE_PORT, default 4566)
    --state-dir DIR         where state lives (PALISADE_STATE_DIR, default ./.palisade)
    --in-memory             keep state in memory only (PALISADE_IN_MEMORY=1)
    --region REGION         region of unsigned requests (PALISADE_REGION, default us-east-1)
    --default-account ID    account of non-numeric access keys (PALISADE_DEFAULT_ACCOUNT, default 000000000000)
    --log-level LEVEL       debug|info|warn|error (PALISADE_LOG_LEVEL, default info)
  help      show this text
`;

function env(name: string): string | undefined {
  const v = process.env[`PALISADE_${name}`];
  return v === undefined || v === '' ? undefined : v;
}

export async function runCli(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return start(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`palisade: unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}

async function start(args: string[]): Promise<undefined> {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'state-dir': { type: 'string' },
      'in-memory': { type: 'boolean' },
      region: { type: 'string' },
      'default-account': { type: 'string' },
      'log-level': { type: 'string' },
    },
  });
  const inMemory = values['in-memory'] ?? ['1', 'true'].includes(env('IN_MEMORY') ?? '');
  const port = Number(values.port ?? env('PORT') ?? DEFAULTS.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port '${values.port ?? env('PORT')}'`);
  const logLevel = (values['log-level'] ?? env('LOG_LEVEL') ?? DEFAULTS.logLevel) as ServerConfig['logLevel'];
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new Error(`invalid log level '${logLevel}'`);
  const account = values['default-account'] ?? env('DEFAULT_ACCOUNT') ?? DEFAULTS.defaultAccount;
  if (!/^\d{12}$/.test(account)) throw new Error(`invalid account id '${account}': 12 digits expected`);
  const config: ServerConfig = {
    host: values.host ?? env('HOST') ?? DEFAULTS.host,
    port,
    stateDir: inMemory ? null : values['state-dir'] ?? env('STATE_DIR') ?? DEFAULTS.stateDir,
    region: values.region ?? env('REGION') ?? DEFAULTS.region,
    defaultAccount: account,
    logLevel,
  };
  const server = await startServer(config);
  process.stdout.write(
    `Palisade listening on ${server.url} (state: ${config.stateDir ?? 'in memory'})\n` +
    `export AWS_ENDPOINT_URL=${server.url}\n`,
  );
  const stop = () => {
    server.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return undefined;
}
