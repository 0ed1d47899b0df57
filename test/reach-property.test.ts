// Reachability answers agree with the data-plane engine: on random estates, every source that
// `whoCanReach` lists is accepted by the engine and every one it omits is rejected.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Policy, type RuleInput } from '../src/dataplane/sg-policy.ts';
import { DataPlane } from '../src/dataplane/dataplane.ts';
import { parseAddress } from '../src/dataplane/addresses.ts';
import { whoCanReach, canReach, type EstateView } from '../src/analysis/reach.ts';
import { inCidr } from './helpers/reference-engine.ts';

const groups = ['sg-a', 'sg-b', 'sg-c'];
const ruleArb = (gid: string, i: number) =>
  fc
    .record({
      egress: fc.boolean(),
      protocol: fc.constantFrom('-1', 'tcp', 'udp'),
      a: fc.integer({ min: 20, max: 30 }),
      b: fc.integer({ min: 20, max: 30 }),
      peer: fc.oneof(
        fc.constantFrom('0.0.0.0/0', '10.0.0.0/24', '10.0.0.16/28', '203.0.113.0/24', '198.51.100.7/32').map((c) => ({ cidr4: c })),
        fc.constantFrom(...groups).map((g) => ({ refGroupId: g })),
      ),
    })
    .map((x): RuleInput => ({
      id: `sgr-${gid}-${i}`,
      groupId: gid,
      egress: x.egress,
      protocol: x.protocol,
      ...x.peer,
      ...(x.protocol === '-1' ? {} : { from: Math.min(x.a, x.b), to: Math.max(x.a, x.b) }),
    }));
const estateArb = fc.record({
  rules: fc.tuple(
    ...groups.map((g) =>
      fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 0, maxLength: 5 }).chain((l) => fc.tuple(...l.map((_, i) => ruleArb(g, i)))),
    ),
  ),
  members: fc.array(fc.subarray(groups, { maxLength: 2 }), { minLength: 5, maxLength: 5 }),
  publics: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
});

function build(e: { rules: RuleInput[][]; members: string[][]; publics: boolean[] }): EstateView {
  const p = new Policy();
  groups.forEach((g, k) => p.setGroup({ id: g, vpcId: 'vpc-1', rules: e.rules[k]! }));
  e.members.forEach((m, k) =>
    p.setInterface({
      id: `eni-${k}`,
      vpcId: 'vpc-1',
      ipv4: [`10.0.0.${10 + k * 3}`],
      ipv6: [],
      publicIp: e.publics[k] ? `54.0.0.${k + 1}` : undefined,
      groups: m,
    }),
  );
  return { policy: p, instanceOf: () => undefined, primaryOf: () => undefined };
}

const inCidrs = (cidrs: string[], ip: string) => cidrs.some((c) => inCidr(c, ip));

describe('reach ≡ engine', () => {
  it('lists exactly the interfaces and internet addresses the engine accepts', () => {
    fc.assert(
      fc.property(
        estateArb,
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 18, max: 32 }),
        fc.constantFrom('tcp', 'udp'),
        (e, t, port, proto) => {
          const view = build(e);
          const plane = new DataPlane(view.policy);
          const target = `eni-${t}`;
          const answer = whoCanReach(view, target, proto, port);
          const pnum = proto === 'tcp' ? 6 : 17;
          const tIface = view.policy.getInterface(target)!;
          for (const s of view.policy.allInterfaces()) {
            if (s.id === target) continue;
            const v = plane.judge(
              { kind: 'interface', interfaceId: s.id, address: parseAddress(s.ipv4[0]!)!, text: s.ipv4[0]! },
              { kind: 'interface', interfaceId: target, address: parseAddress(tIface.ipv4[0]!)!, text: tIface.ipv4[0]! },
              { proto: pnum, srcPort: 40000, dstPort: port },
              0,
              { commit: false, explain: false },
            );
            const listed = answer.sources.some((x) => x.interfaceId === s.id);
            assert.equal(listed, v.verdict === 'ACCEPT', `${s.id} → ${target} ${proto}/${port}`);
            assert.equal(canReach(view, s.id, target, proto, port).reachable, listed);
          }
          const internet = answer.sources.find((x) => x.kind === 'internet')?.cidrs ?? [];
          for (const ip of ['203.0.113.9', '198.51.100.7', '198.51.100.8', '8.8.8.8', '10.0.0.17']) {
            const accepted =
              tIface.publicIp !== undefined &&
              plane.judge(
                { kind: 'external', address: parseAddress(ip)!, text: ip },
                {
                  kind: 'interface',
                  interfaceId: target,
                  address: parseAddress(tIface.ipv4[0]!)!,
                  text: tIface.ipv4[0]!,
                  seenAs: { address: parseAddress(tIface.publicIp)!, text: tIface.publicIp },
                },
                { proto: pnum, srcPort: 40000, dstPort: port },
                0,
                { commit: false, explain: false },
              ).verdict === 'ACCEPT';
            assert.equal(inCidrs(internet, ip), accepted, `internet ${ip} → ${target}`);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });
});
