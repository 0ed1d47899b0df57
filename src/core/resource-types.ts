// The EC2 resource types, in one table: the id prefix (`sg` of `sg-0123…`), EC2's own name for
// the type (tags' `resource-type`, the `ec2:…:security-group/ID` form of ARNs), the
// CloudFormation type CloudTrail reports, the store kind of its documents and how a missing one is
// reported. Everything that knows resource types reads them here: the tags API (which types are
// taggable), IAM authorization (resource ARNs, and which call creates which type), CloudTrail
// (LookupEvents resources) and the lookups' NotFound errors.
//
// Adding a resource type: one row here, its handler file, its tests.
import { ApiError } from './errors.ts';
import { KIND } from './documents/ec2.ts';

export interface ResourceType {
  /** The id prefix, without its dash. */
  prefix: string;
  /** EC2's name: tags' resource-type, and the resource part of its ARN (`arn:…:ec2:R:A:NAME/ID`). */
  name: string;
  /** What CloudTrail reports as the ResourceType of an event. */
  cloudFormation: string;
  /** The store kind of its documents, when Palisade keeps them as documents of their own. */
  kind?: string;
  /** CreateTags/DeleteTags/DescribeTags: 'document' (the document's `tags`) or 'custom' (the handler file says how). */
  tags?: 'document' | 'custom';
  /** The call that creates one (IAM authorizes it against `arn:…:NAME/*`). */
  createdBy?: string;
  /** AWS's error for an id that names no such resource. */
  notFound?: { code: string; message: (id: string) => string };
}

export const RESOURCE_TYPES: readonly ResourceType[] = [
  {
    prefix: 'vpc',
    name: 'vpc',
    cloudFormation: 'AWS::EC2::VPC',
    kind: KIND.vpc,
    tags: 'document',
    createdBy: 'CreateVpc',
    notFound: { code: 'InvalidVpcID.NotFound', message: (id) => `The vpc ID '${id}' does not exist` },
  },
  {
    prefix: 'subnet',
    name: 'subnet',
    cloudFormation: 'AWS::EC2::Subnet',
    kind: KIND.subnet,
    tags: 'document',
    createdBy: 'CreateSubnet',
    notFound: { code: 'InvalidSubnetID.NotFound', message: (id) => `The subnet ID '${id}' does not exist` },
  },
  {
    prefix: 'sg',
    name: 'security-group',
    cloudFormation: 'AWS::EC2::SecurityGroup',
    kind: KIND.sg,
    tags: 'document',
    createdBy: 'CreateSecurityGroup',
    notFound: { code: 'InvalidGroup.NotFound', message: (id) => `The security group '${id}' does not exist` },
  },
  {
    // Rules live inside their group's document.
    prefix: 'sgr',
    name: 'security-group-rule',
    cloudFormation: 'AWS::EC2::SecurityGroupRule',
    tags: 'custom',
    notFound: { code: 'InvalidSecurityGroupRuleId.NotFound', message: (id) => `The security group rule ID '${id}' does not exist` },
  },
  {
    prefix: 'pl',
    name: 'prefix-list',
    cloudFormation: 'AWS::EC2::PrefixList',
    kind: KIND.prefixList,
    tags: 'document',
    createdBy: 'CreateManagedPrefixList',
    notFound: { code: 'InvalidPrefixListID.NotFound', message: (id) => `The prefix list ID '${id}' does not exist.` },
  },
  {
    prefix: 'eni',
    name: 'network-interface',
    cloudFormation: 'AWS::EC2::NetworkInterface',
    kind: KIND.eni,
    tags: 'document',
    createdBy: 'CreateNetworkInterface',
    notFound: { code: 'InvalidNetworkInterfaceID.NotFound', message: (id) => `The networkInterface ID '${id}' does not exist` },
  },
  {
    prefix: 'i',
    name: 'instance',
    cloudFormation: 'AWS::EC2::Instance',
    kind: KIND.instance,
    tags: 'document',
    createdBy: 'RunInstances',
    notFound: { code: 'InvalidInstanceID.NotFound', message: (id) => `The instance ID '${id}' does not exist` },
  },
  {
    prefix: 'fl',
    name: 'vpc-flow-log',
    cloudFormation: 'AWS::EC2::FlowLog',
    kind: KIND.flowLog,
    tags: 'document',
    createdBy: 'CreateFlowLogs',
    notFound: {
      code: 'InvalidFlowLogId.NotFound',
      message: (id) => `These flow log ids in the input list are not found: [TotalCount: 1] ${id}`,
    },
  },
  {
    prefix: 'nip',
    name: 'network-insights-path',
    cloudFormation: 'AWS::EC2::NetworkInsightsPath',
    kind: KIND.networkInsightsPath,
    tags: 'document',
    notFound: { code: 'InvalidNetworkInsightsPathId.NotFound', message: (id) => `The NetworkInsightsPath ID '${id}' does not exist` },
  },
  {
    prefix: 'nia',
    name: 'network-insights-analysis',
    cloudFormation: 'AWS::EC2::NetworkInsightsAnalysis',
    kind: KIND.networkInsightsAnalysis,
    tags: 'document',
    notFound: {
      code: 'InvalidNetworkInsightsAnalysisId.NotFound',
      message: (id) => `The NetworkInsightsAnalysis ID '${id}' does not exist`,
    },
  },
  {
    prefix: 'dopt',
    name: 'dhcp-options',
    cloudFormation: 'AWS::EC2::DHCPOptions',
    kind: KIND.dhcpOptions,
    tags: 'document',
    createdBy: 'CreateDhcpOptions',
    notFound: { code: 'InvalidDhcpOptionID.NotFound', message: (id) => `The dhcpOption ID '${id}' does not exist` },
  },
  {
    prefix: 'igw',
    name: 'internet-gateway',
    cloudFormation: 'AWS::EC2::InternetGateway',
    kind: KIND.internetGateway,
    tags: 'document',
    createdBy: 'CreateInternetGateway',
    notFound: { code: 'InvalidInternetGatewayID.NotFound', message: (id) => `The internetGateway ID '${id}' does not exist` },
  },
  {
    prefix: 'eigw',
    name: 'egress-only-internet-gateway',
    cloudFormation: 'AWS::EC2::EgressOnlyInternetGateway',
    kind: KIND.egressOnlyInternetGateway,
    tags: 'document',
    createdBy: 'CreateEgressOnlyInternetGateway',
    notFound: { code: 'InvalidGatewayID.NotFound', message: (id) => `The eigw ID '${id}' does not exist` },
  },
  {
    prefix: 'nat',
    name: 'natgateway',
    cloudFormation: 'AWS::EC2::NatGateway',
    kind: KIND.natGateway,
    tags: 'document',
    createdBy: 'CreateNatGateway',
    notFound: { code: 'NatGatewayNotFound', message: (id) => `The Nat Gateway ${id} was not found` },
  },
  {
    prefix: 'eipalloc',
    name: 'elastic-ip',
    cloudFormation: 'AWS::EC2::EIP',
    kind: KIND.elasticIp,
    tags: 'document',
    createdBy: 'AllocateAddress',
    notFound: { code: 'InvalidAllocationID.NotFound', message: (id) => `The allocation ID '${id}' does not exist` },
  },
  {
    prefix: 'rtb',
    name: 'route-table',
    cloudFormation: 'AWS::EC2::RouteTable',
    kind: KIND.routeTable,
    tags: 'document',
    createdBy: 'CreateRouteTable',
    notFound: { code: 'InvalidRouteTableID.NotFound', message: (id) => `The routeTable ID '${id}' does not exist` },
  },
  {
    prefix: 'acl',
    name: 'network-acl',
    cloudFormation: 'AWS::EC2::NetworkAcl',
    kind: KIND.networkAcl,
    tags: 'document',
    createdBy: 'CreateNetworkAcl',
    notFound: { code: 'InvalidNetworkAclID.NotFound', message: (id) => `The networkAcl ID '${id}' does not exist` },
  },
  {
    prefix: 'pcx',
    name: 'vpc-peering-connection',
    cloudFormation: 'AWS::EC2::VPCPeeringConnection',
    kind: KIND.peering,
    tags: 'document',
    createdBy: 'CreateVpcPeeringConnection',
    notFound: { code: 'InvalidVpcPeeringConnectionID.NotFound', message: (id) => `The vpcPeeringConnection ID '${id}' does not exist` },
  },
  {
    prefix: 'vpce',
    name: 'vpc-endpoint',
    cloudFormation: 'AWS::EC2::VPCEndpoint',
    kind: KIND.vpcEndpoint,
    tags: 'document',
    createdBy: 'CreateVpcEndpoint',
    notFound: { code: 'InvalidVpcEndpointId.NotFound', message: (id) => `The Vpc Endpoint Id '${id}' does not exist` },
  },
  {
    prefix: 'key',
    name: 'key-pair',
    cloudFormation: 'AWS::EC2::KeyPair',
    kind: KIND.keyPair,
    tags: 'document',
    createdBy: 'CreateKeyPair',
    // By id AWS names the id (by name, lookups.ts: `The key pair 'NAME' does not exist`).
    notFound: { code: 'InvalidKeyPair.NotFound', message: (id) => `The key pair ID '${id}' does not exist` },
  },
  {
    prefix: 'lt',
    name: 'launch-template',
    cloudFormation: 'AWS::EC2::LaunchTemplate',
    kind: KIND.launchTemplate,
    tags: 'document',
    createdBy: 'CreateLaunchTemplate',
    notFound: {
      code: 'InvalidLaunchTemplateId.NotFound',
      message: (id) => `The specified launch template, with template ID ${id}, does not exist.`,
    },
  },
  {
    prefix: 'vol',
    name: 'volume',
    cloudFormation: 'AWS::EC2::Volume',
    kind: KIND.volume,
    tags: 'document',
    createdBy: 'CreateVolume',
    notFound: { code: 'InvalidVolume.NotFound', message: (id) => `The volume '${id}' does not exist.` },
  },
  // Types Palisade does not keep as documents, known so that CloudTrail and IAM name them in calls that mention them.
  { prefix: 'eni-attach', name: 'network-interface-attachment', cloudFormation: 'AWS::EC2::NetworkInterfaceAttachment' },
  { prefix: 'ami', name: 'image', cloudFormation: 'AWS::EC2::Ami' },
  { prefix: 'snap', name: 'snapshot', cloudFormation: 'AWS::EC2::Snapshot' },
  { prefix: 'tgw', name: 'transit-gateway', cloudFormation: 'AWS::EC2::TransitGateway' },
  { prefix: 'iip-assoc', name: 'iam-instance-profile-association', cloudFormation: 'AWS::EC2::IamInstanceProfileAssociation' },
];

const byPrefix = new Map(RESOURCE_TYPES.map((t) => [t.prefix, t]));
/** An EC2 id: prefix, dash, 8 or 17 hex digits (the prefix may itself hold one dash: `eni-attach-…`). */
const EC2_ID = /^([a-z]+(?:-[a-z]+)?)-[0-9a-f]{8,17}$/;

/** The type of an EC2 id (`sg-0123…` → security-group), or undefined. */
export function resourceTypeOfId(id: string): ResourceType | undefined {
  const m = EC2_ID.exec(id);
  return m ? byPrefix.get(m[1]!) : undefined;
}

/** The type with this id prefix. */
export function resourceType(prefix: string): ResourceType {
  const t = byPrefix.get(prefix);
  if (!t) throw new Error(`unknown resource type prefix '${prefix}'`);
  return t;
}

/** AWS's NotFound error for an id of this type. */
export function notFoundError(prefix: string, id: string): ApiError {
  const nf = resourceType(prefix).notFound!;
  return new ApiError(nf.code, nf.message(id));
}

/** `arn:PARTITION:ec2:REGION:ACCOUNT:NAME/ID` of an EC2 resource. */
export function ec2Arn(partition: string, region: string, account: string, name: string, id: string): string {
  return `arn:${partition}:ec2:${region}:${account}:${name}/${id}`;
}
