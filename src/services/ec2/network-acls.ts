// Network ACLs: the default ACL of every VPC, custom ACLs, entries and associations. Entries are
// numbered 1–32766 per direction and evaluated lowest first; the `*` rules (32767 IPv4, 32768
// IPv6 when the VPC has an IPv6 block) deny what no entry matched and are not stored. Every
// subnet is associated with exactly one ACL of its VPC.
import type {
  CreateNetworkAclEntryRequest,
  CreateNetworkAclRequest,
  CreateNetworkAclResult,
  DeleteNetworkAclEntryRequest,
  DeleteNetworkAclRequest,
  DescribeNetworkAclsRequest,
  DescribeNetworkAclsResult,
  NetworkAcl,
  NetworkAclEntry,
  ReplaceNetworkAclAssociationRequest,
  ReplaceNetworkAclAssociationResult,
  ReplaceNetworkAclEntryRequest,
} from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { formatCidr, parseCidr } from '../../core/cidr.ts';
import { newId } from './ids.ts';
import { KIND, type AclEntryDoc, type NetworkAclDoc, type SubnetDoc, type VpcDoc } from '../../core/documents/ec2.ts';
import { compileFilters, tagList } from './filters.ts';
import { paginate } from './paging.ts';
import { tagsFromSpecs } from './tags.ts';
import { getNetworkAcl, getVpc, networkAclsOf } from './lookups.ts';
import { ensureRouting, newNetworkAcl } from './vpc-routing.ts';

/** Quotas (Amazon VPC quotas): ACLs per VPC; rules per ACL, per direction and family, the `*` rule included. */
const ACLS_PER_VPC = 200;
const RULES_PER_DIRECTION = 20;

// ---------------------------------------------------------------------------------------------
// Wire forms

function toEntry(e: AclEntryDoc): NetworkAclEntry {
  return {
    RuleNumber: e.ruleNumber,
    Protocol: e.protocol,
    RuleAction: e.action,
    Egress: e.egress,
    ...(e.cidr4 ? { CidrBlock: e.cidr4 } : {}),
    ...(e.cidr6 ? { Ipv6CidrBlock: e.cidr6 } : {}),
    ...(e.ports ? { PortRange: { From: e.ports.from, To: e.ports.to } } : {}),
    ...(e.icmp ? { IcmpTypeCode: { Type: e.icmp.type, Code: e.icmp.code } } : {}),
  };
}

/** The `*` rules: deny everything else, IPv4 always, IPv6 when the VPC has an IPv6 block. */
function starRules(ctx: Ctx, a: NetworkAclDoc): AclEntryDoc[] {
  const vpc = ctx.tx.get<VpcDoc>(KIND.vpc, ctx.scope, a.vpcId);
  const out: AclEntryDoc[] = [];
  for (const egress of [true, false]) {
    out.push({ ruleNumber: 32767, egress, protocol: '-1', action: 'deny', cidr4: '0.0.0.0/0' });
    if (vpc?.ipv6.length) out.push({ ruleNumber: 32768, egress, protocol: '-1', action: 'deny', cidr6: '::/0' });
  }
  return out;
}

/** Every entry as AWS lists them: egress first, each direction by rule number, the `*` rules last. */
export function entriesOf(ctx: Ctx, a: NetworkAclDoc): AclEntryDoc[] {
  return [...a.entries, ...starRules(ctx, a)].sort((x, y) => Number(y.egress) - Number(x.egress) || x.ruleNumber - y.ruleNumber);
}

function toNetworkAcl(ctx: Ctx, a: NetworkAclDoc): NetworkAcl {
  return {
    NetworkAclId: a.id,
    VpcId: a.vpcId,
    OwnerId: a.ownerId,
    IsDefault: a.isDefault,
    Entries: entriesOf(ctx, a).map(toEntry),
    Associations: a.associations.map((x) => ({ NetworkAclAssociationId: x.id, NetworkAclId: a.id, SubnetId: x.subnetId })),
    Tags: tagList(a.tags),
  };
}

// ---------------------------------------------------------------------------------------------
// Entries

const PROTOCOL_NAMES: Record<string, string> = { all: '-1', tcp: '6', udp: '17', icmp: '1', icmpv6: '58' };

function protocolOf(raw: string | undefined): string {
  if (raw === undefined || raw === '') throw err.missing('protocol');
  const p = raw.trim().toLowerCase();
  if (Object.hasOwn(PROTOCOL_NAMES, p)) return PROTOCOL_NAMES[p]!;
  if (/^-?\d+$/.test(p)) {
    const n = Number(p);
    if (n === -1) return '-1';
    if (n >= 0 && n <= 255) return String(n);
  }
  throw err.invalidValue(`Invalid value '${raw}' for IP protocol. Unknown protocol.`);
}

function ruleNumberOf(n: number | undefined): number {
  if (n === undefined) throw err.missing('ruleNumber');
  if (!Number.isInteger(n) || n < 1 || n > 32766) {
    throw err.invalidValue(`Value (${n}) for parameter ruleNumber is invalid. Rule number must be between 1 and 32766.`);
  }
  return n;
}

function egressOf(v: boolean | undefined): boolean {
  if (v === undefined) throw err.missing('egress');
  return v;
}

type EntryInput = CreateNetworkAclEntryRequest | ReplaceNetworkAclEntryRequest;

/** An entry as AWS validates it: protocol, action, exactly one CIDR, ports for TCP/UDP, type and code for ICMP. */
function entryOf(input: EntryInput): AclEntryDoc {
  const ruleNumber = ruleNumberOf(input.RuleNumber);
  const egress = egressOf(input.Egress);
  const protocol = protocolOf(input.Protocol);
  if (!input.RuleAction) throw err.missing('ruleAction');
  const action = String(input.RuleAction).toLowerCase();
  if (action !== 'allow' && action !== 'deny') throw err.invalidValue(`Value (${input.RuleAction}) for parameter ruleAction is invalid.`);
  const entry: AclEntryDoc = { ruleNumber, egress, protocol, action };
  if (input.CidrBlock && input.Ipv6CidrBlock)
    throw err.combination('The parameter cidrBlock cannot be used with the parameter ipv6CidrBlock');
  if (input.CidrBlock) {
    const c = parseCidr(input.CidrBlock.trim(), 4);
    if (!c) throw err.invalidValue(`Value (${input.CidrBlock}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`);
    entry.cidr4 = formatCidr(c);
  } else if (input.Ipv6CidrBlock) {
    const c = parseCidr(input.Ipv6CidrBlock.trim(), 6);
    if (!c)
      throw err.invalidValue(`Value (${input.Ipv6CidrBlock}) for parameter ipv6CidrBlock is invalid. This is not a valid IPv6 CIDR block.`);
    entry.cidr6 = formatCidr(c);
  } else {
    throw err.missing('cidrBlock or ipv6CidrBlock');
  }
  if (protocol === '6' || protocol === '17') {
    const from = input.PortRange?.From;
    const to = input.PortRange?.To;
    if (from === undefined || to === undefined) throw err.missing('portRange');
    if (from < 0 || from > 65535 || to < 0 || to > 65535 || from > to) {
      throw err.invalidValue(`Invalid value for portRange. Must specify a valid port range (${from}-${to}) between 0 and 65535.`);
    }
    entry.ports = { from, to };
  } else if (protocol === '1' || (protocol === '58' && entry.cidr6)) {
    const type = input.IcmpTypeCode?.Type;
    const code = input.IcmpTypeCode?.Code;
    if (type === undefined || code === undefined) throw err.missing('icmpTypeCode');
    if (type < -1 || type > 255) throw err.invalidValue(`ICMP type (${type}) out of range`);
    if (code < -1 || code > 255) throw err.invalidValue(`ICMP code (${code}) out of range`);
    entry.icmp = { type, code };
  }
  return entry;
}

const direction = (egress: boolean) => (egress ? 'egress' : 'ingress');

function entryIndex(a: NetworkAclDoc, egress: boolean, ruleNumber: number): number {
  const i = a.entries.findIndex((e) => e.egress === egress && e.ruleNumber === ruleNumber);
  if (i < 0) {
    throw new ApiError('InvalidNetworkAclEntry.NotFound', `no ${direction(egress)} entry with number ${ruleNumber} in network acl ${a.id}`);
  }
  return i;
}

function checkEntryQuota(a: NetworkAclDoc, entry: AclEntryDoc): void {
  const family = (e: AclEntryDoc) => (e.cidr6 ? 6 : 4);
  const same = a.entries.filter((e) => e.egress === entry.egress && family(e) === family(entry)).length;
  if (same + 1 + 1 > RULES_PER_DIRECTION) {
    throw new ApiError('NetworkAclEntryLimitExceeded', `The maximum number of network acl entries has been reached.`);
  }
}

// ---------------------------------------------------------------------------------------------
// Handlers

export const networkAclHandlers = {
  CreateNetworkAcl(ctx: Ctx, input: CreateNetworkAclRequest): CreateNetworkAclResult {
    ensureRouting(ctx);
    const vpc = getVpc(ctx, input.VpcId);
    if (networkAclsOf(ctx).filter((a) => a.vpcId === vpc.id).length >= ACLS_PER_VPC) {
      throw new ApiError('NetworkAclLimitExceeded', `The maximum number of network ACLs has been reached for VPC ${vpc.id}.`);
    }
    const tags = tagsFromSpecs(input.TagSpecifications, 'network-acl');
    const a = newNetworkAcl(ctx, vpc, false, tags);
    return { NetworkAcl: toNetworkAcl(ctx, a), ClientToken: input.ClientToken };
  },

  DeleteNetworkAcl(ctx: Ctx, input: DeleteNetworkAclRequest): Record<string, never> {
    ensureRouting(ctx);
    const a = getNetworkAcl(ctx, input.NetworkAclId);
    if (a.isDefault) throw err.invalidValue(`cannot delete default network ACL ${a.id}`);
    if (a.associations.length)
      throw new ApiError('DependencyViolation', `The networkAcl '${a.id}' has dependencies and cannot be deleted.`);
    ctx.tx.delete(KIND.networkAcl, ctx.scope, a.id);
    return {};
  },

  DescribeNetworkAcls(ctx: Ctx, input: DescribeNetworkAclsRequest): DescribeNetworkAclsResult {
    ensureRouting(ctx);
    let acls = networkAclsOf(ctx);
    if (input.NetworkAclIds?.length) {
      for (const id of input.NetworkAclIds) getNetworkAcl(ctx, id);
      acls = acls.filter((a) => input.NetworkAclIds!.includes(a.id));
    }
    const entries = new Map(acls.map((a) => [a.id, entriesOf(ctx, a)]));
    const of = (a: NetworkAclDoc) => entries.get(a.id) ?? [];
    const match = compileFilters<NetworkAclDoc>(input.Filters, {
      'network-acl-id': (a) => a.id,
      'vpc-id': (a) => a.vpcId,
      'owner-id': (a) => a.ownerId,
      default: (a) => a.isDefault,
      'association.association-id': (a) => a.associations.map((x) => x.id),
      'association.network-acl-id': (a) => (a.associations.length ? a.id : undefined),
      'association.subnet-id': (a) => a.associations.map((x) => x.subnetId),
      'entry.cidr': (a) => of(a).map((e) => e.cidr4),
      'entry.ipv6-cidr': (a) => of(a).map((e) => e.cidr6),
      'entry.egress': (a) => of(a).map((e) => e.egress),
      'entry.icmp.code': (a) => of(a).map((e) => e.icmp?.code),
      'entry.icmp.type': (a) => of(a).map((e) => e.icmp?.type),
      'entry.port-range.from': (a) => of(a).map((e) => e.ports?.from),
      'entry.port-range.to': (a) => of(a).map((e) => e.ports?.to),
      'entry.protocol': (a) => of(a).map((e) => e.protocol),
      'entry.rule-action': (a) => of(a).map((e) => e.action),
      'entry.rule-number': (a) => of(a).map((e) => e.ruleNumber),
    });
    const { page, nextToken } = paginate(acls.filter(match), input.MaxResults, input.NextToken, { min: 5, max: 100 });
    return { NetworkAcls: page.map((a) => toNetworkAcl(ctx, a)), NextToken: nextToken };
  },

  CreateNetworkAclEntry(ctx: Ctx, input: CreateNetworkAclEntryRequest): Record<string, never> {
    ensureRouting(ctx);
    const a = getNetworkAcl(ctx, input.NetworkAclId);
    const entry = entryOf(input);
    if (a.entries.some((e) => e.egress === entry.egress && e.ruleNumber === entry.ruleNumber)) {
      throw new ApiError('NetworkAclEntryAlreadyExists', `The network acl entry identified by ${entry.ruleNumber} already exists.`);
    }
    checkEntryQuota(a, entry);
    ctx.tx.edit<NetworkAclDoc>(KIND.networkAcl, ctx.scope, a.id)!.entries.push(entry);
    return {};
  },

  ReplaceNetworkAclEntry(ctx: Ctx, input: ReplaceNetworkAclEntryRequest): Record<string, never> {
    ensureRouting(ctx);
    const a = getNetworkAcl(ctx, input.NetworkAclId);
    const entry = entryOf(input);
    const i = entryIndex(a, entry.egress, entry.ruleNumber);
    ctx.tx.edit<NetworkAclDoc>(KIND.networkAcl, ctx.scope, a.id)!.entries[i] = entry;
    return {};
  },

  DeleteNetworkAclEntry(ctx: Ctx, input: DeleteNetworkAclEntryRequest): Record<string, never> {
    ensureRouting(ctx);
    const a = getNetworkAcl(ctx, input.NetworkAclId);
    const i = entryIndex(a, egressOf(input.Egress), ruleNumberOf(input.RuleNumber));
    ctx.tx.edit<NetworkAclDoc>(KIND.networkAcl, ctx.scope, a.id)!.entries.splice(i, 1);
    return {};
  },

  ReplaceNetworkAclAssociation(ctx: Ctx, input: ReplaceNetworkAclAssociationRequest): ReplaceNetworkAclAssociationResult {
    ensureRouting(ctx);
    if (!input.AssociationId) throw err.missing('AssociationId');
    const to = getNetworkAcl(ctx, input.NetworkAclId);
    const from = networkAclsOf(ctx).find((a) => a.associations.some((x) => x.id === input.AssociationId));
    if (!from) throw new ApiError('InvalidAssociationID.NotFound', `The association ID '${input.AssociationId}' does not exist`);
    const association = from.associations.find((x) => x.id === input.AssociationId)!;
    const subnet = ctx.tx.get<SubnetDoc>(KIND.subnet, ctx.scope, association.subnetId);
    if (to.vpcId !== from.vpcId) {
      throw err.invalidValue(`Network ACL ${to.id} and subnet ${subnet?.id ?? association.subnetId} belong to different networks`);
    }
    const src = ctx.tx.edit<NetworkAclDoc>(KIND.networkAcl, ctx.scope, from.id)!;
    src.associations = src.associations.filter((x) => x.id !== association.id);
    const moved = { id: newId('aclassoc'), subnetId: association.subnetId };
    ctx.tx.edit<NetworkAclDoc>(KIND.networkAcl, ctx.scope, to.id)!.associations.push(moved);
    return { NewAssociationId: moved.id };
  },
};
