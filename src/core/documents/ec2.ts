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
  dhcpOptionsId: string;
  defaultGroupId: string;
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
  launchTime: string;
  terminatedAt?: number;
  reservationId: string;
  amiLaunchIndex: number;
  /** the profile association, if any */
  profile?: { associationId: string; arn: string; profileId: string; name: string; state: 'associated' | 'disassociated' };
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
