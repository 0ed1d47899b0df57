// Offline import: the JSON the aws CLI prints for describe-security-groups, -network-interfaces,
// -instances, -vpcs, -subnets, -managed-prefix-lists (+ get-managed-prefix-list-entries),
// optionally -security-group-rules, the routing (-route-tables, -network-acls,
// -internet-gateways, -egress-only-internet-gateways, -nat-gateways, -vpc-peering-connections) and IAM
// get-account-authorization-details, read into one
// Snapshot and saved as one state file. Files are recognised by name (the call without its verb:
// security-groups.json) or by their top-level key (SecurityGroups, Reservations, …). Everything is
// validated before anything is returned: errors name the file and the field, and nothing
// half-loaded is ever used.
import { readdir, readFile, stat, writeFile, rename } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type {
  EgressOnlyInternetGateway,
  Instance,
  InternetGateway,
  NatGateway,
  NetworkAcl,
  NetworkInterface,
  PrefixListEntry,
  RouteTable,
  SecurityGroup,
  SecurityGroupRule,
  Subnet,
  Vpc,
  VpcPeeringConnection,
} from '@aws-sdk/client-ec2';
import { emptySnapshot, type IamPolicyDetail, type IamRoleDetail, type Snapshot } from './snapshot.ts';
import { EXPORT_KINDS, type AuditSnapshot, type ExportKind, type SourceRef } from './findings/estate.ts';
import { parseDocument } from './findings/iam.ts';
import { addressToBigInt, parseCidr } from '../core/cidr.ts';

const STATE_MARKER = 'palisade-snapshot';
const STATE_VERSION = 1;
const MAX_ERRORS = 25;

export class ImportError extends Error {
  constructor(readonly problems: string[]) {
    super(
      problems.length > MAX_ERRORS
        ? [...problems.slice(0, MAX_ERRORS), `… and ${problems.length - MAX_ERRORS} more problems`].join('\n')
        : problems.join('\n'),
    );
  }
}

interface ImportOptions {
  /** progress over the bytes read and checked */
  onProgress?: (done: number, total: number, label: string) => void;
}

// ---- the kinds of export ---------------------------------------------------------------

type Top =
  | 'SecurityGroups'
  | 'SecurityGroupRules'
  | 'NetworkInterfaces'
  | 'Reservations'
  | 'Vpcs'
  | 'Subnets'
  | 'PrefixLists'
  | 'Entries'
  | 'RoleDetailList'
  | 'RouteTables'
  | 'NetworkAcls'
  | 'InternetGateways'
  | 'EgressOnlyInternetGateways'
  | 'NatGateways'
  | 'VpcPeeringConnections';

/** The kinds an import reads: the audit's export kinds, and the routing only reach reads. */
type ImportKind = ExportKind | 'egressOnlyInternetGateways';

interface KindDef {
  top: Top;
  kind: ImportKind;
  names: string[];
  call: string;
  idKey: string;
}

const KINDS: KindDef[] = [
  { top: 'SecurityGroups', kind: 'securityGroups', names: ['security-groups'], call: 'aws ec2 describe-security-groups', idKey: 'GroupId' },
  {
    top: 'SecurityGroupRules',
    kind: 'securityGroupRules',
    names: ['security-group-rules'],
    call: 'aws ec2 describe-security-group-rules',
    idKey: 'SecurityGroupRuleId',
  },
  {
    top: 'NetworkInterfaces',
    kind: 'networkInterfaces',
    names: ['network-interfaces'],
    call: 'aws ec2 describe-network-interfaces',
    idKey: 'NetworkInterfaceId',
  },
  { top: 'Reservations', kind: 'instances', names: ['instances'], call: 'aws ec2 describe-instances', idKey: 'InstanceId' },
  { top: 'Vpcs', kind: 'vpcs', names: ['vpcs'], call: 'aws ec2 describe-vpcs', idKey: 'VpcId' },
  { top: 'Subnets', kind: 'subnets', names: ['subnets'], call: 'aws ec2 describe-subnets', idKey: 'SubnetId' },
  {
    top: 'PrefixLists',
    kind: 'prefixLists',
    names: ['managed-prefix-lists', 'prefix-lists'],
    call: 'aws ec2 describe-managed-prefix-lists',
    idKey: 'PrefixListId',
  },
  {
    top: 'Entries',
    kind: 'prefixLists',
    names: ['managed-prefix-list-entries', 'prefix-list-entries'],
    call: 'aws ec2 get-managed-prefix-list-entries',
    idKey: 'Cidr',
  },
  {
    top: 'RoleDetailList',
    kind: 'iam',
    names: ['account-authorization-details', 'iam'],
    call: 'aws iam get-account-authorization-details',
    idKey: 'Arn',
  },
  { top: 'RouteTables', kind: 'routeTables', names: ['route-tables'], call: 'aws ec2 describe-route-tables', idKey: 'RouteTableId' },
  { top: 'NetworkAcls', kind: 'networkAcls', names: ['network-acls'], call: 'aws ec2 describe-network-acls', idKey: 'NetworkAclId' },
  {
    top: 'InternetGateways',
    kind: 'internetGateways',
    names: ['internet-gateways'],
    call: 'aws ec2 describe-internet-gateways',
    idKey: 'InternetGatewayId',
  },
  {
    top: 'EgressOnlyInternetGateways',
    kind: 'egressOnlyInternetGateways',
    names: ['egress-only-internet-gateways'],
    call: 'aws ec2 describe-egress-only-internet-gateways',
    idKey: 'EgressOnlyInternetGatewayId',
  },
  { top: 'NatGateways', kind: 'natGateways', names: ['nat-gateways'], call: 'aws ec2 describe-nat-gateways', idKey: 'NatGatewayId' },
  {
    top: 'VpcPeeringConnections',
    kind: 'vpcPeeringConnections',
    names: ['vpc-peering-connections'],
    call: 'aws ec2 describe-vpc-peering-connections',
    idKey: 'VpcPeeringConnectionId',
  },
];

function kindByName(file: string): KindDef | undefined {
  const stem = basename(file)
    .replace(/\.json$/i, '')
    .toLowerCase()
    .replace(/^(?:describe|get)-/, '');
  const dir = basename(dirname(file)).toLowerCase();
  // prefix-list-entries/pl-123.json, pl-123.json, prefix-list-entries-pl-123.json
  if (/pl-[0-9a-z]+/.test(stem) && (stem.startsWith('pl-') || stem.includes('entries') || dir.includes('entries')))
    return KINDS.find((k) => k.top === 'Entries');
  // security-groups.json, also paged: security-groups-2.json
  return KINDS.find((k) => k.names.some((n) => stem === n || stem.replace(/[-_.]?\d+$/, '') === n));
}

function kindByContent(v: Record<string, unknown>): KindDef | undefined {
  return KINDS.find((k) => k.top in v) ?? (Array.isArray(v.Instances) ? KINDS.find((k) => k.top === 'Reservations') : undefined);
}

// ---- validation ---------------------------------------------------------------------------

/** Field checks that collect every problem as `file: path: message`. */
class Check {
  constructor(
    readonly file: string,
    readonly errors: string[],
  ) {}
  fail(path: string, msg: string): void {
    this.errors.push(`${this.file}: ${path}: ${msg}`);
  }
  obj(v: unknown, path: string): v is Record<string, unknown> {
    if (v && typeof v === 'object' && !Array.isArray(v)) return true;
    this.fail(path, v === undefined ? 'missing' : `must be an object, got ${typeName(v)}`);
    return false;
  }
  arr(o: Record<string, unknown>, key: string, path: string, required = false): unknown[] {
    const v = o[key];
    if (v === undefined || v === null) {
      if (required) this.fail(`${path}${key}`, 'missing');
      return [];
    }
    if (!Array.isArray(v)) {
      this.fail(`${path}${key}`, `must be an array, got ${typeName(v)}`);
      return [];
    }
    return v;
  }
  str(
    o: Record<string, unknown>,
    key: string,
    path: string,
    opts: { required?: boolean; prefix?: string; test?: (s: string) => string | undefined } = {},
  ): string | undefined {
    const v = o[key];
    if (v === undefined || v === null) {
      if (opts.required) this.fail(`${path}${key}`, 'missing');
      return undefined;
    }
    if (typeof v !== 'string') {
      this.fail(`${path}${key}`, `must be a string, got ${typeName(v)}`);
      return undefined;
    }
    if (opts.prefix && !v.startsWith(opts.prefix)) {
      this.fail(`${path}${key}`, `${JSON.stringify(v)} is not an id of the form ${opts.prefix}…`);
      return undefined;
    }
    const bad = opts.test?.(v);
    if (bad) {
      this.fail(`${path}${key}`, bad);
      return undefined;
    }
    return v;
  }
  int(o: Record<string, unknown>, key: string, path: string, required = false): void {
    const v = o[key];
    if (v === undefined || v === null) {
      if (required) this.fail(`${path}${key}`, 'missing');
    } else if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(`${path}${key}`, `must be an integer, got ${typeName(v)}`);
  }
  bool(o: Record<string, unknown>, key: string, path: string, required = false): void {
    const v = o[key];
    if (v === undefined || v === null) {
      if (required) this.fail(`${path}${key}`, 'missing');
    } else if (typeof v !== 'boolean') this.fail(`${path}${key}`, `must be true or false, got ${typeName(v)}`);
  }
  tags(o: Record<string, unknown>, key: string, path: string): void {
    this.arr(o, key, path).forEach((t, i) => {
      const p = `${path}${key}[${i}]`;
      if (this.obj(t, p)) {
        this.str(t, 'Key', `${p}.`, { required: true });
        this.str(t, 'Value', `${p}.`);
      }
    });
  }
}

function typeName(v: unknown): string {
  return v === null
    ? 'null'
    : Array.isArray(v)
      ? 'an array'
      : typeof v === 'object'
        ? 'an object'
        : `${typeof v} ${JSON.stringify(v)}`.slice(0, 60);
}

// Dotted quads are checked here directly (an export has tens of thousands); anything else goes
// through the full parser.
const QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/;
function quad(s: string, wantPrefix: boolean): boolean | undefined {
  const m = QUAD.exec(s);
  if (!m) return undefined;
  if (wantPrefix !== (m[5] !== undefined)) return false;
  for (let i = 1; i <= 4; i++) if (Number(m[i]) > 255 || (m[i]!.length > 1 && m[i]![0] === '0')) return false;
  return !wantPrefix || Number(m[5]) <= 32;
}
const isCidr = (s: string, family?: 4 | 6) => (family !== 6 ? quad(s, true) : undefined) ?? !!parseCidr(s, family);
const cidr = (family: 4 | 6) => (s: string) => (isCidr(s, family) ? undefined : `${JSON.stringify(s)} is not an IPv${family} CIDR block`);
const anyCidr = (s: string) => (isCidr(s) ? undefined : `${JSON.stringify(s)} is not a CIDR block`);
const address = (s: string) => ((quad(s, false) ?? !!addressToBigInt(s)) ? undefined : `${JSON.stringify(s)} is not an IP address`);

function checkPermission(c: Check, p: unknown, path: string): void {
  if (!c.obj(p, path)) return;
  c.str(p, 'IpProtocol', `${path}.`, { required: true });
  c.int(p, 'FromPort', `${path}.`);
  c.int(p, 'ToPort', `${path}.`);
  c.arr(p, 'IpRanges', `${path}.`).forEach((r, i) => {
    if (c.obj(r, `${path}.IpRanges[${i}]`)) c.str(r, 'CidrIp', `${path}.IpRanges[${i}].`, { required: true, test: cidr(4) });
  });
  c.arr(p, 'Ipv6Ranges', `${path}.`).forEach((r, i) => {
    if (c.obj(r, `${path}.Ipv6Ranges[${i}]`)) c.str(r, 'CidrIpv6', `${path}.Ipv6Ranges[${i}].`, { required: true, test: cidr(6) });
  });
  c.arr(p, 'PrefixListIds', `${path}.`).forEach((r, i) => {
    if (c.obj(r, `${path}.PrefixListIds[${i}]`))
      c.str(r, 'PrefixListId', `${path}.PrefixListIds[${i}].`, { required: true, prefix: 'pl-' });
  });
  c.arr(p, 'UserIdGroupPairs', `${path}.`).forEach((r, i) => {
    if (c.obj(r, `${path}.UserIdGroupPairs[${i}]`))
      c.str(r, 'GroupId', `${path}.UserIdGroupPairs[${i}].`, { required: true, prefix: 'sg-' });
  });
}

function checkGroup(c: Check, g: unknown, path: string): void {
  if (!c.obj(g, path)) return;
  c.str(g, 'GroupId', `${path}.`, { required: true, prefix: 'sg-' });
  c.str(g, 'GroupName', `${path}.`, { required: true });
  c.str(g, 'Description', `${path}.`);
  c.str(g, 'VpcId', `${path}.`, { prefix: 'vpc-' });
  c.str(g, 'OwnerId', `${path}.`);
  c.arr(g, 'IpPermissions', `${path}.`).forEach((p, i) => checkPermission(c, p, `${path}.IpPermissions[${i}]`));
  c.arr(g, 'IpPermissionsEgress', `${path}.`).forEach((p, i) => checkPermission(c, p, `${path}.IpPermissionsEgress[${i}]`));
  c.tags(g, 'Tags', `${path}.`);
}

function checkGroupRule(c: Check, r: unknown, path: string): void {
  if (!c.obj(r, path)) return;
  c.str(r, 'SecurityGroupRuleId', `${path}.`, { required: true, prefix: 'sgr-' });
  c.str(r, 'GroupId', `${path}.`, { required: true, prefix: 'sg-' });
  c.bool(r, 'IsEgress', `${path}.`, true);
  c.str(r, 'IpProtocol', `${path}.`, { required: true });
  c.int(r, 'FromPort', `${path}.`);
  c.int(r, 'ToPort', `${path}.`);
  c.str(r, 'CidrIpv4', `${path}.`, { test: cidr(4) });
  c.str(r, 'CidrIpv6', `${path}.`, { test: cidr(6) });
  c.str(r, 'PrefixListId', `${path}.`, { prefix: 'pl-' });
  if (r.ReferencedGroupInfo !== undefined && c.obj(r.ReferencedGroupInfo, `${path}.ReferencedGroupInfo`))
    c.str(r.ReferencedGroupInfo, 'GroupId', `${path}.ReferencedGroupInfo.`, { required: true, prefix: 'sg-' });
  c.tags(r, 'Tags', `${path}.`);
}

function checkInterface(c: Check, n: unknown, path: string, inInstance = false): void {
  if (!c.obj(n, path)) return;
  c.str(n, 'NetworkInterfaceId', `${path}.`, { required: true, prefix: 'eni-' });
  c.str(n, 'VpcId', `${path}.`, { required: !inInstance, prefix: 'vpc-' });
  c.str(n, 'SubnetId', `${path}.`, { prefix: 'subnet-' });
  c.str(n, 'PrivateIpAddress', `${path}.`, { test: address });
  c.arr(n, 'Groups', `${path}.`).forEach((g, i) => {
    if (c.obj(g, `${path}.Groups[${i}]`)) c.str(g, 'GroupId', `${path}.Groups[${i}].`, { required: true, prefix: 'sg-' });
  });
  c.arr(n, 'PrivateIpAddresses', `${path}.`).forEach((a, i) => {
    if (c.obj(a, `${path}.PrivateIpAddresses[${i}]`))
      c.str(a, 'PrivateIpAddress', `${path}.PrivateIpAddresses[${i}].`, { required: true, test: address });
  });
  c.arr(n, 'Ipv6Addresses', `${path}.`).forEach((a, i) => {
    if (c.obj(a, `${path}.Ipv6Addresses[${i}]`)) c.str(a, 'Ipv6Address', `${path}.Ipv6Addresses[${i}].`, { required: true, test: address });
  });
  if (n.Association !== undefined && c.obj(n.Association, `${path}.Association`))
    c.str(n.Association, 'PublicIp', `${path}.Association.`, { test: address });
  if (n.Attachment !== undefined && c.obj(n.Attachment, `${path}.Attachment`))
    c.str(n.Attachment, 'InstanceId', `${path}.Attachment.`, { prefix: 'i-' });
  c.tags(n, 'TagSet', `${path}.`);
}

function checkInstance(c: Check, i: unknown, path: string): void {
  if (!c.obj(i, path)) return;
  c.str(i, 'InstanceId', `${path}.`, { required: true, prefix: 'i-' });
  c.str(i, 'VpcId', `${path}.`, { prefix: 'vpc-' });
  if (i.State !== undefined && c.obj(i.State, `${path}.State`)) c.str(i.State, 'Name', `${path}.State.`);
  if (i.MetadataOptions !== undefined && c.obj(i.MetadataOptions, `${path}.MetadataOptions`)) {
    c.str(i.MetadataOptions, 'HttpTokens', `${path}.MetadataOptions.`, {
      test: (s) => (['optional', 'required'].includes(s) ? undefined : `${JSON.stringify(s)} is not optional or required`),
    });
    c.str(i.MetadataOptions, 'HttpEndpoint', `${path}.MetadataOptions.`);
  }
  if (i.IamInstanceProfile !== undefined && c.obj(i.IamInstanceProfile, `${path}.IamInstanceProfile`))
    c.str(i.IamInstanceProfile, 'Arn', `${path}.IamInstanceProfile.`, { required: true, prefix: 'arn:' });
  c.arr(i, 'NetworkInterfaces', `${path}.`).forEach((n, k) => checkInterface(c, n, `${path}.NetworkInterfaces[${k}]`, true));
  c.arr(i, 'SecurityGroups', `${path}.`).forEach((g, k) => {
    if (c.obj(g, `${path}.SecurityGroups[${k}]`)) c.str(g, 'GroupId', `${path}.SecurityGroups[${k}].`, { required: true, prefix: 'sg-' });
  });
  c.tags(i, 'Tags', `${path}.`);
}

function checkVpc(c: Check, v: unknown, path: string): void {
  if (!c.obj(v, path)) return;
  c.str(v, 'VpcId', `${path}.`, { required: true, prefix: 'vpc-' });
  c.str(v, 'CidrBlock', `${path}.`, { test: cidr(4) });
  c.tags(v, 'Tags', `${path}.`);
}

function checkSubnet(c: Check, s: unknown, path: string): void {
  if (!c.obj(s, path)) return;
  c.str(s, 'SubnetId', `${path}.`, { required: true, prefix: 'subnet-' });
  c.str(s, 'VpcId', `${path}.`, { required: true, prefix: 'vpc-' });
  c.str(s, 'CidrBlock', `${path}.`, { test: cidr(4) });
  c.tags(s, 'Tags', `${path}.`);
}

function checkEntry(c: Check, e: unknown, path: string): void {
  if (c.obj(e, path)) c.str(e, 'Cidr', `${path}.`, { required: true, test: anyCidr });
}

function checkPrefixList(c: Check, p: unknown, path: string): void {
  if (!c.obj(p, path)) return;
  c.str(p, 'PrefixListId', `${path}.`, { required: true, prefix: 'pl-' });
  c.int(p, 'MaxEntries', `${path}.`);
  c.arr(p, 'Entries', `${path}.`).forEach((e, i) => checkEntry(c, e, `${path}.Entries[${i}]`));
  c.arr(p, 'Cidrs', `${path}.`).forEach((e, i) => {
    if (typeof e !== 'string' || anyCidr(e)) c.fail(`${path}.Cidrs[${i}]`, `${JSON.stringify(e)} is not a CIDR block`);
  });
}

// ---- routing ----

const oneOf = (values: string[]) => (s: string) =>
  values.includes(s) ? undefined : `${JSON.stringify(s)} is not one of ${values.join(', ')}`;

/** A route's destination (exactly one) and its target ids, as describe-route-tables prints them. */
function checkRoute(c: Check, r: unknown, path: string): void {
  if (!c.obj(r, path)) return;
  const p = `${path}.`;
  const given = ['DestinationCidrBlock', 'DestinationIpv6CidrBlock', 'DestinationPrefixListId'].filter(
    (k) => r[k] !== undefined && r[k] !== null,
  );
  if (given.length !== 1) c.fail(path, 'must have exactly one of DestinationCidrBlock, DestinationIpv6CidrBlock, DestinationPrefixListId');
  c.str(r, 'DestinationCidrBlock', p, { test: cidr(4) });
  c.str(r, 'DestinationIpv6CidrBlock', p, { test: cidr(6) });
  c.str(r, 'DestinationPrefixListId', p, { prefix: 'pl-' });
  c.str(r, 'GatewayId', p);
  c.str(r, 'EgressOnlyInternetGatewayId', p, { prefix: 'eigw-' });
  c.str(r, 'NatGatewayId', p, { prefix: 'nat-' });
  c.str(r, 'NetworkInterfaceId', p, { prefix: 'eni-' });
  c.str(r, 'InstanceId', p, { prefix: 'i-' });
  c.str(r, 'VpcPeeringConnectionId', p, { prefix: 'pcx-' });
  c.str(r, 'TransitGatewayId', p, { prefix: 'tgw-' });
  c.str(r, 'State', p, { test: oneOf(['active', 'blackhole']) });
}

function checkRouteTable(c: Check, t: unknown, path: string): void {
  if (!c.obj(t, path)) return;
  c.str(t, 'RouteTableId', `${path}.`, { required: true, prefix: 'rtb-' });
  c.str(t, 'VpcId', `${path}.`, { required: true, prefix: 'vpc-' });
  c.arr(t, 'Routes', `${path}.`).forEach((r, i) => checkRoute(c, r, `${path}.Routes[${i}]`));
  c.arr(t, 'Associations', `${path}.`).forEach((a, i) => {
    const q = `${path}.Associations[${i}]`;
    if (!c.obj(a, q)) return;
    c.str(a, 'RouteTableAssociationId', `${q}.`, { required: true, prefix: 'rtbassoc-' });
    c.bool(a, 'Main', `${q}.`);
    c.str(a, 'SubnetId', `${q}.`, { prefix: 'subnet-' });
    c.str(a, 'GatewayId', `${q}.`);
  });
  c.tags(t, 'Tags', `${path}.`);
}

function checkAclEntry(c: Check, e: unknown, path: string): void {
  if (!c.obj(e, path)) return;
  const p = `${path}.`;
  c.int(e, 'RuleNumber', p, true);
  c.bool(e, 'Egress', p, true);
  c.str(e, 'Protocol', p, { required: true });
  c.str(e, 'RuleAction', p, { required: true, test: oneOf(['allow', 'deny']) });
  c.str(e, 'CidrBlock', p, { test: cidr(4) });
  c.str(e, 'Ipv6CidrBlock', p, { test: cidr(6) });
  if (e.CidrBlock === undefined && e.Ipv6CidrBlock === undefined) c.fail(path, 'must have a CidrBlock or an Ipv6CidrBlock');
  if (e.PortRange !== undefined && c.obj(e.PortRange, `${path}.PortRange`)) {
    c.int(e.PortRange, 'From', `${path}.PortRange.`);
    c.int(e.PortRange, 'To', `${path}.PortRange.`);
  }
  if (e.IcmpTypeCode !== undefined && c.obj(e.IcmpTypeCode, `${path}.IcmpTypeCode`)) {
    c.int(e.IcmpTypeCode, 'Type', `${path}.IcmpTypeCode.`);
    c.int(e.IcmpTypeCode, 'Code', `${path}.IcmpTypeCode.`);
  }
}

function checkNetworkAcl(c: Check, a: unknown, path: string): void {
  if (!c.obj(a, path)) return;
  c.str(a, 'NetworkAclId', `${path}.`, { required: true, prefix: 'acl-' });
  c.str(a, 'VpcId', `${path}.`, { required: true, prefix: 'vpc-' });
  c.bool(a, 'IsDefault', `${path}.`);
  c.arr(a, 'Entries', `${path}.`).forEach((e, i) => checkAclEntry(c, e, `${path}.Entries[${i}]`));
  c.arr(a, 'Associations', `${path}.`).forEach((x, i) => {
    const q = `${path}.Associations[${i}]`;
    if (!c.obj(x, q)) return;
    c.str(x, 'NetworkAclAssociationId', `${q}.`, { prefix: 'aclassoc-' });
    c.str(x, 'SubnetId', `${q}.`, { required: true, prefix: 'subnet-' });
  });
  c.tags(a, 'Tags', `${path}.`);
}

function checkInternetGateway(c: Check, g: unknown, path: string): void {
  if (!c.obj(g, path)) return;
  c.str(g, 'InternetGatewayId', `${path}.`, { required: true, prefix: 'igw-' });
  c.arr(g, 'Attachments', `${path}.`).forEach((a, i) => {
    const q = `${path}.Attachments[${i}]`;
    if (!c.obj(a, q)) return;
    c.str(a, 'VpcId', `${q}.`, { required: true, prefix: 'vpc-' });
    c.str(a, 'State', `${q}.`);
  });
  c.tags(g, 'Tags', `${path}.`);
}

function checkEgressOnlyInternetGateway(c: Check, g: unknown, path: string): void {
  if (!c.obj(g, path)) return;
  c.str(g, 'EgressOnlyInternetGatewayId', `${path}.`, { required: true, prefix: 'eigw-' });
  c.arr(g, 'Attachments', `${path}.`).forEach((a, i) => {
    const q = `${path}.Attachments[${i}]`;
    if (!c.obj(a, q)) return;
    c.str(a, 'VpcId', `${q}.`, { required: true, prefix: 'vpc-' });
    c.str(a, 'State', `${q}.`);
  });
  c.tags(g, 'Tags', `${path}.`);
}

function checkNatGateway(c: Check, n: unknown, path: string): void {
  if (!c.obj(n, path)) return;
  c.str(n, 'NatGatewayId', `${path}.`, { required: true, prefix: 'nat-' });
  c.str(n, 'VpcId', `${path}.`, { prefix: 'vpc-' });
  c.str(n, 'SubnetId', `${path}.`, { prefix: 'subnet-' });
  c.str(n, 'State', `${path}.`);
  c.str(n, 'ConnectivityType', `${path}.`, { test: oneOf(['public', 'private']) });
  c.arr(n, 'NatGatewayAddresses', `${path}.`).forEach((a, i) => {
    const q = `${path}.NatGatewayAddresses[${i}]`;
    if (!c.obj(a, q)) return;
    c.str(a, 'PublicIp', `${q}.`, { test: address });
    c.str(a, 'PrivateIp', `${q}.`, { test: address });
    c.str(a, 'NetworkInterfaceId', `${q}.`, { prefix: 'eni-' });
    c.str(a, 'AllocationId', `${q}.`, { prefix: 'eipalloc-' });
  });
  c.tags(n, 'Tags', `${path}.`);
}

function checkPeeringSide(c: Check, o: Record<string, unknown>, key: string, path: string): void {
  const v = o[key];
  if (v === undefined || v === null) return;
  const q = `${path}${key}`;
  if (!c.obj(v, q)) return;
  c.str(v, 'VpcId', `${q}.`, { prefix: 'vpc-' });
  c.str(v, 'OwnerId', `${q}.`);
  c.str(v, 'Region', `${q}.`);
  c.str(v, 'CidrBlock', `${q}.`, { test: cidr(4) });
  c.arr(v, 'CidrBlockSet', `${q}.`).forEach((x, i) => {
    if (c.obj(x, `${q}.CidrBlockSet[${i}]`)) c.str(x, 'CidrBlock', `${q}.CidrBlockSet[${i}].`, { required: true, test: cidr(4) });
  });
  c.arr(v, 'Ipv6CidrBlockSet', `${q}.`).forEach((x, i) => {
    if (c.obj(x, `${q}.Ipv6CidrBlockSet[${i}]`))
      c.str(x, 'Ipv6CidrBlock', `${q}.Ipv6CidrBlockSet[${i}].`, { required: true, test: cidr(6) });
  });
}

function checkPeering(c: Check, p: unknown, path: string): void {
  if (!c.obj(p, path)) return;
  c.str(p, 'VpcPeeringConnectionId', `${path}.`, { required: true, prefix: 'pcx-' });
  if (p.Status !== undefined && c.obj(p.Status, `${path}.Status`)) c.str(p.Status, 'Code', `${path}.Status.`, { required: true });
  checkPeeringSide(c, p, 'RequesterVpcInfo', `${path}.`);
  checkPeeringSide(c, p, 'AccepterVpcInfo', `${path}.`);
  c.tags(p, 'Tags', `${path}.`);
}

/** The routing exports: each a list under its top-level key, of resources with an id. */
const ROUTING: {
  top: 'RouteTables' | 'NetworkAcls' | 'InternetGateways' | 'EgressOnlyInternetGateways' | 'NatGateways' | 'VpcPeeringConnections';
  key: 'routeTables' | 'networkAcls' | 'internetGateways' | 'egressOnlyInternetGateways' | 'natGateways' | 'vpcPeeringConnections';
  id: string;
  check: (c: Check, v: unknown, path: string) => void;
}[] = [
  { top: 'RouteTables', key: 'routeTables', id: 'RouteTableId', check: checkRouteTable },
  { top: 'NetworkAcls', key: 'networkAcls', id: 'NetworkAclId', check: checkNetworkAcl },
  { top: 'InternetGateways', key: 'internetGateways', id: 'InternetGatewayId', check: checkInternetGateway },
  {
    top: 'EgressOnlyInternetGateways',
    key: 'egressOnlyInternetGateways',
    id: 'EgressOnlyInternetGatewayId',
    check: checkEgressOnlyInternetGateway,
  },
  { top: 'NatGateways', key: 'natGateways', id: 'NatGatewayId', check: checkNatGateway },
  { top: 'VpcPeeringConnections', key: 'vpcPeeringConnections', id: 'VpcPeeringConnectionId', check: checkPeering },
];

type RoutingResource = RouteTable | NetworkAcl | InternetGateway | EgressOnlyInternetGateway | NatGateway | VpcPeeringConnection;

function checkPolicyDocument(c: Check, o: Record<string, unknown>, key: string, path: string, required: boolean): void {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) c.fail(`${path}${key}`, 'missing');
    return;
  }
  if ((typeof v !== 'string' && typeof v !== 'object') || !parseDocument(v as string | object))
    c.fail(`${path}${key}`, 'is not a policy document (a JSON object, or JSON text, possibly URL-encoded)');
}

function checkRole(c: Check, r: unknown, path: string): void {
  if (!c.obj(r, path)) return;
  c.str(r, 'RoleName', `${path}.`, { required: true });
  c.str(r, 'Arn', `${path}.`, { required: true, prefix: 'arn:' });
  c.arr(r, 'RolePolicyList', `${path}.`).forEach((p, i) => {
    const q = `${path}.RolePolicyList[${i}]`;
    if (!c.obj(p, q)) return;
    c.str(p, 'PolicyName', `${q}.`, { required: true });
    checkPolicyDocument(c, p, 'PolicyDocument', `${q}.`, true);
  });
  c.arr(r, 'AttachedManagedPolicies', `${path}.`).forEach((p, i) => {
    if (c.obj(p, `${path}.AttachedManagedPolicies[${i}]`))
      c.str(p, 'PolicyArn', `${path}.AttachedManagedPolicies[${i}].`, { required: true, prefix: 'arn:' });
  });
  c.arr(r, 'InstanceProfileList', `${path}.`).forEach((p, i) => {
    const q = `${path}.InstanceProfileList[${i}]`;
    if (!c.obj(p, q)) return;
    c.str(p, 'InstanceProfileName', `${q}.`, { required: true });
    c.str(p, 'Arn', `${q}.`, { required: true, prefix: 'arn:' });
  });
  c.tags(r, 'Tags', `${path}.`);
}

function checkManagedPolicy(c: Check, p: unknown, path: string): void {
  if (!c.obj(p, path)) return;
  c.str(p, 'Arn', `${path}.`, { required: true, prefix: 'arn:' });
  c.str(p, 'PolicyName', `${path}.`, { required: true });
  c.arr(p, 'PolicyVersionList', `${path}.`).forEach((v, i) => {
    const q = `${path}.PolicyVersionList[${i}]`;
    if (c.obj(v, q)) checkPolicyDocument(c, v, 'Document', `${q}.`, true);
  });
}

// ---- reading ------------------------------------------------------------------------------

interface Loaded {
  file: string;
  abs: string;
  text: string;
  def: KindDef;
  value: Record<string, unknown>;
}

function parseJson(text: string, file: string, errors: string[]): unknown {
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /position (\d+)/.exec(msg);
    let where = '';
    if (m) {
      const pos = Number(m[1]);
      const before = text.slice(0, pos);
      const line = before.split('\n').length;
      where = ` at line ${line}, column ${pos - before.lastIndexOf('\n')}`;
    }
    errors.push(`${file}: not valid JSON${where} (${msg.replace(/ in JSON at position \d+.*$/, '').replace(/^Unexpected/, 'unexpected')})`);
    return undefined;
  }
}

async function listJson(dir: string, depth = 0): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const d of entries) {
    if (d.name.startsWith('.')) continue;
    const p = join(dir, d.name);
    if (d.isDirectory() && depth < 2) out.push(...(await listJson(p, depth + 1)));
    else if (d.isFile() && /\.json$/i.test(d.name)) out.push(p);
  }
  return out;
}

/**
 * Reads a folder of exports, or one export file, into a snapshot. Throws ImportError listing
 * every problem (file: field: message); returns only when every file checked out.
 */
export async function importExports(path: string, opts: ImportOptions = {}): Promise<AuditSnapshot> {
  const root = resolve(path);
  let st;
  try {
    st = await stat(root);
  } catch {
    throw new ImportError([`${path}: no such file or folder`]);
  }
  const files = st.isDirectory() ? await listJson(root) : [root];
  const base = st.isDirectory() ? root : dirname(root);
  if (!files.length)
    throw new ImportError([
      `${path}: no .json exports found (expected files such as security-groups.json, network-interfaces.json, instances.json)`,
    ]);
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  const total = sizes.reduce((a, b) => a + b, 0) * 2;
  let done = 0;
  const errors: string[] = [];
  const loaded: Loaded[] = [];
  for (const [k, abs] of files.entries()) {
    const file = relative(base, abs).split(sep).join('/');
    opts.onProgress?.(done, total, `reading ${file}`);
    const text = (await readFile(abs)).toString('utf8');
    done += sizes[k]!;
    const value = parseJson(text, file, errors);
    if (value === undefined) continue;
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      errors.push(`${file}: must be a JSON object (the output of an aws describe-* call), got ${typeName(value)}`);
      continue;
    }
    const v = value as Record<string, unknown>;
    if (v.$palisade === STATE_MARKER) {
      errors.push(`${file}: is a Palisade state file, not an export: give it to --state on its own`);
      continue;
    }
    const byName = kindByName(file);
    const byContent = kindByContent(v);
    if (byName && !(byName.top in v) && !(byName.top === 'Reservations' && Array.isArray(v.Instances))) {
      errors.push(
        `${file}: ${byName.top}: missing (expected the output of ${byName.call}${byContent ? `; this looks like ${byContent.call}` : ''})`,
      );
      continue;
    }
    const def = byName ?? byContent;
    if (!def) {
      errors.push(
        `${file}: not an export Palisade recognises (top-level keys: ${Object.keys(v).slice(0, 6).join(', ') || 'none'}; expected one of ${KINDS.map((k) => k.top).join(', ')})`,
      );
      continue;
    }
    loaded.push({ file, abs, text, def, value: v });
  }
  const snapshot = assemble(loaded, errors, (label) => {
    done += total / 2 / Math.max(1, loaded.length);
    opts.onProgress?.(Math.min(done, total), total, label);
  });
  if (errors.length) throw new ImportError(errors);
  opts.onProgress?.(total, total, 'done');
  return snapshot;
}

/** Checks every loaded file and merges them; problems go to `errors`. */
function assemble(loaded: Loaded[], errors: string[], tick: (label: string) => void): AuditSnapshot {
  const s: AuditSnapshot = { ...emptySnapshot(), exported: [], sources: {} };
  const exported = new Set<ImportKind>();
  const seen = new Map<string, string>(); // id → file, for duplicates
  const entries = new Map<string, { file: string; entries: PrefixListEntry[] }>();
  let rules: SecurityGroupRule[] | undefined;
  let iam: { roles: IamRoleDetail[]; policies: IamPolicyDetail[] } | undefined;
  const dup = (id: string | undefined, file: string, path: string) => {
    if (!id) return false;
    const prev = seen.get(id);
    if (prev) {
      errors.push(`${file}: ${path}: ${id} appears twice${prev === file ? '' : ` (also in ${prev})`}`);
      return true;
    }
    seen.set(id, file);
    return false;
  };
  for (const l of loaded) {
    tick(`checking ${l.file}`);
    const c = new Check(l.file, errors);
    const before = errors.length;
    const v = l.value;
    exported.add(l.def.kind);
    switch (l.def.top) {
      case 'SecurityGroups': {
        const list = c.arr(v, 'SecurityGroups', '', true);
        list.forEach((g, i) => checkGroup(c, g, `SecurityGroups[${i}]`));
        if (errors.length > before) break;
        (list as SecurityGroup[]).forEach((g, i) => {
          if (!dup(g.GroupId, l.file, `SecurityGroups[${i}].GroupId`)) s.securityGroups.push(g);
        });
        break;
      }
      case 'SecurityGroupRules': {
        const list = c.arr(v, 'SecurityGroupRules', '', true);
        list.forEach((r, i) => checkGroupRule(c, r, `SecurityGroupRules[${i}]`));
        if (errors.length > before) break;
        rules ??= [];
        (list as SecurityGroupRule[]).forEach((r, i) => {
          if (!dup(r.SecurityGroupRuleId, l.file, `SecurityGroupRules[${i}].SecurityGroupRuleId`)) rules!.push(r);
        });
        break;
      }
      case 'NetworkInterfaces': {
        const list = c.arr(v, 'NetworkInterfaces', '', true);
        list.forEach((n, i) => checkInterface(c, n, `NetworkInterfaces[${i}]`));
        if (errors.length > before) break;
        (list as NetworkInterface[]).forEach((n, i) => {
          if (!dup(n.NetworkInterfaceId, l.file, `NetworkInterfaces[${i}].NetworkInterfaceId`)) s.networkInterfaces.push(n);
        });
        break;
      }
      case 'Reservations': {
        const flat: [Instance, string][] = [];
        if (Array.isArray(v.Instances) && !('Reservations' in v)) {
          (v.Instances as unknown[]).forEach((i, k) => {
            checkInstance(c, i, `Instances[${k}]`);
            flat.push([i as Instance, `Instances[${k}]`]);
          });
        } else {
          c.arr(v, 'Reservations', '', true).forEach((r, i) => {
            if (!c.obj(r, `Reservations[${i}]`)) return;
            c.arr(r, 'Instances', `Reservations[${i}].`, true).forEach((inst, k) => {
              checkInstance(c, inst, `Reservations[${i}].Instances[${k}]`);
              flat.push([inst as Instance, `Reservations[${i}].Instances[${k}]`]);
            });
          });
        }
        if (errors.length > before) break;
        for (const [i, path] of flat) if (!dup(i.InstanceId, l.file, `${path}.InstanceId`)) s.instances.push(i);
        break;
      }
      case 'Vpcs': {
        const list = c.arr(v, 'Vpcs', '', true);
        list.forEach((x, i) => checkVpc(c, x, `Vpcs[${i}]`));
        if (errors.length > before) break;
        (list as Vpc[]).forEach((x, i) => {
          if (!dup(x.VpcId, l.file, `Vpcs[${i}].VpcId`)) s.vpcs.push(x);
        });
        break;
      }
      case 'Subnets': {
        const list = c.arr(v, 'Subnets', '', true);
        list.forEach((x, i) => checkSubnet(c, x, `Subnets[${i}]`));
        if (errors.length > before) break;
        (list as Subnet[]).forEach((x, i) => {
          if (!dup(x.SubnetId, l.file, `Subnets[${i}].SubnetId`)) s.subnets.push(x);
        });
        break;
      }
      case 'PrefixLists': {
        const list = c.arr(v, 'PrefixLists', '', true);
        list.forEach((x, i) => checkPrefixList(c, x, `PrefixLists[${i}]`));
        if (errors.length > before) break;
        (list as (Snapshot['prefixLists'][number] & { Cidrs?: string[] })[]).forEach((x, i) => {
          if (dup(x.PrefixListId, l.file, `PrefixLists[${i}].PrefixListId`)) return;
          // describe-prefix-lists (AWS service lists) carries Cidrs instead of entries
          const { Cidrs, ...rest } = x;
          s.prefixLists.push(Cidrs && !rest.Entries ? { ...rest, Entries: Cidrs.map((c2) => ({ Cidr: c2 })) } : rest);
        });
        break;
      }
      case 'Entries': {
        const id = /pl-[0-9a-z]+/i.exec(basename(l.file))?.[0];
        if (!id) {
          errors.push(
            `${l.file}: Entries: cannot tell which prefix list these entries belong to: name the file after the list (prefix-list-entries/pl-….json)`,
          );
          break;
        }
        const list = c.arr(v, 'Entries', '', true);
        list.forEach((x, i) => checkEntry(c, x, `Entries[${i}]`));
        if (errors.length > before) break;
        if (entries.has(id)) errors.push(`${l.file}: entries of ${id} appear twice (also in ${entries.get(id)!.file})`);
        else entries.set(id, { file: l.file, entries: list as PrefixListEntry[] });
        break;
      }
      case 'RouteTables':
      case 'NetworkAcls':
      case 'InternetGateways':
      case 'EgressOnlyInternetGateways':
      case 'NatGateways':
      case 'VpcPeeringConnections': {
        const r = ROUTING.find((x) => x.top === l.def.top)!;
        const list = c.arr(v, r.top, '', true);
        list.forEach((x, i) => r.check(c, x, `${r.top}[${i}]`));
        if (errors.length > before) break;
        const into = (s[r.key] ??= []) as RoutingResource[];
        (list as Record<string, string>[]).forEach((x, i) => {
          if (!dup(x[r.id], l.file, `${r.top}[${i}].${r.id}`)) into.push(x as RoutingResource);
        });
        break;
      }
      case 'RoleDetailList': {
        const roles = c.arr(v, 'RoleDetailList', '', true);
        const policies = c.arr(v, 'Policies', '');
        roles.forEach((r, i) => checkRole(c, r, `RoleDetailList[${i}]`));
        policies.forEach((p, i) => checkManagedPolicy(c, p, `Policies[${i}]`));
        if (errors.length > before) break;
        iam ??= { roles: [], policies: [] };
        (roles as IamRoleDetail[]).forEach((r, i) => {
          if (!dup(r.Arn, l.file, `RoleDetailList[${i}].Arn`)) iam!.roles.push(r);
        });
        (policies as IamPolicyDetail[]).forEach((p, i) => {
          if (!dup(p.Arn, l.file, `Policies[${i}].Arn`)) iam!.policies.push(p);
        });
        break;
      }
    }
  }
  // entries of managed prefix lists (get-managed-prefix-list-entries), by list
  for (const [id, { file, entries: list }] of entries) {
    const pl = s.prefixLists.find((p) => p.PrefixListId === id);
    if (pl) {
      if (pl.Entries?.length) errors.push(`${file}: entries of ${id} given twice (the prefix list export already has Entries)`);
      else pl.Entries = list;
    } else s.prefixLists.push({ PrefixListId: id, Entries: list });
  }
  if (rules) {
    if (exported.has('securityGroups')) {
      const groups = new Set(s.securityGroups.map((g) => g.GroupId));
      const file = loaded.find((l) => l.def.top === 'SecurityGroupRules')!.file;
      rules.forEach((r, i) => {
        if (!groups.has(r.GroupId))
          errors.push(`${file}: SecurityGroupRules[${i}].GroupId: ${r.GroupId} is not in the security-groups export`);
      });
    }
    s.securityGroupRules = rules;
  }
  if (iam) s.iam = iam;
  addInstanceInterfaces(s);
  s.exported = EXPORT_KINDS.filter((k) => exported.has(k));
  s.account =
    s.securityGroups.find((g) => g.OwnerId)?.OwnerId ??
    s.networkInterfaces.find((n) => n.OwnerId)?.OwnerId ??
    iam?.roles[0]?.Arn.split(':')[4];
  s.region = regionOf(s);
  if (!errors.length) s.sources = locate(loaded, s);
  return s;
}

/** Interfaces that only describe-instances shows (no network-interfaces export, or an older one). */
function addInstanceInterfaces(s: Snapshot): void {
  const known = new Set(s.networkInterfaces.map((n) => n.NetworkInterfaceId));
  for (const i of s.instances) {
    for (const n of i.NetworkInterfaces ?? []) {
      if (!n.NetworkInterfaceId || known.has(n.NetworkInterfaceId)) continue;
      known.add(n.NetworkInterfaceId);
      s.networkInterfaces.push({
        ...(n as NetworkInterface),
        VpcId: n.VpcId ?? i.VpcId,
        SubnetId: n.SubnetId ?? i.SubnetId,
        Attachment: { ...n.Attachment, InstanceId: i.InstanceId },
        TagSet: [],
      } as NetworkInterface);
    }
  }
}

function regionOf(s: Snapshot): string | undefined {
  const az =
    s.subnets.find((x) => x.AvailabilityZone)?.AvailabilityZone ?? s.networkInterfaces.find((n) => n.AvailabilityZone)?.AvailabilityZone;
  if (az) return az.replace(/[a-z]$/, '');
  return s.securityGroups.find((g) => g.SecurityGroupArn)?.SecurityGroupArn?.split(':')[3];
}

/** Where each resource sits in its file: the least-indented `"IdKey": "id"` (the resource's own, not a reference). */
function locateIds(text: string, idKey: string, wanted: Set<string>): Map<string, number> {
  const best = new Map<string, { line: number; indent: number }>();
  const re = new RegExp(`"${idKey}"\\s*:\\s*"([^"]+)"`, 'g');
  let line = 1;
  let scanned = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const id = m[1]!;
    for (let k = text.indexOf('\n', scanned); k !== -1 && k < m.index; k = text.indexOf('\n', k + 1)) line++;
    scanned = m.index;
    if (!wanted.has(id)) continue;
    const start = text.lastIndexOf('\n', m.index) + 1;
    const indent = m.index - start;
    const prev = best.get(id);
    if (!prev || indent < prev.indent) best.set(id, { line, indent });
  }
  return new Map([...best].map(([id, b]) => [id, b.line]));
}

function locate(loaded: Loaded[], s: AuditSnapshot): Record<string, SourceRef> {
  const out: Record<string, SourceRef> = {};
  const ids: Record<Top, Set<string>> = {
    SecurityGroups: new Set(s.securityGroups.map((g) => g.GroupId!)),
    SecurityGroupRules: new Set((s.securityGroupRules ?? []).map((r) => r.SecurityGroupRuleId!)),
    NetworkInterfaces: new Set(s.networkInterfaces.map((n) => n.NetworkInterfaceId!)),
    Reservations: new Set(s.instances.map((i) => i.InstanceId!)),
    Vpcs: new Set(s.vpcs.map((v) => v.VpcId!)),
    Subnets: new Set(s.subnets.map((x) => x.SubnetId!)),
    PrefixLists: new Set(s.prefixLists.map((p) => p.PrefixListId!)),
    Entries: new Set(),
    RoleDetailList: new Set((s.iam?.roles ?? []).map((r) => r.Arn)),
    RouteTables: new Set((s.routeTables ?? []).map((x) => x.RouteTableId!)),
    NetworkAcls: new Set((s.networkAcls ?? []).map((x) => x.NetworkAclId!)),
    InternetGateways: new Set((s.internetGateways ?? []).map((x) => x.InternetGatewayId!)),
    EgressOnlyInternetGateways: new Set((s.egressOnlyInternetGateways ?? []).map((x) => x.EgressOnlyInternetGatewayId!)),
    NatGateways: new Set((s.natGateways ?? []).map((x) => x.NatGatewayId!)),
    VpcPeeringConnections: new Set((s.vpcPeeringConnections ?? []).map((x) => x.VpcPeeringConnectionId!)),
  };
  for (const l of loaded) {
    if (l.def.top === 'Entries') continue;
    for (const [id, line] of locateIds(l.text, l.def.idKey, ids[l.def.top])) out[id] ??= { file: l.abs, line };
  }
  return out;
}

// ---- state files --------------------------------------------------------------------------

interface StateFile extends AuditSnapshot {
  $palisade: typeof STATE_MARKER;
  version: number;
  createdAt: string;
}

/** Writes the snapshot as one state file (atomically: a temporary file renamed into place). */
export async function saveSnapshot(s: AuditSnapshot, path: string): Promise<void> {
  const state: StateFile = { $palisade: STATE_MARKER, version: STATE_VERSION, createdAt: new Date().toISOString(), ...s };
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 1) + '\n');
  await rename(tmp, path);
}

const STATE_ARRAYS: [keyof Snapshot | 'securityGroupRules', (c: Check, v: unknown, p: string) => void][] = [
  ['securityGroups', checkGroup],
  ['networkInterfaces', (c, v, p) => checkInterface(c, v, p)],
  ['instances', checkInstance],
  ['vpcs', checkVpc],
  ['subnets', checkSubnet],
  ['prefixLists', checkPrefixList],
  ['securityGroupRules', checkGroupRule],
  ...ROUTING.map((r) => [r.key, r.check] as [keyof Snapshot, (c: Check, v: unknown, p: string) => void]),
];
/** What a state file may lack: the optional exports. */
const OPTIONAL_STATE_ARRAYS = new Set<string>(['securityGroupRules', ...ROUTING.map((r) => r.key)]);

/** Checks a state file's content as thoroughly as the exports it was made from. */
function fromState(v: Record<string, unknown>, file: string): AuditSnapshot {
  const errors: string[] = [];
  const c = new Check(file, errors);
  if (typeof v.version === 'number' && v.version > STATE_VERSION)
    throw new ImportError([`${file}: version: ${v.version} is newer than this Palisade reads (${STATE_VERSION})`]);
  for (const [key, check] of STATE_ARRAYS) {
    const required = !OPTIONAL_STATE_ARRAYS.has(key);
    c.arr(v, key, '', required).forEach((x, i) => check(c, x, `${key}[${i}]`));
  }
  if (v.iam !== undefined && c.obj(v.iam, 'iam')) {
    c.arr(v.iam, 'roles', 'iam.', true).forEach((r, i) => checkRole(c, r, `iam.roles[${i}]`));
    c.arr(v.iam, 'policies', 'iam.', true).forEach((p, i) => checkManagedPolicy(c, p, `iam.policies[${i}]`));
  }
  if (v.exported !== undefined) {
    c.arr(v, 'exported', '').forEach((k, i) => {
      if (!EXPORT_KINDS.includes(k as ExportKind)) c.fail(`exported[${i}]`, `unknown kind ${JSON.stringify(k)}`);
    });
  }
  if (v.sources !== undefined && c.obj(v.sources, 'sources')) {
    for (const [id, ref] of Object.entries(v.sources)) {
      if (!ref || typeof ref !== 'object' || typeof (ref as SourceRef).file !== 'string')
        c.fail(`sources.${id}`, 'must be {"file": PATH, "line": N}');
    }
  }
  if (errors.length) throw new ImportError(errors);
  const { $palisade: _m, version: _v, createdAt: _c, ...rest } = v as unknown as StateFile;
  return rest;
}

/**
 * A snapshot from a path: a Palisade state file (`palisade import --out`), a folder of aws CLI
 * exports, or a single export file. Throws ImportError (file: field: message) on bad input.
 */
export async function loadSnapshot(path: string, opts: ImportOptions = {}): Promise<AuditSnapshot> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new ImportError([`${path}: no such file or folder`]);
  }
  if (st.isDirectory()) return importExports(path, opts);
  const text = (await readFile(path)).toString('utf8');
  const errors: string[] = [];
  const v = parseJson(text, basename(path), errors);
  if (errors.length) throw new ImportError(errors);
  if (v && typeof v === 'object' && !Array.isArray(v) && (v as Record<string, unknown>).$palisade === STATE_MARKER) {
    opts.onProgress?.(0, 1, `checking ${basename(path)}`);
    const s = fromState(v as Record<string, unknown>, basename(path));
    s.sources = await stateSources(s, path, text);
    opts.onProgress?.(1, 1, 'done');
    return s;
  }
  return importExports(path, opts);
}

/** Sources of a state file: the original exports while they exist, else lines of the state file itself. */
async function stateSources(s: AuditSnapshot, path: string, text: string): Promise<Record<string, SourceRef>> {
  const out: Record<string, SourceRef> = {};
  const exists = new Map<string, boolean>();
  for (const [id, ref] of Object.entries(s.sources ?? {})) {
    if (!exists.has(ref.file))
      exists.set(
        ref.file,
        await stat(ref.file).then(
          (x) => x.isFile(),
          () => false,
        ),
      );
    if (exists.get(ref.file)) out[id] = ref;
  }
  const all: [string, string[]][] = [
    ['GroupId', s.securityGroups.map((g) => g.GroupId!)],
    ['NetworkInterfaceId', s.networkInterfaces.map((n) => n.NetworkInterfaceId!)],
    ['InstanceId', s.instances.map((i) => i.InstanceId!)],
    ['VpcId', s.vpcs.map((v) => v.VpcId!)],
    ['SubnetId', s.subnets.map((x) => x.SubnetId!)],
    ['Arn', (s.iam?.roles ?? []).map((r) => r.Arn)],
    ...ROUTING.map((r): [string, string[]] => [r.id, ((s[r.key] ?? []) as unknown as Record<string, string>[]).map((x) => x[r.id]!)]),
  ];
  const abs = resolve(path);
  for (const [key, ids] of all) {
    const wanted = new Set(ids.filter((id) => !out[id]));
    if (!wanted.size) continue;
    for (const [id, line] of locateIds(text, key, wanted)) out[id] = { file: abs, line };
  }
  return out;
}
