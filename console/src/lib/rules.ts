// How a security group rule reads in the console (DescribeSecurityGroupRules' items).
export interface SgRule {
  securityGroupRuleId: string;
  groupId: string;
  isEgress: string;
  ipProtocol: string;
  fromPort?: string;
  toPort?: string;
  cidrIpv4?: string;
  cidrIpv6?: string;
  prefixListId?: string;
  referencedGroupInfo?: { groupId?: string; userId?: string; vpcId?: string; vpcPeeringConnectionId?: string };
  description?: string;
}

const NAMES: Record<string, string> = {
  '-1': 'All traffic',
  '6': 'TCP',
  tcp: 'TCP',
  '17': 'UDP',
  udp: 'UDP',
  '1': 'ICMP',
  icmp: 'ICMP',
  '58': 'ICMPv6',
  icmpv6: 'ICMPv6',
};

export const protocolName = (p: string) => NAMES[p] ?? `Protocol ${p}`;

export function portsText(r: { ipProtocol: string; fromPort?: string; toPort?: string }): string {
  if (r.ipProtocol === '-1') return 'All';
  const from = r.fromPort ?? '';
  const to = r.toPort ?? '';
  if (from === '' || from === '-1') return 'All';
  if (r.ipProtocol === 'icmp' || r.ipProtocol === '1' || r.ipProtocol === 'icmpv6' || r.ipProtocol === '58')
    return `type ${from}${to !== '-1' ? ` code ${to}` : ''}`;
  return from === to ? from : `${from} - ${to}`;
}

/** The other end of a rule, by kind. */
export function peerOf(r: SgRule): { kind: 'IPv4 CIDR' | 'IPv6 CIDR' | 'Prefix list' | 'Security group'; value: string } {
  if (r.cidrIpv4) return { kind: 'IPv4 CIDR', value: r.cidrIpv4 };
  if (r.cidrIpv6) return { kind: 'IPv6 CIDR', value: r.cidrIpv6 };
  if (r.prefixListId) return { kind: 'Prefix list', value: r.prefixListId };
  const g = r.referencedGroupInfo ?? {};
  return { kind: 'Security group', value: `${g.groupId ?? ''}${g.userId ? ` (${g.userId})` : ''}` };
}

const covers = (r: SgRule, port: number) =>
  r.ipProtocol === '-1' || ((r.ipProtocol === 'tcp' || r.ipProtocol === '6') && Number(r.fromPort) <= port && port <= Number(r.toPort));

/** An inbound rule that opens SSH (22) or RDP (3389) to all of the internet, as AWS's console warns. */
export function opensAdminToWorld(r: SgRule): boolean {
  if (r.isEgress === 'true') return false;
  if (r.cidrIpv4 !== '0.0.0.0/0' && r.cidrIpv6 !== '::/0') return false;
  return covers(r, 22) || covers(r, 3389);
}
