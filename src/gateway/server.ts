// One HTTP port for every service: routes each request by its SigV4 scope (or X-Amz-Target),
// decodes it with the service's generic codec, runs the handler in one store transaction and
// renders the answer or the error in the protocol's shape.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { uuid } from '../core/unique.ts';
import type { Clock } from '../core/clock.ts';
import type { Store } from '../store/store.ts';
import { regional } from '../store/store.ts';
import { ApiError, err } from '../core/errors.ts';
import type { Ctx, ServerConfig, ServiceDef } from '../core/context.ts';
import { credentialScope } from './sigv4-scope.ts';
import { partitionOf } from '../core/regions.ts';
import { QueryDecoder } from '../protocol/query.ts';
import { escapeXml, escapeXmlMessage, XmlEncoder } from '../protocol/xml.ts';
import { isKnownRegion } from '../core/regions.ts';
import { JsonCodec } from '../protocol/json.ts';
import { AnswerWriter } from './body.ts';
import type { Logger } from '../core/log.ts';
import { resolvePrincipal } from '../auth/principals.ts';
import { authenticate, authError, rootKey, UNSIGNED_ACTIONS, type RootKey } from '../auth/authenticate.ts';

const MAX_BODY = 10 * 1024 * 1024;

/** IAM authorization of a call (auth/authorize.ts): returns, or throws AWS's denial. */
export type Authorizer = (ctx: Ctx, service: ServiceDef, action: string, input: Record<string, unknown>) => void;

/** What an error answer's shape depends on: the path (admin API), X-Amz-Target (JSON) and the signing service. */
interface RequestShape { path: string; target?: string; service?: string }

/** The state could not be written (a full disk, an I/O error): AWS's answer to a server-side failure that a retry may overcome. */
function storageUnavailable(protocol: string): ApiError {
  const message = 'The request has failed due to a temporary failure of the server.';
  return protocol === 'json' ? new ApiError('ServiceUnavailableException', message, 503) : new ApiError('ServiceUnavailable', message, 503);
}

interface Codec {
  decoder: QueryDecoder;
  encoder: XmlEncoder;
}

export interface Extension {
  /** Answers a request itself (returns true) or leaves it to the AWS routing. */
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): boolean | Promise<boolean>;
}

/** Sees every call Palisade answers, inside the call's transaction (CloudTrail records them). */
export interface CallObserver {
  onCall(ctx: Ctx, call: { service: ServiceDef; action: string; input?: Record<string, unknown>; output?: Record<string, unknown>; error?: ApiError }): void;
}

/**
 * `Date` of an answer (RFC 9110 IMF-fixdate, as AWS sends it; SDKs correct clock skew from it),
 * written here rather than by node:http: the process's first Date#toUTCString() costs ~1 ms of
 * the first answer. The text is kept for the second it names.
 */
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
let dateSecond = NaN;
let dateText = '';
export function httpDate(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== dateSecond) {
    const d = new Date(second * 1000);
    const p2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);
    dateSecond = second;
    dateText = `${DAYS[d.getUTCDay()]}, ${p2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCFullYear()).padStart(4, '0')} ` +
      `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} GMT`;
  }
  return dateText;
}

export class Gateway {
  private readonly services = new Map<string, ServiceDef>();
  private readonly codecs = new Map<string, Codec>();
  private readonly jsonCodecs = new Map<string, JsonCodec>();
  private readonly extensions: Extension[] = [];
  private readonly observers: CallObserver[] = [];
  readonly server: Server;

  readonly config: ServerConfig;
  readonly store: Store;
  readonly clock: Clock;
  private readonly log: Logger;
  /** `--auth enforce`: decides whether the caller may make the call (throws the denial). */
  readonly authorizer: Authorizer;

  constructor(parts: { config: ServerConfig; store: Store; clock: Clock; log: Logger; authorize: Authorizer }) {
    ({ config: this.config, store: this.store, clock: this.clock, log: this.log, authorize: this.authorizer } = parts);
    this.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
      this.onRequest(req, res).catch((e) => {
        // A bug, not the caller's fault: logged, and still answered in the caller's protocol.
        this.log.error(`unhandled: ${(e as Error).stack ?? e}`);
        if (res.headersSent) res.end();
        else this.protocolError(req, res, String(res.getHeader('x-amzn-RequestId') ?? ''), 500, 'InternalError', 'An internal error has occurred');
      });
    });
    this.server.on('clientError', (e, socket) => this.onClientError(e, socket));
  }

  /** A service's model is read, and its codec made, when a call first needs them (not at start). */
  register(service: ServiceDef): void {
    this.services.set(service.name, service);
  }

  private codecOf(service: ServiceDef): Codec {
    let c = this.codecs.get(service.name);
    if (!c) this.codecs.set(service.name, (c = { decoder: new QueryDecoder(service.model), encoder: new XmlEncoder(service.model) }));
    return c;
  }

  private jsonCodecOf(service: ServiceDef): JsonCodec {
    let c = this.jsonCodecs.get(service.name);
    if (!c) this.jsonCodecs.set(service.name, (c = new JsonCodec(service.model, service.validationErrorCode)));
    return c;
  }

  extend(ext: Extension): void {
    this.extensions.push(ext);
  }

  observe(o: CallObserver): void {
    this.observers.push(o);
  }

  private root?: RootKey;
  rootKey(): RootKey {
    this.root ??= rootKey(this.store);
    return this.root;
  }

  /**
   * The request body, or null past MAX_BODY. Events, not an async iterator: cheaper per request.
   * An oversized body is read to its end and dropped (not destroyed): a client still sending
   * would otherwise see its connection reset instead of the error answer.
   */
  private readBody(req: IncomingMessage): Promise<Buffer | null> {
    return new Promise((resolveBody, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) {
          chunks.length = 0;
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = () => resolveBody(size > MAX_BODY ? null : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      req.on('data', onData);
      req.once('end', onEnd);
      req.once('error', reject);
    });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = uuid();
    res.setHeader('x-amzn-RequestId', requestId);
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('date', httpDate(Date.now()));
    const body = await this.readBody(req);
    if (body === null) {
      this.protocolError(req, res, requestId, 413, 'RequestEntityTooLarge', `The request body is larger than the ${MAX_BODY} bytes Palisade accepts.`);
      return;
    }
    for (const ext of this.extensions) {
      if (await ext.handle(req, res, body)) return;
    }
    // The query string only (a URL object is made when a signature check needs one).
    const raw = req.url ?? '/';
    const qi = raw.indexOf('?');
    const query = new URLSearchParams(qi >= 0 ? raw.slice(qi + 1) : '');
    const scope = credentialScope(req.headers.authorization, query);
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string' && target.includes('.')) {
      await this.dispatchJson(req, res, requestId, target, body, scope);
      return;
    }
    const contentType = String(req.headers['content-type'] ?? '');
    const params = query;
    if (req.method === 'POST' && (contentType.startsWith('application/x-www-form-urlencoded') || contentType === '')) {
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v);
    }
    const action = params.get('Action');
    let serviceName = scope?.service;
    if (!serviceName && action) serviceName = this.guessService(action, params.get('Version'));
    const service = serviceName ? this.services.get(serviceName) : undefined;
    if (!service || service.model.protocol === 'json') {
      this.protocolError(req, res, requestId, 400, 'InvalidAction', serviceName ? `The service ${serviceName} is not offered by Palisade` : 'Could not determine the service: sign the request with SigV4');
      return;
    }
    const codec = this.codecOf(service);
    const send = (status: number, xml: string) => {
      res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'content-length': Buffer.byteLength(xml) });
      res.end(xml);
    };
    const fail = (e: ApiError) => send(e.status, codec.encoder.error(e.code, e.message, requestId, e.fault));
    if (!action) {
      fail(new ApiError('MissingAction', 'The request must contain the parameter Action'));
      return;
    }
    await this.run(req, body, service, action, scope, requestId,
      () => codec.decoder.decode(action, params),
      (output) => {
        const body = new AnswerWriter();
        codec.encoder.successInto(action, output, requestId, body);
        body.end(res, 200, 'text/xml;charset=UTF-8');
      },
      fail);
  }

  private async dispatchJson(req: IncomingMessage, res: ServerResponse, requestId: string, target: string, body: Buffer, scope: ReturnType<typeof credentialScope>): Promise<void> {
    const dot = target.lastIndexOf('.');
    const prefix = target.slice(0, dot);
    const action = target.slice(dot + 1);
    // botocore sends the model's full target prefix (com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101),
    // the SDK v3 clients only its last part (CloudTrail_20131101): AWS accepts both.
    const service = [...this.services.values()].find((s) => s.model.protocol === 'json' && (s.model.target === prefix || s.model.target?.endsWith(`.${prefix}`)));
    const json = service && this.jsonCodecOf(service);
    const send = (status: number, text: string, errorType?: string) => {
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text),
        ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}),
      });
      res.end(text);
    };
    if (!service || !json) {
      send(400, JSON.stringify({ __type: 'UnknownOperationException', message: `Unknown target ${target}` }), 'UnknownOperationException');
      return;
    }
    await this.run(req, body, service, action, scope, requestId,
      () => json.decode(action, body.toString('utf8')),
      (output) => send(200, json.encode(action, output)),
      (e) => send(e.status, json.error(e.code, e.message), e.code),
      'UnknownOperationException');
  }

  /** Runs one call in one store transaction; observers see it (success or failure) before it is answered. */
  private async run(
    req: IncomingMessage, body: Buffer, service: ServiceDef, action: string, scope: ReturnType<typeof credentialScope>, requestId: string,
    decode: () => Record<string, unknown>, ok: (output: Record<string, unknown> | undefined) => void, fail: (e: ApiError) => void,
    unknownCode = 'InvalidAction',
  ): Promise<void> {
    // A region AWS does not have never becomes a scope of the state (every auth mode).
    if (scope && !isKnownRegion(scope.region)) return fail(authError(service.model.protocol, 'bad-region', scope.region));
    if (this.config.auth && this.config.auth !== 'open' && !(service.name === 'sts' && UNSIGNED_ACTIONS.has(action))) {
      try {
        await authenticate(req, new URL(req.url ?? '/', 'http://localhost'), body, service.model.protocol, this.store, this.clock, this.rootKey());
      } catch (e) {
        if (e instanceof ApiError) return fail(e);
        throw e;
      }
    }
    const inModel = Object.hasOwn(service.model.ops, action);
    const handler = inModel ? service.handlers[action] : undefined;
    if (!handler) {
      fail(new ApiError(unknownCode, inModel
        ? `The action ${action} is not implemented by Palisade yet.`
        : `The action ${action} is not valid for this web service.`));
      return;
    }
    const region = scope?.region ?? this.config.region;
    const accessKeyId = scope?.accessKeyId ?? '';
    const principal = resolvePrincipal(this.store, accessKeyId, this.config.defaultAccount, partitionOf(region));
    const account = principal.account;
    const tx = this.store.begin();
    const ctx: Ctx = {
      requestId, account, region, partition: partitionOf(region),
      scope: service.global ? account : regional(account, region),
      accessKeyId, principal, tx, store: this.store, clock: this.clock, config: this.config, operation: action,
      sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
      userAgent: String(req.headers['user-agent'] ?? ''),
    };
    let input: Record<string, unknown> | undefined;
    let output: Record<string, unknown> | undefined;
    try {
      input = decode();
      service.prepare?.(ctx);
      if (this.config.auth === 'enforce') this.authorizer(ctx, service, action, input);
      output = handler(ctx, input);
      if (input.DryRun === true) throw err.dryRun();
    } catch (e) {
      tx.rollback();
      if (e instanceof ApiError) this.log.debug(`${service.name}:${action} ${e.status} ${e.code}`);
      else this.log.error(`${service.name}:${action} failed: ${(e as Error).stack ?? e}`);
      return this.failCall(ctx, service, action, input, e instanceof ApiError ? e : new ApiError('InternalError', 'An internal error has occurred', 500), fail);
    }
    // The call's changes and its CloudTrail event commit together.
    const read = !tx.hasChanges();
    for (const o of this.observers) o.onCall(ctx, { service, action, input, output });
    try {
      tx.commit();
      // The answer acknowledges the change (and shows the state of this turn): only once on disk.
      await this.store.durable();
    } catch (e) {
      tx.rollback();
      const why = (e as Error).message;
      if (read) {
        // A read is still answered when the state cannot be written (a full disk): only its
        // event is lost, and that is said loudly.
        this.log.error(`cloudtrail: ${service.name}:${action} was answered but its event could not be recorded: ${why}`);
        ok(output);
        return;
      }
      this.log.error(`${service.name}:${action}: the change could not be stored, nothing was changed: ${why}`);
      return this.failCall(ctx, service, action, input, storageUnavailable(service.model.protocol), fail);
    }
    ok(output);
    this.log.debug(`${service.name}:${action} 200`);
  }

  /** Answers a failed call; it changed nothing, but it is still recorded (in a transaction of its own). */
  private async failCall(ctx: Ctx, service: ServiceDef, action: string, input: Record<string, unknown> | undefined, error: ApiError, fail: (e: ApiError) => void): Promise<void> {
    if (this.observers.length) {
      const tx2 = this.store.begin();
      try {
        for (const o of this.observers) o.onCall({ ...ctx, tx: tx2 }, { service, action, input, error });
        tx2.commit();
        await this.store.durable();
      } catch (oe) {
        tx2.rollback();
        this.log.error(`cloudtrail: the failed call ${service.name}:${action} could not be recorded: ${(oe as Error).message}`);
      }
    }
    fail(error);
  }

  private guessService(action: string, version: string | null): string | undefined {
    for (const s of this.services.values()) {
      if (s.model.version === version && Object.hasOwn(s.model.ops, action)) return s.name;
    }
    for (const s of this.services.values()) if (Object.hasOwn(s.model.ops, action)) return s.name;
    return undefined;
  }

  /**
   * An error the gateway answers before a service's codec is at hand (body too large, unknown
   * service, a crash), in the shape the caller's protocol expects: JSON for an X-Amz-Target
   * call, S3's <Error> for a request signed for s3, the query protocols' shapes otherwise.
   */
  private protocolError(req: IncomingMessage, res: ServerResponse, requestId: string, status: number, code: string, message: string): void {
    const raw = req.url ?? '/';
    const qi = raw.indexOf('?');
    const target = req.headers['x-amz-target'];
    const shape: RequestShape = {
      path: qi >= 0 ? raw.slice(0, qi) : raw,
      target: typeof target === 'string' ? target : undefined,
      service: credentialScope(req.headers.authorization, new URLSearchParams(qi >= 0 ? raw.slice(qi + 1) : ''))?.service,
    };
    const e = this.renderError(shape, requestId, status, code, message);
    res.writeHead(status, e.headers);
    res.end(e.text);
  }

  /** The error body (and its headers) a request of this shape expects. */
  private renderError(shape: RequestShape, requestId: string, status: number, code: string, message: string): { text: string; headers: Record<string, string | number> } {
    let type = 'text/xml;charset=UTF-8';
    let text: string;
    const headers: Record<string, string | number> = {};
    if (/^\/(_palisade|moto-api)\//.test(shape.path)) {
      type = 'application/json';
      text = JSON.stringify({ error: message, code });
    } else if (shape.target?.includes('.')) {
      type = 'application/x-amz-json-1.1';
      text = JSON.stringify({ __type: code, message });
      headers['x-amzn-ErrorType'] = code;
    } else if (shape.service === 's3') {
      text = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(code)}</Code><Message>${escapeXmlMessage(message)}</Message><RequestId>${escapeXml(requestId)}</RequestId></Error>`;
    } else {
      const model = shape.service ? this.services.get(shape.service)?.model : undefined;
      text = model && model.protocol === 'query'
        ? `<ErrorResponse xmlns="${model.xmlns ?? ''}"><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${escapeXml(code)}</Code><Message>${escapeXmlMessage(message)}</Message></Error><RequestId>${escapeXml(requestId)}</RequestId></ErrorResponse>`
        : `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXmlMessage(message)}</Message></Error></Errors><RequestID>${escapeXml(requestId)}</RequestID></Response>`;
    }
    return { text, headers: { ...headers, 'content-type': type, 'content-length': Buffer.byteLength(text) } };
  }

  /**
   * A request node:http could not parse (headers past its 16 KB limit, a malformed request
   * line): answered here, since no handler sees it, in the protocol its first bytes suggest.
   */
  private onClientError(e: Error & { code?: string; rawPacket?: Buffer }, socket: Duplex): void {
    if (!socket.writable) return;
    const head = e.rawPacket ? e.rawPacket.toString('latin1', 0, Math.min(e.rawPacket.length, 64 * 1024)) : '';
    const line = /^[A-Z]+ (\S+)/.exec(head);
    const target = /\r\nx-amz-target:[ \t]*([^\r\n]*)/i.exec(head)?.[1];
    const service = /Credential=[^/\s]+\/\d{8}\/[^/\s]+\/([^/\s]+)\/aws4_request/.exec(head)?.[1];
    const tooLarge = e.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? 431 : 400;
    const shape: RequestShape = { path: (line?.[1] ?? '/').split('?')[0]!, target, service };
    const r = this.renderError(shape, uuid(), status, tooLarge ? 'RequestHeaderSectionTooLarge' : 'BadRequest',
      tooLarge ? 'The request line and headers are larger than the 16 KB Palisade accepts.' : 'The request could not be parsed as HTTP.');
    const headers = Object.entries({ ...r.headers, connection: 'close' }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.end(`HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n${headers}\r\n${r.text}`);
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolveListen, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.config.port, this.config.host, () => {
        const addr = this.server.address();
        const port = typeof addr === 'object' && addr ? addr.port : this.config.port;
        resolveListen({ host: this.config.host, port });
      });
    });
  }

  close(): Promise<void> {
    return new Promise((r) => {
      this.server.closeAllConnections?.();
      this.server.close(() => r());
    });
  }
}
