// A minimal Amazon S3 (REST-XML), enough for flow-log delivery and for reading it back with the
// aws CLI, boto3 or @aws-sdk/client-s3: buckets (create, head, list, delete, location) and
// objects (put, get with ranges and conditions, head, delete, batch delete, list v1/v2 with
// prefix, delimiter, max-keys and continuation tokens). Path-style (`/bucket/key`) and
// `bucket.localhost` hosts. Requests are routed here by their SigV4 scope's service, `s3`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { zlib, crypto } from '../../core/lazy.ts';
import type { Extension, Gateway } from '../../gateway/server.ts';
import type { Ctx, ServiceDef } from '../../core/context.ts';
import { ApiError } from '../../core/errors.ts';
import { credentialScope, partitionOf } from '../../gateway/sigv4-scope.ts';
import { authenticate, authError } from '../../auth/authenticate.ts';
import { isKnownRegion } from '../../core/regions.ts';
import { resolvePrincipal, type Principal } from '../../auth/principals.ts';
import { regional } from '../../store/store.ts';
import { createLogger, type Logger } from '../../core/log.ts';
import { S3Storage, type BucketRow, type ObjectInfo, type ObjectRow } from './storage.ts';

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** An S3 error: code, message, status and the elements S3 adds (BucketName, Key, …). */
export class S3Error extends ApiError {
  constructor(code: string, message: string, status: number, readonly extra: Record<string, string | number> = {}) {
    super(code, message, status);
  }
}

const noSuchBucket = (name: string) => new S3Error('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: name });
const noSuchKey = (key: string) => new S3Error('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
const accessDenied = () => new S3Error('AccessDenied', 'Access Denied', 403);
const notImplemented = () => new S3Error('NotImplemented', 'A header or query you provided implies functionality that is not implemented by Palisade', 501);
const invalidArgument = (message: string, name?: string, value?: string) =>
  new S3Error('InvalidArgument', message, 400, name !== undefined ? { ArgumentName: name, ArgumentValue: value ?? '' } : {});
const malformedXml = () => new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema', 400);
const incompleteBody = () => new S3Error('IncompleteBody', 'The request body terminated unexpectedly', 400);
const malformedTrailer = () => new S3Error('MalformedTrailerError', 'The request contained trailing data that was not well-formed or did not conform to our published schema.', 400);
/** A failure of Palisade itself (a full disk, an I/O error): never a crafted request's doing. */
const internalError = () => new S3Error('InternalError', 'We encountered an internal error. Please try again.', 500);

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

// ---- reading XML request bodies ----

/** An element of an S3 request body: its local name (any prefix dropped), child elements and text. */
export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

/** S3's request schemas are 3 levels deep (Delete/Object/Key): far deeper is not theirs. */
const MAX_XML_DEPTH = 32;
/** Characters XML 1.0 allows (§2.2). */
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const isXmlChar = (cp: number) => cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff)
  || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
const XML_NAME = /[A-Za-z_:\u00C0-\uFFFF][A-Za-z0-9_.:\u00B7\u00C0-\uFFFF-]*/y;
const XML_REF = /&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|(lt|gt|amp|quot|apos));/y;
const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * Reads an S3 request body as an XML document: its root element, or null when there is none
 * (an empty body, or only a declaration). Total: any input yields that or throws MalformedXML —
 * bytes that are not UTF-8, characters or references XML forbids (NUL, surrogates, beyond
 * U+10FFFF), undeclared entities, a DOCTYPE (no DTDs, so no entity expansion), unterminated
 * markup, mismatched tags, nesting past MAX_XML_DEPTH. Each step consumes input, so it runs in
 * time linear in the body (which the gateway caps).
 */
export function readXml(body: Buffer): XmlElement | null {
  return new XmlReader(xmlSource(body)).document();
}

function xmlSource(body: Buffer): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body); // a leading BOM is dropped
  } catch {
    throw malformedXml();
  }
  if (NOT_XML_CHAR.test(text)) throw malformedXml();
  return text.replace(/\r\n?/g, '\n'); // end-of-line handling (§2.11); &#13; still gives CR
}

/** Character data with its references resolved; a bare `&` or a reference to a non-character fails. */
function unescapeXml(raw: string): string {
  let amp = raw.indexOf('&');
  if (amp < 0) return raw;
  let out = '';
  let from = 0;
  while (amp >= 0) {
    XML_REF.lastIndex = amp;
    const m = XML_REF.exec(raw);
    if (!m) throw malformedXml();
    let text = m[3] !== undefined ? XML_ENTITIES[m[3]]! : undefined;
    if (text === undefined) {
      const cp = m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2]!, 10); // a long run of digits is Infinity
      if (!isXmlChar(cp)) throw malformedXml();
      text = String.fromCodePoint(cp);
    }
    out += raw.slice(from, amp) + text;
    from = XML_REF.lastIndex;
    amp = raw.indexOf('&', from);
  }
  return out + raw.slice(from);
}

class XmlReader {
  private pos = 0;
  constructor(private readonly s: string) {}

  document(): XmlElement | null {
    this.misc();
    if (this.pos === this.s.length) return null;
    const root = this.element();
    this.misc();
    if (this.pos !== this.s.length) throw malformedXml();
    return root;
  }

  /** Whitespace, comments and processing instructions (the XML declaration is one) around the root. */
  private misc(): void {
    for (;;) {
      this.space();
      if (this.at('<!--')) this.skipPast('-->', 4);
      else if (this.at('<?')) this.skipPast('?>', 2);
      else return;
    }
  }

  /** The element at `pos` with all its content, read with a stack (no recursion on hostile depth). */
  private element(): XmlElement {
    const stack: { el: XmlElement; qname: string }[] = [];
    const open = () => {
      const tag = this.startTag();
      const el: XmlElement = { name: tag.qname.slice(tag.qname.lastIndexOf(':') + 1), children: [], text: '' };
      stack.at(-1)?.el.children.push(el);
      if (stack.length >= MAX_XML_DEPTH) throw malformedXml();
      stack.push({ el, qname: tag.qname });
      if (tag.empty) stack.pop();
      return el;
    };
    const root = open();
    const s = this.s;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (s[this.pos] !== '<') {
        const lt = s.indexOf('<', this.pos); // character data runs to the next markup
        if (lt < 0) throw malformedXml(); // the element never ends
        top.el.text += unescapeXml(s.slice(this.pos, lt));
        this.pos = lt;
      } else if (this.at('</')) {
        this.pos += 2;
        if (this.name() !== top.qname) throw malformedXml();
        this.space();
        this.expect('>');
        stack.pop();
      } else if (this.at('<!--')) {
        this.skipPast('-->', 4);
      } else if (this.at('<![CDATA[')) {
        const end = s.indexOf(']]>', this.pos + 9);
        if (end < 0) throw malformedXml();
        top.el.text += s.slice(this.pos + 9, end);
        this.pos = end + 3;
      } else if (this.at('<?')) {
        this.skipPast('?>', 2);
      } else {
        open();
      }
    }
    return root;
  }

  /** `<name attr="v" …>` or `<name …/>`: attributes are checked, not kept (S3's schemas have none but xmlns). */
  private startTag(): { qname: string; empty: boolean } {
    this.expect('<');
    const qname = this.name();
    const seen = new Set<string>();
    for (;;) {
      const spaced = this.space();
      if (this.at('/>')) {
        this.pos += 2;
        return { qname, empty: true };
      }
      if (this.at('>')) {
        this.pos += 1;
        return { qname, empty: false };
      }
      if (!spaced) throw malformedXml();
      const attr = this.name();
      if (seen.has(attr)) throw malformedXml();
      seen.add(attr);
      this.space();
      this.expect('=');
      this.space();
      const quote = this.s[this.pos];
      if (quote !== '"' && quote !== "'") throw malformedXml();
      const end = this.s.indexOf(quote, this.pos + 1);
      if (end < 0) throw malformedXml();
      const value = this.s.slice(this.pos + 1, end);
      if (value.includes('<')) throw malformedXml();
      unescapeXml(value);
      this.pos = end + 1;
    }
  }

  private name(): string {
    XML_NAME.lastIndex = this.pos;
    const m = XML_NAME.exec(this.s);
    if (!m) throw malformedXml();
    this.pos = XML_NAME.lastIndex;
    return m[0];
  }

  /** Skips whitespace (CR is gone by now); says whether there was any. */
  private space(): boolean {
    const start = this.pos;
    while (this.s[this.pos] === ' ' || this.s[this.pos] === '\t' || this.s[this.pos] === '\n') this.pos++;
    return this.pos > start;
  }

  private at(text: string): boolean {
    return this.s.startsWith(text, this.pos);
  }

  private expect(text: string): void {
    if (!this.at(text)) throw malformedXml();
    this.pos += text.length;
  }

  /** Moves past the first `end` found `from` characters on (so always forward). */
  private skipPast(end: string, from: number): void {
    const i = this.s.indexOf(end, this.pos + from);
    if (i < 0) throw malformedXml();
    this.pos = i + end.length;
  }
}

/** An xs:boolean's forms (and, as Palisade always took them, TRUE and FALSE in any case). */
const XML_BOOLEAN = new Map([['true', true], ['false', false], ['1', true], ['0', false]]);

/** The child elements of `el` named `name`. */
const childrenNamed = (el: XmlElement, name: string) => el.children.filter((c) => c.name === name);

const BUCKET_SUBRESOURCES = new Set([
  'acl', 'policy', 'tagging', 'versioning', 'cors', 'lifecycle', 'encryption', 'logging', 'notification', 'replication', 'website',
  'accelerate', 'requestPayment', 'ownershipControls', 'publicAccessBlock', 'object-lock', 'analytics', 'inventory', 'metrics',
  'intelligent-tiering', 'policyStatus', 'uploads', 'versions', 'metadataTable', 'session',
]);
const OBJECT_SUBRESOURCES = new Set(['acl', 'tagging', 'uploads', 'uploadId', 'partNumber', 'legal-hold', 'retention', 'restore', 'select', 'attributes', 'torrent', 'versionId']);
const CHECKSUMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;

/** The pseudo-service used to authorize S3 calls under `--auth enforce`. */
const S3_DEF: ServiceDef = { name: 's3', model: { service: 's3', protocol: 'query', ops: {}, shapes: {}, errors: {} }, handlers: {} };

export function validBucketName(name: string): boolean {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !name.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(name)
    && !name.startsWith('xn--') && !name.endsWith('-s3alias') && !name.includes('.-') && !name.includes('-.');
}

export const canonicalUserId = (account: string) => crypto().createHash('sha256').update(`palisade:${account}`).digest('hex');

/** Longest framing line read: a chunk header with its chunk-signature, or a trailer, is ~100 bytes. */
const MAX_CHUNK_LINE = 4096;
/** A chunk size: hex digits, 16 at most (larger than any body anyway). */
const CHUNK_SIZE = /^[0-9A-Fa-f]{1,16}$/;

/**
 * Bodies sent with `Content-Encoding: aws-chunked` (streaming SigV4, or unsigned with trailers):
 * chunks `hex-size[;chunk-signature=…]` CRLF data CRLF, the last of size 0, then trailer lines
 * `name:value` CRLF and an empty line (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html).
 *
 * Total over any input: it returns, or throws an S3Error. S3 answers IncompleteBody "The request
 * body terminated unexpectedly" for every framing fault — a size that is not hex, a chunk longer
 * than the body, a missing CRLF, no end (versity/versitygw#1666 and its test
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
    if (size > buf.length - pos - 2) throw incompleteBody();
    const end = pos + size;
    if (buf[end] !== 0x0d || buf[end + 1] !== 0x0a) throw incompleteBody();
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
    if (!name) throw malformedTrailer();
    trailers[name] = line.slice(colon + 1).trim();
  }
  if (pos !== buf.length) throw incompleteBody(); // nothing may follow the end
  return { body: parts.length === 1 ? parts[0]! : Buffer.concat(parts), trailers };
}

/** The framing line at `pos`, without its CRLF, and where the next starts (2 bytes on at least). */
function chunkLine(buf: Buffer, pos: number): { line: string; next: number } {
  const eol = buf.subarray(pos, pos + MAX_CHUNK_LINE + 2).indexOf('\r\n');
  if (eol < 0) throw incompleteBody();
  return { line: buf.toString('latin1', pos, pos + eol), next: pos + eol + 2 };
}

function chunkSize(line: string): number {
  const semi = line.indexOf(';');
  const hex = semi < 0 ? line : line.slice(0, semi);
  if (!CHUNK_SIZE.test(hex)) throw incompleteBody();
  return parseInt(hex, 16);
}

/** Sizes of the checksums S3 takes, in bytes: a value must be their base64. */
const CHECKSUM_BYTES: Record<(typeof CHECKSUMS)[number], number> = { crc32: 4, crc32c: 4, crc64nvme: 8, sha1: 20, sha256: 32 };
const isBase64Of = (v: string, bytes: number) =>
  v.length === 4 * Math.ceil(bytes / 3) && /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === bytes;

/** What node:http can write as a header value (it throws on anything else). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Regions a LocationConstraint may name: the values of BucketLocationConstraint in S3's API model
 * (@aws-sdk/client-s3 3.1175), 'EU' being the legacy name of eu-west-1. us-east-1 is not one: it
 * is the absent constraint.
 */
const LOCATION_CONSTRAINTS = new Set([
  'EU', 'af-south-1', 'ap-east-1', 'ap-east-2', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1', 'ap-south-2',
  'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7',
  'ca-central-1', 'ca-west-1', 'cn-north-1', 'cn-northwest-1', 'eu-central-1', 'eu-central-2', 'eu-north-1', 'eu-south-1',
  'eu-south-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'il-central-1', 'me-central-1', 'me-south-1', 'mx-central-1', 'sa-east-1',
  'us-east-2', 'us-gov-east-1', 'us-gov-west-1', 'us-west-1', 'us-west-2',
]);

/** The URL of a request target for signature checks; one no URL parser takes is S3's InvalidURI. */
function requestUrl(target: string): URL {
  try {
    return new URL(target, 'http://localhost');
  } catch {
    throw new S3Error('InvalidURI', `Couldn't parse the specified URI.`, 400);
  }
}

function checksumOf(alg: string, body: Buffer): string | undefined {
  switch (alg) {
    case 'crc32': {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(zlib().crc32(body) >>> 0);
      return b.toString('base64');
    }
    case 'sha1': return crypto().createHash('sha1').update(body).digest('base64');
    case 'sha256': return crypto().createHash('sha256').update(body).digest('base64');
    default: return undefined; // crc32c / crc64nvme: kept as sent
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

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  body: Buffer;
  query: URLSearchParams;
  requestId: string;
  region: string;
  principal: Principal;
  account: string;
  now: number;
}

export class S3Api implements Extension {
  constructor(
    private readonly gateway: Gateway,
    readonly storage: S3Storage,
    private readonly log: Logger = createLogger(gateway.config.logLevel),
  ) {}

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
    try {
      // A region AWS does not have never becomes a scope of the state (every auth mode).
      if (!isKnownRegion(scope.region)) throw authError('rest', 'bad-region', scope.region);
      let accessKeyId = scope.accessKeyId;
      if (v2 !== undefined && config.auth && config.auth !== 'open') {
        // As S3 answers for every bucket created since June 2020.
        throw new S3Error('InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.', 400);
      }
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
      const principal = resolvePrincipal(store, accessKeyId, config.defaultAccount, partitionOf(scope.region));
      const { bucket, key } = this.target(req, rawPath);
      const call: Call = { req, res, body, query, requestId, region: scope.region, principal, account: principal.account, now: clock.now() };
      // S3 writes its rows straight through SQLite, answering at once: with no group-commit
      // transaction open, each write commits on its own before the answer goes out.
      if (req.method !== 'GET' && req.method !== 'HEAD') store.flush();
      this.route(call, bucket, key);
    } catch (e) {
      // Whatever a request holds, it is answered in S3's shape: its own error, or (a failure of
      // Palisade itself: a full disk, an I/O error) InternalError, logged — never a dropped call.
      if (!(e instanceof ApiError)) this.log.error(`s3 ${req.method} ${rawPath} failed: ${(e as Error).stack ?? e}`);
      this.fail(req, res, requestId, e instanceof ApiError ? e : internalError());
    }
    return true;
  }

  private target(req: IncomingMessage, rawPath: string): { bucket: string; key: string } {
    const dec = (s: string) => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw new S3Error('InvalidURI', `Couldn't parse the specified URI.`, 400);
      }
    };
    const host = String(req.headers.host ?? '').replace(/:\d+$/, '');
    const vh = /^([a-z0-9][a-z0-9.-]*[a-z0-9])\.localhost$/.exec(host);
    if (vh) return { bucket: vh[1]!, key: dec(rawPath.replace(/^\//, '')) };
    const path = rawPath.replace(/^\//, '');
    const slash = path.indexOf('/');
    if (slash < 0) return { bucket: dec(path), key: '' };
    return { bucket: dec(path.slice(0, slash)), key: dec(path.slice(slash + 1)) };
  }

  private authorize(c: Call, action: string, bucket?: string): void {
    const { config, store, clock } = this.gateway;
    if (config.auth !== 'enforce' || !this.gateway.authorizer) return;
    const tx = store.begin();
    const ctx: Ctx = {
      requestId: c.requestId, account: c.account, region: c.region, partition: partitionOf(c.region), scope: regional(c.account, c.region),
      accessKeyId: c.principal.accessKeyId, principal: c.principal, tx, store, clock, config, operation: action,
      sourceIp: c.req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1', userAgent: String(c.req.headers['user-agent'] ?? ''),
    };
    try {
      this.gateway.authorizer(ctx, S3_DEF, action, bucket ? { Bucket: bucket } : {});
    } catch (e) {
      if (e instanceof ApiError) throw new S3Error('AccessDenied', e.message, 403);
      throw e;
    } finally {
      tx.rollback();
    }
  }

  private route(c: Call, bucket: string, key: string): void {
    const m = c.req.method ?? 'GET';
    const q = c.query;
    // The query's own keys, without those of a presigned URL's signature.
    const keys = [...q.keys()].filter((k) => !/^(X-Amz-|x-amz-)/.test(k) && k !== 'AWSAccessKeyId' && k !== 'Signature' && k !== 'Expires');
    if (bucket === '') {
      if (m === 'GET') return this.listBuckets(c);
      throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405, { Method: m, ResourceType: 'SERVICE' });
    }
    if (key === '') {
      if (m === 'PUT' && keys.length === 0) return this.createBucket(c, bucket);
      if (m === 'HEAD') return this.headBucket(c, bucket);
      if (m === 'DELETE' && keys.length === 0) return this.deleteBucket(c, bucket);
      if (m === 'GET' && q.has('location')) return this.bucketLocation(c, bucket);
      if (m === 'POST' && q.has('delete')) return this.deleteObjects(c, bucket);
      if (m === 'GET' && !keys.some((k) => BUCKET_SUBRESOURCES.has(k))) return q.get('list-type') === '2' ? this.listV2(c, bucket) : this.listV1(c, bucket);
      throw notImplemented();
    }
    if (keys.some((k) => OBJECT_SUBRESOURCES.has(k)) || header(c.req, 'x-amz-copy-source')) throw notImplemented();
    if (m === 'PUT') return this.putObject(c, bucket, key);
    if (m === 'GET' || m === 'HEAD') return this.getObject(c, bucket, key, m === 'HEAD');
    if (m === 'DELETE') return this.deleteObject(c, bucket, key);
    throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405, { Method: m, ResourceType: 'OBJECT' });
  }

  /** The caller's own bucket, or NoSuchBucket / AccessDenied. */
  private own(c: Call, name: string): BucketRow {
    const b = this.storage.bucket(name);
    if (!b) throw noSuchBucket(name);
    if (b.account !== c.account) throw accessDenied();
    return b;
  }

  private send(c: Call, status: number, xml?: string, headers: Record<string, string | number> = {}): void {
    if (xml === undefined) {
      c.res.writeHead(status, { 'content-length': 0, ...headers });
      c.res.end();
      return;
    }
    const text = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
    c.res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(text), ...headers });
    c.res.end(c.req.method === 'HEAD' ? undefined : text);
  }

  private fail(req: IncomingMessage, res: ServerResponse, requestId: string, e: ApiError): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    if (req.method === 'HEAD') {
      res.writeHead(e.status, { 'content-length': 0 });
      res.end();
      return;
    }
    const extra = e instanceof S3Error ? Object.entries(e.extra).map(([k, v]) => `<${k}>${xmlEscape(String(v))}</${k}>`).join('') : '';
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(e.code)}</Code><Message>${xmlEscape(e.message)}</Message>${extra}`
      + `<RequestId>${xmlEscape(requestId)}</RequestId><HostId>${xmlEscape(String(res.getHeader('x-amz-id-2') ?? ''))}</HostId></Error>`;
    res.writeHead(e.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
    res.end(xml);
  }

  private owner(account: string): string {
    return `<Owner><ID>${canonicalUserId(account)}</ID><DisplayName>${xmlEscape(account)}</DisplayName></Owner>`;
  }

  // ---- buckets ----

  private listBuckets(c: Call): void {
    this.authorize(c, 'ListAllMyBuckets');
    const items = this.storage.buckets(c.account).map((b) =>
      `<Bucket><Name>${xmlEscape(b.name)}</Name><CreationDate>${new Date(b.created).toISOString()}</CreationDate><BucketRegion>${xmlEscape(b.region)}</BucketRegion></Bucket>`).join('');
    this.send(c, 200, `<ListAllMyBucketsResult xmlns="${NS}">${this.owner(c.account)}<Buckets>${items}</Buckets></ListAllMyBucketsResult>`);
  }

  private createBucket(c: Call, name: string): void {
    this.authorize(c, 'CreateBucket', name);
    if (!validBucketName(name)) throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.', 400, { BucketName: name });
    const region = this.bucketRegion(c, readXml(c.body));
    const existing = this.storage.bucket(name);
    if (existing) {
      if (existing.account !== c.account) {
        throw new S3Error('BucketAlreadyExists', 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.', 409, { BucketName: name });
      }
      // Legacy behaviour of us-east-1: re-creating your own bucket there succeeds.
      if (!(existing.region === 'us-east-1' && region === 'us-east-1')) {
        throw new S3Error('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', 409, { BucketName: name });
      }
    } else {
      this.storage.createBucket({ name, account: c.account, region, created: c.now });
    }
    this.send(c, 200, undefined, { location: `/${name}` });
  }

  /**
   * The region of a new bucket, from the request's CreateBucketConfiguration (or none): its
   * LocationConstraint must be a region S3 knows other than us-east-1, which is the absent
   * constraint (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucketConfiguration.html;
   * S3 answers InvalidLocationConstraint to an explicit us-east-1, as boto/boto3#125 and
   * minio/minio-py#166 record), and the region the request was signed for unless that is
   * us-east-1, whose endpoint creates buckets in any region.
   */
  private bucketRegion(c: Call, config: XmlElement | null): string {
    if (config && config.name !== 'CreateBucketConfiguration') throw malformedXml();
    const constraints = config ? childrenNamed(config, 'LocationConstraint') : [];
    if (constraints.length > 1) throw malformedXml();
    const lc = constraints[0]?.text.trim() ?? '';
    const region = lc === 'EU' ? 'eu-west-1' : lc || 'us-east-1';
    if (lc && (lc === 'us-east-1' || !LOCATION_CONSTRAINTS.has(lc))) {
      throw new S3Error('InvalidLocationConstraint', 'The specified location-constraint is not valid', 400, { LocationConstraint: lc });
    }
    if (c.region !== 'us-east-1' && region !== c.region) {
      throw new S3Error('IllegalLocationConstraintException', lc
        ? `The ${lc} location constraint is incompatible for the region specific endpoint this request was sent to.`
        : 'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.', 400);
    }
    return region;
  }

  private headBucket(c: Call, name: string): void {
    this.authorize(c, 'ListBucket', name);
    const b = this.own(c, name);
    this.send(c, 200, undefined, { 'x-amz-bucket-region': b.region, 'x-amz-access-point-alias': 'false' });
  }

  private bucketLocation(c: Call, name: string): void {
    this.authorize(c, 'GetBucketLocation', name);
    const b = this.own(c, name);
    this.send(c, 200, `<LocationConstraint xmlns="${NS}">${b.region === 'us-east-1' ? '' : xmlEscape(b.region)}</LocationConstraint>`);
  }

  private deleteBucket(c: Call, name: string): void {
    this.authorize(c, 'DeleteBucket', name);
    const b = this.own(c, name);
    if (!this.storage.isEmpty(name)) throw new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409, { BucketName: name });
    this.storage.deleteBucket(b);
    this.send(c, 204);
  }

  // ---- listing ----

  private maxKeys(c: Call): number {
    const raw = c.query.get('max-keys');
    if (raw === null || raw === '') return 1000;
    if (!/^\d+$/.test(raw) || Number(raw) > 2147483647) throw invalidArgument('Provided max-keys not an integer or within integer range', 'max-keys', raw);
    return Math.min(Number(raw), 1000);
  }

  /** Walks keys after `after` under `prefix`, rolling keys up to common prefixes at `delimiter`. */
  private walk(bucket: string, prefix: string, delimiter: string, after: string, max: number) {
    const contents: ObjectRow[] = [];
    const prefixes: string[] = [];
    let truncated = false;
    let last: string | undefined;
    for (const o of this.storage.list(bucket, prefix, after)) {
      let cp: string | undefined;
      if (delimiter) {
        const i = o.key.indexOf(delimiter, prefix.length);
        if (i >= 0) cp = o.key.slice(0, i + delimiter.length);
      }
      if (cp !== undefined && (cp === last || cp === after)) continue;
      if (contents.length + prefixes.length >= max) {
        truncated = max > 0;
        break;
      }
      if (cp !== undefined) prefixes.push(cp);
      else contents.push(o);
      last = cp ?? o.key;
    }
    return { contents, prefixes, truncated, last };
  }

  private contentsXml(o: ObjectRow, enc: (s: string) => string, owner?: string): string {
    return `<Contents><Key>${enc(o.key)}</Key><LastModified>${new Date(o.modified).toISOString()}</LastModified><ETag>&quot;${o.etag}&quot;</ETag>`
      + `${o.info.checksums ? Object.keys(o.info.checksums).map((a) => `<ChecksumAlgorithm>${a.toUpperCase()}</ChecksumAlgorithm>`).join('') : ''}`
      + `<Size>${o.size}</Size>${owner ?? ''}<StorageClass>STANDARD</StorageClass></Contents>`;
  }

  private encoder(c: Call): { enc: (s: string) => string; tag: string } {
    const et = c.query.get('encoding-type');
    if (et !== null && et !== 'url') throw invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', et);
    if (et === 'url') return { enc: (s) => xmlEscape(encodeURIComponent(s).replace(/%2F/g, '/')), tag: '<EncodingType>url</EncodingType>' };
    return { enc: xmlEscape, tag: '' };
  }

  private listV2(c: Call, name: string): void {
    this.authorize(c, 'ListBucket', name);
    this.own(c, name);
    const q = c.query;
    const max = this.maxKeys(c);
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const startAfter = q.get('start-after') ?? '';
    const token = q.get('continuation-token');
    let after = startAfter;
    if (token !== null) {
      const decoded = Buffer.from(token, 'base64').toString('utf8');
      if (!decoded.startsWith('v2\u0000')) throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
      after = decoded.slice(3);
    }
    const { enc, tag } = this.encoder(c);
    const r = this.walk(name, prefix, delimiter, after, max);
    const owner = q.get('fetch-owner') === 'true' ? this.owner(c.account) : undefined;
    const next = r.truncated && r.last !== undefined ? Buffer.from(`v2\u0000${r.last}`).toString('base64') : undefined;
    const xml = `<ListBucketResult xmlns="${NS}"><Name>${xmlEscape(name)}</Name><Prefix>${enc(prefix)}</Prefix>`
      + `${delimiter ? `<Delimiter>${enc(delimiter)}</Delimiter>` : ''}<MaxKeys>${max}</MaxKeys>${tag}`
      + `<KeyCount>${r.contents.length + r.prefixes.length}</KeyCount><IsTruncated>${r.truncated}</IsTruncated>`
      + `${token !== null ? `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>` : ''}`
      + `${next ? `<NextContinuationToken>${next}</NextContinuationToken>` : ''}`
      + `${startAfter ? `<StartAfter>${enc(startAfter)}</StartAfter>` : ''}`
      + r.contents.map((o) => this.contentsXml(o, enc, owner)).join('')
      + r.prefixes.map((p) => `<CommonPrefixes><Prefix>${enc(p)}</Prefix></CommonPrefixes>`).join('')
      + '</ListBucketResult>';
    this.send(c, 200, xml);
  }

  private listV1(c: Call, name: string): void {
    this.authorize(c, 'ListBucket', name);
    this.own(c, name);
    const q = c.query;
    const max = this.maxKeys(c);
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const marker = q.get('marker') ?? '';
    const { enc, tag } = this.encoder(c);
    const r = this.walk(name, prefix, delimiter, marker, max);
    const owner = this.owner(c.account);
    const xml = `<ListBucketResult xmlns="${NS}"><Name>${xmlEscape(name)}</Name><Prefix>${enc(prefix)}</Prefix><Marker>${enc(marker)}</Marker>`
      + `${r.truncated && delimiter && r.last !== undefined ? `<NextMarker>${enc(r.last)}</NextMarker>` : ''}`
      + `<MaxKeys>${max}</MaxKeys>${delimiter ? `<Delimiter>${enc(delimiter)}</Delimiter>` : ''}${tag}<IsTruncated>${r.truncated}</IsTruncated>`
      + r.contents.map((o) => this.contentsXml(o, enc, owner)).join('')
      + r.prefixes.map((p) => `<CommonPrefixes><Prefix>${enc(p)}</Prefix></CommonPrefixes>`).join('')
      + '</ListBucketResult>';
    this.send(c, 200, xml);
  }

  // ---- objects ----

  private putObject(c: Call, bucketName: string, key: string): void {
    this.authorize(c, 'PutObject', bucketName);
    const b = this.own(c, bucketName);
    if (Buffer.byteLength(key) > 1024) throw new S3Error('KeyTooLongError', 'Your key is too long', 400);
    const req = c.req;
    let body = c.body;
    let trailers: Record<string, string> = {};
    const encoding = (header(req, 'content-encoding') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const sha = header(req, 'x-amz-content-sha256') ?? '';
    if (encoding.includes('aws-chunked') || sha.startsWith('STREAMING-')) {
      // S3 requires x-amz-decoded-content-length; Palisade checks it when sent. Not a number:
      // MissingContentLength; not the decoded size: IncompleteBody with both counts (as S3
      // answers: versity/versitygw#1684 and its tests _missing_invalid_dec_content_length and
      // _content_length_payload_size_mismatch, checked against S3).
      const declared = header(req, 'x-amz-decoded-content-length');
      if (declared !== undefined && !/^\d{1,16}$/.test(declared)) throw new S3Error('MissingContentLength', 'You must provide the Content-Length HTTP header.', 411);
      ({ body, trailers } = decodeAwsChunked(body));
      if (declared !== undefined && Number(declared) !== body.length) {
        throw new S3Error('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header', 400,
          { NumberBytesExpected: Number(declared), NumberBytesProvided: body.length });
      }
    }
    const md5 = header(req, 'content-md5');
    if (md5 !== undefined) {
      if (!/^[A-Za-z0-9+/]{22}==$/.test(md5)) throw new S3Error('InvalidDigest', 'The Content-MD5 you specified was invalid.', 400);
      if (crypto().createHash('md5').update(body).digest('base64') !== md5) throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400);
    }
    const checksums: Record<string, string> = {};
    for (const alg of CHECKSUMS) {
      const sent = header(req, `x-amz-checksum-${alg}`);
      const v = sent ?? trailers[`x-amz-checksum-${alg}`];
      if (v === undefined) continue;
      // Only a well-formed value is kept (and sent back as a header): as S3 answers otherwise.
      if (!isBase64Of(v, CHECKSUM_BYTES[alg])) {
        throw new S3Error('InvalidRequest', `Value for x-amz-checksum-${alg} ${sent !== undefined ? 'header' : 'trailing header'} is invalid.`, 400);
      }
      const actual = checksumOf(alg, body);
      if (actual !== undefined && actual !== v) {
        throw new S3Error('BadDigest', `The ${alg.toUpperCase()} you specified did not match the calculated checksum.`, 400);
      }
      checksums[alg] = v;
    }
    const meta: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (k.startsWith('x-amz-meta-') && v !== undefined) meta[k.slice('x-amz-meta-'.length)] = Array.isArray(v) ? v.join(',') : v;
    }
    const ce = encoding.filter((e) => e !== 'aws-chunked').join(', ');
    const info: ObjectInfo = {
      contentType: header(req, 'content-type') || 'binary/octet-stream',
      ...(ce ? { contentEncoding: ce } : {}),
      ...(header(req, 'content-disposition') ? { contentDisposition: header(req, 'content-disposition') } : {}),
      ...(header(req, 'content-language') ? { contentLanguage: header(req, 'content-language') } : {}),
      ...(header(req, 'cache-control') ? { cacheControl: header(req, 'cache-control') } : {}),
      ...(header(req, 'expires') ? { expires: header(req, 'expires') } : {}),
      ...(Object.keys(meta).length ? { meta } : {}),
      ...(Object.keys(checksums).length ? { checksums } : {}),
    };
    const row = this.storage.put(b, key, body, info, c.now);
    const out: Record<string, string> = { etag: `"${row.etag}"` };
    for (const [alg, v] of Object.entries(checksums)) out[`x-amz-checksum-${alg}`] = v;
    this.send(c, 200, undefined, out);
  }

  private getObject(c: Call, bucketName: string, key: string, head: boolean): void {
    this.authorize(c, 'GetObject', bucketName);
    const b = this.own(c, bucketName);
    const o = this.storage.head(bucketName, key);
    if (!o) throw noSuchKey(key);
    const req = c.req;
    const etag = `"${o.etag}"`;
    const lastModified = new Date(Math.floor(o.modified / 1000) * 1000);
    const ifMatch = header(req, 'if-match');
    const ifNoneMatch = header(req, 'if-none-match');
    const ifModifiedSince = Date.parse(header(req, 'if-modified-since') ?? '');
    const ifUnmodifiedSince = Date.parse(header(req, 'if-unmodified-since') ?? '');
    const etagIn = (list: string) => list.split(',').map((s) => s.trim()).some((t) => t === '*' || t === etag || t === o.etag);
    if (ifMatch !== undefined && !etagIn(ifMatch)) throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, { Condition: 'If-Match' });
    if (ifMatch === undefined && !Number.isNaN(ifUnmodifiedSince) && lastModified.getTime() > ifUnmodifiedSince) {
      throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, { Condition: 'If-Unmodified-Since' });
    }
    const headers: Record<string, string | number> = { etag, 'last-modified': lastModified.toUTCString(), 'accept-ranges': 'bytes' };
    const opt = (h: string, v: string | undefined, override: string) => {
      const x = c.query.get(override) ?? v;
      if (x === undefined) return;
      // A query value can hold what no header can: node:http would throw at writeHead.
      if (!HEADER_VALUE.test(x)) throw invalidArgument('Header value cannot be represented using ISO-8859-1.', override, x);
      headers[h] = x;
    };
    opt('content-type', o.info.contentType ?? 'binary/octet-stream', 'response-content-type');
    opt('content-encoding', o.info.contentEncoding, 'response-content-encoding');
    opt('content-disposition', o.info.contentDisposition, 'response-content-disposition');
    opt('content-language', o.info.contentLanguage, 'response-content-language');
    opt('cache-control', o.info.cacheControl, 'response-cache-control');
    opt('expires', o.info.expires, 'response-expires');
    for (const [k, v] of Object.entries(o.info.meta ?? {})) headers[`x-amz-meta-${k}`] = v;
    if ((ifNoneMatch !== undefined && etagIn(ifNoneMatch)) || (ifNoneMatch === undefined && !Number.isNaN(ifModifiedSince) && lastModified.getTime() <= ifModifiedSince)) {
      delete headers['content-type'];
      this.send(c, 304, undefined, headers);
      return;
    }
    let start = 0;
    let end = o.size - 1;
    let partial = false;
    const range = /^bytes=(\d*)-(\d*)$/.exec((header(req, 'range') ?? '').trim());
    if (range && (range[1] !== '' || range[2] !== '')) {
      if (range[1] === '') {
        start = Math.max(0, o.size - Number(range[2]));
      } else {
        start = Number(range[1]);
        if (range[2] !== '') end = Math.min(Number(range[2]), o.size - 1);
      }
      if (start >= o.size || (range[1] !== '' && range[2] !== '' && Number(range[2]) < start) || (range[1] === '' && Number(range[2]) === 0)) {
        throw new S3Error('InvalidRange', 'The requested range is not satisfiable', 416, { RangeRequested: range[0]!.replace('bytes=', 'bytes='), ActualObjectSize: o.size });
      }
      partial = true;
      headers['content-range'] = `bytes ${start}-${end}/${o.size}`;
    } else if (header(req, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
      for (const [alg, v] of Object.entries(o.info.checksums ?? {})) headers[`x-amz-checksum-${alg}`] = v;
    }
    const length = o.size === 0 ? 0 : end - start + 1;
    headers['content-length'] = length;
    // Read before the status goes out: a body that cannot be read is then still an error answer.
    const body = head ? undefined : this.storage.body(b, o);
    c.res.writeHead(partial ? 206 : 200, headers);
    c.res.end(body && partial ? body.subarray(start, end + 1) : body);
  }

  private deleteObject(c: Call, bucketName: string, key: string): void {
    this.authorize(c, 'DeleteObject', bucketName);
    const b = this.own(c, bucketName);
    this.storage.delete(b, key);
    this.send(c, 204);
  }

  private deleteObjects(c: Call, bucketName: string): void {
    this.authorize(c, 'DeleteObject', bucketName);
    const b = this.own(c, bucketName);
    const doc = readXml(c.body);
    if (!doc || doc.name !== 'Delete') throw malformedXml();
    const objects = childrenNamed(doc, 'Object');
    if (objects.length > 1000) throw malformedXml();
    const keys = objects.map((o) => {
      const key = childrenNamed(o, 'Key');
      if (key.length !== 1) throw malformedXml(); // ObjectIdentifier: Key required, once
      return key[0]!.text;
    });
    const quietEl = childrenNamed(doc, 'Quiet');
    if (quietEl.length > 1) throw malformedXml();
    const quiet = XML_BOOLEAN.get(quietEl[0]?.text.trim().toLowerCase() ?? 'false');
    if (quiet === undefined) throw malformedXml();
    for (const k of keys) this.storage.delete(b, k);
    const deleted = quiet ? '' : keys.map((k) => `<Deleted><Key>${xmlEscape(k)}</Key></Deleted>`).join('');
    this.send(c, 200, `<DeleteResult xmlns="${NS}">${deleted}</DeleteResult>`);
  }
}
