// One AWS call, in named steps, whatever its protocol:
//   route (protocols.ts) → authenticate → context → decode → authorize → handle (in one store
//   transaction) → record (CloudTrail, in the same transaction) → commit → encode
// A failure at any step is answered in the call's protocol and, once the call has a context,
// recorded too (a failed call changes nothing but is still an event).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, err } from '../core/errors.ts';
import type { Ctx, Handler, ServerConfig, ServiceDef } from '../core/context.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { isKnownRegion, partitionOf } from '../core/regions.ts';
import { regional, type Store } from '../store/store.ts';
import { resolvePrincipal } from '../auth/principals.ts';
import { authenticate, authError, UNSIGNED_ACTIONS, type RootKey } from '../auth/authenticate.ts';
import type { Routed } from './protocols.ts';

/** IAM authorization of a call (auth/authorize.ts): returns, or throws AWS's denial. */
export type Authorizer = (ctx: Ctx, service: ServiceDef, action: string, input: Record<string, unknown>) => void;

/** Sees every call Palisade answers, inside the call's transaction (CloudTrail records them). */
export interface CallObserver {
  onCall(
    ctx: Ctx,
    call: { service: ServiceDef; action: string; input?: Record<string, unknown>; output?: Record<string, unknown>; error?: ApiError },
  ): void;
}

interface PipelineParts {
  config: ServerConfig;
  store: Store;
  clock: Clock;
  log: Logger;
  authorize: Authorizer;
  rootKey: () => RootKey;
  observers: readonly CallObserver[];
}

/** The state could not be written (a full disk, an I/O error): AWS's answer to a server-side failure that a retry may overcome. */
function storageUnavailable(protocol: string): ApiError {
  const message = 'The request has failed due to a temporary failure of the server.';
  return protocol === 'json' ? new ApiError('ServiceUnavailableException', message, 503) : new ApiError('ServiceUnavailable', message, 503);
}

/** An answer that says Palisade lacks the operation or feature (not that the caller erred). */
const UNIMPLEMENTED = new Set(['InvalidAction', 'UnknownOperationException', 'NotImplemented', 'InvalidActionException']);
function isUnimplemented(e: ApiError): boolean {
  return UNIMPLEMENTED.has(e.code);
}

export class Pipeline {
  constructor(private readonly p: PipelineParts) {}

  /**
   * The log line of an answered call: `info` (`ec2.DescribeVpcs 200 1.4 ms 000000000000`), `warn`
   * for an operation Palisade does not implement (`InvalidAction`, `NotImplemented`…), `error` for
   * a server-side failure. `t0` is when the request arrived (performance.now()).
   */
  private logCall(call: Routed, t0: number, requestId: string, account: string | undefined, error?: ApiError, unimplemented = false): void {
    const log = this.p.log;
    const level = error && error.status >= 500 && !unimplemented ? 'error' : unimplemented ? 'warn' : 'info';
    if (!log.enabled(level)) return;
    const status = error ? error.status : 200;
    const durationMs = Math.round((performance.now() - t0) * 10) / 10;
    const operation = `${call.service.name}.${call.action}`;
    const fields = {
      service: call.service.name,
      operation: call.action,
      status,
      durationMs,
      account: account ?? '-',
      requestId,
      ...(error ? { code: error.code } : {}),
    };
    const text = `${operation} ${status}${error ? ` ${error.code}` : ''} ${durationMs} ms ${account ?? '-'}`;
    if (unimplemented) {
      const why = Object.hasOwn(call.service.model.ops, call.action)
        ? `${operation} is not implemented by Palisade`
        : `${call.action} is not an operation of ${call.service.name}`;
      log.warn(`${text}: ${why}`, { ...fields, unimplemented: true });
    } else log[level](text, fields);
  }

  /** Runs a routed call to its answer. */
  async run(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    call: Routed,
    requestId: string,
    t0 = performance.now(),
  ): Promise<void> {
    // Before the call has a context, the account is known once the signature is accepted.
    let account: string | undefined;
    const fail = (e: ApiError, unimplemented = false) => {
      call.fail(res, e, requestId);
      this.logCall(call, t0, requestId, account, e, unimplemented);
    };
    if (call.refuseFirst) return fail(call.refuseFirst);
    const signed = await this.authenticate(req, body, call);
    if (signed instanceof ApiError) return fail(signed);
    if (this.p.log.enabled('info')) account = this.accountOf(call, signed);
    if (call.refuseAfterAuth) return fail(call.refuseAfterAuth);
    const handler = this.handlerOf(call);
    if (handler instanceof ApiError) return fail(handler, true);
    if (call.transactional === false) return this.runDirect(req, res, call, handler, signed, requestId, t0);
    const ctx = this.context(req, call, requestId, signed);
    const done = (e?: ApiError) => this.logCall(call, t0, requestId, ctx.account, e, e !== undefined && isUnimplemented(e));
    let input: Record<string, unknown> | undefined;
    let output: Record<string, unknown> | undefined;
    try {
      input = call.decode();
      call.service.prepare?.(ctx);
      this.authorize(ctx, call, input);
      output = handler(ctx, input);
      if (input.DryRun === true) throw err.dryRun();
    } catch (e) {
      ctx.tx.rollback();
      if (!(e instanceof ApiError)) this.p.log.error(`${call.service.name}:${call.action} failed: ${(e as Error).stack ?? e}`);
      const error = e instanceof ApiError ? e : new ApiError('InternalError', 'An internal error has occurred', 500);
      return this.recordFailure(ctx, call, input, error, (x) => {
        call.fail(res, x, requestId);
        done(x);
      });
    }
    const read = !ctx.tx.hasChanges();
    this.record(ctx, call, input, output);
    try {
      await this.commit(ctx);
    } catch (e) {
      ctx.tx.rollback();
      const why = (e as Error).message;
      if (read) {
        // A read is still answered when the state cannot be written (a full disk): only its
        // event is lost, and that is said loudly.
        this.p.log.error(`cloudtrail: ${call.service.name}:${call.action} was answered but its event could not be recorded: ${why}`);
        call.ok(res, output, requestId);
        return done();
      }
      this.p.log.error(`${call.service.name}:${call.action}: the change could not be stored, nothing was changed: ${why}`);
      return this.recordFailure(ctx, call, input, storageUnavailable(call.service.model.protocol), (x) => {
        call.fail(res, x, requestId);
        done(x);
      });
    }
    call.ok(res, output, requestId);
    done();
  }

  /**
   * A call whose handler writes through its own storage (S3): what is pending is committed first
   * (so its answer never races a group commit), the call's transaction is left unused, and the
   * call is not recorded (S3 object and bucket calls are CloudTrail data events).
   */
  private runDirect(
    req: IncomingMessage,
    res: ServerResponse,
    call: Routed,
    handler: Handler,
    signed: string | undefined,
    requestId: string,
    t0: number,
  ): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') this.p.store.flush();
    const ctx = this.context(req, call, requestId, signed);
    try {
      const input = call.decode();
      this.authorize(ctx, call, input);
      call.ok(res, handler(ctx, input), requestId);
      this.logCall(call, t0, requestId, ctx.account);
    } catch (e) {
      // Named by method and path: a REST call is its resource.
      if (!(e instanceof ApiError))
        this.p.log.error(`${call.service.name} ${req.method} ${(req.url ?? '/').split('?')[0]} failed: ${(e as Error).stack ?? e}`);
      const error = e instanceof ApiError ? e : new ApiError('InternalError', 'We encountered an internal error. Please try again.', 500);
      call.fail(res, error, requestId);
      this.logCall(call, t0, requestId, ctx.account, error, isUnimplemented(error));
    } finally {
      ctx.tx.rollback();
    }
  }

  /**
   * Step: authenticate. A region AWS does not have never becomes a scope of the state (every
   * auth mode); under `--auth verify|enforce` the signature must verify. Returns the refusal, or
   * the access key the request was signed with (undefined when signatures are not checked).
   */
  private async authenticate(req: IncomingMessage, body: Buffer, call: Routed): Promise<ApiError | string | undefined> {
    const protocol = call.service.model.protocol;
    if (call.scope && !isKnownRegion(call.scope.region)) return authError(protocol, 'bad-region', call.scope.region);
    const auth = this.p.config.auth;
    if (!auth || auth === 'open' || (call.service.name === 'sts' && UNSIGNED_ACTIONS.has(call.action))) return undefined;
    const urls = [req.url ?? '/', ...(call.signedUrls ?? [])];
    for (let i = 0; ; i++) {
      let url: URL;
      try {
        url = new URL(urls[i]!, 'http://localhost');
      } catch {
        return call.badUrl?.() ?? authError(protocol, 'malformed');
      }
      try {
        return (await authenticate(req, url, body, protocol, this.p.store, this.p.clock, this.p.rootKey())).accessKeyId;
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        // Another form of the URL may be the one signed.
        if (e.code !== 'SignatureDoesNotMatch' || i + 1 >= urls.length) return e;
      }
    }
  }

  /** The handler of the call, or AWS's error for an action the service does not have. */
  private handlerOf(call: Routed): Handler | ApiError {
    const inModel = Object.hasOwn(call.service.model.ops, call.action);
    const handler = inModel && Object.hasOwn(call.service.handlers, call.action) ? call.service.handlers[call.action] : undefined;
    if (handler) return handler;
    if (inModel && call.unimplemented) return call.unimplemented(call.action);
    return new ApiError(
      call.unknownCode,
      inModel
        ? `The action ${call.action} is not implemented by Palisade yet.`
        : `The action ${call.action} is not valid for this web service.`,
    );
  }

  /** The account of the caller (for the log line of a call refused before it has a context). */
  private accountOf(call: Routed, signedWith?: string): string {
    const region = call.scope?.region ?? this.p.config.region;
    return resolvePrincipal(this.p.store, signedWith ?? call.scope?.accessKeyId ?? '', this.p.config.defaultAccount, partitionOf(region))
      .account;
  }

  /** Step: context — who calls, where, in which transaction. The one place a call's Ctx is made. */
  private context(req: IncomingMessage, call: Routed, requestId: string, signedWith?: string): Ctx {
    const { config, store, clock } = this.p;
    const region = call.scope?.region ?? config.region;
    const accessKeyId = signedWith ?? call.scope?.accessKeyId ?? '';
    const principal = resolvePrincipal(store, accessKeyId, config.defaultAccount, partitionOf(region));
    const account = principal.account;
    return {
      requestId,
      account,
      region,
      partition: partitionOf(region),
      scope: call.service.global ? account : regional(account, region),
      accessKeyId,
      principal,
      tx: store.begin(),
      store,
      clock,
      config,
      operation: call.action,
      sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
      userAgent: String(req.headers['user-agent'] ?? ''),
    };
  }

  /** Step: authorize (`--auth enforce`: IAM policies). */
  private authorize(ctx: Ctx, call: Routed, input: Record<string, unknown>): void {
    if (this.p.config.auth !== 'enforce') return;
    const as = call.authorizeAs?.(input) ?? { action: call.action, input };
    try {
      this.p.authorize(ctx, call.service, as.action, as.input);
    } catch (e) {
      throw e instanceof ApiError && call.denied ? call.denied(e) : e;
    }
  }

  /** Step: record — observers (CloudTrail) see the call inside its transaction. */
  private record(ctx: Ctx, call: Routed, input: Record<string, unknown> | undefined, output: Record<string, unknown> | undefined): void {
    for (const o of this.p.observers) o.onCall(ctx, { service: call.service, action: call.action, input, output });
  }

  /** Step: commit — the call's changes and its event, on disk before the answer acknowledges them. */
  private async commit(ctx: Ctx): Promise<void> {
    ctx.tx.commit();
    await this.p.store.durable();
  }

  /** A failed call changes nothing, but it is still recorded (in a transaction of its own), then answered. */
  private async recordFailure(
    ctx: Ctx,
    call: Routed,
    input: Record<string, unknown> | undefined,
    error: ApiError,
    fail: (e: ApiError) => void,
  ): Promise<void> {
    if (this.p.observers.length) {
      const tx = this.p.store.begin();
      try {
        for (const o of this.p.observers) o.onCall({ ...ctx, tx }, { service: call.service, action: call.action, input, error });
        tx.commit();
        await this.p.store.durable();
      } catch (oe) {
        tx.rollback();
        this.p.log.error(`cloudtrail: the failed call ${call.service.name}:${call.action} could not be recorded: ${(oe as Error).message}`);
      }
    }
    fail(error);
  }
}
