// Security-group rule semantics: how an IpPermission becomes rules (one per CIDR / IPv6 CIDR /
// group / prefix list), protocol and port validation as AWS does it, and the wire forms back.
import type { IpPermission, SecurityGroupRule } from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { formatCidr, parseCidr } from '../../core/cidr.ts';
import { arn } from './ids.ts';
import type { RuleDoc, SecurityGroupDoc } from '../../core/documents/ec2.ts';
import { tagList } from './filters.ts';

/** A rule before it has an id: what a permission asks for. */
export type RuleSpec = Omit<RuleDoc, 'id' | 'tags'>;

const NAMED: Record<string, string> = { '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmpv6' };

export function normalizeProtocol(raw: string | undefined): string {
  // AWS's words for a rule without a protocol (GH:boto/boto#3376, GH:nanovms/ops#735).
  if (raw === undefined || raw === '')
    throw err.invalidValue("Invalid value 'null' for protocol. VPC security group rules must specify protocols explicitly.");
  const p = raw.trim().toLowerCase();
  if (p === 'tcp' || p === 'udp' || p === 'icmp' || p === 'icmpv6') return p;
  if (/^-?\d+$/.test(p)) {
    const n = Number(p);
    if (n === -1) return '-1';
    if (n >= 0 && n <= 255) return NAMED[String(n)] ?? String(n);
  }
  throw err.invalidValue(`Invalid value '${raw}' for IP protocol. Unknown protocol.`);
}

// AWS's current wording: "Invalid value for portRange. Must specify both from and to ports with
// TCP/UDP." (recorded AWS response with `Proxy: null`, i.e. a 2020s Java SDK; moto's AWS-verified
// ModifySecurityGroupRules test, getmoto/moto#8917). Before about 2019 AWS quoted the reason
// (`Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.`,
// GH:chef-boneyard/chef-provisioning-aws#183); the ICMP sentence follows the same template.
export function checkPorts(protocol: string, from: number | undefined, to: number | undefined): { from?: number; to?: number } {
  if (protocol === 'tcp' || protocol === 'udp') {
    if (from === undefined || to === undefined)
      throw err.invalidValue('Invalid value for portRange. Must specify both from and to ports with TCP/UDP.');
    if (from < 0 || from > 65535) throw err.invalidValue(`TCP/UDP (from) port (${from}) out of range`);
    if (to < 0 || to > 65535) throw err.invalidValue(`TCP/UDP (to) port (${to}) out of range`);
    if (from > to)
      throw err.invalidValue(`Invalid TCP/UDP port range (${from} > ${to}): the from port must not be greater than the to port.`);
    return { from, to };
  }
  if (protocol === 'icmp' || protocol === 'icmpv6') {
    if (from === undefined && to === undefined && protocol === 'icmpv6') return { from: -1, to: -1 };
    if (from === undefined || to === undefined)
      throw err.invalidValue('Invalid value for portRange. Must specify both from and to ports with ICMP.');
    if (from < -1 || from > 255) throw err.invalidValue(`ICMP type (${from}) out of range`);
    if (to < -1 || to > 255) throw err.invalidValue(`ICMP code (${to}) out of range`);
    if (from === -1 && to !== -1) throw err.invalidValue(`ICMP code (${to}) out of range`);
    return { from, to };
  }
  return {};
}

const DESCRIPTION = /^[a-zA-Z0-9. _\-:/()#,@[\]+=&;{}!$*]*$/;
export function checkRuleDescription(d: string | undefined): string | undefined {
  if (d === undefined) return undefined;
  if (d.length > 255 || !DESCRIPTION.test(d)) {
    throw err.invalidValue(
      'Invalid rule description. Valid descriptions are strings less than 256 characters from the following set:  a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*',
    );
  }
  return d;
}

export function cidr4(text: string | undefined): string {
  const c = text === undefined ? undefined : parseCidr(text.trim(), 4);
  if (!c) throw err.invalidValue(`CIDR block ${text} is malformed`);
  return formatCidr(c);
}

export function cidr6(text: string | undefined): string {
  const c = text === undefined ? undefined : parseCidr(text.trim(), 6);
  if (!c) throw err.invalidValue(`CIDR block ${text} is malformed`);
  return formatCidr(c);
}

const peerKey = (r: RuleSpec) =>
  r.cidr4 ? `4:${r.cidr4}` : r.cidr6 ? `6:${r.cidr6}` : r.prefixListId ? `pl:${r.prefixListId}` : `sg:${r.group?.groupId}`;

export const ruleKey = (r: RuleSpec) => `${r.egress ? 'e' : 'i'}|${r.protocol}|${r.from ?? ''}|${r.to ?? ''}|${peerKey(r)}`;

/** The text AWS uses to name a rule in InvalidPermission.Duplicate. */
export function describeForDuplicate(r: RuleSpec): string {
  const peer = r.cidr4 ?? r.cidr6 ?? r.prefixListId ?? r.group?.groupId;
  let proto: string;
  if (r.protocol === '-1') proto = 'ALL';
  else if (r.protocol === 'tcp' || r.protocol === 'udp') proto = `${r.protocol.toUpperCase()}, from port: ${r.from}, to port: ${r.to}`;
  else if (r.protocol === 'icmp' || r.protocol === 'icmpv6') proto = `${r.protocol.toUpperCase()}, type: ${r.from}, code: ${r.to}`;
  else proto = `protocol: ${r.protocol}`;
  return `the specified rule "peer: ${peer}, ${proto}, ALLOW" already exists`;
}

export function toSecurityGroupRule(ctx: Ctx, g: SecurityGroupDoc, r: RuleDoc): SecurityGroupRule {
  return {
    SecurityGroupRuleId: r.id,
    GroupId: g.id,
    GroupOwnerId: g.ownerId,
    IsEgress: r.egress,
    IpProtocol: r.protocol,
    FromPort: r.from ?? -1,
    ToPort: r.to ?? -1,
    ...(r.cidr4 ? { CidrIpv4: r.cidr4 } : {}),
    ...(r.cidr6 ? { CidrIpv6: r.cidr6 } : {}),
    ...(r.prefixListId ? { PrefixListId: r.prefixListId } : {}),
    ...(r.group ? { ReferencedGroupInfo: { GroupId: r.group.groupId, UserId: r.group.userId } } : {}),
    ...(r.description !== undefined ? { Description: r.description } : {}),
    Tags: tagList(r.tags),
    SecurityGroupRuleArn: arn(ctx.partition, 'ec2', ctx.region, g.ownerId, `security-group-rule/${r.id}`),
  };
}

/** Rules grouped back into IpPermissions by (protocol, ports), in creation order. */
export function toIpPermissions(rules: RuleDoc[]): IpPermission[] {
  const out: IpPermission[] = [];
  const byKey = new Map<string, IpPermission>();
  for (const r of rules) {
    const k = `${r.protocol}|${r.from ?? ''}|${r.to ?? ''}`;
    let p = byKey.get(k);
    if (!p) {
      p = {
        IpProtocol: r.protocol,
        ...(r.from !== undefined ? { FromPort: r.from, ToPort: r.to } : {}),
        UserIdGroupPairs: [],
        IpRanges: [],
        Ipv6Ranges: [],
        PrefixListIds: [],
      };
      byKey.set(k, p);
      out.push(p);
    }
    const d = r.description !== undefined ? { Description: r.description } : {};
    if (r.cidr4) p.IpRanges!.push({ CidrIp: r.cidr4, ...d });
    else if (r.cidr6) p.Ipv6Ranges!.push({ CidrIpv6: r.cidr6, ...d });
    else if (r.prefixListId) p.PrefixListIds!.push({ PrefixListId: r.prefixListId, ...d });
    else if (r.group) p.UserIdGroupPairs!.push({ GroupId: r.group.groupId, UserId: r.group.userId, ...d });
  }
  return out;
}

export function noPeer(): ApiError {
  return err.invalidValue(
    'missing mandatory parameter: exactly one of remote-security-group, remote-ip-range, remote-ipv6-range, or prefix-list-id must be present',
  );
}
