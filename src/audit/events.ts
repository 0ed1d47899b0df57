// The event history: one SQLite row per management event in the store's database (so it
// survives restarts and is written in the call's own transaction), indexed for each
// LookupEvents attribute, newest first. Resources live in a side table, one row per
// (event, resource type) and per (event, resource name), so a lookup by either never sees an
// event twice.
import type Database from 'better-sqlite3';
import type { AuditEvent } from './record.ts';
import type { LookupResource } from './resources.ts';

export const RETENTION_MS = 90 * 86_400_000;

export type LookupKey = 'EventId' | 'EventName' | 'ReadOnly' | 'Username' | 'ResourceType' | 'ResourceName' | 'EventSource' | 'AccessKeyId';
export const LOOKUP_KEYS: readonly LookupKey[] = ['EventId', 'EventName', 'ReadOnly', 'Username', 'ResourceType', 'ResourceName', 'EventSource', 'AccessKeyId'];

export interface StoredEvent {
  id: number;
  t: number; // epoch seconds
  eventId: string;
  eventName: string;
  eventSource: string;
  username: string | null;
  accessKeyId: string | null;
  readOnly: boolean;
  resources: LookupResource[];
  record: string;
}

export interface Query {
  account: string;
  region: string;
  attribute?: { key: LookupKey; value: string };
  /** inclusive bounds, epoch seconds */
  from: number;
  to: number;
  /** strictly older than this (t, id) */
  before?: { t: number; id: number };
  limit: number;
}

interface Row {
  id: number; t: number; event_id: string; event_name: string; event_source: string; username: string | null;
  access_key_id: string | null; read_only: number; resources: string | null; record: string;
}

/** Each attribute's column and the index a lookup by it must use (named: without statistics,
 * SQLite prefers the time index, which sorts for free but scans every event of the scope). */
const COLUMN: Record<Exclude<LookupKey, 'ResourceType' | 'ResourceName'>, [string, string]> = {
  EventId: ['event_id', 'cloudtrail_events_eid'],
  EventName: ['event_name', 'cloudtrail_events_name'],
  ReadOnly: ['read_only', 'cloudtrail_events_ro'],
  Username: ['username', 'cloudtrail_events_user'],
  EventSource: ['event_source', 'cloudtrail_events_source'],
  AccessKeyId: ['access_key_id', 'cloudtrail_events_key'],
};

const SELECT = 'e.id, e.t, e.event_id, e.event_name, e.event_source, e.username, e.access_key_id, e.read_only, e.resources, e.record';
const FAR = Number.MAX_SAFE_INTEGER;

export class EventStore {
  private readonly insertEvent: Database.Statement;
  private readonly insertResource: Database.Statement;
  private readonly queries = new Map<string, Database.Statement>();
  private readonly pruneEvents: Database.Statement;
  private readonly pruneResources: Database.Statement;
  private readonly lastId: Database.Statement;
  private readonly range: Database.Statement;

  /** Events of calls that changed nothing (reads, failures), written in batches. */
  private pending: AuditEvent[] = [];
  private flushScheduled = false;

  constructor(readonly db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS cloudtrail_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL, region TEXT NOT NULL, t INTEGER NOT NULL,
        event_id TEXT NOT NULL, event_name TEXT NOT NULL, event_source TEXT NOT NULL,
        username TEXT, access_key_id TEXT, read_only INTEGER NOT NULL,
        resources TEXT, record TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS cloudtrail_events_time ON cloudtrail_events (account, region, t);
      CREATE INDEX IF NOT EXISTS cloudtrail_events_name ON cloudtrail_events (account, region, event_name, t);
      CREATE INDEX IF NOT EXISTS cloudtrail_events_user ON cloudtrail_events (account, region, username, t);
      CREATE INDEX IF NOT EXISTS cloudtrail_events_source ON cloudtrail_events (account, region, event_source, t);
      CREATE INDEX IF NOT EXISTS cloudtrail_events_key ON cloudtrail_events (account, region, access_key_id, t);
      CREATE INDEX IF NOT EXISTS cloudtrail_events_ro ON cloudtrail_events (account, region, read_only, t);
      CREATE INDEX IF NOT EXISTS cloudtrail_events_eid ON cloudtrail_events (account, region, event_id, t);
      CREATE INDEX IF NOT EXISTS cloudtrail_events_age ON cloudtrail_events (t);
      CREATE TABLE IF NOT EXISTS cloudtrail_resources (
        account TEXT NOT NULL, region TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, t INTEGER NOT NULL, event INTEGER NOT NULL,
        PRIMARY KEY (account, region, kind, value, t, event)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS cloudtrail_resources_age ON cloudtrail_resources (t);`);
    this.insertEvent = db.prepare(`INSERT INTO cloudtrail_events
      (account, region, t, event_id, event_name, event_source, username, access_key_id, read_only, resources, record)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.insertResource = db.prepare('INSERT OR IGNORE INTO cloudtrail_resources (account, region, kind, value, t, event) VALUES (?, ?, ?, ?, ?, ?)');
    this.pruneEvents = db.prepare('DELETE FROM cloudtrail_events WHERE t < ?');
    this.pruneResources = db.prepare('DELETE FROM cloudtrail_resources WHERE t < ?');
    this.lastId = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'cloudtrail_events'").pluck();
    this.range = db.prepare(`SELECT id, region, event_source, record FROM cloudtrail_events
      WHERE id > ? AND id <= ? AND account = ? ORDER BY id LIMIT ?`);
  }

  /** Writes one event (call inside a transaction: Tx.write). Returns its row id. */
  insert(e: AuditEvent): number {
    const t = Math.floor(e.time / 1000);
    const info = this.insertEvent.run(
      e.account, e.region, t, e.eventId, e.eventName, e.eventSource, e.username ?? null, e.accessKeyId ?? null, e.readOnly ? 1 : 0,
      e.resources.length ? JSON.stringify(e.resources) : null, e.record,
    );
    const id = Number(info.lastInsertRowid);
    for (const r of e.resources) {
      this.insertResource.run(e.account, e.region, 'T', r.ResourceType, t, id);
      this.insertResource.run(e.account, e.region, 'N', r.ResourceName, t, id);
    }
    return id;
  }

  /** Many events in one transaction (benchmarks, imports). */
  insertMany(events: AuditEvent[]): void {
    this.db.transaction(() => {
      for (const e of events) this.insert(e);
    })();
  }

  /**
   * Records the event of a call that changed nothing (a read): there is no change for it to be
   * atomic with, so it joins a batch written in one transaction right after the answers go out
   * (and before any read of the events), instead of costing every read its own commit.
   */
  defer(e: AuditEvent): void {
    this.pending.push(e);
    if (this.pending.length >= 500) this.flushPending();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushPending());
    }
  }

  /** Writes the deferred events now. */
  flushPending(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    if (this.db.open) this.insertMany(batch);
  }

  /** Drops events older than the cutoff (epoch ms). */
  prune(cutoffMs: number): number {
    this.flushPending();
    const t = Math.floor(cutoffMs / 1000);
    const n = this.pruneEvents.run(t).changes;
    this.pruneResources.run(t);
    return n;
  }

  clear(): void {
    this.pending = [];
    this.db.exec('DELETE FROM cloudtrail_events; DELETE FROM cloudtrail_resources;');
  }

  /** The id of the newest event ever written (ids only grow), 0 if none. */
  lastEventId(): number {
    this.flushPending();
    return Number(this.lastId.get() ?? 0);
  }

  /** Events of an account with lastId < id ≤ upTo, oldest first (log delivery). */
  since(account: string, afterId: number, upTo: number, limit: number): { id: number; region: string; eventSource: string; record: string }[] {
    this.flushPending();
    return (this.range.all(afterId, upTo, account, limit) as { id: number; region: string; event_source: string; record: string }[])
      .map((r) => ({ id: r.id, region: r.region, eventSource: r.event_source, record: r.record }));
  }

  private statement(key: string, sql: () => string): Database.Statement {
    let s = this.queries.get(key);
    if (!s) this.queries.set(key, (s = this.db.prepare(sql())));
    return s;
  }

  /** Newest first; `limit` rows at most. */
  lookup(q: Query): StoredEvent[] {
    this.flushPending();
    const before = q.before ?? { t: FAR, id: FAR };
    // Older than the cursor: t ≤ its time (the range's upper bound, so the index seeks to it),
    // and within its second, a smaller id.
    const to = Math.min(q.to, before.t);
    const attr = q.attribute;
    let rows: Row[];
    if (attr && (attr.key === 'ResourceType' || attr.key === 'ResourceName')) {
      const s = this.statement('resource', () => `SELECT ${SELECT} FROM cloudtrail_resources r CROSS JOIN cloudtrail_events e ON e.id = r.event
        WHERE r.account = @account AND r.region = @region AND r.kind = @kind AND r.value = @value AND r.t >= @from AND r.t <= @to
          AND NOT (r.t = @bt AND r.event >= @bid)
        ORDER BY r.t DESC, r.event DESC LIMIT @limit`);
      rows = s.all({ account: q.account, region: q.region, kind: attr.key === 'ResourceType' ? 'T' : 'N', value: attr.value, from: q.from, to, bt: before.t, bid: before.id, limit: q.limit }) as Row[];
    } else if (attr) {
      const [col, index] = COLUMN[attr.key as keyof typeof COLUMN];
      const s = this.statement(attr.key, () => `SELECT ${SELECT} FROM cloudtrail_events e INDEXED BY ${index}
        WHERE e.account = @account AND e.region = @region AND e.${col} = @value AND e.t >= @from AND e.t <= @to
          AND NOT (e.t = @bt AND e.id >= @bid)
        ORDER BY e.t DESC, e.id DESC LIMIT @limit`);
      const value = attr.key === 'ReadOnly' ? (attr.value === 'true' ? 1 : 0) : attr.value;
      rows = s.all({ account: q.account, region: q.region, value, from: q.from, to, bt: before.t, bid: before.id, limit: q.limit }) as Row[];
    } else {
      const s = this.statement('all', () => `SELECT ${SELECT} FROM cloudtrail_events e INDEXED BY cloudtrail_events_time
        WHERE e.account = @account AND e.region = @region AND e.t >= @from AND e.t <= @to
          AND NOT (e.t = @bt AND e.id >= @bid)
        ORDER BY e.t DESC, e.id DESC LIMIT @limit`);
      rows = s.all({ account: q.account, region: q.region, from: q.from, to, bt: before.t, bid: before.id, limit: q.limit }) as Row[];
    }
    return rows.map((r) => ({
      id: r.id, t: r.t, eventId: r.event_id, eventName: r.event_name, eventSource: r.event_source, username: r.username,
      accessKeyId: r.access_key_id, readOnly: r.read_only === 1, resources: r.resources ? (JSON.parse(r.resources) as LookupResource[]) : [], record: r.record,
    }));
  }

  /** The query plan of a lookup (tests check that every attribute uses an index). */
  plan(key: LookupKey | undefined): string[] {
    const q: Query = { account: 'a', region: 'r', attribute: key ? { key, value: key === 'ReadOnly' ? 'true' : 'v' } : undefined, from: 0, to: FAR, limit: 1 };
    this.lookup(q);
    const stmt = this.queries.get(key === 'ResourceType' || key === 'ResourceName' ? 'resource' : key ?? 'all')!;
    const rows = this.db.prepare(`EXPLAIN QUERY PLAN ${stmt.source}`).all(
      key === 'ResourceType' || key === 'ResourceName'
        ? { account: 'a', region: 'r', kind: 'T', value: 'v', from: 0, to: 1, bt: 1, bid: 1, limit: 1 }
        : key ? { account: 'a', region: 'r', value: 'v', from: 0, to: 1, bt: 1, bid: 1, limit: 1 } : { account: 'a', region: 'r', from: 0, to: 1, bt: 1, bid: 1, limit: 1 },
    ) as { detail: string }[];
    return rows.map((r) => r.detail);
  }
}
