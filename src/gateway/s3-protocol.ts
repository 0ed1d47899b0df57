// S3's REST-XML on the pipeline: a request signed for `s3` (or a legacy SigV2 S3 request) is an
// S3 call; the codec (protocol/rest-xml.ts) routes it by method, path and query from S3's model,
// decodes it and encodes the answer. What differs from the other protocols is declared on the
// routed call (see Routed): SigV2 is refused under --auth verify|enforce; a request no operation
// takes is answered once its signature is checked; the signature may be over the path as sent;
// IAM authorizes S3's own action names; the handlers write through S3's storage, not the call's
// transaction, and are not recorded by CloudTrail (data events).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { crypto } from '../core/lazy.ts';
import type { ServerConfig } from '../core/context.ts';
import type { ApiError } from '../core/errors.ts';
import { RestXmlCodec, RestXmlError, restErrors, type HttpAnswer } from '../protocol/rest-xml.ts';
import { credentialScope, type CredentialScope } from './sigv4-scope.ts';
import type { RouteResult, Services, WireProtocol } from './protocols.ts';

/**
 * The access key of a legacy SigV2 S3 request (`Authorization: AWS KEY:SIG`, or a query-string
 * URL with AWSAccessKeyId, Signature and Expires, as `aws s3 presign` makes them) — not an EC2
 * SigV2 query call, which names its Action.
 */
function sigV2AccessKey(req: IncomingMessage, query: URLSearchParams): string | undefined {
  const auth = req.headers.authorization;
  const m = auth ? /^AWS ([^:\s]+):\S+$/.exec(auth) : null;
  if (m) return m[1];
  if (query.has('AWSAccessKeyId') && query.has('Signature') && query.has('Expires') && !query.has('Action'))
    return query.get('AWSAccessKeyId')!;
  return undefined;
}

export class RestXmlProtocol implements WireProtocol {
  /** Made on the first S3 call: it reads S3's model (not at start). */
  private codec?: RestXmlCodec;

  constructor(
    private readonly services: Services,
    private readonly config: ServerConfig,
  ) {}

  route(req: IncomingMessage, body: Buffer): RouteResult {
    const service = this.services.get('s3');
    if (!service) return undefined;
    const raw = req.url ?? '/';
    const qi = raw.indexOf('?');
    const rawPath = qi >= 0 ? raw.slice(0, qi) : raw;
    const query = new URLSearchParams(qi >= 0 ? raw.slice(qi + 1) : '');
    let scope: CredentialScope | undefined = credentialScope(req.headers.authorization, query);
    const v2 = scope ? undefined : sigV2AccessKey(req, query);
    if (v2 !== undefined) scope = { accessKeyId: v2, date: '', region: this.config.region, service: 's3' };
    if (scope?.service !== 's3') return undefined;
    const codec = (this.codec ??= new RestXmlCodec(() => service.model));
    const routed = codec.route(req);
    const action = 'error' in routed ? '' : routed.action;
    const hostId = crypto().randomBytes(24).toString('base64');
    const send = (res: ServerResponse, answer: HttpAnswer) => {
      res.setHeader('x-amz-id-2', hostId);
      res.writeHead(answer.status, answer.headers);
      res.end(req.method === 'HEAD' ? undefined : answer.body);
    };
    const checked = this.config.auth && this.config.auth !== 'open';
    return {
      service,
      action,
      scope,
      unknownCode: 'NotImplemented',
      // As S3 answers for every bucket created since June 2020.
      refuseFirst:
        v2 !== undefined && checked
          ? restErrors.invalidRequest('The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.')
          : undefined,
      refuseAfterAuth: 'error' in routed ? routed.error : undefined,
      // S3 signs the path exactly as sent (escaped once), while auth/sigv4.ts decodes the path
      // before signing it again: for a key with escapes, the path escaped once more is tried too.
      signedUrls: rawPath.includes('%') ? [rawPath.replace(/%/g, '%25') + (qi >= 0 ? raw.slice(qi) : '')] : undefined,
      badUrl: restErrors.invalidUri,
      unimplemented: (a) => codec.unimplemented(a),
      authorizeAs: (input) => ({
        action: service.iamAction?.(action) ?? action,
        input: {
          ...(typeof input.Bucket === 'string' ? { Bucket: input.Bucket } : {}),
          ...(typeof input.Key === 'string' ? { Key: input.Key } : {}),
        },
      }),
      denied: (e: ApiError) => new RestXmlError('AccessDenied', e.message, 403),
      transactional: false,
      decode: () => codec.decode(action, req, body),
      ok: (res, output) => send(res, codec.encode(action, output)),
      fail: (res, e, requestId) => {
        if (res.headersSent) res.end();
        else send(res, codec.error(e, { requestId, hostId, method: req.method, action: action || undefined }));
      },
    };
  }
}
