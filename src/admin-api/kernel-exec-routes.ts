// `GET /_palisade/kernel/exec/TARGET` (--dataplane kernel): where `palisade exec TARGET -- CMD`
// runs — the namespace of a running instance (once its interfaces, metadata service and Palisade's
// API inside it are up) or of the internet — and the environment it gets: Palisade's API as seen
// from inside, the account and region. A server on the simulated data plane answers 404.
import type { KernelPlane } from '../kernel/kernel-plane.ts';
import type { KernelMetadata } from '../kernel/imds-namespaces.ts';
import { API_URL } from '../kernel/imds-namespaces.ts';
import type { Imds } from '../imds/imds.ts';
import { AdminError, route, type Route } from './router.ts';

export interface KernelExecParts {
  kernel: KernelPlane;
  metadata: KernelMetadata;
  imds: Imds;
  /** the account and region of `exec internet` (the server's defaults) */
  defaults: { account: string; region: string };
}

export interface KernelExecTarget {
  target: string;
  namespace: string;
  /** AWS_ENDPOINT_URL inside the namespace */
  endpoint: string;
  account: string;
  region: string;
}

export function kernelExecRoutes(p: KernelExecParts | undefined): Route[] {
  return [
    route({
      method: 'GET',
      path: '/_palisade/kernel/exec/:target',
      handle: async ({ params }) => {
        if (!p) throw new AdminError('the kernel data plane is off: palisade start --dataplane kernel', 404);
        const target = params.target!;
        if (target === 'internet') {
          const namespace = p.kernel.names.internetNs;
          await p.metadata.internetUp(namespace);
          const body: KernelExecTarget = { target, namespace, endpoint: API_URL, ...p.defaults };
          return { body };
        }
        if (!/^i-[0-9a-f]{8,17}$/.test(target)) throw new AdminError(`'${target}' is not an instance id (or 'internet')`, 400);
        const o = p.imds.optionsOf(target);
        if (!o) throw new AdminError(`The instance ID '${target}' does not exist`, 404);
        if (o.state !== 'running') throw new AdminError(`The instance '${target}' is not running (${o.state})`, 409);
        await p.kernel.settle();
        const namespace = p.kernel.namespaceOf(target);
        if (!namespace) throw new AdminError(`The instance '${target}' has no namespace (its interfaces are not up)`, 409);
        await p.metadata.instanceUp(target, namespace);
        if (!(await p.metadata.ready(target)))
          throw new AdminError(`the metadata service of '${target}' could not be started (see the server's log)`, 500);
        const [account, region] = o.scope.split('/') as [string, string];
        const body: KernelExecTarget = { target, namespace, endpoint: API_URL, account, region };
        return { body };
      },
    }),
  ];
}
