import type { Clock } from '../clock.ts';
import type { Store, Tx, Scope } from '../store/store.ts';
import type { ServiceModel } from '../protocol/model.ts';
import type { Principal } from '../auth/principals.ts';

export interface ServerConfig {
  host: string;
  port: number;
  stateDir: string | null; // null = in memory
  region: string;
  defaultAccount: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
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
  /** Runs inside the call's transaction before the handler (e.g. the default VPC). */
  prepare?: (ctx: Ctx) => void;
}
