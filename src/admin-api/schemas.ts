// The bodies the admin API accepts, as schemas: a body that does not fit is refused with 400 and
// the field named (router.ts), before any handler runs. Bounds are part of the schema: ports,
// ICMP types, batch sizes, string lengths, and a clock the rest of the server can use.
import { z } from 'zod';
import { isKnownRegion } from '../core/regions.ts';

const endpoint = z.string().min(1).max(256);
const port = z.number().int().min(0).max(65535);
const byte = z.number().int().min(0).max(255);
const TCP_FLAGS = ['SYN', 'ACK', 'FIN', 'RST', 'PSH'] as const;
const flag = z
  .string()
  .transform((s) => s.toUpperCase())
  .pipe(z.enum(TCP_FLAGS));

/** Where a call applies (else the server's default account and region). */
const scope = {
  account: z
    .string()
    .regex(/^\d{12}$/, 'an account id is 12 digits')
    .optional(),
  region: z.string().max(64).refine(isKnownRegion, 'not a region AWS has').optional(),
};

export const protocol = z.union([z.string().max(16), byte]);

/**
 * One flow. Ports are only typed here: whether a port is needed and in range depends on the
 * protocol (a port given with ESP is ignored), which the data plane judges per flow, so one bad
 * flow of a batch is an error in its own result, not a failed batch.
 */
export const flowSpec = z.strictObject({
  from: endpoint,
  to: endpoint,
  protocol: protocol.optional(),
  port: z.number().optional(),
  srcPort: z.number().optional(),
  icmpType: byte.optional(),
  icmpCode: byte.optional(),
  flags: z.union([z.array(flag).max(TCP_FLAGS.length), byte]).optional(),
  bytes: z
    .number()
    .int()
    .min(0)
    .max(2 ** 40)
    .optional(),
});
export type FlowSpec = z.output<typeof flowSpec>;

/** Most flows one evaluate call judges. */
const MAX_FLOWS = 10_000;

export const evaluateBody = z.strictObject({
  flows: z.array(flowSpec).max(MAX_FLOWS),
  record: z.boolean().optional(),
  explain: z.boolean().optional(),
  ...scope,
});

export const openConnectionBody = flowSpec.extend(scope);

export const sendBody = z.strictObject({
  direction: z.enum(['forward', 'reply']).optional(),
  flags: z.union([z.array(flag).max(TCP_FLAGS.length), byte]).optional(),
  bytes: z
    .number()
    .int()
    .min(0)
    .max(2 ** 40)
    .optional(),
  ...scope,
});

export const reachBody = z.strictObject({
  to: endpoint,
  from: endpoint.optional(),
  port: port.optional(),
  protocol: protocol.optional(),
  ...scope,
});

/**
 * The latest time the server clock may show: the end of year 9999, the last instant an ISO 8601
 * timestamp (and so every AWS API) can express.
 */
export const MAX_EPOCH_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export const clockBody = z.union(
  [
    z.strictObject({
      advanceSeconds: z
        .number()
        .min(0)
        .max(MAX_EPOCH_MS / 1000),
    }),
    z.strictObject({ epochMillis: z.number().int().min(0).max(MAX_EPOCH_MS) }),
  ],
  { error: 'give {"advanceSeconds": N} (0 ≤ N) or {"epochMillis": T} (an integer, 1970 to 9999)' },
);

/** The all-pairs reachability question: one protocol, one port or all. */
export const matrixBody = z.strictObject({
  protocol: protocol.optional(),
  port: port.optional(),
  ...scope,
});
