// A snapshot of an estate in the shapes of AWS's own Describe* outputs — what
// `aws ec2 describe-security-groups` and friends print — so the same analysis runs over
// Palisade's live state (fetched through its API) and over JSON exported from a real account.
import type {
  EgressOnlyInternetGateway,
  Instance,
  InternetGateway,
  ManagedPrefixList,
  NatGateway,
  NetworkAcl,
  NetworkInterface,
  PrefixListEntry,
  RouteTable,
  SecurityGroup,
  Subnet,
  Vpc,
  VpcPeeringConnection,
} from '@aws-sdk/client-ec2';
import { Policy, type RuleInput } from '../dataplane/sg-policy.ts';

export interface IamRoleDetail {
  RoleName: string;
  Arn: string;
  AssumeRolePolicyDocument?: string | object;
  RolePolicyList?: { PolicyName: string; PolicyDocument: string | object }[];
  AttachedManagedPolicies?: { PolicyName?: string; PolicyArn: string }[];
  InstanceProfileList?: { InstanceProfileName: string; Arn: string }[];
}
export interface IamPolicyDetail {
  Arn: string;
  PolicyName: string;
  DefaultVersionId?: string;
  PolicyVersionList?: { VersionId: string; IsDefaultVersion?: boolean; Document: string | object }[];
}

export interface Snapshot {
  account?: string;
  region?: string;
  securityGroups: SecurityGroup[];
  networkInterfaces: NetworkInterface[];
  instances: Instance[];
  vpcs: Vpc[];
  subnets: Subnet[];
  prefixLists: (ManagedPrefixList & { Entries?: PrefixListEntry[] })[];
  iam?: { roles: IamRoleDetail[]; policies: IamPolicyDetail[] };
  /** The routing around the VPCs, when it was exported (each optional: absent when not given). */
  routeTables?: RouteTable[];
  networkAcls?: NetworkAcl[];
  internetGateways?: InternetGateway[];
  natGateways?: NatGateway[];
  vpcPeeringConnections?: VpcPeeringConnection[];
  egressOnlyInternetGateways?: EgressOnlyInternetGateway[];
}

export const emptySnapshot = (): Snapshot => ({
  securityGroups: [],
  networkInterfaces: [],
  instances: [],
  vpcs: [],
  subnets: [],
  prefixLists: [],
});

/** The rules of a group as the engine reads them, one per source (as AWS's sgr- rules). */
export function rulesOfGroup(g: SecurityGroup): RuleInput[] {
  const out: RuleInput[] = [];
  let n = 0;
  for (const [egress, perms] of [
    [false, g.IpPermissions ?? []],
    [true, g.IpPermissionsEgress ?? []],
  ] as const) {
    for (const p of perms) {
      const protocol = normalize(p.IpProtocol ?? '-1');
      const ports =
        protocol === '-1' || !['tcp', 'udp', 'icmp', 'icmpv6'].includes(protocol) ? {} : { from: p.FromPort ?? -1, to: p.ToPort ?? -1 };
      if ((protocol === 'tcp' || protocol === 'udp') && (ports.from === -1 || ports.from === undefined))
        Object.assign(ports, { from: 0, to: 65535 });
      const base = (extra: Partial<RuleInput>, id?: string): RuleInput => ({
        id: id ?? `${g.GroupId}/${egress ? 'e' : 'i'}${n++}`,
        groupId: g.GroupId!,
        egress,
        protocol,
        ...ports,
        ...extra,
      });
      for (const r of p.IpRanges ?? []) out.push(base({ cidr4: r.CidrIp }));
      for (const r of p.Ipv6Ranges ?? []) out.push(base({ cidr6: r.CidrIpv6 }));
      for (const r of p.PrefixListIds ?? []) out.push(base({ prefixListId: r.PrefixListId }));
      for (const r of p.UserIdGroupPairs ?? []) out.push(base({ refGroupId: r.GroupId }));
    }
  }
  return out;
}

function normalize(p: string): string {
  const l = p.toLowerCase();
  return ({ '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmpv6' } as Record<string, string>)[l] ?? l;
}

/**
 * Compiles a snapshot into the data plane's policy — the one rule engine Palisade has — with
 * real sgr- ids where the snapshot carries them (`rules` from DescribeSecurityGroupRules).
 */
export function policyOf(s: Snapshot, ruleIds?: Map<string, RuleInput[]>): Policy {
  const p = new Policy();
  for (const pl of s.prefixLists) p.setPrefixList(pl.PrefixListId!, (pl.Entries ?? []).map((e) => e.Cidr!).filter(Boolean));
  for (const g of s.securityGroups)
    p.setGroup({ id: g.GroupId!, vpcId: g.VpcId ?? '', rules: ruleIds?.get(g.GroupId!) ?? rulesOfGroup(g) });
  for (const n of s.networkInterfaces) {
    p.setInterface({
      id: n.NetworkInterfaceId!,
      vpcId: n.VpcId ?? '',
      ipv4: (n.PrivateIpAddresses ?? [])
        .map((a) => a.PrivateIpAddress!)
        .filter(Boolean)
        .concat(n.PrivateIpAddresses?.length ? [] : n.PrivateIpAddress ? [n.PrivateIpAddress] : []),
      ipv6: (n.Ipv6Addresses ?? []).map((a) => a.Ipv6Address!).filter(Boolean),
      publicIp: n.Association?.PublicIp,
      groups: (n.Groups ?? []).map((g) => g.GroupId!),
    });
  }
  return p;
}
