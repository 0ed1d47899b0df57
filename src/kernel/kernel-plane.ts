// The kernel data plane (`palisade start --dataplane kernel`): real namespaces, veths and nftables
// kept in step with the store's committed changes, as plane-sync.ts keeps the simulated plane.
// A change marks the instances it touches; a queue, run after the commit (never inside the
// request), brings each one's namespace, interfaces and ruleset to what the store says:
//
// - an instance that is running has a namespace (`names.instanceNs`) holding one veth per
//   attached interface; stopping or terminating it removes the namespace (instances.ts);
// - a VPC with an instance has a router namespace (`names.routerNs`) with plain forwarding; the
//   route tables, ACLs and gateways are router.ts's, called through `router.sync(vpcId)`;
// - every instance namespace holds the security groups of its interfaces as nftables
//   (nft-groups.ts), changed by additions where it can, replaced in one transaction otherwise.
//
// Everything carries the server's prefix (names.ts); `close()` removes every namespace with it,
// and a start removes the namespaces of the prefix a crashed previous run recorded in the state.
import type { Store, ChangeEvent } from '../store/store.ts';
import type { Logger } from '../core/log.ts';
import { KIND, type EniDoc, type InstanceDoc, type PrefixListDoc, type SecurityGroupDoc, type SubnetDoc } from '../core/documents/ec2.ts';
import type { RuleInput } from '../dataplane/sg-rules.ts';
import { awsPrefixLists } from '../services/ec2/lookups.ts';
import { kernelNames, newPrefix, ownsNamespace, type KernelNames } from './names.ts';
import { hasProgram, ipIn, listNamespaces, nftCommand, NftLibrary, sysctl, type NftDriver } from './exec.ts';
import { compileRuleset, plan, type NsInterface, type Ruleset } from './nft-groups.ts';
import {
  addInterface,
  createNamespace,
  gatewayOf,
  removeInterface,
  removeNamespace,
  setupInstanceNamespace,
  setupRouterNamespace,
  updateAddresses,
  type InterfaceTopo,
} from './instances.ts';
import type { RouterHooks } from './router.ts';
import { rulesOfGroup } from '../traffic/doc-inputs.ts';

/** The state record of the prefix in use, so the next start can clean up after a crash. */
export const KERNEL_META = 'palisade.kernel';

/** An interface whose namespace, veth and ruleset are in place. */
export interface InterfaceReady {
  instanceId: string;
  interfaceId: string;
  vpcId: string;
  /** the instance's namespace */
  namespace: string;
  /** eth<deviceIndex> inside it */
  device: string;
  deviceIndex: number;
  routerNamespace: string;
  routerEnd: string;
  ipv4: string[];
  ipv6: string[];
}

/** What `GET /_palisade/kernel` answers. */
export interface KernelInfo {
  dataplane: 'kernel';
  prefix: string;
  namespaces: { instances: Record<string, string>; routers: Record<string, string>; internet: string };
  /** instances waiting for the queue */
  pending: number;
}

interface InstanceState {
  ns: string;
  vpcId: string;
  interfaces: Map<string, InterfaceTopo>;
  ruleset?: Ruleset;
  loose?: boolean;
}

/** Why the kernel plane cannot run here (undefined: it can). */
export async function kernelUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `--dataplane kernel needs Linux (network namespaces, nftables); this is ${process.platform}`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    return '--dataplane kernel needs root (it creates network namespaces and nftables rulesets): run it as root, or without --dataplane kernel';
  for (const [tool, pkg, args] of [
    ['ip', 'iproute2', ['-V']],
    ['nft', 'nftables', ['--version']],
  ] as const)
    if (!(await hasProgram(tool, args))) return `--dataplane kernel needs the '${tool}' command (apt-get install ${pkg})`;
  return undefined;
}

const CONCURRENCY = 4;

export class KernelPlane {
  readonly names: KernelNames;
  /** route tables, ACLs, gateways, peering inside the router namespaces (router.ts) */
  router?: RouterHooks;

  private readonly store: Store;
  private readonly log: Logger;
  private readonly instances = new Map<string, InstanceState>();
  private readonly routers = new Map<string, Promise<string>>();
  private readonly routerNames = new Map<string, string>();
  private readonly readyListeners: ((e: InterfaceReady) => void)[] = [];
  private readonly goneListeners: ((e: { instanceId: string; interfaceId: string; namespace: string }) => void)[] = [];
  private readonly dirty = new Set<string>();
  private readonly dirtyVpcs = new Set<string>();
  private dirtyAll = false;
  private draining: Promise<void> | undefined;
  private closed = false;
  private readonly awsLists = new Map<string, string[]>();
  private readonly awsRegions = new Set<string>();
  /** counters for benchmarks and tests */
  readonly stats = { applies: 0, additive: 0, replaces: 0, lastApplyMs: 0, driver: '' };

  private constructor(
    store: Store,
    log: Logger,
    prefix: string,
    private readonly nftd: NftDriver,
  ) {
    this.store = store;
    this.log = log;
    this.names = kernelNames(prefix);
    this.stats.driver = nftd.kind;
  }

  /** Starts the kernel plane over the store: refuses with a clear message where it cannot run. */
  static async start(opts: { store: Store; log: Logger; prefix?: string }): Promise<KernelPlane> {
    const why = await kernelUnavailable();
    if (why) throw new Error(why);
    const { store, log } = opts;
    // A crashed run of this state left its namespaces: they go first.
    const stale = store.getMeta(KERNEL_META);
    if (stale) await removeByPrefix(stale, log);
    // nftables through libnftables in one helper process (milliseconds per change), else `nft -f -`
    const nftd = (await NftLibrary.open()) ?? nftCommand;
    if (nftd.kind === 'nft') log.warn('kernel data plane: python3 or libnftables missing, each ruleset change runs `nft -f -` (10-25 ms)');
    const plane = new KernelPlane(store, log, opts.prefix ?? newPrefix(), nftd);
    store.setMeta(KERNEL_META, plane.names.prefix);
    try {
      // "the internet" exists from the start (router-plane.ts gives it its addresses and links)
      await createNamespace(plane.names.internetNs);
      await ipIn(plane.names.internetNs, ['link', 'set', 'lo', 'up']);
    } catch (e) {
      await nftd.close();
      await removeByPrefix(plane.names.prefix, log);
      throw e;
    }
    store.onChange((events) => plane.changed(events));
    for (const scope of store.scopes(KIND.instance)) for (const doc of store.table(KIND.instance, scope).values()) plane.dirty.add(doc.id);
    await plane.settle();
    return plane;
  }

  // ---- what the other parts read ------------------------------------------------------------

  /** The namespace of a running instance whose interfaces are up (undefined otherwise). */
  namespaceOf(instanceId: string): string | undefined {
    return this.instances.get(instanceId)?.ns;
  }

  /** The router namespace of a VPC, once one of its instances runs. */
  routerOf(vpcId: string): string | undefined {
    return this.routerNames.get(vpcId);
  }

  /** The instance whose namespace this is. */
  instanceOfNamespace(ns: string): string | undefined {
    for (const [id, s] of this.instances) if (s.ns === ns) return id;
    return undefined;
  }

  /** Called when an interface's namespace, veth and ruleset are in place (also for those up already). */
  onInterfaceReady(cb: (e: InterfaceReady) => void): void {
    this.readyListeners.push(cb);
    for (const [instanceId, s] of this.instances) for (const i of s.interfaces.values()) cb(this.readyEvent(instanceId, s, i));
  }

  /** Called when an interface's veth goes (detached, instance stopped or terminated). */
  onInterfaceGone(cb: (e: { instanceId: string; interfaceId: string; namespace: string }) => void): void {
    this.goneListeners.push(cb);
  }

  info(): KernelInfo {
    return {
      dataplane: 'kernel',
      prefix: this.names.prefix,
      namespaces: {
        instances: Object.fromEntries([...this.instances].map(([id, s]) => [id, s.ns])),
        routers: Object.fromEntries(this.routerNames),
        internet: this.names.internetNs,
      },
      pending: this.dirty.size + this.dirtyVpcs.size + (this.dirtyAll ? 1 : 0),
    };
  }

  /** Resolves when every committed change so far is in the kernel. */
  async settle(): Promise<void> {
    while (this.draining || this.hasWork()) {
      if (!this.draining) this.schedule();
      await this.draining;
    }
  }

  /** Removes every namespace this server made. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.draining?.catch(() => undefined);
    await this.router?.close().catch((e: Error) => this.log.warn(`kernel router close: ${e.message}`));
    await this.nftd.close(); // (its sockets would keep the namespaces alive)
    await removeByPrefix(this.names.prefix, this.log);
    this.instances.clear();
    this.routers.clear();
    this.routerNames.clear();
    try {
      if (this.store.getMeta(KERNEL_META) === this.names.prefix) this.store.setMeta(KERNEL_META, '');
    } catch {
      /* the store is closed */
    }
  }

  // ---- the queue ----------------------------------------------------------------------------

  private changed(events: ChangeEvent[]): void {
    if (this.closed) return;
    for (const e of events) {
      if (e.kind === KIND.instance) this.dirty.add(e.id);
      else if (e.kind === KIND.eni) {
        for (const d of [e.before, e.after] as (EniDoc | undefined)[]) {
          if (!d) continue;
          if (d.attachment?.instanceId) this.dirty.add(d.attachment.instanceId);
          // members of its groups changed: the namespaces of the VPC that reference them
          this.dirtyVpcs.add(d.vpcId);
        }
      } else if (e.kind === KIND.sg) {
        for (const d of [e.before, e.after] as (SecurityGroupDoc | undefined)[]) if (d) this.dirtyVpcs.add(d.vpcId);
      } else if (e.kind === KIND.prefixList) this.dirtyAll = true;
    }
    if (this.hasWork()) this.schedule();
  }

  private hasWork(): boolean {
    return this.dirty.size > 0 || this.dirtyVpcs.size > 0 || this.dirtyAll;
  }

  private schedule(): void {
    if (this.draining || this.closed) return;
    this.draining = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.drain())
      .catch((e: Error) => this.log.error(`kernel data plane: ${e.stack ?? e.message}`))
      .finally(() => {
        this.draining = undefined;
        if (this.hasWork() && !this.closed) this.schedule();
      });
  }

  private async drain(): Promise<void> {
    while (this.hasWork() && !this.closed) {
      const ids = new Set(this.dirty);
      this.dirty.clear();
      const view = new StoreView(this.store, this.awsLists, this.awsRegions);
      if (this.dirtyAll) for (const id of this.instances.keys()) ids.add(id);
      for (const vpc of this.dirtyVpcs) for (const [id, s] of this.instances) if (s.vpcId === vpc) ids.add(id);
      this.dirtyAll = false;
      this.dirtyVpcs.clear();
      const touched = new Set<string>();
      const queue = [...ids];
      const worker = async () => {
        for (let id = queue.shift(); id !== undefined && !this.closed; id = queue.shift()) {
          try {
            const vpc = await this.reconcile(id, view);
            if (vpc) touched.add(vpc);
          } catch (e) {
            this.log.error(`kernel data plane: instance ${id}: ${(e as Error).message}`);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
      for (const vpc of touched)
        await this.router?.sync(vpc).catch((e: Error) => this.log.error(`kernel router sync ${vpc}: ${e.message}`));
    }
  }

  // ---- one instance -------------------------------------------------------------------------

  /** Brings one instance's namespace to the store's state; returns its VPC when its interfaces changed. */
  private async reconcile(instanceId: string, view: StoreView): Promise<string | undefined> {
    const inst = view.instance(instanceId);
    const have = this.instances.get(instanceId);
    if (!inst || inst.state !== 'running') {
      if (!have) return undefined;
      for (const i of have.interfaces.values()) this.emitGone(instanceId, have.ns, i);
      await this.nftd.forget(have.ns);
      await removeNamespace(have.ns);
      this.instances.delete(instanceId);
      return have.vpcId;
    }
    const enis = view.interfacesOf(instanceId);
    let s = have;
    if (!s) {
      const ns = this.names.instanceNs(instanceId);
      await removeNamespace(ns); // (leftovers of a failed attempt)
      await setupInstanceNamespace(ns);
      s = { ns, vpcId: inst.vpcId, interfaces: new Map() };
      this.instances.set(instanceId, s);
    }
    // The rules first, so no interface is ever up without its groups.
    await this.applyRules(s, enis, view);
    const routerNs = await this.ensureRouter(inst.vpcId);
    let changed = false;
    const wanted = new Map(
      enis.map((e) => {
        const deviceIndex = e.attachment!.deviceIndex;
        const topo: InterfaceTopo = {
          eniId: e.id,
          deviceIndex,
          device: this.names.deviceInInstance(deviceIndex),
          routerEnd: this.names.routerEnd(e.id),
          ipv4: [...e.privateIps],
          ipv6: [...e.ipv6],
          gateway4: gatewayOf(view.subnet(e.subnetId)?.cidr),
        };
        return [e.id, topo];
      }),
    );
    for (const [id, old] of s.interfaces) {
      const next = wanted.get(id);
      if (next && next.deviceIndex === old.deviceIndex && next.gateway4 === old.gateway4) continue;
      s.interfaces.delete(id);
      this.emitGone(instanceId, s.ns, old);
      await removeInterface(s.ns, old);
      changed = true;
    }
    for (const [id, next] of wanted) {
      const old = s.interfaces.get(id);
      if (old) {
        if (old.ipv4.join() !== next.ipv4.join() || old.ipv6.join() !== next.ipv6.join()) {
          await updateAddresses(s.ns, routerNs, old, next);
          s.interfaces.set(id, next);
          changed = true;
        }
        continue;
      }
      await addInterface(s.ns, routerNs, next);
      s.interfaces.set(id, next);
      changed = true;
      const e = this.readyEvent(instanceId, s, next);
      for (const cb of this.readyListeners) {
        try {
          cb(e);
        } catch (err) {
          this.log.error(`kernel onInterfaceReady listener: ${(err as Error).message}`);
        }
      }
    }
    return changed ? inst.vpcId : undefined;
  }

  private async applyRules(s: InstanceState, enis: EniDoc[], view: StoreView): Promise<void> {
    const interfaces: NsInterface[] = enis.map((e) => ({
      iface: { id: e.id, vpcId: e.vpcId, ipv4: e.privateIps, ipv6: e.ipv6, publicIp: e.publicIp, groups: e.groups },
      device: this.names.deviceInInstance(e.attachment!.deviceIndex),
      timeouts: e.connTrack && { tcpEstablished: e.connTrack.tcpEstablished, udpStream: e.connTrack.udpStream, udp: e.connTrack.udp },
    }));
    const next = compileRuleset({
      interfaces,
      groupRules: (g) => view.groupRules(g),
      members: (vpc, g) => view.members(vpc, g),
      prefixList: (id) => view.prefixList(id),
    });
    const { script, additive } = plan(s.ruleset, next);
    if (script) {
      const t0 = performance.now();
      await this.nftd.apply(s.ns, script);
      this.stats.applies++;
      this.stats[additive ? 'additive' : 'replaces']++;
      this.stats.lastApplyMs = performance.now() - t0;
    }
    s.ruleset = next;
    if (!s.loose) {
      // conntrack does not adopt a TCP stream seen in the middle (an untracked flow whose rule
      // went): those packets are judged by the rules, as AWS judges an untracked flow. And it
      // does not judge TCP windows (AWS tracks flows, not sequence numbers): a tracked
      // connection whose packets went untracked for a while is still the same connection.
      await sysctl(s.ns, ['net.netfilter.nf_conntrack_tcp_loose=0', 'net.netfilter.nf_conntrack_tcp_be_liberal=1']);
      s.loose = true;
    }
  }

  private ensureRouter(vpcId: string): Promise<string> {
    let p = this.routers.get(vpcId);
    if (!p) {
      const ns = this.names.routerNs(vpcId);
      p = (async () => {
        await removeNamespace(ns);
        await setupRouterNamespace(ns);
        this.routerNames.set(vpcId, ns);
        return ns;
      })();
      p.catch(() => this.routers.delete(vpcId));
      this.routers.set(vpcId, p);
    }
    return p;
  }

  private readyEvent(instanceId: string, s: InstanceState, i: InterfaceTopo): InterfaceReady {
    return {
      instanceId,
      interfaceId: i.eniId,
      vpcId: s.vpcId,
      namespace: s.ns,
      device: i.device,
      deviceIndex: i.deviceIndex,
      routerNamespace: this.names.routerNs(s.vpcId),
      routerEnd: i.routerEnd,
      ipv4: i.ipv4,
      ipv6: i.ipv6,
    };
  }

  private emitGone(instanceId: string, ns: string, i: InterfaceTopo): void {
    for (const cb of this.goneListeners) {
      try {
        cb({ instanceId, interfaceId: i.eniId, namespace: ns });
      } catch (err) {
        this.log.error(`kernel onInterfaceGone listener: ${(err as Error).message}`);
      }
    }
  }
}

/** Removes every namespace of a prefix. */
async function removeByPrefix(prefix: string, log: Logger): Promise<void> {
  let all: string[];
  try {
    all = await listNamespaces();
  } catch (e) {
    log.warn(`kernel data plane: cannot list namespaces: ${(e as Error).message}`);
    return;
  }
  // instances first (their veths' router ends go with them), routers and the internet after
  const mine = all.filter((n) => ownsNamespace(prefix, n)).sort((a, b) => Number(b.includes('-i-')) - Number(a.includes('-i-')));
  for (const ns of mine) await removeNamespace(ns).catch((e: Error) => log.warn(`kernel data plane: removing ${ns}: ${e.message}`));
}

/** The store as one drain of the queue reads it (indexes built on first use). */
class StoreView {
  private instancesById?: Map<string, InstanceDoc>;
  private enisByInstance?: Map<string, EniDoc[]>;
  private membersIdx?: Map<string, string[]>;
  private groups?: Map<string, SecurityGroupDoc>;
  private lists?: Map<string, PrefixListDoc>;
  private subnets?: Map<string, SubnetDoc>;

  constructor(
    private readonly store: Store,
    private readonly awsLists: Map<string, string[]>,
    private readonly awsRegions: Set<string>,
  ) {}

  private all<T>(kind: string): Map<string, T> {
    const m = new Map<string, T>();
    for (const scope of this.store.scopes(kind)) for (const d of this.store.table(kind, scope).values()) m.set(d.id, d as T);
    return m;
  }

  instance(id: string): InstanceDoc | undefined {
    return (this.instancesById ??= this.all<InstanceDoc>(KIND.instance)).get(id);
  }

  subnet(id: string): SubnetDoc | undefined {
    return (this.subnets ??= this.all<SubnetDoc>(KIND.subnet)).get(id);
  }

  private indexEnis(): void {
    this.enisByInstance = new Map();
    this.membersIdx = new Map();
    for (const e of this.all<EniDoc>(KIND.eni).values()) {
      const inst = e.attachment?.instanceId;
      if (inst) {
        const l = this.enisByInstance.get(inst);
        if (l) l.push(e);
        else this.enisByInstance.set(inst, [e]);
      }
      for (const g of e.groups) {
        const key = `${e.vpcId}/${g}`;
        const l = this.membersIdx.get(key) ?? [];
        l.push(...e.privateIps, ...e.ipv6);
        this.membersIdx.set(key, l);
      }
    }
  }

  interfacesOf(instanceId: string): EniDoc[] {
    if (!this.enisByInstance) this.indexEnis();
    return [...(this.enisByInstance!.get(instanceId) ?? [])].sort((a, b) => a.attachment!.deviceIndex - b.attachment!.deviceIndex);
  }

  members(vpcId: string, groupId: string): string[] {
    if (!this.membersIdx) this.indexEnis();
    return this.membersIdx!.get(`${vpcId}/${groupId}`) ?? [];
  }

  groupRules(groupId: string): RuleInput[] {
    const g = (this.groups ??= this.all<SecurityGroupDoc>(KIND.sg)).get(groupId);
    if (!g) return [];
    return rulesOfGroup(g);
  }

  prefixList(id: string): string[] | undefined {
    const l = (this.lists ??= this.all<PrefixListDoc>(KIND.prefixList)).get(id);
    if (l) return l.entries.map((e) => e.cidr);
    let aws = this.awsLists.get(id);
    if (!aws) {
      // AWS-managed lists: the regions of the state, read once
      for (const scope of this.store.scopes(KIND.sg)) {
        const region = scope.split('/')[1];
        if (!region || this.awsRegions.has(region)) continue;
        this.awsRegions.add(region);
        for (const x of awsPrefixLists(region))
          this.awsLists.set(
            x.id,
            x.entries.map((e) => e.cidr),
          );
      }
      aws = this.awsLists.get(id);
    }
    return aws;
  }
}
