// Durable state: every resource is a JSON document keyed by (kind, scope, id) in SQLite (WAL),
// mirrored in memory for fast reads. A call works in a Tx (unit of work): it reads through its
// own staged changes, and commit writes them (in a SQLite savepoint: all or nothing) before they
// become visible in memory, so a failed call changes nothing.
//
// Group commit: the writes of every call answered in one turn of the event loop share ONE SQLite
// transaction, committed right after that turn (setImmediate). Callers hold their answers until
// `durable()` resolves, so an acknowledged call is on disk, while 8 concurrent clients pay one
// commit (the WAL writes of every touched page) instead of 8. If that commit fails, the turn's
// changes are taken back out of the mirror (listeners see them undone) and its callers fail.
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { moduleRequire as require, workerThreads } from '../core/lazy.ts';

const sqlitePath = () => require.resolve('better-sqlite3');
/**
 * The compiled addon, named directly: better-sqlite3 otherwise finds it through the `bindings`
 * package, which probes a dozen paths on every start. Undefined (use that search) if not there.
 */
let addonPath: string | null | undefined = null;
function nativeBinding(): string | undefined {
  if (addonPath === null) {
    // Beside the bundle's own node_modules first (a plain check), else wherever require finds it.
    const addon = (pkg: string) => join(pkg, 'build', 'Release', 'better_sqlite3.node');
    const near = addon(join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'better-sqlite3'));
    const p = existsSync(near) ? near : addon(dirname(require.resolve('better-sqlite3/package.json')));
    addonPath = existsSync(p) ? p : undefined;
  }
  return addonPath;
}

/** Past this, the WAL is checkpointed and truncated (and an emptied WAL file is cut back to it). */
const WAL_LIMIT_BYTES = 4 * 1024 * 1024;
/** Commits between two looks at the WAL's size (a stat call). */
const WAL_CHECK_EVERY = 16;

interface StoreOptions {
  /** Take the directory's lock: a second store (in this process or another) refuses to open it. */
  exclusive?: boolean;
  /** Where to say what a start found (an empty state file). */
  log?: { warn(msg: string): void };
}

/**
 * The lock of a state directory: an exclusive SQLite lock on `palisade.lock` beside the state,
 * held until close. The operating system drops it when the process ends, however it ends, so a
 * killed server never leaves a stale lock; SQLite also keeps two connections of one process apart.
 */
function takeLock(location: string): BetterSqlite3.Database {
  const lock = new Database(join(location, 'palisade.lock'), { nativeBinding: nativeBinding() });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    lock.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY') {
      throw new Error(
        `the state directory ${location} is in use by another Palisade server: stop it, or give this one another --state-dir (or --in-memory)`,
        { cause: e },
      );
    }
    throw e;
  }
  return lock;
}

export interface Doc {
  id: string;
  seq?: number;
}
export type Scope = string;
export const regional = (account: string, region: string): Scope => `${account}/${region}`;

export interface ChangeEvent {
  kind: string;
  scope: Scope;
  id: string;
  before?: Doc;
  after?: Doc;
}
type ChangeListener = (events: ChangeEvent[]) => void;

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}

type Table = Map<string, Doc>;

/**
 * A deep copy of a document. Documents are JSON data (plain objects, arrays, primitives), copied
 * here directly, which is several times faster than structuredClone; anything else (a Date, a
 * Map…) still goes through structuredClone.
 */
function cloneDoc<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = cloneDoc(v[i]);
    return out as T;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const x = cloneDoc((v as Record<string, unknown>)[k]);
    // A key is data (a tag key, a policy name): `__proto__` is defined, or assigning would set the prototype.
    if (k === '__proto__') Object.defineProperty(out, k, { value: x, writable: true, enumerable: true, configurable: true });
    else out[k] = x;
  }
  return out as T;
}

export class Store {
  private readonly data = new Map<string, Map<Scope, Table>>();
  private readonly listeners: ChangeListener[] = [];
  private seq = 0;
  private readonly upsert: BetterSqlite3.Statement;
  private readonly remove: BetterSqlite3.Statement;
  private readonly writeBatch: (
    rows: { kind: string; scope: string; id: string; body: string | null }[],
    extra: ((db: BetterSqlite3.Database) => void)[],
  ) => void;
  /** Other tables (e.g. CloudTrail events) create themselves here and write through Tx.write. */
  readonly db: BetterSqlite3.Database;
  private readonly checkpointer?: Checkpointer;
  private readonly walFile?: string;
  private commitsSinceWalCheck = 0;
  /** The open group-commit transaction: callers waiting for it, and how to undo it in memory. */
  private batch:
    | {
        waiters: { resolve: () => void; reject: (e: Error) => void }[];
        undo: { kind: string; scope: Scope; id: string; before: Doc | undefined }[];
        /** Set when SQLite rolled the whole transaction back (SQLITE_FULL, I/O errors): the batch can only fail. */
        broken?: Error;
      }
    | undefined;

  /** Held while this store serves its directory (see takeLock). */
  private readonly lock?: BetterSqlite3.Database;

  constructor(
    readonly location: string | ':memory:',
    opts: StoreOptions = {},
  ) {
    if (location !== ':memory:') {
      mkdirSync(location, { recursive: true });
      if (opts.exclusive) this.lock = takeLock(location);
      const file = join(location, 'state.db');
      if (existsSync(file) && statSync(file).size === 0) {
        opts.log?.warn(`${file} is empty (0 bytes): starting with no state (no accounts, resources or events are restored)`);
      }
    }
    this.db = new Database(location === ':memory:' ? ':memory:' : join(location, 'state.db'), { nativeBinding: nativeBinding() });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    // Commits stay durable in the WAL. Copying it into the database file (a checkpoint, with its
    // fsyncs) is left to a background thread on its own connection (see Checkpointer), so no
    // call waits for it; in memory there is nothing to checkpoint.
    if (location !== ':memory:') {
      this.db.pragma('wal_autocheckpoint = 0');
      // A WAL file emptied by a checkpoint is cut back to this size (SQLite otherwise keeps it at its largest).
      this.db.pragma(`journal_size_limit = ${WAL_LIMIT_BYTES}`);
      this.walFile = join(location, 'state.db-wal');
      this.checkpointer = new Checkpointer(join(location, 'state.db'));
    }
    // A rowid table: a document (often 1-3 KB of JSON) fits in its leaf page, so a commit writes
    // that one page to the WAL. (WITHOUT ROWID, as state directories made before had it, keeps at
    // most ~1 KB of a row in the leaf and chains the rest through overflow pages, rewritten and
    // re-allocated at every update: four times the pages per commit. Both work with the same SQL.)
    this.db.exec(`CREATE TABLE IF NOT EXISTS docs (
      kind TEXT NOT NULL, scope TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
      PRIMARY KEY (kind, scope, id))`);
    this.db.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    this.upsert = this.db.prepare(
      'INSERT INTO docs (kind, scope, id, body) VALUES (?, ?, ?, ?) ON CONFLICT (kind, scope, id) DO UPDATE SET body = excluded.body',
    );
    this.remove = this.db.prepare('DELETE FROM docs WHERE kind = ? AND scope = ? AND id = ?');
    this.writeBatch = this.db.transaction((rows, extra) => {
      for (const r of rows) {
        if (r.body === null) this.remove.run(r.kind, r.scope, r.id);
        else this.upsert.run(r.kind, r.scope, r.id, r.body);
      }
      for (const w of extra) w(this.db);
    });
    this.load();
  }

  private load(): void {
    const docs: [string, string, Doc][] = [];
    for (const row of this.db.prepare('SELECT kind, scope, body FROM docs').iterate() as Iterable<{
      kind: string;
      scope: string;
      body: string;
    }>) {
      const doc = JSON.parse(row.body) as Doc;
      docs.push([row.kind, row.scope, doc]);
    }
    docs.sort((a, b) => (a[2].seq ?? 0) - (b[2].seq ?? 0));
    for (const [kind, scope, doc] of docs) {
      this.table(kind, scope).set(doc.id, deepFreeze(doc));
      if ((doc.seq ?? 0) > this.seq) this.seq = doc.seq!;
    }
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  table(kind: string, scope: Scope): Table {
    let byScope = this.data.get(kind);
    if (!byScope) this.data.set(kind, (byScope = new Map()));
    let t = byScope.get(scope);
    if (!t) byScope.set(scope, (t = new Map()));
    return t;
  }

  scopes(kind: string): Scope[] {
    return [...(this.data.get(kind)?.keys() ?? [])];
  }

  getMeta(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  begin(): Tx {
    return new Tx(this);
  }

  private readonly resetHooks: ((db: BetterSqlite3.Database) => void)[] = [];
  /** Tables kept outside the documents wipe themselves here on reset. */
  onReset(fn: (db: BetterSqlite3.Database) => void): void {
    this.resetHooks.push(fn);
  }

  private readonly abortHooks: (() => void)[] = [];
  /** Caches of other tables drop what a failed group commit took back (see flush). */
  onAbort(fn: () => void): void {
    this.abortHooks.push(fn);
  }

  /** Wipes every resource of every account and region; `keepMeta` names server settings that stay (the root key). */
  reset(opts: { keepMeta?: string[] } = {}): void {
    this.flush();
    const keep = opts.keepMeta ?? [];
    this.db.exec('DELETE FROM docs');
    this.db.prepare(`DELETE FROM meta WHERE key NOT IN (${keep.map(() => '?').join(',')})`).run(...keep);
    for (const h of this.resetHooks) h(this.db);
    const events: ChangeEvent[] = [];
    for (const [kind, byScope] of this.data) {
      for (const [scope, t] of byScope) for (const doc of t.values()) events.push({ kind, scope, id: doc.id, before: doc });
    }
    this.data.clear();
    for (const l of this.listeners) l(events);
  }

  nextSeq(): number {
    return ++this.seq;
  }

  /** @internal used by Tx.commit */
  apply(
    staged: Map<string, { kind: string; scope: Scope; id: string; doc: Doc | null }>,
    extra: ((db: BetterSqlite3.Database) => void)[] = [],
  ): void {
    if (staged.size === 0 && extra.length === 0) return;
    const rows = [...staged.values()].map((s) => ({ kind: s.kind, scope: s.scope, id: s.id, body: s.doc ? JSON.stringify(s.doc) : null }));
    const batch = this.openBatch();
    if (batch.broken) throw batch.broken;
    // Inside the open transaction this runs as a savepoint: a failing statement undoes this call
    // only — unless SQLite gave the whole transaction up (a full disk does that), which takes
    // every earlier call of the batch with it: then the batch fails as a whole at flush.
    try {
      this.writeBatch(rows, extra);
    } catch (e) {
      if (!this.db.inTransaction) batch.broken = e as Error;
      throw e;
    }
    if (staged.size === 0) return;
    const events: ChangeEvent[] = [];
    for (const s of staged.values()) {
      const t = this.table(s.kind, s.scope);
      const before = t.get(s.id);
      if (s.doc) t.set(s.id, deepFreeze(s.doc));
      else t.delete(s.id);
      batch.undo.push({ kind: s.kind, scope: s.scope, id: s.id, before });
      events.push({ kind: s.kind, scope: s.scope, id: s.id, before, after: s.doc ?? undefined });
    }
    for (const l of this.listeners) l(events);
  }

  /** The group-commit transaction of this turn of the event loop, begun on its first write. */
  private openBatch(): NonNullable<Store['batch']> {
    if (this.batch) return this.batch;
    if (!this.db.inTransaction) this.db.exec('BEGIN');
    this.batch = { waiters: [], undo: [] };
    setImmediate(() => this.flush());
    return this.batch;
  }

  /**
   * Resolves once every change made so far is committed to disk (at once when nothing is
   * pending). Answers that acknowledge a change, or show one, wait for it.
   */
  durable(): Promise<void> | undefined {
    const b = this.batch;
    if (!b) return undefined;
    return new Promise((resolve, reject) => b.waiters.push({ resolve, reject }));
  }

  /** Commits the open batch now (also done by itself right after the turn that opened it). */
  flush(): void {
    const b = this.batch;
    if (!b) return;
    this.batch = undefined;
    try {
      if (b.broken) throw b.broken;
      if (this.db.open && this.db.inTransaction) this.db.exec('COMMIT');
    } catch (e) {
      try {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
      } catch {
        /* already rolled back */
      }
      // Not on disk: take the batch's changes back out of memory, newest first.
      const events: ChangeEvent[] = [];
      for (const u of b.undo.reverse()) {
        const t = this.table(u.kind, u.scope);
        const after = t.get(u.id);
        if (u.before) t.set(u.id, u.before);
        else t.delete(u.id);
        events.push({ kind: u.kind, scope: u.scope, id: u.id, before: after, after: u.before });
      }
      if (events.length) for (const l of this.listeners) l(events);
      for (const h of this.abortHooks) h();
      for (const w of b.waiters) w.reject(e as Error);
      return;
    }
    this.checkpointer?.committed();
    this.boundWal();
    for (const w of b.waiters) w.resolve();
  }

  /**
   * Keeps the WAL proportional to the data. The background checkpoints (Checkpointer) copy pages
   * into the database while writes go on, so under a steady stream of writes the WAL is never
   * wholly copied at the moment a write begins, and SQLite never starts it over: it would grow
   * without end. Every WAL_CHECK_EVERY commits its size is read; past WAL_LIMIT_BYTES this
   * thread — the only writer — checkpoints with TRUNCATE between two group commits (most pages
   * are already copied by then, so it is short). If the background checkpoint holds the lock
   * (busy), the next check tries again.
   */
  private boundWal(): void {
    if (!this.walFile || ++this.commitsSinceWalCheck < WAL_CHECK_EVERY) return;
    this.commitsSinceWalCheck = 0;
    let size: number;
    try {
      size = statSync(this.walFile).size;
    } catch {
      return;
    }
    if (size <= WAL_LIMIT_BYTES) return;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      /* busy or I/O: the next check tries again */
    }
  }

  close(): void {
    if (this.db.open) this.flush();
    this.checkpointer?.stop();
    this.db.close();
    this.lock?.close();
  }
}

/**
 * Checkpoints the WAL from a worker thread with its own connection (PASSIVE: never blocks the
 * writer), at most every 200 ms and only after commits. Started on the first commit, so a
 * server that only starts (or only reads) never pays for the thread.
 */
class Checkpointer {
  private worker: Worker | undefined;
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private stopped = false;

  constructor(private readonly file: string) {}

  committed(): void {
    if (this.stopped) return;
    this.dirty = true;
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), 200);
      this.timer.unref();
    }
  }

  private tick(): void {
    if (!this.dirty) return;
    this.dirty = false;
    if (!this.worker) {
      const code = `const { parentPort, workerData } = require('node:worker_threads');
        const db = new (require(workerData.sqlite))(workerData.file, { nativeBinding: workerData.addon });
        db.pragma('busy_timeout = 1000');
        parentPort.on('message', () => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy: next time */ } });`;
      this.worker = new (workerThreads().Worker)(code, {
        eval: true,
        workerData: { sqlite: sqlitePath(), addon: nativeBinding(), file: this.file },
      });
      this.worker.unref();
      this.worker.on('error', () => {
        this.worker = undefined;
      });
    }
    this.worker.postMessage(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    void this.worker?.terminate();
    this.worker = undefined;
  }
}

const key = (kind: string, scope: Scope, id: string) => `${kind}\u0000${scope}\u0000${id}`;

/** A unit of work. Documents returned by get/all are read-only; use edit() to change one. */
export class Tx {
  private readonly staged = new Map<string, { kind: string; scope: Scope; id: string; doc: Doc | null }>();
  private readonly extra: ((db: BetterSqlite3.Database) => void)[] = [];
  private done = false;
  constructor(readonly store: Store) {}

  get<T extends Doc>(kind: string, scope: Scope, id: string): T | undefined {
    const s = this.staged.get(key(kind, scope, id));
    if (s) return (s.doc ?? undefined) as T | undefined;
    return this.store.table(kind, scope).get(id) as T | undefined;
  }

  /** All documents of a kind in a scope, in creation order, with this Tx's changes applied. */
  all<T extends Doc>(kind: string, scope: Scope): T[] {
    const base = this.store.table(kind, scope);
    if (this.staged.size === 0) return [...base.values()] as T[];
    const out: Doc[] = [];
    for (const [id, doc] of base) {
      const s = this.staged.get(key(kind, scope, id));
      if (!s) out.push(doc);
      else if (s.doc) out.push(s.doc);
    }
    for (const s of this.staged.values()) {
      if (s.kind === kind && s.scope === scope && s.doc && !base.has(s.id)) out.push(s.doc);
    }
    return out.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0)) as T[];
  }

  /** A mutable copy of the document, staged in this Tx. */
  edit<T extends Doc>(kind: string, scope: Scope, id: string): T | undefined {
    const k = key(kind, scope, id);
    const s = this.staged.get(k);
    if (s) return (s.doc ?? undefined) as T | undefined;
    const base = this.store.table(kind, scope).get(id);
    if (!base) return undefined;
    const copy = cloneDoc(base) as T;
    this.staged.set(k, { kind, scope, id, doc: copy });
    return copy;
  }

  put<T extends Doc>(kind: string, scope: Scope, doc: T): T {
    if (doc.seq === undefined) doc.seq = this.store.nextSeq();
    this.staged.set(key(kind, scope, doc.id), { kind, scope, id: doc.id, doc });
    return doc;
  }

  delete(kind: string, scope: Scope, id: string): void {
    this.staged.set(key(kind, scope, id), { kind, scope, id, doc: null });
  }

  /** Whether this Tx has staged anything to write (a read stages nothing). */
  hasChanges(): boolean {
    return this.staged.size > 0 || this.extra.length > 0;
  }

  /** A write to another table, made in the same SQLite transaction as this Tx's documents. */
  write(fn: (db: BetterSqlite3.Database) => void): void {
    this.extra.push(fn);
  }

  commit(): void {
    if (this.done) return;
    this.done = true;
    this.store.apply(this.staged, this.extra);
  }

  rollback(): void {
    this.done = true;
    this.staged.clear();
    this.extra.length = 0;
  }
}
