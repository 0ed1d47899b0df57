// Property test of the flat verdict index (gate-index.ts) against the plain reference evaluator
// (test/helpers/reference-engine.ts), through sequences of changes: groups set and removed,
// interfaces set (groups and addresses changed) and removed, prefix lists set and removed.
// Covers what the index special-cases: IPv6 remotes and rules, '-1' rules, ICMP type/code, ports anywhere in 0..65535 (the port filters'
// 64-point blocks, the chunks' 8-point blocks and 256-point chunks, and their edges), long range lists (bisection instead of a scan), wide CIDRs
// (the /16 address filter), interfaces with more groups than a table row holds, addresses held
// by several interfaces, and two VPCs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Policy, type GroupInput, type InterfaceInput, type RuleInput } from '../src/dataplane/sg-policy.ts';
import { DataPlane } from '../src/dataplane/dataplane.ts';
import { parseAddress, setHas } from '../src/dataplane/addresses.ts';
import { AddrTable } from '../src/dataplane/addr-table.ts';
import { referenceAllows, sameAddress, type Estate, type Query } from './helpers/reference-engine.ts';

const GROUPS = ['sg-a', 'sg-b', 'sg-c', 'sg-d', 'sg-e', 'sg-f', 'sg-g', 'sg-h', 'sg-i'];
const VPC_OF = (gid: string) => (GROUPS.indexOf(gid) < 6 ? 'vpc-1' : 'vpc-2');
const IFACES = ['eni-0', 'eni-1', 'eni-2', 'eni-3', 'eni-4'];

interface State extends Estate {
  groups: Map<string, GroupInput>;
  interfaces: Map<string, InterfaceInput>;
  prefixLists: Map<string, string[]>;
}

const V4 = ['10.0.0.5', '10.0.0.6', '10.0.1.9', '10.1.0.1', '10.200.3.4', '192.168.1.1', '8.8.8.8', '0.0.0.0', '255.255.255.255'];
const V6 = ['2001:db8::5', '2001:db8::6', '2001:db8:1::1', 'fd00::1', '::1'];
const cidr4 = fc.constantFrom(
  '10.0.0.0/24',
  '10.0.0.5/32',
  '10.0.0.4/30',
  '10.0.0.0/16',
  '10.1.0.0/16',
  '10.0.0.0/8',
  '0.0.0.0/0',
  '192.168.0.0/16',
  '8.8.8.8/32',
  '10.200.0.0/15',
  '255.255.255.255/32',
  '10.0.1.0/25',
  '10.0.1.8/29',
);
const cidr6 = fc.constantFrom('2001:db8::/32', '2001:db8::5/128', '2001:db8:1::/48', '::/0', 'fd00::/8');
const PORTS = [
  0, 1, 7, 8, 22, 63, 64, 65, 127, 128, 255, 256, 257, 443, 2047, 2048, 2049, 8080, 8191, 8192, 32767, 32768, 65279, 65280, 65471, 65472,
  65527, 65528, 65535,
];
const port = fc.oneof(fc.constantFrom(...PORTS), fc.integer({ min: 0, max: 65535 }));

function ruleArb(gid: string, i: number): fc.Arbitrary<RuleInput> {
  return fc
    .record({
      egress: fc.boolean(),
      protocol: fc.constantFrom('-1', 'tcp', 'tcp', 'udp', 'icmp', 'icmpv6', '50'),
      a: port,
      w: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 65535 })),
      t: fc.constantFrom(-1, 0, 3, 8, 128),
      c: fc.constantFrom(-1, 0, 1),
      peer: fc.oneof(
        cidr4.map((c) => ({ cidr4: c })),
        cidr6.map((c) => ({ cidr6: c })),
        fc.constantFrom(...GROUPS).map((g) => ({ refGroupId: g })),
        fc.constantFrom('pl-1', 'pl-2').map((p) => ({ prefixListId: p })),
      ),
    })
    .map((x): RuleInput => {
      const base = { id: `sgr-${gid}-${i}`, groupId: gid, egress: x.egress, protocol: x.protocol, ...x.peer };
      if (x.protocol === 'tcp' || x.protocol === 'udp') return { ...base, from: x.a, to: Math.min(65535, x.a + x.w) };
      if (x.protocol === 'icmp' || x.protocol === 'icmpv6') return { ...base, from: x.t, to: x.t === -1 ? -1 : x.c };
      return base;
    });
}

/** Rule lists from empty to long (long lists exceed the short-scan limits of the index). */
const groupArb = (gid: string) =>
  fc
    .integer({ min: 0, max: 24 })
    .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => ruleArb(gid, i))))
    .map((rules): GroupInput => ({ id: gid, vpcId: VPC_OF(gid), rules }));

const ifaceArb = (id: string) =>
  fc
    .record({
      vpc: fc.constantFrom('vpc-1', 'vpc-1', 'vpc-2'),
      ipv4: fc.subarray(V4.slice(0, 6), { minLength: 0, maxLength: 2 }),
      ipv6: fc.subarray(V6.slice(0, 4), { minLength: 0, maxLength: 2 }),
      n: fc.integer({ min: 0, max: 9 }),
      pick: fc.array(fc.nat(), { minLength: 9, maxLength: 9 }),
    })
    .map((x): InterfaceInput => {
      const mine = GROUPS.filter((g) => VPC_OF(g) === x.vpc);
      // up to 9 groups (more than a table row holds), duplicates allowed as the input allows them
      const groups = Array.from({ length: Math.min(x.n, 8) }, (_, k) => mine[x.pick[k]! % mine.length]!);
      return { id, vpcId: x.vpc, ipv4: x.ipv4, ipv6: x.ipv6, groups };
    });

type Op =
  | { kind: 'group'; g: GroupInput }
  | { kind: 'removeGroup'; id: string }
  | { kind: 'iface'; i: InterfaceInput }
  | { kind: 'removeIface'; id: string }
  | { kind: 'pl'; id: string; cidrs: string[] }
  | { kind: 'removePl'; id: string };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .constantFrom(...GROUPS)
      .chain(groupArb)
      .map((g): Op => ({ kind: 'group', g })),
  },
  { weight: 1, arbitrary: fc.constantFrom(...GROUPS).map((id): Op => ({ kind: 'removeGroup', id })) },
  {
    weight: 4,
    arbitrary: fc
      .constantFrom(...IFACES)
      .chain(ifaceArb)
      .map((i): Op => ({ kind: 'iface', i })),
  },
  { weight: 1, arbitrary: fc.constantFrom(...IFACES).map((id): Op => ({ kind: 'removeIface', id })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ id: fc.constantFrom('pl-1', 'pl-2'), cidrs: fc.array(fc.oneof(cidr4, cidr6), { maxLength: 3 }) })
      .map((x): Op => ({ kind: 'pl', ...x })),
  },
  { weight: 1, arbitrary: fc.constantFrom('pl-1', 'pl-2').map((id): Op => ({ kind: 'removePl', id })) },
);

function apply(p: Policy, st: State, op: Op): void {
  switch (op.kind) {
    case 'group':
      p.setGroup(op.g);
      st.groups.set(op.g.id, op.g);
      break;
    case 'removeGroup':
      p.removeGroup(op.id);
      st.groups.delete(op.id);
      break;
    case 'iface':
      p.setInterface(op.i);
      st.interfaces.set(op.i.id, op.i);
      break;
    case 'removeIface':
      p.removeInterface(op.id);
      st.interfaces.delete(op.id);
      break;
    case 'pl':
      p.setPrefixList(op.id, op.cidrs);
      st.prefixLists.set(op.id, op.cidrs);
      break;
    case 'removePl':
      p.removePrefixList(op.id);
      st.prefixLists.delete(op.id);
      break;
  }
}

const queryArb = fc
  .record({
    iface: fc.constantFrom(...IFACES, 'eni-none'),
    egress: fc.boolean(),
    proto: fc.constantFrom(6, 6, 17, 1, 58, 50, 47),
    // now and then a TCP/UDP port outside 0..65535 (the index's general path)
    port: fc.oneof({ weight: 9, arbitrary: port }, { weight: 1, arbitrary: fc.constantFrom(-1, 65536, 70000) }),
    icmpType: fc.constantFrom(0, 3, 8, 128),
    icmpCode: fc.constantFrom(0, 1, 4),
    remote: fc.constantFrom(...V4, ...V6),
  })
  .map((q) => (q.proto === 6 || q.proto === 17 || (q.port >= 0 && q.port <= 65535) ? q : { ...q, port: 0 }));

function gate(q: Query) {
  return {
    direction: q.egress ? ('egress' as const) : ('ingress' as const),
    proto: q.proto,
    port: q.port,
    icmpType: q.icmpType,
    icmpCode: q.icmpCode,
    remote: parseAddress(q.remote)!,
  };
}

describe('flat verdict index ≡ reference evaluator through changes', () => {
  it('agrees after every change of a random sequence', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(opArb, fc.array(queryArb, { minLength: 8, maxLength: 8 })), { minLength: 1, maxLength: 14 }),
        (steps) => {
          const p = new Policy();
          const st: State = { groups: new Map(), interfaces: new Map(), prefixLists: new Map() };
          for (const [op, queries] of steps) {
            apply(p, st, op);
            for (const q of queries) {
              const got = p.allows(q.iface, gate(q));
              assert.equal(got, referenceAllows(st, q), JSON.stringify({ op, q }));
              assert.equal(p.matchingRules(q.iface, gate(q)).length > 0, got);
            }
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('the data plane, by handle, judges as the policy does', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 4, maxLength: 14 }),
        fc.array(queryArb, { minLength: 10, maxLength: 10 }),
        (ops, queries) => {
          const plane = new DataPlane();
          const st: State = { groups: new Map(), interfaces: new Map(), prefixLists: new Map() };
          for (const op of ops) apply(plane.policy, st, op);
          for (const q of queries) {
            const iface = st.interfaces.get(q.iface);
            const remote = parseAddress(q.remote)!;
            const local = iface && (iface.ipv4[0] ?? iface.ipv6[0]);
            const me = {
              kind: 'interface' as const,
              interfaceId: q.iface,
              address: local ? parseAddress(local)! : remote,
              text: local ?? q.remote,
            };
            const other = { kind: 'external' as const, address: remote, text: q.remote };
            const pkt = { proto: q.proto, srcPort: 40000, dstPort: q.port, icmpType: q.icmpType, icmpCode: q.icmpCode };
            const v = q.egress ? plane.judge(me, other, pkt, 0, { commit: false }) : plane.judge(other, me, pkt, 0, { commit: false });
            assert.equal(v.verdict === 'ACCEPT', referenceAllows(st, q), JSON.stringify({ q }));
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('admitted() is the set of what the ingress gate allows', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 4, maxLength: 14 }),
        fc.array(queryArb, { minLength: 10, maxLength: 10 }),
        (ops, queries) => {
          const p = new Policy();
          const st: State = { groups: new Map(), interfaces: new Map(), prefixLists: new Map() };
          for (const op of ops) apply(p, st, op);
          for (const q of queries) {
            const iface = st.interfaces.get(q.iface);
            if (!iface) continue;
            const adm = p.admitted(q.iface, 'ingress', q.proto, q.port, q.icmpType, q.icmpCode);
            const remote = parseAddress(q.remote)!;
            const inGroups = [...st.interfaces.values()].some(
              (i) =>
                i.vpcId === iface.vpcId &&
                [...i.ipv4, ...i.ipv6].some((a) => sameAddress(a, q.remote)) &&
                i.groups.some((g) => adm.groups.has(g)),
            );
            assert.equal(setHas(adm.set, remote) || inGroups, referenceAllows(st, { ...q, egress: false }), JSON.stringify({ q }));
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('large arenas', () => {
  it('a big estate, changed until its arenas compact, answers as one built afresh', () => {
    let seed = 12345;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      return ((seed >>> 8) & 0xffffff) / 0x1000000;
    };
    const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)]!;
    const ids = Array.from({ length: 300 }, (_, i) => `sg-${i}`);
    const groupOf = (id: string, salt: number): GroupInput => ({
      id,
      vpcId: 'vpc-1',
      rules: Array.from({ length: 40 }, (_, k) => {
        const proto = pick(['tcp', 'tcp', 'udp', 'icmp', '-1']);
        const from = Math.floor(rnd() * 65000);
        const peer =
          rnd() < 0.6
            ? { cidr4: `10.${Math.floor(rnd() * 4)}.${Math.floor(rnd() * 256)}.0/${pick([16, 24, 28])}` }
            : rnd() < 0.5
              ? { refGroupId: pick(ids) }
              : { cidr6: `2001:db8:${Math.floor(rnd() * 9)}::/48` };
        return {
          id: `sgr-${id}-${salt}-${k}`,
          groupId: id,
          egress: rnd() < 0.4,
          protocol: proto,
          ...(proto === 'tcp' || proto === 'udp'
            ? { from, to: from + Math.floor(rnd() * 300) }
            : proto === 'icmp'
              ? { from: 8, to: -1 }
              : {}),
          ...peer,
        };
      }),
    });
    const changed = new Policy();
    const groups = new Map(ids.map((id) => [id, groupOf(id, 0)]));
    for (const g of groups.values()) changed.setGroup(g);
    const ifaces: InterfaceInput[] = Array.from({ length: 400 }, (_, i) => ({
      id: `eni-${i}`,
      vpcId: 'vpc-1',
      ipv4: [`10.${i >> 8}.${i & 255}.7`],
      ipv6: [`2001:db8:${i % 9}::${i}`],
      groups: Array.from({ length: 1 + (i % 4) }, () => pick(ids)),
    }));
    for (const i of ifaces) changed.setInterface(i);
    // replace groups over and over: the dead words pile up until the arenas compact
    for (let round = 1; round <= 6; round++) {
      for (const id of ids) {
        const g = groupOf(id, round);
        groups.set(id, g);
        changed.setGroup(g);
      }
    }
    const fresh = new Policy();
    for (const g of groups.values()) fresh.setGroup(g);
    for (const i of ifaces) fresh.setInterface(i);
    for (let k = 0; k < 20000; k++) {
      const i = pick(ifaces);
      const other = pick(ifaces);
      const remote = parseAddress(rnd() < 0.8 ? other.ipv4[0]! : other.ipv6[0]!)!;
      const q = {
        direction: rnd() < 0.5 ? ('ingress' as const) : ('egress' as const),
        proto: pick([6, 17, 1, 50]),
        port: Math.floor(rnd() * 65536),
        icmpType: 8,
        icmpCode: 0,
        remote,
      };
      assert.equal(changed.allows(i.id, q), fresh.allows(i.id, q), JSON.stringify({ i: i.id, q: { ...q, remote: String(remote.v) } }));
    }
  });
});

describe('address table', () => {
  it('keeps values and masks through sets, changes and deletions; its sums never miss a live mask bit', () => {
    let seed = 777;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      return ((seed >>> 8) & 0xffffff) / 0x1000000;
    };
    const t = new AddrTable();
    const model = new Map<string, [number, number, number]>();
    const key = (vpc: number, a: number) => `${vpc}/${a}`;
    const check = () => {
      for (const [k, [value, mask, maskB]] of model) {
        const [vpc, a] = k.split('/').map(Number) as [number, number];
        assert.equal(t.get(vpc, a), value);
        assert.equal(t.maskOf(vpc, a), mask);
        assert.equal(t.maskBOf(vpc, a), maskB);
        const home = AddrTable.hash(vpc, a) & t.mask;
        assert.equal(t.sums[2 * home]! & mask, mask, 'sums hold every bit of a live entry');
        assert.equal(t.sums[2 * home + 1]! & maskB, maskB, 'sums hold every bit of a live entry');
      }
    };
    // enough entries to grow the table, enough changes and deletions to sweep its sums
    for (let step = 0; step < 60000; step++) {
      const vpc = Math.floor(rnd() * 3);
      const a = (Math.floor(rnd() * 3000) * 2654435761) | 0;
      const r = rnd();
      if (r < 0.6) {
        const value = rnd() < 0.1 ? -2 : Math.floor(rnd() * 5000);
        const mask = (1 << Math.floor(rnd() * 32)) | (1 << Math.floor(rnd() * 32));
        const maskB = 1 << Math.floor(rnd() * 32);
        t.set(vpc, a, value, mask, maskB);
        model.set(key(vpc, a), [value, mask, maskB]);
      } else {
        t.delete(vpc, a);
        model.delete(key(vpc, a));
      }
      if (step % 5000 === 4999) check();
    }
    check();
    for (let k = 0; k < 2000; k++) {
      const vpc = Math.floor(rnd() * 3);
      const a = (Math.floor(rnd() * 6000) * 2654435761) | 0;
      const m = model.get(key(vpc, a));
      assert.equal(t.get(vpc, a), m ? m[0] : -1);
      assert.equal(t.maskOf(vpc, a), m ? m[1] : 0);
      assert.equal(t.maskBOf(vpc, a), m ? m[2] : 0);
    }
  });

  it('group references follow membership through many interface changes (sums swept on the way)', () => {
    let seed = 4242;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      return ((seed >>> 8) & 0xffffff) / 0x1000000;
    };
    const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)]!;
    const ids = Array.from({ length: 80 }, (_, i) => `sg-${i}`);
    const p = new Policy();
    const groups = new Map<string, GroupInput>();
    // every group admits members of three other groups (all protocols, and tcp 1000-1100)
    for (const id of ids) {
      const refs = [pick(ids), pick(ids), pick(ids)];
      const group: GroupInput = {
        id,
        vpcId: 'vpc-1',
        rules: refs.flatMap((g, k) => [
          { id: `${id}-a${k}`, groupId: id, egress: false, protocol: k === 0 ? '-1' : 'tcp', from: 1000, to: 1100, refGroupId: g },
        ]),
      };
      p.setGroup(group);
      groups.set(id, group);
    }
    const ifaces = new Map<string, InterfaceInput>();
    const addr = (i: number) => `10.9.${i >> 8}.${i & 255}`;
    for (let step = 0; step < 3000; step++) {
      const n = Math.floor(rnd() * 300);
      const id = `eni-${n}`;
      if (rnd() < 0.2) {
        p.removeInterface(id);
        ifaces.delete(id);
      } else {
        // addresses move between interfaces now and then (shared for a while)
        const i: InterfaceInput = {
          id,
          vpcId: 'vpc-1',
          ipv4: [addr(rnd() < 0.9 ? n : Math.floor(rnd() * 300))],
          ipv6: [],
          groups: Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => pick(ids)),
        };
        p.setInterface(i);
        ifaces.set(id, i);
      }
      if (step % 50 !== 49) continue;
      for (let k = 0; k < 40; k++) {
        const at = pick([...ifaces.values()]);
        const remote = addr(Math.floor(rnd() * 300));
        const port = pick([80, 1000, 1050, 1100, 1101]);
        const q = { direction: 'ingress' as const, proto: 6, port, remote: parseAddress(remote)! };
        const want = referenceAllows(
          { groups, interfaces: ifaces, prefixLists: new Map() },
          { iface: at.id, egress: false, proto: 6, port, icmpType: 0, icmpCode: 0, remote },
        );
        assert.equal(p.allows(at.id, q), want, JSON.stringify({ at: at.id, remote, port }));
      }
    }
  });
});

describe('port entry summaries', () => {
  it('let through exactly what the entry’s rules admit (aliased /16 blocks, wide ranges, prefix lists, references past 32 groups)', () => {
    const p = new Policy();
    const ids = Array.from({ length: 70 }, (_, i) => `sg-${i}`);
    for (const id of ids) p.setGroup({ id, vpcId: 'vpc-1', rules: [] });
    const rule = (k: number, peer: Partial<RuleInput>): RuleInput => ({
      id: `r-${k}`,
      groupId: 'sg-0',
      egress: false,
      protocol: 'tcp',
      from: 80,
      to: 80,
      ...peer,
    });
    p.setPrefixList('pl-1', ['172.16.0.0/12']);
    p.setGroup({
      id: 'sg-0',
      vpcId: 'vpc-1',
      rules: [
        rule(1, { cidr4: '10.32.0.0/16' }), // block 0x0a20: the same summary bit as 10.0/16
        rule(2, { cidr4: '10.1.0.0/16' }),
        rule(3, { cidr4: '11.0.0.0/11' }), // 32 blocks: every bit
        rule(4, { prefixListId: 'pl-1' }),
        rule(5, { refGroupId: 'sg-37' }), // handle 37: bits 5 and 1
        rule(6, { cidr6: '2001:db8::/32' }),
      ],
    });
    p.setInterface({ id: 'eni-0', vpcId: 'vpc-1', ipv4: ['10.9.9.9'], ipv6: [], groups: ['sg-0'] });
    p.setInterface({ id: 'eni-a', vpcId: 'vpc-1', ipv4: ['10.5.0.1'], ipv6: [], groups: ['sg-5'] }); // bit 5 only
    p.setInterface({ id: 'eni-b', vpcId: 'vpc-1', ipv4: ['10.5.0.2'], ipv6: [], groups: ['sg-37'] });
    p.setInterface({ id: 'eni-c', vpcId: 'vpc-1', ipv4: ['10.5.0.3'], ipv6: [], groups: ['sg-33', 'sg-5'] }); // bits 1 and 5, handles 33 and 5
    const at = (remote: string, port = 80) => p.allows('eni-0', { direction: 'ingress', proto: 6, port, remote: parseAddress(remote)! });
    assert.equal(at('10.0.0.5'), false);
    assert.equal(at('10.32.7.7'), true);
    assert.equal(at('10.1.2.3'), true);
    assert.equal(at('11.31.0.1'), true);
    assert.equal(at('11.32.0.1'), false);
    assert.equal(at('172.20.0.1'), true);
    assert.equal(at('172.32.0.1'), false);
    assert.equal(at('10.5.0.1'), false);
    assert.equal(at('10.5.0.2'), true);
    assert.equal(at('10.5.0.3'), false);
    assert.equal(at('2001:db8::1'), true);
    assert.equal(at('2001:db9::1'), false);
    assert.equal(at('10.32.7.7', 81), false);
    // the prefix list and the membership change: the summary follows
    p.setPrefixList('pl-1', []);
    assert.equal(at('172.20.0.1'), false);
    p.setInterface({ id: 'eni-c', vpcId: 'vpc-1', ipv4: ['10.5.0.3'], ipv6: [], groups: ['sg-37'] });
    assert.equal(at('10.5.0.3'), true);
    p.removeInterface('eni-c');
    assert.equal(at('10.5.0.3'), false);
  });
});

describe('all-protocol address filters and chunk peers', () => {
  it('agree with the rules one by one (narrow and wide ranges, merged ranges, aliased blocks and groups, chunk edges)', () => {
    const p = new Policy();
    // what the policy is given, for the reference evaluator too
    const st: State = { groups: new Map(), interfaces: new Map(), prefixLists: new Map() };
    const setGroup = (g: GroupInput) => {
      p.setGroup(g);
      st.groups.set(g.id, g);
    };
    const setInterface = (i: InterfaceInput) => {
      p.setInterface(i);
      st.interfaces.set(i.id, i);
    };
    const ids = Array.from({ length: 40 }, (_, i) => `sg-${i}`);
    for (const id of ids) setGroup({ id, vpcId: 'vpc-1', rules: [] });
    let k = 0;
    const all = (peer: Partial<RuleInput>): RuleInput => ({ id: `a-${k++}`, groupId: 'sg-0', egress: false, protocol: '-1', ...peer });
    const tcp = (from: number, to: number, peer: Partial<RuleInput>): RuleInput => ({
      id: `t-${k++}`,
      groupId: 'sg-0',
      egress: false,
      protocol: 'tcp',
      from,
      to,
      ...peer,
    });
    p.setPrefixList('pl-1', ['192.168.4.0/24']);
    st.prefixLists.set('pl-1', ['192.168.4.0/24']);
    const rules: RuleInput[] = [
      all({ cidr4: '10.0.200.0/24' }), // narrow, in the remotes' block
      all({ cidr4: '10.64.0.0/20' }), // block 64: aliases block 0 modulo 64
      all({ cidr4: '10.1.0.0/18' }), // 4 /20 blocks: still narrow
      all({ cidr4: '10.2.0.0/17' }), // 8 /20 blocks: wide
      all({ cidr4: '10.3.240.0/20' }),
      all({ cidr4: '10.4.0.0/20' }), // merged across a /16 boundary: narrow
      all({ cidr4: '10.5.0.0/20' }),
      all({ cidr4: '10.5.16.0/20' }),
      all({ cidr4: '10.5.32.0/20' }),
      all({ cidr4: '10.5.48.0/20' }),
      all({ cidr4: '10.5.64.0/20' }), // merged: 5 /20 blocks, wide
      all({ cidr4: '12.0.0.0/10' }), // 64 blocks: every bit of the block map
      tcp(250, 260, { cidr4: '10.16.0.0/16' }), // block 16: aliases block 0 in a chunk's peers; across a chunk edge
      tcp(1000, 1000, { refGroupId: 'sg-17' }), // aliases sg-1 in a chunk's peers
      tcp(2000, 2047, { prefixListId: 'pl-1' }),
      tcp(3000, 3100, { cidr4: '10.7.0.0/24' }),
      tcp(4000, 4000, { cidr6: '2001:db8::/32' }),
    ];
    setGroup({ id: 'sg-0', vpcId: 'vpc-1', rules });
    setInterface({ id: 'eni-0', vpcId: 'vpc-1', ipv4: ['10.9.9.9'], ipv6: [], groups: ['sg-0'] });
    setInterface({ id: 'eni-1', vpcId: 'vpc-1', ipv4: ['10.0.1.1'], ipv6: [], groups: ['sg-1'] });
    setInterface({ id: 'eni-17', vpcId: 'vpc-1', ipv4: ['10.0.1.17'], ipv6: [], groups: ['sg-17'] });
    const remotes = [
      '10.0.1.1',
      '10.0.1.17',
      '10.0.199.255',
      '10.0.200.0',
      '10.0.200.255',
      '10.0.201.0',
      '10.64.0.1',
      '10.64.16.0',
      '10.0.0.1',
      '10.1.0.0',
      '10.1.63.255',
      '10.1.64.0',
      '10.2.0.0',
      '10.2.127.255',
      '10.2.128.0',
      '10.3.239.255',
      '10.3.240.0',
      '10.4.15.255',
      '10.4.16.0',
      '10.5.0.0',
      '10.5.79.255',
      '10.5.80.0',
      '12.0.0.0',
      '12.63.255.255',
      '12.64.0.0',
      '10.16.5.5',
      '10.32.5.5',
      '192.168.4.4',
      '192.168.5.4',
      '10.7.0.9',
      '10.7.1.9',
      '2001:db8::1',
      '2001:db9::1',
    ];
    const ports = [0, 1, 249, 250, 255, 256, 260, 261, 999, 1000, 1001, 2000, 2047, 2048, 3000, 3100, 3101, 4000, 65535];
    let allowed = 0;
    for (const remote of remotes)
      for (const port of ports) {
        const q = { direction: 'ingress' as const, proto: 6, port, remote: parseAddress(remote)! };
        const want = referenceAllows(st, { iface: 'eni-0', egress: false, proto: 6, port, icmpType: 0, icmpCode: 0, remote });
        assert.equal(p.allows('eni-0', q), want, `${remote} port ${port}`);
        if (want) allowed++;
      }
    assert.ok(allowed > 50);
  });
});
