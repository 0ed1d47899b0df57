// S3 objects: PutObject, GetObject (ranges, conditions, response-* overrides), HeadObject,
// DeleteObject, DeleteObjects. Versions, parts and the other subresources are not implemented.
// The codec has checked the payload (aws-chunked framing, Content-MD5, x-amz-checksum-*) before
// a handler runs; bodies travel as Buffers (the one departure from the SDK's stream types).
import type {
  DeleteObjectOutput,
  DeleteObjectRequest,
  DeleteObjectsOutput,
  DeleteObjectsRequest,
  GetObjectOutput,
  GetObjectRequest,
  HeadObjectOutput,
  HeadObjectRequest,
  PutObjectOutput,
  PutObjectRequest,
} from '@aws-sdk/client-s3';
import type { Ctx } from '../../core/context.ts';
import { S3Error, s3Errors } from './errors.ts';
import { ownBucket } from './buckets.ts';
import type { ObjectInfo, S3Storage } from './storage.ts';

/** PutObject's input with its body read whole. */
type PutObjectInput = Omit<PutObjectRequest, 'Body'> & { Body?: Buffer };
/** GetObject's output with the (part of the) body read whole. */
type GetObjectAnswer = Omit<GetObjectOutput, 'Body'> & { Body?: Buffer };

/** The checksums Palisade keeps with an object (the codec checked them), as the input and output members name them. */
const CHECKSUM_MEMBERS = {
  crc32: 'ChecksumCRC32',
  crc32c: 'ChecksumCRC32C',
  crc64nvme: 'ChecksumCRC64NVME',
  sha1: 'ChecksumSHA1',
  sha256: 'ChecksumSHA256',
} as const;
type ChecksumMember = (typeof CHECKSUM_MEMBERS)[keyof typeof CHECKSUM_MEMBERS];

/** What node:http can write as a header value (it throws on anything else). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * A response-* query value replacing a stored header (GetObject, HeadObject): it can hold what
 * no header can carry, which S3 refuses naming the parameter.
 */
function override(value: string | undefined, parameter: string): string | undefined {
  if (value !== undefined && !HEADER_VALUE.test(value))
    throw s3Errors.invalidArgument('Header value cannot be represented using ISO-8859-1.', parameter, value);
  return value;
}

const PRECONDITION = (condition: string) => s3Errors.preconditionFailed(condition);

/** GetObject and HeadObject: the object's headers, after its conditions; the (part of the) body for a GET. */
function getObject(storage: S3Storage, ctx: Ctx, input: GetObjectRequest | HeadObjectRequest, head: boolean): GetObjectAnswer {
  // Versions and parts are not implemented: the query that asks for one is refused.
  if (input.VersionId !== undefined || input.PartNumber !== undefined) throw s3Errors.notImplemented();
  const b = ownBucket(storage, ctx, input.Bucket!);
  const key = input.Key!;
  const o = storage.head(b.name, key);
  if (!o) throw s3Errors.noSuchKey(key);
  const etag = `"${o.etag}"`;
  const lastModified = new Date(Math.floor(o.modified / 1000) * 1000);
  const etagIn = (list: string) =>
    list
      .split(',')
      .map((s) => s.trim())
      .some((t) => t === '*' || t === etag || t === o.etag);
  if (input.IfMatch !== undefined && !etagIn(input.IfMatch)) throw PRECONDITION('If-Match');
  if (input.IfMatch === undefined && input.IfUnmodifiedSince !== undefined && lastModified.getTime() > input.IfUnmodifiedSince.getTime()) {
    throw PRECONDITION('If-Unmodified-Since');
  }
  const info = o.info;
  const storedExpires = info.expires !== undefined ? new Date(info.expires) : undefined;
  const out: GetObjectAnswer = {
    ETag: etag,
    LastModified: lastModified,
    AcceptRanges: 'bytes',
    ContentType: override(input.ResponseContentType, 'response-content-type') ?? info.contentType ?? 'binary/octet-stream',
    ContentEncoding: override(input.ResponseContentEncoding, 'response-content-encoding') ?? info.contentEncoding,
    ContentDisposition: override(input.ResponseContentDisposition, 'response-content-disposition') ?? info.contentDisposition,
    ContentLanguage: override(input.ResponseContentLanguage, 'response-content-language') ?? info.contentLanguage,
    CacheControl: override(input.ResponseCacheControl, 'response-cache-control') ?? info.cacheControl,
    Expires: input.ResponseExpires ?? (storedExpires && !Number.isNaN(storedExpires.getTime()) ? storedExpires : undefined),
    ...(info.meta ? { Metadata: info.meta } : {}),
  };
  if (
    (input.IfNoneMatch !== undefined && etagIn(input.IfNoneMatch)) ||
    (input.IfNoneMatch === undefined && input.IfModifiedSince !== undefined && lastModified.getTime() <= input.IfModifiedSince.getTime())
  ) {
    // Not Modified: an answer without a body, carrying the object's headers but its type.
    const { ContentType: _type, ...headers } = out;
    throw new S3Error('NotModified', 'Not Modified', 304, {}, headers);
  }
  let start = 0;
  let end = o.size - 1;
  let partial = false;
  const range = /^bytes=(\d*)-(\d*)$/.exec((input.Range ?? '').trim());
  if (range && (range[1] !== '' || range[2] !== '')) {
    if (range[1] === '') {
      start = Math.max(0, o.size - Number(range[2]));
    } else {
      start = Number(range[1]);
      if (range[2] !== '') end = Math.min(Number(range[2]), o.size - 1);
    }
    if (
      start >= o.size ||
      (range[1] !== '' && range[2] !== '' && Number(range[2]) < start) ||
      (range[1] === '' && Number(range[2]) === 0)
    ) {
      throw new S3Error('InvalidRange', 'The requested range is not satisfiable', 416, {
        RangeRequested: range[0]!,
        ActualObjectSize: o.size,
      });
    }
    partial = true;
    out.ContentRange = `bytes ${start}-${end}/${o.size}`;
  } else if (input.ChecksumMode?.toUpperCase() === 'ENABLED') {
    for (const [alg, v] of Object.entries(info.checksums ?? {})) {
      const member = CHECKSUM_MEMBERS[alg as keyof typeof CHECKSUM_MEMBERS] as ChecksumMember | undefined;
      if (member) out[member] = v;
    }
  }
  out.ContentLength = o.size === 0 ? 0 : end - start + 1;
  if (!head) {
    // Read before the answer is made: a body that cannot be read is then still an error answer.
    const body = storage.body(b, o);
    out.Body = partial ? body.subarray(start, end + 1) : body;
  }
  return out;
}

export function objectHandlers(storage: S3Storage) {
  return {
    PutObject(ctx: Ctx, input: PutObjectInput): PutObjectOutput {
      const b = ownBucket(storage, ctx, input.Bucket!);
      const key = input.Key!;
      if (Buffer.byteLength(key) > 1024) throw new S3Error('KeyTooLongError', 'Your key is too long', 400);
      const checksums: Record<string, string> = {};
      for (const [alg, member] of Object.entries(CHECKSUM_MEMBERS)) {
        const v = input[member];
        if (v !== undefined) checksums[alg] = v;
      }
      const expires = input.Expires;
      const info: ObjectInfo = {
        contentType: input.ContentType || 'binary/octet-stream',
        ...(input.ContentEncoding ? { contentEncoding: input.ContentEncoding } : {}),
        ...(input.ContentDisposition ? { contentDisposition: input.ContentDisposition } : {}),
        ...(input.ContentLanguage ? { contentLanguage: input.ContentLanguage } : {}),
        ...(input.CacheControl ? { cacheControl: input.CacheControl } : {}),
        ...(expires ? { expires: expires.toUTCString() } : {}),
        ...(input.Metadata && Object.keys(input.Metadata).length ? { meta: input.Metadata } : {}),
        ...(Object.keys(checksums).length ? { checksums } : {}),
      };
      const row = storage.put(b, key, input.Body ?? Buffer.alloc(0), info, ctx.clock.now());
      const out: PutObjectOutput = { ETag: `"${row.etag}"` };
      for (const [alg, v] of Object.entries(checksums)) out[CHECKSUM_MEMBERS[alg as keyof typeof CHECKSUM_MEMBERS]] = v;
      return out;
    },

    GetObject(ctx: Ctx, input: GetObjectRequest): GetObjectAnswer {
      return getObject(storage, ctx, input, false);
    },

    HeadObject(ctx: Ctx, input: HeadObjectRequest): HeadObjectOutput {
      return getObject(storage, ctx, input, true);
    },

    DeleteObject(ctx: Ctx, input: DeleteObjectRequest): DeleteObjectOutput {
      if (input.VersionId !== undefined) throw s3Errors.notImplemented();
      const b = ownBucket(storage, ctx, input.Bucket!);
      storage.delete(b, input.Key!);
      return {};
    },

    DeleteObjects(ctx: Ctx, input: DeleteObjectsRequest): DeleteObjectsOutput {
      const b = ownBucket(storage, ctx, input.Bucket!);
      const objects = input.Delete?.Objects ?? [];
      if (objects.length > 1000) throw s3Errors.malformedXml();
      const keys = objects.map((o) => o.Key!);
      for (const k of keys) storage.delete(b, k);
      return input.Delete?.Quiet ? {} : { Deleted: keys.map((Key) => ({ Key })) };
    },
  };
}
