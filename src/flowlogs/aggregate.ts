// Aggregation of judged packets into flow log records, as VPC Flow Logs does it: per network
// interface, per flow (5-tuple + direction + action) and per aggregation window, counting packets
// and bytes, the first and last packet times and the TCP flags seen. Pure: no store, no clock.
import type { Observation } from '../dataplane/dataplane.ts';
import type { Direction } from '../dataplane/sg-policy.ts';

export type { Direction };
/**
 * One packet as the data plane judged it at one interface — or, with `packets`, several packets of
 * one flow counted together (the kernel data plane's conntrack and drop counters, kernel-flows.ts):
 * `bytes` is then their total.
 */
export type PacketObservation = Observation & { packets?: number };

/** What the record says about the interface, fixed when its first packet in the window is seen. */
interface InterfaceMeta {
  vpcId?: string;
  subnetId?: string;
  instanceId?: string;
  azId?: string;
}

export interface FlowAggregate extends InterfaceMeta {
  interfaceId: string;
  direction: Direction;
  proto: number;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  action: 'ACCEPT' | 'REJECT';
  packets: number;
  bytes: number;
  first: number; // ms
  last: number; // ms
  tcpFlags: number;
  /** egress only: 1 inside the VPC, 8 through the internet gateway */
  trafficPath?: number;
  /** the packet-level addresses, where they differ from src/dst (through a NAT gateway) */
  pktSrc?: string;
  pktDst?: string;
}

/** Flows that could not be kept (over the per-window cap): one SKIPDATA record. */
export interface SkipAggregate extends InterfaceMeta {
  interfaceId: string;
  flows: number;
  first: number;
  last: number;
}

export interface WindowAggregates {
  flows: Map<string, FlowAggregate>;
  skips: Map<string, SkipAggregate>;
  /** distinct flows kept per interface (the cap counts these) */
  perInterface: Map<string, number>;
}

export const DEFAULT_MAX_FLOWS_PER_INTERFACE = 10_000;

const TCP_FIN = 1,
  TCP_SYN = 2,
  TCP_RST = 4,
  TCP_ACK = 16;

/** The flags flow logs report: FIN, SYN, RST, and ACK only together with SYN (SYN-ACK = 18). */
export function reportedTcpFlags(flags: number): number {
  let out = flags & (TCP_FIN | TCP_SYN | TCP_RST);
  if (flags & TCP_SYN && flags & TCP_ACK) out |= TCP_ACK;
  return out;
}

/** Bytes of a packet: the size given, else the bare IP + transport headers. */
function packetBytes(o: Pick<PacketObservation, 'bytes' | 'proto' | 'src'>): number {
  if (o.bytes > 0) return o.bytes;
  const ip = o.src.includes(':') ? 40 : 20;
  return ip + (o.proto === 6 ? 20 : 8);
}

export const windowStart = (t: number, intervalMs: number) => Math.floor(t / intervalMs) * intervalMs;

export function flowKey(o: PacketObservation): string {
  const pkt = o.pktSrc !== undefined || o.pktDst !== undefined ? `|${o.pktSrc ?? ''}|${o.pktDst ?? ''}` : '';
  return `${o.interfaceId}|${o.direction}|${o.proto}|${o.src}|${o.srcPort}|${o.dst}|${o.dstPort}|${o.action}${pkt}`;
}

export function emptyWindow(): WindowAggregates {
  return { flows: new Map(), skips: new Map(), perInterface: new Map() };
}

type Touched = { kind: 'flow'; key: string; value: FlowAggregate } | { kind: 'skip'; key: string; value: SkipAggregate };

/** Adds one packet to a window; returns the aggregate it changed (for persistence). */
export function addPacket(
  w: WindowAggregates,
  o: PacketObservation,
  meta: InterfaceMeta & { trafficPath?: number },
  maxFlows = DEFAULT_MAX_FLOWS_PER_INTERFACE,
): Touched {
  const key = flowKey(o);
  const n = o.packets ?? 1;
  const bytes = o.packets === undefined ? packetBytes(o) : o.bytes;
  const flags = o.proto === 6 ? reportedTcpFlags(o.flags) : 0;
  const have = w.flows.get(key);
  if (have) {
    have.packets += n;
    have.bytes += bytes;
    have.first = Math.min(have.first, o.time);
    have.last = Math.max(have.last, o.time);
    have.tcpFlags |= flags;
    return { kind: 'flow', key, value: have };
  }
  const kept = w.perInterface.get(o.interfaceId) ?? 0;
  if (kept >= maxFlows) {
    const skipKey = `skip|${o.interfaceId}`;
    let s = w.skips.get(skipKey);
    if (!s) w.skips.set(skipKey, (s = { interfaceId: o.interfaceId, flows: 0, first: o.time, last: o.time, ...stripMeta(meta) }));
    s.flows++;
    s.first = Math.min(s.first, o.time);
    s.last = Math.max(s.last, o.time);
    return { kind: 'skip', key: skipKey, value: s };
  }
  const agg: FlowAggregate = {
    interfaceId: o.interfaceId,
    direction: o.direction,
    proto: o.proto,
    src: o.src,
    srcPort: o.srcPort,
    dst: o.dst,
    dstPort: o.dstPort,
    action: o.action,
    packets: n,
    bytes,
    first: o.time,
    last: o.time,
    tcpFlags: flags,
    ...stripMeta(meta),
    ...(meta.trafficPath !== undefined ? { trafficPath: meta.trafficPath } : {}),
    ...(o.pktSrc !== undefined ? { pktSrc: o.pktSrc } : {}),
    ...(o.pktDst !== undefined ? { pktDst: o.pktDst } : {}),
  };
  w.flows.set(key, agg);
  w.perInterface.set(o.interfaceId, kept + 1);
  return { kind: 'flow', key, value: agg };
}

function stripMeta(m: InterfaceMeta): InterfaceMeta {
  const out: InterfaceMeta = {};
  if (m.vpcId) out.vpcId = m.vpcId;
  if (m.subnetId) out.subnetId = m.subnetId;
  if (m.instanceId) out.instanceId = m.instanceId;
  if (m.azId) out.azId = m.azId;
  return out;
}

/** Rebuilds a window from persisted aggregates. */
export function restore(w: WindowAggregates, key: string, value: FlowAggregate | SkipAggregate): void {
  if (key.startsWith('skip|')) {
    w.skips.set(key, value as SkipAggregate);
    return;
  }
  const f = value as FlowAggregate;
  w.flows.set(key, f);
  w.perInterface.set(f.interfaceId, (w.perInterface.get(f.interfaceId) ?? 0) + 1);
}

type LogStatus = 'OK' | 'NODATA' | 'SKIPDATA';

export interface FlowRecord extends InterfaceMeta {
  status: LogStatus;
  interfaceId: string;
  /** Unix seconds */
  start: number;
  end: number;
  flow?: FlowAggregate;
}

export interface CoveredInterface extends InterfaceMeta {
  id: string;
  /** epoch ms the interface came to exist (0: before anything) */
  since: number;
}

/**
 * The records of the windows that closed in [from, to): the traffic's (OK), the skipped flows'
 * (SKIPDATA), and NODATA for each covered interface without traffic — a run of idle windows is
 * written as one NODATA record spanning it, so a long pause costs one record, not thousands.
 */
export function closeWindows(
  windows: Map<number, WindowAggregates>,
  from: number,
  to: number,
  intervalMs: number,
  covered: CoveredInterface[],
): { records: FlowRecord[]; closed: number[] } {
  const closed = [...windows.keys()].filter((ws) => ws + intervalMs <= to).sort((a, b) => a - b);
  const records: FlowRecord[] = [];
  const busy = new Map<string, number[]>();
  const mark = (iface: string, ws: number) => {
    let l = busy.get(iface);
    if (!l) busy.set(iface, (l = []));
    if (l[l.length - 1] !== ws) l.push(ws);
  };
  for (const ws of closed) {
    const w = windows.get(ws)!;
    for (const f of w.flows.values()) {
      records.push({
        status: 'OK',
        interfaceId: f.interfaceId,
        start: Math.floor(f.first / 1000),
        end: Math.floor(f.last / 1000),
        flow: f,
        ...stripMeta(f),
      });
      mark(f.interfaceId, ws);
    }
    for (const s of w.skips.values()) {
      records.push({
        status: 'SKIPDATA',
        interfaceId: s.interfaceId,
        start: Math.floor(s.first / 1000),
        end: Math.floor(s.last / 1000),
        ...stripMeta(s),
      });
      mark(s.interfaceId, ws);
    }
  }
  for (const iface of covered) {
    const traffic = (busy.get(iface.id) ?? []).sort((a, b) => a - b);
    let gapStart = Math.max(from, iface.since);
    const emit = (gapEnd: number) => {
      if (gapEnd > gapStart) {
        records.push({
          status: 'NODATA',
          interfaceId: iface.id,
          start: Math.floor(gapStart / 1000),
          end: Math.ceil(gapEnd / 1000) - 1,
          ...stripMeta(iface),
        });
      }
    };
    for (const ws of traffic) {
      emit(ws);
      gapStart = Math.max(gapStart, ws + intervalMs);
    }
    emit(to);
  }
  records.sort((a, b) => a.start - b.start || a.interfaceId.localeCompare(b.interfaceId) || a.end - b.end);
  return { records, closed };
}
