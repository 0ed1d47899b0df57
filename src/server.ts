// Assembles a Palisade server: store, clock, gateway and services.
import { Store } from './store/store.ts';
import { Gateway } from './gateway/server.ts';
import type { ServerConfig } from './core/context.ts';
import { SystemClock, VirtualClock, type Clock } from './core/clock.ts';
import { DataPlane } from './dataplane/dataplane.ts';
import { NetworkApi } from './traffic/traffic.ts';
import { LiveNetwork } from './traffic/live-view.ts';
import { ChangeFeed } from './traffic/change-feed.ts';
import { createLogger, type Logger } from './core/log.ts';
import { ec2Service } from './services/ec2/index.ts';
import { AdminRouter } from './admin-api/router.ts';
import { adminRoutes } from './admin-api/routes.ts';
import { adminGuard } from './admin-api/guard.ts';
import { ROOT_KEY_META } from './auth/authenticate.ts';
import { iamService } from './services/iam/index.ts';
import { startRoleSession, stsService, trustAllows } from './services/sts/index.ts';
import { Imds } from './imds/imds.ts';
import { authorize } from './auth/authorize.ts';
import { logsService } from './services/logs/index.ts';
import { s3Service } from './services/s3/index.ts';
import { S3Storage } from './services/s3/storage.ts';
import { FlowLogEngine } from './flowlogs/engine.ts';
import { CloudTrail } from './cloudtrail/engine.ts';
import { cloudtrailService } from './services/cloudtrail/index.ts';
import { KernelPlane } from './kernel/kernel-plane.ts';
import { KernelRouters } from './kernel/router-plane.ts';
import { KernelFlows } from './kernel/kernel-flows.ts';
import { KernelMetadata } from './kernel/imds-namespaces.ts';
import { kernelExecRoutes } from './admin-api/kernel-exec-routes.ts';

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
  flowLogs: FlowLogEngine;
  trail: CloudTrail;
  s3: S3Storage;
  /** the kernel data plane (--dataplane kernel) */
  kernel?: KernelPlane;
  /** flow logs from the kernel's traffic (--dataplane kernel) */
  kernelFlows?: KernelFlows;
  url: string;
  close(): Promise<void>;
}

/**
 * Builds every part of a server and hands each its dependencies: reading this function shows the
 * whole graph. Nothing registers itself on import.
 */
export async function startServer(config: Partial<ServerConfig> = {}, opts: { clock?: Clock; logger?: Logger } = {}): Promise<Palisade> {
  const cfg: ServerConfig = { ...DEFAULTS, ...config };
  const clock = opts.clock ?? (cfg.clock === 'virtual' ? new VirtualClock() : new SystemClock());
  const log = opts.logger ?? createLogger(cfg.logLevel);
  const store = new Store(cfg.stateDir ?? ':memory:', { exclusive: true, log });
  const gateway = new Gateway({ config: cfg, store, clock, log, authorize });

  // The data plane, kept current from the store, and the traffic driven through it.
  const plane = new DataPlane();
  const live = new LiveNetwork(store, plane);
  const network = new NetworkApi(store, live, clock, cfg);
  const feed = new ChangeFeed(store);
  // --dataplane kernel: real namespaces and nftables, kept current from the store (src/kernel/).
  const kernel =
    cfg.dataplane === 'kernel'
      ? await KernelPlane.start({ store, log }).catch((e: unknown) => {
          store.close();
          throw e;
        })
      : undefined;
  // Route tables, ACLs, gateways, NAT and peering inside the VPC routers; "the internet" (router-plane.ts).
  const routers = kernel ? (kernel.router = new KernelRouters({ store, names: kernel.names, log })) : undefined;

  // Instance metadata: role credentials are STS sessions.
  const imds = new Imds({ store, clock, config: cfg, log, sessions: { trustAllows, startRoleSession } });
  // --dataplane kernel: the metadata service at 169.254.169.254 and Palisade's API at
  // 169.254.169.253:4566 inside every instance namespace, the API in the internet's (imds-namespaces.ts).
  const kernelImds = kernel ? new KernelMetadata({ imds, api: gateway.server, names: kernel.names, log }) : undefined;
  if (kernel && kernelImds) {
    kernel.onInterfaceReady((e) => void kernelImds.instanceUp(e.instanceId, e.namespace));
    kernel.onInterfaceGone((e) => {
      if (imds.optionsOf(e.instanceId)?.state !== 'running') void kernelImds.instanceDown(e.instanceId);
    });
    void kernelImds.internetUp(kernel.names.internetNs);
  }

  // Palisade's own JSON API (/_palisade/*, /moto-api/*), routed before any AWS service: root
  // credentials under --auth verify|enforce.
  gateway.extend(
    new AdminRouter(
      [
        ...adminRoutes({
          clock,
          imds,
          network,
          feed,
          services: ['ec2', 'iam', 'sts', 's3', 'logs', 'cloudtrail'],
          audit: { auth: cfg.auth ?? 'open', defaultAccount: cfg.defaultAccount, rootKey: () => gateway.rootKey() },
          ...(kernel ? { kernel: () => kernel.info() } : {}),
          ...(routers ? { kernelInternet: (address: string) => routers.addInternetAddress(address) } : {}),
          async reset() {
            await imds.close();
            network.clear();
            store.reset({ keepMeta: [ROOT_KEY_META] });
          },
        }),
        ...kernelExecRoutes(
          kernel && kernelImds
            ? { kernel, metadata: kernelImds, imds, defaults: { account: cfg.defaultAccount, region: cfg.region } }
            : undefined,
        ),
      ],
      adminGuard(cfg.auth ?? 'open', store, clock, () => gateway.rootKey()),
      log,
    ),
  );

  // The AWS services on the one port.
  gateway.register(ec2Service({ store, network: live }));
  gateway.register(iamService());
  gateway.register(stsService());
  // Flow log destinations: S3 (REST, routed by SigV4 scope) and CloudWatch Logs.
  const s3 = new S3Storage(store);
  gateway.register(s3Service(s3));
  gateway.register(logsService(store));
  const flowLogs = new FlowLogEngine({ store, clock, config: cfg, s3, log });
  network.observers.push(flowLogs.observe);
  // --dataplane kernel: what the namespaces' kernels accepted and dropped, to the same observers.
  const kernelFlows = kernel
    ? new KernelFlows({ kernel, clock, log, sink: (batch) => network.observers.forEach((o) => o(batch)) })
    : undefined;
  // CloudTrail: every call answered becomes a management event, written in the call's transaction.
  const trail = new CloudTrail({ store, clock, config: cfg, log });
  gateway.register(cloudtrailService(trail));
  gateway.observe(trail);

  const close = async () => {
    flowLogs.close();
    trail.close();
    await imds.close();
    await kernelImds?.close();
    await gateway.close();
    kernelFlows?.close();
    await kernel?.close();
    store.close();
  };
  let address: { host: string; port: number };
  try {
    address = await gateway.listen();
  } catch (e) {
    await close().catch(() => undefined); // e.g. the port is taken: the state directory's lock goes too
    throw e;
  }
  const url = `http://${address.host}:${address.port}`;
  return { gateway, store, clock, url, imds, plane, network, flowLogs, trail, s3, kernel, kernelFlows, close };
}
