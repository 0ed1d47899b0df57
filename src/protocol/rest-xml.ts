// The REST-XML protocol in S3's flavour (the model's protocol `rest`), by walking the wire model
// scripts/gen-models.mjs extracts from @aws-sdk/client-s3: a request is routed to an operation by
// method, path and query from each operation's http trait; its input is read from the path
// labels, query parameters, headers and the payload; an output becomes a status, headers and an
// XML (or blob) payload; an error becomes S3's <Error> document. No operation writes XML.
//
// The interface is the one every codec offers the gateway's pipeline:
//   route(req)                 → { action } | { error }
//   decode(action, req, body)  → the operation's input
//   encode(action, output)     → { status, headers, body }
//   error(e, meta)             → { status, headers, body }
// Where S3's wire departs from its model, or adds to it, the code says so ("S3:").
import { crypto, zlib } from '../core/lazy.ts';
import { ApiError } from '../core/errors.ts';
import { resolve, TIMESTAMP_FORMAT, type Member, type ServiceModel, type Shape, type ShapeRef, type StructShape } from './model.ts';
import { readXml, XmlSyntaxError, type XmlElement } from './xml-reader.ts';

// ---- errors ----

/** An error of the protocol: code, message, status, and the elements S3 adds to its body (BucketName, Key, …). */
export class RestXmlError extends ApiError {
  constructor(
    code: string,
    message: string,
    status: number,
    readonly extra: Record<string, string | number> = {},
    /**
     * An output whose headers the error answer carries: S3 answers a GET or HEAD whose
     * condition says the object is unchanged with 304 and the object's headers, no body.
     */
    readonly output?: Record<string, unknown>,
  ) {
    super(code, message, status);
  }
}

/** S3's errors for what a request itself gets wrong, before any operation runs. */
export const restErrors = {
  malformedXml: () =>
    new RestXmlError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema', 400),
  invalidUri: () => new RestXmlError('InvalidURI', `Couldn't parse the specified URI.`, 400),
  invalidArgument: (message: string, name?: string, value?: string) =>
    new RestXmlError('InvalidArgument', message, 400, name !== undefined ? { ArgumentName: name, ArgumentValue: value ?? '' } : {}),
  invalidRequest: (message: string) => new RestXmlError('InvalidRequest', message, 400),
  notImplemented: () =>
    new RestXmlError('NotImplemented', 'A header or query you provided implies functionality that is not implemented by Palisade', 501),
  methodNotAllowed: (method: string, resourceType: string) =>
    new RestXmlError('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405, {
      Method: method,
      ResourceType: resourceType,
    }),
  incompleteBody: () => new RestXmlError('IncompleteBody', 'The request body terminated unexpectedly', 400),
  malformedTrailer: () =>
    new RestXmlError(
      'MalformedTrailerError',
      'The request contained trailing data that was not well-formed or did not conform to our published schema.',
      400,
    ),
  /** A failure of Palisade itself (a full disk, an I/O error): never a crafted request's doing. */
  internalError: () => new RestXmlError('InternalError', 'We encountered an internal error. Please try again.', 500),
};
const E = restErrors;

// ---- XML text ----

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
/**
 * Text for XML content or attributes. CR and LF as character references, as S3's "XML related
 * object key constraints" ask of requests: a reader turns a raw CR or CRLF into LF. The other C0
 * controls, which XML 1.0 cannot carry at all, as S3 writes them in listings: `&#x1b;`
 * (aws/aws-sdk-php#169, aws/aws-sdk-java-v2#1172; encoding-type=url is the portable way); so too
 * U+FFFE and U+FFFF, the other characters XML 1.0 cannot carry that a key may hold.
 */
export const xmlEscape = (s: string) =>
  s.replace(/[&<>"'\u0000-\u0008\u000a-\u001f\ufffe\uffff]/g, (c) => XML_ESCAPES[c] ?? `&#x${c.charCodeAt(0).toString(16)};`);

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
/** An xs:boolean's forms (and, as Palisade always took them, TRUE and FALSE in any case). */
const XML_BOOLEAN = new Map([
  ['true', true],
  ['false', false],
  ['1', true],
  ['0', false],
]);
/** What node:http can write as a header value (it throws on anything else). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

// ---- the request ----

/** What the codec reads of an HTTP request (node's IncomingMessage is one). */
interface HttpRequest {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
}

/** An answer to write: status, headers and the body (none for a HEAD, a 204 or a 304). */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string | number>;
  body?: Buffer;
}

const header = (req: HttpRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

/** The request's path (undecoded, without its leading `/`) and query. */
interface Target {
  path: string;
  query: URLSearchParams;
}

// ---- routing ----

type Segment = { literal: string } | { label: string; greedy: boolean };

interface Route {
  op: string;
  method: string;
  segments: Segment[];
  /** Query keys the URI names (`?tagging`, `?list-type=2`), with their value when it has one; not x-id. */
  literals: [key: string, value: string | undefined][];
  /** The URI's `x-id`: the SDK's name of the operation, which S3 ignores (a tie-breaker here). */
  xid?: string;
  /** Read from the input shape when first needed. */
  bindings?: Bindings;
}

interface Bindings {
  /** Query parameters the input binds. */
  query: Set<string>;
  /** Headers the input binds (lower case). */
  headers: Set<string>;
  /** Of those, the ones the input requires: what tells operations without literals apart (UploadPart, CopyObject). */
  requiredQuery: string[];
  requiredHeaders: string[];
}

function parseUri(op: string, method: string, uri: string): Route {
  const q = uri.indexOf('?');
  const path = q < 0 ? uri : uri.slice(0, q);
  const segments: Segment[] = path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      const m = /^\{([^}+]+)(\+)?\}$/.exec(s);
      return m ? { label: m[1]!, greedy: m[2] === '+' } : { literal: s };
    });
  const route: Route = { op, method, segments, literals: [] };
  for (const part of q < 0 ? [] : uri.slice(q + 1).split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? undefined : part.slice(eq + 1);
    if (key === 'x-id') route.xid = value;
    else route.literals.push([key, value]);
  }
  return route;
}

/**
 * The labels of `path` (no leading `/`) by a route's segments, or null if it does not match. A
 * label is one non-empty segment; a greedy label (`{Key+}`) the non-empty rest, slashes and all.
 * One trailing slash after the last segment is allowed (`/bucket/` is the bucket).
 */
function matchPath(segments: Segment[], path: string): Record<string, string> | null {
  const labels: Record<string, string> = Object.create(null) as Record<string, string>;
  let rest = path;
  for (const seg of segments) {
    if ('label' in seg && seg.greedy) {
      if (rest === '') return null;
      labels[seg.label] = rest;
      return labels;
    }
    const slash = rest.indexOf('/');
    const part = slash < 0 ? rest : rest.slice(0, slash);
    if (part === '') return null;
    if ('literal' in seg) {
      if (part !== seg.literal) return null;
    } else labels[seg.label] = part;
    rest = slash < 0 ? '' : rest.slice(slash + 1);
  }
  return rest === '' ? labels : null;
}

/** Whether score `a` ranks above `b` (compared element by element). */
function isAfter(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
}

const hasLiteral = (query: URLSearchParams, [key, value]: [string, string | undefined]) =>
  query.has(key) && (value === undefined || query.get(key) === value);

// ---- S3's flavour ----

/** S3's virtual-hosted style on a local endpoint: `bucket.localhost[:port]` names the bucket. */
const VIRTUAL_HOST = /^([a-z0-9][a-z0-9.-]*[a-z0-9])\.localhost$/;

/** What MethodNotAllowed names as the resource: the service, a bucket or an object (by the path's depth, as S3 reads it). */
function resourceType(path: string): string {
  if (path === '') return 'SERVICE';
  const slash = path.indexOf('/');
  return slash < 0 || slash === path.length - 1 ? 'BUCKET' : 'OBJECT';
}

/**
 * Outputs S3 writes as one element whose text is the member (`<LocationConstraint
 * xmlns="…">eu-west-1</LocationConstraint>`), where the model has a structure of that name holding
 * a member of that name. The SDKs read it by a customization of their own.
 */
const ROOT_TEXT: Record<string, string> = { GetBucketLocation: 'LocationConstraint' };

/** Flexible checksums S3 checks on a blob payload, with their sizes in bytes: a value must be their base64. */
const CHECKSUM_BYTES = { crc32: 4, crc32c: 4, crc64nvme: 8, sha1: 20, sha256: 32 } as const;
const CHECKSUMS = Object.keys(CHECKSUM_BYTES) as (keyof typeof CHECKSUM_BYTES)[];
const isBase64Of = (v: string, bytes: number) =>
  v.length === 4 * Math.ceil(bytes / 3) && /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === bytes;

function checksumOf(alg: string, body: Buffer): string | undefined {
  switch (alg) {
    case 'crc32': {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(zlib().crc32(body) >>> 0);
      return b.toString('base64');
    }
    case 'sha1':
      return crypto().createHash('sha1').update(body).digest('base64');
    case 'sha256':
      return crypto().createHash('sha256').update(body).digest('base64');
    default:
      return undefined; // crc32c / crc64nvme: kept as sent
  }
}

/** Longest framing line read: a chunk header with its chunk-signature, or a trailer, is ~100 bytes. */
const MAX_CHUNK_LINE = 4096;
/** A chunk size: hex digits, 16 at most (larger than any body anyway). */
const CHUNK_SIZE = /^[0-9A-Fa-f]{1,16}$/;

/**
 * Bodies sent with `Content-Encoding: aws-chunked` (streaming SigV4, or unsigned with trailers):
 * chunks `hex-size[;chunk-signature=…]` CRLF data CRLF, the last of size 0, then trailer lines
 * `name:value` CRLF and an empty line (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html).
 *
 * Total over any input: it returns, or throws a RestXmlError. S3 answers IncompleteBody "The
 * request body terminated unexpectedly" for every framing fault — a size that is not hex, a chunk
 * longer than the body, a missing CRLF, no end (versity/versitygw#1666 and its test
 * UnsignedStreamingPayloadTrailer_incomplete_body, checked against S3) — and MalformedTrailerError
 * for a trailer that is not `name:value`. Each step moves forward by at least one line, so it
 * runs in time linear in the body.
 */
export function decodeAwsChunked(buf: Buffer): { body: Buffer; trailers: Record<string, string> } {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const { line, next } = chunkLine(buf, pos);
    const size = chunkSize(line);
    pos = next;
    if (size === 0) break;
    // The data and the CRLF after it must be there, and nothing else.
    if (size > buf.length - pos - 2) throw E.incompleteBody();
    const end = pos + size;
    if (buf[end] !== 0x0d || buf[end + 1] !== 0x0a) throw E.incompleteBody();
    parts.push(buf.subarray(pos, end));
    pos = end + 2;
  }
  const trailers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (;;) {
    const { line, next } = chunkLine(buf, pos);
    pos = next;
    if (line === '') break;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : '';
    if (!name) throw E.malformedTrailer();
    trailers[name] = line.slice(colon + 1).trim();
  }
  if (pos !== buf.length) throw E.incompleteBody(); // nothing may follow the end
  return { body: parts.length === 1 ? parts[0]! : Buffer.concat(parts), trailers };
}

/** The framing line at `pos`, without its CRLF, and where the next starts (2 bytes on at least). */
function chunkLine(buf: Buffer, pos: number): { line: string; next: number } {
  const eol = buf.subarray(pos, pos + MAX_CHUNK_LINE + 2).indexOf('\r\n');
  if (eol < 0) throw E.incompleteBody();
  return { line: buf.toString('latin1', pos, pos + eol), next: pos + eol + 2 };
}

function chunkSize(line: string): number {
  const semi = line.indexOf(';');
  const hex = semi < 0 ? line : line.slice(0, semi);
  if (!CHUNK_SIZE.test(hex)) throw E.incompleteBody();
  return parseInt(hex, 16);
}

/** `Content-Encoding`'s codings without `aws-chunked` (the framing, not the object's encoding). */
const codings = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Members bound to the HTTP message rather than written in the XML body. */
const isBound = (m: Member) =>
  m.l !== undefined || m.hq !== undefined || m.hqp !== undefined || m.h !== undefined || m.hp !== undefined || m.rc !== undefined;

// ---- the codec ----

export class RestXmlCodec {
  private cached?: ServiceModel;
  private table?: { routes: Route[]; byOp: Map<string, Route> };

  /** `model` is read on first use (a server does not load S3's model at start). */
  constructor(private readonly loadModel: () => ServiceModel) {}

  private get model(): ServiceModel {
    return (this.cached ??= this.loadModel());
  }

  /** Every operation's route, from the http traits (sorted by name: ties go to the first). */
  private routes(): { routes: Route[]; byOp: Map<string, Route> } {
    if (!this.table) {
      const routes: Route[] = [];
      for (const op of Object.keys(this.model.ops).sort()) {
        const h = this.model.ops[op]?.h;
        if (h) routes.push(parseUri(op, h[0], h[1]));
      }
      this.table = { routes, byOp: new Map(routes.map((r) => [r.op, r])) };
    }
    return this.table;
  }

  private bindings(r: Route): Bindings {
    if (!r.bindings) {
      const b: Bindings = { query: new Set(), headers: new Set(), requiredQuery: [], requiredHeaders: [] };
      const i = this.model.ops[r.op]?.i;
      const shape = i ? this.model.shapes[i] : undefined;
      for (const [name, m] of Object.entries(shape?.m ?? {})) {
        const required = shape!.r?.includes(name) ?? false;
        if (m.hq !== undefined) {
          b.query.add(m.hq);
          if (required) b.requiredQuery.push(m.hq);
        } else if (m.h !== undefined) {
          b.headers.add(m.h.toLowerCase());
          if (required) b.requiredHeaders.push(m.h.toLowerCase());
        }
      }
      r.bindings = b;
    }
    return r.bindings;
  }

  /**
   * The request's path and query; S3: a `bucket.localhost` host puts the bucket first, `//…` is
   * the service, and a path that does not percent-decode is InvalidURI.
   */
  private target(req: HttpRequest): Target {
    const raw = req.url ?? '/';
    const qi = raw.indexOf('?');
    const rawPath = qi >= 0 ? raw.slice(0, qi) : raw;
    try {
      decodeURIComponent(rawPath);
    } catch {
      throw E.invalidUri();
    }
    const query = new URLSearchParams(qi >= 0 ? raw.slice(qi + 1) : '');
    const host = String(header(req, 'host') ?? '').replace(/:\d+$/, '');
    const vh = VIRTUAL_HOST.exec(host);
    let path = vh ? `${vh[1]!}/${rawPath.replace(/^\//, '')}` : rawPath.replace(/^\//, '');
    if (path.startsWith('/')) path = ''; // an empty bucket segment: the service
    return { path, query };
  }

  /**
   * The operation a request calls: of those whose method and path match and whose URI's query
   * keys it carries, the one naming most of them (`?list-type=2` over ListObjects), then the one
   * whose required query parameters and headers it sends (UploadPart and CopyObject over
   * PutObject), then the one its `x-id` names. A request that also carries a key (or required
   * header) choosing another operation of the same resource, which the chosen one does not take,
   * is for something Palisade does not know: NotImplemented. No operation for the method:
   * MethodNotAllowed.
   */
  route(req: HttpRequest): { action: string } | { error: ApiError } {
    let target: Target;
    try {
      target = this.target(req);
    } catch (e) {
      if (e instanceof ApiError) return { error: e };
      throw e;
    }
    const { path, query } = target;
    const method = req.method ?? 'GET';
    const here = this.routes().routes.filter((r) => matchPath(r.segments, path) !== null);
    const fits = here.filter((r) => r.method === method);
    if (fits.length === 0) return { error: E.methodNotAllowed(method, resourceType(path)) };
    let best: Route | undefined;
    let bestScore: number[] = [];
    for (const r of fits) {
      if (!r.literals.every((l) => hasLiteral(query, l))) continue;
      const b = this.bindings(r);
      const present =
        b.requiredQuery.filter((k) => query.has(k)).length + b.requiredHeaders.filter((h) => header(req, h) !== undefined).length;
      const missing = b.requiredQuery.length + b.requiredHeaders.length - present;
      const score = [r.literals.length, present, -missing, r.xid !== undefined && query.get('x-id') === r.xid ? 1 : 0];
      if (!best || isAfter(score, bestScore)) {
        best = r;
        bestScore = score;
      }
    }
    if (!best) return { error: E.notImplemented() };
    const takes = this.bindings(best);
    const takesKey = (k: string) => takes.query.has(k) || best.literals.some(([key]) => key === k);
    for (const r of here) {
      if (r === best) continue;
      if (r.literals.some((l) => hasLiteral(query, l) && !takesKey(l[0]))) return { error: E.notImplemented() };
      if (r.literals.length > 0) continue;
      const b = this.bindings(r);
      if (b.requiredQuery.some((k) => query.has(k) && !takesKey(k))) return { error: E.notImplemented() };
      if (b.requiredHeaders.some((h) => header(req, h) !== undefined && !takes.headers.has(h))) return { error: E.notImplemented() };
    }
    return { action: best.op };
  }

  /** The error for an operation of the model that no handler implements. */
  unimplemented(_action: string): ApiError {
    return E.notImplemented();
  }

  // ---- decoding ----

  /**
   * The operation's input: path labels (percent-decoded), query parameters, headers, headers by
   * prefix, and the payload — a blob (S3: aws-chunked framing undone, its trailers read as
   * headers, Content-MD5 and x-amz-checksum-* checked), a string, or an XML document read into
   * the member's structure. Malformed input is S3's error: InvalidURI, InvalidArgument,
   * MalformedXML, IncompleteBody, InvalidDigest, BadDigest…
   */
  decode(action: string, req: HttpRequest, body: Buffer): Record<string, unknown> {
    const model = this.model;
    const opShapes = model.ops[action];
    const shape = opShapes?.i ? model.shapes[opShapes.i] : undefined;
    if (!shape) return {};
    const { path, query } = this.target(req);
    const route = this.routes().byOp.get(action);
    const labels = (route && matchPath(route.segments, path)) ?? {};
    const input: Record<string, unknown> = {};
    const members = Object.entries(shape.m);
    let trailers: Record<string, string> | undefined;
    let blob: Buffer | undefined;

    for (const [name, m] of members) {
      if (m.l === undefined || !Object.hasOwn(labels, name)) continue;
      try {
        input[name] = decodeURIComponent(labels[name]!);
      } catch {
        throw E.invalidUri();
      }
    }
    const payload = members.find(([, m]) => m.p);
    if (payload) {
      const [name, m] = payload;
      const target = resolve(model, m.s);
      if (target === '#blob') {
        ({ body: blob, trailers } = this.blobPayload(req, body));
        input[name] = blob;
      } else if (target === '#string') {
        if (body.length > 0) input[name] = body.toString('utf8');
      } else if (typeof target !== 'string' && target.k === 'struct') {
        const doc = this.readDocument(body);
        if (doc) {
          if (doc.name !== (m.x ?? target.x ?? name)) throw E.malformedXml();
          input[name] = this.xmlStruct(target, doc);
        }
      }
    } else if (members.some(([, m]) => !isBound(m))) {
      const doc = this.readDocument(body);
      if (doc) {
        if (doc.name !== (shape.x ?? opShapes!.i)) throw E.malformedXml();
        Object.assign(input, this.xmlStruct({ ...shape, m: Object.fromEntries(members.filter(([, m]) => !isBound(m))), r: [] }, doc));
      }
    }
    for (const [name, m] of members) {
      let v: unknown;
      if (m.hq !== undefined) v = this.queryValue(m, query, m.hq);
      else if (m.hqp !== undefined) v = Object.fromEntries(query);
      else if (m.h !== undefined) v = this.headerValue(m, req, m.h.toLowerCase(), trailers);
      else if (m.hp !== undefined) {
        const prefix = m.hp.toLowerCase();
        const entries = Object.entries(req.headers)
          .filter(([k, x]) => k.startsWith(prefix) && x !== undefined)
          .map(([k, x]) => [k.slice(prefix.length), Array.isArray(x) ? x.join(',') : x!]);
        if (entries.length) v = Object.fromEntries(entries);
      } else continue;
      if (v !== undefined) input[name] = v;
    }
    if (blob) this.checkIntegrity(req, blob, trailers);
    for (const name of shape.r ?? []) {
      if (input[name] !== undefined) continue;
      const m = shape.m[name]!;
      if (m.p || !isBound(m)) throw E.malformedXml();
      throw E.invalidRequest(`Missing required ${m.h ? `header ${m.h}` : m.hq ? `query parameter ${m.hq}` : `part of the path: ${name}`}`);
    }
    return input;
  }

  private readDocument(body: Buffer): XmlElement | null {
    try {
      return readXml(body);
    } catch (e) {
      if (e instanceof XmlSyntaxError) throw E.malformedXml();
      throw e;
    }
  }

  /**
   * A blob payload as sent. S3: `Content-Encoding: aws-chunked` (or a STREAMING- payload hash)
   * frames it in chunks with trailers; x-amz-decoded-content-length, when sent, must be a number
   * (else MissingContentLength) and the decoded size (else IncompleteBody with both counts, as S3
   * answers: versity/versitygw#1684 and its tests _missing_invalid_dec_content_length and
   * _content_length_payload_size_mismatch, checked against S3).
   */
  private blobPayload(req: HttpRequest, body: Buffer): { body: Buffer; trailers?: Record<string, string> } {
    const sha = header(req, 'x-amz-content-sha256') ?? '';
    if (!codings(header(req, 'content-encoding')).includes('aws-chunked') && !sha.startsWith('STREAMING-')) return { body };
    const declared = header(req, 'x-amz-decoded-content-length');
    if (declared !== undefined && !/^\d{1,16}$/.test(declared))
      throw new RestXmlError('MissingContentLength', 'You must provide the Content-Length HTTP header.', 411);
    const decoded = decodeAwsChunked(body);
    if (declared !== undefined && Number(declared) !== decoded.body.length) {
      throw new RestXmlError('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header', 400, {
        NumberBytesExpected: Number(declared),
        NumberBytesProvided: decoded.body.length,
      });
    }
    return decoded;
  }

  /**
   * S3 checks a blob payload against Content-MD5 (InvalidDigest when it is not an MD5's base64,
   * BadDigest when it differs) and against the x-amz-checksum-* it was sent with, as a header or
   * a trailer: a value that is not the base64 of the checksum's size is InvalidRequest, one that
   * differs BadDigest (CRC32C and CRC64NVME are kept as sent, not computed).
   */
  private checkIntegrity(req: HttpRequest, body: Buffer, trailers: Record<string, string> | undefined): void {
    const md5 = header(req, 'content-md5');
    if (md5 !== undefined) {
      if (!/^[A-Za-z0-9+/]{22}==$/.test(md5)) throw new RestXmlError('InvalidDigest', 'The Content-MD5 you specified was invalid.', 400);
      if (crypto().createHash('md5').update(body).digest('base64') !== md5)
        throw new RestXmlError('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400);
    }
    for (const alg of CHECKSUMS) {
      const name = `x-amz-checksum-${alg}`;
      const sent = header(req, name);
      const v = sent ?? trailers?.[name];
      if (v === undefined) continue;
      if (!isBase64Of(v, CHECKSUM_BYTES[alg]))
        throw E.invalidRequest(`Value for ${name} ${sent !== undefined ? 'header' : 'trailing header'} is invalid.`);
      const actual = checksumOf(alg, body);
      if (actual !== undefined && actual !== v)
        throw new RestXmlError('BadDigest', `The ${alg.toUpperCase()} you specified did not match the calculated checksum.`, 400);
    }
  }

  /** A query parameter's value (the first, as S3 reads it; every one for a list). */
  private queryValue(m: Member, query: URLSearchParams, name: string): unknown {
    const shape = resolve(this.model, m.s);
    if (typeof shape !== 'string') {
      if (shape.k !== 'list') return undefined;
      const item = resolve(this.model, shape.v);
      const values = query
        .getAll(name)
        .map((raw) => (typeof item === 'string' ? queryScalar(item, raw, name) : raw))
        .filter((v) => v !== undefined);
      return values.length ? values : undefined;
    }
    const raw = query.get(name);
    return raw === null ? undefined : queryScalar(shape, raw, name);
  }

  /** A header's value; S3: a checksum may come as a trailer of an aws-chunked body instead. */
  private headerValue(m: Member, req: HttpRequest, name: string, trailers: Record<string, string> | undefined): unknown {
    let raw = header(req, name);
    if (raw === undefined && trailers && name.startsWith('x-amz-checksum-')) raw = trailers[name];
    if (raw === undefined) return undefined;
    // S3: aws-chunked is the framing of the request, not the object's encoding.
    if (name === 'content-encoding') {
      raw = codings(raw)
        .filter((c) => c !== 'aws-chunked')
        .join(', ');
      if (raw === '') return undefined;
    }
    const shape = resolve(this.model, m.s);
    if (typeof shape !== 'string') {
      if (shape.k !== 'list') return undefined;
      const item = resolve(this.model, shape.v);
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((s) => (typeof item === 'string' ? headerScalar(item, s) : s))
        .filter((v) => v !== undefined);
    }
    return headerScalar(shape, raw);
  }

  /** The members of a structure from an element's children; a member that is no list appears once at most. */
  private xmlStruct(shape: StructShape, el: XmlElement): Record<string, unknown> {
    const byName = new Map<string, XmlElement[]>();
    for (const c of el.children) {
      const list = byName.get(c.name);
      if (list) list.push(c);
      else byName.set(c.name, [c]);
    }
    const out: Record<string, unknown> = {};
    const flatLists = new Set<string>();
    for (const [name, m] of Object.entries(shape.m)) {
      const tag = (m.x ?? name).slice((m.x ?? name).lastIndexOf(':') + 1);
      if (m.xa) {
        // An attribute (a Grantee's xsi:type), by its local name.
        const v = el.attributes?.[tag];
        if (v !== undefined) out[name] = v;
        continue;
      }
      const els = byName.get(tag) ?? [];
      const s = resolve(this.model, m.s);
      if (typeof s !== 'string' && s.k === 'list' && m.f) {
        flatLists.add(name);
        if (els.length) out[name] = els.map((e) => this.xmlValue(s.v, e));
        continue;
      }
      if (typeof s !== 'string' && s.k === 'map' && m.f) {
        if (els.length) out[name] = Object.fromEntries(els.map((e) => this.mapEntry(s, e)));
        continue;
      }
      if (els.length > 1) throw E.malformedXml();
      if (els.length === 1) out[name] = this.xmlValue(m.s, els[0]!);
    }
    // A required list that is flattened is there with no elements too: absent and empty are one
    // on the wire (S3 takes <Delete></Delete>, versitygw's DeleteObjects_empty_input).
    for (const name of shape.r ?? []) if (out[name] === undefined && !flatLists.has(name)) throw E.malformedXml();
    return out;
  }

  private mapEntry(s: { key: ShapeRef; v: ShapeRef; kx?: string; vx?: string }, e: XmlElement): [string, unknown] {
    const k = e.children.filter((c) => c.name === (s.kx ?? 'key'));
    const v = e.children.filter((c) => c.name === (s.vx ?? 'value'));
    if (k.length !== 1 || v.length !== 1) throw E.malformedXml();
    return [k[0]!.text, this.xmlValue(s.v, v[0]!)];
  }

  private xmlValue(ref: ShapeRef, el: XmlElement): unknown {
    const shape = resolve(this.model, ref);
    if (typeof shape === 'string') return xmlScalar(shape, el.text);
    if (shape.k === 'struct') return this.xmlStruct(shape, el);
    if (shape.k === 'list') return el.children.filter((c) => c.name === (shape.x ?? 'member')).map((c) => this.xmlValue(shape.v, c));
    return Object.fromEntries(el.children.filter((c) => c.name === 'entry').map((e) => this.mapEntry(shape, e)));
  }

  // ---- encoding ----

  /**
   * An operation's answer: the status of its http trait (or of a httpResponseCode member; 206
   * when it carries a Content-Range), its header and prefix-header members,
   * and its payload — a blob as is, or the XML of its body members (or of its structure payload)
   * under the structure's xmlName, in S3's namespace, lists flattened and elements renamed as the
   * model says. No body: content-length 0.
   */
  encode(action: string, output: Record<string, unknown> | undefined): HttpAnswer {
    const model = this.model;
    const op = model.ops[action];
    let status = op?.h?.[2] ?? 200;
    const shape = op?.o ? model.shapes[op.o] : undefined;
    const out = output ?? {};
    const headers = shape ? this.boundHeaders(shape, out) : {};
    let body: Buffer | undefined;
    let xml: string | undefined;
    if (shape) {
      for (const [name, m] of Object.entries(shape.m)) {
        if (m.rc && typeof out[name] === 'number') status = out[name];
        // HTTP (and S3 for GetObject and HeadObject): a part of a representation is Partial Content.
        else if (status === 200 && m.h?.toLowerCase() === 'content-range' && out[name] !== undefined) status = 206;
      }
      const payload = Object.entries(shape.m).find(([, m]) => m.p);
      if (Object.hasOwn(ROOT_TEXT, action)) {
        const v = out[ROOT_TEXT[action]!];
        xml = `<${shape.x ?? op!.o}${this.rootNs()}>${v === undefined || v === null ? '' : xmlEscape(String(v))}</${shape.x ?? op!.o}>`;
      } else if (payload) {
        const [name, m] = payload;
        const v = out[name];
        const target = resolve(model, m.s);
        if (typeof target !== 'string' && target.k === 'struct') {
          if (v !== undefined && v !== null) xml = this.document(m.x ?? target.x ?? name, target, v as Record<string, unknown>);
        } else if (v !== undefined && v !== null) {
          body = Buffer.isBuffer(v)
            ? v
            : v instanceof Uint8Array
              ? Buffer.from(v.buffer, v.byteOffset, v.byteLength)
              : Buffer.from(String(v));
        }
      } else if (Object.values(shape.m).some((m) => !isBound(m))) {
        xml = this.document(shape.x ?? op!.o!, shape, out);
      }
    }
    if (xml !== undefined) {
      body = Buffer.from(XML_DECLARATION + xml);
      headers['content-type'] = 'application/xml';
    }
    headers['content-length'] ??= body?.length ?? 0;
    return { status, headers, ...(body !== undefined ? { body } : {}) };
  }

  /** The header and prefix-header members of an output. */
  private boundHeaders(shape: StructShape, out: Record<string, unknown>): Record<string, string | number> {
    const headers: Record<string, string | number> = {};
    for (const [name, m] of Object.entries(shape.m)) {
      const v = out[name];
      if (v === undefined || v === null) continue;
      if (m.h !== undefined) headers[m.h.toLowerCase()] = headerText(resolve(this.model, m.s), v, m.h, m);
      else if (m.hp !== undefined) {
        for (const [k, x] of Object.entries(v as Record<string, unknown>))
          headers[`${m.hp.toLowerCase()}${k}`] = headerText('#string', x, m.hp + k);
      }
    }
    return headers;
  }

  private rootNs(): string {
    return this.model.xmlns ? ` xmlns="${this.model.xmlns}"` : '';
  }

  private document(tag: string, shape: StructShape, v: Record<string, unknown>): string {
    const out: string[] = [];
    this.struct(tag, shape, v, out, this.rootNs());
    return out.join('');
  }

  private struct(tag: string, shape: StructShape, v: Record<string, unknown>, out: string[], attrs: string): void {
    let attributes = attrs + (shape.xn ? nsAttr(shape.xn) : '');
    const children: string[] = [];
    for (const [name, m] of Object.entries(shape.m)) {
      const x = v[name];
      if (x === undefined || x === null || isBound(m) || m.p) continue;
      const t = m.x ?? name;
      const s = resolve(this.model, m.s);
      if (m.xa) {
        attributes += ` ${t}="${typeof s === 'string' ? scalarText(s, x, m) : ''}"`;
        continue;
      }
      const ns = m.xn ? nsAttr(m.xn) : '';
      if (typeof s !== 'string' && s.k === 'list' && m.f) {
        const item = resolve(this.model, s.v);
        for (const i of x as unknown[]) this.value(t, item, i, children, ns);
      } else if (typeof s !== 'string' && s.k === 'map' && m.f) {
        for (const [k, i] of Object.entries(x as Record<string, unknown>)) {
          children.push(`<${t}${ns}><${s.kx ?? 'key'}>${xmlEscape(k)}</${s.kx ?? 'key'}>`);
          this.value(s.vx ?? 'value', resolve(this.model, s.v), i, children, '');
          children.push(`</${t}>`);
        }
      } else this.value(t, s, x, children, ns, m);
    }
    out.push(`<${tag}${attributes}>`, ...children, `</${tag}>`);
  }

  private value(tag: string, shape: Shape, v: unknown, out: string[], attrs: string, m?: Member): void {
    if (typeof shape === 'string') {
      out.push(`<${tag}${attrs}>${scalarText(shape, v, m)}</${tag}>`);
    } else if (shape.k === 'struct') {
      this.struct(tag, shape, v as Record<string, unknown>, out, attrs);
    } else if (shape.k === 'list') {
      out.push(`<${tag}${attrs}>`);
      const item = resolve(this.model, shape.v);
      for (const i of v as unknown[]) this.value(shape.x ?? 'member', item, i, out, '');
      out.push(`</${tag}>`);
    } else {
      out.push(`<${tag}${attrs}>`);
      for (const [k, i] of Object.entries(v as Record<string, unknown>)) {
        out.push(`<entry><${shape.kx ?? 'key'}>${xmlEscape(k)}</${shape.kx ?? 'key'}>`);
        this.value(shape.vx ?? 'value', resolve(this.model, shape.v), i, out, '');
        out.push('</entry>');
      }
      out.push(`</${tag}>`);
    }
  }

  // ---- errors ----

  /**
   * S3's error answer: `<Error><Code>…</Code><Message>…</Message>` with the error's own elements,
   * RequestId and HostId, as application/xml. A HEAD is answered with the status alone (no body
   * can go out), and a 304 with the headers of the output it carries.
   */
  error(e: ApiError, meta: { requestId: string; hostId?: string; method?: string; action?: string }): HttpAnswer {
    const re = e instanceof RestXmlError ? e : undefined;
    const o = re?.output && meta.action ? this.model.ops[meta.action]?.o : undefined;
    const shape = o ? this.model.shapes[o] : undefined;
    const headers = shape && re?.output ? this.boundHeaders(shape, re.output) : {};
    if (meta.method === 'HEAD' || e.status === 304) return { status: e.status, headers: { 'content-length': 0, ...headers } };
    const extra = re
      ? Object.entries(re.extra)
          .map(([k, v]) => `<${k}>${xmlEscape(String(v))}</${k}>`)
          .join('')
      : '';
    const xml =
      `${XML_DECLARATION}<Error><Code>${xmlEscape(e.code)}</Code><Message>${xmlEscape(e.message)}</Message>${extra}` +
      `<RequestId>${xmlEscape(meta.requestId)}</RequestId><HostId>${xmlEscape(meta.hostId ?? '')}</HostId></Error>`;
    const body = Buffer.from(xml);
    return { status: e.status, headers: { ...headers, 'content-type': 'application/xml', 'content-length': body.length }, body };
  }
}

const nsAttr = (xn: [string, string] | [string]) =>
  xn.length === 2 ? ` xmlns:${xn[0]}="${xmlEscape(xn[1])}"` : ` xmlns="${xmlEscape(xn[0])}"`;

function toDate(v: unknown): Date {
  return v instanceof Date ? v : new Date(typeof v === 'number' ? v * 1000 : String(v));
}

/** A timestamp as text: date-time unless the member says otherwise (`fallback` is the place's default). */
function timestampText(v: unknown, m: Member | undefined, fallback: number): string {
  const d = toDate(v);
  if (Number.isNaN(d.getTime())) throw new Error(`an invalid date (${String(v)}) in an answer`);
  switch (m?.tf ?? fallback) {
    case TIMESTAMP_FORMAT.httpDate:
      return d.toUTCString();
    case TIMESTAMP_FORMAT.epochSeconds:
      return String(d.getTime() / 1000);
    default:
      return d.toISOString();
  }
}

function scalarText(kind: string, v: unknown, m?: Member): string {
  if (kind === '#timestamp') return timestampText(v, m, TIMESTAMP_FORMAT.dateTime);
  if (kind === '#blob' && v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return xmlEscape(String(v));
}

/** A header's text (a timestamp as an HTTP date unless the member says otherwise); one no header can carry is a bug. */
function headerText(shape: Shape, v: unknown, name: string, m?: Member): string {
  let text: string;
  if (shape === '#timestamp') text = timestampText(v, m, TIMESTAMP_FORMAT.httpDate);
  else if (typeof shape !== 'string' && shape.k === 'list') text = (v as unknown[]).map(String).join(', ');
  else text = String(v);
  if (!HEADER_VALUE.test(text)) throw new Error(`header ${name}: a value no header can carry`);
  return text;
}

/** A timestamp as sent: epoch seconds, or a date Date.parse reads (HTTP date, ISO 8601); NaN otherwise. */
function parseTimestamp(raw: string): number {
  const t = raw.trim();
  return /^\d+(\.\d+)?$/.test(t) ? Number(t) * 1000 : Date.parse(t);
}

/** A query parameter as its member's type; an empty value of a non-string is not sent. S3's InvalidArgument names the parameter. */
function queryScalar(kind: string, raw: string, name: string): unknown {
  switch (kind) {
    case '#string':
      return raw;
    case '#boolean':
      return raw === 'true';
    case '#integer':
      if (raw === '') return undefined;
      if (!/^\d+$/.test(raw) || Number(raw) > 2147483647)
        throw E.invalidArgument(`Provided ${name} not an integer or within integer range`, name, raw);
      return Number(raw);
    case '#double': {
      if (raw === '') return undefined;
      const n = Number(raw);
      if (!Number.isFinite(n)) throw E.invalidArgument(`Provided ${name} not a number`, name, raw);
      return n;
    }
    case '#timestamp': {
      if (raw === '') return undefined;
      const t = parseTimestamp(raw);
      if (Number.isNaN(t)) throw E.invalidArgument(`Provided ${name} not a valid date`, name, raw);
      return new Date(t);
    }
    case '#blob':
      return Buffer.from(raw, 'base64');
    default:
      return raw;
  }
}

/**
 * A header as its member's type. One that does not read as its type is taken as not sent, as S3
 * ignores a date header it cannot read (If-Modified-Since: yesterday).
 */
function headerScalar(kind: string, raw: string): unknown {
  switch (kind) {
    case '#string':
      return raw;
    case '#boolean':
      return raw.trim().toLowerCase() === 'true';
    case '#integer':
      return /^\s*-?\d{1,16}\s*$/.test(raw) ? Number(raw) : undefined;
    case '#double': {
      const n = Number(raw);
      return raw.trim() === '' || !Number.isFinite(n) ? undefined : n;
    }
    case '#timestamp': {
      const t = parseTimestamp(raw);
      return Number.isNaN(t) ? undefined : new Date(t);
    }
    case '#blob':
      return Buffer.from(raw, 'base64');
    default:
      return raw;
  }
}

/** An element's text as its member's type: MalformedXML when it is not one. */
function xmlScalar(kind: string, text: string): unknown {
  switch (kind) {
    case '#string':
      return text;
    case '#boolean': {
      const b = XML_BOOLEAN.get(text.trim().toLowerCase());
      if (b === undefined) throw E.malformedXml();
      return b;
    }
    case '#integer': {
      if (!/^\s*-?\d{1,16}\s*$/.test(text)) throw E.malformedXml();
      return Number(text);
    }
    case '#double': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw E.malformedXml();
      return n;
    }
    case '#timestamp': {
      const t = parseTimestamp(text);
      if (Number.isNaN(t)) throw E.malformedXml();
      return new Date(t);
    }
    case '#blob':
      return Buffer.from(text, 'base64');
    default:
      return text;
  }
}
