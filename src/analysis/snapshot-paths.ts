// The routing of a snapshot (AWS's own describe-* shapes: route tables, network ACLs, internet
// and egress-only gateways, NAT gateways, peering connections) compiled into the data plane's
// NetworkPaths — what traffic/routing-sync.ts does for the live store. A snapshot without route
// tables has no routing: its flows follow the plain model (dataplane/flow.ts).
import type { NetworkAclEntry, Route } from '@aws-sdk/client-ec2';
import { NetworkPaths, type AclEntryInput, type RouteInput, type RouteTarget } from '../dataplane/routing.ts';
import { parseAddress } from '../dataplane/addresses.ts';
import type { Snapshot } from './snapshot.ts';

function targetOf(r: Route): RouteTarget {
  const g = r.GatewayId;
  if (g === 'local') return { kind: 'local' };
  if (g?.startsWith('igw-')) return { kind: 'igw', id: g };
  if (g?.startsWith('vpce-')) return { kind: 'vpce', id: g };
  if (r.EgressOnlyInternetGatewayId) return { kind: 'eigw', id: r.EgressOnlyInternetGatewayId };
  if (r.NatGatewayId) return { kind: 'nat', id: r.NatGatewayId };
  if (r.VpcPeeringConnectionId) return { kind: 'pcx', id: r.VpcPeeringConnectionId };
  if (r.NetworkInterfaceId) return { kind: 'eni', id: r.NetworkInterfaceId };
  return { kind: 'other', id: g ?? r.TransitGatewayId ?? r.InstanceId ?? 'unknown' };
}

function routeInput(r: Route): RouteInput | undefined {
  const destination = r.DestinationCidrBlock ?? r.DestinationIpv6CidrBlock ?? r.DestinationPrefixListId;
  return destination ? { destination, target: targetOf(r), blackhole: r.State === 'blackhole' } : undefined;
}

function entryInput(e: NetworkAclEntry): AclEntryInput | undefined {
  const cidr = e.CidrBlock ?? e.Ipv6CidrBlock;
  if (!cidr || e.RuleNumber === undefined) return undefined;
  const protocol = e.Protocol === undefined || e.Protocol === '-1' || e.Protocol === 'all' ? -1 : Number(e.Protocol);
  if (!Number.isInteger(protocol)) return undefined;
  return {
    ruleNumber: e.RuleNumber,
    egress: !!e.Egress,
    protocol,
    allow: e.RuleAction === 'allow',
    cidr,
    ...(e.PortRange ? { ports: { from: e.PortRange.From ?? 0, to: e.PortRange.To ?? 65535 } } : {}),
    ...(e.IcmpTypeCode ? { icmp: { type: e.IcmpTypeCode.Type ?? -1, code: e.IcmpTypeCode.Code ?? -1 } } : {}),
  };
}

/** The snapshot's routing, or undefined when it has no route tables (then the plain model applies). */
export function pathsOf(s: Snapshot): NetworkPaths | undefined {
  if (!s.routeTables?.length) return undefined;
  const paths = new NetworkPaths();
  const subnetTable = new Map<string, string>();
  const mainTable = new Map<string, string>();
  for (const t of s.routeTables) {
    if (!t.RouteTableId || !t.VpcId) continue;
    paths.setRouteTable({
      id: t.RouteTableId,
      vpcId: t.VpcId,
      routes: (t.Routes ?? []).map(routeInput).filter((r): r is RouteInput => !!r),
    });
    for (const a of t.Associations ?? []) {
      if (a.Main) mainTable.set(t.VpcId, t.RouteTableId);
      else if (a.SubnetId) subnetTable.set(a.SubnetId, t.RouteTableId);
    }
  }
  const subnetAcl = new Map<string, string>();
  const defaultAcl = new Map<string, string>();
  for (const a of s.networkAcls ?? []) {
    if (!a.NetworkAclId) continue;
    // The export lists the `*` rules as entries (32767 for IPv4, 32768 for IPv6).
    paths.setAcl({ id: a.NetworkAclId, entries: (a.Entries ?? []).map(entryInput).filter((e): e is AclEntryInput => !!e) });
    if (a.IsDefault && a.VpcId) defaultAcl.set(a.VpcId, a.NetworkAclId);
    for (const x of a.Associations ?? []) if (x.SubnetId) subnetAcl.set(x.SubnetId, a.NetworkAclId);
  }
  for (const sn of s.subnets) {
    if (!sn.SubnetId || !sn.VpcId) continue;
    paths.setSubnet({
      id: sn.SubnetId,
      vpcId: sn.VpcId,
      routeTableId: subnetTable.get(sn.SubnetId) ?? mainTable.get(sn.VpcId) ?? '',
      // Without an ACL export, a subnet's traffic crosses no ACL (as if every ACL allowed all).
      aclId: subnetAcl.get(sn.SubnetId) ?? defaultAcl.get(sn.VpcId) ?? '',
    });
  }
  for (const g of s.internetGateways ?? []) {
    // DescribeInternetGateways writes `available` for an attached gateway (the model says `attached`).
    const vpcId = g.Attachments?.find((a) => ['available', 'attached'].includes(String(a.State)))?.VpcId;
    if (g.InternetGatewayId) paths.setGateway({ id: g.InternetGatewayId, kind: 'igw', ...(vpcId ? { vpcId } : {}) });
  }
  for (const g of s.egressOnlyInternetGateways ?? []) {
    const vpcId = g.Attachments?.find((a) => ['available', 'attached'].includes(String(a.State)))?.VpcId;
    if (g.EgressOnlyInternetGatewayId) paths.setGateway({ id: g.EgressOnlyInternetGatewayId, kind: 'eigw', ...(vpcId ? { vpcId } : {}) });
  }
  for (const n of s.natGateways ?? []) {
    if (!n.NatGatewayId || !n.SubnetId) continue;
    const addr = n.NatGatewayAddresses?.find((a) => a.IsPrimary !== false) ?? n.NatGatewayAddresses?.[0];
    paths.setNat({
      id: n.NatGatewayId,
      subnetId: n.SubnetId,
      ...(n.ConnectivityType !== 'private' && addr?.PublicIp ? { publicIp: addr.PublicIp } : {}),
      ...(addr?.PrivateIp ? { privateIp: addr.PrivateIp } : {}),
      ...(addr?.NetworkInterfaceId ? { interfaceId: addr.NetworkInterfaceId } : {}),
      available: n.State === 'available',
    });
  }
  for (const p of s.vpcPeeringConnections ?? []) {
    const a = p.RequesterVpcInfo?.VpcId;
    const b = p.AccepterVpcInfo?.VpcId;
    if (p.VpcPeeringConnectionId && a && b)
      paths.setPeering({ id: p.VpcPeeringConnectionId, vpcIds: [a, b], active: p.Status?.Code === 'active' });
  }
  for (const pl of s.prefixLists)
    if (pl.PrefixListId) paths.setPrefixList(pl.PrefixListId, (pl.Entries ?? []).map((e) => e.Cidr!).filter(Boolean));
  for (const n of s.networkInterfaces) {
    if (!n.NetworkInterfaceId || !n.SubnetId || !n.VpcId) continue;
    const pub = n.Association?.PublicIp ? parseAddress(n.Association.PublicIp) : undefined;
    paths.setInterface({
      id: n.NetworkInterfaceId,
      subnetId: n.SubnetId,
      vpcId: n.VpcId,
      ...(pub ? { publicIp: pub } : {}),
      hasIpv6: (n.Ipv6Addresses ?? []).length > 0,
    });
  }
  return paths;
}
