// CloudTrail's engine: records every call the gateway answers as one management event (in the
// call's own transaction), keeps 90 days of them, and delivers what was logged while a trail
// was logging — the events its selectors select (selectors.ts) — as gzip log files in AWS's
// layout under the state directory:
//   <stateDir>/cloudtrail/[prefix/]AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/
//     ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_RANDOM.json.gz   → {"Records":[…]}
// Delivery runs every DELIVERY_MS of the server clock (a virtual clock delivers as soon as it
// is advanced past the due time), after FLUSH_EVERY new events, or when flush() is called.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import type { AdvancedEventSelector, EventSelector, InsightSelector } from '@aws-sdk/client-cloudtrail';
import { dirname, join } from 'node:path';
import { zlib, crypto } from '../core/lazy.ts';
import type { Store, Doc } from '../store/store.ts';
import type { Clock } from '../core/clock.ts';
import type { Ctx, ServerConfig, ServiceDef } from '../core/context.ts';
import type { ApiError } from '../core/errors.ts';
import type { CallObserver } from '../gateway/server.ts';
import type { Logger } from '../core/log.ts';
import { EventStore, RETENTION_MS } from './events.ts';
import { buildEvent } from './record.ts';
import { selectsEvent } from './selectors.ts';
import { findBucket } from '../services/s3/storage.ts';
import { deliveryAllowed, type Delivery as BucketDelivery } from '../services/s3/bucket-policy.ts';

export const TRAIL_KIND = 'cloudtrail-trail';

/** A trail: kind TRAIL_KIND, scope ACCOUNT/HOME-REGION, id = its name. */
export interface TrailDoc extends Doc {
  name: string;
  arn: string;
  account: string;
  homeRegion: string;
  bucket: string;
  prefix?: string;
  snsTopicName?: string;
  includeGlobal: boolean;
  multiRegion: boolean;
  validation: boolean;
  cwLogGroupArn?: string;
  cwRoleArn?: string;
  kmsKeyId?: string;
  tags: { Key: string; Value?: string }[];
  /** PutEventSelectors' classic selectors (none: the default, all management events) … */
  eventSelectors?: EventSelector[];
  /** … or its advanced selectors (a trail has one kind or the other). */
  advancedEventSelectors?: AdvancedEventSelector[];
  insightSelectors?: InsightSelector[];
  logging: boolean;
  startTime?: number;
  stopTime?: number;
  latestDeliveryTime?: number;
  latestDeliveryAttempt?: number;
  latestDeliveryError?: string;
  /** Event-id ranges (after, through] logged but not delivered yet; `through` is null while logging. */
  pending: [number, number | null][];
  created: number;
}

const DELIVERY_MS = 5 * 60_000;
const FLUSH_EVERY = 1000;
const RECORDS_PER_FILE = 5000;
const PRUNE_EVERY_MS = 3_600_000;
const GLOBAL_SOURCE = 'iam.amazonaws.com';

export interface Delivery {
  files: string[];
  records: number;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function randomName(n: number): string {
  const b = crypto().randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[b[i]! % ALNUM.length];
  return s;
}

/** The key of a trail's log file of `region` at `now`, under its prefix: `[prefix/]AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/…json.gz`. */
export function trailLogKey(
  trail: Pick<TrailDoc, 'account' | 'prefix'>,
  region: string,
  now: number,
  random = 'EXAMPLE0123456789',
): string {
  const d = new Date(now);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const yyyy = String(d.getUTCFullYear());
  const mm = p2(d.getUTCMonth() + 1);
  const dd = p2(d.getUTCDate());
  const stamp = `${yyyy}${mm}${dd}T${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}Z`;
  const prefix = (trail.prefix ?? '')
    .split('/')
    .filter((s) => s && s !== '.' && s !== '..')
    .join('/');
  return `${prefix ? `${prefix}/` : ''}AWSLogs/${trail.account}/CloudTrail/${region}/${yyyy}/${mm}/${dd}/${trail.account}_CloudTrail_${region}_${stamp}_${random}.json.gz`;
}

/** What CloudTrail is, for the trail's bucket policy: its service principal writing the trail's log files. */
export function trailDelivery(
  trail: Pick<TrailDoc, 'account' | 'prefix' | 'arn' | 'homeRegion'>,
  partition: string,
  now: number,
): BucketDelivery {
  return {
    service: 'cloudtrail.amazonaws.com',
    account: trail.account,
    sourceArn: trail.arn,
    partition,
    key: trailLogKey(trail, trail.homeRegion, now),
  };
}

export class CloudTrail implements CallObserver {
  readonly events: EventStore;
  readonly store: Store;
  private readonly clock: Clock;
  private readonly config: ServerConfig;
  private readonly log?: Logger;
  private lastPrune = -Infinity;
  private sinceFlush = 0;
  private flushScheduled = false;
  private nextDelivery: number;
  private readonly timer: NodeJS.Timeout;

  constructor(opts: { store: Store; clock: Clock; config: ServerConfig; log?: Logger }) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.config = opts.config;
    this.log = opts.log;
    this.events = new EventStore(this.store.db);
    this.store.onReset(() => {
      this.events.clear();
      this.sinceFlush = 0;
    });
    this.store.onAbort(() => this.events.invalidate());
    this.pruneNow();
    this.nextDelivery = this.clock.now() + DELIVERY_MS;
    this.timer = setInterval(() => this.tick(), 15_000);
    this.timer.unref();
    const c = this.clock as Clock & { onChange?: (l: (now: number) => void) => void };
    c.onChange?.(() => this.tick());
  }

  /** The gateway calls this for every call, inside the call's transaction. Never throws. */
  onCall(
    ctx: Ctx,
    call: { service: ServiceDef; action: string; input?: Record<string, unknown>; output?: Record<string, unknown>; error?: ApiError },
  ): void {
    try {
      const event = buildEvent(ctx, call);
      const now = ctx.clock.now();
      // In the call's transaction (reads too: group commit makes that one commit per turn of the
      // event loop, not per call), so an acknowledged call always has its event on disk.
      ctx.tx.write(() => {
        this.events.insert(event);
        if (Math.abs(now - this.lastPrune) >= PRUNE_EVERY_MS) {
          this.lastPrune = now;
          this.events.prune(now - RETENTION_MS);
        }
      });
      if (++this.sinceFlush >= FLUSH_EVERY && !this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          this.safeFlush();
        });
      }
    } catch (e) {
      this.log?.error(`cloudtrail: could not record ${call.service.name}:${call.action}: ${(e as Error).stack ?? e}`);
    }
  }

  /** Drops events past the 90-day retention (also done on writes, at most hourly). */
  pruneNow(): number {
    const now = this.clock.now();
    this.lastPrune = now;
    return this.events.prune(now - RETENTION_MS);
  }

  private tick(): void {
    if (!this.store.db.open) {
      clearInterval(this.timer);
      return;
    }
    if (this.clock.now() >= this.nextDelivery) this.safeFlush();
  }

  private safeFlush(): void {
    try {
      if (this.store.db.open) this.flush();
    } catch (e) {
      this.log?.error(`cloudtrail: delivery failed: ${(e as Error).stack ?? e}`);
    }
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Every trail, each with its (account/home-region) scope. */
  trails(): TrailDoc[] {
    const out: TrailDoc[] = [];
    for (const scope of this.store.scopes(TRAIL_KIND))
      for (const d of this.store.table(TRAIL_KIND, scope).values()) out.push(d as TrailDoc);
    return out;
  }

  /**
   * Delivers to every trail what it logged since its last delivery: one gzip file per region
   * (at most RECORDS_PER_FILE records each). Without a state directory nothing is written, but
   * the trail's cursor still moves on.
   */
  flush(): Delivery {
    const now = this.clock.now();
    this.nextDelivery = now + DELIVERY_MS;
    this.sinceFlush = 0;
    const upTo = this.events.lastEventId();
    const result: Delivery = { files: [], records: 0 };
    for (const trail of this.trails()) {
      if (!trail.pending.length) continue;
      let delivered = 0;
      let error: string | undefined;
      const buffers = new Map<string, string[]>();
      let refused: string | null | undefined; // the bucket's answer, asked once per delivery
      const write = (region: string, records: string[]) => {
        if (!this.config.stateDir || !records.length) return;
        refused ??= this.bucketRefuses(trail, now);
        if (refused) {
          error = refused;
          return;
        }
        try {
          result.files.push(this.writeFile(trail, region, records, now));
        } catch (e) {
          error = (e as Error).message;
        }
      };
      const pending: [number, number | null][] = [];
      for (const [after, through] of trail.pending) {
        const end = through ?? upTo;
        let cursor = after;
        for (;;) {
          const rows = this.events.since(trail.account, cursor, end, RECORDS_PER_FILE);
          for (const r of rows) {
            if (!trail.multiRegion && r.region !== trail.homeRegion) continue;
            if (!trail.includeGlobal && r.eventSource === GLOBAL_SOURCE) continue;
            if (!selectsEvent(trail, r)) continue;
            let b = buffers.get(r.region);
            if (!b) buffers.set(r.region, (b = []));
            b.push(r.record);
            delivered++;
            if (b.length >= RECORDS_PER_FILE) {
              write(r.region, b);
              buffers.set(r.region, []);
            }
          }
          if (rows.length < RECORDS_PER_FILE) break;
          cursor = rows[rows.length - 1]!.id;
        }
        if (through === null) pending.push([Math.max(after, end), null]);
      }
      for (const [region, b] of buffers) write(region, b);
      result.records += delivered;
      const tx = this.store.begin();
      const d = tx.edit<TrailDoc>(TRAIL_KIND, `${trail.account}/${trail.homeRegion}`, trail.id);
      if (d) {
        d.pending = pending;
        if (delivered && this.config.stateDir) {
          d.latestDeliveryAttempt = now;
          if (error) d.latestDeliveryError = error;
          else {
            d.latestDeliveryTime = now;
            delete d.latestDeliveryError;
          }
        }
      }
      tx.commit();
    }
    return result;
  }

  /**
   * What S3 would answer CloudTrail's delivery into the trail's bucket — NoSuchBucket, or
   * AccessDenied when its policy no longer lets cloudtrail.amazonaws.com write — or null: the
   * trail's LatestDeliveryError, and its files are not written.
   */
  private bucketRefuses(trail: TrailDoc, now: number): string | null {
    const bucket = findBucket(this.store.db, trail.bucket);
    if (!bucket) return 'NoSuchBucket';
    const partition = trail.arn.split(':')[1] ?? 'aws';
    return deliveryAllowed(this.store.db, bucket, trailDelivery(trail, partition, now)) ? null : 'AccessDenied';
  }

  private writeFile(trail: TrailDoc, region: string, records: string[], now: number): string {
    const file = join(this.config.stateDir!, 'cloudtrail', ...trailLogKey(trail, region, now, randomName(16)).split('/'));
    mkdirSync(dirname(file), { recursive: true });
    const body = zlib().gzipSync(Buffer.from(`{"Records":[${records.join(',')}]}`, 'utf8'));
    writeFileSync(`${file}.tmp`, body);
    renameSync(`${file}.tmp`, file);
    return file;
  }
}
