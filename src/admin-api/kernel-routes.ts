// The kernel data plane's view for the other parts and for tests: `GET /_palisade/kernel` names
// the namespaces of the running instances, of the VPC routers and of the internet (a server on
// the simulated data plane answers 404).
import type { KernelInfo } from '../kernel/kernel-plane.ts';
import { AdminError, route, type Route } from './router.ts';

export function kernelRoutes(kernel: (() => KernelInfo) | undefined): Route[] {
  return [
    route({
      method: 'GET',
      path: '/_palisade/kernel',
      handle: () => {
        if (!kernel) throw new AdminError('the kernel data plane is off: palisade start --dataplane kernel', 404);
        return { body: kernel() };
      },
    }),
  ];
}
