// S3 state: buckets and object metadata in SQLite (the store's database), object bodies as files
// under `<stateDir>/s3/<account>/<bucket>/` — or, when state is in memory, in the in-memory
// database itself. Bucket names are one namespace for all accounts (as in AWS); each bucket
// belongs to the account that created it.
import { crypto } from '../../core/lazy.ts';
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { Store, Tx } from '../../store/store.ts';

export interface BucketRow {
  name: string;
  account: string;
  region: string;
  created: number;
}

export interface ObjectInfo {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
  meta?: Record<string, string>;
  checksums?: Record<string, string>;
}

export interface ObjectRow {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  modified: number;
  info: ObjectInfo;
  blob: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS s3_buckets (name TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS s3_objects (bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
  modified INTEGER NOT NULL, info TEXT NOT NULL, blob TEXT, data BLOB, PRIMARY KEY (bucket, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS s3_bucket_config (bucket TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (bucket, kind)) WITHOUT ROWID;
`;

/**
 * The kinds of a bucket's configuration, one row each, its value as JSON: what the bucket's
 * subresources (?policy, ?tagging, ?versioning…) were set to. A kind without a row was never set
 * (the subresource answers S3's default); a row holding null was deleted where S3 tells the two
 * apart (ownership controls, public access block).
 */
export type BucketConfigKind =
  | 'policy'
  | 'tagging'
  | 'versioning'
  | 'acl'
  | 'encryption'
  | 'ownership'
  | 'publicAccessBlock'
  | 'cors'
  | 'website'
  | 'logging'
  | 'lifecycle'
  | 'accelerate'
  | 'requestPayment';

const ready = new WeakSet<Database.Database>();
/** Creates the S3 tables if needed (idempotent): EC2 checks buckets for flow logs through it. */
function s3Tables(db: Database.Database): void {
  if (ready.has(db)) return;
  db.exec(SCHEMA);
  ready.add(db);
}

/** The bucket of that name, whoever owns it. */
export function findBucket(db: Database.Database, name: string): BucketRow | undefined {
  s3Tables(db);
  return db.prepare('SELECT name, account, region, created FROM s3_buckets WHERE name = ?').get(name) as BucketRow | undefined;
}

/**
 * A bucket's configuration of one kind: its value (null when deleted), or undefined when never set.
 * Other services read bucket policies through it (CloudTrail and flow-log delivery).
 */
export function bucketConfig<T>(db: Database.Database, bucket: string, kind: BucketConfigKind): T | null | undefined {
  s3Tables(db);
  const r = db.prepare('SELECT value FROM s3_bucket_config WHERE bucket = ? AND kind = ?').get(bucket, kind) as
    { value: string } | undefined;
  return r === undefined ? undefined : (JSON.parse(r.value) as T | null);
}

/** Sets (or, with undefined, forgets) a bucket's configuration of one kind, through `db` as it is given (a transaction's writer too). */
export function writeBucketConfig(db: Database.Database, bucket: string, kind: BucketConfigKind, value: unknown): void {
  s3Tables(db);
  if (value === undefined) db.prepare('DELETE FROM s3_bucket_config WHERE bucket = ? AND kind = ?').run(bucket, kind);
  else
    db.prepare(
      'INSERT INTO s3_bucket_config (bucket, kind, value) VALUES (?, ?, ?) ON CONFLICT (bucket, kind) DO UPDATE SET value = excluded.value',
    ).run(bucket, kind, JSON.stringify(value));
}

/**
 * The file-system calls that object bodies go through: node:fs, unless the owner of the storage
 * passes another (a test passes one that fails as a full disk does, which chmod cannot do to root).
 */
export interface BlobFs {
  mkdirSync(path: string, options: { recursive: true }): unknown;
  openSync(path: string, flags: string): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  rmSync(path: string, options: { force: true; recursive?: boolean }): void;
  readFileSync(path: string): Buffer;
}

type RawObject = { bucket: string; key: string; size: number; etag: string; modified: number; info: string; blob: string | null };
const toRow = (r: RawObject): ObjectRow => ({ ...r, info: JSON.parse(r.info) as ObjectInfo });

export class S3Storage {
  readonly dir: string | null;
  private readonly db: Database.Database;
  private readonly fs: BlobFs;

  constructor(store: Store, options: { fs?: BlobFs } = {}) {
    this.db = store.db;
    this.fs = options.fs ?? nodeFs;
    this.dir = store.location === ':memory:' ? null : join(store.location, 's3');
    s3Tables(this.db);
    store.onReset((db) => {
      db.exec('DELETE FROM s3_objects; DELETE FROM s3_bucket_config; DELETE FROM s3_buckets;');
      if (this.dir) this.fs.rmSync(this.dir, { recursive: true, force: true });
    });
  }

  bucket(name: string): BucketRow | undefined {
    return findBucket(this.db, name);
  }

  buckets(account: string): BucketRow[] {
    return this.db
      .prepare('SELECT name, account, region, created FROM s3_buckets WHERE account = ? ORDER BY name')
      .all(account) as BucketRow[];
  }

  createBucket(b: BucketRow): void {
    this.db
      .prepare('INSERT INTO s3_buckets (name, account, region, created) VALUES (?, ?, ?, ?)')
      .run(b.name, b.account, b.region, b.created);
  }

  isEmpty(bucket: string): boolean {
    return !this.db.prepare('SELECT 1 FROM s3_objects WHERE bucket = ? LIMIT 1').get(bucket);
  }

  /** The bucket's configuration of one kind (see BucketConfigKind). */
  config<T>(bucket: string, kind: BucketConfigKind): T | null | undefined {
    return bucketConfig<T>(this.db, bucket, kind);
  }

  /** Sets the bucket's configuration of one kind (null: deleted, where S3 tells that from never set). */
  setConfig(bucket: string, kind: BucketConfigKind, value: unknown): void {
    writeBucketConfig(this.db, bucket, kind, value ?? null);
  }

  /** Forgets the bucket's configuration of one kind: it answers S3's default again. */
  clearConfig(bucket: string, kind: BucketConfigKind): void {
    writeBucketConfig(this.db, bucket, kind, undefined);
  }

  /** A bucket and everything it is configured with (one transaction). */
  deleteBucket(b: BucketRow): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM s3_bucket_config WHERE bucket = ?').run(b.name);
      this.db.prepare('DELETE FROM s3_buckets WHERE name = ?').run(b.name);
    })();
    if (this.dir) this.discard(join(this.dir, b.account, b.name), true);
  }

  head(bucket: string, key: string): ObjectRow | undefined {
    const r = this.db
      .prepare('SELECT bucket, key, size, etag, modified, info, blob FROM s3_objects WHERE bucket = ? AND key = ?')
      .get(bucket, key) as RawObject | undefined;
    return r && toRow(r);
  }

  body(b: BucketRow, o: ObjectRow): Buffer {
    if (o.blob && this.dir) return this.fs.readFileSync(join(this.dir, b.account, b.name, o.blob));
    const r = this.db.prepare('SELECT data FROM s3_objects WHERE bucket = ? AND key = ?').get(o.bucket, o.key) as
      { data: Buffer | null } | undefined;
    return r?.data ?? Buffer.alloc(0);
  }

  /** Keys of the bucket after `after` (exclusive) that start with `prefix`, in UTF-8 binary order. */
  *list(bucket: string, prefix: string, after: string): Generator<ObjectRow> {
    const stmt = this.db.prepare(
      'SELECT bucket, key, size, etag, modified, info, blob FROM s3_objects WHERE bucket = ? AND key > ? AND key >= ? ORDER BY key',
    );
    for (const r of stmt.iterate(bucket, after, prefix) as Iterable<RawObject>) {
      // Keys with the prefix are one contiguous run from `prefix` on: the first without it ends the run.
      if (!r.key.startsWith(prefix)) break;
      yield toRow(r);
    }
  }

  /**
   * Writes the body (file first, then the row); returns the new object's row. If either fails,
   * the error goes up and nothing of this object stays: no file, and the old row (if any) as it was.
   */
  put(b: BucketRow, key: string, body: Buffer, info: ObjectInfo, now: number): ObjectRow {
    const { row, write } = this.prepare(b, key, body, info, now);
    const old = this.head(b.name, key);
    try {
      this.db.transaction(() => write(this.db))();
    } catch (e) {
      this.removeBlob(b, row); // a full database (SQLITE_FULL) must not leave the new file behind
      throw e;
    }
    this.removeBlob(b, old);
    return row;
  }

  /** As put, with the row written in the transaction's commit (flow-log delivery). */
  stagePut(tx: Tx, b: BucketRow, key: string, body: Buffer, info: ObjectInfo, now: number): ObjectRow {
    const { row, write } = this.prepare(b, key, body, info, now);
    tx.write(write);
    return row;
  }

  private prepare(b: BucketRow, key: string, body: Buffer, info: ObjectInfo, now: number) {
    const etag = crypto().createHash('md5').update(body).digest('hex');
    let blob: string | null = null;
    if (this.dir) {
      blob = crypto().randomUUID();
      this.writeBlob(join(this.dir, b.account, b.name), blob, body);
    }
    const row: ObjectRow = { bucket: b.name, key, size: body.length, etag, modified: now, info, blob };
    const write = (db: Database.Database) => {
      db.prepare(
        `INSERT INTO s3_objects (bucket, key, size, etag, modified, info, blob, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (bucket, key) DO UPDATE SET size = excluded.size, etag = excluded.etag, modified = excluded.modified,
        info = excluded.info, blob = excluded.blob, data = excluded.data`,
      ).run(b.name, key, body.length, etag, now, JSON.stringify(info), blob, blob ? null : body);
    };
    return { row, write };
  }

  /**
   * Writes `<dir>/<name>` whole or not at all: into a temporary file, flushed to disk, then renamed
   * (and the directory flushed, so the rename too survives a crash before the row that names it is
   * committed). On any failure (ENOSPC, EIO, EDQUOT…) the temporary file is removed and the error
   * goes up: the caller then writes no row.
   */
  private writeBlob(dir: string, name: string, body: Buffer): void {
    const { fs } = this;
    fs.mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.${name}.tmp`);
    const final = join(dir, name);
    let fd = -1;
    let renamed = false;
    try {
      fd = fs.openSync(tmp, 'wx');
      // writeSync may write less than asked: loop, each turn strictly forward (0 bytes is an error).
      for (let off = 0; off < body.length;) {
        const n = fs.writeSync(fd, body, off, body.length - off);
        if (!(n > 0)) throw Object.assign(new Error(`write to ${tmp} made no progress`), { code: 'EIO' });
        off += n;
      }
      fs.fsyncSync(fd);
      const open = fd;
      fd = -1;
      fs.closeSync(open);
      fs.renameSync(tmp, final);
      renamed = true;
      this.syncDir(dir);
    } catch (e) {
      if (fd >= 0) {
        try {
          fs.closeSync(fd);
        } catch {
          // the first error is the one to report
        }
      }
      this.discard(renamed ? final : tmp);
      throw e;
    }
  }

  /** Flushes a directory's entries (a rename); platforms that cannot open a directory skip it. */
  private syncDir(dir: string): void {
    if (process.platform === 'win32') return;
    const fd = this.fs.openSync(dir, 'r');
    try {
      this.fs.fsyncSync(fd);
    } finally {
      this.fs.closeSync(fd);
    }
  }

  /**
   * Removes a file (or tree) that no row names any more, best effort: once the row is gone, a
   * leftover file is garbage, not damage, and the call that dropped it has succeeded.
   */
  private discard(path: string, recursive = false): void {
    try {
      this.fs.rmSync(path, { force: true, recursive });
    } catch {
      // see above
    }
  }

  delete(b: BucketRow, key: string): void {
    const old = this.head(b.name, key);
    if (!old) return;
    this.db.prepare('DELETE FROM s3_objects WHERE bucket = ? AND key = ?').run(b.name, key);
    this.removeBlob(b, old);
  }

  private removeBlob(b: BucketRow, o: ObjectRow | undefined): void {
    if (o?.blob && this.dir) this.discard(join(this.dir, b.account, b.name, o.blob));
  }
}
