// Assembles a Palisade server: store, clock, gateway and services.
import { Store } from './store/store.ts';
import { Gateway } from './gateway/server.ts';
import type { ServerConfig } from './gateway/context.ts';
import { SystemClock, type Clock } from './clock.ts';
import { createLogger, type Logger } from './log.ts';
import { ec2Service } from './services/ec2/index.ts';
import { adminExtension } from './gateway/admin.ts';
import { iamService } from './services/iam/index.ts';

export const DEFAULTS: ServerConfig = {
  host: '127.0.0.1',
  port: 4566,
  stateDir: './.palisade',
  region: 'us-east-1',
  defaultAccount: '000000000000',
  logLevel: 'info',
};

export interface Palisade {
  gateway: Gateway;
  store: Store;
  clock: Clock;
  url: string;
  close(): Promise<void>;
}

export async function startServer(config: Partial<ServerConfig> = {}, opts: { clock?: Clock; logger?: Logger } = {}): Promise<Palisade> {
  const cfg: ServerConfig = { ...DEFAULTS, ...config };
  const clock = opts.clock ?? new SystemClock();
  const log = opts.logger ?? createLogger(cfg.logLevel);
  const store = new Store(cfg.stateDir ?? ':memory:');
  const gateway = new Gateway(cfg, store, clock, log);
  gateway.extend(adminExtension(store));
  gateway.register(ec2Service());
  gateway.register(iamService());
  const { host, port } = await gateway.listen();
  const url = `http://${host}:${port}`;
  return {
    gateway, store, clock, url,
    async close() {
      await gateway.close();
      store.close();
    },
  };
}
