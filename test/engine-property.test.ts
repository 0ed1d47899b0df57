// Property test: on thousands of random estates the compiled engine's verdicts equal a plain
// reference evaluator written straight from AWS's rule semantics (VPC User Guide, "Security
// group rules": rules are allow-only, all rules of all groups on the interface are evaluated,
// a group reference matches the private addresses of the interfaces that have the group), the
// one in test/helpers/reference-engine.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Policy, type GroupInput, type InterfaceInput, type RuleInput } from '../src/dataplane/sg-policy.ts';
import { parseAddress } from '../src/dataplane/addresses.ts';
import { estateOf, referenceAllows, type Query } from './helpers/reference-engine.ts';

interface Estate {
  groups: GroupInput[];
  interfaces: InterfaceInput[];
  prefixLists: Record<string, string[]>;
}

const octet = fc.integer({ min: 0, max: 3 });
const v4 = fc.tuple(octet, octet).map(([a, b]) => `10.0.${a}.${b * 60}`);
const cidr4 = fc.tuple(octet, fc.constantFrom(8, 16, 22, 24, 26, 30, 32)).map(([a, p]) => `10.0.${a}.0/${p}`);
const world = fc.constantFrom('0.0.0.0/0', '10.0.0.0/8', '192.168.0.0/16');

function estateArb() {
  const groupIds = ['sg-a', 'sg-b', 'sg-c', 'sg-d'];
  const rule = (gid: string, i: number) =>
    fc
      .record({
        egress: fc.boolean(),
        protocol: fc.constantFrom('-1', 'tcp', 'udp', 'icmp', '50'),
        a: fc.integer({ min: 0, max: 100 }),
        b: fc.integer({ min: 0, max: 100 }),
        t: fc.constantFrom(-1, 0, 3, 8),
        c: fc.constantFrom(-1, 0, 1),
        peer: fc.oneof(
          cidr4.map((c) => ({ cidr4: c })),
          world.map((c) => ({ cidr4: c })),
          fc.constantFrom(...groupIds).map((g) => ({ refGroupId: g })),
          fc.constant({ prefixListId: 'pl-1' }),
        ),
      })
      .map((x): RuleInput => {
        const base = { id: `sgr-${gid}-${i}`, groupId: gid, egress: x.egress, protocol: x.protocol, ...x.peer };
        if (x.protocol === 'tcp' || x.protocol === 'udp') return { ...base, from: Math.min(x.a, x.b), to: Math.max(x.a, x.b) };
        if (x.protocol === 'icmp') return { ...base, from: x.t, to: x.t === -1 ? -1 : x.c };
        return base;
      });
  const group = (gid: string) =>
    fc
      .integer({ min: 0, max: 6 })
      .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => rule(gid, i))))
      .map((rules): GroupInput => ({ id: gid, vpcId: 'vpc-1', rules }));
  const iface = (i: number) =>
    fc.record({ ip: v4, groups: fc.subarray(groupIds, { minLength: 0, maxLength: 3 }) }).map((x): InterfaceInput => ({
      id: `eni-${i}`,
      vpcId: 'vpc-1',
      ipv4: [x.ip.replace(/\.(\d+)$/, (_, d) => `.${Number(d) + i}`)],
      ipv6: [],
      groups: x.groups,
    }));
  return fc.record({
    groups: fc.tuple(...groupIds.map(group)),
    interfaces: fc.tuple(iface(0), iface(1), iface(2), iface(3)),
    prefixLists: fc.array(cidr4, { minLength: 0, maxLength: 3 }).map((l) => ({ 'pl-1': l })),
  }) as fc.Arbitrary<Estate>;
}

function queryArb(e: Estate): fc.Arbitrary<Query> {
  const remotes = [...e.interfaces.flatMap((i) => i.ipv4), '10.0.1.17', '10.0.3.200', '192.168.1.1', '8.8.8.8'];
  return fc.record({
    iface: fc.constantFrom(...e.interfaces.map((i) => i.id)),
    egress: fc.boolean(),
    proto: fc.constantFrom(6, 17, 1, 50, 47),
    port: fc.integer({ min: 0, max: 110 }),
    icmpType: fc.constantFrom(0, 3, 8, 11),
    icmpCode: fc.constantFrom(0, 1, 4),
    remote: fc.constantFrom(...remotes),
  });
}

function load(e: Estate): Policy {
  const p = new Policy();
  for (const [id, cidrs] of Object.entries(e.prefixLists)) p.setPrefixList(id, cidrs);
  for (const g of e.groups) p.setGroup(g);
  for (const i of e.interfaces) p.setInterface(i);
  return p;
}

describe('compiled policy ≡ reference evaluator', () => {
  it('agrees on random estates and flows', () => {
    fc.assert(
      fc.property(
        estateArb().chain((e) => fc.tuple(fc.constant(e), fc.array(queryArb(e), { minLength: 20, maxLength: 20 }))),
        ([estate, queries]) => {
          const p = load(estate);
          for (const q of queries) {
            const got = p.allows(q.iface, {
              direction: q.egress ? 'egress' : 'ingress',
              proto: q.proto,
              port: q.port,
              icmpType: q.icmpType,
              icmpCode: q.icmpCode,
              remote: parseAddress(q.remote)!,
            });
            assert.equal(got, referenceAllows(estateOf(estate), q), JSON.stringify({ q }));
            // The explanation names rules exactly when the gate allows.
            const rules = p.matchingRules(q.iface, {
              direction: q.egress ? 'egress' : 'ingress',
              proto: q.proto,
              port: q.port,
              icmpType: q.icmpType,
              icmpCode: q.icmpCode,
              remote: parseAddress(q.remote)!,
            });
            assert.equal(rules.length > 0, got);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('stays equal after incremental changes (membership, rules, prefix lists)', () => {
    fc.assert(
      fc.property(estateArb(), estateArb(), fc.integer({ min: 0, max: 3 }), (a, b, k) => {
        const p = load(a);
        // mutate: one group's rules from b, one interface's groups from b, prefix list from b
        const estate: Estate = {
          groups: a.groups.map((g, i) => (i === k ? { ...b.groups[i]!, id: g.id } : g)),
          interfaces: a.interfaces.map((x, i) => (i === (k + 1) % 4 ? { ...x, groups: b.interfaces[i]!.groups } : x)),
          prefixLists: b.prefixLists,
        };
        p.setGroup(estate.groups[k]!);
        p.setInterface(estate.interfaces[(k + 1) % 4]!);
        p.setPrefixList('pl-1', estate.prefixLists['pl-1']!);
        for (const iface of estate.interfaces) {
          for (const remote of [...estate.interfaces.flatMap((i) => i.ipv4), '10.0.2.5']) {
            for (const egress of [false, true]) {
              for (const [proto, port] of [
                [6, 22],
                [17, 53],
                [1, 0],
                [50, 0],
              ] as const) {
                const q: Query = { iface: iface.id, egress, proto, port, icmpType: 8, icmpCode: 0, remote };
                const got = p.allows(q.iface, {
                  direction: egress ? 'egress' : 'ingress',
                  proto,
                  port,
                  icmpType: 8,
                  icmpCode: 0,
                  remote: parseAddress(remote)!,
                });
                assert.equal(got, referenceAllows(estateOf(estate), q));
              }
            }
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
