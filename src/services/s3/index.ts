// The built-in Amazon S3, enough for flow-log delivery and for reading it back with the aws CLI,
// boto3 or @aws-sdk/client-s3: buckets (create, head, list, delete, location) and objects (put,
// get with ranges and conditions, head, delete, batch delete, list v1/v2). Path-style
// (`/bucket/key`) and `bucket.localhost` hosts. Requests are routed here by their SigV4 scope's
// service, `s3`.
//
// S3 speaks REST-XML: the codec (protocol/rest-xml.ts) routes, decodes and encodes every call from
// S3's wire model, and the operations are handlers like every other service's (buckets.ts,
// listing.ts, objects.ts), typed with @aws-sdk/client-s3's shapes. S3Api plugs them into the
// gateway as an Extension: route → authenticate → decode → authorize → handler → encode.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { crypto } from '../../core/lazy.ts';
import type { Extension, Gateway } from '../../gateway/server.ts';
import type { Ctx, Handler, ServiceDef } from '../../core/context.ts';
import { ApiError } from '../../core/errors.ts';
import { credentialScope, partitionOf } from '../../gateway/sigv4-scope.ts';
import { authenticate, authError } from '../../auth/authenticate.ts';
import { isKnownRegion } from '../../core/regions.ts';
import { resolvePrincipal, type Principal } from '../../auth/principals.ts';
import { regional } from '../../store/store.ts';
import { createLogger, type Logger } from '../../core/log.ts';
import { loadModel } from '../../protocol/model.ts';
import { RestXmlCodec, restErrors, type HttpAnswer } from '../../protocol/rest-xml.ts';
import { S3Error } from './errors.ts';
import { bucketHandlers } from './buckets.ts';
import { listingHandlers } from './listing.ts';
import { objectHandlers } from './objects.ts';
import type { S3Storage } from './storage.ts';

export { S3Error } from './errors.ts';
export { decodeAwsChunked, xmlEscape } from '../../protocol/rest-xml.ts';
export { readXml, type XmlElement } from '../../protocol/xml-reader.ts';
export { canonicalUserId, validBucketName } from './buckets.ts';

/** The IAM action (`s3:…`) each operation is authorized as, where it is not the operation's name. */
export const S3_IAM_ACTIONS: Readonly<Record<string, string>> = {
  ListBuckets: 'ListAllMyBuckets', HeadBucket: 'ListBucket', ListObjects: 'ListBucket', ListObjectsV2: 'ListBucket',
  HeadObject: 'GetObject', DeleteObjects: 'DeleteObject',
};

/** S3 as a service definition: its model, its handlers, and the IAM action each call needs. */
export interface S3ServiceDef extends ServiceDef {
  iamAction(operation: string): string;
}

export function s3Service(storage: S3Storage): S3ServiceDef {
  const handlers: Record<string, Handler> = { ...bucketHandlers(storage), ...listingHandlers(storage), ...objectHandlers(storage) };
  return {
    name: 's3',
    get model() { return loadModel('s3'); },
    handlers,
    iamAction: (op) => (Object.hasOwn(S3_IAM_ACTIONS, op) ? S3_IAM_ACTIONS[op]! : op),
  };
}

/** The URL of a request target for signature checks; one no URL parser takes is S3's InvalidURI. */
function requestUrl(target: string): URL {
  try {
    return new URL(target, 'http://localhost');
  } catch {
    throw restErrors.invalidUri();
  }
}

/**
 * The access key of a legacy SigV2 S3 request (`Authorization: AWS KEY:SIG`, or a query-string
 * URL with AWSAccessKeyId, Signature and Expires, as `aws s3 presign` makes them) — not an EC2
 * SigV2 query call, which names its Action.
 */
function sigV2AccessKey(req: IncomingMessage, query: URLSearchParams): string | undefined {
  const auth = req.headers.authorization;
  const m = auth ? /^AWS ([^:\s]+):\S+$/.exec(auth) : null;
  if (m) return m[1];
  if (query.has('AWSAccessKeyId') && query.has('Signature') && query.has('Expires') && !query.has('Action')) return query.get('AWSAccessKeyId')!;
  return undefined;
}

/**
 * S3 on the gateway, until the gateway's one pipeline takes the codec and the handler table
 * itself: the steps every call takes, in order.
 */
export class S3Api implements Extension {
  readonly service: S3ServiceDef;
  /** Loads S3's model on the first S3 call, not at start. */
  private readonly codec: RestXmlCodec;

  constructor(
    private readonly gateway: Gateway,
    readonly storage: S3Storage,
    private readonly log: Logger = createLogger(gateway.config.logLevel),
  ) {
    this.service = s3Service(storage);
    this.codec = new RestXmlCodec(() => this.service.model);
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<boolean> {
    const raw = req.url ?? '/';
    const qi = raw.indexOf('?');
    const rawPath = qi >= 0 ? raw.slice(0, qi) : raw;
    const query = new URLSearchParams(qi >= 0 ? raw.slice(qi + 1) : '');
    const { config, store, clock } = this.gateway;
    let scope = credentialScope(req.headers.authorization, query);
    const v2 = scope ? undefined : sigV2AccessKey(req, query);
    if (v2 !== undefined) scope = { accessKeyId: v2, date: '', region: config.region, service: 's3' };
    if (scope?.service !== 's3') return false;
    const requestId = String(res.getHeader('x-amz-request-id') ?? crypto().randomBytes(8).toString('hex').toUpperCase());
    res.setHeader('x-amz-id-2', crypto().randomBytes(24).toString('base64'));
    let action: string | undefined;
    try {
      // A region AWS does not have never becomes a scope of the state (every auth mode).
      if (!isKnownRegion(scope.region)) throw authError('rest', 'bad-region', scope.region);
      let accessKeyId = scope.accessKeyId;
      if (v2 !== undefined && config.auth && config.auth !== 'open') {
        // As S3 answers for every bucket created since June 2020.
        throw new S3Error('InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.', 400);
      }
      // 1. route (a request no operation takes is answered so once its signature is checked)
      const routed = this.codec.route(req);
      // 2. authenticate
      if (config.auth && config.auth !== 'open') {
        const verify = (target: string) => authenticate(req, requestUrl(target), body, 'rest', store, clock, this.gateway.rootKey());
        try {
          accessKeyId = (await verify(raw)).accessKeyId;
        } catch (e) {
          // S3 signs the path exactly as sent (escaped once), while auth/sigv4.ts decodes the
          // path before signing it again: for a key with escapes, try it escaped once more.
          if (!(e instanceof ApiError) || e.code !== 'SignatureDoesNotMatch' || !rawPath.includes('%')) throw e;
          accessKeyId = (await verify(rawPath.replace(/%/g, '%25') + (qi >= 0 ? raw.slice(qi) : ''))).accessKeyId;
        }
      }
      if ('error' in routed) throw routed.error;
      action = routed.action;
      const handler = Object.hasOwn(this.service.handlers, action) ? this.service.handlers[action] : undefined;
      if (!handler) throw this.codec.unimplemented(action);
      const principal = resolvePrincipal(store, accessKeyId, config.defaultAccount, partitionOf(scope.region));
      // S3 writes its rows straight through SQLite, answering at once: with no group-commit
      // transaction open, each write commits on its own before the answer goes out.
      if (req.method !== 'GET' && req.method !== 'HEAD') store.flush();
      // 3. decode
      const input = this.codec.decode(action, req, body);
      const ctx = this.context(req, requestId, scope.region, principal, action);
      try {
        // 4. authorize, 5. the handler, 6. encode
        this.authorize(ctx, action, input);
        const output = handler(ctx, input) as Record<string, unknown> | undefined;
        this.send(req, res, this.codec.encode(action, output));
      } finally {
        ctx.tx.rollback(); // S3's handlers write through S3Storage, not the call's transaction
      }
    } catch (e) {
      // Whatever a request holds, it is answered in S3's shape: its own error, or (a failure of
      // Palisade itself: a full disk, an I/O error) InternalError, logged — never a dropped call.
      if (!(e instanceof ApiError)) this.log.error(`s3 ${req.method} ${rawPath} failed: ${(e as Error).stack ?? e}`);
      this.fail(req, res, requestId, e instanceof ApiError ? e : restErrors.internalError(), action);
    }
    return true;
  }

  private context(req: IncomingMessage, requestId: string, region: string, principal: Principal, operation: string): Ctx {
    const { config, store, clock } = this.gateway;
    return {
      requestId, account: principal.account, region, partition: partitionOf(region), scope: regional(principal.account, region),
      accessKeyId: principal.accessKeyId, principal, tx: store.begin(), store, clock, config, operation,
      sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1', userAgent: String(req.headers['user-agent'] ?? ''),
    };
  }

  /** `--auth enforce`: the caller's policies must allow `s3:<action>` (on any resource, as Palisade models S3). */
  private authorize(ctx: Ctx, action: string, input: Record<string, unknown>): void {
    if (this.gateway.config.auth !== 'enforce' || !this.gateway.authorizer) return;
    try {
      this.gateway.authorizer(ctx, this.service, this.service.iamAction(action), typeof input.Bucket === 'string' ? { Bucket: input.Bucket } : {});
    } catch (e) {
      if (e instanceof ApiError) throw new S3Error('AccessDenied', e.message, 403);
      throw e;
    }
  }

  private send(req: IncomingMessage, res: ServerResponse, answer: HttpAnswer): void {
    res.writeHead(answer.status, answer.headers);
    res.end(req.method === 'HEAD' ? undefined : answer.body);
  }

  private fail(req: IncomingMessage, res: ServerResponse, requestId: string, e: ApiError, action?: string): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    this.send(req, res, this.codec.error(e, { requestId, hostId: String(res.getHeader('x-amz-id-2') ?? ''), method: req.method, action }));
  }
}
