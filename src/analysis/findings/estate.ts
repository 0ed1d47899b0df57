// The estate as the checks read it: a snapshot indexed once (groups, their rules with ids and
// descriptions, who holds which group, who references whom, instances, roles) and compiled, on
// first use, into the data plane's Policy — the one rule engine — for every "what is really
// open" question.
import type { Instance, IpPermission, NetworkInterface, SecurityGroup, SecurityGroupRule, Tag, UserIdGroupPair } from '@aws-sdk/client-ec2';
import { policyOf, rulesOfGroup, type IamPolicyDetail, type IamRoleDetail, type Snapshot } from '../snapshot.ts';
import type { Policy, RuleInput } from '../../dataplane/sg-policy.ts';
import { DataPlane } from '../../dataplane/dataplane.ts';
import type { NetworkPaths } from '../../dataplane/routing.ts';
import { pathsOf } from '../snapshot-paths.ts';
import { parseCidr, type Cidr } from '../../core/cidr.ts';

export const EXPORT_KINDS = [
  'securityGroups',
  'securityGroupRules',
  'networkInterfaces',
  'instances',
  'vpcs',
  'subnets',
  'prefixLists',
  'iam',
  'routeTables',
  'networkAcls',
  'internetGateways',
  'natGateways',
  'vpcPeeringConnections',
] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

/** A snapshot as the audit takes it: the lead's Snapshot plus what an import can add. */
export interface AuditSnapshot extends Snapshot {
  /** DescribeSecurityGroupRules output, when the estate was exported or fetched with it: real sgr- ids */
  securityGroupRules?: SecurityGroupRule[];
  /** which kinds of export the snapshot was built from (absent: all of them, as a live fetch) */
  exported?: ExportKind[];
  /** resource id → where it was read from (import only) */
  sources?: Record<string, SourceRef>;
}

export interface SourceRef {
  file: string;
  line?: number;
}

export interface AuditRule {
  /** the rule as the engine reads it, with its real sgr- id when the snapshot has one */
  input: RuleInput;
  group: SecurityGroup;
  description?: string;
  /** the permission it came from, and its peer entry there (permissionOf puts them together) */
  perm: IpPermission;
  peerKind: 'IpRanges' | 'Ipv6Ranges' | 'PrefixListIds' | 'UserIdGroupPairs';
  peerEntry: { CidrIp?: string; CidrIpv6?: string; PrefixListId?: string; GroupId?: string; UserId?: string; Description?: string };
  /** the CIDR peer as written (parsed on demand: cidrOf) */
  cidrText?: string;
  parsedCidr?: Cidr | null;
  pair?: UserIdGroupPair;
  /** created by AWS with the group: egress everywhere, or the default group's self reference */
  awsDefault: boolean;
}

type Tagged = { Tags?: Tag[]; TagSet?: Tag[] };

/**
 * Each group's rules as the engine reads them, named with their real sgr- ids where the snapshot
 * has DescribeSecurityGroupRules output (else rulesOfGroup's `sg-…/i0`): the second argument of
 * policyOf, for anyone who wants the engine's answers to cite real rule ids.
 */
export function ruleInputsOf(s: AuditSnapshot): Map<string, RuleInput[]> {
  const real = indexRuleIds(s.securityGroupRules);
  return new Map(s.securityGroups.map((g) => [g.GroupId!, auditRules(g, real.get(g.GroupId!)).map((r) => r.input)]));
}

export class Estate {
  readonly groups = new Map<string, SecurityGroup>();
  readonly rules = new Map<string, AuditRule[]>();
  /** group id → ids of the interfaces holding it */
  readonly holders = new Map<string, string[]>();
  /** group id → the other groups whose rules reference it */
  readonly referencedBy = new Map<string, Set<string>>();
  readonly interfaces = new Map<string, NetworkInterface>();
  readonly instances = new Map<string, Instance>();
  /** interface id → instance id */
  readonly instanceOfEni = new Map<string, string>();
  readonly prefixListCidrs = new Map<string, Cidr[]>();
  readonly prefixListMaxEntries = new Map<string, number>();
  readonly rolesByProfile = new Map<string, IamRoleDetail>();
  readonly policies = new Map<string, IamPolicyDetail>();
  private readonly engineRules = new Map<string, RuleInput[]>();
  private compiled?: Policy;
  private compiledInternet?: Policy;
  private routing?: { paths: NetworkPaths | undefined };
  private planes?: { full?: DataPlane; internet?: DataPlane };
  private readonly tags = new Map<string, Tag[]>();
  private readonly names = new Map<string, string>();

  constructor(readonly snapshot: AuditSnapshot) {
    const s = snapshot;
    for (const pl of s.prefixLists) {
      this.prefixListCidrs.set(
        pl.PrefixListId!,
        (pl.Entries ?? []).map((e) => parseCidr(e.Cidr ?? '')).filter((c): c is Cidr => !!c),
      );
      if (pl.MaxEntries !== undefined) this.prefixListMaxEntries.set(pl.PrefixListId!, pl.MaxEntries);
      this.remember(pl.PrefixListId!, pl.Tags, pl.PrefixListName);
    }
    const realIds = indexRuleIds(s.securityGroupRules);
    const engineRules = this.engineRules;
    for (const g of s.securityGroups) {
      this.groups.set(g.GroupId!, g);
      this.remember(g.GroupId!, g.Tags, g.GroupName);
      const rules = auditRules(g, realIds.get(g.GroupId!));
      this.rules.set(g.GroupId!, rules);
      engineRules.set(
        g.GroupId!,
        rules.map((r) => r.input),
      );
      this.holders.set(g.GroupId!, []);
      for (const r of rules) {
        const ref = r.input.refGroupId;
        if (!ref || ref === g.GroupId) continue;
        let by = this.referencedBy.get(ref);
        if (!by) this.referencedBy.set(ref, (by = new Set()));
        by.add(g.GroupId!);
      }
    }
    for (const i of s.instances) {
      this.instances.set(i.InstanceId!, i);
      this.remember(i.InstanceId!, i.Tags);
    }
    for (const n of s.networkInterfaces) {
      this.interfaces.set(n.NetworkInterfaceId!, n);
      this.remember(n.NetworkInterfaceId!, n.TagSet);
      const inst = n.Attachment?.InstanceId;
      if (inst) this.instanceOfEni.set(n.NetworkInterfaceId!, inst);
      for (const g of n.Groups ?? []) {
        let h = this.holders.get(g.GroupId!);
        if (!h) this.holders.set(g.GroupId!, (h = []));
        h.push(n.NetworkInterfaceId!);
      }
    }
    for (const v of s.vpcs) this.remember(v.VpcId!, v.Tags);
    for (const sn of s.subnets) this.remember(sn.SubnetId!, sn.Tags);
    for (const t of s.routeTables ?? []) if (t.RouteTableId) this.remember(t.RouteTableId, t.Tags);
    for (const a of s.networkAcls ?? []) if (a.NetworkAclId) this.remember(a.NetworkAclId, a.Tags);
    for (const g of s.internetGateways ?? []) if (g.InternetGatewayId) this.remember(g.InternetGatewayId, g.Tags);
    for (const p of s.vpcPeeringConnections ?? []) if (p.VpcPeeringConnectionId) this.remember(p.VpcPeeringConnectionId, p.Tags);
    for (const p of s.iam?.policies ?? []) this.policies.set(p.Arn, p);
    for (const r of s.iam?.roles ?? []) {
      this.remember(r.Arn, (r as Tagged).Tags, r.RoleName);
      for (const p of r.InstanceProfileList ?? []) {
        this.rolesByProfile.set(p.Arn, r);
        this.rolesByProfile.set(`name:${p.InstanceProfileName}`, r);
      }
    }
  }

  /** The whole estate compiled into the data plane's policy (the one rule engine), with real rule ids. */
  get policy(): Policy {
    return (this.compiled ??= policyOf(this.snapshot, this.engineRules));
  }

  /**
   * The policy of the internet-facing part of the estate: the interfaces with a public IPv4 or
   * an IPv6 address, the groups they hold, and of those the ingress rules whose peer is an
   * address block or a prefix list. For a new inbound connection from an internet address it
   * answers exactly as the whole estate's policy — egress is not asked, and no internet address
   * is a member of a group — at a fraction of the compile cost.
   */
  get internetPolicy(): Policy {
    if (this.compiled) return this.compiled;
    if (!this.compiledInternet) {
      const facing = this.snapshot.networkInterfaces.filter((n) => n.Association?.PublicIp || n.Ipv6Addresses?.length);
      const held = new Set(facing.flatMap((n) => (n.Groups ?? []).map((g) => g.GroupId!)));
      const part: Snapshot = {
        ...this.snapshot,
        networkInterfaces: facing,
        securityGroups: this.snapshot.securityGroups.filter((g) => held.has(g.GroupId!)),
      };
      const rules = new Map<string, RuleInput[]>();
      for (const id of held)
        rules.set(
          id,
          (this.engineRules.get(id) ?? []).filter((r) => !r.egress && !r.refGroupId),
        );
      this.compiledInternet = policyOf(part, rules);
    }
    return this.compiledInternet;
  }

  /**
   * The snapshot's routing (route tables, network ACLs, gateways, peering) as the data plane's
   * NetworkPaths, or undefined when the snapshot has no route tables: then the plain model
   * holds (a public address faces the internet).
   */
  get paths(): NetworkPaths | undefined {
    return (this.routing ??= { paths: pathsOf(this.snapshot) }).paths;
  }

  /** The whole estate's data plane over its routing: flows judged as the server judges them. */
  get plane(): DataPlane {
    this.planes ??= {};
    return (this.planes.full ??= new DataPlane(this.policy, this.paths));
  }

  /**
   * The data plane of the internet-facing part over the whole routing: exact for new inbound
   * connections from internet addresses (see internetPolicy), at a fraction of the compile cost.
   */
  get internetPlane(): DataPlane {
    this.planes ??= {};
    if (this.planes.full) return this.planes.full;
    return (this.planes.internet ??= new DataPlane(this.internetPolicy, this.paths));
  }

  private remember(id: string, tags: Tag[] | undefined, name?: string): void {
    if (tags?.length) this.tags.set(id, tags);
    const n = name ?? tags?.find((t) => t.Key === 'Name')?.Value;
    if (n) this.names.set(id, n);
  }

  tagsOf(id: string): Tag[] {
    return this.tags.get(id) ?? [];
  }

  tag(id: string, key: string): string | undefined {
    return this.tagsOf(id).find((t) => t.Key === key)?.Value;
  }

  nameOf(id: string): string | undefined {
    return this.names.get(id);
  }

  /** `sg-123 (web)` */
  label(id: string): string {
    const n = this.names.get(id);
    return n && n !== id ? `${id} (${n})` : id;
  }

  /** Was this kind of export part of the snapshot? (A live fetch has them all.) */
  has(kind: ExportKind): boolean {
    return !this.snapshot.exported || this.snapshot.exported.includes(kind);
  }

  isDefaultGroup(g: SecurityGroup): boolean {
    return g.GroupName === 'default';
  }

  /** Does the rule admit every address of a family (0.0.0.0/0, ::/0, or a prefix list holding one)? */
  worldFamily(r: AuditRule): 4 | 6 | undefined {
    if (r.cidrText !== undefined) {
      if (!r.cidrText.endsWith('/0')) return undefined;
      const c = cidrOf(r);
      return c?.prefix === 0 ? c.family : undefined;
    }
    if (r.input.prefixListId) return this.prefixListCidrs.get(r.input.prefixListId)?.find((c) => c.prefix === 0)?.family;
    return undefined;
  }
}

// Parsed CIDRs for the audit's lifetime: an estate repeats the same blocks across many rules.
let memo = new Map<string, Cidr | null>();

const QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/**
 * The common case of parseCidr — a plain dotted quad — read directly (estates hold tens of
 * thousands of blocks); anything else, or anything odd, is left to parseCidr.
 */
function quadCidr(text: string): Cidr | undefined {
  const m = QUAD.exec(text);
  if (!m) return undefined;
  const prefix = Number(m[5]);
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255 || (m[i]!.length > 1 && m[i]![0] === '0')) return undefined;
    v = v * 256 + o;
  }
  if (prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  return { family: 4, base: BigInt(Math.floor(v / size) * size), prefix };
}

export function cidrOf(r: AuditRule): Cidr | undefined {
  if (r.parsedCidr === undefined) {
    const text = r.cidrText;
    if (text === undefined) r.parsedCidr = null;
    else {
      let c = memo.get(text);
      if (c === undefined) {
        if (memo.size >= 200_000) memo = new Map();
        memo.set(text, (c = quadCidr(text) ?? parseCidr(text) ?? null));
      }
      r.parsedCidr = c;
    }
  }
  return r.parsedCidr ?? undefined;
}

type RealIds = Map<string, { id: string; description?: string }>;

/**
 * Identity of a rule within its group, from the raw fields both describe calls print the same
 * way (describe-security-groups leaves out the ports of protocol -1, which
 * describe-security-group-rules gives as -1).
 */
function rawKey(
  egress: boolean,
  protocol: string | undefined,
  from: number | undefined,
  to: number | undefined,
  peer: string | undefined,
): string {
  const p = (protocol ?? '-1').toLowerCase();
  return p === '-1' ? `${egress ? 'e' : 'i'}|-1|${peer ?? ''}` : `${egress ? 'e' : 'i'}|${p}|${from ?? -1}|${to ?? -1}|${peer ?? ''}`;
}

/** Real sgr- ids by group and rule key, from DescribeSecurityGroupRules. */
function indexRuleIds(rules: SecurityGroupRule[] | undefined): Map<string, RealIds> {
  const out = new Map<string, RealIds>();
  for (const r of rules ?? []) {
    let byKey = out.get(r.GroupId!);
    if (!byKey) out.set(r.GroupId!, (byKey = new Map()));
    const peer = r.CidrIpv4 ?? r.CidrIpv6?.toLowerCase() ?? r.PrefixListId ?? r.ReferencedGroupInfo?.GroupId;
    byKey.set(rawKey(!!r.IsEgress, r.IpProtocol, r.FromPort, r.ToPort, peer), { id: r.SecurityGroupRuleId!, description: r.Description });
  }
  return out;
}

const PEER_KINDS = ['IpRanges', 'Ipv6Ranges', 'PrefixListIds', 'UserIdGroupPairs'] as const;
type PeerEntry = { CidrIp?: string; CidrIpv6?: string; PrefixListId?: string; GroupId?: string; UserId?: string; Description?: string };

/** The group's rules in rulesOfGroup's order, each paired with the permission entry it came from. */
function auditRules(g: SecurityGroup, real: RealIds | undefined): AuditRule[] {
  const inputs = rulesOfGroup(g);
  const out: AuditRule[] = [];
  let k = 0;
  const isDefault = g.GroupName === 'default';
  for (let d = 0; d < 2; d++) {
    const egress = d === 1;
    for (const p of (egress ? g.IpPermissionsEgress : g.IpPermissions) ?? []) {
      for (const kind of PEER_KINDS) {
        for (const entry of (p[kind] ?? []) as PeerEntry[]) {
          const input = inputs[k++]!;
          const peerId =
            kind === 'IpRanges'
              ? entry.CidrIp
              : kind === 'Ipv6Ranges'
                ? entry.CidrIpv6?.toLowerCase()
                : kind === 'PrefixListIds'
                  ? entry.PrefixListId
                  : entry.GroupId;
          const hit = real?.get(rawKey(egress, p.IpProtocol, p.FromPort, p.ToPort, peerId));
          if (hit) input.id = hit.id; // rulesOfGroup's objects are fresh: ours to name
          out.push({
            input,
            group: g,
            description: entry.Description ?? hit?.description,
            perm: p,
            peerKind: kind,
            peerEntry: entry,
            cidrText: kind === 'IpRanges' ? (entry.CidrIp ?? '') : kind === 'Ipv6Ranges' ? (entry.CidrIpv6 ?? '') : undefined,
            pair: kind === 'UserIdGroupPairs' ? (entry as UserIdGroupPair) : undefined,
            awsDefault:
              input.protocol === '-1' &&
              (egress ? input.cidr4 === '0.0.0.0/0' || input.cidr6 === '::/0' : isDefault && input.refGroupId === g.GroupId),
          });
        }
      }
    }
  }
  return out;
}

/** The rule as an IpPermission of its own (one peer, no description), for fix commands. */
export function permissionOf(r: AuditRule): IpPermission {
  const p = r.perm;
  const e = r.peerEntry;
  const peer =
    r.peerKind === 'UserIdGroupPairs'
      ? { GroupId: e.GroupId, ...(e.UserId ? { UserId: e.UserId } : {}) }
      : (({ Description: _d, ...rest }) => rest)(e);
  return {
    IpProtocol: p.IpProtocol,
    ...(p.FromPort !== undefined ? { FromPort: p.FromPort } : {}),
    ...(p.ToPort !== undefined ? { ToPort: p.ToPort } : {}),
    [r.peerKind]: [peer],
  };
}

// ---- describing rules ----------------------------------------------------------------------

const PROTO_NAMES: Record<string, string> = { '-1': 'all traffic', tcp: 'tcp', udp: 'udp', icmp: 'icmp', icmpv6: 'icmpv6' };

export function portsText(r: RuleInput): string {
  const p = r.protocol;
  if (p === '-1') return 'all traffic';
  const name = PROTO_NAMES[p] ?? `protocol ${p}`;
  if (p === 'tcp' || p === 'udp') {
    const from = r.from ?? 0;
    const to = r.to ?? 65535;
    if (from === 0 && to === 65535) return `all ${name} ports`;
    return from === to ? `${name} ${from}` : `${name} ${from}-${to}`;
  }
  if (p === 'icmp' || p === 'icmpv6')
    return r.from === undefined || r.from === -1
      ? `all ${name}`
      : `${name} type ${r.from}${r.to !== undefined && r.to !== -1 ? ` code ${r.to}` : ''}`;
  return name;
}

function peerText(r: RuleInput): string {
  return r.cidr4 ?? r.cidr6 ?? r.prefixListId ?? r.refGroupId ?? '?';
}

/** `sgr-0abc (tcp 22 from 0.0.0.0/0)` */
export function ruleText(r: RuleInput): string {
  return `${r.id} (${portsText(r)} ${r.egress ? 'to' : 'from'} ${peerText(r)})`;
}

/** The aws CLI command that removes these rules of one group and direction. */
export function revokeCommand(rules: AuditRule[]): string {
  const g = rules[0]!.group.GroupId!;
  const egress = rules[0]!.input.egress;
  const verb = egress ? 'revoke-security-group-egress' : 'revoke-security-group-ingress';
  if (rules.every((r) => r.input.id.startsWith('sgr-')))
    return `aws ec2 ${verb} --group-id ${g} --security-group-rule-ids ${rules.map((r) => r.input.id).join(' ')}`;
  return `aws ec2 ${verb} --group-id ${g} --ip-permissions '${JSON.stringify(rules.map(permissionOf))}'`;
}

export function uniq<T>(xs: Iterable<T>): T[] {
  return [...new Set(xs)];
}

/** Lists a few items and counts the rest. */
export function listText(items: string[], max = 6): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}
