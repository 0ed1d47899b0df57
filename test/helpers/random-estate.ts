// Seeded random estates built through the EC2 API (the path-agreement and matrix tests): two
// VPCs, maybe peered with routes on none, one or both sides, internet gateways, a NAT gateway,
// public and private subnets, custom network ACLs in random order, groups with random sources.
import type { EC2Client } from '@aws-sdk/client-ec2';
import { aclRule, EstateBuilder, type AclEntry, type Launched } from './estate.ts';

/** mulberry32: a small seeded generator, so a failing estate can be rebuilt from its seed. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, bool: (p = 0.5) => next() < p, pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}

export interface Host extends Launched {
  /** the index of its VPC */
  vpc: number;
}

export const PORTS = [22, 80, 443, 5432] as const;

/** Builds one random estate: two VPCs (maybe peered), public/private subnets, gateways, ACLs, groups, instances. */
export async function buildEstate(client: EC2Client, seed: number, base: number, region: string): Promise<Host[]> {
  const r = rng(seed);
  const estate = new EstateBuilder(client, { zone: `${region}a` });
  const vpcs: { id: string; cidr: string; main: string; igw?: string }[] = [];
  for (let k = 0; k < 2; k++) {
    const cidr = `10.${base + k}.0.0/16`;
    const id = await estate.vpc(cidr);
    const main = await estate.mainRouteTable(id);
    const igw = r.bool(0.8) ? await estate.internetGateway(id) : undefined;
    vpcs.push({ id, cidr, main, igw });
  }
  // Peering, with routes on none, one or both sides.
  const peerRoutes = [r.bool(0.7), r.bool(0.7)];
  const pcx = r.bool(0.7) ? await estate.peering(vpcs[0]!.id, vpcs[1]!.id) : undefined;
  const hosts: Host[] = [];
  for (const [k, v] of vpcs.entries()) {
    const peerCidr = vpcs[1 - k]!.cidr;
    // The main table: to the internet (if a gateway) and to the peer (if routed on this side).
    if (v.igw && r.bool(0.85)) await estate.route(v.main, '0.0.0.0/0', { GatewayId: v.igw });
    if (pcx && peerRoutes[k]) await estate.route(v.main, peerCidr, { VpcPeeringConnectionId: pcx });
    let nat: string | undefined;
    for (let s = 0; s < 2; s++) {
      const subnetId = await estate.subnet(v.id, `10.${base + k}.${s + 1}.0/24`);
      const group = await estate.group(v.id, `agree-${seed}-${k}-${s}`, [], { description: 'random' });
      const perms = [];
      for (const port of PORTS) {
        const source = r.pick(
          port === 22 ? (['world', 'world', 'vpc', 'none'] as const) : (['none', 'world', 'vpc', 'peer', 'self'] as const),
        );
        if (source === 'none') continue;
        perms.push({
          IpProtocol: 'tcp',
          FromPort: port,
          ToPort: port,
          ...(source === 'world' ? { IpRanges: [{ CidrIp: '0.0.0.0/0' }] } : {}),
          ...(source === 'vpc' ? { IpRanges: [{ CidrIp: v.cidr }] } : {}),
          ...(source === 'peer' ? { IpRanges: [{ CidrIp: peerCidr }] } : {}),
          ...(source === 'self' ? { UserIdGroupPairs: [{ GroupId: group }] } : {}),
        });
      }
      if (perms.length) await estate.allowIngress(group, perms);
      // The second subnet: maybe private behind a NAT gateway in the first.
      if (s === 1 && r.bool(0.5)) {
        const rt = await estate.routeTable(v.id, [subnetId]);
        if (nat) await estate.route(rt, '0.0.0.0/0', { NatGatewayId: nat });
        if (pcx && peerRoutes[k]) await estate.route(rt, peerCidr, { VpcPeeringConnectionId: pcx });
      }
      if (s === 0 && v.igw && r.bool(0.5)) nat = await estate.natGateway(subnetId);
      // A custom ACL, sometimes: entries over the whole internet or the VPCs only, in random order.
      if (r.bool(0.5)) {
        const entries: AclEntry[] = [];
        let n = 10;
        for (const egress of [false, true]) {
          for (let e = 0; e < 3; e++) {
            // (drawn in this order: the seeds name the same estates as before)
            const ports = r.pick<[number, number]>([
              [22, 22],
              [80, 443],
              [1024, 65535],
              [0, 65535],
            ]);
            const protocol = r.pick(['6', '-1']);
            const action = r.bool(0.75) ? 'allow' : 'deny';
            const cidr = r.pick(['0.0.0.0/0', '10.0.0.0/8']);
            entries.push(aclRule((n += 10), egress ? 'egress' : 'ingress', action, cidr, { protocol, ports }));
          }
        }
        await estate.customAcl(v.id, subnetId, entries);
      }
      const count = r.bool() ? 2 : 1;
      for (let h = 0; h < count; h++) hosts.push({ ...(await estate.launch(subnetId, group, { publicIp: r.bool(0.85) })), vpc: k });
    }
  }
  return hosts;
}
