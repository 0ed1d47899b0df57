// The built-in S3 against hostile input: aws-chunked framing.
// Every request is answered in S3's shape (status, error code, XML body) within a bounded time
// (AbortSignal.timeout is the hang detector, never a timing assertion), the server still answers
// /_palisade/health afterwards, and the buckets and objects are as they were.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CreateBucketCommand, DeleteObjectsCommand, GetObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { CREDS, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import { decodeAwsChunked, S3Error } from '../src/services/s3/index.ts';

const TIMEOUT = 10_000;
/** An unsigned SigV4 header: with `--auth open` it routes the request to S3, for that region. */
const auth = (region = 'us-east-1') =>
  `AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/${region}/s3/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`;
const s3Client = (url: string, region = 'us-east-1') =>
  new S3Client({ endpoint: url, region, credentials: CREDS, forcePathStyle: true, maxAttempts: 1 });

/** A raw request (what the SDK cannot send), bounded in time. */
function send(url: string, method: string, path: string, opts: { headers?: Record<string, string>; body?: Buffer | string; region?: string } = {}) {
  const body = opts.body === undefined ? undefined : Uint8Array.from(typeof opts.body === 'string' ? Buffer.from(opts.body) : opts.body);
  return fetch(`${url}${path}`, {
    method, body, signal: AbortSignal.timeout(TIMEOUT),
    headers: { authorization: auth(opts.region), ...opts.headers },
  });
}

/** Asserts an S3 XML error answer and returns its body. */
async function s3Error(res: Response, status: number, code: string): Promise<string> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/xml/, text);
  assert.match(text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>/, text);
  assert.equal(/<Code>([^<]*)<\/Code>/.exec(text)?.[1], code, text);
  return text;
}

async function healthy(url: string): Promise<void> {
  const res = await fetch(`${url}/_palisade/health`, { signal: AbortSignal.timeout(TIMEOUT) });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { status: string }).status, 'ok');
}

/** Every bucket of the account with its region and objects (key, ETag, size), through the SDK. */
async function snapshot(s3: S3Client): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const b of (await s3.send(new ListBucketsCommand({}))).Buckets ?? []) {
    const objects = (await s3.send(new ListObjectsV2Command({ Bucket: b.Name }))).Contents ?? [];
    out[b.Name!] = { region: b.BucketRegion, objects: objects.map((o) => `${o.Key} ${o.ETag} ${o.Size}`) };
  }
  return out;
}

/**
 * Runs `fn` (hostile requests), then checks the server is healthy (`alive`: its health endpoint
 * unless told otherwise) and nothing changed.
 */
async function unchanged(url: string, s3: S3Client, fn: () => Promise<void>, alive = () => healthy(url)): Promise<void> {
  const before = await snapshot(s3);
  await fn();
  await alive();
  assert.deepEqual(await snapshot(s3), before);
}

/** An aws-chunked body: the payload cut at `cuts`, each chunk optionally signed, then trailers. */
function chunked(payload: Buffer, cuts: number[] = [], opts: { signature?: boolean; trailers?: Record<string, string> } = {}): Buffer {
  const ext = opts.signature ? `;chunk-signature=${'a'.repeat(64)}` : '';
  const bounds = [0, ...[...new Set(cuts.filter((c) => c > 0 && c < payload.length))].sort((a, b) => a - b), payload.length];
  const parts: Buffer[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const data = payload.subarray(bounds[i], bounds[i + 1]);
    if (data.length) parts.push(Buffer.from(`${data.length.toString(16)}${ext}\r\n`), data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`0${ext}\r\n`));
  for (const [k, v] of Object.entries(opts.trailers ?? {})) parts.push(Buffer.from(`${k}:${v}\r\n`));
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

const CHUNKED = { 'content-encoding': 'aws-chunked', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' };

let server: Palisade;
let s3: S3Client;
before(async () => {
  server = await start();
  s3 = s3Client(server.url);
  await s3.send(new CreateBucketCommand({ Bucket: 'hard' }));
  await s3.send(new PutObjectCommand({ Bucket: 'hard', Key: 'keep.txt', Body: 'kept' }));
});
after(async () => server.close());

describe('aws-chunked bodies (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html)', () => {
  it('a negative chunk size (-6) is IncompleteBody at once, not a decoder moving backwards forever', async () => {
    await unchanged(server.url, s3, async () => {
      for (const body of ['-6\r\n', '5\r\nhello\r\n-6\r\nxx\r\n0\r\n\r\n']) {
        const res = await send(server.url, 'PUT', '/hard/neg', { headers: CHUNKED, body });
        await s3Error(res, 400, 'IncompleteBody');
      }
    });
  });

  // S3 answers IncompleteBody "The request body terminated unexpectedly" to every framing fault:
  // versity/versitygw#1666 and its test UnsignedStreamingPayloadTrailer_incomplete_body (run against S3).
  it('every malformed framing is IncompleteBody "The request body terminated unexpectedly" (versity/versitygw#1666)', async () => {
    const cases: [string, string | Buffer][] = [
      ['size not hex', 'zz\r\nhello\r\n0\r\n\r\n'],
      ['empty size line', '\r\nhello\r\n0\r\n\r\n'],
      ['size with a sign', '+5\r\nhello\r\n0\r\n\r\n'],
      ['size with spaces', ' 5\r\nhello\r\n0\r\n\r\n'],
      ['size line without CRLF', 'A\ndummy data\r\n0\r\n\r\n'],
      ['data not followed by CRLF', 'A\r\ndummy data0\r\n\r\n'],
      ['chunk shorter than declared', 'B\r\ndummy data\r\n0\r\n\r\n'],
      ['chunk longer than the body', 'ffff\r\nhello\r\n0\r\n\r\n'],
      ['huge size', 'ffffffffffffffff\r\nhello\r\n0\r\n\r\n'],
      ['absurdly long size line', `${'0'.repeat(100_000)}5\r\nhello\r\n0\r\n\r\n`],
      ['size past 16 hex digits', `${'0'.repeat(17)}\r\n\r\n`],
      ['no final empty line', 'A\r\ndummy data\r\n0\r\n'],
      ['trailer without its empty line', 'A\r\ndummy data\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n'],
      ['only a header', 'A\r\n'],
      ['nothing', ''],
      ['bytes after the end', 'A\r\ndummy data\r\n0\r\n\r\nmore'],
      ['binary noise', Buffer.from([0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a, 0xfe])],
    ];
    await unchanged(server.url, s3, async () => {
      for (const [what, body] of cases) {
        const res = await send(server.url, 'PUT', '/hard/bad', { headers: CHUNKED, body });
        const text = await s3Error(res, 400, 'IncompleteBody');
        assert.match(text, /<Message>The request body terminated unexpectedly<\/Message>/, what);
      }
    });
  });

  it('a trailer that is not name:value is MalformedTrailerError', async () => {
    await unchanged(server.url, s3, async () => {
      for (const trailer of ['no-colon-here', ':value-without-name']) {
        const body = `5\r\nhello\r\n0\r\n${trailer}\r\n\r\n`;
        await s3Error(await send(server.url, 'PUT', '/hard/bad', { headers: CHUNKED, body }), 400, 'MalformedTrailerError');
      }
    });
  });

  // x-amz-decoded-content-length: S3 answers IncompleteBody with both counts when it is not the
  // decoded size, MissingContentLength when it is not a number (versity/versitygw#1684; tests
  // UnsignedStreamingPayloadTrailer_content_length_payload_size_mismatch and _missing_invalid_dec_content_length).
  it('x-amz-decoded-content-length must be a number and the decoded size (versity/versitygw#1684)', async () => {
    const body = chunked(Buffer.from('hello'));
    await unchanged(server.url, s3, async () => {
      for (const declared of ['3', '200']) {
        const res = await send(server.url, 'PUT', '/hard/len', { headers: { ...CHUNKED, 'x-amz-decoded-content-length': declared }, body });
        const text = await s3Error(res, 400, 'IncompleteBody');
        assert.match(text, /<Message>You did not provide the number of bytes specified by the Content-Length HTTP header<\/Message>/);
        assert.match(text, new RegExp(`<NumberBytesExpected>${declared}</NumberBytesExpected><NumberBytesProvided>5</NumberBytesProvided>`));
      }
      for (const declared of ['abc', '12x', '-5', '1e3']) {
        const res = await send(server.url, 'PUT', '/hard/len', { headers: { ...CHUNKED, 'x-amz-decoded-content-length': declared }, body });
        await s3Error(res, 411, 'MissingContentLength');
      }
    });
  });

  it('a checksum that is not the base64 of its size is InvalidRequest, from a header or a trailer', async () => {
    await unchanged(server.url, s3, async () => {
      let res = await send(server.url, 'PUT', '/hard/sum', { headers: { ...CHUNKED }, body: chunked(Buffer.from('hello'), [], { trailers: { 'x-amz-checksum-crc32c': 'not\u0001base64' } }) });
      let text = await s3Error(res, 400, 'InvalidRequest');
      assert.match(text, /Value for x-amz-checksum-crc32c trailing header is invalid\./);
      res = await send(server.url, 'PUT', '/hard/sum', { headers: { 'x-amz-checksum-crc64nvme': 'AAAA' }, body: 'hello' });
      text = await s3Error(res, 400, 'InvalidRequest');
      assert.match(text, /Value for x-amz-checksum-crc64nvme header is invalid\./);
    });
  });

  it('well-formed framings still decode: several chunks, chunk signatures, trailers checked', async () => {
    const payload = Buffer.from('The quick brown fox jumps over the lazy dog');
    const crc32 = Buffer.alloc(4);
    crc32.writeUInt32BE((await import('node:zlib')).crc32(payload) >>> 0);
    const bodies = [
      chunked(payload, [3, 10, 11]),
      chunked(payload, [20], { signature: true }),
      chunked(payload, [], { trailers: { 'x-amz-checksum-crc32': crc32.toString('base64') } }),
    ];
    for (const [i, body] of bodies.entries()) {
      const res = await send(server.url, 'PUT', `/hard/ok-${i}`, { headers: { ...CHUNKED, 'x-amz-decoded-content-length': String(payload.length) }, body });
      assert.equal(res.status, 200, await res.text());
      const got = await s3.send(new GetObjectCommand({ Bucket: 'hard', Key: `ok-${i}` }));
      assert.equal(await got.Body!.transformToString(), payload.toString());
      assert.equal(got.ContentEncoding, undefined, 'aws-chunked is not kept as the object\'s encoding');
    }
    const wrong = chunked(payload, [], { trailers: { 'x-amz-checksum-crc32': 'AAAAAA==' } });
    await s3Error(await send(server.url, 'PUT', '/hard/ok-x', { headers: CHUNKED, body: wrong }), 400, 'BadDigest');
    await s3.send(new DeleteObjectsCommand({ Bucket: 'hard', Delete: { Objects: bodies.map((_, i) => ({ Key: `ok-${i}` })) } }));
  });

  it('property: over any bytes decodeAwsChunked returns (no more than it was given) or throws an S3Error', () => {
    const piece = fc.oneof(
      fc.constantFrom('\r\n', '\r', '\n', '0', '5', '-6', 'ff', 'FFFFFFFFFFFFFFFF', ';chunk-signature=ab', ':', 'x-amz-checksum-crc32:AAAAAA==', 'hello'),
      fc.string({ maxLength: 8 }),
    );
    // Well-formed encodings with a few bytes overwritten: near misses reach the deeper checks.
    const mutated = fc.tuple(
      fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(300), { maxLength: 4 }), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 }),
    ).map(([bytes, cuts, flips]) => {
      const buf = chunked(Buffer.from(bytes), cuts, { trailers: { 'x-amz-checksum-crc32': 'AAAAAA==' } });
      for (const [at, byte] of flips) buf[at % buf.length] = byte;
      return buf;
    });
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      fc.array(piece, { maxLength: 40 }).map((p) => Buffer.from(p.join(''), 'latin1')),
      mutated,
    );
    fc.assert(fc.property(input, (buf) => {
      try {
        const { body } = decodeAwsChunked(buf);
        assert.ok(body.length <= buf.length);
      } catch (e) {
        assert.ok(e instanceof S3Error, `not an S3Error: ${String(e)}`);
        assert.equal(e.status, 400);
      }
    }), { numRuns: 3000 });
  });

  it('property: a well-formed encoding of any payload decodes to that payload and its trailers', () => {
    const trailerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
    const trailerValue = fc.stringMatching(/^[A-Za-z0-9+/=]{0,40}$/);
    fc.assert(fc.property(
      fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(2000), { maxLength: 10 }), fc.boolean(), fc.dictionary(trailerName, trailerValue, { maxKeys: 3 }),
      (bytes, cuts, signature, trailers) => {
        const payload = Buffer.from(bytes);
        const out = decodeAwsChunked(chunked(payload, cuts, { signature, trailers }));
        assert.ok(out.body.equals(payload));
        assert.deepEqual({ ...out.trailers }, { ...trailers });
      },
    ), { numRuns: 500 });
  });
});

