// Flow logs from the kernel's traffic (`--dataplane kernel`): what the instance namespaces' kernels
// accepted and dropped, turned into the same `Observation`s the simulated data plane reports, and
// handed to the same observers (the flow-log engine aggregates them into records per interface,
// 5-tuple, direction and action per window, and delivers them when a window closes).
//
// Accepted traffic — connection tracking, per instance namespace (each has its own conntrack
// table, like an ENI):
// - `conntrack -E -o extended,timestamp,id` (one long-running child per namespace, supervised:
//   restarted with a backoff, killed when the namespace's last interface goes or the plane closes,
//   and by the kernel if the server dies — `setpriv --pdeathsig KILL` — so no orphan keeps a deleted
//   namespace alive; lines over MAX_LINE bytes and events over MAX_EVENTS_PER_S are dropped) gives
//   each connection's start (NEW), its TCP states (UPDATE) and its final counters (DESTROY);
// - `net.netfilter.nf_conntrack_acct=1` (set in each namespace) makes the kernel count packets and
//   bytes per direction of every connection; DESTROY events carry them, and a sample
//   (`conntrack -L -o extended,id`, every `sampleMs` and on `flush()`) reads the counters of the
//   connections still open, so a long-lived connection is counted in the window its packets
//   passed in (to the sample period), not all at its end.
// - A connection becomes two observations per sample: its originator's direction and the reply's,
//   with the packets and bytes since the last report (`packets` > 1 in one observation: the
//   aggregation adds them as that many packets). Direction: the namespace's own address is the
//   source of the original direction (the instance connected: egress, its reply ingress) or its
//   destination (ingress, reply egress); the interface is the one holding that address.
// - TCP flags are not counted by the kernel: they are derived from conntrack's states — SYN on the
//   originator's side, SYN-ACK on the reply's once answered, FIN on both once both closed
//   (LAST_ACK/TIME_WAIT), RST on the reply's side when an unanswered SYN was refused (SYN_SENT →
//   CLOSE) and on both otherwise (CLOSE). A flag is reported once, with the first packets after it.
// - Untracked flows (all-open rules both ways: `notrack`, nft-groups.ts) have no conntrack entry:
//   they are not logged. Nor is traffic on loopback or between two addresses of one namespace.
// - The kernel's counters are conntrack's: an unanswered connection counts its first SYN, not its
//   retransmissions (the receiver's REJECT record, from the drop counters, has them all).
//
// Dropped packets — nftables counters, not per-packet logs: the security-group gates (`input`,
// `output`, policy drop) end with `update @pal_drop…` lines (nft-groups.ts DROP_LINES) that count
// what is about to be dropped in dynamic sets keyed by the 5-tuple (TCP also by its flags) with a
// counter per element. A sample reads them (`nft -j list sets inet`) and reports the growth of each
// element as REJECT observations. Why not per-packet logging: the `log` statement writes to the
// kernel log, which is not readable per namespace (and off outside the initial one); `log group N`
// (NFLOG) needs a netlink reader — ulogd2 is not installed and hand-built netlink messages are
// what this project avoids; `nft monitor trace` traces every packet of the table. The counters need
// nothing but nft, cost one set update per dropped packet, and are bounded (DROP_SET_SIZE elements
// per set, idle ones expire after DROP_SET_TIMEOUT_S). Granularity achieved: per interface,
// direction and full 5-tuple (source and destination address and port, protocol; ports 0 for
// protocols without them, as flow logs write ICMP), packets and bytes, TCP flags per element;
// times to the second (an element's `expires` gives its last packet; the first is not known: a
// record's start is the last packet of its first sample). Drops beyond DROP_SET_SIZE distinct
// 5-tuples per namespace in DROP_SET_TIMEOUT_S are not counted.
//
// Network ACL drops — the same counters in each VPC router namespace (router-nft.ts
// ACL_DROP_SETS: the packets an ACL deny or `*` rule is about to drop, by 5-tuple): read on every
// sample, after the instances' (so a packet an instance's conntrack counted on its way out is, by
// then, in the router's counters if the router dropped it). An outbound drop is an egress REJECT at
// the interface holding the source address, an inbound one an ingress REJECT at the interface
// holding the destination (addresses from the interfaces' ready events: the router sees private
// addresses, the internet gateway's NAT being done before and after its forward hook) — as the
// simulated plane records them (dataplane.ts `judge`). What a router dropped on its way out was not
// accepted on AWS either: the sender's conntrack counted it (its security group let it out), so
// those packets are skipped in the ACCEPT report of that direction (the connection's baseline moves
// up by them) — a request allowed and its replies denied gives ACCEPT ingress for the request and
// REJECT egress for the replies at the server, no ACCEPT egress. (Skipped only for connections the
// sample lists: packets dropped after the last sample of a connection whose DESTROY came first are
// reported ACCEPT as well.)
//
// Time: the kernel stamps events in real time; the server's clock may be virtual. A kernel time is
// mapped to the server clock by its age: `clock.now() - (Date.now() - kernelTime)` — a packet that
// passed 2 s ago is 2 s before the server's now, whatever the server's now is. Counters read by a
// sample are stamped with the sample's time. So with `--clock virtual`, traffic lands in the window
// open when it was sampled: call `flush()` (or wait one sample) before advancing the clock over a
// window's end.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { Observation } from '../dataplane/dataplane.ts';
import type { PacketObservation } from '../flowlogs/aggregate.ts';
import { hasProgram, inNs, sysctl } from './exec.ts';
import { DROP_SETS, DROP_SET_TIMEOUT_S, TABLE } from './nft-groups.ts';
import { ACL_DROP_SETS, ACL_DROP_SET_TIMEOUT_S } from './router-nft.ts';
import type { InterfaceReady } from './kernel-plane.ts';

/** What the kernel plane tells about interfaces (KernelPlane implements it). */
export interface InterfaceSource {
  onInterfaceReady(cb: (e: InterfaceReady) => void): void;
  onInterfaceGone(cb: (e: { instanceId: string; interfaceId: string; namespace: string }) => void): void;
}

export interface KernelFlowsDeps {
  kernel: InterfaceSource;
  clock: Clock;
  log: Logger;
  /** where observations go (the server hands them to the traffic observers: the flow-log engine) */
  sink: (batch: Observation[]) => void;
  /** ms between samples of the counters (default 5000; 0: only `flush()`) */
  sampleMs?: number;
}

/** Longest conntrack event line kept (bytes); longer ones are dropped. */
export const MAX_LINE = 4096;
/** Events handled per namespace and second; more are dropped (their counters still come by sample). */
export const MAX_EVENTS_PER_S = 5000;
/** Connections followed per namespace (beyond: not logged). */
export const MAX_CONNS = 65536;

const TCP_FIN = 1,
  TCP_SYN = 2,
  TCP_RST = 4,
  TCP_ACK = 16;
const FLAG_BITS: Record<string, number> = { fin: 1, syn: 2, rst: 4, psh: 8, ack: 16, urg: 32, ecn: 64, cwr: 128 };
const PROTO_NUMBERS: Record<string, number> = {
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  'ipv6-icmp': 58,
  icmpv6: 58,
  sctp: 132,
};

// ---- parsing ------------------------------------------------------------------------------------

interface Tuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

/** One conntrack line (`-E -o extended,timestamp,id` or `-L -o extended,id`). */
export interface CtEntry {
  /** NEW / UPDATE / DESTROY for events; undefined for a listing */
  type?: 'NEW' | 'UPDATE' | 'DESTROY';
  /** the event's time (epoch ms, real), from `-o timestamp` */
  time?: number;
  proto: number;
  state?: string;
  orig: Tuple;
  reply: Tuple;
  /** counters, when nf_conntrack_acct is on */
  counters?: { op: number; ob: number; rp: number; rb: number };
  id: string;
}

/** Canonical text of an address (IPv6 compressed, lower case), as the store writes them. */
export function canonicalAddress(a: string): string {
  if (!a.includes(':')) return a;
  try {
    return new URL(`http://[${a}]/`).hostname.slice(1, -1);
  } catch {
    return a.toLowerCase();
  }
}

export function parseConntrackLine(line: string): CtEntry | undefined {
  let rest = line.trim();
  let time: number | undefined;
  let type: CtEntry['type'];
  const ts = /^\[(\d+)\.(\d+)\]\s*/.exec(rest);
  if (ts) {
    time = Number(ts[1]) * 1000 + Math.floor(Number(`0.${ts[2]}`) * 1000);
    rest = rest.slice(ts[0].length);
  }
  const ev = /^\[(NEW|UPDATE|DESTROY)\]\s*/.exec(rest);
  if (ev) {
    type = ev[1] as CtEntry['type'];
    rest = rest.slice(ev[0].length);
  }
  const words = rest.split(/\s+/);
  // ipv4 2 tcp 6 [timeout] [STATE] key=value… [FLAGS]
  if (words.length < 6 || (words[0] !== 'ipv4' && words[0] !== 'ipv6')) return undefined;
  const proto = Number(words[3]);
  if (!Number.isInteger(proto)) return undefined;
  const kv: Record<string, string[]> = {};
  let state: string | undefined;
  for (let i = 4; i < words.length; i++) {
    const w = words[i]!;
    const eq = w.indexOf('=');
    if (eq > 0) (kv[w.slice(0, eq)] ??= []).push(w.slice(eq + 1));
    else if (!kv.src && /^[A-Z_2]+$/.test(w)) state = w;
  }
  const [s0, s1] = kv.src ?? [];
  const [d0, d1] = kv.dst ?? [];
  const ids = kv.id ?? [];
  if (!s0 || !s1 || !d0 || !d1 || !ids.length) return undefined;
  const ported = proto === 6 || proto === 17 || proto === 132 || proto === 136;
  const port = (k: 'sport' | 'dport', i: number) => (ported ? Number(kv[k]?.[i] ?? 0) : 0);
  const entry: CtEntry = {
    proto,
    orig: { src: canonicalAddress(s0), dst: canonicalAddress(d0), sport: port('sport', 0), dport: port('dport', 0) },
    reply: { src: canonicalAddress(s1), dst: canonicalAddress(d1), sport: port('sport', 1), dport: port('dport', 1) },
    id: ids[ids.length - 1]!,
  };
  if (type) entry.type = type;
  if (time !== undefined) entry.time = time;
  if (state) entry.state = state;
  const p = kv.packets;
  const b = kv.bytes;
  if (p?.length === 2 && b?.length === 2) entry.counters = { op: Number(p[0]), ob: Number(b[0]), rp: Number(p[1]), rb: Number(b[1]) };
  return entry;
}

/** One element of a drop-accounting set (`nft -j list sets`). */
export interface DropElement {
  set: string;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  proto: number;
  flags: number;
  packets: number;
  bytes: number;
  /** seconds until it expires (so its last packet was DROP_SET_TIMEOUT_S - expires ago) */
  expires: number;
}

function flagBits(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return FLAG_BITS[v] ?? 0;
  if (Array.isArray(v)) return v.reduce((a: number, x) => a | flagBits(x), 0);
  if (v && typeof v === 'object' && '|' in v) return flagBits((v as Record<string, unknown>)['|']);
  return 0;
}

function protoNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  return typeof v === 'string' ? (PROTO_NUMBERS[v] ?? (Number.isInteger(Number(v)) ? Number(v) : -1)) : -1;
}

/**
 * The drop-accounting elements of `nft -j list sets inet` output (the table's other sets are
 * skipped): the instance gates' sets (DROP_SETS), or those named in `sets` (a router's ACL_DROP_SETS).
 */
type Counts = { packets: number; bytes: number };

/**
 * What a drop-accounting element counted since the last sample (an element that expired and came
 * back starts from 0), remembered under its key in `last`; undefined when nothing grew.
 */
function growth(last: Map<string, Counts>, seen: Set<string>, d: DropElement): Counts | undefined {
  const key = `${d.set}|${d.src}|${d.sport}|${d.dst}|${d.dport}|${d.proto}|${d.flags}`;
  seen.add(key);
  const prev = last.get(key);
  const grew = !prev || d.packets < prev.packets ? d : { packets: d.packets - prev.packets, bytes: d.bytes - prev.bytes };
  last.set(key, { packets: d.packets, bytes: d.bytes });
  return grew.packets > 0 ? { packets: grew.packets, bytes: grew.bytes } : undefined;
}

/** A drop-accounting element's growth as a REJECT observation at an interface. */
function rejected(interfaceId: string, direction: Observation['direction'], d: DropElement, grew: Counts, time: number): PacketObservation {
  return {
    interfaceId,
    direction,
    src: d.src,
    dst: d.dst,
    srcPort: d.sport,
    dstPort: d.dport,
    proto: d.proto,
    flags: d.flags,
    action: 'REJECT',
    packets: grew.packets,
    bytes: grew.bytes,
    time,
  };
}

export function parseDropSets(json: string, sets: Iterable<string> = Object.values(DROP_SETS)): DropElement[] {
  const names = new Set<string>(sets);
  const out: DropElement[] = [];
  let doc: { nftables?: Record<string, unknown>[] };
  try {
    doc = JSON.parse(json) as typeof doc;
  } catch {
    return out;
  }
  for (const item of doc.nftables ?? []) {
    const set = item.set as { name?: string; table?: string; elem?: unknown[] } | undefined;
    if (!set?.name || set.table !== TABLE || !names.has(set.name)) continue;
    const tcp = set.name.includes('_tcp');
    for (const raw of set.elem ?? []) {
      const e = ((raw as { elem?: unknown }).elem ?? raw) as {
        val?: { concat?: unknown[] };
        expires?: number;
        counter?: { packets?: number; bytes?: number };
      };
      const c = e.val?.concat;
      if (!Array.isArray(c) || c.length !== 5) continue;
      out.push({
        set: set.name,
        src: canonicalAddress(String(c[0])),
        sport: Number(c[1]) || 0,
        dst: canonicalAddress(String(c[2])),
        dport: Number(c[3]) || 0,
        proto: tcp ? 6 : protoNumber(c[4]),
        flags: tcp ? flagBits(c[4]) : 0,
        packets: e.counter?.packets ?? 0,
        bytes: e.counter?.bytes ?? 0,
        expires: e.expires ?? DROP_SET_TIMEOUT_S,
      });
    }
  }
  return out;
}

/** Addresses flow logs never see as a peer: multicast, broadcast, link-local, unspecified. */
function notAPeer(a: string): boolean {
  if (a.includes(':')) return /^(ff|fe[89ab])/i.test(a) || a === '::';
  const first = Number(a.split('.')[0]);
  return first >= 224 || a === '0.0.0.0' || a.startsWith('169.254.') || a === '255.255.255.255';
}

// ---- per namespace ------------------------------------------------------------------------------

interface Conn {
  eni: string;
  /** the namespace's address is the original direction's source (the instance connected) */
  outbound: boolean;
  proto: number;
  orig: Tuple;
  reply: Tuple;
  /** server-clock ms of its first packet (NEW event) or of the sample that found it */
  start: number;
  /** counters reported so far */
  op: number;
  ob: number;
  rp: number;
  rb: number;
  /** TCP flags seen (from states) and reported, per direction */
  flagsO: number;
  flagsR: number;
  sentO: number;
  sentR: number;
  lastState?: string;
  /** server-clock ms of its last event */
  lastEvent: number;
  /** the sample generation that last saw it */
  seen: number;
}

interface Space {
  ns: string;
  /** address → interface id */
  owner: Map<string, string>;
  interfaces: Map<string, string[]>;
  child?: ChildProcess;
  restarts: number;
  startedAt: number;
  restartTimer?: NodeJS.Timeout;
  conns: Map<string, Conn>;
  /** conntrack ids destroyed recently (a sample must not count them again), with the generation */
  gone: Map<string, number>;
  drops: Map<string, { packets: number; bytes: number }>;
  gen: number;
  /** events in the current second */
  bucket: { second: number; n: number; dropped: number };
  ready: Promise<void>;
  closed: boolean;
}

/** A VPC's router namespace: its network ACLs' drop counters (router-nft.ts ACL_DROP_SETS). */
interface RouterSpace {
  ns: string;
  /** address → interface id, for the VPC's interfaces with a namespace */
  owner: Map<string, string>;
  /** interface id → its addresses and its instance namespace */
  members: Map<string, { addrs: string[]; ns: string }>;
  drops: Map<string, { packets: number; bytes: number }>;
}

const ROUTER_OUT_SETS = new Set<string>(Object.values(ACL_DROP_SETS.out));
const ROUTER_SETS = [...ROUTER_OUT_SETS, ...Object.values(ACL_DROP_SETS.in)];

/** Packets a router dropped on their way out of an interface, by namespace and 5-tuple (see `sample`). */
type Dropped = Map<string, Map<string, { packets: number; bytes: number }>>;
const tupleKey = (proto: number, src: string, sport: number, dst: string, dport: number) => `${proto}|${src}|${sport}|${dst}|${dport}`;

export class KernelFlows {
  private readonly spaces = new Map<string, Space>();
  private readonly routers = new Map<string, RouterSpace>();
  private readonly deps: KernelFlowsDeps;
  private timer?: NodeJS.Timeout;
  private sampling?: Promise<void>;
  private closed = false;
  private conntrack?: Promise<boolean>;
  private setpriv?: Promise<boolean>;
  private readonly onExit = () => this.killAll();
  /** counters for tests */
  readonly stats = { events: 0, droppedEvents: 0, droppedLines: 0, samples: 0, restarts: 0, observations: 0 };

  constructor(deps: KernelFlowsDeps) {
    this.deps = deps;
    deps.kernel.onInterfaceReady((e) => this.ready(e));
    deps.kernel.onInterfaceGone((e) => this.gone(e.namespace, e.interfaceId));
    const every = deps.sampleMs ?? 5000;
    if (every > 0)
      this.timer = setInterval(() => {
        void this.flush().catch((e: Error) => deps.log.warn(`kernel flow logs: sample: ${e.message}`));
      }, every).unref();
    process.on('exit', this.onExit);
  }

  /** The namespaces followed (tests). */
  namespaces(): string[] {
    return [...this.spaces.keys()];
  }

  /** Reads every namespace's counters now and reports what grew (resolves when reported). */
  async flush(): Promise<void> {
    // one sample at a time; a flush during one waits for it and takes another
    while (this.sampling) await this.sampling;
    if (this.closed) return;
    this.sampling = (async () => {
      this.stats.samples++;
      // the instances' counters, then the routers' (read after: a packet an instance's conntrack
      // counted on its way out is, by then, in the router's drop counters if the router dropped it)
      const spaces = [...this.spaces.values()];
      const reads = await Promise.all(spaces.map((s) => this.read(s).catch((e: Error) => this.warn(s, `sample: ${e.message}`))));
      const routers = [...this.routers.values()];
      const rreads = await Promise.all(
        routers.map((r) =>
          inNs(r.ns, 'nft', ['-j', 'list', 'sets', 'inet'], { timeoutMs: 10_000, maxBuffer: 64 * 1024 * 1024 }).catch((e: Error) => {
            if (!this.closed && this.routers.get(r.ns) === r) this.deps.log.warn(`kernel flow logs ${r.ns}: sample: ${e.message}`);
          }),
        ),
      );
      if (this.closed) return;
      const dropped: Dropped = new Map();
      routers.forEach((r, i) => {
        const json = rreads[i];
        if (typeof json === 'string' && this.routers.get(r.ns) === r) this.routerDrops(r, json, dropped);
      });
      spaces.forEach((s, i) => {
        const read = reads[i];
        if (read && !s.closed) this.sample(s, read, dropped.get(s.ns));
      });
    })().finally(() => (this.sampling = undefined));
    await this.sampling;
  }

  /** Stops following: kills every conntrack child. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.killAll();
    this.spaces.clear();
    this.routers.clear();
    process.off('exit', this.onExit);
  }

  private killAll(): void {
    for (const s of this.spaces.values()) this.stop(s);
  }

  private warn(s: Space, msg: string): void {
    if (!s.closed && !this.closed) this.deps.log.warn(`kernel flow logs ${s.ns}: ${msg}`);
  }

  // ---- interfaces ---------------------------------------------------------------------------

  private ready(e: InterfaceReady): void {
    if (this.closed) return;
    let s = this.spaces.get(e.namespace);
    if (!s) {
      s = {
        ns: e.namespace,
        owner: new Map(),
        interfaces: new Map(),
        restarts: 0,
        startedAt: 0,
        conns: new Map(),
        gone: new Map(),
        drops: new Map(),
        gen: 0,
        bucket: { second: 0, n: 0, dropped: 0 },
        ready: Promise.resolve(),
        closed: false,
      };
      this.spaces.set(e.namespace, s);
      const space = s;
      // counters on every connection, then the events
      s.ready = sysctl(s.ns, ['net.netfilter.nf_conntrack_acct=1'])
        .catch((err: Error) => this.warn(space, `nf_conntrack_acct: ${err.message}`))
        .then(() => this.watch(space));
    }
    const addrs = [...e.ipv4, ...e.ipv6].map(canonicalAddress);
    for (const [a, id] of s.owner) if (id === e.interfaceId) s.owner.delete(a);
    s.interfaces.set(e.interfaceId, addrs);
    for (const a of addrs) s.owner.set(a, e.interfaceId);
    // the VPC's router: its ACLs' drops are this interface's when the address is one of these
    for (const r of this.routers.values()) if (r.ns !== e.routerNamespace) this.leaveRouter(r, e.interfaceId);
    let r = this.routers.get(e.routerNamespace);
    if (!r) {
      r = { ns: e.routerNamespace, owner: new Map(), members: new Map(), drops: new Map() };
      this.routers.set(r.ns, r);
    }
    for (const [a, id] of r.owner) if (id === e.interfaceId) r.owner.delete(a);
    r.members.set(e.interfaceId, { addrs, ns: e.namespace });
    for (const a of addrs) r.owner.set(a, e.interfaceId);
  }

  private leaveRouter(r: RouterSpace, interfaceId: string): void {
    if (!r.members.delete(interfaceId)) return;
    for (const [a, id] of r.owner) if (id === interfaceId) r.owner.delete(a);
    if (r.members.size === 0) this.routers.delete(r.ns);
  }

  private gone(ns: string, interfaceId: string): void {
    for (const r of [...this.routers.values()]) if (r.members.get(interfaceId)?.ns === ns) this.leaveRouter(r, interfaceId);
    const s = this.spaces.get(ns);
    if (!s) return;
    s.interfaces.delete(interfaceId);
    for (const [a, id] of s.owner) if (id === interfaceId) s.owner.delete(a);
    if (s.interfaces.size === 0) {
      this.stop(s);
      this.spaces.delete(ns);
    }
  }

  private stop(s: Space): void {
    s.closed = true;
    if (s.restartTimer) clearTimeout(s.restartTimer);
    if (s.child && s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    s.child = undefined;
  }

  // ---- the conntrack event child --------------------------------------------------------------

  private async watch(s: Space): Promise<void> {
    this.conntrack ??= hasProgram('conntrack', ['--version']);
    this.setpriv ??= hasProgram('setpriv', ['--version']);
    if (!(await this.conntrack)) {
      this.warn(s, "the 'conntrack' command is missing (apt-get install conntrack): accepted traffic is not logged");
      return;
    }
    if (s.closed || this.closed) return;
    const cmd = ['conntrack', '-E', '-o', 'extended,timestamp,id', '-e', 'NEW,UPDATE,DESTROY'];
    const args = ['netns', 'exec', s.ns, ...((await this.setpriv) ? ['setpriv', '--pdeathsig', 'KILL'] : []), ...cmd];
    if (s.closed || this.closed) return;
    const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    s.child = child;
    s.startedAt = Date.now();
    let buf = '';
    let skipping = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      let from = 0;
      for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', from)) {
        const part = chunk.slice(from, nl);
        from = nl + 1;
        if (!skipping && buf.length + part.length <= MAX_LINE) this.event(s, buf + part);
        else this.stats.droppedLines++;
        buf = '';
        skipping = false;
      }
      const tail = chunk.slice(from);
      if (skipping || buf.length + tail.length > MAX_LINE) {
        skipping = true;
        buf = '';
      } else buf += tail;
    });
    let err = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (err = (err + d).slice(-2000)));
    child.on('error', (e) => this.warn(s, `conntrack -E: ${e.message}`));
    child.on('close', (code, signal) => {
      if (s.child === child) s.child = undefined;
      if (s.closed || this.closed) return;
      // supervised: restarted with a backoff (reset once it ran a while)
      if (Date.now() - s.startedAt > 30_000) s.restarts = 0;
      const delay = Math.min(10_000, 250 * 2 ** s.restarts++);
      this.stats.restarts++;
      this.warn(s, `conntrack -E exited (${code ?? signal}): ${err.trim().slice(0, 300)}; restarting in ${delay} ms`);
      s.restartTimer = setTimeout(() => void this.watch(s), delay);
      s.restartTimer.unref();
    });
  }

  private event(s: Space, line: string): void {
    const second = Math.floor(Date.now() / 1000);
    if (s.bucket.second !== second) {
      if (s.bucket.dropped) this.warn(s, `${s.bucket.dropped} conntrack events over ${MAX_EVENTS_PER_S}/s dropped`);
      s.bucket = { second, n: 0, dropped: 0 };
    }
    if (++s.bucket.n > MAX_EVENTS_PER_S) {
      s.bucket.dropped++;
      this.stats.droppedEvents++;
      return;
    }
    const e = parseConntrackLine(line);
    if (!e?.type) return;
    this.stats.events++;
    const now = this.deps.clock.now();
    const at = e.time !== undefined ? this.toServer(e.time, now) : now;
    let c = s.conns.get(e.id);
    if (!c) {
      if (e.type === 'DESTROY' && s.gone.has(e.id)) return;
      c = this.track(s, e, at);
      if (!c) return;
    }
    c.lastEvent = at;
    this.states(c, e.state);
    if (e.type === 'DESTROY') {
      s.conns.delete(e.id);
      s.gone.set(e.id, s.gen);
      if (e.counters) this.report(c, e.counters, at);
    }
  }

  /** A connection seen for the first time (undefined when it is not an interface's). */
  private track(s: Space, e: CtEntry, at: number): Conn | undefined {
    if (s.conns.size >= MAX_CONNS) return undefined;
    let eni = s.owner.get(e.orig.src);
    let outbound = true;
    if (!eni) {
      eni = s.owner.get(e.orig.dst);
      outbound = false;
    }
    // not an interface's, or between two of the namespace's own addresses
    if (!eni || (outbound && s.owner.has(e.orig.dst)) || notAPeer(outbound ? e.orig.dst : e.orig.src)) return undefined;
    const c: Conn = {
      eni,
      outbound,
      proto: e.proto,
      orig: e.orig,
      reply: e.reply,
      start: at,
      op: 0,
      ob: 0,
      rp: 0,
      rb: 0,
      flagsO: e.proto === 6 ? TCP_SYN : 0,
      flagsR: 0,
      sentO: 0,
      sentR: 0,
      lastEvent: at,
      seen: s.gen,
    };
    s.conns.set(e.id, c);
    return c;
  }

  /** TCP flags from conntrack's states. */
  private states(c: Conn, state: string | undefined): void {
    if (c.proto !== 6 || !state) return;
    const prev = c.lastState;
    c.lastState = state;
    if (state !== 'SYN_SENT' && state !== 'SYN_SENT2' && state !== 'NONE' && !(state === 'CLOSE' && prev === 'SYN_SENT'))
      c.flagsR |= TCP_SYN | TCP_ACK;
    if (state === 'LAST_ACK' || state === 'TIME_WAIT') {
      c.flagsO |= TCP_FIN;
      c.flagsR |= TCP_FIN;
    }
    if (state === 'CLOSE') {
      if (prev === 'SYN_SENT') c.flagsR |= TCP_RST;
      else if (prev !== 'TIME_WAIT' && prev !== 'LAST_ACK') {
        c.flagsO |= TCP_RST;
        c.flagsR |= TCP_RST;
      }
    }
  }

  /** Reports the growth of a connection's counters (both directions). */
  private report(c: Conn, k: { op: number; ob: number; rp: number; rb: number }, at: number): void {
    const out: PacketObservation[] = [];
    const first = c.op === 0 && c.rp === 0;
    const dir = (orig: boolean, packets: number, bytes: number) => {
      if (packets <= 0) return;
      const tuple = orig ? c.orig : c.reply;
      const flags = orig ? c.flagsO & ~c.sentO : c.flagsR & ~c.sentR;
      if (orig) c.sentO |= flags;
      else c.sentR |= flags;
      const base = {
        interfaceId: c.eni,
        direction: (orig === c.outbound ? 'egress' : 'ingress') as Observation['direction'],
        src: tuple.src,
        dst: tuple.dst,
        srcPort: tuple.sport,
        dstPort: tuple.dport,
        proto: c.proto,
        action: 'ACCEPT' as const,
      };
      // A connection's first report: its first packet at its start, the rest when last seen.
      if (first && packets > 1 && at > c.start) {
        const one = Math.max(1, Math.round(bytes / packets));
        out.push({ ...base, flags, packets: 1, bytes: one, time: c.start });
        out.push({ ...base, flags: 0, packets: packets - 1, bytes: bytes - one, time: at });
      } else out.push({ ...base, flags, packets, bytes, time: first ? Math.min(c.start, at) : at });
    };
    dir(true, k.op - c.op, k.ob - c.ob);
    dir(false, k.rp - c.rp, k.rb - c.rb);
    c.op = Math.max(c.op, k.op);
    c.ob = Math.max(c.ob, k.ob);
    c.rp = Math.max(c.rp, k.rp);
    c.rb = Math.max(c.rb, k.rb);
    this.emit(out);
  }

  private emit(batch: PacketObservation[]): void {
    if (!batch.length) return;
    this.stats.observations += batch.length;
    try {
      this.deps.sink(batch);
    } catch (e) {
      this.deps.log.error(`kernel flow logs: observer: ${(e as Error).message}`);
    }
  }

  /** A real (kernel) time on the server clock: as long ago as it was in real time. */
  private toServer(realMs: number, serverNow = this.deps.clock.now()): number {
    return serverNow - Math.max(0, Date.now() - realMs);
  }

  // ---- samples ------------------------------------------------------------------------------

  /** A namespace's conntrack listing and drop sets (undefined once it is closed). */
  private async read(s: Space): Promise<{ listing: string; sets: string } | undefined> {
    await s.ready;
    if (s.closed) return undefined;
    const [listing, sets] = await Promise.all([
      (this.conntrack ?? Promise.resolve(false)).then((ok) =>
        ok ? inNs(s.ns, 'conntrack', ['-L', '-o', 'extended,id'], { timeoutMs: 10_000, maxBuffer: 64 * 1024 * 1024 }) : '',
      ),
      inNs(s.ns, 'nft', ['-j', 'list', 'sets', 'inet'], { timeoutMs: 10_000, maxBuffer: 64 * 1024 * 1024 }),
    ]);
    return s.closed ? undefined : { listing, sets };
  }

  /**
   * Reports a namespace's sample. `dropped`: what its interfaces sent that their VPC's router
   * dropped (an ACL's outbound rules), by 5-tuple — not ACCEPT traffic on AWS (the simulated plane
   * records only the REJECT): the connection's counters for that direction skip those packets.
   */
  private sample(s: Space, read: { listing: string; sets: string }, dropped?: Map<string, { packets: number; bytes: number }>): void {
    const { listing, sets } = read;
    const gen = ++s.gen;
    const now = this.deps.clock.now();
    // accepted: the counters of the connections still open
    for (const line of listing.split('\n')) {
      const e = parseConntrackLine(line);
      if (!e?.counters || s.gone.has(e.id)) continue;
      const c = s.conns.get(e.id) ?? this.track(s, e, now);
      if (!c) continue;
      c.seen = gen;
      if (dropped?.size) {
        // (the router's count may run ahead of conntrack's: the baseline stays ahead, nothing is reported twice)
        const o = dropped.get(tupleKey(c.proto, c.orig.src, c.orig.sport, c.orig.dst, c.orig.dport));
        if (o) {
          c.op += o.packets;
          c.ob += o.bytes;
        }
        const r = dropped.get(tupleKey(c.proto, c.reply.src, c.reply.sport, c.reply.dst, c.reply.dport));
        if (r) {
          c.rp += r.packets;
          c.rb += r.bytes;
        }
      }
      this.states(c, e.state);
      // a closed TCP connection sent nothing after its last event
      const closing = c.proto === 6 && (e.state === 'TIME_WAIT' || e.state === 'CLOSE' || e.state === 'LAST_ACK');
      this.report(c, e.counters, closing ? Math.min(now, Math.max(c.lastEvent, c.start)) : now);
    }
    // connections no longer listed whose DESTROY never came (the event was dropped): forgotten
    for (const [id, c] of s.conns) if (c.seen < gen - 1) s.conns.delete(id);
    for (const [id, g] of s.gone) if (g < gen - 2) s.gone.delete(id);
    // dropped: the growth of each drop-accounting element
    const realNow = Date.now();
    const out: PacketObservation[] = [];
    const seen = new Set<string>();
    for (const d of parseDropSets(sets)) {
      const grew = growth(s.drops, seen, d);
      if (!grew) continue;
      let eni = s.owner.get(d.dst);
      let direction: Observation['direction'] = 'ingress';
      if (!eni || notAPeer(d.src)) {
        eni = s.owner.get(d.src);
        direction = 'egress';
        if (!eni || notAPeer(d.dst)) continue;
      }
      const last = realNow - Math.max(0, DROP_SET_TIMEOUT_S - d.expires) * 1000;
      out.push(rejected(eni, direction, d, grew, this.toServer(last, now)));
    }
    for (const key of s.drops.keys()) if (!seen.has(key)) s.drops.delete(key);
    this.emit(out);
  }

  /**
   * A router's ACL drop counters (`nft -j list sets inet` in its namespace): the growth of each
   * element as a REJECT observation — an outbound drop at the interface holding the source address
   * (egress), an inbound one at the interface holding the destination (ingress) — and, for the
   * outbound ones, what the sender's conntrack must not report as accepted (`dropped`).
   */
  private routerDrops(r: RouterSpace, json: string, dropped: Dropped): void {
    const now = this.deps.clock.now();
    const realNow = Date.now();
    const out: PacketObservation[] = [];
    const seen = new Set<string>();
    for (const d of parseDropSets(json, ROUTER_SETS)) {
      const grew = growth(r.drops, seen, d);
      if (!grew) continue;
      const egress = ROUTER_OUT_SETS.has(d.set);
      const eni = r.owner.get(egress ? d.src : d.dst);
      if (!eni || notAPeer(egress ? d.dst : d.src)) continue;
      if (egress) {
        const ns = r.members.get(eni)!.ns;
        let m = dropped.get(ns);
        if (!m) dropped.set(ns, (m = new Map()));
        const k = tupleKey(d.proto, d.src, d.sport, d.dst, d.dport);
        const sum = m.get(k) ?? { packets: 0, bytes: 0 };
        m.set(k, { packets: sum.packets + grew.packets, bytes: sum.bytes + grew.bytes });
      }
      const last = realNow - Math.max(0, ACL_DROP_SET_TIMEOUT_S - d.expires) * 1000;
      out.push(rejected(eni, egress ? 'egress' : 'ingress', d, grew, this.toServer(last, now)));
    }
    for (const key of r.drops.keys()) if (!seen.has(key)) r.drops.delete(key);
    this.emit(out);
  }
}
