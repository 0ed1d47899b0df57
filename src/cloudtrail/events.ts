// The event history: one SQLite row per management event in the store's database (so it
// survives restarts and is written in the call's own transaction). The row is all that a call
// writes: LookupEvents' indexes (one per lookup attribute, resources included) live in memory,
// built from the rows on the first lookup and kept up to date by every insert after it. SQL
// indexes for the eight attributes cost each call ~90 µs of b-tree writes (most of its time);
// the in-memory ones cost ~2 µs and answer a lookup by binary search.
import type Database from 'better-sqlite3';
import type { AuditEvent } from './record.ts';
import type { LookupResource } from './resources.ts';
export const RETENTION_MS = 90 * 86_400_000;

export type LookupKey = 'EventId' | 'EventName' | 'ReadOnly' | 'Username' | 'ResourceType' | 'ResourceName' | 'EventSource' | 'AccessKeyId';
export const LOOKUP_KEYS: readonly LookupKey[] = [
  'EventId',
  'EventName',
  'ReadOnly',
  'Username',
  'ResourceType',
  'ResourceName',
  'EventSource',
  'AccessKeyId',
];

interface StoredEvent {
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
  id: number;
  t: number;
  event_id: string;
  event_name: string;
  event_source: string;
  username: string | null;
  access_key_id: string | null;
  read_only: number;
  resources: string | null;
  record: string;
}

/** Event ids in (t, id) order, as two parallel arrays: lookups walk them newest first. */
class Postings {
  t: number[] = [];
  id: number[] = [];

  add(t: number, id: number): void {
    const n = this.t.length;
    if (n === 0 || t > this.t[n - 1]! || (t === this.t[n - 1]! && id > this.id[n - 1]!)) {
      this.t.push(t);
      this.id.push(id);
      return;
    }
    // A clock set back (virtual clocks can be): keep the order.
    const at = this.upperBound(t, id);
    this.t.splice(at, 0, t);
    this.id.splice(at, 0, id);
  }

  /** The number of entries ≤ (t, id). */
  upperBound(t: number, id: number): number {
    let lo = 0;
    let hi = this.t.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const mt = this.t[mid]!;
      if (mt < t || (mt === t && this.id[mid]! <= id)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drops entries older than t; returns how many remain. */
  dropBefore(t: number): number {
    const k = this.upperBound(t - 1, Number.MAX_SAFE_INTEGER);
    if (k > 0) {
      this.t.splice(0, k);
      this.id.splice(0, k);
    }
    return this.t.length;
  }
}

const SELECT = 'id, t, event_id, event_name, event_source, username, access_key_id, read_only, resources, record';
const FAR = Number.MAX_SAFE_INTEGER;
/** Indexes of state directories written before the lookup indexes moved into memory. */
const LEGACY = [
  'cloudtrail_events_time',
  'cloudtrail_events_name',
  'cloudtrail_events_user',
  'cloudtrail_events_source',
  'cloudtrail_events_key',
  'cloudtrail_events_ro',
  'cloudtrail_events_eid',
];

export class EventStore {
  private readonly insertEvent: Database.Statement;
  private readonly pruneEvents: Database.Statement;
  private readonly lastId: Database.Statement;
  private readonly range: Database.Statement;
  private readonly byId: Database.Statement;
  /** scope (account/region) → lookup key ('' for all events, else `Attribute\0value`) → postings; built on first use. */
  private index: Map<string, Map<string, Postings>> | undefined;

  constructor(readonly db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS cloudtrail_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL, region TEXT NOT NULL, t INTEGER NOT NULL,
        event_id TEXT NOT NULL, event_name TEXT NOT NULL, event_source TEXT NOT NULL,
        username TEXT, access_key_id TEXT, read_only INTEGER NOT NULL,
        resources TEXT, record TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS cloudtrail_events_age ON cloudtrail_events (t);
      ${LEGACY.map((i) => `DROP INDEX IF EXISTS ${i};`).join(' ')}
      DROP TABLE IF EXISTS cloudtrail_resources;`);
    this.insertEvent = db.prepare(`INSERT INTO cloudtrail_events
      (account, region, t, event_id, event_name, event_source, username, access_key_id, read_only, resources, record)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.pruneEvents = db.prepare('DELETE FROM cloudtrail_events WHERE t < ?');
    this.lastId = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'cloudtrail_events'").pluck();
    this.range = db.prepare(`SELECT id, region, event_source, event_name, read_only, record FROM cloudtrail_events
      WHERE id > ? AND id <= ? AND account = ? ORDER BY id LIMIT ?`);
    this.byId = db.prepare(`SELECT ${SELECT} FROM cloudtrail_events WHERE id = ?`);
  }

  /** Writes one event (call inside a transaction: Tx.write). Returns its row id. */
  insert(e: AuditEvent): number {
    const t = Math.floor(e.time / 1000);
    const info = this.insertEvent.run(
      e.account,
      e.region,
      t,
      e.eventId,
      e.eventName,
      e.eventSource,
      e.username ?? null,
      e.accessKeyId ?? null,
      e.readOnly ? 1 : 0,
      e.resources.length ? JSON.stringify(e.resources) : null,
      e.record,
    );
    const id = Number(info.lastInsertRowid);
    if (this.index)
      this.addToIndex(
        this.index,
        e.account,
        e.region,
        t,
        id,
        e.eventId,
        e.eventName,
        e.eventSource,
        e.username ?? null,
        e.accessKeyId ?? null,
        e.readOnly,
        e.resources,
      );
    return id;
  }

  /** Many events in one transaction (benchmarks, imports). */
  insertMany(events: AuditEvent[]): void {
    this.db.transaction(() => {
      for (const e of events) this.insert(e);
    })();
  }

  /** Forgets the in-memory indexes (rebuilt from the rows on the next lookup): after a rollback. */
  invalidate(): void {
    this.index = undefined;
  }

  private addToIndex(
    index: Map<string, Map<string, Postings>>,
    account: string,
    region: string,
    t: number,
    id: number,
    eventId: string,
    eventName: string,
    eventSource: string,
    username: string | null,
    accessKeyId: string | null,
    readOnly: boolean,
    resources: LookupResource[],
  ): void {
    const scope = `${account}/${region}`;
    let m = index.get(scope);
    if (!m) index.set(scope, (m = new Map()));
    const post = (k: string) => {
      let p = m.get(k);
      if (!p) m.set(k, (p = new Postings()));
      p.add(t, id);
    };
    post('');
    post(`EventId\0${eventId}`);
    post(`EventName\0${eventName}`);
    post(`EventSource\0${eventSource}`);
    post(`ReadOnly\0${readOnly ? 'true' : 'false'}`);
    if (username !== null) post(`Username\0${username}`);
    if (accessKeyId !== null) post(`AccessKeyId\0${accessKeyId}`);
    // One posting per distinct type and per distinct name, so an event never shows twice.
    const seen = new Set<string>();
    for (const r of resources) {
      for (const k of [`ResourceType\0${r.ResourceType}`, `ResourceName\0${r.ResourceName}`]) {
        if (!seen.has(k)) {
          seen.add(k);
          post(k);
        }
      }
    }
  }

  /** The indexes, built from every stored row the first time a lookup needs them. */
  private built(): Map<string, Map<string, Postings>> {
    if (this.index) return this.index;
    const index = new Map<string, Map<string, Postings>>();
    const rows = this.db
      .prepare(
        `SELECT id, account, region, t, event_id, event_name, event_source, username, access_key_id, read_only, resources
      FROM cloudtrail_events ORDER BY t, id`,
      )
      .raw()
      .iterate() as Iterable<[number, string, string, number, string, string, string, string | null, string | null, number, string | null]>;
    for (const [id, account, region, t, eid, name, source, user, key, ro, res] of rows) {
      this.addToIndex(
        index,
        account,
        region,
        t,
        id,
        eid,
        name,
        source,
        user,
        key,
        ro === 1,
        res ? (JSON.parse(res) as LookupResource[]) : [],
      );
    }
    this.index = index;
    return index;
  }

  /** Drops events older than the cutoff (epoch ms). */
  prune(cutoffMs: number): number {
    const t = Math.floor(cutoffMs / 1000);
    const n = this.pruneEvents.run(t).changes;
    if (n > 0 && this.index) {
      for (const m of this.index.values()) {
        for (const [k, p] of m) if (p.dropBefore(t) === 0) m.delete(k);
      }
    }
    return n;
  }

  clear(): void {
    this.index = undefined;
    this.db.exec('DELETE FROM cloudtrail_events;');
  }

  /** The id of the newest event ever written (ids only grow), 0 if none. */
  lastEventId(): number {
    return Number(this.lastId.get() ?? 0);
  }

  /** Events of an account with lastId < id ≤ upTo, oldest first (log delivery). */
  since(
    account: string,
    afterId: number,
    upTo: number,
    limit: number,
  ): { id: number; region: string; eventSource: string; eventName: string; readOnly: boolean; record: string }[] {
    return (
      this.range.all(afterId, upTo, account, limit) as {
        id: number;
        region: string;
        event_source: string;
        event_name: string;
        read_only: number;
        record: string;
      }[]
    ).map((r) => ({
      id: r.id,
      region: r.region,
      eventSource: r.event_source,
      eventName: r.event_name,
      readOnly: r.read_only === 1,
      record: r.record,
    }));
  }

  /** Newest first; `limit` rows at most. */
  lookup(q: Query): StoredEvent[] {
    const m = this.built().get(`${q.account}/${q.region}`);
    const a = q.attribute;
    const p = m?.get(!a ? '' : a.key === 'ReadOnly' ? `ReadOnly\0${a.value === 'true' ? 'true' : 'false'}` : `${a.key}\0${a.value}`);
    const out: StoredEvent[] = [];
    if (!p) return out;
    // Older than the cursor (t, id), and no newer than `to`.
    const before = q.before ?? { t: FAR, id: FAR };
    const upper = before.t <= q.to ? p.upperBound(before.t, before.id - 1) : p.upperBound(q.to, FAR);
    for (let i = upper - 1; i >= 0 && out.length < q.limit; i--) {
      if (p.t[i]! < q.from) break;
      const r = this.byId.get(p.id[i]!) as Row | undefined;
      if (!r) continue;
      out.push({
        id: r.id,
        t: r.t,
        eventId: r.event_id,
        eventName: r.event_name,
        eventSource: r.event_source,
        username: r.username,
        accessKeyId: r.access_key_id,
        readOnly: r.read_only === 1,
        resources: r.resources ? (JSON.parse(r.resources) as LookupResource[]) : [],
        record: r.record,
      });
    }
    return out;
  }
}
