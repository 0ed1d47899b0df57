// The documents EC2 state is made of. Stored as JSON by the store; one per resource.
import type { Doc } from '../../store/store.ts';

export interface TagPair {
  Key: string;
  Value: string;
}

export interface VpcDoc extends Doc {
  cidr: string;
  cidrAssociations: { associationId: string; cidr: string; state: string }[];
  ipv6: { associationId: string; cidr: string; state: string; pool: string; networkBorderGroup: string }[];
  isDefault: boolean;
  tenancy: string;
  /** a `dopt-` id, or `default` (no options) */
  dhcpOptionsId: string;
  defaultGroupId: string;
  /** DescribeVpcAttribute; absent in state written before: support on, hostnames on in the default VPC only, metrics off */
  enableDnsSupport?: boolean;
  enableDnsHostnames?: boolean;
  enableNetworkAddressUsageMetrics?: boolean;
  tags: TagPair[];
}

export interface SubnetDoc extends Doc {
  vpcId: string;
  cidr: string;
  az: string;
  azId: string;
  defaultForAz: boolean;
  mapPublicIpOnLaunch: boolean;
  assignIpv6AddressOnCreation: boolean;
  ipv6: { associationId: string; cidr: string; state: string }[];
  /** IPv6-only: no IPv4 block (`cidr` is '') */
  ipv6Native?: boolean;
  /** ModifySubnetAttribute; absent in state written before: off, and `ip-name` hostnames */
  enableDns64?: boolean;
  hostnameType?: 'ip-name' | 'resource-name';
  enableResourceNameDnsARecord?: boolean;
  enableResourceNameDnsAAAARecord?: boolean;
  tags: TagPair[];
}

// ---------------------------------------------------------------------------------------------
// Around a VPC: DHCP options, internet gateways, NAT gateways, Elastic IPs

export interface DhcpOptionsDoc extends Doc {
  /** the options as given, in AWS's order of keys */
  configurations: { key: string; values: string[] }[];
  ownerId: string;
  /** the region's default set (AmazonProvidedDNS), which VPCs start with */
  isDefault?: boolean;
  tags: TagPair[];
}

export interface InternetGatewayDoc extends Doc {
  ownerId: string;
  /** none, or the one VPC it is attached to (AWS reports an attached gateway as `available`) */
  attachments: { vpcId: string; state: 'available' }[];
  tags: TagPair[];
}

export interface EgressOnlyInternetGatewayDoc extends Doc {
  /** the VPC it was made for (always attached) */
  attachments: { vpcId: string; state: 'attached' }[];
  clientToken?: string;
  tags: TagPair[];
}

export interface NatGatewayDoc extends Doc {
  vpcId: string;
  subnetId: string;
  connectivityType: 'public' | 'private';
  /** reaches `available` (or `failed`) at once; DeleteNatGateway makes it `deleted` */
  state: 'pending' | 'failed' | 'available' | 'deleting' | 'deleted';
  failure?: { code: string; message: string };
  /** its interface (type nat_gateway) and private address; none when it failed */
  networkInterfaceId?: string;
  privateIp?: string;
  /** public: the Elastic IP mapped to that address */
  allocationId?: string;
  associationId?: string;
  publicIp?: string;
  created: string;
  /** epoch ms it was deleted or failed: such gateways stay visible for an hour, as in AWS */
  endedAt?: number;
  clientToken?: string;
  tags: TagPair[];
}

/** An Elastic IP; the id is its allocation id. */
export interface ElasticIpDoc extends Doc {
  publicIp: string;
  networkBorderGroup: string;
  /** where it maps to: a private address of an interface (the interface's publicIp when that address is its primary) */
  association?: {
    id: string;
    networkInterfaceId: string;
    privateIp: string;
    /** held by a NAT gateway: only the gateway can let it go */
    natGatewayId?: string;
    /** it replaced the interface's auto-assigned public IPv4 (a new one comes back when it goes) */
    replacedAutoIp?: boolean;
  };
  tags: TagPair[];
}

export interface RuleDoc {
  id: string;
  egress: boolean;
  /** '-1', 'tcp', 'udp', 'icmp', 'icmpv6' or a protocol number as text */
  protocol: string;
  /** ports (tcp/udp) or ICMP type/code; absent for all-port protocols */
  from?: number;
  to?: number;
  cidr4?: string;
  cidr6?: string;
  prefixListId?: string;
  group?: { groupId: string; userId: string; vpcId?: string };
  description?: string;
  tags: TagPair[];
}

export interface SecurityGroupDoc extends Doc {
  name: string;
  description: string;
  vpcId: string;
  ownerId: string;
  rules: RuleDoc[];
  tags: TagPair[];
}

export interface PrefixListEntry {
  cidr: string;
  description?: string;
}
export interface PrefixListDoc extends Doc {
  name: string;
  family: 'IPv4' | 'IPv6';
  maxEntries: number;
  version: number;
  entries: PrefixListEntry[];
  /** entries of every version, index = version - 1 */
  history: PrefixListEntry[][];
  ownerId: string;
  state: string;
  tags: TagPair[];
}

export const KIND = {
  vpc: 'vpc',
  subnet: 'subnet',
  sg: 'security-group',
  prefixList: 'prefix-list',
  init: 'ec2-init',
  eni: 'network-interface',
  instance: 'instance',
  flowLog: 'flow-log',
  networkInsightsPath: 'network-insights-path',
  networkInsightsAnalysis: 'network-insights-analysis',
  // The VPC's surroundings (Terraform's aws_vpc module shape)
  dhcpOptions: 'dhcp-options',
  internetGateway: 'internet-gateway',
  egressOnlyInternetGateway: 'egress-only-internet-gateway',
  natGateway: 'nat-gateway',
  elasticIp: 'elastic-ip',
  routeTable: 'route-table',
  networkAcl: 'network-acl',
  peering: 'vpc-peering-connection',
  vpcEndpoint: 'vpc-endpoint',
  // What instances are launched with
  keyPair: 'key-pair',
  launchTemplate: 'launch-template',
  volume: 'volume',
} as const;

export interface ConnTrack {
  tcpEstablished?: number;
  udpStream?: number;
  udp?: number;
}

export interface EniDoc extends Doc {
  subnetId: string;
  vpcId: string;
  az: string;
  azId: string;
  description: string;
  groups: string[];
  /** primary first */
  privateIps: string[];
  ipv6: string[];
  mac: string;
  sourceDestCheck: boolean;
  interfaceType: string;
  publicIp?: string;
  attachment?: { attachmentId: string; instanceId: string; deviceIndex: number; deleteOnTermination: boolean; attachTime: string };
  connTrack?: ConnTrack;
  requesterManaged: boolean;
  clientToken?: string;
  tags: TagPair[];
}

export interface MetadataOptions {
  httpTokens: 'optional' | 'required';
  hopLimit: number;
  httpEndpoint: 'enabled' | 'disabled';
  httpProtocolIpv6: 'enabled' | 'disabled';
  instanceMetadataTags: 'enabled' | 'disabled';
}

export interface InstanceDoc extends Doc {
  imageId: string;
  instanceType: string;
  state: 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';
  stateTransitionReason: string;
  subnetId: string;
  vpcId: string;
  az: string;
  keyName?: string;
  /** the key pair's public key as it was at launch (the metadata service's public-keys/) */
  publicKey?: string;
  /** from the image at launch (absent in state written before: x86_64, /dev/xvda, Linux) */
  architecture?: 'x86_64' | 'arm64';
  platform?: 'windows';
  rootDeviceName?: string;
  /** burstable types: T2 `standard`, later T families `unlimited` unless launched otherwise */
  cpuCredits?: 'standard' | 'unlimited';
  autoRecovery?: 'default' | 'disabled';
  monitoring?: boolean;
  launchTime: string;
  terminatedAt?: number;
  reservationId: string;
  amiLaunchIndex: number;
  /** the profile association, if any */
  profile?: {
    associationId: string;
    arn: string;
    profileId: string;
    name: string;
    state: 'associated' | 'disassociated';
    /** when it was disassociated (DescribeIamInstanceProfileAssociations lists it a while longer) */
    endedAt?: number;
  };
  metadata: MetadataOptions;
  userData?: string;
  disableApiTermination: boolean;
  disableApiStop: boolean;
  shutdownBehavior: 'stop' | 'terminate';
  ebsOptimized: boolean;
  /** the public IPv4 released at stop, so start gives a new one */
  hadPublicIp?: boolean;
  clientToken?: string;
  tags: TagPair[];
}

export interface KeyPairDoc extends Doc {
  /** unique per account and region, case-sensitive */
  name: string;
  keyType: 'rsa' | 'ed25519';
  /** AWS's fingerprint: created RSA SHA-1 of the PKCS#8 private key, imported RSA MD5 of the SPKI public key, ED25519 base64 SHA-256 of the OpenSSH blob */
  fingerprint: string;
  /** the public key in OpenSSH form (`ssh-rsa AAAA… comment`) */
  publicKey: string;
  created: string;
  tags: TagPair[];
}

/** An EBS volume: an instance's root and other devices (RunInstances), or made on its own. */
export interface VolumeDoc extends Doc {
  size: number;
  volumeType: 'standard' | 'io1' | 'io2' | 'gp2' | 'gp3' | 'sc1' | 'st1';
  iops?: number;
  throughput?: number;
  encrypted: boolean;
  kmsKeyId?: string;
  /** '' when made empty */
  snapshotId: string;
  az: string;
  created: string;
  state: 'available' | 'in-use';
  attachment?: { instanceId: string; device: string; deleteOnTermination: boolean; attachTime: string };
  multiAttachEnabled: boolean;
  clientToken?: string;
  tags: TagPair[];
}

export interface LaunchTemplateVersionDoc {
  number: number;
  description?: string;
  created: string;
  createdBy: string;
  /** the data as given (RequestLaunchTemplateData), checked */
  data: Record<string, unknown>;
}

export interface LaunchTemplateDoc extends Doc {
  /** unique per account and region */
  name: string;
  created: string;
  createdBy: string;
  defaultVersion: number;
  /** the highest version number ever given (numbers are not reused after a delete) */
  latestVersion: number;
  /** the versions not deleted, oldest first */
  versions: LaunchTemplateVersionDoc[];
  clientToken?: string;
  tags: TagPair[];
}

export interface FlowLogDoc extends Doc {
  resourceId: string;
  resourceType: 'VPC' | 'Subnet' | 'NetworkInterface';
  trafficType: 'ACCEPT' | 'REJECT' | 'ALL';
  destinationType: 'cloud-watch-logs' | 's3';
  /** the ARN given or derived: log group ARN (CWL) or bucket ARN with optional subfolder (S3) */
  logDestination: string;
  logGroupName?: string;
  /** S3: the bucket and the subfolder of the destination */
  bucket?: string;
  prefix?: string;
  deliverLogsPermissionArn?: string;
  deliverCrossAccountRole?: string;
  /** as given, or the default format */
  logFormat: string;
  customFormat: boolean;
  maxAggregationInterval: 60 | 600;
  destinationOptions?: { fileFormat: string; hiveCompatiblePartitions: boolean; perHourPartition: boolean };
  created: number;
  /** epoch ms up to which windows have been delivered (starts at creation) */
  deliveredTo: number;
  deliverStatus: 'SUCCESS' | 'FAILED';
  deliverError?: string;
  clientToken?: string;
  tags: TagPair[];
}

// ---------------------------------------------------------------------------------------------
// Routing: route tables, network ACLs, VPC peering connections, VPC endpoints

/** One route. Its state (active/blackhole) is not stored: it follows its target (route-tables.ts). */
export interface RouteDoc {
  /** the destination: exactly one of these */
  cidr4?: string;
  cidr6?: string;
  prefixListId?: string;
  /** the target: `local`, an internet or virtual private gateway, or a gateway endpoint (`vpce-…`) */
  gatewayId?: string;
  egressOnlyGatewayId?: string;
  natGatewayId?: string;
  networkInterfaceId?: string;
  /** set with networkInterfaceId (the instance's primary interface) when the route names an instance */
  instanceId?: string;
  peeringId?: string;
  origin: 'CreateRouteTable' | 'CreateRoute' | 'EnableVgwRoutePropagation';
}

export interface RouteTableAssociationDoc {
  /** `rtbassoc-…` */
  id: string;
  /** the VPC's main association (at most one per VPC, on its main table) */
  main?: boolean;
  subnetId?: string;
  /** an edge association: an internet or virtual private gateway */
  gatewayId?: string;
}

export interface RouteTableDoc extends Doc {
  vpcId: string;
  ownerId: string;
  /**
   * Routes the caller made (and the gateway endpoints' routes). The `local` routes are not
   * stored: they are the VPC's CIDR blocks, always current (`localRoutes` in lookups.ts).
   */
  routes: RouteDoc[];
  associations: RouteTableAssociationDoc[];
  propagatingVgws: string[];
  tags: TagPair[];
}

export interface AclEntryDoc {
  /** 1–32766; the `*` rules (32767 IPv4, 32768 IPv6) are not stored */
  ruleNumber: number;
  egress: boolean;
  /** '-1' or a protocol number as text */
  protocol: string;
  action: 'allow' | 'deny';
  cidr4?: string;
  cidr6?: string;
  /** TCP (6) and UDP (17) */
  ports?: { from: number; to: number };
  /** ICMP (1) and ICMPv6 (58) */
  icmp?: { type: number; code: number };
}

export interface NetworkAclDoc extends Doc {
  vpcId: string;
  ownerId: string;
  isDefault: boolean;
  entries: AclEntryDoc[];
  /** one per subnet; every subnet of the VPC has exactly one, in one of the VPC's ACLs */
  associations: { id: string; subnetId: string }[];
  tags: TagPair[];
}

export interface PeeringSideDoc {
  vpcId: string;
  ownerId: string;
  region: string;
  /** the VPC's CIDR blocks when the connection was made (CidrBlockSet), IPv6 too */
  cidrs: string[];
  ipv6Cidrs: string[];
  allowDnsResolutionFromRemoteVpc: boolean;
}

/**
 * A VPC peering connection. Across accounts or regions the same document (same id) is kept in
 * the requester's and the accepter's scope, written together.
 */
export interface PeeringDoc extends Doc {
  requester: PeeringSideDoc;
  accepter: PeeringSideDoc;
  status: 'initiating-request' | 'pending-acceptance' | 'active' | 'rejected' | 'deleted' | 'failed' | 'expired';
  statusMessage: string;
  created: number;
  /** when it reached deleted/rejected/failed (it stays visible for a while, as in AWS) */
  ended?: number;
  /** each account's copy has its own tags (AWS shows an account only the tags it added) */
  tags: TagPair[];
}

export interface VpcEndpointDoc extends Doc {
  vpcId: string;
  ownerId: string;
  type: 'Gateway' | 'Interface';
  serviceName: string;
  state: 'available' | 'deleted';
  policy: string;
  /** Gateway: the tables holding a route to the service's prefix list */
  routeTableIds: string[];
  /** Interface: one interface per subnet */
  subnetIds: string[];
  networkInterfaceIds: string[];
  groups: string[];
  privateDnsEnabled: boolean;
  created: string;
  clientToken?: string;
  tags: TagPair[];
}
