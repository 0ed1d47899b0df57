// Property test: on random VPC estates — up to three VPCs (some with IPv6), their subnets, route
// tables with random routes (local, internet and egress-only gateways, NAT gateways, peering,
// gateway endpoints and prefix lists, blackholes), random network ACLs, interfaces with and
// without public IPv4 and IPv6 addresses, groups with random rules — the verdict on random flows
// through `judgeFlow` (path, ACLs, both group gates, the reply through the ACLs) equals that of the
// plain reference evaluator written from AWS's documented semantics (test/helpers/reference-path.ts):
// the same verdict, decided by the same step (and, for an ACL, the same subnet, direction, rule).
// The seed is fixed (PATH_SEED overrides it); on a mismatch fast-check shrinks to a small estate.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DataPlane } from '../src/dataplane/dataplane.ts';
import { FLOW_ACCEPT, FLOW_DECIDED_BY, judgeFlow, judgeFlowFast, type FlowEnd } from '../src/dataplane/flow.ts';
import { parseAddress } from '../src/dataplane/addresses.ts';
import type {
  AclEntryInput,
  AclInput,
  GatewayInput,
  NatInput,
  PeeringInput,
  RouteInput,
  RouteTableInput,
  SubnetInput,
} from '../src/dataplane/routing.ts';
import type { GroupInput, RuleInput } from '../src/dataplane/sg-rules.ts';
import { referenceJudge, type PathEnd, type PathEstate, type PathInterface, type PathPacket } from './helpers/reference-path.ts';

const SEED = Number(process.env.PATH_SEED ?? 1406);

const PREFIX_LISTS: Record<string, string[]> = {
  // a gateway endpoint's service (one CIDR more specific than 8.8.8.0/24, one covered only by 0.0.0.0/0)
  'pl-s3': ['52.216.0.0/15', '8.8.8.0/25'],
  // a customer-managed list (routes and group rules)
  'pl-cust': ['10.2.0.0/16', '203.0.113.0/25', '2001:db8:ffff::/48'],
};
const INTERNET = ['8.8.8.8', '52.216.1.1', '203.0.113.7', '198.51.100.9', '2001:db8:ffff::5', '2001:db8:1::9'];

const v6Cidr = (v: number) => `2600:1f18:${v}::/56`;

const ROUTE_DESTINATIONS = [
  '0.0.0.0/0',
  '::/0',
  '8.8.8.0/24',
  '198.18.0.0/16',
  '10.0.0.0/8',
  '10.0.0.0/16',
  '10.1.0.0/16',
  '10.2.0.0/16',
  '10.0.1.0/24',
  '10.1.2.0/24',
  '10.2.0.0/24',
  v6Cidr(0),
  v6Cidr(1),
  v6Cidr(2),
  '2600:1f18::/32',
  '2001:db8::/32',
  'pl-s3',
  'pl-cust',
];
const ACL_CIDRS = [
  '0.0.0.0/0',
  '::/0',
  '10.0.0.0/8',
  '10.0.1.0/24',
  '10.1.0.0/16',
  '10.2.2.0/24',
  '198.18.0.0/16',
  '198.18.1.0/24',
  '203.0.113.0/24',
  '8.8.8.0/24',
  '2600:1f18::/32',
  v6Cidr(1),
  '2001:db8::/32',
];
const PORTS: ({ from: number; to: number } | undefined)[] = [
  undefined,
  { from: 0, to: 65535 },
  { from: 22, to: 22 },
  { from: 80, to: 443 },
  { from: 1024, to: 65535 },
  { from: 32768, to: 65535 },
  { from: 443, to: 443 },
];
const SG_PEERS: Partial<RuleInput>[] = [
  { cidr4: '0.0.0.0/0' },
  { cidr4: '10.0.0.0/8' },
  { cidr4: '198.18.0.0/16' },
  { cidr4: '203.0.113.0/24' },
  { cidr4: '8.8.8.8/32' },
  { cidr6: '::/0' },
  { cidr6: '2600:1f18::/32' },
  { cidr6: '2001:db8::/32' },
  { refGroupId: 'a' },
  { refGroupId: 'b' },
  { prefixListId: 'pl-cust' },
];
const PCX = ['pcx-01', 'pcx-02', 'pcx-12'];

const nat = fc.nat({ max: 1000 });
const rawRoute = fc.record({ dest: nat, target: fc.integer({ min: 0, max: 6 }), idx: nat, blackhole: fc.integer({ min: 0, max: 6 }) });
const rawEntry = fc.record({
  rule: fc.integer({ min: 1, max: 199 }),
  egress: fc.boolean(),
  proto: fc.constantFrom(-1, 6, 17, 1, 58),
  allow: fc.integer({ min: 0, max: 2 }),
  cidr: nat,
  ports: nat,
  icmpType: fc.constantFrom(-1, 8, 0, 3),
  icmpCode: fc.constantFrom(-1, 0),
});
const rawRule = fc.record({
  egress: fc.boolean(),
  protocol: fc.constantFrom('-1', 'tcp', 'udp', 'icmp', 'icmpv6'),
  ports: nat,
  icmpType: fc.constantFrom(-1, 8, 3, 128),
  icmpCode: fc.constantFrom(-1, 0),
  peer: nat,
});
const rawEstate = fc.record({
  vpcs: fc.array(
    fc.record({
      v6: fc.boolean(),
      subnets: fc.integer({ min: 1, max: 4 }),
      igw: fc.constantFrom('attached', 'attached', 'attached', 'none', 'detached'),
      eigw: fc.boolean(),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  peerings: fc.tuple(...PCX.map(() => fc.constantFrom('active', 'active', 'active', 'pending', 'none'))),
  tables: fc.array(
    fc.record({
      vpc: nat,
      // the usual routes first (to the internet, to the peers), then random ones
      in4: fc.integer({ min: 0, max: 3 }),
      in6: fc.integer({ min: 0, max: 3 }),
      peer: fc.boolean(),
      routes: fc.array(rawRoute, { maxLength: 6 }),
    }),
    { minLength: 1, maxLength: 6 },
  ),
  acls: fc.array(fc.record({ vpc: nat, entries: fc.array(rawEntry, { maxLength: 8 }), allowAll: fc.boolean(), star: fc.boolean() }), {
    maxLength: 5,
  }),
  subnetMap: fc.array(fc.record({ table: nat, acl: nat }), { minLength: 12, maxLength: 12 }),
  nats: fc.array(fc.record({ vpc: nat, subnet: nat, available: fc.integer({ min: 0, max: 4 }), public: fc.integer({ min: 0, max: 3 }) }), {
    maxLength: 3,
  }),
  interfaces: fc.array(
    fc.record({ vpc: nat, subnet: nat, public: fc.boolean(), v6: fc.integer({ min: 0, max: 3 }), groups: fc.subarray(['a', 'b']) }),
    { minLength: 2, maxLength: 6 },
  ),
  groups: fc.array(
    fc.record({
      rules: fc.array(rawRule, { maxLength: 5 }),
      openIn: fc.integer({ min: 0, max: 2 }),
      openOut: fc.integer({ min: 0, max: 2 }),
    }),
    {
      minLength: 6,
      maxLength: 6,
    },
  ),
});
type RawEstate = typeof rawEstate extends fc.Arbitrary<infer T> ? T : never;

/** A concrete estate from the raw choices (indices taken modulo what exists, as AWS would allow it). */
function build(raw: RawEstate): PathEstate {
  const vpcs = raw.vpcs.map((v, i) => ({ ...v, id: `vpc-${i}`, n: i }));
  const e: PathEstate = {
    subnets: [],
    tables: [],
    acls: [],
    gateways: [],
    nats: [],
    peerings: [],
    prefixLists: PREFIX_LISTS,
    interfaces: [],
    groups: [],
  };
  for (const v of vpcs) {
    if (v.igw !== 'none')
      e.gateways.push({ id: `igw-${v.n}`, kind: 'igw', ...(v.igw === 'attached' ? { vpcId: v.id } : {}) } as GatewayInput);
    if (v.v6 && v.eigw) e.gateways.push({ id: `eigw-${v.n}`, kind: 'eigw', vpcId: v.id });
  }
  PCX.forEach((id, k) => {
    const [a, b] = [Number(id[4]), Number(id[5])];
    const state = raw.peerings[k];
    if (state !== 'none' && a < vpcs.length && b < vpcs.length)
      e.peerings.push({ id, vpcIds: [`vpc-${a}`, `vpc-${b}`], active: state === 'active' } satisfies PeeringInput);
  });
  raw.nats.forEach((x, j) => {
    const v = vpcs[x.vpc % vpcs.length]!;
    e.nats.push({
      id: `nat-${j}`,
      subnetId: `subnet-${v.n}-${x.subnet % v.subnets}`,
      available: x.available > 0,
      ...(x.public > 0 ? { publicIp: `198.18.1.${j + 1}` } : {}),
    } satisfies NatInput);
  });
  const natsOf = (v: number) => raw.nats.map((x, j) => ({ x, j })).filter(({ x }) => x.vpc % vpcs.length === v);
  // Route tables: each VPC's own (a main one at least), local routes first.
  const tablesOf = vpcs.map((v) => {
    const own = raw.tables.filter((t) => t.vpc % vpcs.length === v.n);
    return own.length ? own : [{ vpc: v.n, in4: 2, in6: 2, peer: false, routes: [] }];
  });
  vpcs.forEach((v, vi) =>
    tablesOf[vi]!.forEach((t, ti) => {
      const routes: RouteInput[] = [{ destination: `10.${v.n}.0.0/16`, target: { kind: 'local' } }];
      if (v.v6) routes.push({ destination: v6Cidr(v.n), target: { kind: 'local' } });
      const nats = natsOf(v.n);
      if (t.in4 === 0 || t.in4 === 3) routes.push({ destination: '0.0.0.0/0', target: { kind: 'igw', id: `igw-${v.n}` } });
      if (t.in4 === 1 && nats.length) routes.push({ destination: '0.0.0.0/0', target: { kind: 'nat', id: `nat-${nats[0]!.j}` } });
      if (v.v6 && (t.in6 === 0 || t.in6 === 3)) routes.push({ destination: '::/0', target: { kind: 'igw', id: `igw-${v.n}` } });
      if (v.v6 && t.in6 === 1) routes.push({ destination: '::/0', target: { kind: 'eigw', id: `eigw-${v.n}` } });
      if (t.peer)
        for (const w of vpcs) {
          if (w === v) continue;
          const id = `pcx-${Math.min(v.n, w.n)}${Math.max(v.n, w.n)}`;
          routes.push({ destination: `10.${w.n}.0.0/16`, target: { kind: 'pcx', id } });
          if (v.v6 && w.v6) routes.push({ destination: v6Cidr(w.n), target: { kind: 'pcx', id } });
        }
      for (const r of t.routes) {
        const destination = ROUTE_DESTINATIONS[r.dest % ROUTE_DESTINATIONS.length]!;
        // never more specific than the local route inside the VPC, never twice the same destination
        if (destination.startsWith(`10.${v.n}.`) || destination === v6Cidr(v.n)) continue;
        if (routes.some((x) => x.destination === destination)) continue;
        const target: RouteInput['target'] =
          r.target === 0 || r.target === 1
            ? { kind: 'igw', id: `igw-${r.idx % 7 === 0 ? (v.n + 1) % 3 : v.n}` }
            : r.target === 2
              ? { kind: 'eigw', id: `eigw-${v.n}` }
              : r.target === 3
                ? { kind: 'nat', id: nats.length ? `nat-${nats[r.idx % nats.length]!.j}` : 'nat-gone' }
                : r.target === 4 || r.target === 5
                  ? { kind: 'pcx', id: PCX[r.idx % PCX.length]! }
                  : { kind: 'vpce', id: 'vpce-1' };
        routes.push({ destination, target, ...(r.blackhole === 0 ? { blackhole: true } : {}) });
      }
      e.tables.push({ id: `rtb-${v.n}-${ti}`, vpcId: v.id, routes } satisfies RouteTableInput);
    }),
  );
  // Network ACLs: each VPC's own (the default one, allowing all, when none was drawn).
  const aclsOf = vpcs.map((v) => {
    const own = raw.acls.filter((a) => a.vpc % vpcs.length === v.n);
    return own.length ? own : [{ vpc: v.n, entries: [], allowAll: true, star: true }];
  });
  vpcs.forEach((v, vi) =>
    aclsOf[vi]!.forEach((a, ai) => {
      const entries: AclEntryInput[] = [];
      for (const x of a.entries) {
        if (entries.some((y) => y.egress === x.egress && y.ruleNumber === x.rule)) continue;
        const ports = PORTS[x.ports % PORTS.length];
        entries.push({
          ruleNumber: x.rule,
          egress: x.egress,
          protocol: x.proto,
          allow: x.allow > 0,
          cidr: ACL_CIDRS[x.cidr % ACL_CIDRS.length]!,
          ...((x.proto === 6 || x.proto === 17) && ports ? { ports } : {}),
          ...(x.proto === 1 || x.proto === 58 ? { icmp: { type: x.icmpType, code: x.icmpType === -1 ? -1 : x.icmpCode } } : {}),
        });
      }
      for (const egress of [false, true]) {
        if (a.allowAll) {
          entries.push({ ruleNumber: 200, egress, protocol: -1, allow: true, cidr: '0.0.0.0/0' });
          if (v.v6) entries.push({ ruleNumber: 201, egress, protocol: -1, allow: true, cidr: '::/0' });
        }
        if (a.star) {
          entries.push({ ruleNumber: 32767, egress, protocol: -1, allow: false, cidr: '0.0.0.0/0' });
          if (v.v6) entries.push({ ruleNumber: 32768, egress, protocol: -1, allow: false, cidr: '::/0' });
        }
      }
      e.acls.push({ id: `acl-${v.n}-${ai}`, entries } satisfies AclInput);
    }),
  );
  let s = 0;
  for (const [vi, v] of vpcs.entries()) {
    for (let k = 0; k < v.subnets; k++) {
      const m = raw.subnetMap[s++ % raw.subnetMap.length]!;
      e.subnets.push({
        id: `subnet-${v.n}-${k}`,
        vpcId: v.id,
        routeTableId: `rtb-${v.n}-${m.table % tablesOf[vi]!.length}`,
        aclId: `acl-${v.n}-${m.acl % aclsOf[vi]!.length}`,
      } satisfies SubnetInput);
    }
  }
  raw.interfaces.forEach((x, i) => {
    const v = vpcs[x.vpc % vpcs.length]!;
    const k = x.subnet % v.subnets;
    e.interfaces.push({
      id: `eni-${i}`,
      subnetId: `subnet-${v.n}-${k}`,
      vpcId: v.id,
      ipv4: `10.${v.n}.${k}.${10 + i}`,
      ...(v.v6 && x.v6 > 0 ? { ipv6: `2600:1f18:${v.n}:${k}::${10 + i}` } : {}),
      ...(x.public ? { publicIp: `198.18.0.${10 + i}` } : {}),
      groups: x.groups.map((g) => `sg-${v.n}-${g}`),
    } satisfies PathInterface);
  });
  vpcs.forEach((v) =>
    (['a', 'b'] as const).forEach((name, gi) => {
      const raw1 = raw.groups[(v.n * 2 + gi) % raw.groups.length]!;
      const id = `sg-${v.n}-${name}`;
      const rules: RuleInput[] = raw1.rules.map((r, ri) => {
        const peer = SG_PEERS[r.peer % SG_PEERS.length]!;
        const base = {
          id: `sgr-${id}-${ri}`,
          groupId: id,
          egress: r.egress,
          protocol: r.protocol,
          ...(peer.refGroupId ? { refGroupId: `sg-${v.n}-${peer.refGroupId}` } : peer),
        };
        if (r.protocol === 'tcp' || r.protocol === 'udp') {
          const p = PORTS[r.ports % PORTS.length] ?? { from: 0, to: 65535 };
          return { ...base, from: p.from, to: p.to };
        }
        if (r.protocol === 'icmp' || r.protocol === 'icmpv6') return { ...base, from: r.icmpType, to: r.icmpType === -1 ? -1 : r.icmpCode };
        return base;
      });
      const open = (egress: boolean, k: number): RuleInput[] => [
        { id: `sgr-${id}-open${k}`, groupId: id, egress, protocol: '-1', cidr4: '0.0.0.0/0' },
        { id: `sgr-${id}-open${k}6`, groupId: id, egress, protocol: '-1', cidr6: '::/0' },
      ];
      if (raw1.openIn > 0) rules.push(...open(false, 0));
      if (raw1.openOut > 0) rules.push(...open(true, 1));
      e.groups.push({ id, vpcId: v.id, rules } satisfies GroupInput);
    }),
  );
  return e;
}

interface Flow {
  from: PathEnd;
  to: PathEnd;
  pkt: PathPacket;
}

function flowArb(e: PathEstate): fc.Arbitrary<Flow> {
  const ends = fc
    .record({
      kind: fc.constantFrom('ii', 'ii', 'ii', 'ie', 'ie', 'ei', 'ei'),
      family: fc.integer({ min: 0, max: 9 }),
      a: nat,
      b: nat,
      host: nat,
      pub: fc.integer({ min: 0, max: 2 }),
    })
    .map((x): [PathEnd, PathEnd] => {
      // mostly one family (IPv4 7 in 10, IPv6 2 in 10), sometimes mixed
      const v6 = x.family >= 7 && x.family < 9 && e.interfaces.some((i) => i.ipv6);
      const mixed = x.family === 9;
      const pool = v6 ? e.interfaces.filter((i) => i.ipv6) : e.interfaces;
      const src = pool[x.a % pool.length]!;
      const others = pool.length > 1 ? pool.filter((i) => i !== src) : pool;
      const dst = others[x.b % others.length]!;
      const hosts = INTERNET.filter((h) => h.includes(':') === (v6 || mixed));
      const internet: PathEnd = { internet: hosts[x.host % hosts.length]! };
      const at = (i: PathInterface, want6: boolean): PathEnd =>
        want6 && i.ipv6
          ? { iface: i.id, address: i.ipv6, viaPublic: false }
          : x.pub > 0 && i.publicIp && !want6
            ? { iface: i.id, address: i.publicIp, viaPublic: true }
            : { iface: i.id, address: i.ipv4, viaPublic: false };
      const own = (i: PathInterface): PathEnd =>
        v6 ? { iface: i.id, address: i.ipv6!, viaPublic: false } : { iface: i.id, address: i.ipv4, viaPublic: false };
      if (x.kind === 'ie') return [own(src), internet];
      if (x.kind === 'ei') {
        // mostly to an interface with a public IPv4 (an IPv6 one for IPv6)
        const reachable = pool.filter((i) => (v6 ? i.ipv6 : i.publicIp));
        return [internet, at(x.pub > 0 && reachable.length ? reachable[x.b % reachable.length]! : dst, v6)];
      }
      // interface to interface: at its private address half the time, else its public one if any
      return [own(src), x.pub === 2 && !mixed ? { iface: dst.id, address: dst.ipv6 ?? dst.ipv4, viaPublic: false } : at(dst, v6 || mixed)];
    });
  const pkt = fc
    .record({
      proto: fc.constantFrom(6, 6, 6, 17, 1, 58, 50),
      dstPort: fc.constantFrom(22, 80, 443, 3306, 8080),
      srcPort: fc.constantFrom(80, 1024, 33000, 50000, 60000),
      icmpType: fc.constantFrom(8, 0, 3, 128),
      icmpCode: fc.constantFrom(0, 1),
    })
    .map((p): PathPacket => {
      const ported = p.proto === 6 || p.proto === 17;
      const icmp = p.proto === 1 || p.proto === 58;
      return {
        proto: p.proto,
        srcPort: ported ? p.srcPort : 0,
        dstPort: ported ? p.dstPort : 0,
        icmpType: icmp ? p.icmpType : 0,
        icmpCode: icmp ? p.icmpCode : 0,
      };
    });
  return fc.record({ ends, pkt }).map(({ ends: [from, to], pkt: p }) => ({ from, to, pkt: p }));
}

/** The engine, loaded from the estate: every table and ACL first in another version, then replaced (incremental recompiles). */
function load(e: PathEstate): DataPlane {
  const plane = new DataPlane();
  const { policy, paths } = plane;
  for (const [id, cidrs] of Object.entries(e.prefixLists)) {
    policy.setPrefixList(id, cidrs);
    paths.setPrefixList(id, cidrs);
  }
  for (const g of e.groups) policy.setGroup(g);
  for (const i of e.interfaces) {
    policy.setInterface({
      id: i.id,
      vpcId: i.vpcId,
      ipv4: [i.ipv4],
      ipv6: i.ipv6 ? [i.ipv6] : [],
      groups: i.groups,
      ...(i.publicIp ? { publicIp: i.publicIp } : {}),
    });
    paths.setInterface({
      id: i.id,
      subnetId: i.subnetId,
      vpcId: i.vpcId,
      ...(i.publicIp ? { publicIp: parseAddress(i.publicIp)! } : {}),
      hasIpv6: !!i.ipv6,
    });
  }
  for (const t of e.tables) {
    paths.setRouteTable({ ...t, routes: [...t.routes].reverse().map((r) => ({ ...r, blackhole: !r.blackhole })) });
    paths.setRouteTable(t);
  }
  for (const a of e.acls) {
    paths.setAcl({ ...a, entries: a.entries.map((x) => ({ ...x, allow: !x.allow })) });
    paths.setAcl(a);
  }
  for (const s of e.subnets) paths.setSubnet(s);
  for (const g of e.gateways) paths.setGateway(g);
  for (const n of e.nats) paths.setNat(n);
  for (const p of e.peerings) paths.setPeering(p);
  return plane;
}

const flowEnd = (x: PathEnd): FlowEnd =>
  'iface' in x
    ? { kind: 'interface', interfaceId: x.iface, address: parseAddress(x.address)!, text: x.address, viaPublic: x.viaPublic }
    : { kind: 'external', address: parseAddress(x.internet)!, text: x.internet };

function check(e: PathEstate, plane: DataPlane, f: Flow) {
  const got = judgeFlow(plane, flowEnd(f.from), flowEnd(f.to), { ...f.pkt }, 0, { commit: false, explain: false, replies: true });
  const want = referenceJudge(e, f.from, f.to, f.pkt);
  const acl = 'acl' in got && got.acl ? got.acl : undefined;
  assert.deepEqual(
    {
      verdict: got.verdict,
      decidedBy: got.decidedBy,
      acl: acl && { subnetId: acl.subnetId, direction: acl.direction, reply: acl.reply, ruleNumber: acl.ruleNumber },
    },
    { verdict: want.verdict, decidedBy: want.decidedBy, acl: want.acl },
    `flow ${JSON.stringify(f)}: engine says ${'reason' in got ? (got.reason ?? '') : ''}; reference: ${want.why ?? ''}`,
  );
  return want;
}

describe('network paths: judgeFlow ≡ reference evaluator', () => {
  it('agrees on random estates and flows (verdict and deciding step)', () => {
    const tally = new Map<string, number>();
    const whys = new Map<string, number>();
    fc.assert(
      fc.property(
        rawEstate.map(build).chain((e) => fc.tuple(fc.constant(e), fc.array(flowArb(e), { minLength: 20, maxLength: 20 }))),
        ([e, flows]) => {
          const plane = load(e);
          for (const f of flows) {
            const w = check(e, plane, f);
            const k = `${w.verdict}/${w.decidedBy}`;
            tally.set(k, (tally.get(k) ?? 0) + 1);
            if (w.why) whys.set(w.why, (whys.get(w.why) ?? 0) + 1);
          }
        },
      ),
      { numRuns: Number(process.env.PATH_RUNS ?? 1000), seed: SEED, includeErrorInReport: true },
    );
    if (process.env.PATH_TALLY) console.log([...tally], [...whys]); // the outcomes, and why routes rejected
    // the estates are not all-reject: each outcome occurs (at least 2 in 100 flows)
    const total = [...tally.values()].reduce((a, b) => a + b, 0);
    for (const k of ['ACCEPT/both', 'REJECT/route', 'REJECT/acl', 'REJECT/egress', 'REJECT/ingress'])
      assert.ok((tally.get(k) ?? 0) >= total * 0.02, `${k}: ${tally.get(k) ?? 0} of ${total} (${JSON.stringify([...tally])})`);
  });
});

describe('network paths: the two differences the property test found', () => {
  // One VPC with IPv6, one subnet, an internet gateway; eni-0 with a public IPv4 and IPv6.
  const base = (routes: RouteInput[], extra: Partial<PathEstate> = {}): PathEstate => ({
    subnets: [{ id: 'subnet-0-0', vpcId: 'vpc-0', routeTableId: 'rtb-0-0', aclId: 'acl-0-0' }],
    tables: [
      {
        id: 'rtb-0-0',
        vpcId: 'vpc-0',
        routes: [
          { destination: '10.0.0.0/16', target: { kind: 'local' } },
          { destination: v6Cidr(0), target: { kind: 'local' } },
          ...routes,
        ],
      },
    ],
    acls: [
      {
        id: 'acl-0-0',
        entries: [false, true].flatMap((egress) => [
          { ruleNumber: 100, egress, protocol: -1, allow: true, cidr: '0.0.0.0/0' },
          { ruleNumber: 101, egress, protocol: -1, allow: true, cidr: '::/0' },
        ]),
      },
    ],
    gateways: [{ id: 'igw-0', kind: 'igw', vpcId: 'vpc-0' }],
    nats: [],
    peerings: [],
    prefixLists: PREFIX_LISTS,
    interfaces: [
      {
        id: 'eni-0',
        subnetId: 'subnet-0-0',
        vpcId: 'vpc-0',
        ipv4: '10.0.0.10',
        ipv6: '2600:1f18:0:0::10',
        publicIp: '198.18.0.10',
        groups: ['sg-0-a'],
      },
    ],
    groups: [
      {
        id: 'sg-0-a',
        vpcId: 'vpc-0',
        rules: [true, false].flatMap((egress, k) => [
          { id: `sgr-${k}`, groupId: 'sg-0-a', egress, protocol: '-1', cidr4: '0.0.0.0/0' },
          { id: `sgr-${k}6`, groupId: 'sg-0-a', egress, protocol: '-1', cidr6: '::/0' },
        ]),
      },
    ],
    ...extra,
  });
  const tcp443: PathPacket = { proto: 6, srcPort: 50000, dstPort: 443, icmpType: 0, icmpCode: 0 };

  it("a prefix list's more specific CIDR wins over 0.0.0.0/0 (a gateway endpoint's service is not reached through the internet gateway)", () => {
    const e = base([
      { destination: '0.0.0.0/0', target: { kind: 'igw', id: 'igw-0' } },
      { destination: 'pl-s3', target: { kind: 'igw', id: 'igw-0' }, blackhole: true },
    ]);
    const f: Flow = { from: { iface: 'eni-0', address: '10.0.0.10', viaPublic: false }, to: { internet: '52.216.1.1' }, pkt: tcp443 };
    assert.equal(check(e, load(e), f).decidedBy, 'route');
    // and 8.8.8.8: 8.8.8.0/24 → igw (a CIDR) is less specific than pl-s3's 8.8.8.0/25, equal to nothing
    assert.equal(check(e, load(e), { ...f, to: { internet: '8.8.8.8' } }).decidedBy, 'route');
    const tie = base([
      { destination: '8.8.8.0/25', target: { kind: 'igw', id: 'igw-0' } },
      { destination: 'pl-s3', target: { kind: 'igw', id: 'igw-0' }, blackhole: true },
    ]);
    // equal prefixes: the CIDR route wins over the prefix list's
    assert.equal(check(tie, load(tie), { ...f, to: { internet: '8.8.8.8' } }).verdict, 'ACCEPT');
  });

  it("another VPC's interface at its IPv6 address is reached over the internet (IPv6 addresses are public), not only through peering", () => {
    const e = base([{ destination: '::/0', target: { kind: 'igw', id: 'igw-0' } }]);
    e.subnets.push({ id: 'subnet-1-0', vpcId: 'vpc-1', routeTableId: 'rtb-1-0', aclId: 'acl-0-0' });
    e.tables.push({
      id: 'rtb-1-0',
      vpcId: 'vpc-1',
      routes: [
        { destination: '10.1.0.0/16', target: { kind: 'local' } },
        { destination: v6Cidr(1), target: { kind: 'local' } },
        { destination: '::/0', target: { kind: 'igw', id: 'igw-1' } },
      ],
    });
    e.gateways.push({ id: 'igw-1', kind: 'igw', vpcId: 'vpc-1' });
    e.groups.push({ ...e.groups[0]!, id: 'sg-1-a', vpcId: 'vpc-1' });
    e.interfaces.push({
      id: 'eni-1',
      subnetId: 'subnet-1-0',
      vpcId: 'vpc-1',
      ipv4: '10.1.0.11',
      ipv6: '2600:1f18:1:0::11',
      groups: ['sg-1-a'],
    });
    const f: Flow = {
      from: { iface: 'eni-0', address: '2600:1f18:0:0::10', viaPublic: false },
      to: { iface: 'eni-1', address: '2600:1f18:1:0::11', viaPublic: false },
      pkt: tcp443,
    };
    assert.equal(check(e, load(e), f).verdict, 'ACCEPT');
    // its private IPv4 is not: no peering
    assert.equal(
      check(e, load(e), { ...f, from: { ...f.from, address: '10.0.0.10' }, to: { ...f.to, address: '10.1.0.11' } }).decidedBy,
      'route',
    );
  });
});

// The verdict path (DataPlane.verdict: judgeFlowFast, and judgeFlow without explanations; and
// DataPlane.verdictAt on ends resolved by endHandle — just now, and once as loaded, so stale after
// the changes) against the explaining path (judgeFlow with explain: true), on the same random
// estates and flows — then again after random changes replace or remove route tables, ACLs,
// subnets, gateways, NAT gateways, peering connections and interfaces (routing's and the groups'),
// and after committed flows have left tracked connections: the same verdict, decided by the same step.
const rawChange = fc.record({ op: fc.integer({ min: 0, max: 11 }), idx: nat, flag: fc.boolean() });

function change(e: PathEstate, plane: DataPlane, c: { op: number; idx: number; flag: boolean }): void {
  const { paths, policy } = plane;
  const pick = <T>(xs: T[]): T | undefined => (xs.length ? xs[c.idx % xs.length] : undefined);
  const table = pick(e.tables);
  const acl = pick(e.acls);
  const iface = pick(e.interfaces);
  switch (c.op) {
    case 0: // a table replaced: routes in another order, some blackholes flipped
      if (table)
        paths.setRouteTable({
          ...table,
          routes: [...table.routes].reverse().map((r, k) => (k % 2 === Number(c.flag) ? { ...r, blackhole: !r.blackhole } : r)),
        });
      break;
    case 1: // an ACL replaced: some entries' actions flipped, one dropped
      if (acl)
        paths.setAcl({
          ...acl,
          entries: acl.entries.filter((_, k) => k !== c.idx % 3).map((x, k) => (k % 2 === Number(c.flag) ? { ...x, allow: !x.allow } : x)),
        });
      break;
    case 2:
      if (table) paths.removeRouteTable(table.id);
      break;
    case 3:
      if (acl) paths.removeAcl(acl.id);
      break;
    case 4: {
      const s = pick(e.subnets);
      if (s) {
        if (c.flag) paths.removeSubnet(s.id);
        else paths.setSubnet({ ...s, routeTableId: pick([...e.tables].reverse())?.id ?? s.routeTableId, aclId: acl?.id ?? s.aclId });
      }
      break;
    }
    case 5: // routing forgets an interface (the plain model judges it), or learns it again
      if (iface) {
        if (c.flag) paths.removeInterface(iface.id);
        else paths.setInterface({ id: iface.id, subnetId: iface.subnetId, vpcId: iface.vpcId, hasIpv6: !!iface.ipv6 });
      }
      break;
    case 6: // an interface moved to another subnet of its VPC, its public address gone or back
      if (iface) {
        const other = e.subnets.filter((s) => s.vpcId === iface.vpcId);
        paths.setInterface({
          id: iface.id,
          subnetId: other[c.idx % other.length]!.id,
          vpcId: iface.vpcId,
          ...(iface.publicIp && c.flag ? { publicIp: parseAddress(iface.publicIp)! } : {}),
          hasIpv6: !!iface.ipv6,
        });
      }
      break;
    case 7: // the groups' side: an interface removed, or set again with fewer groups / another primary address
      if (iface) {
        if (c.flag) policy.removeInterface(iface.id);
        else
          policy.setInterface({
            id: iface.id,
            vpcId: iface.vpcId,
            ipv4: c.idx % 2 ? [iface.ipv4] : [`${iface.ipv4.split('.').slice(0, 3).join('.')}.200`, iface.ipv4],
            ipv6: iface.ipv6 ? [iface.ipv6] : [],
            groups: iface.groups.slice(0, 1),
            ...(iface.publicIp && c.flag ? { publicIp: iface.publicIp } : {}),
          });
      }
      break;
    case 8: {
      const g = pick(e.gateways);
      if (g) {
        if (c.flag) paths.removeGateway(g.id);
        else paths.setGateway({ ...g, vpcId: c.idx % 2 ? undefined : g.vpcId });
      }
      break;
    }
    case 9: {
      const n = pick(e.nats);
      if (n) {
        if (c.flag) paths.removeNat(n.id);
        else paths.setNat({ ...n, available: !n.available });
      }
      break;
    }
    case 10: {
      const p = pick(e.peerings);
      if (p) {
        if (c.flag) paths.removePeering(p.id);
        else paths.setPeering({ ...p, active: !p.active });
      }
      break;
    }
    default: // a prefix list changed or gone
      if (c.flag) paths.removePrefixList('pl-s3');
      else paths.setPrefixList('pl-cust', ['10.2.0.0/17', '203.0.113.0/26']);
  }
}

/** `hs`: the flow's ends resolved by `endHandle` (maybe before changes since: re-read at their next use). */
function sameVerdict(plane: DataPlane, f: Flow, when: string, hs?: readonly [number, number]) {
  const from = flowEnd(f.from);
  const to = flowEnd(f.to);
  const explained = judgeFlow(plane, from, to, { ...f.pkt }, 0, { commit: false, explain: true, replies: true });
  const code = judgeFlowFast(plane, from, to, { ...f.pkt }, 0);
  const quick = judgeFlow(plane, from, to, { ...f.pkt }, 0, { commit: false, explain: false, replies: true });
  // on handles: resolved now, and (hs) resolved earlier
  const at = (h: readonly [number, number]) =>
    plane.verdictAt(h[0], h[1], f.pkt.proto, f.pkt.srcPort, f.pkt.dstPort, f.pkt.icmpType ?? NaN, f.pkt.icmpCode ?? NaN, 0, true);
  const fresh: [number, number] = [plane.endHandle(from), plane.endHandle(to)];
  const onHandles = [at(fresh), ...(hs ? [at(hs)] : [])].map((k) => FLOW_DECIDED_BY[k]);
  plane.releaseEnd(fresh[0]);
  plane.releaseEnd(fresh[1]);
  const acl = 'acl' in explained ? explained.acl : undefined;
  const quickAcl = 'acl' in quick ? quick.acl : undefined;
  assert.deepEqual(
    {
      verdict: code === FLOW_ACCEPT ? 'ACCEPT' : 'REJECT',
      decidedBy: FLOW_DECIDED_BY[code],
      quick: [quick.verdict, quick.decidedBy],
      onHandles,
    },
    {
      verdict: explained.verdict,
      decidedBy: explained.decidedBy,
      quick: [explained.verdict, explained.decidedBy],
      onHandles: onHandles.map(() => explained.decidedBy),
    },
    `${when}: flow ${JSON.stringify(f)}: explained ${explained.reason ?? ''}`,
  );
  // what the quick answer gives on demand is what it gave before the verdict path
  assert.deepEqual(quickAcl, acl);
  assert.equal(quick.route?.ok, explained.route?.ok);
}

describe('network paths: the verdict path ≡ the explaining path', () => {
  it('agrees on random estates and flows, after random changes, and with tracked connections', () => {
    const tally = new Map<string, number>();
    fc.assert(
      fc.property(
        rawEstate
          .map(build)
          .chain((e) =>
            fc.tuple(
              fc.constant(e),
              fc.array(flowArb(e), { minLength: 12, maxLength: 12 }),
              fc.array(fc.array(rawChange, { minLength: 1, maxLength: 4 }), { minLength: 3, maxLength: 3 }),
            ),
          ),
        ([e, flows, rounds]) => {
          const plane = load(e);
          // each flow's ends resolved once, as loaded: the changes below make them stale (verdictAt re-reads them)
          const hs = flows.map((f) => [plane.endHandle(flowEnd(f.from)), plane.endHandle(flowEnd(f.to))] as const);
          flows.forEach((f, k) => sameVerdict(plane, f, 'as loaded', hs[k]));
          rounds.forEach((changes, r) => {
            for (const c of changes) change(e, plane, c);
            for (const [n, f] of flows.entries()) {
              sameVerdict(plane, f, `after changes ${JSON.stringify(rounds.slice(0, r + 1))}`, hs[n]);
              const k = judgeFlowFast(plane, flowEnd(f.from), flowEnd(f.to), { ...f.pkt }, 0);
              tally.set(FLOW_DECIDED_BY[k], (tally.get(FLOW_DECIDED_BY[k]) ?? 0) + 1);
            }
          });
          // connections committed (both ways: replies find their tracked entries), then judged again
          for (const f of flows.slice(0, 6)) {
            judgeFlow(plane, flowEnd(f.from), flowEnd(f.to), { ...f.pkt, flags: 2 }, 0, { commit: true, explain: false, replies: true });
            const back = { ...f.pkt, srcPort: f.pkt.dstPort, dstPort: f.pkt.srcPort };
            sameVerdict(plane, { from: f.to, to: f.from, pkt: back }, 'a reply to a committed flow');
          }
          flows.forEach((f, k) => sameVerdict(plane, f, 'with tracked connections', hs[k]));
          // a released handle is refused (its slot is reused by the next endHandle)
          for (const [a, b] of hs) {
            plane.releaseEnd(a);
            plane.releaseEnd(b);
          }
          assert.throws(() => plane.verdictAt(hs[0]![0], hs[0]![1], 6, 50000, 443, NaN, NaN, 0), RangeError);
        },
      ),
      { numRuns: Number(process.env.PATH_RUNS ?? 1000) >> 1, seed: SEED + 1, includeErrorInReport: true },
    );
    for (const k of FLOW_DECIDED_BY) assert.ok((tally.get(k) ?? 0) > 0, `${k}: ${JSON.stringify([...tally])}`);
  });
});
