// The wire protocols of the AWS services on the port, as the pipeline (pipeline.ts) uses them:
// each one recognises its requests (`route`), and for a routed call knows how to decode the input
// and encode the output or an error — all from the service's model, through the generic codecs
// of src/protocol/. A service's codec is made when a call first needs it (not at start).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../core/errors.ts';
import type { ServiceDef } from '../core/context.ts';
import { QueryDecoder } from '../protocol/query.ts';
import { XmlEncoder } from '../protocol/xml.ts';
import { JsonCodec } from '../protocol/json.ts';
import { AnswerWriter } from './body.ts';
import { credentialScope, type CredentialScope } from './sigv4-scope.ts';

/** A request routed to one call of one service, with how to read it and how to answer it. */
export interface Routed {
  service: ServiceDef;
  action: string;
  /** The SigV4 credential scope the request names, if it is signed. */
  scope?: CredentialScope;
  /** The protocol's error code for an action the service does not have. */
  unknownCode: string;
  decode(): Record<string, unknown>;
  ok(res: ServerResponse, output: Record<string, unknown> | undefined, requestId: string): void;
  fail(res: ServerResponse, e: ApiError, requestId: string): void;

  // What only some protocols need (S3's REST-XML; see s3-protocol.ts):
  /** Refused before anything else, in the protocol's own shape (S3: SigV2 under --auth verify). */
  refuseFirst?: ApiError;
  /** Known at routing but answered only once the signature is checked (S3: no such operation). */
  refuseAfterAuth?: ApiError;
  /** Other forms of the request URL a signature may have been made over (S3 signs the path as sent). */
  signedUrls?: string[];
  /** The protocol's error for a request target no URL parser takes (S3: InvalidURI). */
  badUrl?: () => ApiError;
  /** The protocol's error for an action it routes to but Palisade does not implement. */
  unimplemented?: (action: string) => ApiError;
  /** What IAM authorizes, where it differs from the call (S3: ListObjects is s3:ListBucket). */
  authorizeAs?: (input: Record<string, unknown>) => { action: string; input: Record<string, unknown> };
  /** The protocol's answer to an IAM denial. */
  denied?: (e: ApiError) => ApiError;
  /**
   * false: the handlers write through their own storage, each write committed as it is made
   * (S3's objects), and the calls are data events, not recorded by CloudTrail.
   */
  transactional?: false;
}

/**
 * What a protocol makes of a request: its call, a refusal (no such service, no action — the
 * gateway answers it in the request's protocol), or nothing (not its request).
 */
export type RouteResult = Routed | { refuse: ApiError } | undefined;

export interface WireProtocol {
  route(req: IncomingMessage, body: Buffer): RouteResult;
}

/** The services offered, by SigV4 signing name. */
export type Services = ReadonlyMap<string, ServiceDef>;

function queryOf(req: IncomingMessage): URLSearchParams {
  const raw = req.url ?? '/';
  const qi = raw.indexOf('?');
  return new URLSearchParams(qi >= 0 ? raw.slice(qi + 1) : '');
}

/**
 * AWS JSON 1.1 (CloudWatch Logs, CloudTrail): the call is `X-Amz-Target: Prefix.Action`. botocore
 * sends the model's full target prefix (com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101),
 * the SDK v3 clients only its last part (CloudTrail_20131101): AWS accepts both.
 */
export class JsonProtocol implements WireProtocol {
  private readonly codecs = new Map<string, JsonCodec>();
  constructor(private readonly services: Services) {}

  private codecOf(service: ServiceDef): JsonCodec {
    let c = this.codecs.get(service.name);
    if (!c) this.codecs.set(service.name, (c = new JsonCodec(service.model, service.validationErrorCode)));
    return c;
  }

  route(req: IncomingMessage, body: Buffer): RouteResult {
    const target = req.headers['x-amz-target'];
    if (typeof target !== 'string' || !target.includes('.')) return undefined;
    const dot = target.lastIndexOf('.');
    const prefix = target.slice(0, dot);
    const action = target.slice(dot + 1);
    const service = [...this.services.values()].find(
      (s) => s.model.protocol === 'json' && (s.model.target === prefix || s.model.target?.endsWith(`.${prefix}`)),
    );
    if (!service) {
      return { refuse: new ApiError('UnknownOperationException', `Unknown target ${target}`) };
    }
    const codec = this.codecOf(service);
    return {
      service,
      action,
      scope: credentialScope(req.headers.authorization, queryOf(req)),
      unknownCode: 'UnknownOperationException',
      decode: () => codec.decode(action, body.toString('utf8')),
      ok: (res, output) => sendJson(res, 200, codec.encode(action, output)),
      fail: (res, e) => sendJson(res, e.status, codec.error(e.code, e.message), e.code),
    };
  }
}

function sendJson(res: ServerResponse, status: number, text: string, errorType?: string): void {
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}),
  });
  res.end(text);
}

/**
 * The query protocols (EC2's and AWS query: IAM, STS): `Action=…&Version=…` in the query string
 * or a form body; the service is the SigV4 scope's, else the one whose model has the action.
 */
export class QueryProtocol implements WireProtocol {
  private readonly codecs = new Map<string, { decoder: QueryDecoder; encoder: XmlEncoder }>();
  constructor(private readonly services: Services) {}

  private codecOf(service: ServiceDef) {
    let c = this.codecs.get(service.name);
    if (!c) this.codecs.set(service.name, (c = { decoder: new QueryDecoder(service.model), encoder: new XmlEncoder(service.model) }));
    return c;
  }

  route(req: IncomingMessage, body: Buffer): RouteResult {
    const params = queryOf(req);
    const scope = credentialScope(req.headers.authorization, params);
    const contentType = String(req.headers['content-type'] ?? '');
    if (req.method === 'POST' && (contentType.startsWith('application/x-www-form-urlencoded') || contentType === '')) {
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v);
    }
    const action = params.get('Action');
    let serviceName = scope?.service;
    if (!serviceName && action) serviceName = this.guessService(action, params.get('Version'));
    const service = serviceName ? this.services.get(serviceName) : undefined;
    if (!service || (service.model.protocol !== 'ec2' && service.model.protocol !== 'query')) {
      return {
        refuse: new ApiError(
          'InvalidAction',
          serviceName
            ? `The service ${serviceName} is not offered by Palisade`
            : 'Could not determine the service: sign the request with SigV4',
        ),
      };
    }
    const codec = this.codecOf(service);
    if (!action) return { refuse: new ApiError('MissingAction', 'The request must contain the parameter Action') };
    return {
      service,
      action,
      scope,
      unknownCode: 'InvalidAction',
      decode: () => codec.decoder.decode(action, params),
      ok: (res, output, requestId) => {
        const answer = new AnswerWriter();
        codec.encoder.successInto(action, output, requestId, answer);
        answer.end(res, 200, 'text/xml;charset=UTF-8');
      },
      fail: (res, e, requestId) => sendXml(res, e.status, codec.encoder.error(e.code, e.message, requestId, e.fault)),
    };
  }

  private guessService(action: string, version: string | null): string | undefined {
    for (const s of this.services.values()) {
      if (s.model.version === version && Object.hasOwn(s.model.ops, action)) return s.name;
    }
    for (const s of this.services.values()) if (Object.hasOwn(s.model.ops, action)) return s.name;
    return undefined;
  }
}

function sendXml(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'content-length': Buffer.byteLength(xml) });
  res.end(xml);
}
