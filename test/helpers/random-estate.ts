// Seeded random estates built through the EC2 API (the path-agreement and matrix tests): two
// VPCs, maybe peered with routes on none, one or both sides, internet gateways, a NAT gateway,
// public and private subnets, custom network ACLs in random order, groups with random sources.
import {
  AcceptVpcPeeringConnectionCommand,
  AllocateAddressCommand,
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcPeeringConnectionCommand,
  DescribeNetworkAclsCommand,
  DescribeRouteTablesCommand,
  ReplaceNetworkAclAssociationCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';

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

export interface Host {
  id: string;
  /** its primary interface */
  eni: string;
  vpc: number;
  privateIp: string;
  publicIp?: string;
}

export const PORTS = [22, 80, 443, 5432] as const;

/** Builds one random estate: two VPCs (maybe peered), public/private subnets, gateways, ACLs, groups, instances. */
export async function buildEstate(client: EC2Client, seed: number, base: number, region: string): Promise<Host[]> {
  const r = rng(seed);
  const vpcs: { id: string; cidr: string; main: string; igw?: string }[] = [];
  for (let k = 0; k < 2; k++) {
    const cidr = `10.${base + k}.0.0/16`;
    const id = (await client.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc!.VpcId!;
    const main = (await client.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [id] }] }))).RouteTables![0]!
      .RouteTableId!;
    let igw: string | undefined;
    if (r.bool(0.8)) {
      igw = (await client.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
      await client.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: id }));
    }
    vpcs.push({ id, cidr, main, igw });
  }
  // Peering, with routes on none, one or both sides.
  let pcx: string | undefined;
  const peerRoutes = [r.bool(0.7), r.bool(0.7)];
  if (r.bool(0.7)) {
    pcx = (await client.send(new CreateVpcPeeringConnectionCommand({ VpcId: vpcs[0]!.id, PeerVpcId: vpcs[1]!.id }))).VpcPeeringConnection!
      .VpcPeeringConnectionId!;
    await client.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
  }
  const hosts: Host[] = [];
  for (const [k, v] of vpcs.entries()) {
    // The main table: to the internet (if a gateway) and to the peer (if routed on this side).
    if (v.igw && r.bool(0.85))
      await client.send(new CreateRouteCommand({ RouteTableId: v.main, DestinationCidrBlock: '0.0.0.0/0', GatewayId: v.igw }));
    if (pcx && peerRoutes[k])
      await client.send(
        new CreateRouteCommand({ RouteTableId: v.main, DestinationCidrBlock: vpcs[1 - k]!.cidr, VpcPeeringConnectionId: pcx }),
      );
    let nat: string | undefined;
    for (let s = 0; s < 2; s++) {
      const subnetId = (
        await client.send(
          new CreateSubnetCommand({ VpcId: v.id, CidrBlock: `10.${base + k}.${s + 1}.0/24`, AvailabilityZone: `${region}a` }),
        )
      ).Subnet!.SubnetId!;
      const group = (
        await client.send(new CreateSecurityGroupCommand({ GroupName: `agree-${seed}-${k}-${s}`, Description: 'random', VpcId: v.id }))
      ).GroupId!;
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
          ...(source === 'peer' ? { IpRanges: [{ CidrIp: vpcs[1 - k]!.cidr }] } : {}),
          ...(source === 'self' ? { UserIdGroupPairs: [{ GroupId: group }] } : {}),
        });
      }
      if (perms.length) await client.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group, IpPermissions: perms }));
      // The second subnet: maybe private behind a NAT gateway in the first.
      if (s === 1 && r.bool(0.5)) {
        const rt = (await client.send(new CreateRouteTableCommand({ VpcId: v.id }))).RouteTable!.RouteTableId!;
        if (nat) await client.send(new CreateRouteCommand({ RouteTableId: rt, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: nat }));
        if (pcx && peerRoutes[k])
          await client.send(
            new CreateRouteCommand({ RouteTableId: rt, DestinationCidrBlock: vpcs[1 - k]!.cidr, VpcPeeringConnectionId: pcx }),
          );
        await client.send(new AssociateRouteTableCommand({ RouteTableId: rt, SubnetId: subnetId }));
      }
      if (s === 0 && v.igw && r.bool(0.5)) {
        const alloc = (await client.send(new AllocateAddressCommand({ Domain: 'vpc' }))).AllocationId!;
        nat = (await client.send(new CreateNatGatewayCommand({ SubnetId: subnetId, AllocationId: alloc }))).NatGateway!.NatGatewayId!;
      }
      // A custom ACL, sometimes: entries over the whole internet or the VPCs only, in random order.
      if (r.bool(0.5)) {
        const acl = (await client.send(new CreateNetworkAclCommand({ VpcId: v.id }))).NetworkAcl!.NetworkAclId!;
        let n = 10;
        for (const egress of [false, true]) {
          for (let e = 0; e < 3; e++) {
            const ports = r.pick([
              { From: 22, To: 22 },
              { From: 80, To: 443 },
              { From: 1024, To: 65535 },
              { From: 0, To: 65535 },
            ]);
            await client.send(
              new CreateNetworkAclEntryCommand({
                NetworkAclId: acl,
                RuleNumber: (n += 10),
                Protocol: r.pick(['6', '-1']),
                RuleAction: r.bool(0.75) ? 'allow' : 'deny',
                Egress: egress,
                CidrBlock: r.pick(['0.0.0.0/0', '10.0.0.0/8']),
                PortRange: ports,
              }),
            );
          }
        }
        const assoc = (
          await client.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [subnetId] }] }))
        ).NetworkAcls![0]!.Associations!.find((a) => a.SubnetId === subnetId)!.NetworkAclAssociationId!;
        await client.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: assoc, NetworkAclId: acl }));
      }
      const count = r.bool() ? 2 : 1;
      for (let h = 0; h < count; h++) {
        const i = (
          await client.send(
            new RunInstancesCommand({
              ImageId: 'ami-12345678',
              InstanceType: 't3.micro',
              MinCount: 1,
              MaxCount: 1,
              NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetId, Groups: [group], AssociatePublicIpAddress: r.bool(0.85) }],
            }),
          )
        ).Instances![0]!;
        hosts.push({
          id: i.InstanceId!,
          eni: i.NetworkInterfaces![0]!.NetworkInterfaceId!,
          vpc: k,
          privateIp: i.PrivateIpAddress!,
          ...(i.PublicIpAddress ? { publicIp: i.PublicIpAddress } : {}),
        });
      }
    }
  }
  return hosts;
}
