// The VPC Flow Logs engine: turns the traffic the data plane judged into flow log records and
// delivers them to CloudWatch Logs or S3 when each aggregation window closes on the server clock.
// (The EC2 API of flow logs — CreateFlowLogs, DescribeFlowLogs, DeleteFlowLogs — is
// services/ec2/flow-logs.ts.)
//
// Where the data lives: the flow log configuration is a store document; the open windows'
// aggregates are kept in memory and written through to the `flowlog_pending` table with every
// batch of packets, so a restart loses nothing; a window's records are delivered — and its
// pending rows removed — in one transaction together with the log events / S3 object metadata.
import { zlib } from '../core/lazy.ts';
import { internalCtx, type Ctx, type ServerConfig } from '../core/context.ts';
import type { ChangeEvent, Store } from '../store/store.ts';
import { VirtualClock, type Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { Observation } from '../dataplane/dataplane.ts';
import { rootPrincipal } from '../auth/principals.ts';
import { addressSet, parseAddress, setHas, type AddressSet } from '../dataplane/addresses.ts';
import { KIND, type EniDoc, type FlowLogDoc, type VpcDoc } from '../core/documents/ec2.ts';
import { formatVersion, parseLogFormat } from './fields.ts';
import {
  addPacket,
  closeWindows,
  DEFAULT_MAX_FLOWS_PER_INTERFACE,
  emptyWindow,
  restore,
  windowStart,
  type CoveredInterface,
  type FlowAggregate,
  type SkipAggregate,
  type WindowAggregates,
} from './aggregate.ts';
import { formatRecord, headerLine, s3ObjectKey } from './format.ts';
import { deliverLogEvents } from '../services/logs/index.ts';
import { findBucket, type S3Storage } from '../services/s3/storage.ts';
import { deliveryAllowed } from '../services/s3/bucket-policy.ts';
import { flowLogDelivery } from './destination.ts';

const PENDING_SCHEMA = `CREATE TABLE IF NOT EXISTS flowlog_pending (fl TEXT NOT NULL, win INTEGER NOT NULL, k TEXT NOT NULL, rec TEXT NOT NULL,
  PRIMARY KEY (fl, win, k)) WITHOUT ROWID`;

/** Drops a deleted flow log's open windows (in the call's transaction). */
export function forgetPending(ctx: Ctx, flowLogId: string): void {
  ctx.tx.write((db) => {
    db.exec(PENDING_SCHEMA);
    db.prepare('DELETE FROM flowlog_pending WHERE fl = ?').run(flowLogId);
  });
}

interface EniMeta extends CoveredInterface {
  scope: string;
  vpcId: string;
  subnetId: string;
}

interface ActiveLog {
  doc: FlowLogDoc;
  scope: string;
  fields: string[];
  version: number;
  intervalMs: number;
}

/** Traffic AWS never logs: instance metadata and time sync. */
// What flow logs never record (VPC Flow Logs guide, "Limitations"): traffic with the metadata
// service, the time sync service and the Amazon DNS server (169.254.169.253 — where the kernel data
// plane also offers Palisade's own API inside an instance).
const NOT_LOGGED = new Set(['169.254.169.254', '169.254.169.123', '169.254.169.253', 'fd00:ec2::254', 'fd00:ec2::123']);

interface FlowLogEngineDeps {
  store: Store;
  clock: Clock;
  config: ServerConfig;
  s3: S3Storage;
  log?: Logger;
  /** distinct flows kept per interface per window before SKIPDATA (default 10 000) */
  maxFlowsPerInterface?: number;
}

export class FlowLogEngine {
  private readonly enis = new Map<string, EniMeta>();
  private readonly logs = new Map<string, ActiveLog>();
  private readonly byResource = new Map<string, Set<string>>();
  private readonly pending = new Map<string, Map<number, WindowAggregates>>();
  private readonly vpcCidrs = new Map<string, AddressSet>();
  private persistBatch?: (rows: [string, number, string, string][]) => void;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private delivering = false;
  readonly maxFlows: number;

  constructor(private readonly deps: FlowLogEngineDeps) {
    const { store, clock } = deps;
    this.maxFlows = deps.maxFlowsPerInterface ?? DEFAULT_MAX_FLOWS_PER_INTERFACE;
    // The table exists from the start (outside any group commit); its statements are prepared, and
    // the records it holds restored, when a flow log first needs them (pendingTable).
    store.db.exec(PENDING_SCHEMA);
    store.onReset((db) => db.exec('DELETE FROM flowlog_pending'));
    for (const scope of store.scopes(KIND.eni)) {
      for (const doc of store.table(KIND.eni, scope).values()) this.setEni(scope, doc as EniDoc, 0);
    }
    for (const scope of store.scopes(KIND.flowLog)) {
      for (const doc of store.table(KIND.flowLog, scope).values()) this.setLog(scope, doc as FlowLogDoc);
    }
    store.onChange((events) => this.onChange(events));
    if (clock instanceof VirtualClock) clock.onChange((now) => this.deliverDue(now));
    else this.timer = setInterval(() => this.deliverDue(clock.now()), 1000).unref();
    this.deliverDue(clock.now());
  }

  /**
   * The writer of pending records, made (and what the table holds restored) when a flow log first
   * needs it: at start if the state has flow logs, else when one is created. A start without flow
   * logs prepares and scans nothing (a cold start's first answer does not wait for it).
   */
  private pendingTable(): (rows: [string, number, string, string][]) => void {
    if (this.persistBatch) return this.persistBatch;
    const { store } = this.deps;
    const upsert = store.db.prepare(
      'INSERT INTO flowlog_pending (fl, win, k, rec) VALUES (?, ?, ?, ?) ON CONFLICT (fl, win, k) DO UPDATE SET rec = excluded.rec',
    );
    this.persistBatch = store.db.transaction((rows: [string, number, string, string][]) => {
      for (const r of rows) upsert.run(...r);
    });
    const orphans: string[] = [];
    for (const row of store.db.prepare('SELECT fl, win, k, rec FROM flowlog_pending').iterate() as Iterable<{
      fl: string;
      win: number;
      k: string;
      rec: string;
    }>) {
      if (!this.logs.has(row.fl)) {
        orphans.push(row.fl);
        continue;
      }
      restore(this.window(row.fl, row.win), row.k, JSON.parse(row.rec) as FlowAggregate | SkipAggregate);
    }
    for (const fl of new Set(orphans)) store.db.prepare('DELETE FROM flowlog_pending WHERE fl = ?').run(fl);
    return this.persistBatch;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
  }

  private window(fl: string, win: number): WindowAggregates {
    let wins = this.pending.get(fl);
    if (!wins) this.pending.set(fl, (wins = new Map()));
    let w = wins.get(win);
    if (!w) wins.set(win, (w = emptyWindow()));
    return w;
  }

  private setEni(scope: string, e: EniDoc, since: number): void {
    const instanceId = e.attachment?.instanceId;
    this.enis.set(e.id, {
      id: e.id,
      scope,
      vpcId: e.vpcId,
      subnetId: e.subnetId,
      azId: e.azId,
      since,
      ...(instanceId ? { instanceId } : {}),
    });
  }

  private setLog(scope: string, doc: FlowLogDoc): void {
    const old = this.logs.get(doc.id);
    if (old) this.byResource.get(`${old.scope}\u0000${old.doc.resourceId}`)?.delete(doc.id);
    const fields = parseLogFormat(doc.customFormat ? doc.logFormat : undefined);
    this.logs.set(doc.id, {
      doc,
      scope,
      fields,
      version: formatVersion(fields, doc.customFormat),
      intervalMs: doc.maxAggregationInterval * 1000,
    });
    const key = `${scope}\u0000${doc.resourceId}`;
    let set = this.byResource.get(key);
    if (!set) this.byResource.set(key, (set = new Set()));
    set.add(doc.id);
  }

  private dropLog(id: string): void {
    const old = this.logs.get(id);
    if (!old) return;
    this.byResource.get(`${old.scope}\u0000${old.doc.resourceId}`)?.delete(id);
    this.logs.delete(id);
    this.pending.delete(id);
  }

  private onChange(events: ChangeEvent[]): void {
    const gone: { scope: string; id: string }[] = [];
    for (const e of events) {
      if (e.kind === KIND.eni) {
        if (e.after) this.setEni(e.scope, e.after as EniDoc, e.before ? (this.enis.get(e.id)?.since ?? 0) : this.deps.clock.now());
        else this.enis.delete(e.id);
      } else if (e.kind === KIND.flowLog) {
        if (e.after) this.setLog(e.scope, e.after as FlowLogDoc);
        else this.dropLog(e.id);
      } else if (e.kind === KIND.vpc) {
        this.vpcCidrs.delete(e.id);
      }
      if (!e.after && e.before && (e.kind === KIND.vpc || e.kind === KIND.subnet || e.kind === KIND.eni))
        gone.push({ scope: e.scope, id: e.id });
    }
    // A deleted VPC, subnet or interface takes its flow logs with it.
    const orphaned = gone.flatMap((g) => [...(this.byResource.get(`${g.scope}\u0000${g.id}`) ?? [])].map((fl) => ({ scope: g.scope, fl })));
    if (orphaned.length) queueMicrotask(() => this.deleteLogs(orphaned));
  }

  private deleteLogs(list: { scope: string; fl: string }[]): void {
    if (this.closed) return;
    this.pendingTable();
    const tx = this.deps.store.begin();
    for (const { scope, fl } of list) {
      if (!tx.get(KIND.flowLog, scope, fl)) continue;
      tx.delete(KIND.flowLog, scope, fl);
      tx.write((db) => db.prepare('DELETE FROM flowlog_pending WHERE fl = ?').run(fl));
    }
    tx.commit();
  }

  /** 1 when the destination is inside the interface's VPC, 8 (internet gateway) otherwise. */
  private trafficPath(m: EniMeta, dst: string): number {
    let set = this.vpcCidrs.get(m.vpcId);
    if (!set) {
      const vpc = this.deps.store.table(KIND.vpc, m.scope).get(m.vpcId) as VpcDoc | undefined;
      const cidrs = vpc ? [vpc.cidr, ...vpc.cidrAssociations.map((a) => a.cidr), ...vpc.ipv6.map((a) => a.cidr)] : [];
      set = addressSet(cidrs);
      this.vpcCidrs.set(m.vpcId, set);
    }
    const a = parseAddress(dst);
    return a && setHas(set, a) ? 1 : 8;
  }

  /** Subscriber to the data plane's judged traffic. */
  readonly observe = (batch: Observation[]): void => {
    if (this.logs.size === 0 || this.closed) return;
    const persist = this.pendingTable();
    const touched = new Map<string, [string, number, string, FlowAggregate | SkipAggregate]>();
    for (const o of batch) {
      if (NOT_LOGGED.has(o.src) || NOT_LOGGED.has(o.dst)) continue;
      const m = this.enis.get(o.interfaceId);
      if (!m) continue;
      for (const rid of [m.id, m.subnetId, m.vpcId]) {
        const set = this.byResource.get(`${m.scope}\u0000${rid}`);
        if (!set) continue;
        for (const fl of set) {
          const l = this.logs.get(fl)!;
          if (l.doc.trafficType !== 'ALL' && l.doc.trafficType !== o.action) continue;
          // A packet stamped before the last delivery (the clock was set back) goes to the open window.
          const win = Math.max(windowStart(o.time, l.intervalMs), windowStart(l.doc.deliveredTo, l.intervalMs));
          const instanceId = m.instanceId;
          const t = addPacket(
            this.window(fl, win),
            o,
            {
              vpcId: m.vpcId,
              subnetId: m.subnetId,
              azId: m.azId,
              ...(instanceId ? { instanceId } : {}),
              ...(o.direction === 'egress' ? { trafficPath: this.trafficPath(m, o.dst) } : {}),
            },
            this.maxFlows,
          );
          touched.set(`${fl}\u0000${win}\u0000${t.key}`, [fl, win, t.key, t.value]);
        }
      }
    }
    if (touched.size === 0) return;
    try {
      persist([...touched.values()].map(([fl, win, k, v]) => [fl, win, k, JSON.stringify(v)]));
    } catch (e) {
      this.deps.log?.error(`flow logs: could not persist pending records: ${(e as Error).message}`);
    }
  };

  private covered(l: ActiveLog): CoveredInterface[] {
    const rid = l.doc.resourceId;
    const out: CoveredInterface[] = [];
    for (const m of this.enis.values()) {
      if (m.scope !== l.scope || (m.id !== rid && m.subnetId !== rid && m.vpcId !== rid)) continue;
      out.push({
        id: m.id,
        since: m.since,
        vpcId: m.vpcId,
        subnetId: m.subnetId,
        azId: m.azId,
        ...(m.instanceId ? { instanceId: m.instanceId } : {}),
      });
    }
    return out;
  }

  /** Delivers every window that has closed by `now`, for every flow log. */
  deliverDue(now: number): void {
    if (this.closed || this.delivering || this.logs.size === 0) return;
    this.delivering = true;
    try {
      this.pendingTable();
      for (const l of [...this.logs.values()]) {
        const to = windowStart(now, l.intervalMs);
        if (to <= l.doc.deliveredTo) continue;
        try {
          this.deliver(l, to, now);
        } catch (e) {
          this.deps.log?.error(`flow logs: delivery of ${l.doc.id} failed: ${(e as Error).stack ?? e}`);
        }
      }
    } finally {
      this.delivering = false;
    }
  }

  private deliver(l: ActiveLog, to: number, now: number): void {
    const { store, clock, config, s3 } = this.deps;
    const wins = this.pending.get(l.doc.id) ?? new Map<number, WindowAggregates>();
    const { records, closed } = closeWindows(wins, l.doc.deliveredTo, to, l.intervalMs, this.covered(l));
    const [account, region] = l.scope.split('/') as [string, string];
    const ctx = internalCtx({ store, clock, config, principalFor: (a) => rootPrincipal(a, '') }, account, region, 'DeliverFlowLogs');
    try {
      const doc = ctx.tx.edit<FlowLogDoc>(KIND.flowLog, l.scope, l.doc.id);
      if (!doc) {
        ctx.tx.rollback();
        return;
      }
      doc.deliveredTo = to;
      const fmt = { account, region, version: l.version };
      if (records.length) {
        if (doc.destinationType === 'cloud-watch-logs') {
          const byEni = new Map<string, { timestamp: number; message: string }[]>();
          for (const r of records) {
            let list = byEni.get(r.interfaceId);
            if (!list) byEni.set(r.interfaceId, (list = []));
            list.push({ timestamp: r.start * 1000, message: formatRecord(l.fields, r, fmt) });
          }
          for (const [eni, events] of byEni) deliverLogEvents(ctx, doc.logGroupName!, eni, events);
          doc.deliverStatus = 'SUCCESS';
          delete doc.deliverError;
        } else {
          const bucket = findBucket(store.db, doc.bucket!);
          // Delivered only while the bucket's policy lets the log delivery service write.
          const partition = doc.logDestination?.split(':')[1] ?? 'aws';
          if (!bucket || !deliveryAllowed(store.db, bucket, flowLogDelivery(doc, account, region, partition, to))) {
            doc.deliverStatus = 'FAILED';
            doc.deliverError = 'Access error';
          } else {
            const text = `${headerLine(l.fields)}\n${records.map((r) => formatRecord(l.fields, r, fmt)).join('\n')}\n`;
            const body = zlib().gzipSync(text);
            const key = s3ObjectKey({
              prefix: doc.prefix,
              account,
              region,
              flowLogId: doc.id,
              time: to,
              content: body,
              hive: doc.destinationOptions?.hiveCompatiblePartitions,
              perHour: doc.destinationOptions?.perHourPartition,
            });
            s3.stagePut(ctx.tx, bucket, key, body, { contentType: 'application/octet-stream' }, now);
            doc.deliverStatus = 'SUCCESS';
            delete doc.deliverError;
          }
        }
      }
      const id = doc.id;
      ctx.tx.write((db) => db.prepare('DELETE FROM flowlog_pending WHERE fl = ? AND win < ?').run(id, to));
      ctx.tx.commit();
    } catch (e) {
      ctx.tx.rollback();
      throw e;
    }
    for (const ws of closed) wins.delete(ws);
  }
}
