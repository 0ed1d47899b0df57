// `POST /_palisade/kernel/internet-address {"address": "8.8.8.8"}`: makes one more address "on
// the internet" of the kernel data plane (its internet namespace answers at it, programs there can
// send from it). 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32 are there from the start.
import { z } from 'zod';
import { addressToBigInt } from '../core/cidr.ts';
import { AdminError, route, type Route } from './router.ts';

const internetAddressBody = z.strictObject({
  address: z
    .string()
    .max(64)
    .refine((a) => !!addressToBigInt(a), 'not an IPv4 or IPv6 address'),
});

export function kernelInternetRoutes(add: ((address: string) => Promise<void>) | undefined): Route[] {
  return [
    route({
      method: 'POST',
      path: '/_palisade/kernel/internet-address',
      body: internetAddressBody,
      handle: async ({ body }) => {
        if (!add) throw new AdminError('the kernel data plane is off: palisade start --dataplane kernel', 404);
        try {
          await add(body.address);
        } catch (e) {
          if (e instanceof RangeError) throw new AdminError(e.message, 409);
          throw e;
        }
        return { body: { address: body.address } };
      },
    }),
  ];
}
