import type { Clock } from './clock.ts';
import type { Store, Tx, Scope } from '../store/store.ts';
import type { ServiceModel } from '../protocol/model.ts';
import type { Principal } from '../auth/principals.ts';
import { partitionOf } from './regions.ts';

export interface ServerConfig {
  host: string;
  port: number;
  stateDir: string | null; // null = in memory
  region: string;
  defaultAccount: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** 'virtual': time stands still until POST /_palisade/clock advances it */
  clock?: 'system' | 'virtual';
  /** open: any well-formed request; verify: valid signatures only; enforce: verify + IAM policies */
  auth?: 'open' | 'verify' | 'enforce';
  /** simulated (default): traffic judged by the model; kernel: real namespaces and nftables (Linux, root) */
  dataplane?: 'simulated' | 'kernel';
}

/** Everything a handler knows about the call it serves. Handlers never see HTTP. */
export interface Ctx {
  readonly requestId: string;
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  /** account/region: the scope of regional resources. */
  readonly scope: Scope;
  readonly accessKeyId: string;
  /** The caller, resolved from the access key. */
  readonly principal: Principal;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly tx: Tx;
  readonly store: Store;
  readonly clock: Clock;
  readonly config: ServerConfig;
  readonly operation: string;
}

// Handlers are typed against the @aws-sdk/client-* shapes at their definitions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handler = (ctx: Ctx, input: any) => any;

export interface ServiceDef {
  /** SigV4 signing name, e.g. `ec2`, `iam`. */
  name: string;
  model: ServiceModel;
  handlers: Record<string, Handler>;
  /** IAM is global: its resources are scoped by account only. */
  global?: boolean;
  /** The JSON protocol's error code for a missing required member. */
  validationErrorCode?: string;
  /** The IAM action a call is authorized as, where it is not the operation's name (S3: ListObjects is s3:ListBucket). */
  iamAction?: (operation: string) => string;
  /** Runs inside the call's transaction before the handler (e.g. the default VPC). */
  prepare?: (ctx: Ctx) => void;
}

/** A context for work Palisade does on its own behalf (IMDS credentials, flow-log delivery). */
export function internalCtx(
  base: { store: Store; clock: Clock; config: ServerConfig; principalFor: (account: string) => Principal },
  account: string,
  region: string,
  operation: string,
): Ctx {
  return {
    requestId: 'internal',
    account,
    region,
    partition: partitionOf(region),
    scope: `${account}/${region}`,
    accessKeyId: '',
    principal: base.principalFor(account),
    sourceIp: '127.0.0.1',
    userAgent: 'palisade',
    tx: base.store.begin(),
    store: base.store,
    clock: base.clock,
    config: base.config,
    operation,
  };
}
