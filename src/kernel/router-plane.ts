// The VPC routers of the kernel data plane, kept in step with the store: route tables, network
// ACLs, internet / egress-only / NAT gateways, peering and Elastic IPs, applied inside each VPC's
// router namespace (made by KernelPlane, kernel-plane.ts) as router-nft.ts compiles them, plus
// "the internet" namespace's links and routes toward each VPC (internet.ts).
//
// A committed change marks the VPCs it touches; a queue, run after the commit, brings each marked
// VPC's router to what the store says: its links (the uplink to the internet namespace while an
// internet or egress-only gateway is attached, a peer link per active peering connection), its
// `ip rule`s and routes (diffed against what was applied: `ip -batch` of replaces and deletes),
// its nftables table (one transaction: `nft -f -`), and the internet namespace's routes toward it.
// KernelPlane calls `sync(vpcId)` after a VPC's interfaces change (the router namespace exists
// from then on) and `close()` before removing its namespaces.
import { existsSync } from 'node:fs';
import type { ChangeEvent, Doc, Store } from '../store/store.ts';
import type { Logger } from '../core/log.ts';
import {
  KIND,
  type EgressOnlyInternetGatewayDoc,
  type ElasticIpDoc,
  type EniDoc,
  type InternetGatewayDoc,
  type NatGatewayDoc,
  type NetworkAclDoc,
  type PeeringDoc,
  type PrefixListDoc,
  type RouteTableDoc,
  type SubnetDoc,
  type VpcDoc,
} from '../core/documents/ec2.ts';
import type { AclEntryInput } from '../dataplane/routing.ts';
import { awsPrefixLists } from '../services/ec2/lookups.ts';
import { aclEntryInput, routeTarget } from '../traffic/doc-inputs.ts';
import { ip, ipIn, nft, run, sysctl } from './exec.ts';
import type { KernelNames } from './names.ts';
import type { RouterHooks } from './router.ts';
import { InternetNamespace } from './internet.ts';
import {
  LINK,
  compileRouter,
  routerNftUpdate,
  type KRoute,
  type PeerLinkSpec,
  type RouterInput,
  type RouterPlan,
  type RuleSpec,
} from './router-nft.ts';

const KINDS = new Set<string>([
  KIND.vpc,
  KIND.subnet,
  KIND.routeTable,
  KIND.networkAcl,
  KIND.internetGateway,
  KIND.egressOnlyInternetGateway,
  KIND.natGateway,
  KIND.peering,
  KIND.eni,
  KIND.elasticIp,
  KIND.prefixList,
]);

/** What was applied in one router namespace. */
interface Applied {
  uplink: boolean;
  peerLinks: Map<string, PeerLinkSpec>;
  rules: Map<string, RuleSpec>;
  routes: Map<string, string>;
  nft: string;
  /** the chains of the table applied (a change keeps its drop-accounting sets: routerNftUpdate) */
  nftChains: string[];
  internet: Map<string, string>;
}

/** The family of a route key or destination (`1000 10.0.0.0/16`, `::/0`). */
const family = (dest: string): 4 | 6 => (dest.includes(':') ? 6 : 4);

const ruleLine = (r: RuleSpec, verb: 'add' | 'del') =>
  `rule ${verb} pref ${r.pref} iif ${r.iif} ${r.table ? `lookup ${r.table}` : 'blackhole'}`;

export interface KernelRoutersOptions {
  store: Store;
  names: KernelNames;
  log: Logger;
}

export class KernelRouters implements RouterHooks {
  readonly internet: InternetNamespace;
  private readonly store: Store;
  private readonly names: KernelNames;
  private readonly log: Logger;
  private readonly applied = new Map<string, Applied>();
  private readonly pending = new Set<string>();
  private draining: Promise<void> | undefined;
  private closed = false;
  private readonly tableNumbers = new Map<string, number>();
  private nextTable = 1000;
  private readonly prefs = new Map<string, number>();
  private readonly freePrefs: number[] = [];
  private nextPref = 1000;
  private readonly awsLists = new Map<string, Map<string, string[]>>();
  /** counters for benchmarks and tests */
  readonly stats = { syncs: 0, lastSyncMs: 0, errors: 0 };

  constructor(opts: KernelRoutersOptions) {
    this.store = opts.store;
    this.names = opts.names;
    this.log = opts.log;
    this.internet = new InternetNamespace(opts.names.internetNs);
    opts.store.onChange((events) => this.changed(events));
    // The internet's addresses are there from the start (`palisade exec internet`).
    this.internet.ensure().catch((e: Error) => this.log.error(`kernel internet namespace: ${e.message}`));
    // Routers made before we were attached (KernelPlane's first reconcile) get their policy now.
    for (const scope of this.store.scopes(KIND.vpc)) for (const v of this.store.table(KIND.vpc, scope).keys()) this.mark(v);
  }

  /** The internet namespace (made if needed): `palisade exec internet` runs there. */
  internetNamespace(): Promise<string> {
    return this.internet.ensure();
  }

  /** Makes an address local to the internet namespace (`POST /_palisade/kernel/internet-address`). */
  addInternetAddress(address: string): Promise<void> {
    return this.internet.addAddress(address);
  }

  /** Brings a VPC's router to the store's state (KernelPlane: after its interfaces changed). */
  async sync(vpcId: string): Promise<void> {
    this.mark(vpcId);
    await this.settle();
  }

  /** Resolves when every change so far is applied. */
  async settle(): Promise<void> {
    while (this.draining || (this.pending.size > 0 && !this.closed)) {
      if (!this.draining) this.schedule();
      await this.draining;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.draining?.catch(() => undefined);
    this.pending.clear();
    this.applied.clear();
    await this.internet.remove();
  }

  // ---- the queue ----------------------------------------------------------------------------

  private mark(vpcId: string | undefined): void {
    if (!vpcId || this.closed) return;
    this.pending.add(vpcId);
    this.schedule();
  }

  private changed(events: ChangeEvent[]): void {
    if (this.closed) return;
    for (const e of events) {
      if (!KINDS.has(e.kind)) continue;
      for (const d of [e.before, e.after] as (Doc | undefined)[]) if (d) for (const v of this.vpcsOf(e.kind, e.scope, d)) this.mark(v);
      if (e.kind === KIND.eni && !e.after) this.freePref(e.id);
    }
  }

  /** The VPCs a document's change concerns. */
  private vpcsOf(kind: string, scope: string, d: Doc): string[] {
    switch (kind) {
      case KIND.vpc:
        return [d.id];
      case KIND.subnet:
      case KIND.routeTable:
      case KIND.networkAcl:
      case KIND.natGateway:
      case KIND.eni:
        return [(d as SubnetDoc).vpcId];
      case KIND.internetGateway:
      case KIND.egressOnlyInternetGateway:
        return (d as InternetGatewayDoc).attachments.map((a) => a.vpcId);
      case KIND.peering:
        return [(d as PeeringDoc).requester.vpcId, (d as PeeringDoc).accepter.vpcId];
      case KIND.elasticIp: {
        const eni = (d as ElasticIpDoc).association?.networkInterfaceId;
        const doc = eni ? (this.store.table(KIND.eni, scope).get(eni) as EniDoc | undefined) : undefined;
        return doc ? [doc.vpcId] : [];
      }
      case KIND.prefixList:
        return [...this.store.table(KIND.vpc, scope).keys()];
      default:
        return [];
    }
  }

  private schedule(): void {
    if (this.draining || this.closed || this.pending.size === 0) return;
    this.draining = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.drain())
      .catch((e: Error) => this.log.error(`kernel routers: ${e.stack ?? e.message}`))
      .finally(() => {
        this.draining = undefined;
        if (this.pending.size > 0 && !this.closed) this.schedule();
      });
  }

  private async drain(): Promise<void> {
    while (this.pending.size > 0 && !this.closed) {
      const vpcId = this.pending.values().next().value as string;
      this.pending.delete(vpcId);
      const t0 = performance.now();
      try {
        await this.syncVpc(vpcId);
      } catch (e) {
        this.stats.errors++;
        this.log.error(`kernel router ${vpcId}: ${(e as Error).message}`);
      }
      this.stats.syncs++;
      this.stats.lastSyncMs = performance.now() - t0;
    }
  }

  // ---- one VPC ------------------------------------------------------------------------------

  private routerExists(vpcId: string): boolean {
    return existsSync(`/run/netns/${this.names.routerNs(vpcId)}`);
  }

  private async syncVpc(vpcId: string): Promise<void> {
    const ns = this.names.routerNs(vpcId);
    let state = this.applied.get(vpcId);
    if (!this.routerExists(vpcId)) {
      if (state) {
        // The router went (its last instance stopped): its links went with it; the peers learn it.
        this.applied.delete(vpcId);
        for (const l of state.peerLinks.values()) this.mark(l.otherVpcId);
        await this.removeInternetRoutes(vpcId, state.internet);
      }
      return;
    }
    const input = this.read(vpcId);
    if (!input) {
      if (state) await this.removeInternetRoutes(vpcId, state.internet);
      this.applied.delete(vpcId);
      return;
    }
    if (!state) {
      state = { uplink: false, peerLinks: new Map(), rules: new Map(), routes: new Map(), nft: '', nftChains: [], internet: new Map() };
      this.applied.set(vpcId, state);
      await sysctl(ns, ['net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.conf.all.rp_filter=0']);
    }
    const tableNumber = (id: string) => {
      let n = this.tableNumbers.get(id);
      if (n === undefined) this.tableNumbers.set(id, (n = this.nextTable++));
      return n;
    };
    const pref = (eniId: string) => {
      let p = this.prefs.get(eniId);
      if (p === undefined) this.prefs.set(eniId, (p = this.freePrefs.pop() ?? this.nextPref++));
      return p;
    };
    // Links first (routes name them); a peer link needs both routers.
    const devices = await this.devices(ns);
    let plan: RouterPlan = compileRouter(input, this.names, tableNumber, pref);
    if (plan.uplink && !devices.has(this.names.uplink(vpcId))) await this.makeUplink(vpcId);
    state.uplink = plan.uplink;
    const linked = new Set<string>();
    for (const l of plan.peerLinks) {
      if (!devices.has(l.device)) {
        if (!this.routerExists(l.otherVpcId)) continue;
        await this.makePeerLink(vpcId, l);
        this.mark(l.otherVpcId);
      }
      linked.add(l.pcxId);
      state.peerLinks.set(l.pcxId, l);
    }
    if (linked.size !== plan.peerLinks.length) {
      // a peering whose other router does not exist yet routes nothing for now
      plan = compileRouter(
        { ...input, peerings: input.peerings.map((p) => ({ ...p, active: p.active && linked.has(p.id) })) },
        this.names,
        tableNumber,
        pref,
      );
    }

    // Rules and routes, as differences.
    // (a rule new to us may be there already, from an attempt that failed half-way: removed first)
    const stale: Record<4 | 6, string[]> = { 4: [], 6: [] };
    const lines: Record<4 | 6, string[]> = { 4: [], 6: [] };
    for (const [key, r] of plan.rules) {
      const old = state.rules.get(key);
      if (old && ruleLine(old, 'add') === ruleLine(r, 'add')) continue;
      if (!old) stale[r.family].push(ruleLine(r, 'del'));
      lines[r.family].push(ruleLine(r, 'add'));
      if (old) lines[r.family].push(ruleLine(old, 'del'));
    }
    for (const [key, r] of state.rules) if (!plan.rules.has(key)) lines[r.family].push(ruleLine(r, 'del'));
    for (const [key, line] of plan.routes) if (state.routes.get(key) !== line) lines[family(key)].push(`route replace ${line}`);
    for (const key of state.routes.keys()) {
      if (plan.routes.has(key)) continue;
      const [table, dest] = key.split(' ');
      lines[family(key)].push(`route del ${dest} table ${table}`);
    }
    state.rules = plan.rules;
    state.routes = plan.routes;
    for (const f of [4, 6] as const) {
      await this.batch(ns, f, stale[f]).catch(() => undefined);
      await this.batch(ns, f, lines[f]);
    }

    if (plan.nft !== state.nft) {
      // A change keeps the ACL drop counters (flow logs); the first apply, or one after a failed
      // update, replaces the whole table.
      const update = state.nft ? routerNftUpdate(state.nftChains, plan) : undefined;
      state.nft = '';
      let updated = false;
      if (update)
        updated = await nft(ns, update).then(
          () => true,
          (e: Error) => {
            this.log.warn(`router ${vpcId}: nft update failed, the table is replaced: ${e.message}`);
            return false;
          },
        );
      if (!updated) await nft(ns, plan.nft);
      state.nft = plan.nft;
      state.nftChains = plan.nftChains;
    }

    // The internet's routes toward this VPC.
    const inet: Record<4 | 6, string[]> = { 4: [], 6: [] };
    for (const [dest, line] of plan.internet) if (state.internet.get(dest) !== line) inet[family(dest)].push(`route replace ${line}`);
    for (const dest of state.internet.keys())
      if (!plan.internet.has(dest)) inet[family(dest)].push(`route del ${dest} dev ${this.names.downlink(vpcId)}`);
    state.internet = plan.internet;
    if (inet[4].length || inet[6].length) {
      const ins = await this.internet.ensure();
      for (const f of [4, 6] as const) await this.batch(ins, f, inet[f]);
    }

    // Links no longer wanted go last (their routes were replaced above).
    if (!plan.uplink && devices.has(this.names.uplink(vpcId)))
      await ipIn(ns, ['link', 'del', this.names.uplink(vpcId)]).catch(() => undefined);
    for (const [pcx, l] of state.peerLinks) {
      if (plan.peerLinks.some((p) => p.pcxId === pcx)) continue;
      state.peerLinks.delete(pcx);
      if (devices.has(l.device)) await ipIn(ns, ['link', 'del', l.device]).catch(() => undefined);
      this.mark(l.otherVpcId);
    }
    for (const d of devices) {
      // a peer link made by the other side for a peering this side no longer has
      if (d.startsWith(`${this.names.prefix}a`) || d.startsWith(`${this.names.prefix}b`)) {
        if (![...state.peerLinks.values()].some((l) => l.device === d) && plan.peerLinks.every((l) => l.device !== d)) {
          const isPeer = input.peerings.some((p) => this.names.peerLink(p.id, 0) === d || this.names.peerLink(p.id, 1) === d);
          if (isPeer) await ipIn(ns, ['link', 'del', d]).catch(() => undefined);
        }
      }
    }
  }

  /** `ip -n NS -4|-6 -force -batch -`: every line tried; the failures reported together. */
  private async batch(ns: string, family: 4 | 6, lines: string[]): Promise<void> {
    if (!lines.length) return;
    await run('ip', ['-n', ns, `-${family}`, '-force', '-batch', '-'], { input: lines.join('\n') + '\n' });
  }

  private async devices(ns: string): Promise<Set<string>> {
    const out = await ipIn(ns, ['-o', 'link', 'show']);
    return new Set(
      out
        .split('\n')
        .map((l) => /^\d+:\s+([^@:\s]+)/.exec(l)?.[1])
        .filter((d): d is string => !!d),
    );
  }

  private async makeUplink(vpcId: string): Promise<void> {
    const inet = await this.internet.ensure();
    const ns = this.names.routerNs(vpcId);
    const up = this.names.uplink(vpcId);
    const down = this.names.downlink(vpcId);
    await ipIn(inet, ['link', 'del', down]).catch(() => undefined);
    await ip(['link', 'add', up, 'netns', ns, 'type', 'veth', 'peer', 'name', down, 'netns', inet]);
    await sysctl(ns, [`net.ipv4.conf.${up}.proxy_arp=0`, `net.ipv4.conf.${up}.rp_filter=0`]);
    await sysctl(inet, [`net.ipv4.conf.${down}.proxy_arp=0`, `net.ipv4.conf.${down}.rp_filter=0`]);
    await ipIn(ns, ['addr', 'replace', `${LINK.uplink4.router}/30`, 'dev', up, 'noprefixroute']);
    await ipIn(ns, ['-6', 'addr', 'replace', `${LINK.router6}/64`, 'dev', up, 'nodad']);
    await ipIn(ns, ['link', 'set', up, 'up']);
    await ipIn(inet, ['addr', 'replace', `${LINK.uplink4.internet}/30`, 'dev', down, 'noprefixroute']);
    await ipIn(inet, ['-6', 'addr', 'replace', `${LINK.internet6}/64`, 'dev', down, 'nodad']);
    await ipIn(inet, ['link', 'set', down, 'up']);
  }

  private async makePeerLink(vpcId: string, l: PeerLinkSpec): Promise<void> {
    const ns = this.names.routerNs(vpcId);
    const other = this.names.routerNs(l.otherVpcId);
    await ipIn(other, ['link', 'del', l.otherDevice]).catch(() => undefined);
    await ip(['link', 'add', l.device, 'netns', ns, 'type', 'veth', 'peer', 'name', l.otherDevice, 'netns', other]);
    for (const [n, dev, side] of [
      [ns, l.device, l.side],
      [other, l.otherDevice, (1 - l.side) as 0 | 1],
    ] as const) {
      await sysctl(n, [`net.ipv4.conf.${dev}.proxy_arp=0`, `net.ipv4.conf.${dev}.rp_filter=0`]);
      await ipIn(n, ['addr', 'replace', `${LINK.peer4[side]}/30`, 'dev', dev, 'noprefixroute']);
      await ipIn(n, ['-6', 'addr', 'replace', `${LINK.peer6[side]}/64`, 'dev', dev, 'nodad']);
      await ipIn(n, ['link', 'set', dev, 'up']);
    }
  }

  private async removeInternetRoutes(vpcId: string, routes: Map<string, string>): Promise<void> {
    if (!routes.size || !this.internet.exists) return;
    const down = this.names.downlink(vpcId);
    // (deleting the downlink takes its routes along)
    await ipIn(this.names.internetNs, ['link', 'del', down]).catch(() => undefined);
  }

  private freePref(eniId: string): void {
    const p = this.prefs.get(eniId);
    if (p === undefined) return;
    // (its rule goes with the next sync of its VPC, before anyone else gets the number: later syncs allocate from the end first)
    this.prefs.delete(eniId);
    this.freePrefs.unshift(p);
  }

  // ---- the store, as one VPC's router needs it ----------------------------------------------

  private read(vpcId: string): RouterInput | undefined {
    let scope: string | undefined;
    let vpc: VpcDoc | undefined;
    for (const s of this.store.scopes(KIND.vpc)) {
      const d = this.store.table(KIND.vpc, s).get(vpcId) as VpcDoc | undefined;
      if (d) {
        scope = s;
        vpc = d;
        break;
      }
    }
    if (!scope || !vpc) return undefined;
    const of = <T extends Doc>(kind: string) => [...this.store.table(kind, scope).values()] as T[];
    const region = scope.split('/')[1] ?? '';
    const local = [
      ...vpc.cidrAssociations.filter((a) => a.state === 'associated').map((a) => a.cidr),
      ...vpc.ipv6.filter((a) => a.state === 'associated').map((a) => a.cidr),
    ];
    const subnets = of<SubnetDoc>(KIND.subnet).filter((s) => s.vpcId === vpcId);
    const tables = of<RouteTableDoc>(KIND.routeTable).filter((t) => t.vpcId === vpcId);
    const acls = of<NetworkAclDoc>(KIND.networkAcl).filter((a) => a.vpcId === vpcId);
    const main = tables.find((t) => t.associations.some((a) => a.main));
    const defaultAcl = acls.find((a) => a.isDefault);
    const tableOf = new Map<string, string>();
    for (const t of tables) for (const a of t.associations) if (a.subnetId) tableOf.set(a.subnetId, t.id);
    const aclOf = new Map<string, string>();
    for (const a of acls) for (const x of a.associations) aclOf.set(x.subnetId, a.id);
    const prefixList = (id: string): string[] => {
      const own = this.store.table(KIND.prefixList, scope).get(id) as PrefixListDoc | undefined;
      if (own) return own.entries.map((e) => e.cidr);
      let aws = this.awsLists.get(region);
      if (!aws) this.awsLists.set(region, (aws = new Map(awsPrefixLists(region).map((l) => [l.id, l.entries.map((e) => e.cidr)]))));
      return aws.get(id) ?? [];
    };
    const routesOf = (t: RouteTableDoc): KRoute[] => {
      const out: KRoute[] = local.map((destination) => ({ destination, target: { kind: 'local' } }));
      for (const r of t.routes) {
        const target = routeTarget(r);
        const dest = r.cidr4 ?? r.cidr6;
        if (dest) out.push({ destination: dest, target });
        else if (r.prefixListId) for (const c of prefixList(r.prefixListId)) out.push({ destination: c, target, fromList: true });
      }
      return out;
    };
    const igw = of<InternetGatewayDoc>(KIND.internetGateway).find((g) => g.attachments[0]?.vpcId === vpcId);
    const eigws = of<EgressOnlyInternetGatewayDoc>(KIND.egressOnlyInternetGateway).filter((g) => g.attachments[0]?.vpcId === vpcId);
    const peerings = new Map<string, PeeringDoc>();
    for (const s of this.store.scopes(KIND.peering))
      for (const p of this.store.table(KIND.peering, s).values() as IterableIterator<PeeringDoc>)
        if (p.requester.vpcId === vpcId || p.accepter.vpcId === vpcId) peerings.set(p.id, p);
    return {
      vpcId,
      igwId: igw?.id,
      eigwIds: eigws.map((g) => g.id),
      cidrs6: vpc.ipv6.filter((a) => a.state === 'associated').map((a) => a.cidr),
      subnets: subnets.map((s) => ({ id: s.id, tableId: tableOf.get(s.id) ?? main?.id, aclId: aclOf.get(s.id) ?? defaultAcl?.id })),
      tables: tables.map((t) => ({ id: t.id, routes: routesOf(t) })),
      acls: acls.map((a) => ({ id: a.id, entries: a.entries.map(aclEntryInput).filter((e): e is AclEntryInput => !!e) })),
      interfaces: of<EniDoc>(KIND.eni)
        .filter((e) => e.vpcId === vpcId)
        .map((e) => ({
          id: e.id,
          subnetId: e.subnetId,
          ipv4: [...e.privateIps],
          ipv6: [...e.ipv6],
          publicIp: e.publicIp,
          sourceDestCheck: e.sourceDestCheck,
          natGateway: e.interfaceType === 'nat_gateway',
        })),
      nats: of<NatGatewayDoc>(KIND.natGateway)
        .filter((n) => n.vpcId === vpcId && n.state !== 'deleted' && n.state !== 'failed')
        .map((n) => ({ id: n.id, subnetId: n.subnetId, publicIp: n.publicIp, available: n.state === 'available' })),
      peerings: [...peerings.values()].map((p) => ({
        id: p.id,
        vpcIds: [p.requester.vpcId, p.accepter.vpcId],
        active: p.status === 'active',
      })),
    };
  }
}
