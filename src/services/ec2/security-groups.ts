// Security groups and their rules, with AWS's validations, errors and edge cases.
import type {
  AuthorizeSecurityGroupEgressRequest,
  AuthorizeSecurityGroupEgressResult,
  AuthorizeSecurityGroupIngressRequest,
  AuthorizeSecurityGroupIngressResult,
  CreateSecurityGroupRequest,
  CreateSecurityGroupResult,
  DeleteSecurityGroupRequest,
  DeleteSecurityGroupResult,
  DescribeSecurityGroupReferencesRequest,
  DescribeSecurityGroupReferencesResult,
  DescribeSecurityGroupRulesRequest,
  DescribeSecurityGroupRulesResult,
  DescribeSecurityGroupsRequest,
  DescribeSecurityGroupsResult,
  GetSecurityGroupsForVpcRequest,
  GetSecurityGroupsForVpcResult,
  IpPermission,
  ModifySecurityGroupRulesRequest,
  ModifySecurityGroupRulesResult,
  RevokeSecurityGroupEgressRequest,
  RevokeSecurityGroupEgressResult,
  RevokeSecurityGroupIngressRequest,
  RevokeSecurityGroupIngressResult,
  SecurityGroup,
  UpdateSecurityGroupRuleDescriptionsEgressRequest,
  UpdateSecurityGroupRuleDescriptionsEgressResult,
  UpdateSecurityGroupRuleDescriptionsIngressRequest,
  UpdateSecurityGroupRuleDescriptionsIngressResult,
  RevokedSecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { regional } from '../../store/store.ts';
import { arn, ID_PATTERN, newId } from './ids.ts';
import { KIND, type RuleDoc, type SecurityGroupDoc, type TagPair, type VpcDoc } from '../../core/documents/ec2.ts';
import { compileFilters, tagList } from './filters.ts';
import { paginate } from './paging.ts';
import { tagsFromSpecs, type Taggable } from './tags.ts';
import type { RuleIndex } from './rule-index.ts';
import { notFoundError } from '../../core/resource-types.ts';
import {
  checkPorts,
  checkRuleDescription,
  cidr4,
  cidr6,
  describeForDuplicate,
  noPeer,
  normalizeProtocol,
  ruleKey,
  toIpPermissions,
  toSecurityGroupRule,
  type RuleSpec,
} from './rules.ts';
import { VersionCache } from '../../protocol/version-cache.ts';
import {
  checkGroupId,
  defaultVpc,
  findPrefixList,
  getGroup,
  getGroupByName,
  getVpc,
  groupInUse,
  groupNotFound,
  prefixListWeight,
  resolveTarget,
} from './lookups.ts';

export const RULES_PER_DIRECTION = 60;
const GROUPS_PER_REGION = 2500;

// ---------------------------------------------------------------------------------------------
// Lookups

// ---------------------------------------------------------------------------------------------
// Creation

function allEgress(g: SecurityGroupDoc, ipv6: boolean): void {
  g.rules.push({ id: newId('sgr'), egress: true, protocol: '-1', cidr4: '0.0.0.0/0', tags: [] });
  if (ipv6) g.rules.push({ id: newId('sgr'), egress: true, protocol: '-1', cidr6: '::/0', tags: [] });
}

export function createDefaultGroup(ctx: Ctx, vpc: VpcDoc): SecurityGroupDoc {
  const g: SecurityGroupDoc = {
    id: newId('sg'),
    name: 'default',
    description: 'default VPC security group',
    vpcId: vpc.id,
    ownerId: ctx.account,
    rules: [],
    tags: [],
  };
  g.rules.push({ id: newId('sgr'), egress: false, protocol: '-1', group: { groupId: g.id, userId: ctx.account }, tags: [] });
  allEgress(g, vpc.ipv6.length > 0);
  return ctx.tx.put(KIND.sg, ctx.scope, g);
}

export function addIpv6EgressToDefaultGroup(ctx: Ctx, vpc: VpcDoc): void {
  const g = ctx.tx.edit<SecurityGroupDoc>(KIND.sg, ctx.scope, vpc.defaultGroupId);
  if (g && !g.rules.some((r) => r.egress && r.protocol === '-1' && r.cidr6 === '::/0')) {
    g.rules.push({ id: newId('sgr'), egress: true, protocol: '-1', cidr6: '::/0', tags: [] });
  }
}

const NAME_CHARS = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/;
function checkText(value: string, param: string): void {
  if (value.length > 255 || !NAME_CHARS.test(value)) {
    throw err.invalidValue(
      `Value (${value}) for parameter ${param} is invalid. Valid values are up to 255 characters from the set a-zA-Z0-9 and spaces and ._-:/()#,@[]+=&;{}!$*`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Quota

/** The families (4, 6) in which a direction of the group is over AWS's 60-rule quota. */
export function quotaViolations(ctx: Ctx, g: SecurityGroupDoc): string[] {
  const out: string[] = [];
  for (const egress of [false, true]) {
    let v4 = 0;
    let v6 = 0;
    for (const r of g.rules) {
      if (r.egress !== egress) continue;
      if (r.cidr4) v4++;
      else if (r.cidr6) v6++;
      else if (r.group) {
        v4++;
        v6++;
      } else if (r.prefixListId) {
        const w = prefixListWeight(ctx, r.prefixListId);
        v4 += w;
        v6 += w;
      }
    }
    if (v4 > RULES_PER_DIRECTION) out.push(`${egress ? 'egress' : 'ingress'}-v4`);
    if (v6 > RULES_PER_DIRECTION) out.push(`${egress ? 'egress' : 'ingress'}-v6`);
  }
  return out;
}

function checkQuota(ctx: Ctx, g: SecurityGroupDoc): void {
  if (quotaViolations(ctx, g).length) {
    throw new ApiError('RulesPerSecurityGroupLimitExceeded', 'The maximum number of rules per security group has been reached.');
  }
}

// ---------------------------------------------------------------------------------------------
// Permissions → rule specs

interface ParseOptions {
  egress: boolean;
  forRevoke?: boolean;
}

function resolvePeerGroup(
  ctx: Ctx,
  target: SecurityGroupDoc,
  pair: { GroupId?: string; GroupName?: string; UserId?: string },
  forRevoke: boolean,
) {
  const userId = pair.UserId && pair.UserId !== '' ? pair.UserId.replace(/-/g, '') : ctx.account;
  const scope = userId === ctx.account ? ctx.scope : regional(userId, ctx.region);
  let peer: SecurityGroupDoc | undefined;
  if (pair.GroupId) {
    checkGroupId(pair.GroupId);
    peer = ctx.tx.get<SecurityGroupDoc>(KIND.sg, scope, pair.GroupId);
    if (!peer) {
      if (forRevoke) return { groupId: pair.GroupId, userId };
      throw groupNotFound(pair.GroupId);
    }
  } else if (pair.GroupName) {
    peer = getGroupByName(ctx, pair.GroupName, scope);
  } else {
    throw noPeer();
  }
  if (peer.vpcId !== target.vpcId) {
    throw new ApiError('InvalidGroup.NotFound', 'You have specified two resources that belong to different networks.');
  }
  return { groupId: peer.id, userId, vpcId: peer.vpcId };
}

function parsePermissions(
  ctx: Ctx,
  target: SecurityGroupDoc,
  perms: IpPermission[],
  opts: ParseOptions,
): { spec: RuleSpec; perm: IpPermission }[] {
  const out: { spec: RuleSpec; perm: IpPermission }[] = [];
  for (const perm of perms) {
    const protocol = normalizeProtocol(perm.IpProtocol);
    const ports = checkPorts(protocol, perm.FromPort, perm.ToPort);
    const base = { egress: opts.egress, protocol, ...ports };
    const n =
      (perm.IpRanges?.length ?? 0) +
      (perm.Ipv6Ranges?.length ?? 0) +
      (perm.PrefixListIds?.length ?? 0) +
      (perm.UserIdGroupPairs?.length ?? 0);
    if (n === 0) throw noPeer();
    for (const r of perm.IpRanges ?? []) {
      out.push({ perm, spec: { ...base, cidr4: cidr4(r.CidrIp), description: checkRuleDescription(r.Description) } });
    }
    for (const r of perm.Ipv6Ranges ?? []) {
      out.push({ perm, spec: { ...base, cidr6: cidr6(r.CidrIpv6), description: checkRuleDescription(r.Description) } });
    }
    for (const r of perm.PrefixListIds ?? []) {
      if (!r.PrefixListId) throw err.missing('PrefixListId');
      if (!opts.forRevoke && !findPrefixList(ctx, r.PrefixListId)) {
        throw new ApiError('InvalidPrefixListId.NotFound', `The prefix list ID '${r.PrefixListId}' does not exist.`);
      }
      out.push({ perm, spec: { ...base, prefixListId: r.PrefixListId, description: checkRuleDescription(r.Description) } });
    }
    for (const r of perm.UserIdGroupPairs ?? []) {
      const group = resolvePeerGroup(ctx, target, r, !!opts.forRevoke);
      out.push({ perm, spec: { ...base, group, description: checkRuleDescription(r.Description) } });
    }
    for (const s of out) if (s.spec.description === undefined) delete s.spec.description;
  }
  return out;
}

/** The legacy flat parameters of AuthorizeSecurityGroupIngress / RevokeSecurityGroupIngress. */
function legacyPermissions(input: AuthorizeSecurityGroupIngressRequest | RevokeSecurityGroupIngressRequest): IpPermission[] {
  const flat =
    input.IpProtocol !== undefined ||
    input.CidrIp !== undefined ||
    input.SourceSecurityGroupName !== undefined ||
    input.SourceSecurityGroupOwnerId !== undefined ||
    input.FromPort !== undefined ||
    input.ToPort !== undefined;
  if (!flat) return [];
  if (input.IpPermissions?.length)
    throw err.combination(
      'The parameter ipPermissions cannot be used with the parameters ipProtocol, fromPort, toPort, cidrIp, sourceSecurityGroupName or sourceSecurityGroupOwnerId',
    );
  if (input.SourceSecurityGroupName !== undefined || input.SourceSecurityGroupOwnerId !== undefined) {
    if (input.CidrIp !== undefined) throw err.combination('The parameter cidrIp cannot be used with the parameter sourceSecurityGroupName');
    const pair = { GroupName: input.SourceSecurityGroupName, UserId: input.SourceSecurityGroupOwnerId };
    if (input.IpProtocol === undefined) {
      // "grants full ICMP, UDP, and TCP access"
      return [
        { IpProtocol: 'icmp', FromPort: -1, ToPort: -1, UserIdGroupPairs: [pair] },
        { IpProtocol: 'tcp', FromPort: 0, ToPort: 65535, UserIdGroupPairs: [pair] },
        { IpProtocol: 'udp', FromPort: 0, ToPort: 65535, UserIdGroupPairs: [pair] },
      ];
    }
    return [{ IpProtocol: input.IpProtocol, FromPort: input.FromPort, ToPort: input.ToPort, UserIdGroupPairs: [pair] }];
  }
  if (input.CidrIp === undefined) throw noPeer();
  return [{ IpProtocol: input.IpProtocol, FromPort: input.FromPort, ToPort: input.ToPort, IpRanges: [{ CidrIp: input.CidrIp }] }];
}

function rejectEgressFlat(input: AuthorizeSecurityGroupEgressRequest | RevokeSecurityGroupEgressRequest): void {
  const flat = ['CidrIp', 'FromPort', 'IpProtocol', 'ToPort', 'SourceSecurityGroupName', 'SourceSecurityGroupOwnerId'] as const;
  for (const k of flat) {
    if ((input as unknown as Record<string, unknown>)[k] !== undefined) {
      throw err.invalidParam(`The parameter ${k} is not supported for egress rules. Use IpPermissions instead.`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Authorize / revoke

function authorize(
  ctx: Ctx,
  target: SecurityGroupDoc,
  perms: IpPermission[],
  egress: boolean,
  tagSpecs: AuthorizeSecurityGroupIngressRequest['TagSpecifications'],
) {
  if (!perms.length) throw err.missing('IpPermissions');
  const specs = parsePermissions(ctx, target, perms, { egress });
  const tags = tagsFromSpecs(tagSpecs, 'security-group-rule');
  const seen = new Set<string>();
  for (const { spec } of specs) {
    const k = ruleKey(spec);
    if (seen.has(k)) throw err.invalidValue('The same permission must not appear multiple times');
    seen.add(k);
  }
  const g = ctx.tx.edit<SecurityGroupDoc>(KIND.sg, ctx.scope, target.id)!;
  const existing = new Set(g.rules.map(ruleKey));
  const created: RuleDoc[] = [];
  for (const { spec } of specs) {
    if (existing.has(ruleKey(spec))) throw new ApiError('InvalidPermission.Duplicate', describeForDuplicate(spec));
    const rule: RuleDoc = { id: newId('sgr'), ...spec, tags: tags.map((t) => ({ ...t })) };
    g.rules.push(rule);
    created.push(rule);
  }
  checkQuota(ctx, g);
  return { Return: true, SecurityGroupRules: created.map((r) => toSecurityGroupRule(ctx, g, r)) };
}

function toRevoked(g: SecurityGroupDoc, r: RuleDoc): RevokedSecurityGroupRule {
  return {
    SecurityGroupRuleId: r.id,
    GroupId: g.id,
    IsEgress: r.egress,
    IpProtocol: r.protocol,
    FromPort: r.from ?? -1,
    ToPort: r.to ?? -1,
    ...(r.cidr4 ? { CidrIpv4: r.cidr4 } : {}),
    ...(r.cidr6 ? { CidrIpv6: r.cidr6 } : {}),
    ...(r.prefixListId ? { PrefixListId: r.prefixListId } : {}),
    ...(r.group ? { ReferencedGroupId: r.group.groupId } : {}),
    ...(r.description !== undefined ? { Description: r.description } : {}),
  };
}

function revoke(ctx: Ctx, target: SecurityGroupDoc, perms: IpPermission[], ruleIds: string[] | undefined, egress: boolean) {
  const g = ctx.tx.edit<SecurityGroupDoc>(KIND.sg, ctx.scope, target.id)!;
  if (ruleIds?.length) {
    if (perms.length) throw err.combination('The parameter ipPermissions cannot be used with the parameter securityGroupRuleId');
    const removed: RuleDoc[] = [];
    for (const id of ruleIds) {
      const r = g.rules.find((x) => x.id === id && x.egress === egress);
      if (!r) throw new ApiError('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${id}' does not exist`);
      if (!removed.includes(r)) removed.push(r);
    }
    g.rules = g.rules.filter((r) => !removed.includes(r));
    return { Return: true, RevokedSecurityGroupRules: removed.map((r) => toRevoked(g, r)) };
  }
  if (!perms.length) throw err.missing('IpPermissions');
  const specs = parsePermissions(ctx, g, perms, { egress, forRevoke: true });
  const removed: RuleDoc[] = [];
  const unknown: IpPermission[] = [];
  for (const { spec, perm } of specs) {
    const k = ruleKey(spec);
    const r = g.rules.find((x) => ruleKey(x) === k);
    if (r) {
      if (!removed.includes(r)) removed.push(r);
    } else {
      unknown.push(unknownPermission(perm, spec));
    }
  }
  const vpc = ctx.tx.get<VpcDoc>(KIND.vpc, ctx.scope, g.vpcId);
  if (unknown.length && !vpc?.isDefault) {
    throw new ApiError('InvalidPermission.NotFound', 'The specified rule does not exist in this security group.');
  }
  g.rules = g.rules.filter((r) => !removed.includes(r));
  return {
    Return: true,
    ...(unknown.length ? { UnknownIpPermissions: unknown } : {}),
    RevokedSecurityGroupRules: removed.map((r) => toRevoked(g, r)),
  };
}

function unknownPermission(perm: IpPermission, spec: RuleSpec): IpPermission {
  return {
    IpProtocol: perm.IpProtocol,
    FromPort: perm.FromPort,
    ToPort: perm.ToPort,
    IpRanges: spec.cidr4 ? [{ CidrIp: spec.cidr4 }] : [],
    Ipv6Ranges: spec.cidr6 ? [{ CidrIpv6: spec.cidr6 }] : [],
    PrefixListIds: spec.prefixListId ? [{ PrefixListId: spec.prefixListId }] : [],
    UserIdGroupPairs: spec.group ? [{ GroupId: spec.group.groupId, UserId: spec.group.userId }] : [],
  };
}

// ---------------------------------------------------------------------------------------------
// Wire forms

/** A group's wire form, built once per version of its document (see VersionCache). */
const wireForms = new VersionCache<SecurityGroupDoc, SecurityGroup>((g, groupArn) => ({
  GroupId: g.id,
  GroupName: g.name,
  Description: g.description,
  VpcId: g.vpcId,
  OwnerId: g.ownerId,
  IpPermissions: toIpPermissions(g.rules.filter((r) => !r.egress)),
  IpPermissionsEgress: toIpPermissions(g.rules.filter((r) => r.egress)),
  Tags: tagList(g.tags),
  SecurityGroupArn: groupArn,
}));

function toSecurityGroup(ctx: Ctx, g: SecurityGroupDoc): SecurityGroup {
  return wireForms.of(g, arn(ctx.partition, 'ec2', ctx.region, g.ownerId, `security-group/${g.id}`));
}

const perm = (egress: boolean, f: (r: RuleDoc) => unknown) => (g: SecurityGroupDoc) =>
  g.rules.filter((r) => r.egress === egress).map(f) as (string | number | undefined)[];

function groupFilters(ctx: Ctx) {
  const spec: Record<string, (g: SecurityGroupDoc) => unknown> = {
    description: (g) => g.description,
    'group-id': (g) => g.id,
    'group-name': (g) => g.name,
    'owner-id': (g) => g.ownerId,
    'vpc-id': (g) => g.vpcId,
  };
  for (const [prefix, egress] of [
    ['ip-permission', false],
    ['egress.ip-permission', true],
  ] as const) {
    spec[`${prefix}.cidr`] = perm(egress, (r) => r.cidr4);
    spec[`${prefix}.ipv6-cidr`] = perm(egress, (r) => r.cidr6);
    spec[`${prefix}.from-port`] = perm(egress, (r) => r.from ?? -1);
    spec[`${prefix}.to-port`] = perm(egress, (r) => r.to ?? -1);
    spec[`${prefix}.protocol`] = perm(egress, (r) => r.protocol);
    spec[`${prefix}.group-id`] = perm(egress, (r) => r.group?.groupId);
    spec[`${prefix}.group-name`] = perm(
      egress,
      (r) =>
        r.group &&
        ctx.tx.get<SecurityGroupDoc>(
          KIND.sg,
          r.group.userId === ctx.account ? ctx.scope : regional(r.group.userId, ctx.region),
          r.group.groupId,
        )?.name,
    );
    spec[`${prefix}.prefix-list-id`] = perm(egress, (r) => r.prefixListId);
    spec[`${prefix}.user-id`] = perm(egress, (r) => r.group?.userId);
  }
  return spec as Record<string, (g: SecurityGroupDoc) => string[]>;
}

// ---------------------------------------------------------------------------------------------
// Handlers

/** The handlers; `rules` finds the group that holds a rule id. */
export function securityGroupHandlers(rules: RuleIndex) {
  return {
    CreateSecurityGroup(ctx: Ctx, input: CreateSecurityGroupRequest): CreateSecurityGroupResult {
      const name = input.GroupName ?? '';
      const description = input.Description ?? '';
      if (name === '') throw err.missing('GroupName');
      if (description === '') throw err.missing('GroupDescription');
      if (name.toLowerCase().startsWith('sg-')) {
        throw err.invalidValue(`Value (${name}) for parameter GroupName is invalid. Group names may not be in the format sg-*.`);
      }
      checkText(name, 'GroupName');
      checkText(description, 'GroupDescription');
      let vpc: VpcDoc;
      if (input.VpcId !== undefined) vpc = getVpc(ctx, input.VpcId);
      else {
        const d = defaultVpc(ctx);
        if (!d) throw new ApiError('VPCIdNotSpecified', 'No default VPC for this user');
        vpc = d;
      }
      if (name.toLowerCase() === 'default') {
        throw new ApiError('InvalidGroup.Reserved', "The security group 'default' is reserved");
      }
      const all = ctx.tx.all<SecurityGroupDoc>(KIND.sg, ctx.scope);
      const lower = name.toLowerCase();
      if (all.some((g) => g.vpcId === vpc.id && g.name.toLowerCase() === lower)) {
        throw new ApiError('InvalidGroup.Duplicate', `The security group '${name}' already exists for VPC '${vpc.id}'`);
      }
      if (all.length >= GROUPS_PER_REGION) {
        throw new ApiError('SecurityGroupLimitExceeded', `The maximum number of security groups for VPC '${vpc.id}' has been reached.`);
      }
      const tags = tagsFromSpecs(input.TagSpecifications, 'security-group');
      const g: SecurityGroupDoc = { id: newId('sg'), name, description, vpcId: vpc.id, ownerId: ctx.account, rules: [], tags };
      allEgress(g, vpc.ipv6.length > 0);
      ctx.tx.put(KIND.sg, ctx.scope, g);
      return {
        GroupId: g.id,
        Tags: tags.length ? tagList(tags) : undefined,
        SecurityGroupArn: arn(ctx.partition, 'ec2', ctx.region, ctx.account, `security-group/${g.id}`),
      };
    },

    DeleteSecurityGroup(ctx: Ctx, input: DeleteSecurityGroupRequest): DeleteSecurityGroupResult {
      if (input.GroupId === undefined && input.GroupName === undefined) throw err.missing('GroupId');
      const g = resolveTarget(ctx, input.GroupId, input.GroupName);
      if (g.name === 'default') {
        throw new ApiError('CannotDelete', `the specified group: "${g.id}" name: "default" cannot be deleted by a user`);
      }
      const referenced = ctx.tx
        .all<SecurityGroupDoc>(KIND.sg, ctx.scope)
        .some((o) => o.id !== g.id && o.rules.some((r) => r.group?.groupId === g.id));
      if (referenced || groupInUse(ctx, g.id)) {
        throw new ApiError('DependencyViolation', `resource ${g.id} has a dependent object`);
      }
      ctx.tx.delete(KIND.sg, ctx.scope, g.id);
      return { Return: true, GroupId: g.id };
    },

    DescribeSecurityGroups(ctx: Ctx, input: DescribeSecurityGroupsRequest): DescribeSecurityGroupsResult {
      let groups: SecurityGroupDoc[];
      if (input.GroupIds?.length || input.GroupNames?.length) {
        const picked = new Map<string, SecurityGroupDoc>();
        for (const id of input.GroupIds ?? []) picked.set(id, getGroup(ctx, id));
        for (const name of input.GroupNames ?? []) {
          const g = getGroupByName(ctx, name);
          picked.set(g.id, g);
        }
        groups = [...picked.values()].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
      } else {
        groups = ctx.tx.all<SecurityGroupDoc>(KIND.sg, ctx.scope);
      }
      if (input.Filters?.length) groups = groups.filter(compileFilters(input.Filters, groupFilters(ctx)));
      const { page, nextToken } = paginate(groups, input.MaxResults, input.NextToken);
      return { SecurityGroups: page.map((g) => toSecurityGroup(ctx, g)), NextToken: nextToken };
    },

    AuthorizeSecurityGroupIngress(ctx: Ctx, input: AuthorizeSecurityGroupIngressRequest): AuthorizeSecurityGroupIngressResult {
      const g = resolveTarget(ctx, input.GroupId, input.GroupName);
      const perms = [...(input.IpPermissions ?? []), ...legacyPermissions(input)];
      return authorize(ctx, g, perms, false, input.TagSpecifications);
    },

    AuthorizeSecurityGroupEgress(ctx: Ctx, input: AuthorizeSecurityGroupEgressRequest): AuthorizeSecurityGroupEgressResult {
      rejectEgressFlat(input);
      const g = getGroup(ctx, input.GroupId!);
      return authorize(ctx, g, input.IpPermissions ?? [], true, input.TagSpecifications);
    },

    RevokeSecurityGroupIngress(ctx: Ctx, input: RevokeSecurityGroupIngressRequest): RevokeSecurityGroupIngressResult {
      const g = resolveTarget(ctx, input.GroupId, input.GroupName);
      return revoke(ctx, g, [...(input.IpPermissions ?? []), ...legacyPermissions(input)], input.SecurityGroupRuleIds, false);
    },

    RevokeSecurityGroupEgress(ctx: Ctx, input: RevokeSecurityGroupEgressRequest): RevokeSecurityGroupEgressResult {
      rejectEgressFlat(input);
      const g = getGroup(ctx, input.GroupId!);
      return revoke(ctx, g, input.IpPermissions ?? [], input.SecurityGroupRuleIds, true);
    },

    DescribeSecurityGroupRules(ctx: Ctx, input: DescribeSecurityGroupRulesRequest): DescribeSecurityGroupRulesResult {
      type Row = { id: string; seq: number; g: SecurityGroupDoc; r: RuleDoc; tags: TagPair[] };
      const rows: Row[] = [];
      let seq = 0;
      if (input.SecurityGroupRuleIds?.length) {
        for (const id of input.SecurityGroupRuleIds) {
          const g = rules.groupOf(ctx, id);
          if (!g) throw notFoundError('sgr', id);
          const r = g.rules.find((x) => x.id === id)!;
          if (!rows.some((x) => x.id === id)) rows.push({ id, seq: ++seq, g, r, tags: r.tags });
        }
      } else {
        for (const g of ctx.tx.all<SecurityGroupDoc>(KIND.sg, ctx.scope)) {
          for (const r of g.rules) rows.push({ id: r.id, seq: ++seq, g, r, tags: r.tags });
        }
      }
      // AWS checks the group ids a `group-id` filter names (recorded AWS response quoted in
      // localstack/localstack#9059: `The security group ID '' is malformed`; getmoto/moto#7620).
      for (const f of input.Filters ?? []) {
        if (f.Name !== 'group-id') continue;
        for (const v of f.Values ?? []) {
          if (!ID_PATTERN('sg').test(v)) throw new ApiError('InvalidGroupId.Malformed', `The security group ID '${v}' is malformed`);
        }
      }
      const match = compileFilters<Row>(input.Filters, {
        'group-id': (x) => x.g.id,
        'security-group-rule-id': (x) => x.r.id,
      });
      const { page, nextToken } = paginate(rows.filter(match), input.MaxResults, input.NextToken);
      return { SecurityGroupRules: page.map((x) => toSecurityGroupRule(ctx, x.g, x.r)), NextToken: nextToken };
    },

    ModifySecurityGroupRules(ctx: Ctx, input: ModifySecurityGroupRulesRequest): ModifySecurityGroupRulesResult {
      const target = getGroup(ctx, input.GroupId!);
      const g = ctx.tx.edit<SecurityGroupDoc>(KIND.sg, ctx.scope, target.id)!;
      if (!input.SecurityGroupRules?.length) throw err.missing('SecurityGroupRule');
      for (const u of input.SecurityGroupRules) {
        if (!u.SecurityGroupRuleId) throw err.missing('SecurityGroupRule.SecurityGroupRuleId');
        const req = u.SecurityGroupRule;
        if (!req) throw err.missing('SecurityGroupRule.SecurityGroupRule');
        // AWS's checks, in its order (moto's AWS-verified test, getmoto/moto#8917): exactly one
        // target, the rule, then an explicit protocol, then the ports (rules.ts).
        const peers = [req.CidrIpv4, req.CidrIpv6, req.PrefixListId, req.ReferencedGroupId].filter((x) => x !== undefined).length;
        if (peers > 1) throw err.combination('Only one of cidrIp, cidrIpv6, prefixListId, or referencedGroupId can be specified');
        if (peers === 0)
          throw new ApiError(
            'MissingParameter',
            'The request must contain exactly one of: cidrIp, cidrIpv6, prefixListId, or referencedGroupId',
          );
        const i = g.rules.findIndex((r) => r.id === u.SecurityGroupRuleId);
        if (i < 0)
          throw new ApiError('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${u.SecurityGroupRuleId}' does not exist`);
        const old = g.rules[i]!;
        const perm: IpPermission = {
          IpProtocol: req.IpProtocol,
          FromPort: req.FromPort,
          ToPort: req.ToPort,
          ...(req.CidrIpv4 !== undefined ? { IpRanges: [{ CidrIp: req.CidrIpv4, Description: req.Description }] } : {}),
          ...(req.CidrIpv6 !== undefined ? { Ipv6Ranges: [{ CidrIpv6: req.CidrIpv6, Description: req.Description }] } : {}),
          ...(req.PrefixListId !== undefined ? { PrefixListIds: [{ PrefixListId: req.PrefixListId, Description: req.Description }] } : {}),
          ...(req.ReferencedGroupId !== undefined
            ? { UserIdGroupPairs: [{ GroupId: req.ReferencedGroupId, Description: req.Description }] }
            : {}),
        };
        const { spec } = parsePermissions(ctx, g, [perm], { egress: old.egress })[0]!;
        const k = ruleKey(spec);
        if (g.rules.some((r, j) => j !== i && ruleKey(r) === k))
          throw new ApiError('InvalidPermission.Duplicate', describeForDuplicate(spec));
        g.rules[i] = { id: old.id, ...spec, tags: old.tags };
      }
      checkQuota(ctx, g);
      return { Return: true };
    },

    UpdateSecurityGroupRuleDescriptionsIngress(
      ctx: Ctx,
      input: UpdateSecurityGroupRuleDescriptionsIngressRequest,
    ): UpdateSecurityGroupRuleDescriptionsIngressResult {
      return updateDescriptions(ctx, resolveTarget(ctx, input.GroupId, input.GroupName), input, false);
    },

    UpdateSecurityGroupRuleDescriptionsEgress(
      ctx: Ctx,
      input: UpdateSecurityGroupRuleDescriptionsEgressRequest,
    ): UpdateSecurityGroupRuleDescriptionsEgressResult {
      return updateDescriptions(ctx, resolveTarget(ctx, input.GroupId, input.GroupName), input, true);
    },

    DescribeSecurityGroupReferences(ctx: Ctx, input: DescribeSecurityGroupReferencesRequest): DescribeSecurityGroupReferencesResult {
      if (!input.GroupId?.length) throw err.missing('GroupId');
      for (const id of input.GroupId) getGroup(ctx, id);
      // Only groups in *other* VPCs (reached through VPC peering or a transit gateway) are
      // listed; Palisade has neither yet, so no such reference can exist.
      return { SecurityGroupReferenceSet: [] };
    },

    GetSecurityGroupsForVpc(ctx: Ctx, input: GetSecurityGroupsForVpcRequest): GetSecurityGroupsForVpcResult {
      const vpc = getVpc(ctx, input.VpcId);
      const groups = ctx.tx.all<SecurityGroupDoc>(KIND.sg, ctx.scope).filter((g) => g.vpcId === vpc.id);
      const match = compileFilters<SecurityGroupDoc>(input.Filters, {
        'group-id': (g) => g.id,
        description: (g) => g.description,
        'group-name': (g) => g.name,
        'owner-id': (g) => g.ownerId,
        'primary-vpc-id': (g) => g.vpcId,
      });
      const { page, nextToken } = paginate(groups.filter(match), input.MaxResults, input.NextToken);
      return {
        SecurityGroupForVpcs: page.map((g) => ({
          Description: g.description,
          GroupName: g.name,
          OwnerId: g.ownerId,
          GroupId: g.id,
          Tags: tagList(g.tags),
          PrimaryVpcId: g.vpcId,
        })),
        NextToken: nextToken,
      };
    },
  };
}

function updateDescriptions(
  ctx: Ctx,
  target: SecurityGroupDoc,
  input: UpdateSecurityGroupRuleDescriptionsIngressRequest | UpdateSecurityGroupRuleDescriptionsEgressRequest,
  egress: boolean,
): { Return: boolean } {
  const g = ctx.tx.edit<SecurityGroupDoc>(KIND.sg, ctx.scope, target.id)!;
  if (input.SecurityGroupRuleDescriptions?.length) {
    if (input.IpPermissions?.length)
      throw err.combination('The parameter ipPermissions cannot be used with the parameter securityGroupRuleDescription');
    for (const d of input.SecurityGroupRuleDescriptions) {
      const r = g.rules.find((x) => x.id === d.SecurityGroupRuleId && x.egress === egress);
      if (!r)
        throw new ApiError('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${d.SecurityGroupRuleId}' does not exist`);
      const desc = checkRuleDescription(d.Description);
      if (desc === undefined) delete r.description;
      else r.description = desc;
    }
    return { Return: true };
  }
  if (!input.IpPermissions?.length) throw err.missing('IpPermissions');
  for (const p of input.IpPermissions) {
    if (normalizeProtocol(p.IpProtocol) === '-1' && p.FromPort !== undefined && p.FromPort !== -1) {
      throw err.invalidValue('When protocol is ALL, you cannot specify from-port.');
    }
  }
  const specs = parsePermissions(ctx, g, input.IpPermissions, { egress, forRevoke: true });
  for (const { spec } of specs) {
    const k = ruleKey(spec);
    const r = g.rules.find((x) => ruleKey(x) === k);
    if (!r) throw new ApiError('InvalidPermission.NotFound', 'The specified rule does not exist in this security group.');
    if (spec.description === undefined) delete r.description;
    else r.description = spec.description;
  }
  return { Return: true };
}

// Rules are taggable through their own ids.
/** Tags of security group rules (they live inside their group's document). */
export function ruleTaggable(rules: RuleIndex): Taggable {
  return {
    prefix: 'sgr',
    resourceType: 'security-group-rule',
    notFound: (id) => notFoundError('sgr', id),
    getTags: (ctx, id) => rules.groupOf(ctx, id)?.rules.find((r) => r.id === id)?.tags,
    setTags: (ctx, id, tags) => {
      const g = ctx.tx.edit<SecurityGroupDoc>(KIND.sg, ctx.scope, rules.groupOf(ctx, id)!.id)!;
      g.rules.find((r) => r.id === id)!.tags = tags;
    },
    list: (ctx) => ctx.tx.all<SecurityGroupDoc>(KIND.sg, ctx.scope).flatMap((g) => g.rules.map((r) => ({ id: r.id, tags: r.tags }))),
  };
}
