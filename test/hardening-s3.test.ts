// The built-in S3 against hostile input: framing, XML, headers, query values and a failing disk.
// Every request is answered in S3's shape (status, error code, XML body) within a bounded time
// (AbortSignal.timeout is the hang detector, never a timing assertion), the server still answers
// /_palisade/health afterwards, and the buckets and objects are as they were.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CREDS, start } from './helpers/server.ts';
import { DEFAULTS, type Palisade } from '../src/server.ts';
import { decodeAwsChunked, s3Service, S3Error } from '../src/services/s3/index.ts';
import { S3Storage, type BlobFs } from '../src/services/s3/storage.ts';
import { Store } from '../src/store/store.ts';
import { Gateway } from '../src/gateway/server.ts';
import { authorize } from '../src/auth/authorize.ts';
import { SystemClock } from '../src/core/clock.ts';
import { createLogger } from '../src/core/log.ts';

const TIMEOUT = 10_000;
/** An unsigned SigV4 header: with `--auth open` it routes the request to S3, for that region. */
const auth = (region = 'us-east-1') =>
  `AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/${region}/s3/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`;
const s3Client = (url: string, region = 'us-east-1') =>
  new S3Client({ endpoint: url, region, credentials: CREDS, forcePathStyle: true, maxAttempts: 1 });

/** A raw request (what the SDK cannot send), bounded in time. */
function send(
  url: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: Buffer | string; region?: string } = {},
) {
  const body = opts.body === undefined ? undefined : Uint8Array.from(typeof opts.body === 'string' ? Buffer.from(opts.body) : opts.body);
  return fetch(`${url}${path}`, {
    method,
    body,
    signal: AbortSignal.timeout(TIMEOUT),
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
        assert.match(
          text,
          new RegExp(`<NumberBytesExpected>${declared}</NumberBytesExpected><NumberBytesProvided>5</NumberBytesProvided>`),
        );
      }
      for (const declared of ['abc', '12x', '-5', '1e3']) {
        const res = await send(server.url, 'PUT', '/hard/len', { headers: { ...CHUNKED, 'x-amz-decoded-content-length': declared }, body });
        await s3Error(res, 411, 'MissingContentLength');
      }
    });
  });

  it('a checksum that is not the base64 of its size is InvalidRequest, from a header or a trailer', async () => {
    await unchanged(server.url, s3, async () => {
      let res = await send(server.url, 'PUT', '/hard/sum', {
        headers: { ...CHUNKED },
        body: chunked(Buffer.from('hello'), [], { trailers: { 'x-amz-checksum-crc32c': 'not\u0001base64' } }),
      });
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
      const res = await send(server.url, 'PUT', `/hard/ok-${i}`, {
        headers: { ...CHUNKED, 'x-amz-decoded-content-length': String(payload.length) },
        body,
      });
      assert.equal(res.status, 200, await res.text());
      const got = await s3.send(new GetObjectCommand({ Bucket: 'hard', Key: `ok-${i}` }));
      assert.equal(await got.Body!.transformToString(), payload.toString());
      assert.equal(got.ContentEncoding, undefined, "aws-chunked is not kept as the object's encoding");
    }
    const wrong = chunked(payload, [], { trailers: { 'x-amz-checksum-crc32': 'AAAAAA==' } });
    await s3Error(await send(server.url, 'PUT', '/hard/ok-x', { headers: CHUNKED, body: wrong }), 400, 'BadDigest');
    await s3.send(new DeleteObjectsCommand({ Bucket: 'hard', Delete: { Objects: bodies.map((_, i) => ({ Key: `ok-${i}` })) } }));
  });

  it('property: over any bytes decodeAwsChunked returns (no more than it was given) or throws an S3Error', () => {
    const piece = fc.oneof(
      fc.constantFrom(
        '\r\n',
        '\r',
        '\n',
        '0',
        '5',
        '-6',
        'ff',
        'FFFFFFFFFFFFFFFF',
        ';chunk-signature=ab',
        ':',
        'x-amz-checksum-crc32:AAAAAA==',
        'hello',
      ),
      fc.string({ maxLength: 8 }),
    );
    // Well-formed encodings with a few bytes overwritten: near misses reach the deeper checks.
    const mutated = fc
      .tuple(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.nat(300), { maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 }),
      )
      .map(([bytes, cuts, flips]) => {
        const buf = chunked(Buffer.from(bytes), cuts, { trailers: { 'x-amz-checksum-crc32': 'AAAAAA==' } });
        for (const [at, byte] of flips) buf[at % buf.length] = byte;
        return buf;
      });
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      fc.array(piece, { maxLength: 40 }).map((p) => Buffer.from(p.join(''), 'latin1')),
      mutated,
    );
    fc.assert(
      fc.property(input, (buf) => {
        try {
          const { body } = decodeAwsChunked(buf);
          assert.ok(body.length <= buf.length);
        } catch (e) {
          assert.ok(e instanceof S3Error, `not an S3Error: ${String(e)}`);
          assert.equal(e.status, 400);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('property: a well-formed encoding of any payload decodes to that payload and its trailers', () => {
    const trailerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
    const trailerValue = fc.stringMatching(/^[A-Za-z0-9+/=]{0,40}$/);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.array(fc.nat(2000), { maxLength: 10 }),
        fc.boolean(),
        fc.dictionary(trailerName, trailerValue, { maxKeys: 3 }),
        (bytes, cuts, signature, trailers) => {
          const payload = Buffer.from(bytes);
          const out = decodeAwsChunked(chunked(payload, cuts, { signature, trailers }));
          assert.ok(out.body.equals(payload));
          assert.deepEqual({ ...out.trailers }, { ...trailers });
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('XML request bodies and other crafted input answer S3 errors, never 500', () => {
  const MALFORMED = 'The XML you provided was not well-formed or did not validate against our published schema';
  const del = (body: string | Buffer) => send(server.url, 'POST', '/hard?delete', { body, headers: { 'content-type': 'application/xml' } });

  it('DeleteObjects with <Key>&#x110000;</Key> is MalformedXML (it threw a RangeError: 500 text/plain)', async () => {
    await unchanged(server.url, s3, async () => {
      const text = await s3Error(
        await del('<Delete><Object><Key>&#x110000;</Key></Object><Object><Key>keep.txt</Key></Object></Delete>'),
        400,
        'MalformedXML',
      );
      assert.match(text, new RegExp(`<Message>${MALFORMED}</Message>`));
    });
  });

  it('every XML fault is MalformedXML: references to non-characters, undeclared entities, DTDs, bad bytes, unterminated or mismatched tags, depth', async () => {
    const wrap = (key: string) => `<Delete><Object><Key>${key}</Key></Object></Delete>`;
    const cases: [string, string | Buffer][] = [
      ['NUL reference', wrap('&#0;')],
      ['control reference', wrap('&#x1;')],
      ['surrogate reference', wrap('&#xD800;')],
      ['FFFE reference', wrap('&#xFFFE;')],
      ['reference past U+10FFFF (decimal)', wrap('&#1114112;')],
      ['reference with endless digits', wrap(`&#x${'f'.repeat(5000)};`)],
      ['undeclared entity', wrap('&nbsp;')],
      ['bare ampersand', wrap('a & b')],
      ['reference without ;', wrap('&amp')],
      ['raw control character', wrap('a\u0001b')],
      ['raw NUL', wrap('a\u0000b')],
      [
        'bytes that are not UTF-8',
        Buffer.concat([Buffer.from('<Delete><Object><Key>'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('</Key></Object></Delete>')]),
      ],
      [
        'DOCTYPE with an entity',
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "keep.txt">]><Delete><Object><Key>&x;</Key></Object></Delete>',
      ],
      ['unterminated element', '<Delete><Object><Key>keep.txt</Key></Object>'],
      ['unterminated tag', '<Delete><Object><Key>keep.txt</Key></Object></Delete'],
      ['unterminated comment', '<Delete><!-- </Delete>'],
      ['unterminated CDATA', '<Delete><Object><Key><![CDATA[keep.txt</Key></Object></Delete>'],
      ['unterminated attribute', '<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/></Delete>'],
      ['duplicate attribute', '<Delete a="1" a="2"></Delete>'],
      ['mismatched tags', '<Delete><Object><Key>keep.txt</Object></Key></Delete>'],
      ['two roots', '<Delete></Delete><Delete></Delete>'],
      ['text after the root', '<Delete></Delete>junk'],
      ['another root', '<Remove><Object><Key>keep.txt</Key></Object></Remove>'],
      ['an Object without Key', '<Delete><Object><VersionId>1</VersionId></Object></Delete>'],
      ['an Object with two Keys', '<Delete><Object><Key>keep.txt</Key><Key>x</Key></Object></Delete>'],
      ['Quiet not a boolean', '<Delete><Quiet>constructor</Quiet><Object><Key>keep.txt</Key></Object></Delete>'],
      ['empty body', ''],
      ['not XML', 'keep.txt'],
      ['deep nesting', `<Delete>${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</Delete>`],
      ['1001 objects', `<Delete>${'<Object><Key>keep.txt</Key></Object>'.repeat(1001)}</Delete>`],
      // Quadratic for the old regular expressions (each <Object> scanned to the end): 8 MB.
      ['a million unterminated Objects', `<Delete>${'<Object>'.repeat(1_000_000)}`],
    ];
    await unchanged(server.url, s3, async () => {
      for (const [what, body] of cases) {
        const text = await s3Error(await del(body), 400, 'MalformedXML');
        assert.match(text, new RegExp(MALFORMED), what);
      }
    });
  });

  it('well-formed XML is read as XML: references, CDATA, comments, prefixes, CR kept by &#13;, LF for CRLF, Quiet', async () => {
    const keys = ['a&b<c>', 'cr\rkey', 'lf\nkey', 'sp  key ', 'é✓😀'];
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: 'hard', Key: k, Body: 'x' }));
    const body =
      '\ufeff<?xml version="1.0" encoding="UTF-8"?>\r\n<!-- a comment --><s3:Delete xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/">' +
      '<s3:Object><s3:Key>a&amp;b&lt;c&#x3E;</s3:Key></s3:Object><Object><Key><![CDATA[cr]]>&#13;key</Key></Object>' +
      '<Object><Key>lf\r\nkey</Key></Object><Object><Key>sp  key </Key><VersionId>null</VersionId></Object>' +
      '<Object><Key>&#xe9;&#10003;&#x1F600;</Key></Object><?pi here?></s3:Delete>';
    const res = await del(body);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.match(text, /<Key>cr&#xd;key<\/Key>/, 'CR goes out as a reference, or a reader would make it LF');
    const left = (await s3.send(new ListObjectsV2Command({ Bucket: 'hard' }))).Contents!.map((o) => o.Key);
    assert.deepEqual(left, ['keep.txt']);
    await s3.send(new PutObjectCommand({ Bucket: 'hard', Key: 'q', Body: 'x' }));
    const quiet = await del('<Delete><Quiet>true</Quiet><Object><Key>q</Key></Object></Delete>');
    assert.equal(
      await quiet.text(),
      '<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>',
    );
    const none = await del('<Delete></Delete>');
    assert.equal(none.status, 200, "an empty Delete deletes nothing (as versitygw's DeleteObjects_empty_input shows S3 does)");
  });

  it('bad percent-encoding, header values no header can carry, bad query values: S3 errors', async () => {
    await unchanged(server.url, s3, async () => {
      await s3Error(await send(server.url, 'GET', '/hard/%E0%A4%A'), 400, 'InvalidURI');
      await s3Error(await send(server.url, 'GET', '/hard/%ED%A0%80'), 400, 'InvalidURI');
      await s3Error(await send(server.url, 'GET', '/%ZZ'), 400, 'InvalidURI');
      // Query values override response headers: a CR LF there made writeHead throw (500 text/plain).
      for (const q of ['response-content-type=a%0D%0Ax-evil:1', 'response-content-disposition=%E2%9C%93', 'response-expires=%00']) {
        const text = await s3Error(await send(server.url, 'GET', `/hard/keep.txt?${q}`), 400, 'InvalidArgument');
        assert.match(text, /<ArgumentName>response-/);
      }
      await s3Error(await send(server.url, 'GET', '/hard?max-keys=abc'), 400, 'InvalidArgument');
      await s3Error(await send(server.url, 'GET', '/hard?max-keys=-1'), 400, 'InvalidArgument');
      await s3Error(await send(server.url, 'GET', '/hard?max-keys=99999999999999999999'), 400, 'InvalidArgument');
      await s3Error(await send(server.url, 'GET', '/hard?list-type=2&continuation-token=%%%not-base64'), 400, 'InvalidArgument');
      await s3Error(
        await send(server.url, 'GET', `/hard?list-type=2&continuation-token=${Buffer.from('{"json":1}').toString('base64')}`),
        400,
        'InvalidArgument',
      );
      await s3Error(await send(server.url, 'GET', '/hard?encoding-type=base64'), 400, 'InvalidArgument');
      await s3Error(await send(server.url, 'PUT', '/hard/x', { headers: { 'content-md5': 'nope' }, body: 'x' }), 400, 'InvalidDigest');
      await s3Error(
        await send(server.url, 'PUT', '/hard/x', { headers: { 'x-amz-copy-source': '/%%%/\u00ff' }, body: '' }),
        501,
        'NotImplemented',
      );
      // Headers S3 ignores when they do not parse: the whole object, 200.
      for (const h of [
        { range: 'bytes=abc' },
        { range: 'bytes=5-1,2-3' },
        { 'if-modified-since': 'yesterday' },
        { 'if-unmodified-since': '\u00ff' },
      ] as Record<string, string>[]) {
        const res = await send(server.url, 'GET', '/hard/keep.txt', { headers: h });
        assert.equal(res.status, 200, JSON.stringify(h));
        assert.equal(await res.text(), 'kept');
      }
      await s3Error(
        await send(server.url, 'GET', '/hard/keep.txt', { headers: { range: 'bytes=99999999999999999999999-' } }),
        416,
        'InvalidRange',
      );
    });
  });

  it('--auth verify: a request target no URL parser takes is InvalidURI (it threw a TypeError: 500)', async () => {
    const srv = await start({ auth: 'verify' });
    try {
      const status = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
        const u = new URL(srv.url);
        const req = request(
          {
            host: u.hostname,
            port: u.port,
            method: 'GET',
            path: '//[/',
            headers: { authorization: auth() },
            signal: AbortSignal.timeout(TIMEOUT),
          },
          (res) => {
            let body = '';
            res
              .setEncoding('utf8')
              .on('data', (d: string) => (body += d))
              .on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
          },
        );
        req.on('error', reject).end();
      });
      assert.equal(status.status, 400, status.body);
      assert.equal(status.type, 'application/xml');
      assert.match(status.body, /<Code>InvalidURI<\/Code>/);
      await healthy(srv.url);
    } finally {
      await srv.close();
    }
  });
});

/** node:fs, with a failure switched on where the test says: as a full disk or a dying one fails. */
class FaultyFs implements BlobFs {
  fault: 'write' | 'short-writes' | 'no-progress' | 'fsync' | 'rename' | 'dir-fsync' | null = null;
  private readonly paths = new Map<number, string>();
  private error(code: string, syscall: string): Error {
    return Object.assign(new Error(`${code}: simulated failure, ${syscall}`), { code, syscall });
  }
  mkdirSync(path: string, options: { recursive: true }) {
    return nodeFs.mkdirSync(path, options);
  }
  openSync(path: string, flags: string) {
    const fd = nodeFs.openSync(path, flags);
    this.paths.set(fd, path);
    return fd;
  }
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number) {
    if (this.fault === 'write') {
      nodeFs.writeSync(fd, buffer, offset, Math.min(length, 2)); // a few bytes land, then the disk is full
      throw this.error('ENOSPC', 'write');
    }
    if (this.fault === 'no-progress') return 0;
    return nodeFs.writeSync(fd, buffer, offset, this.fault === 'short-writes' ? Math.min(length, 1) : length);
  }
  fsyncSync(fd: number) {
    const isTmp = this.paths.get(fd)?.endsWith('.tmp') ?? false;
    if ((this.fault === 'fsync' && isTmp) || (this.fault === 'dir-fsync' && !isTmp)) throw this.error('EIO', 'fsync');
    nodeFs.fsyncSync(fd);
  }
  closeSync(fd: number) {
    this.paths.delete(fd);
    nodeFs.closeSync(fd);
  }
  renameSync(from: string, to: string) {
    if (this.fault === 'rename') throw this.error('EIO', 'rename');
    nodeFs.renameSync(from, to);
  }
  rmSync(path: string, options: { force: true; recursive?: boolean }) {
    nodeFs.rmSync(path, options);
  }
  readFileSync(path: string) {
    return nodeFs.readFileSync(path);
  }
}

describe('a failing disk leaves nothing half-written and answers InternalError', () => {
  // A gateway serving S3 alone, its state on disk, S3's writes through FaultyFs (chmod cannot
  // stop root). No admin routes: that the server still answers is checked with S3 calls.
  let dir: string;
  let store: Store;
  let gateway: Gateway;
  let url: string;
  let client: S3Client;
  const fs = new FaultyFs();
  const logged: string[] = [];
  before(async () => {
    dir = nodeFs.mkdtempSync(join(tmpdir(), 'palisade-s3fault-'));
    const config = { ...DEFAULTS, port: 0, stateDir: dir, logLevel: 'error' as const };
    const clock = new SystemClock();
    const log = createLogger('error', (line) => logged.push(line));
    store = new Store(dir);
    gateway = new Gateway({ config, store, clock, log, authorize });
    gateway.register(s3Service(new S3Storage(store, { fs })));
    const { host, port } = await gateway.listen();
    url = `http://${host}:${port}`;
    client = s3Client(url);
    await client.send(new CreateBucketCommand({ Bucket: 'disk' }));
    await client.send(new PutObjectCommand({ Bucket: 'disk', Key: 'old', Body: 'old body' }));
  });
  after(async () => {
    await gateway.close();
    store.close();
    nodeFs.rmSync(dir, { recursive: true, force: true });
  });
  const files = () => nodeFs.readdirSync(join(dir, 's3', '000000000000', 'disk')).sort();

  for (const fault of ['write', 'no-progress', 'fsync', 'rename', 'dir-fsync'] as const) {
    it(`${fault} fails: InternalError 500, no .tmp, no row, the old object intact`, async () => {
      const before = files();
      assert.equal(before.length, 1);
      fs.fault = fault;
      logged.length = 0;
      try {
        await unchanged(
          url,
          client,
          async () => {
            for (const key of ['new', 'old']) {
              const res = await send(url, 'PUT', `/disk/${key}`, { body: 'x'.repeat(10_000) });
              const text = await s3Error(res, 500, 'InternalError');
              assert.match(text, /<Message>We encountered an internal error. Please try again.<\/Message>/);
            }
          },
          async () => void (await client.send(new ListBucketsCommand({}))),
        );
      } finally {
        fs.fault = null;
      }
      assert.deepEqual(files(), before, 'no temporary file, no orphan');
      assert.match(logged.join('\n'), /s3 PUT \/disk\/new failed: Error: /, 'the failure is logged');
      const got = await client.send(new GetObjectCommand({ Bucket: 'disk', Key: 'old' }));
      assert.equal(await got.Body!.transformToString(), 'old body');
      const x = await client.send(new HeadObjectCommand({ Bucket: 'disk', Key: 'new' })).catch((e: { name: string }) => e.name);
      assert.equal(x, 'NotFound');
    });
  }

  it('short writes are completed, and the disk works again once it has room', async () => {
    fs.fault = 'short-writes';
    try {
      await client.send(new PutObjectCommand({ Bucket: 'disk', Key: 'old', Body: 'new body' }));
    } finally {
      fs.fault = null;
    }
    const got = await client.send(new GetObjectCommand({ Bucket: 'disk', Key: 'old' }));
    assert.equal(await got.Body!.transformToString(), 'new body');
    assert.equal(files().length, 1, 'the replaced body is removed');
  });

  it('on the real file system: a bucket directory that cannot be made is InternalError, and nothing is left', async () => {
    const stateDir = nodeFs.mkdtempSync(join(tmpdir(), 'palisade-s3fault-'));
    const srv = await start({ stateDir });
    try {
      const c = s3Client(srv.url);
      await c.send(new CreateBucketCommand({ Bucket: 'blocked' }));
      const account = join(stateDir, 's3', '000000000000');
      nodeFs.mkdirSync(account, { recursive: true });
      nodeFs.writeFileSync(join(account, 'blocked'), 'a file where the bucket directory goes');
      await unchanged(srv.url, c, async () => {
        await s3Error(await send(srv.url, 'PUT', '/blocked/k', { body: 'x' }), 500, 'InternalError');
      });
      nodeFs.rmSync(join(account, 'blocked'));
      await c.send(new PutObjectCommand({ Bucket: 'blocked', Key: 'k', Body: 'x' }));
      assert.equal(nodeFs.readdirSync(join(account, 'blocked')).filter((f) => f.endsWith('.tmp')).length, 0);
    } finally {
      await srv.close();
      nodeFs.rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe('CreateBucket LocationConstraint (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucketConfiguration.html) and XML escaping', () => {
  const create = (bucket: string, constraint: string | undefined, region = 'us-east-1') =>
    send(server.url, 'PUT', `/${bucket}`, {
      region,
      body:
        constraint === undefined
          ? ''
          : `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${constraint}</LocationConstraint></CreateBucketConfiguration>`,
    });

  it('an unknown constraint is InvalidLocationConstraint, and ListBuckets / GetBucketLocation stay well-formed', async () => {
    await unchanged(server.url, s3, async () => {
      for (const lc of [
        'xx-fake-1',
        'eu-west-1&quot;/&gt;&lt;x',
        '&lt;script&gt;',
        'US-WEST-2',
        'eu-west-1 eu-west-2',
        'eu-west-1&#13;x',
      ]) {
        const text = await s3Error(await create('lc-bad', lc), 400, 'InvalidLocationConstraint');
        assert.match(text, /<Message>The specified location-constraint is not valid<\/Message>/);
        assert.doesNotMatch(text, /<x|<script/, 'the value comes back escaped');
      }
      // A raw & (not XML) was stored as is and broke every later ListBuckets of the account.
      await s3Error(await create('lc-bad', 'x&y'), 400, 'MalformedXML');
      await s3Error(await create('lc-bad', '<Bad>'), 400, 'MalformedXML');
      await s3Error(await create('lc-bad', '&#x1;x'), 400, 'MalformedXML');
      await s3Error(await create('lc-bad', 'eu-west-1"/><x'), 400, 'MalformedXML');
    });
    const buckets = await s3.send(new ListBucketsCommand({}));
    assert.ok(!buckets.Buckets!.some((b) => b.Name === 'lc-bad'));
  });

  // S3 answers InvalidLocationConstraint to an explicit us-east-1 (boto/boto3#125, minio/minio-py#166).
  it('an explicit us-east-1 is InvalidLocationConstraint, echoing the constraint', async () => {
    const text = await s3Error(await create('lc-use1', 'us-east-1'), 400, 'InvalidLocationConstraint');
    assert.match(text, /<LocationConstraint>us-east-1<\/LocationConstraint>/);
  });

  it('the constraint must match the region the request was signed for, unless that is us-east-1', async () => {
    await unchanged(server.url, s3, async () => {
      let text = await s3Error(await create('lc-mismatch', 'us-west-2', 'eu-west-1'), 400, 'IllegalLocationConstraintException');
      assert.match(text, /The us-west-2 location constraint is incompatible for the region specific endpoint this request was sent to\./);
      text = await s3Error(await create('lc-mismatch', undefined, 'eu-west-1'), 400, 'IllegalLocationConstraintException');
      assert.match(text, /The unspecified location constraint is incompatible/);
      // Signed for a region AWS does not have: refused before the constraint is read (the gateway's region check).
      await s3Error(await create('lc-mismatch', 'xx-fake-1', 'xx-fake-1'), 400, 'AuthorizationHeaderMalformed');
    });
    const eu = s3Client(server.url, 'eu-west-1');
    await eu.send(new CreateBucketCommand({ Bucket: 'lc-eu', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    assert.equal((await eu.send(new GetBucketLocationCommand({ Bucket: 'lc-eu' }))).LocationConstraint, 'eu-west-1');
    assert.equal((await create('lc-legacy-eu', 'EU')).status, 200, 'EU is the legacy name of eu-west-1');
    const regions = Object.fromEntries((await s3.send(new ListBucketsCommand({}))).Buckets!.map((b) => [b.Name, b.BucketRegion]));
    assert.equal(regions['lc-eu'], 'eu-west-1');
    assert.equal(regions['lc-legacy-eu'], 'eu-west-1');
  });

  it("keys with CR, LF and markup are escaped in listings and errors (CR as a reference, per S3's XML key constraints)", async () => {
    const key = 'line\r\nbreak <&> "q" \'a\'';
    await s3.send(new PutObjectCommand({ Bucket: 'hard', Key: key, Body: 'x' }));
    const res = await send(server.url, 'GET', '/hard?list-type=2&prefix=line');
    const text = await res.text();
    assert.match(text, /<Key>line&#xd;&#xa;break &lt;&amp;&gt; &quot;q&quot; &apos;a&apos;<\/Key>/);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'hard', Prefix: 'line' }));
    assert.deepEqual(
      listed.Contents!.map((o) => o.Key),
      [key],
    );
    const missing = await send(server.url, 'GET', `/hard/${encodeURIComponent('no\rsuch<key>')}`);
    assert.match(await s3Error(missing, 404, 'NoSuchKey'), /<Key>no&#xd;such&lt;key&gt;<\/Key>/);
    await s3.send(new DeleteObjectsCommand({ Bucket: 'hard', Delete: { Objects: [{ Key: key }] } }));
  });

  // Found by test/fuzz.test.ts: U+FFFE and U+FFFF (which XML 1.0 cannot carry either) went out raw,
  // and every listing of the bucket was not well-formed.
  it('keys with U+FFFE, U+FFFF and C0 controls are written as references in listings and errors, and read back whole', async () => {
    const keys = ['nc-\ufffe', 'nc-\uffff-\u0001'];
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: 'hard', Key: key, Body: 'x' }));
    for (const q of ['list-type=2&prefix=nc-', 'prefix=nc-']) {
      const text = await (await send(server.url, 'GET', `/hard?${q}`)).text();
      assert.doesNotMatch(text, /[\ufffe\uffff\u0001]/, q);
      assert.match(text, /<Key>nc-&#xfffe;<\/Key>.*<Key>nc-&#xffff;-&#x1;<\/Key>/, q);
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'hard', Prefix: 'nc-' }));
    assert.deepEqual(
      listed.Contents!.map((o) => o.Key),
      keys,
    );
    const missing = await send(server.url, 'GET', `/hard/${encodeURIComponent('nc-\uffff-missing')}`);
    assert.match(await s3Error(missing, 404, 'NoSuchKey'), /<Key>nc-&#xffff;-missing<\/Key>/);
    // (not DeleteObjects: its body would carry them raw, which S3's XML reader refuses)
    for (const key of keys) await s3.send(new DeleteObjectCommand({ Bucket: 'hard', Key: key }));
  });
});
