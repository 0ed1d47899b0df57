// Builds VPC estates through the EC2 API for the network-path tests (one call a resource, so a
// test reads as its scenario), and asks the server's admin API what it makes of them: evaluate
// (what `palisade probe` asks), reach, Reachability Analyzer, the aws CLI.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  AcceptVpcPeeringConnectionCommand,
  AllocateAddressCommand,
  AssociateRouteTableCommand,
  AssociateSubnetCidrBlockCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  CreateNetworkInsightsPathCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcPeeringConnectionCommand,
  DescribeNetworkAclsCommand,
  DescribeNetworkInsightsAnalysesCommand,
  DescribeRouteTablesCommand,
  DescribeVpcsCommand,
  ReplaceNetworkAclAssociationCommand,
  RunInstancesCommand,
  StartNetworkInsightsAnalysisCommand,
  type CreateNetworkAclEntryCommandInput,
  type CreateNetworkInsightsPathCommandInput,
  type CreateRouteCommandInput,
  type EC2Client,
  type IpPermission,
  type NetworkInsightsAnalysis,
  type ResourceType,
  type TagSpecification,
} from '@aws-sdk/client-ec2';
import { CREDS } from './server.ts';
import { timed } from './run.ts';

export type Json = Record<string, any>;

/** A network ACL entry, without the ACL it goes into. */
export type AclEntry = Omit<CreateNetworkAclEntryCommandInput, 'NetworkAclId'>;

/** What the route sends its traffic to (GatewayId, NatGatewayId, VpcPeeringConnectionId, …). */
export type RouteTarget = Omit<CreateRouteCommandInput, 'RouteTableId' | 'DestinationCidrBlock' | 'DestinationIpv6CidrBlock'>;

/** An instance as the tests name it: its id, its primary interface and that interface's addresses. */
export interface Launched {
  id: string;
  eni: string;
  privateIp: string;
  publicIp?: string;
  ipv6?: string;
}

/**
 * An ACL entry: all protocols unless ports are given (then tcp, `6`), as in `aws ec2
 * create-network-acl-entry --rule-number n --ingress|--egress --rule-action … --cidr-block …`.
 */
export function aclRule(
  ruleNumber: number,
  direction: 'ingress' | 'egress',
  action: 'allow' | 'deny',
  cidr: string,
  opts: { protocol?: string; ports?: [number, number] } = {},
): AclEntry {
  return {
    RuleNumber: ruleNumber,
    Protocol: opts.protocol ?? (opts.ports ? '6' : '-1'),
    RuleAction: action,
    Egress: direction === 'egress',
    CidrBlock: cidr,
    ...(opts.ports ? { PortRange: { From: opts.ports[0], To: opts.ports[1] } } : {}),
  };
}

/** A Name tag for the resource, if it is given a name (the audit names resources by it). */
const named = (type: ResourceType, name: string | undefined): { TagSpecifications?: TagSpecification[] } =>
  name === undefined ? {} : { TagSpecifications: [{ ResourceType: type, Tags: [{ Key: 'Name', Value: name }] }] };

export class EstateBuilder {
  readonly client: EC2Client;
  /** The availability zone of every subnet. */
  readonly zone: string;

  constructor(client: EC2Client, opts: { zone?: string } = {}) {
    this.client = client;
    this.zone = opts.zone ?? 'us-east-1a';
  }

  /** A VPC (with an Amazon-provided IPv6 /56 if asked); its id. */
  async vpc(cidr: string, opts: { ipv6?: boolean; name?: string } = {}): Promise<string> {
    const input = { CidrBlock: cidr, ...(opts.ipv6 ? { AmazonProvidedIpv6CidrBlock: true } : {}), ...named('vpc', opts.name) };
    return (await this.client.send(new CreateVpcCommand(input))).Vpc!.VpcId!;
  }

  /** The VPC's first IPv6 block (a /56). */
  async ipv6Block(vpcId: string): Promise<string> {
    const vpc = (await this.client.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs![0]!;
    return vpc.Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlock!;
  }

  /** A subnet in the builder's zone, with an IPv6 block associated if given; its id. */
  async subnet(vpcId: string, cidr: string, opts: { ipv6Cidr?: string; name?: string } = {}): Promise<string> {
    const input = { VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: this.zone, ...named('subnet', opts.name) };
    const id = (await this.client.send(new CreateSubnetCommand(input))).Subnet!.SubnetId!;
    if (opts.ipv6Cidr) await this.client.send(new AssociateSubnetCidrBlockCommand({ SubnetId: id, Ipv6CidrBlock: opts.ipv6Cidr }));
    return id;
  }

  /** A security group admitting `ingress` (egress: the default allow-all); its id. */
  async group(vpcId: string, name: string, ingress: IpPermission[] = [], opts: { description?: string } = {}): Promise<string> {
    const input = { GroupName: name, Description: opts.description ?? name, VpcId: vpcId };
    const id = (await this.client.send(new CreateSecurityGroupCommand(input))).GroupId!;
    if (ingress.length) await this.allowIngress(id, ingress);
    return id;
  }

  async allowIngress(groupId: string, permissions: IpPermission[]): Promise<void> {
    await this.client.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: permissions }));
  }

  /** One t3.micro with one interface in the subnet, in these groups. */
  async launch(
    subnetId: string,
    groupIds: string | string[],
    opts: { publicIp?: boolean; ipv6?: boolean; name?: string } = {},
  ): Promise<Launched> {
    const i = (
      await this.client.send(
        new RunInstancesCommand({
          ImageId: 'ami-12345678',
          InstanceType: 't3.micro',
          MinCount: 1,
          MaxCount: 1,
          ...named('instance', opts.name),
          NetworkInterfaces: [
            {
              DeviceIndex: 0,
              SubnetId: subnetId,
              Groups: typeof groupIds === 'string' ? [groupIds] : groupIds,
              AssociatePublicIpAddress: opts.publicIp ?? false,
              ...(opts.ipv6 ? { Ipv6AddressCount: 1 } : {}),
            },
          ],
        }),
      )
    ).Instances![0]!;
    const eni = i.NetworkInterfaces![0]!;
    const ipv6 = eni.Ipv6Addresses?.[0]?.Ipv6Address;
    return {
      id: i.InstanceId!,
      eni: eni.NetworkInterfaceId!,
      privateIp: i.PrivateIpAddress!,
      ...(i.PublicIpAddress ? { publicIp: i.PublicIpAddress } : {}),
      ...(ipv6 ? { ipv6 } : {}),
    };
  }

  /** An internet gateway attached to the VPC, and 0.0.0.0/0 to it in the main route table if asked; its id. */
  async internetGateway(vpcId: string, opts: { route?: boolean } = {}): Promise<string> {
    const igw = (await this.client.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await this.client.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
    if (opts.route) await this.route(await this.mainRouteTable(vpcId), '0.0.0.0/0', { GatewayId: igw });
    return igw;
  }

  async mainRouteTable(vpcId: string): Promise<string> {
    const filters = [
      { Name: 'vpc-id', Values: [vpcId] },
      { Name: 'association.main', Values: ['true'] },
    ];
    return (await this.client.send(new DescribeRouteTablesCommand({ Filters: filters }))).RouteTables![0]!.RouteTableId!;
  }

  /** A route table of its own for these subnets; its id. */
  async routeTable(vpcId: string, subnetIds: string[], opts: { name?: string } = {}): Promise<string> {
    const rt = (await this.client.send(new CreateRouteTableCommand({ VpcId: vpcId, ...named('route-table', opts.name) }))).RouteTable!
      .RouteTableId!;
    for (const s of subnetIds) await this.client.send(new AssociateRouteTableCommand({ RouteTableId: rt, SubnetId: s }));
    return rt;
  }

  /** A route to an IPv4 or (with a `:`) IPv6 destination. */
  async route(routeTableId: string, destination: string, target: RouteTarget): Promise<void> {
    const dest = destination.includes(':') ? { DestinationIpv6CidrBlock: destination } : { DestinationCidrBlock: destination };
    await this.client.send(new CreateRouteCommand({ RouteTableId: routeTableId, ...dest, ...target }));
  }

  /** A new network ACL with these entries (the rest hits its `*` deny), put on the subnet; its id. */
  async customAcl(vpcId: string, subnetId: string, entries: AclEntry[] = [], opts: { name?: string } = {}): Promise<string> {
    const acl = (await this.client.send(new CreateNetworkAclCommand({ VpcId: vpcId, ...named('network-acl', opts.name) }))).NetworkAcl!
      .NetworkAclId!;
    for (const e of entries) await this.aclEntry(acl, e);
    const filters = [{ Name: 'association.subnet-id', Values: [subnetId] }];
    const current = (await this.client.send(new DescribeNetworkAclsCommand({ Filters: filters }))).NetworkAcls![0]!;
    const assoc = current.Associations!.find((a) => a.SubnetId === subnetId)!.NetworkAclAssociationId!;
    await this.client.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: assoc, NetworkAclId: acl }));
    return acl;
  }

  async aclEntry(aclId: string, entry: AclEntry): Promise<void> {
    await this.client.send(new CreateNetworkAclEntryCommand({ ...entry, NetworkAclId: aclId }));
  }

  /** A peering connection from `a` to `b`, accepted unless asked not to be; its id (no routes). */
  async peering(a: string, b: string, opts: { accept?: boolean } = {}): Promise<string> {
    const pcx = (await this.client.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: b }))).VpcPeeringConnection!
      .VpcPeeringConnectionId!;
    if (opts.accept ?? true) await this.client.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
    return pcx;
  }

  /** A NAT gateway in the subnet, on a new Elastic IP; its id. */
  async natGateway(subnetId: string): Promise<string> {
    const alloc = (await this.client.send(new AllocateAddressCommand({ Domain: 'vpc' }))).AllocationId!;
    return (await this.client.send(new CreateNatGatewayCommand({ SubnetId: subnetId, AllocationId: alloc }))).NatGateway!.NatGatewayId!;
  }
}

/** POSTs JSON to the server's admin API. */
export async function adminPost(url: string, path: string, body: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

async function answer(url: string, path: string, body: unknown): Promise<Json> {
  const res = await adminPost(url, path, body);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** The verdict on one flow (POST /_palisade/network/evaluate). */
export async function evaluate(url: string, flow: Json): Promise<Json> {
  return (await answer(url, '/_palisade/network/evaluate', { flows: [flow] })).results[0] as Json;
}

/** Can A reach B, or who can reach B (POST /_palisade/network/reach). */
export function reach(url: string, query: Json): Promise<Json> {
  return answer(url, '/_palisade/network/reach', query);
}

/** Reachability Analyzer: creates the path (tcp unless told), analyses it and returns the analysis. */
export async function analysePath(
  client: EC2Client,
  path: Omit<CreateNetworkInsightsPathCommandInput, 'Protocol'> & { Protocol?: CreateNetworkInsightsPathCommandInput['Protocol'] },
): Promise<NetworkInsightsAnalysis> {
  const { NetworkInsightsPath } = await client.send(new CreateNetworkInsightsPathCommand({ Protocol: 'tcp', ...path }));
  const { NetworkInsightsAnalysis } = await client.send(
    new StartNetworkInsightsAnalysisCommand({ NetworkInsightsPathId: NetworkInsightsPath!.NetworkInsightsPathId }),
  );
  const got = await client.send(
    new DescribeNetworkInsightsAnalysesCommand({ NetworkInsightsAnalysisIds: [NetworkInsightsAnalysis!.NetworkInsightsAnalysisId!] }),
  );
  return got.NetworkInsightsAnalyses![0]!;
}

const run = timed(promisify(execFile));

/** `aws ec2 … --output json` against the server (the test credentials, no config files); the parsed answer. */
function awsEc2(url: string): (...args: string[]) => Promise<any> {
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
  return async (...args) => JSON.parse((await run('aws', ['ec2', ...args, '--endpoint-url', url, '--output', 'json'], { env })).stdout);
}

/**
 * Reachability Analyzer through the aws CLI (tcp to the port): create-network-insights-path,
 * start-network-insights-analysis, describe-network-insights-analyses. What the start answered, and the analysis.
 */
export async function awsAnalysePath(
  url: string,
  source: string,
  destination: string,
  port: number,
): Promise<{ started: Json; analysis: Json }> {
  const aws = awsEc2(url);
  const path = await aws(
    'create-network-insights-path',
    ...['--source', source, '--destination', destination, '--protocol', 'TCP', '--destination-port', String(port)],
  );
  const started = await aws(
    'start-network-insights-analysis',
    '--network-insights-path-id',
    path.NetworkInsightsPath.NetworkInsightsPathId,
  );
  const id = started.NetworkInsightsAnalysis.NetworkInsightsAnalysisId;
  const out = await aws('describe-network-insights-analyses', '--network-insights-analysis-ids', id);
  return { started, analysis: out.NetworkInsightsAnalyses[0] };
}
