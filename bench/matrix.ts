// The all-pairs reachability matrix (POST /_palisade/network/matrix, the console's network view):
// every interface pair's open TCP ports on an estate of 10,000 interfaces, 2,000 groups and 20,000
// rules — 50 VPCs of 200 interfaces in 10 subnets each, 40 groups a VPC (10 rules each: the VPC,
// a subnet, another group, the internet, a few single hosts) and 8 roles a VPC (the group sets
// its interfaces carry), with each subnet's route table and network ACL. Target: ≤ 10 s on one core.
import { DataPlane } from '../src/dataplane/dataplane.ts';
import { reachabilityMatrix, type MatrixInterface } from '../src/dataplane/matrix.ts';
import type { RuleInput } from '../src/dataplane/sg-policy.ts';
import { parseAddress } from '../src/dataplane/addresses.ts';
import { rng } from './engine.ts';

const VPCS = 50;
const SUBNETS = 10;
const PER_VPC = 200;
const GROUPS = 40;
const RULES = 10;
const ROLES = 8;

export function matrixEstate(seed = 5): { plane: DataPlane; ifaces: MatrixInterface[]; peered: Set<string>; rules: number } {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const plane = new DataPlane();
  const { policy, paths } = plane;
  const ifaces: MatrixInterface[] = [];
  const peered = new Set<string>();
  let ruleCount = 0;
  for (let v = 0; v < VPCS; v++) {
    const vpcId = `vpc-${v}`;
    const net = `10.${v}`;
    const groups = Array.from({ length: GROUPS }, (_, g) => `sg-${v}-${g}`);
    paths.setGateway({ id: `igw-${v}`, kind: 'igw', vpcId });
    for (const [g, id] of groups.entries()) {
      const rules: RuleInput[] = [{ id: `${id}-out`, groupId: id, egress: true, protocol: '-1', cidr4: '0.0.0.0/0' }];
      for (let k = 1; k < RULES; k++) {
        const port = [22, 80, 443, 3306, 5432, 6379, 8080, 9000 + int(100)][int(8)]!;
        const base = { id: `${id}-${k}`, groupId: id, egress: false, protocol: 'tcp', from: port, to: port + (int(4) === 0 ? 100 : 0) };
        const kind = int(10);
        if (kind < 3) rules.push({ ...base, cidr4: `${net}.0.0/16` });
        else if (kind < 5) rules.push({ ...base, cidr4: `${net}.${int(SUBNETS)}.0/24` });
        else if (kind < 8) rules.push({ ...base, refGroupId: groups[int(GROUPS)]! });
        else if (kind < 9) rules.push({ ...base, cidr4: '0.0.0.0/0' });
        else rules.push({ ...base, cidr4: `${net}.${int(SUBNETS)}.${10 + int(20)}/32` });
      }
      ruleCount += rules.length;
      policy.setGroup({ id, vpcId, rules });
      void g;
    }
    const roles = Array.from({ length: ROLES }, () => Array.from({ length: 1 + int(2) }, () => groups[int(GROUPS)]!));
    for (let s = 0; s < SUBNETS; s++) {
      const subnetId = `subnet-${v}-${s}`;
      const pub = s < 3;
      paths.setRouteTable({
        id: `rtb-${v}-${s}`,
        vpcId,
        routes: [
          { destination: `${net}.0.0/16`, target: { kind: 'local' } },
          ...(pub ? [{ destination: '0.0.0.0/0', target: { kind: 'igw' as const, id: `igw-${v}` } }] : []),
        ],
      });
      paths.setAcl({
        id: `acl-${v}-${s}`,
        entries: [
          {
            ruleNumber: 90,
            egress: false,
            protocol: 6,
            allow: false,
            cidr: `${net}.${(s + 1) % SUBNETS}.0/24`,
            ports: { from: 3306, to: 3306 },
          },
          { ruleNumber: 100, egress: false, protocol: -1, allow: true, cidr: '0.0.0.0/0' },
          { ruleNumber: 100, egress: true, protocol: -1, allow: true, cidr: '0.0.0.0/0' },
          { ruleNumber: 32767, egress: false, protocol: -1, allow: false, cidr: '0.0.0.0/0' },
          { ruleNumber: 32767, egress: true, protocol: -1, allow: false, cidr: '0.0.0.0/0' },
        ],
      });
      paths.setSubnet({ id: subnetId, vpcId, routeTableId: `rtb-${v}-${s}`, aclId: `acl-${v}-${s}` });
    }
    for (let i = 0; i < PER_VPC; i++) {
      const s = i % SUBNETS;
      const id = `eni-${v}-${i}`;
      const ip = `${net}.${s}.${100 + Math.floor(i / SUBNETS)}`;
      const publicIp = s < 3 && i % 2 === 0 ? `198.18.${v}.${i}` : undefined;
      policy.setInterface({ id, vpcId, ipv4: [ip], ipv6: [], groups: roles[i % ROLES]!, ...(publicIp ? { publicIp } : {}) });
      paths.setInterface({
        id,
        subnetId: `subnet-${v}-${s}`,
        vpcId,
        hasIpv6: false,
        ...(publicIp ? { publicIp: parseAddress(publicIp)! } : {}),
      });
      ifaces.push({ id, subnetId: `subnet-${v}-${s}`, vpcId, instanceId: `i-${v}-${i}` });
    }
    if (v % 2 === 1) {
      paths.setPeering({ id: `pcx-${v}`, vpcIds: [`vpc-${v - 1}`, vpcId], active: true });
      peered.add(`vpc-${v - 1}|${vpcId}`);
      peered.add(`${vpcId}|vpc-${v - 1}`);
    }
  }
  return { plane, ifaces, peered, rules: ruleCount };
}

export async function benchMatrix(print: (line: string) => void = console.log): Promise<void> {
  const e = matrixEstate();
  const t0 = performance.now();
  const m = reachabilityMatrix(e.plane, e.ifaces, {
    proto: 6,
    peered: e.peered,
    internet4: '198.51.100.10',
    internet6: '2001:db8::10',
    maxEdges: 0,
    now: 0,
  });
  const s = (performance.now() - t0) / 1000;
  const pairs = e.ifaces.length * (e.ifaces.length - 1);
  const f = (n: number) => Math.round(n).toLocaleString('en-US');
  print(
    `matrix: all pairs of ${f(e.ifaces.length)} interfaces / ${f(VPCS * GROUPS)} groups / ${f(e.rules)} rules (tcp, every port) in ` +
      `${s.toFixed(2)} s ${s <= 10 ? '✓' : '✗'} (target ≤ 10 s) — ${f(m.classes)} classes, ${f(m.classEdges.length)} class edges, ` +
      `${f(m.pairsJudged)} verdicts for ${f(pairs)} pairs`,
  );
}
