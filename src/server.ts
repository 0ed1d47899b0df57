// Assembles a Palisade server: store, clock, gateway and services.
import { Store } from './store/store.ts';
import { Gateway } from './gateway/server.ts';
import type { ServerConfig } from './gateway/context.ts';
import { SystemClock, VirtualClock, type Clock } from './clock.ts';
import { DataPlane } from './network/dataplane.ts';
import { syncDataPlane } from './services/network/engine-sync.ts';
import { NetworkApi } from './services/network/api.ts';
import { registerPlane } from './services/network/live-view.ts';
import { createLogger, type Logger } from './log.ts';
import { ec2Service } from './services/ec2/index.ts';
import { adminExtension } from './gateway/admin.ts';
import { iamService } from './services/iam/index.ts';
import { stsService } from './services/sts/index.ts';
import { Imds } from './imds/imds.ts';
import { authorize } from './auth/authorize.ts';

export const DEFAULTS: ServerConfig = {
  host: '127.0.0.1',
  port: 4566,
  stateDir: './.palisade',
  region: 'us-east-1',
  defaultAccount: '000000000000',
  logLevel: 'info',
  clock: 'system',
};

export interface Palisade {
  gateway: Gateway;
  store: Store;
  clock: Clock;
  imds: Imds;
  plane: DataPlane;
  network: NetworkApi;
  url: string;
  close(): Promise<void>;
}

export async function startServer(config: Partial<ServerConfig> = {}, opts: { clock?: Clock; logger?: Logger } = {}): Promise<Palisade> {
  const cfg: ServerConfig = { ...DEFAULTS, ...config };
  const clock = opts.clock ?? (cfg.clock === 'virtual' ? new VirtualClock() : new SystemClock());
  const log = opts.logger ?? createLogger(cfg.logLevel);
  const store = new Store(cfg.stateDir ?? ':memory:');
  const gateway = new Gateway(cfg, store, clock, log);
  gateway.authorizer = authorize;
  const imds = new Imds(store, clock, cfg, log);
  gateway.extend(adminExtension(store, imds));
  const plane = new DataPlane();
  syncDataPlane(store, plane);
  registerPlane(store, plane);
  const network = new NetworkApi(store, plane, clock, cfg);
  gateway.extend(network);
  gateway.register(ec2Service());
  gateway.register(iamService());
  gateway.register(stsService());
  const { host, port } = await gateway.listen();
  const url = `http://${host}:${port}`;
  return {
    gateway, store, clock, url, imds, plane, network,
    async close() {
      await imds.close();
      await gateway.close();
      store.close();
    },
  };
}
