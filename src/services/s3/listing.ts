// S3 listings: ListObjects (v1, markers) and ListObjectsV2 (continuation tokens), with prefix,
// delimiter (common prefixes), max-keys, start-after, fetch-owner and encoding-type=url.
import type {
  CommonPrefix,
  ListObjectsOutput,
  ListObjectsRequest,
  ListObjectsV2Output,
  ListObjectsV2Request,
  _Object,
  Owner,
} from '@aws-sdk/client-s3';
import type { Ctx } from '../../core/context.ts';
import { s3Errors } from './errors.ts';
import { ownBucket, ownerOf } from './buckets.ts';
import type { ObjectRow, S3Storage } from './storage.ts';

/** At most this many keys and common prefixes in one answer, whatever max-keys asks. */
const MAX_KEYS = 1000;

/**
 * How keys and prefixes are written: as they are, or with encoding-type=url percent-encoded (the
 * aws CLI asks for it, and decodes them), slashes kept.
 */
function encoder(encodingType: string | undefined): { enc: (s: string) => string; EncodingType?: 'url' } {
  if (encodingType !== undefined && encodingType !== 'url') {
    throw s3Errors.invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', encodingType);
  }
  if (encodingType === 'url') return { enc: (s) => encodeURIComponent(s).replace(/%2F/g, '/'), EncodingType: 'url' };
  return { enc: (s) => s };
}

/** Walks keys after `after` under `prefix`, rolling keys up to common prefixes at `delimiter`. */
function walk(storage: S3Storage, bucket: string, prefix: string, delimiter: string, after: string, max: number) {
  const contents: ObjectRow[] = [];
  const prefixes: string[] = [];
  let truncated = false;
  let last: string | undefined;
  for (const o of storage.list(bucket, prefix, after)) {
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

function object(o: ObjectRow, enc: (s: string) => string, owner?: Owner): _Object {
  return {
    Key: enc(o.key),
    LastModified: new Date(o.modified),
    ETag: `"${o.etag}"`,
    ...(o.info.checksums
      ? {
          ChecksumAlgorithm: Object.keys(o.info.checksums).map((a) => a.toUpperCase() as NonNullable<_Object['ChecksumAlgorithm']>[number]),
        }
      : {}),
    Size: o.size,
    StorageClass: 'STANDARD',
    ...(owner ? { Owner: owner } : {}),
  };
}

const commonPrefixes = (prefixes: string[], enc: (s: string) => string): CommonPrefix[] => prefixes.map((p) => ({ Prefix: enc(p) }));

export function listingHandlers(storage: S3Storage) {
  return {
    ListObjectsV2(ctx: Ctx, input: ListObjectsV2Request): ListObjectsV2Output {
      const name = input.Bucket!;
      ownBucket(storage, ctx, name);
      const max = Math.min(input.MaxKeys ?? MAX_KEYS, MAX_KEYS);
      const prefix = input.Prefix ?? '';
      const delimiter = input.Delimiter ?? '';
      const startAfter = input.StartAfter ?? '';
      const token = input.ContinuationToken;
      let after = startAfter;
      if (token !== undefined) {
        const decoded = Buffer.from(token, 'base64').toString('utf8');
        if (!decoded.startsWith('v2\u0000'))
          throw s3Errors.invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
        after = decoded.slice(3);
      }
      const { enc, EncodingType } = encoder(input.EncodingType);
      const r = walk(storage, name, prefix, delimiter, after, max);
      const owner = input.FetchOwner ? ownerOf(ctx.account) : undefined;
      return {
        Name: name,
        Prefix: enc(prefix),
        ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
        MaxKeys: max,
        ...(EncodingType ? { EncodingType } : {}),
        KeyCount: r.contents.length + r.prefixes.length,
        IsTruncated: r.truncated,
        ...(token !== undefined ? { ContinuationToken: token } : {}),
        ...(r.truncated && r.last !== undefined ? { NextContinuationToken: Buffer.from(`v2\u0000${r.last}`).toString('base64') } : {}),
        ...(startAfter ? { StartAfter: enc(startAfter) } : {}),
        Contents: r.contents.map((o) => object(o, enc, owner)),
        CommonPrefixes: commonPrefixes(r.prefixes, enc),
      };
    },

    ListObjects(ctx: Ctx, input: ListObjectsRequest): ListObjectsOutput {
      const name = input.Bucket!;
      ownBucket(storage, ctx, name);
      const max = Math.min(input.MaxKeys ?? MAX_KEYS, MAX_KEYS);
      const prefix = input.Prefix ?? '';
      const delimiter = input.Delimiter ?? '';
      const marker = input.Marker ?? '';
      const { enc, EncodingType } = encoder(input.EncodingType);
      const r = walk(storage, name, prefix, delimiter, marker, max);
      const owner = ownerOf(ctx.account);
      return {
        Name: name,
        Prefix: enc(prefix),
        Marker: enc(marker),
        ...(r.truncated && delimiter && r.last !== undefined ? { NextMarker: enc(r.last) } : {}),
        MaxKeys: max,
        ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
        ...(EncodingType ? { EncodingType } : {}),
        IsTruncated: r.truncated,
        Contents: r.contents.map((o) => object(o, enc, owner)),
        CommonPrefixes: commonPrefixes(r.prefixes, enc),
      };
    },
  };
}
