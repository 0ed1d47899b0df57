// End-to-end: what surrounds a VPC — its DNS attributes, DHCP options, internet and egress-only
// gateways, Elastic IPs, NAT gateways and IPv6 addressing — driven with @aws-sdk/client-ec2
// against a real server. Every refused call is checked to have changed nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AssociateDhcpOptionsCommand,
  AssociateSubnetCidrBlockCommand,
  AssociateVpcCidrBlockCommand,
  AuthorizeSecurityGroupIngressCommand,
  AttachInternetGatewayCommand,
  CreateDhcpOptionsCommand,
  CreateEgressOnlyInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteDhcpOptionsCommand,
  DeleteEgressOnlyInternetGatewayCommand,
  DeleteInternetGatewayCommand,
  DeleteNatGatewayCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeAddressesAttributeCommand,
  DescribeAddressesCommand,
  DescribeDhcpOptionsCommand,
  DescribeEgressOnlyInternetGatewaysCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DetachInternetGatewayCommand,
  DisassociateAddressCommand,
  DisassociateSubnetCidrBlockCommand,
  DisassociateVpcCidrBlockCommand,
  ModifySubnetAttributeCommand,
  CreateNetworkInterfaceCommand,
  AttachNetworkInterfaceCommand,
  ReleaseAddressCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  ModifyVpcAttributeCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { awsError, ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';

let server: Palisade;
let client: EC2Client;
before(async () => {
  server = await start();
  client = ec2(server.url);
});
after(async () => server.close());

async function newVpc(c: EC2Client, cidr: string, ipv6 = false): Promise<string> {
  return (await c.send(new CreateVpcCommand({ CidrBlock: cidr, AmazonProvidedIpv6CidrBlock: ipv6 }))).Vpc!.VpcId!;
}

async function defaultVpcId(c: EC2Client): Promise<string> {
  const { Vpcs } = await c.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }));
  return Vpcs![0]!.VpcId!;
}

async function attribute(
  c: EC2Client,
  vpcId: string,
  name: 'enableDnsSupport' | 'enableDnsHostnames' | 'enableNetworkAddressUsageMetrics',
) {
  const out = await c.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: name }));
  assert.equal(out.VpcId, vpcId);
  const v =
    name === 'enableDnsSupport'
      ? out.EnableDnsSupport
      : name === 'enableDnsHostnames'
        ? out.EnableDnsHostnames
        : out.EnableNetworkAddressUsageMetrics;
  return v?.Value;
}

describe('VPC attributes', () => {
  it('defaults as AWS: DNS support on; DNS hostnames on in the default VPC only; usage metrics off', async () => {
    const def = await defaultVpcId(client);
    assert.equal(await attribute(client, def, 'enableDnsSupport'), true);
    assert.equal(await attribute(client, def, 'enableDnsHostnames'), true);
    assert.equal(await attribute(client, def, 'enableNetworkAddressUsageMetrics'), false);
    const vpc = await newVpc(client, '10.60.0.0/16');
    assert.equal(await attribute(client, vpc, 'enableDnsSupport'), true);
    assert.equal(await attribute(client, vpc, 'enableDnsHostnames'), false);
    assert.equal(await attribute(client, vpc, 'enableNetworkAddressUsageMetrics'), false);
  });

  it('ModifyVpcAttribute changes one attribute per call; two at once is InvalidParameterCombination', async () => {
    const vpc = await newVpc(client, '10.61.0.0/16');
    await client.send(new ModifyVpcAttributeCommand({ VpcId: vpc, EnableDnsHostnames: { Value: true } }));
    assert.equal(await attribute(client, vpc, 'enableDnsHostnames'), true);
    await client.send(new ModifyVpcAttributeCommand({ VpcId: vpc, EnableNetworkAddressUsageMetrics: { Value: true } }));
    assert.equal(await attribute(client, vpc, 'enableNetworkAddressUsageMetrics'), true);
    await client.send(new ModifyVpcAttributeCommand({ VpcId: vpc, EnableDnsSupport: { Value: false } }));
    assert.equal(await attribute(client, vpc, 'enableDnsSupport'), false);
    const e = await awsError(() =>
      client.send(new ModifyVpcAttributeCommand({ VpcId: vpc, EnableDnsSupport: { Value: true }, EnableDnsHostnames: { Value: false } })),
    );
    assert.equal(e.name, 'InvalidParameterCombination');
    assert.match(e.message, /^Fields for multiple attribute types specified: /);
    // Nothing changed by the refused call.
    assert.equal(await attribute(client, vpc, 'enableDnsSupport'), false);
    assert.equal(await attribute(client, vpc, 'enableDnsHostnames'), true);
  });

  it('malformed and unknown VPC ids, a missing attribute', async () => {
    let e = await awsError(() => client.send(new DescribeVpcAttributeCommand({ VpcId: 'vpc-zz', Attribute: 'enableDnsSupport' })));
    assert.equal(e.name, 'InvalidVpcID.Malformed');
    e = await awsError(() =>
      client.send(new DescribeVpcAttributeCommand({ VpcId: 'vpc-0123456789abcdef0', Attribute: 'enableDnsSupport' })),
    );
    assert.equal(e.name, 'InvalidVpcID.NotFound');
    assert.equal(e.message, "The vpc ID 'vpc-0123456789abcdef0' does not exist");
    e = await awsError(() =>
      client.send(new ModifyVpcAttributeCommand({ VpcId: 'vpc-0123456789abcdef0', EnableDnsHostnames: { Value: true } })),
    );
    assert.equal(e.name, 'InvalidVpcID.NotFound');
    const vpc = await newVpc(client, '10.62.0.0/16');
    e = await awsError(() => client.send(new DescribeVpcAttributeCommand({ VpcId: vpc, Attribute: undefined as never })));
    assert.equal(e.name, 'MissingParameter');
  });
});

async function vpcOf(c: EC2Client, vpcId: string) {
  return (await c.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs![0]!;
}

describe('DHCP options', () => {
  it("every region has AWS's default set; the default VPC and new VPCs start with it", async () => {
    const def = await vpcOf(client, await defaultVpcId(client));
    assert.match(def.DhcpOptionsId!, /^dopt-[0-9a-f]{17}$/);
    const { DhcpOptions } = await client.send(new DescribeDhcpOptionsCommand({ DhcpOptionsIds: [def.DhcpOptionsId!] }));
    assert.deepEqual(DhcpOptions![0]!.DhcpConfigurations, [
      { Key: 'domain-name', Values: [{ Value: 'ec2.internal' }] },
      { Key: 'domain-name-servers', Values: [{ Value: 'AmazonProvidedDNS' }] },
    ]);
    assert.equal(DhcpOptions![0]!.OwnerId, '000000000000');
    const vpc = await vpcOf(client, await newVpc(client, '10.63.0.0/16'));
    assert.equal(vpc.DhcpOptionsId, def.DhcpOptionsId);
    // Elsewhere the domain is the region's.
    const eu = ec2(server.url, { region: 'eu-west-1' });
    const euDef = await vpcOf(eu, await defaultVpcId(eu));
    const euSet = (await eu.send(new DescribeDhcpOptionsCommand({ DhcpOptionsIds: [euDef.DhcpOptionsId!] }))).DhcpOptions![0]!;
    assert.deepEqual(euSet.DhcpConfigurations![0], { Key: 'domain-name', Values: [{ Value: 'eu-west-1.compute.internal' }] });
    assert.notEqual(euDef.DhcpOptionsId, def.DhcpOptionsId);
    // Scoped by region: the other region's set is not found here.
    const e = await awsError(() => client.send(new DescribeDhcpOptionsCommand({ DhcpOptionsIds: [euDef.DhcpOptionsId!] })));
    assert.equal(e.name, 'InvalidDhcpOptionID.NotFound');
  });

  it('CreateDhcpOptions keeps the options in order, with tags; Describe filters by id, key, value and tag', async () => {
    const { DhcpOptions: d } = await client.send(
      new CreateDhcpOptionsCommand({
        DhcpConfigurations: [
          { Key: 'domain-name-servers', Values: ['10.0.0.2', '10.0.0.3'] },
          { Key: 'domain-name', Values: ['corp.example.com'] },
          { Key: 'ntp-servers', Values: ['169.254.169.123'] },
          { Key: 'netbios-node-type', Values: ['2'] },
        ],
        TagSpecifications: [{ ResourceType: 'dhcp-options', Tags: [{ Key: 'Name', Value: 'corp' }] }],
      }),
    );
    assert.match(d!.DhcpOptionsId!, /^dopt-[0-9a-f]{17}$/);
    assert.deepEqual(d!.DhcpConfigurations, [
      { Key: 'domain-name', Values: [{ Value: 'corp.example.com' }] },
      { Key: 'domain-name-servers', Values: [{ Value: '10.0.0.2' }, { Value: '10.0.0.3' }] },
      { Key: 'ntp-servers', Values: [{ Value: '169.254.169.123' }] },
      { Key: 'netbios-node-type', Values: [{ Value: '2' }] },
    ]);
    assert.deepEqual(d!.Tags, [{ Key: 'Name', Value: 'corp' }]);
    const ids = async (Filters: { Name: string; Values: string[] }[]) =>
      ((await client.send(new DescribeDhcpOptionsCommand({ Filters }))).DhcpOptions ?? []).map((x) => x.DhcpOptionsId);
    assert.deepEqual(await ids([{ Name: 'tag:Name', Values: ['corp'] }]), [d!.DhcpOptionsId]);
    assert.deepEqual(await ids([{ Name: 'value', Values: ['10.0.0.3'] }]), [d!.DhcpOptionsId]);
    assert.deepEqual(await ids([{ Name: 'key', Values: ['netbios-node-type'] }]), [d!.DhcpOptionsId]);
    assert.deepEqual(await ids([{ Name: 'dhcp-options-id', Values: [d!.DhcpOptionsId!] }]), [d!.DhcpOptionsId]);
    assert.ok((await ids([{ Name: 'key', Values: ['domain-name'] }])).length >= 2, 'the default set has a domain name too');
    const e = await awsError(() => client.send(new DescribeDhcpOptionsCommand({ Filters: [{ Name: 'bogus', Values: ['x'] }] })));
    assert.equal(e.name, 'InvalidParameterValue');
  });

  it('refuses unknown options and values AWS does not take, creating nothing', async () => {
    const before = (await client.send(new DescribeDhcpOptionsCommand({}))).DhcpOptions!.length;
    const bad: { Key: string; Values: string[] }[][] = [
      [{ Key: 'tftp-server', Values: ['10.0.0.1'] }],
      [{ Key: 'netbios-node-type', Values: ['3'] }],
      [{ Key: 'domain-name-servers', Values: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'] }],
      [{ Key: 'domain-name-servers', Values: ['not-an-address'] }],
      [{ Key: 'ipv6-address-preferred-lease-time', Values: ['60'] }],
    ];
    for (const DhcpConfigurations of bad) {
      const e = await awsError(() => client.send(new CreateDhcpOptionsCommand({ DhcpConfigurations })));
      assert.equal(e.name, 'InvalidParameterValue', JSON.stringify(DhcpConfigurations));
    }
    const e = await awsError(() => client.send(new CreateDhcpOptionsCommand({ DhcpConfigurations: [] })));
    assert.equal(e.name, 'MissingParameter');
    assert.equal((await client.send(new DescribeDhcpOptionsCommand({}))).DhcpOptions!.length, before);
  });

  it('AssociateDhcpOptions (and `default`); DeleteDhcpOptions is DependencyViolation while a VPC uses the set', async () => {
    const vpcId = await newVpc(client, '10.64.0.0/16');
    const original = (await vpcOf(client, vpcId)).DhcpOptionsId!;
    const dopt = (await client.send(new CreateDhcpOptionsCommand({ DhcpConfigurations: [{ Key: 'domain-name', Values: ['a.example'] }] })))
      .DhcpOptions!.DhcpOptionsId!;
    await client.send(new AssociateDhcpOptionsCommand({ DhcpOptionsId: dopt, VpcId: vpcId }));
    assert.equal((await vpcOf(client, vpcId)).DhcpOptionsId, dopt);
    const byFilter = await client.send(new DescribeVpcsCommand({ Filters: [{ Name: 'dhcp-options-id', Values: [dopt] }] }));
    assert.deepEqual(
      byFilter.Vpcs!.map((v) => v.VpcId),
      [vpcId],
    );
    let e = await awsError(() => client.send(new DeleteDhcpOptionsCommand({ DhcpOptionsId: dopt })));
    assert.equal(e.name, 'DependencyViolation');
    assert.equal(e.message, `The dhcpOptions '${dopt}' has dependencies and cannot be deleted.`);
    assert.equal((await client.send(new DescribeDhcpOptionsCommand({ DhcpOptionsIds: [dopt] }))).DhcpOptions!.length, 1);
    // The default set is in use too.
    e = await awsError(() => client.send(new DeleteDhcpOptionsCommand({ DhcpOptionsId: original })));
    assert.equal(e.name, 'DependencyViolation');
    // `default`: no options at all.
    await client.send(new AssociateDhcpOptionsCommand({ DhcpOptionsId: 'default', VpcId: vpcId }));
    assert.equal((await vpcOf(client, vpcId)).DhcpOptionsId, 'default');
    await client.send(new DeleteDhcpOptionsCommand({ DhcpOptionsId: dopt }));
    e = await awsError(() => client.send(new DescribeDhcpOptionsCommand({ DhcpOptionsIds: [dopt] })));
    assert.equal(e.name, 'InvalidDhcpOptionID.NotFound');
    e = await awsError(() => client.send(new DeleteDhcpOptionsCommand({ DhcpOptionsId: dopt })));
    assert.equal(e.name, 'InvalidDhcpOptionID.NotFound');
    await client.send(new AssociateDhcpOptionsCommand({ DhcpOptionsId: original, VpcId: vpcId }));
    assert.equal((await vpcOf(client, vpcId)).DhcpOptionsId, original);
  });

  it('malformed and unknown ids; an unknown VPC changes nothing', async () => {
    let e = await awsError(() => client.send(new DescribeDhcpOptionsCommand({ DhcpOptionsIds: ['dopt-xyz'] })));
    assert.equal(e.name, 'InvalidDhcpOptionsId.Malformed');
    assert.equal(e.message, 'Invalid id: "dopt-xyz" (expecting "dopt-...")');
    e = await awsError(() => client.send(new DeleteDhcpOptionsCommand({ DhcpOptionsId: 'dopt-0123456789abcdef0' })));
    assert.equal(e.name, 'InvalidDhcpOptionID.NotFound');
    const vpcId = await newVpc(client, '10.65.0.0/16');
    e = await awsError(() => client.send(new AssociateDhcpOptionsCommand({ DhcpOptionsId: 'dopt-0123456789abcdef0', VpcId: vpcId })));
    assert.equal(e.name, 'InvalidDhcpOptionID.NotFound');
    const dopt = (await client.send(new CreateDhcpOptionsCommand({ DhcpConfigurations: [{ Key: 'domain-name', Values: ['b.example'] }] })))
      .DhcpOptions!.DhcpOptionsId!;
    e = await awsError(() => client.send(new AssociateDhcpOptionsCommand({ DhcpOptionsId: dopt, VpcId: 'vpc-0123456789abcdef0' })));
    assert.equal(e.name, 'InvalidVpcID.NotFound');
    assert.notEqual((await vpcOf(client, vpcId)).DhcpOptionsId, dopt);
    await client.send(new DeleteDhcpOptionsCommand({ DhcpOptionsId: dopt }));
  });
});

async function newIgw(c: EC2Client, vpcId?: string): Promise<string> {
  const id = (await c.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
  if (vpcId) await c.send(new AttachInternetGatewayCommand({ InternetGatewayId: id, VpcId: vpcId }));
  return id;
}

async function igwOf(c: EC2Client, id: string) {
  return (await c.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: [id] }))).InternetGateways![0]!;
}

describe('internet gateways', () => {
  it('the default VPC has one attached (state available)', async () => {
    const def = await defaultVpcId(client);
    const { InternetGateways } = await client.send(
      new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [def] }] }),
    );
    assert.equal(InternetGateways!.length, 1);
    assert.match(InternetGateways![0]!.InternetGatewayId!, /^igw-[0-9a-f]{17}$/);
    assert.deepEqual(InternetGateways![0]!.Attachments, [{ VpcId: def, State: 'available' }]);
    assert.equal(InternetGateways![0]!.OwnerId, '000000000000');
  });

  it('create (tagged, detached), attach, describe by id and filters, detach, delete', async () => {
    const vpcId = await newVpc(client, '10.70.0.0/16');
    const { InternetGateway } = await client.send(
      new CreateInternetGatewayCommand({ TagSpecifications: [{ ResourceType: 'internet-gateway', Tags: [{ Key: 'Name', Value: 'gw' }] }] }),
    );
    const id = InternetGateway!.InternetGatewayId!;
    assert.deepEqual(InternetGateway!.Attachments ?? [], []);
    assert.deepEqual(InternetGateway!.Tags, [{ Key: 'Name', Value: 'gw' }]);
    await client.send(new AttachInternetGatewayCommand({ InternetGatewayId: id, VpcId: vpcId }));
    assert.deepEqual((await igwOf(client, id)).Attachments, [{ VpcId: vpcId, State: 'available' }]);
    const byTag = await client.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'tag:Name', Values: ['gw'] }] }));
    assert.deepEqual(
      byTag.InternetGateways!.map((g) => g.InternetGatewayId),
      [id],
    );
    const byState = await client.send(
      new DescribeInternetGatewaysCommand({
        Filters: [
          { Name: 'attachment.state', Values: ['available'] },
          { Name: 'internet-gateway-id', Values: [id] },
        ],
      }),
    );
    assert.equal(byState.InternetGateways!.length, 1);
    await client.send(new DetachInternetGatewayCommand({ InternetGatewayId: id, VpcId: vpcId }));
    assert.deepEqual((await igwOf(client, id)).Attachments ?? [], []);
    await client.send(new DeleteInternetGatewayCommand({ InternetGatewayId: id }));
    const e = await awsError(() => client.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: [id] })));
    assert.equal(e.name, 'InvalidInternetGatewayID.NotFound');
    assert.equal(e.message, `The internetGateway ID '${id}' does not exist`);
    await client.send(new DeleteVpcCommand({ VpcId: vpcId }));
  });

  it('one per VPC, one VPC per gateway; refused calls change nothing', async () => {
    const a = await newVpc(client, '10.71.0.0/16');
    const b = await newVpc(client, '10.72.0.0/16');
    const g1 = await newIgw(client, a);
    const g2 = await newIgw(client);
    let e = await awsError(() => client.send(new AttachInternetGatewayCommand({ InternetGatewayId: g2, VpcId: a })));
    assert.equal(e.name, 'InvalidParameterValue');
    assert.equal(e.message, `Network ${a} already has an internet gateway attached`);
    e = await awsError(() => client.send(new AttachInternetGatewayCommand({ InternetGatewayId: g1, VpcId: b })));
    assert.equal(e.name, 'Resource.AlreadyAssociated');
    assert.equal(e.message, `resource ${g1} is already attached to network ${a}`);
    e = await awsError(() => client.send(new AttachInternetGatewayCommand({ InternetGatewayId: g1, VpcId: a })));
    assert.equal(e.name, 'Resource.AlreadyAssociated');
    assert.deepEqual((await igwOf(client, g1)).Attachments, [{ VpcId: a, State: 'available' }]);
    assert.deepEqual((await igwOf(client, g2)).Attachments ?? [], []);
    // Detaching from a VPC it is not attached to.
    e = await awsError(() => client.send(new DetachInternetGatewayCommand({ InternetGatewayId: g2, VpcId: a })));
    assert.equal(e.name, 'Gateway.NotAttached');
    assert.equal(e.message, `resource ${g2} is not attached to network ${a}`);
    e = await awsError(() => client.send(new DetachInternetGatewayCommand({ InternetGatewayId: g1, VpcId: b })));
    assert.equal(e.name, 'Gateway.NotAttached');
    // An attached gateway cannot be deleted; a VPC with a gateway cannot be deleted.
    e = await awsError(() => client.send(new DeleteInternetGatewayCommand({ InternetGatewayId: g1 })));
    assert.equal(e.name, 'DependencyViolation');
    assert.equal(e.message, `The internetGateway '${g1}' has dependencies and cannot be deleted.`);
    e = await awsError(() => client.send(new DeleteVpcCommand({ VpcId: a })));
    assert.equal(e.name, 'DependencyViolation');
    assert.equal(e.message, `The vpc '${a}' has dependencies and cannot be deleted.`);
    assert.deepEqual((await igwOf(client, g1)).Attachments, [{ VpcId: a, State: 'available' }]);
    assert.equal((await client.send(new DescribeVpcsCommand({ VpcIds: [a] }))).Vpcs!.length, 1);
    await client.send(new DetachInternetGatewayCommand({ InternetGatewayId: g1, VpcId: a }));
    await client.send(new AttachInternetGatewayCommand({ InternetGatewayId: g2, VpcId: a }));
    await client.send(new DetachInternetGatewayCommand({ InternetGatewayId: g2, VpcId: a }));
    for (const g of [g1, g2]) await client.send(new DeleteInternetGatewayCommand({ InternetGatewayId: g }));
    for (const v of [a, b]) await client.send(new DeleteVpcCommand({ VpcId: v }));
  });

  it('detaching is refused while the VPC has mapped public addresses', async () => {
    const c = ec2(server.url, { region: 'us-west-2' });
    const vpcId = await newVpc(c, '10.73.0.0/16');
    const igw = await newIgw(c, vpcId);
    const subnet = (await c.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.73.1.0/24' }))).Subnet!.SubnetId!;
    const run = await c.send(
      new RunInstancesCommand({
        ImageId: 'ami-12345678',
        MinCount: 1,
        MaxCount: 1,
        NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnet, AssociatePublicIpAddress: true }],
      }),
    );
    const instanceId = run.Instances![0]!.InstanceId!;
    const e = await awsError(() => c.send(new DetachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId })));
    assert.equal(e.name, 'DependencyViolation');
    assert.equal(
      e.message,
      `Network ${vpcId} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.`,
    );
    assert.deepEqual((await igwOf(c, igw)).Attachments, [{ VpcId: vpcId, State: 'available' }]);
    await c.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    await c.send(new DetachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
    await c.send(new DeleteInternetGatewayCommand({ InternetGatewayId: igw }));
    await c.send(new DeleteSubnetCommand({ SubnetId: subnet }));
    await c.send(new DeleteVpcCommand({ VpcId: vpcId }));
  });

  it('malformed and unknown ids', async () => {
    let e = await awsError(() => client.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: ['igw-1'] })));
    assert.equal(e.name, 'InvalidInternetGatewayId.Malformed');
    assert.equal(e.message, 'Invalid id: "igw-1" (expecting "igw-...")');
    e = await awsError(() => client.send(new DeleteInternetGatewayCommand({ InternetGatewayId: 'igw-0123456789abcdef0' })));
    assert.equal(e.name, 'InvalidInternetGatewayID.NotFound');
    const def = await defaultVpcId(client);
    e = await awsError(() => client.send(new AttachInternetGatewayCommand({ InternetGatewayId: 'igw-0123456789abcdef0', VpcId: def })));
    assert.equal(e.name, 'InvalidInternetGatewayID.NotFound');
    const g = await newIgw(client);
    e = await awsError(() => client.send(new AttachInternetGatewayCommand({ InternetGatewayId: g, VpcId: 'vpc-0123456789abcdef0' })));
    assert.equal(e.name, 'InvalidVpcID.NotFound');
    assert.deepEqual((await igwOf(client, g)).Attachments ?? [], []);
    await client.send(new DeleteInternetGatewayCommand({ InternetGatewayId: g }));
  });
});

describe('egress-only internet gateways', () => {
  it('create for a VPC (attached), describe, delete; the VPC cannot be deleted while it has one', async () => {
    const vpcId = await newVpc(client, '10.74.0.0/16', true);
    const out = await client.send(
      new CreateEgressOnlyInternetGatewayCommand({
        VpcId: vpcId,
        ClientToken: 'tok-1',
        TagSpecifications: [{ ResourceType: 'egress-only-internet-gateway', Tags: [{ Key: 'Name', Value: 'v6' }] }],
      }),
    );
    const g = out.EgressOnlyInternetGateway!;
    assert.match(g.EgressOnlyInternetGatewayId!, /^eigw-[0-9a-f]{17}$/);
    assert.deepEqual(g.Attachments, [{ VpcId: vpcId, State: 'attached' }]);
    assert.deepEqual(g.Tags, [{ Key: 'Name', Value: 'v6' }]);
    assert.equal(out.ClientToken, 'tok-1');
    // The same client token answers the same gateway.
    const again = await client.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: vpcId, ClientToken: 'tok-1' }));
    assert.equal(again.EgressOnlyInternetGateway!.EgressOnlyInternetGatewayId, g.EgressOnlyInternetGatewayId);
    const listed = await client.send(
      new DescribeEgressOnlyInternetGatewaysCommand({ EgressOnlyInternetGatewayIds: [g.EgressOnlyInternetGatewayId!] }),
    );
    assert.deepEqual(listed.EgressOnlyInternetGateways, [g]);
    const byTag = await client.send(new DescribeEgressOnlyInternetGatewaysCommand({ Filters: [{ Name: 'tag:Name', Values: ['v6'] }] }));
    assert.equal(byTag.EgressOnlyInternetGateways!.length, 1);
    let e = await awsError(() => client.send(new DeleteVpcCommand({ VpcId: vpcId })));
    assert.equal(e.name, 'DependencyViolation');
    const del = await client.send(
      new DeleteEgressOnlyInternetGatewayCommand({ EgressOnlyInternetGatewayId: g.EgressOnlyInternetGatewayId }),
    );
    assert.equal(del.ReturnCode, true);
    // Gone: left out of Describe (as AWS answers), NotFound to Delete.
    const after = await client.send(
      new DescribeEgressOnlyInternetGatewaysCommand({ EgressOnlyInternetGatewayIds: [g.EgressOnlyInternetGatewayId!] }),
    );
    assert.deepEqual(after.EgressOnlyInternetGateways ?? [], []);
    e = await awsError(() =>
      client.send(new DeleteEgressOnlyInternetGatewayCommand({ EgressOnlyInternetGatewayId: g.EgressOnlyInternetGatewayId })),
    );
    assert.equal(e.name, 'InvalidGatewayID.NotFound');
    assert.equal(e.message, `The eigw ID '${g.EgressOnlyInternetGatewayId}' does not exist`);
    await client.send(new DeleteVpcCommand({ VpcId: vpcId }));
  });

  it('malformed ids, an unknown VPC', async () => {
    let e = await awsError(() =>
      client.send(new DescribeEgressOnlyInternetGatewaysCommand({ EgressOnlyInternetGatewayIds: ['eigw-nothex'] })),
    );
    assert.equal(e.name, 'InvalidEgressOnlyInternetGatewayId.Malformed');
    e = await awsError(() =>
      client.send(new DeleteEgressOnlyInternetGatewayCommand({ EgressOnlyInternetGatewayId: 'igw-0123456789abcdef0' })),
    );
    assert.equal(e.name, 'InvalidEgressOnlyInternetGatewayId.Malformed');
    const before = (await client.send(new DescribeEgressOnlyInternetGatewaysCommand({}))).EgressOnlyInternetGateways!.length;
    e = await awsError(() => client.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: 'vpc-0123456789abcdef0' })));
    assert.equal(e.name, 'InvalidVpcID.NotFound');
    assert.equal((await client.send(new DescribeEgressOnlyInternetGatewaysCommand({}))).EgressOnlyInternetGateways!.length, before);
  });
});

const EIP_RANGE = /^198\.(18|19)\.\d{1,3}\.\d{1,3}$/;

async function addressOf(c: EC2Client, allocationId: string) {
  return (await c.send(new DescribeAddressesCommand({ AllocationIds: [allocationId] }))).Addresses![0]!;
}

async function instanceOf(c: EC2Client, id: string) {
  return (await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
}

describe('Elastic IPs', () => {
  let regional: EC2Client;
  before(() => {
    regional = ec2(server.url, { region: 'us-east-2' });
  });

  it('AllocateAddress gives a vpc address of the test range, tagged; Describe by id, address and filters', async () => {
    const out = await regional.send(
      new AllocateAddressCommand({
        Domain: 'vpc',
        TagSpecifications: [{ ResourceType: 'elastic-ip', Tags: [{ Key: 'Name', Value: 'ip1' }] }],
      }),
    );
    assert.match(out.AllocationId!, /^eipalloc-[0-9a-f]{17}$/);
    assert.match(out.PublicIp!, EIP_RANGE);
    assert.equal(out.Domain, 'vpc');
    assert.equal(out.PublicIpv4Pool, 'amazon');
    assert.equal(out.NetworkBorderGroup, 'us-east-2');
    const a = await addressOf(regional, out.AllocationId!);
    assert.deepEqual(a, {
      AllocationId: out.AllocationId,
      PublicIp: out.PublicIp,
      Domain: 'vpc',
      PublicIpv4Pool: 'amazon',
      NetworkBorderGroup: 'us-east-2',
      Tags: [{ Key: 'Name', Value: 'ip1' }],
    });
    const byIp = await regional.send(new DescribeAddressesCommand({ PublicIps: [out.PublicIp!] }));
    assert.equal(byIp.Addresses![0]!.AllocationId, out.AllocationId);
    const byTag = await regional.send(new DescribeAddressesCommand({ Filters: [{ Name: 'tag:Name', Values: ['ip1'] }] }));
    assert.equal(byTag.Addresses!.length, 1);
    const byDomain = await regional.send(
      new DescribeAddressesCommand({
        Filters: [
          { Name: 'domain', Values: ['vpc'] },
          { Name: 'public-ip', Values: [out.PublicIp!] },
        ],
      }),
    );
    assert.equal(byDomain.Addresses!.length, 1);
    const attr = await regional.send(
      new DescribeAddressesAttributeCommand({ AllocationIds: [out.AllocationId!], Attribute: 'domain-name' }),
    );
    assert.deepEqual(attr.Addresses, [{ AllocationId: out.AllocationId, PublicIp: out.PublicIp }]);
    // Unique on the server: another account never gets the same address.
    const other = ec2(server.url, { region: 'us-east-2', accessKeyId: '111122223333' });
    const mine = new Set([out.PublicIp]);
    for (let i = 0; i < 5; i++) {
      const o = await other.send(new AllocateAddressCommand({}));
      assert.ok(!mine.has(o.PublicIp), 'addresses are unique');
      mine.add(o.PublicIp);
    }
    await regional.send(new ReleaseAddressCommand({ AllocationId: out.AllocationId }));
    const e = await awsError(() => regional.send(new DescribeAddressesCommand({ AllocationIds: [out.AllocationId!] })));
    assert.equal(e.name, 'InvalidAllocationID.NotFound');
    assert.equal(e.message, `The allocation ID '${out.AllocationId}' does not exist`);
  });

  it('five per account and region: the sixth is AddressLimitExceeded and allocates nothing', async () => {
    const q = ec2(server.url, { region: 'ca-central-1' });
    for (let i = 0; i < 5; i++) await q.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    const e = await awsError(() => q.send(new AllocateAddressCommand({ Domain: 'vpc' })));
    assert.equal(e.name, 'AddressLimitExceeded');
    assert.equal(e.message, 'The maximum number of addresses has been reached.');
    const all = (await q.send(new DescribeAddressesCommand({}))).Addresses!;
    assert.equal(all.length, 5);
    for (const a of all) await q.send(new ReleaseAddressCommand({ AllocationId: a.AllocationId }));
  });

  it("associated with an instance it is the instance's public IPv4 (replacing the auto-assigned one), for the data plane too", async () => {
    const inst = (await regional.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1 }))).Instances![0]!;
    const auto = (await instanceOf(regional, inst.InstanceId!)).PublicIpAddress!;
    assert.ok(auto, 'a default subnet gives a public address');
    const { AllocationId, PublicIp } = await regional.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    const { AssociationId } = await regional.send(new AssociateAddressCommand({ AllocationId, InstanceId: inst.InstanceId }));
    assert.match(AssociationId!, /^eipassoc-[0-9a-f]{17}$/);
    const i = await instanceOf(regional, inst.InstanceId!);
    assert.equal(i.PublicIpAddress, PublicIp);
    const eni = i.NetworkInterfaces![0]!;
    const a = await addressOf(regional, AllocationId!);
    assert.equal(a.AssociationId, AssociationId);
    assert.equal(a.InstanceId, inst.InstanceId);
    assert.equal(a.NetworkInterfaceId, eni.NetworkInterfaceId);
    assert.equal(a.NetworkInterfaceOwnerId, '000000000000');
    assert.equal(a.PrivateIpAddress, i.PrivateIpAddress);
    const n = (await regional.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni.NetworkInterfaceId!] })))
      .NetworkInterfaces![0]!;
    assert.equal(n.Association!.PublicIp, PublicIp);
    assert.equal(n.Association!.AllocationId, AllocationId);
    assert.equal(n.Association!.AssociationId, AssociationId);
    assert.equal(n.Association!.IpOwnerId, '000000000000');
    const byAssoc = await regional.send(new DescribeAddressesCommand({ Filters: [{ Name: 'association-id', Values: [AssociationId!] }] }));
    assert.equal(byAssoc.Addresses!.length, 1);
    const byInstance = await regional.send(
      new DescribeAddressesCommand({ Filters: [{ Name: 'instance-id', Values: [inst.InstanceId!] }] }),
    );
    assert.equal(byInstance.Addresses!.length, 1);
    // The data plane sees the Elastic IP as the interface's public address.
    const group = i.SecurityGroups![0]!.GroupId!;
    await regional.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: group,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    // (The admin API judges in the server's default region: this one is looked up by address.)
    const viaEip = await fetch(`${server.url}/_palisade/network/evaluate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ region: 'us-east-2', flows: [{ from: 'internet:203.0.113.9', to: PublicIp, protocol: 'tcp', port: 22 }] }),
    });
    assert.equal(((await viaEip.json()) as any).results[0].verdict, 'ACCEPT');
    // Disassociating gives the only interface of a running instance a new auto-assigned address.
    await regional.send(new DisassociateAddressCommand({ AssociationId }));
    const after = await instanceOf(regional, inst.InstanceId!);
    assert.ok(after.PublicIpAddress && after.PublicIpAddress !== PublicIp, 'a new auto-assigned address');
    const free = await addressOf(regional, AllocationId!);
    assert.equal(free.AssociationId, undefined);
    assert.equal(free.InstanceId, undefined);
    let e = await awsError(() => regional.send(new DisassociateAddressCommand({ AssociationId })));
    assert.equal(e.name, 'InvalidAssociationID.NotFound');
    e = await awsError(() => regional.send(new DisassociateAddressCommand({ AssociationId: 'eipassoc-1' })));
    assert.equal(e.name, 'InvalidAssociationID.Malformed');
    await regional.send(new TerminateInstancesCommand({ InstanceIds: [inst.InstanceId!] }));
    await regional.send(new ReleaseAddressCommand({ AllocationId }));
  });

  it('reassociation is automatic unless AllowReassociation is false; an interface; terminating the instance frees it', async () => {
    const inst = (await regional.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 2, MaxCount: 2 }))).Instances!;
    const [x, y] = inst.map((i) => i.InstanceId!);
    const { AllocationId, PublicIp } = await regional.send(new AllocateAddressCommand({}));
    const first = (await regional.send(new AssociateAddressCommand({ AllocationId, InstanceId: x }))).AssociationId!;
    let e = await awsError(() => regional.send(new AssociateAddressCommand({ AllocationId, InstanceId: y, AllowReassociation: false })));
    assert.equal(e.name, 'Resource.AlreadyAssociated');
    assert.equal(e.message, `resource ${AllocationId} is already associated with associate-id ${first}`);
    assert.equal((await instanceOf(regional, x!)).PublicIpAddress, PublicIp, 'nothing changed');
    assert.equal((await addressOf(regional, AllocationId!)).AssociationId, first);
    // Another address on an interface address that has one: refused with AllowReassociation=false too.
    const second = await regional.send(new AllocateAddressCommand({}));
    e = await awsError(() =>
      regional.send(new AssociateAddressCommand({ AllocationId: second.AllocationId, InstanceId: x, AllowReassociation: false })),
    );
    assert.equal(e.name, 'Resource.AlreadyAssociated');
    assert.match(e.message, /^resource eni-[0-9a-f]{17} and [\d.]+ is already associated with public address /);
    // Without it, the address moves.
    const moved = (await regional.send(new AssociateAddressCommand({ AllocationId, InstanceId: y }))).AssociationId!;
    assert.notEqual(moved, first);
    assert.equal((await instanceOf(regional, y!)).PublicIpAddress, PublicIp);
    assert.notEqual((await instanceOf(regional, x!)).PublicIpAddress, PublicIp);
    // By interface (and its private address).
    const yEni = (await instanceOf(regional, y!)).NetworkInterfaces![0]!;
    const byEni = (
      await regional.send(
        new AssociateAddressCommand({
          AllocationId: second.AllocationId,
          NetworkInterfaceId: yEni.NetworkInterfaceId,
          PrivateIpAddress: yEni.PrivateIpAddress,
        }),
      )
    ).AssociationId!;
    assert.equal((await instanceOf(regional, y!)).PublicIpAddress, second.PublicIp, 'the new one replaces the other');
    assert.equal((await addressOf(regional, AllocationId!)).AssociationId, undefined);
    e = await awsError(() =>
      regional.send(
        new AssociateAddressCommand({ AllocationId, NetworkInterfaceId: yEni.NetworkInterfaceId, PrivateIpAddress: '10.9.9.9' }),
      ),
    );
    assert.equal(e.name, 'InvalidParameterValue');
    e = await awsError(() =>
      regional.send(new AssociateAddressCommand({ AllocationId, NetworkInterfaceId: yEni.NetworkInterfaceId, InstanceId: y })),
    );
    assert.equal(e.name, 'InvalidParameterCombination');
    // Terminating the instance deletes its interface: the address is free again.
    await regional.send(new TerminateInstancesCommand({ InstanceIds: [x!, y!] }));
    const freed = await addressOf(regional, second.AllocationId!);
    assert.equal(freed.AssociationId, undefined);
    assert.equal(byEni.startsWith('eipassoc-'), true);
    for (const id of [AllocationId, second.AllocationId]) await regional.send(new ReleaseAddressCommand({ AllocationId: id }));
  });

  it('an instance with several interfaces needs the interface named; ReleaseAddress while associated outside the default VPC is InvalidIPAddress.InUse', async () => {
    const vpc = await newVpc(regional, '10.80.0.0/16');
    const igw = await newIgw(regional);
    const subnet = (await regional.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.80.1.0/24' }))).Subnet!.SubnetId!;
    const inst = (
      await regional.send(
        new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1, SubnetId: subnet, InstanceType: 't3.micro' }),
      )
    ).Instances![0]!;
    const { AllocationId, PublicIp } = await regional.send(new AllocateAddressCommand({}));
    // No internet gateway yet: the VPC cannot have public addresses.
    let e = await awsError(() => regional.send(new AssociateAddressCommand({ AllocationId, InstanceId: inst.InstanceId })));
    assert.equal(e.name, 'Gateway.NotAttached');
    assert.equal(e.message, `Network ${vpc} is not attached to any internet gateway`);
    await regional.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpc }));
    const eni2 = (await regional.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet }))).NetworkInterface!.NetworkInterfaceId!;
    await regional.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni2, InstanceId: inst.InstanceId, DeviceIndex: 1 }));
    e = await awsError(() => regional.send(new AssociateAddressCommand({ AllocationId, InstanceId: inst.InstanceId })));
    assert.equal(e.name, 'InvalidInstanceID');
    assert.equal(
      e.message,
      `There are multiple interfaces attached to instance '${inst.InstanceId}'. Please specify an interface ID for the operation instead.`,
    );
    const { AssociationId } = await regional.send(new AssociateAddressCommand({ AllocationId, NetworkInterfaceId: eni2 }));
    assert.equal((await addressOf(regional, AllocationId!)).InstanceId, inst.InstanceId);
    e = await awsError(() => regional.send(new ReleaseAddressCommand({ AllocationId })));
    assert.equal(e.name, 'InvalidIPAddress.InUse');
    assert.equal(e.message, `Address ${PublicIp} is in use.`);
    assert.equal((await addressOf(regional, AllocationId!)).AssociationId, AssociationId);
    // The gateway stays while the address is mapped.
    e = await awsError(() => regional.send(new DetachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpc })));
    assert.equal(e.name, 'DependencyViolation');
    await regional.send(new DisassociateAddressCommand({ AssociationId }));
    await regional.send(new ReleaseAddressCommand({ AllocationId }));
    await regional.send(new TerminateInstancesCommand({ InstanceIds: [inst.InstanceId!] }));
  });

  it('in the default VPC ReleaseAddress disassociates first', async () => {
    const inst = (await regional.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1 }))).Instances![0]!;
    const { AllocationId, PublicIp } = await regional.send(new AllocateAddressCommand({}));
    await regional.send(new AssociateAddressCommand({ AllocationId, InstanceId: inst.InstanceId }));
    await regional.send(new ReleaseAddressCommand({ AllocationId }));
    const i = await instanceOf(regional, inst.InstanceId!);
    assert.ok(i.PublicIpAddress && i.PublicIpAddress !== PublicIp);
    await regional.send(new TerminateInstancesCommand({ InstanceIds: [inst.InstanceId!] }));
  });

  it('malformed and unknown ids; refused calls change nothing', async () => {
    let e = await awsError(() => regional.send(new DescribeAddressesCommand({ AllocationIds: ['eipalloc-12'] })));
    assert.equal(e.name, 'InvalidAllocationID.Malformed');
    assert.equal(e.message, 'Invalid id: "eipalloc-12" (expecting "eipalloc-...")');
    e = await awsError(() => regional.send(new DescribeAddressesCommand({ PublicIps: ['198.18.0.1'] })));
    assert.equal(e.name, 'InvalidAddress.NotFound');
    e = await awsError(() => regional.send(new ReleaseAddressCommand({ AllocationId: 'eipalloc-0123456789abcdef0' })));
    assert.equal(e.name, 'InvalidAllocationID.NotFound');
    e = await awsError(() => regional.send(new ReleaseAddressCommand({ PublicIp: '198.18.0.1' })));
    assert.equal(e.name, 'InvalidParameterValue');
    assert.equal(e.message, 'You must specify an allocation id when releasing a VPC elastic IP address');
    e = await awsError(() => regional.send(new AllocateAddressCommand({ Domain: 'standard' })));
    assert.equal(e.name, 'InvalidParameterValue');
    const { AllocationId } = await regional.send(new AllocateAddressCommand({}));
    e = await awsError(() => regional.send(new AssociateAddressCommand({ AllocationId, InstanceId: 'i-0123456789abcdef0' })));
    assert.equal(e.name, 'InvalidInstanceID.NotFound');
    e = await awsError(() => regional.send(new AssociateAddressCommand({ AllocationId, NetworkInterfaceId: 'eni-0123456789abcdef0' })));
    assert.equal(e.name, 'InvalidNetworkInterfaceID.NotFound');
    e = await awsError(() =>
      regional.send(new AssociateAddressCommand({ AllocationId: 'eipalloc-0123456789abcdef0', InstanceId: 'i-0123456789abcdef0' })),
    );
    assert.equal(e.name, 'InvalidAllocationID.NotFound');
    assert.equal((await addressOf(regional, AllocationId!)).AssociationId, undefined);
    await regional.send(new ReleaseAddressCommand({ AllocationId }));
  });
});

describe('NAT gateways', () => {
  let nc: EC2Client;
  let vpcId: string;
  let publicSubnet: string;
  before(async () => {
    nc = ec2(server.url, { region: 'eu-central-1' });
    vpcId = await newVpc(nc, '10.90.0.0/16');
    await newIgw(nc, vpcId);
    publicSubnet = (await nc.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.90.0.0/24' }))).Subnet!.SubnetId!;
  });

  const natOf = async (id: string) => (await nc.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [id] }))).NatGateways![0]!;

  it('public: pending in the answer, available at once, with its Elastic IP on an interface of type nat_gateway; deleted stays visible', async () => {
    const { AllocationId, PublicIp } = await nc.send(new AllocateAddressCommand({}));
    const out = await nc.send(
      new CreateNatGatewayCommand({
        SubnetId: publicSubnet,
        AllocationId,
        ClientToken: 'nat-1',
        TagSpecifications: [{ ResourceType: 'natgateway', Tags: [{ Key: 'Name', Value: 'nat' }] }],
      }),
    );
    const id = out.NatGateway!.NatGatewayId!;
    assert.match(id, /^nat-[0-9a-f]{17}$/);
    assert.equal(out.NatGateway!.State, 'pending');
    assert.equal(out.ClientToken, 'nat-1');
    const n = await natOf(id);
    assert.equal(n.State, 'available');
    assert.equal(n.ConnectivityType, 'public');
    assert.equal(n.VpcId, vpcId);
    assert.equal(n.SubnetId, publicSubnet);
    assert.ok(n.CreateTime instanceof Date);
    assert.deepEqual(n.Tags, [{ Key: 'Name', Value: 'nat' }]);
    const [addr] = n.NatGatewayAddresses!;
    assert.equal(addr!.AllocationId, AllocationId);
    assert.equal(addr!.PublicIp, PublicIp);
    assert.equal(addr!.IsPrimary, true);
    assert.equal(addr!.Status, 'succeeded');
    assert.match(addr!.PrivateIp!, /^10\.90\.0\.\d+$/);
    // The same client token answers the same gateway.
    const again = await nc.send(new CreateNatGatewayCommand({ SubnetId: publicSubnet, AllocationId, ClientToken: 'nat-1' }));
    assert.equal(again.NatGateway!.NatGatewayId, id);
    // Its interface: requester-managed, type nat_gateway, holding the Elastic IP.
    const eni = (await nc.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [addr!.NetworkInterfaceId!] })))
      .NetworkInterfaces![0]!;
    assert.equal(eni.InterfaceType, 'nat_gateway');
    assert.equal(eni.RequesterManaged, true);
    assert.equal(eni.Description, `Interface for NAT Gateway ${id}`);
    assert.equal(eni.PrivateIpAddress, addr!.PrivateIp);
    assert.equal(eni.Association!.PublicIp, PublicIp);
    const a = await addressOf(nc, AllocationId!);
    assert.equal(a.NetworkInterfaceId, addr!.NetworkInterfaceId);
    assert.equal(a.AssociationId, addr!.AssociationId);
    assert.equal(a.InstanceId, undefined);
    // The gateway's address is not the caller's to move or release.
    let e = await awsError(() => nc.send(new DisassociateAddressCommand({ AssociationId: addr!.AssociationId })));
    assert.equal(e.name, 'AuthFailure');
    e = await awsError(() => nc.send(new ReleaseAddressCommand({ AllocationId })));
    assert.equal(e.name, 'InvalidIPAddress.InUse');
    // Its subnet cannot go while it is there.
    e = await awsError(() => nc.send(new DeleteSubnetCommand({ SubnetId: publicSubnet })));
    assert.equal(e.name, 'DependencyViolation');
    // Filters.
    const byState = await nc.send(
      new DescribeNatGatewaysCommand({
        Filter: [
          { Name: 'state', Values: ['available'] },
          { Name: 'vpc-id', Values: [vpcId] },
        ],
      }),
    );
    assert.deepEqual(
      byState.NatGateways!.map((x) => x.NatGatewayId),
      [id],
    );
    // Deleted: its interface goes, its address is free, it stays visible as deleted.
    const del = await nc.send(new DeleteNatGatewayCommand({ NatGatewayId: id }));
    assert.equal(del.NatGatewayId, id);
    const gone = await natOf(id);
    assert.equal(gone.State, 'deleted');
    assert.ok(gone.DeleteTime instanceof Date);
    e = await awsError(() => nc.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [addr!.NetworkInterfaceId!] })));
    assert.equal(e.name, 'InvalidNetworkInterfaceID.NotFound');
    assert.equal((await addressOf(nc, AllocationId!)).AssociationId, undefined);
    e = await awsError(() => nc.send(new DeleteNatGatewayCommand({ NatGatewayId: id })));
    assert.equal(e.name, 'NatGatewayNotFound');
    await nc.send(new ReleaseAddressCommand({ AllocationId }));
  });

  it('private: no Elastic IP, a private address of the subnet', async () => {
    const out = await nc.send(
      new CreateNatGatewayCommand({ SubnetId: publicSubnet, ConnectivityType: 'private', PrivateIpAddress: '10.90.0.200' }),
    );
    const n = await natOf(out.NatGateway!.NatGatewayId!);
    assert.equal(n.State, 'available');
    assert.equal(n.ConnectivityType, 'private');
    assert.equal(n.NatGatewayAddresses![0]!.PrivateIp, '10.90.0.200');
    assert.equal(n.NatGatewayAddresses![0]!.AllocationId, undefined);
    const e = await awsError(() =>
      nc.send(new CreateNatGatewayCommand({ SubnetId: publicSubnet, ConnectivityType: 'private', PrivateIpAddress: '10.90.0.200' })),
    );
    assert.equal(e.name, 'InvalidIPAddress.InUse');
    await nc.send(new DeleteNatGatewayCommand({ NatGatewayId: n.NatGatewayId }));
  });

  it('fails (state failed, as AWS reports it) with an Elastic IP already associated or without an internet gateway', async () => {
    const { AllocationId } = await nc.send(new AllocateAddressCommand({}));
    const first = (await nc.send(new CreateNatGatewayCommand({ SubnetId: publicSubnet, AllocationId }))).NatGateway!.NatGatewayId!;
    const second = (await nc.send(new CreateNatGatewayCommand({ SubnetId: publicSubnet, AllocationId }))).NatGateway!.NatGatewayId!;
    const failed = await natOf(second);
    assert.equal(failed.State, 'failed');
    assert.equal(failed.FailureCode, 'Resource.AlreadyAssociated');
    assert.equal(failed.FailureMessage, `Elastic IP address [${AllocationId}] is already associated`);
    assert.equal((await natOf(first)).NatGatewayAddresses![0]!.AllocationId, AllocationId, 'the first keeps its address');
    const enis = (await nc.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'subnet-id', Values: [publicSubnet] }] })))
      .NetworkInterfaces!;
    assert.equal(enis.filter((x) => (x.InterfaceType as string) === 'nat_gateway').length, 1, 'no interface for the failed one');
    await nc.send(new DeleteNatGatewayCommand({ NatGatewayId: first }));
    await nc.send(new DeleteNatGatewayCommand({ NatGatewayId: second }));
    // A VPC without an internet gateway.
    const lone = await newVpc(nc, '10.91.0.0/16');
    const sn = (await nc.send(new CreateSubnetCommand({ VpcId: lone, CidrBlock: '10.91.0.0/24' }))).Subnet!.SubnetId!;
    const n = await natOf((await nc.send(new CreateNatGatewayCommand({ SubnetId: sn, AllocationId }))).NatGateway!.NatGatewayId!);
    assert.equal(n.State, 'failed');
    assert.equal(n.FailureCode, 'Gateway.NotAttached');
    assert.equal(n.FailureMessage, `Network ${lone} has no Internet gateway attached`);
    assert.equal((await addressOf(nc, AllocationId!)).AssociationId, undefined);
    await nc.send(new ReleaseAddressCommand({ AllocationId }));
  });

  it('refuses malformed, unknown and missing parameters, creating nothing', async () => {
    const count = async () => (await nc.send(new DescribeNatGatewaysCommand({}))).NatGateways!.length;
    const before = await count();
    let e = await awsError(() => nc.send(new CreateNatGatewayCommand({ SubnetId: publicSubnet })));
    assert.equal(e.name, 'MissingParameter');
    e = await awsError(() => nc.send(new CreateNatGatewayCommand({ SubnetId: publicSubnet, AllocationId: 'eipalloc-0123456789abcdef0' })));
    assert.equal(e.name, 'InvalidAllocationID.NotFound');
    e = await awsError(() => nc.send(new CreateNatGatewayCommand({ SubnetId: 'subnet-0123456789abcdef0', ConnectivityType: 'private' })));
    assert.equal(e.name, 'InvalidSubnetID.NotFound');
    const { AllocationId } = await nc.send(new AllocateAddressCommand({}));
    e = await awsError(() => nc.send(new CreateNatGatewayCommand({ SubnetId: publicSubnet, ConnectivityType: 'private', AllocationId })));
    assert.equal(e.name, 'InvalidParameterCombination');
    assert.equal(await count(), before);
    e = await awsError(() => nc.send(new DescribeNatGatewaysCommand({ NatGatewayIds: ['nat-123'] })));
    assert.equal(e.name, 'NatGatewayMalformed');
    e = await awsError(() => nc.send(new DescribeNatGatewaysCommand({ NatGatewayIds: ['nat-0123456789abcdef0'] })));
    assert.equal(e.name, 'NatGatewayNotFound');
    assert.equal(e.message, 'The Nat Gateway nat-0123456789abcdef0 was not found');
    e = await awsError(() => nc.send(new DeleteNatGatewayCommand({ NatGatewayId: 'nat-0123456789abcdef0' })));
    assert.equal(e.name, 'NatGatewayNotFound');
    await nc.send(new ReleaseAddressCommand({ AllocationId }));
  });
});

/** A /64 of the VPC's /56 (the n-th). */
function slash64(block: string, n: number): string {
  const [addr] = block.split('/');
  const groups = addr!.replace(/::$/, '').split(':');
  while (groups.length < 4) groups.push('0');
  const fourth = (parseInt(groups[3]!, 16) + n).toString(16);
  return `${groups.slice(0, 3).join(':')}:${fourth}::/64`;
}

async function subnetOf(c: EC2Client, id: string) {
  return (await c.send(new DescribeSubnetsCommand({ SubnetIds: [id] }))).Subnets![0]!;
}

describe('IPv6 addressing', () => {
  it('CreateVpc with an Amazon block: associating in the answer, associated after; pool, border group, source', async () => {
    const out = await client.send(new CreateVpcCommand({ CidrBlock: '10.100.0.0/16', AmazonProvidedIpv6CidrBlock: true }));
    assert.equal(out.Vpc!.Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlockState!.State, 'associating');
    const a = (await vpcOf(client, out.Vpc!.VpcId!)).Ipv6CidrBlockAssociationSet![0]!;
    assert.equal(a.Ipv6CidrBlockState!.State, 'associated');
    assert.match(a.Ipv6CidrBlock!, /\/56$/);
    assert.equal(a.Ipv6Pool, 'Amazon');
    assert.equal(a.NetworkBorderGroup, 'us-east-1');
    assert.equal(a.IpSource, 'amazon');
    assert.equal(a.Ipv6AddressAttribute, 'public');
    const e = await awsError(() =>
      client.send(
        new CreateVpcCommand({
          CidrBlock: '10.101.0.0/16',
          AmazonProvidedIpv6CidrBlock: true,
          Ipv6CidrBlockNetworkBorderGroup: 'us-west-2',
        }),
      ),
    );
    assert.equal(e.name, 'InvalidParameterValue');
  });

  it('AssociateVpcCidrBlock / DisassociateVpcCidrBlock of an Amazon block (not while a subnet uses it)', async () => {
    const vpcId = await newVpc(client, '10.102.0.0/16');
    const out = await client.send(
      new AssociateVpcCidrBlockCommand({ VpcId: vpcId, AmazonProvidedIpv6CidrBlock: true, Ipv6CidrBlockNetworkBorderGroup: 'us-east-1' }),
    );
    const assoc = out.Ipv6CidrBlockAssociation!;
    assert.equal(assoc.Ipv6CidrBlockState!.State, 'associating');
    assert.equal(assoc.NetworkBorderGroup, 'us-east-1');
    assert.equal(assoc.Ipv6Pool, 'Amazon');
    const filtered = await client.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'ipv6-cidr-block-association.association-id', Values: [assoc.AssociationId!] }] }),
    );
    assert.equal(filtered.Vpcs![0]!.Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlockState!.State, 'associated');
    const subnet = (
      await client.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.102.1.0/24', Ipv6CidrBlock: slash64(assoc.Ipv6CidrBlock!, 1) }),
      )
    ).Subnet!.SubnetId!;
    let e = await awsError(() => client.send(new DisassociateVpcCidrBlockCommand({ AssociationId: assoc.AssociationId })));
    assert.equal(e.name, 'InvalidCidrBlock.InUse');
    await client.send(new DeleteSubnetCommand({ SubnetId: subnet }));
    const gone = await client.send(new DisassociateVpcCidrBlockCommand({ AssociationId: assoc.AssociationId }));
    assert.equal(gone.Ipv6CidrBlockAssociation!.Ipv6CidrBlockState!.State, 'disassociating');
    assert.deepEqual((await vpcOf(client, vpcId)).Ipv6CidrBlockAssociationSet ?? [], []);
    e = await awsError(() => client.send(new DisassociateVpcCidrBlockCommand({ AssociationId: assoc.AssociationId })));
    assert.equal(e.name, 'InvalidVpcCidrBlockAssociationID.NotFound');
    e = await awsError(() =>
      client.send(
        new AssociateVpcCidrBlockCommand({ VpcId: vpcId, Ipv6Pool: 'ipv6pool-ec2-0123456789abcdef0', Ipv6CidrBlock: '2001:db8::/56' }),
      ),
    );
    assert.equal(e.name, 'InvalidParameterCombination');
  });

  it('dual-stack subnets: IPv6 at creation or associated later; disassociated (assign-on-creation goes off)', async () => {
    const vpcId = await newVpc(client, '10.103.0.0/16', true);
    const block = (await vpcOf(client, vpcId)).Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlock!;
    const s1 = (await client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.103.1.0/24', Ipv6CidrBlock: slash64(block, 1) })))
      .Subnet!;
    assert.equal(s1.Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlock, slash64(block, 1));
    assert.equal(s1.Ipv6Native, false);
    const s2 = (await client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.103.2.0/24' }))).Subnet!;
    const out = await client.send(new AssociateSubnetCidrBlockCommand({ SubnetId: s2.SubnetId, Ipv6CidrBlock: slash64(block, 2) }));
    assert.equal(out.Ipv6CidrBlockAssociation!.Ipv6CidrBlockState!.State, 'associating');
    const d = await subnetOf(client, s2.SubnetId!);
    assert.equal(d.Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlockState!.State, 'associated');
    let e = await awsError(() =>
      client.send(new AssociateSubnetCidrBlockCommand({ SubnetId: s2.SubnetId, Ipv6CidrBlock: slash64(block, 1) })),
    );
    assert.equal(e.name, 'CidrLimitExceeded');
    await client.send(new ModifySubnetAttributeCommand({ SubnetId: s2.SubnetId, AssignIpv6AddressOnCreation: { Value: true } }));
    const dis = await client.send(new DisassociateSubnetCidrBlockCommand({ AssociationId: out.Ipv6CidrBlockAssociation!.AssociationId }));
    assert.equal(dis.Ipv6CidrBlockAssociation!.Ipv6CidrBlockState!.State, 'disassociating');
    const after = await subnetOf(client, s2.SubnetId!);
    assert.deepEqual(after.Ipv6CidrBlockAssociationSet ?? [], []);
    assert.equal(after.AssignIpv6AddressOnCreation, false);
    e = await awsError(() =>
      client.send(new DisassociateSubnetCidrBlockCommand({ AssociationId: out.Ipv6CidrBlockAssociation!.AssociationId })),
    );
    assert.equal(e.name, 'InvalidSubnetCidrBlockAssociationID.NotFound');
    // Not while an interface holds an address of the block.
    await client.send(new ModifySubnetAttributeCommand({ SubnetId: s1.SubnetId, AssignIpv6AddressOnCreation: { Value: true } }));
    const eni = (await client.send(new CreateNetworkInterfaceCommand({ SubnetId: s1.SubnetId }))).NetworkInterface!;
    assert.equal(eni.Ipv6Addresses!.length, 1);
    e = await awsError(() =>
      client.send(new DisassociateSubnetCidrBlockCommand({ AssociationId: s1.Ipv6CidrBlockAssociationSet![0]!.AssociationId })),
    );
    assert.equal(e.name, 'InvalidCidrBlock.InUse');
    assert.equal((await subnetOf(client, s1.SubnetId!)).Ipv6CidrBlockAssociationSet!.length, 1);
  });

  it('IPv6-only subnets: AWS defaults, and the checks of Ipv6Native', async () => {
    const vpcId = await newVpc(client, '10.104.0.0/16', true);
    const block = (await vpcOf(client, vpcId)).Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlock!;
    const { Subnet } = await client.send(new CreateSubnetCommand({ VpcId: vpcId, Ipv6Native: true, Ipv6CidrBlock: slash64(block, 3) }));
    const s = await subnetOf(client, Subnet!.SubnetId!);
    assert.equal(s.Ipv6Native, true);
    assert.equal(s.CidrBlock, undefined);
    assert.equal(s.AvailableIpAddressCount, 0);
    assert.equal(s.AssignIpv6AddressOnCreation, true);
    assert.deepEqual(s.PrivateDnsNameOptionsOnLaunch, {
      HostnameType: 'resource-name',
      EnableResourceNameDnsARecord: false,
      EnableResourceNameDnsAAAARecord: true,
    });
    const byFilter = await client.send(
      new DescribeSubnetsCommand({
        Filters: [
          { Name: 'ipv6-native', Values: ['true'] },
          { Name: 'vpc-id', Values: [vpcId] },
        ],
      }),
    );
    assert.equal(byFilter.Subnets!.length, 1);
    // Neither IPv6 parameter: MissingParameter (also with an IPv4 block); both families: InvalidParameterCombination.
    let e = await awsError(() => client.send(new CreateSubnetCommand({ VpcId: vpcId, Ipv6Native: true })));
    assert.equal(e.name, 'MissingParameter');
    assert.equal(e.message, "Either 'ipv6CidrBlock' or 'ipv6IpamPoolId' should be provided.");
    e = await awsError(() => client.send(new CreateSubnetCommand({ VpcId: vpcId, Ipv6Native: true, CidrBlock: '10.104.1.0/24' })));
    assert.equal(e.name, 'MissingParameter');
    e = await awsError(() =>
      client.send(
        new CreateSubnetCommand({ VpcId: vpcId, Ipv6Native: true, CidrBlock: '10.104.1.0/24', Ipv6CidrBlock: slash64(block, 4) }),
      ),
    );
    assert.equal(e.name, 'InvalidParameterCombination');
    assert.equal(e.message, 'When specifying ipv4 parameters, cidrBlock or ipv4IpamPoolId, you cannot set ipv6Native to true.');
    e = await awsError(() =>
      client.send(new ModifySubnetAttributeCommand({ SubnetId: s.SubnetId, PrivateDnsHostnameTypeOnLaunch: 'ip-name' })),
    );
    assert.equal(e.name, 'InvalidParameterValue');
    e = await awsError(() =>
      client.send(new DisassociateSubnetCidrBlockCommand({ AssociationId: s.Ipv6CidrBlockAssociationSet![0]!.AssociationId })),
    );
    assert.equal(e.name, 'InvalidParameterValue');
    // Only the one subnet was made.
    const all = (await client.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).Subnets!;
    assert.equal(all.length, 1);
    await client.send(new DeleteSubnetCommand({ SubnetId: s.SubnetId }));
  });

  it('ModifySubnetAttribute: every attribute Terraform sets, reported back by DescribeSubnets; one per call', async () => {
    const vpcId = await newVpc(client, '10.105.0.0/16', true);
    const block = (await vpcOf(client, vpcId)).Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlock!;
    const id = (await client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.105.1.0/24', Ipv6CidrBlock: slash64(block, 1) })))
      .Subnet!.SubnetId!;
    let s = await subnetOf(client, id);
    assert.equal(s.EnableDns64, false);
    assert.deepEqual(s.PrivateDnsNameOptionsOnLaunch, {
      HostnameType: 'ip-name',
      EnableResourceNameDnsARecord: false,
      EnableResourceNameDnsAAAARecord: false,
    });
    const modify = (x: Record<string, unknown>) => client.send(new ModifySubnetAttributeCommand({ SubnetId: id, ...x }));
    await modify({ MapPublicIpOnLaunch: { Value: true } });
    await modify({ AssignIpv6AddressOnCreation: { Value: true } });
    await modify({ EnableDns64: { Value: true } });
    await modify({ PrivateDnsHostnameTypeOnLaunch: 'resource-name' });
    await modify({ EnableResourceNameDnsARecordOnLaunch: { Value: true } });
    await modify({ EnableResourceNameDnsAAAARecordOnLaunch: { Value: true } });
    s = await subnetOf(client, id);
    assert.equal(s.MapPublicIpOnLaunch, true);
    assert.equal(s.AssignIpv6AddressOnCreation, true);
    assert.equal(s.EnableDns64, true);
    assert.deepEqual(s.PrivateDnsNameOptionsOnLaunch, {
      HostnameType: 'resource-name',
      EnableResourceNameDnsARecord: true,
      EnableResourceNameDnsAAAARecord: true,
    });
    const byFilter = await client.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'enable-dns64', Values: ['true'] }] }));
    assert.deepEqual(
      byFilter.Subnets!.map((x) => x.SubnetId),
      [id],
    );
    let e = await awsError(() => modify({ MapPublicIpOnLaunch: { Value: false }, EnableDns64: { Value: false } }));
    assert.equal(e.name, 'InvalidParameterCombination');
    assert.match(e.message, /^Fields for multiple attribute types specified: /);
    e = await awsError(() => modify({ PrivateDnsHostnameTypeOnLaunch: 'instance-name' }));
    assert.equal(e.name, 'InvalidParameterValue');
    s = await subnetOf(client, id);
    assert.equal(s.MapPublicIpOnLaunch, true, 'the refused calls changed nothing');
    assert.equal(s.EnableDns64, true);
    // Without an IPv6 block: AWS's message.
    const plain = (await client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.105.2.0/24' }))).Subnet!.SubnetId!;
    e = await awsError(() =>
      client.send(new ModifySubnetAttributeCommand({ SubnetId: plain, AssignIpv6AddressOnCreation: { Value: true } })),
    );
    assert.equal(e.name, 'InvalidParameterValue');
    assert.equal(
      e.message,
      `Invalid value 'true' for assign-ipv6-address-on-creation. Cannot set assign-ipv6-address-on-creation to true unless the subnet (${plain}) has an IPv6 CIDR block associated with it.`,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The same with the aws CLI (v1): its shorthands in, our XML out, errors on stderr.

function onPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      if (dir) {
        accessSync(join(dir, cmd), constants.X_OK);
        return join(dir, cmd);
      }
    } catch {
      /* not here */
    }
  }
  return undefined;
}
const AWS = onPath('aws');

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  Object.assign(env, {
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'x',
    AWS_DEFAULT_REGION: 'sa-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_MAX_ATTEMPTS: '1',
    AWS_PAGER: '',
  });
  return new Promise((resolve) =>
    execFile(AWS!, ['ec2', ...args, '--endpoint-url', server.url, '--output', 'json'], { env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    ),
  );
}

async function cliOk(...args: string[]): Promise<any> {
  const r = await cli(...args);
  assert.equal(r.code, 0, `aws ec2 ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : {};
}

describe('aws CLI', { skip: AWS ? false : '`aws` is not on PATH' }, () => {
  it('VPC attributes, DHCP options, an internet gateway and an Elastic IP', async () => {
    const vpc = (await cliOk('create-vpc', '--cidr-block', '10.120.0.0/16')).Vpc.VpcId;
    await cliOk('modify-vpc-attribute', '--vpc-id', vpc, '--enable-dns-hostnames', '{"Value":true}');
    const attr = await cliOk('describe-vpc-attribute', '--vpc-id', vpc, '--attribute', 'enableDnsHostnames');
    assert.deepEqual(attr, { VpcId: vpc, EnableDnsHostnames: { Value: true } });
    const dopt = (
      await cliOk(
        'create-dhcp-options',
        '--dhcp-configurations',
        'Key=domain-name,Values=cli.example',
        'Key=domain-name-servers,Values=10.0.0.2,10.0.0.3',
      )
    ).DhcpOptions;
    assert.deepEqual(dopt.DhcpConfigurations, [
      { Key: 'domain-name', Values: [{ Value: 'cli.example' }] },
      { Key: 'domain-name-servers', Values: [{ Value: '10.0.0.2' }, { Value: '10.0.0.3' }] },
    ]);
    await cliOk('associate-dhcp-options', '--dhcp-options-id', dopt.DhcpOptionsId, '--vpc-id', vpc);
    const igw = (await cliOk('create-internet-gateway')).InternetGateway.InternetGatewayId;
    await cliOk('attach-internet-gateway', '--internet-gateway-id', igw, '--vpc-id', vpc);
    const listed = await cliOk('describe-internet-gateways', '--internet-gateway-ids', igw);
    assert.deepEqual(listed.InternetGateways[0].Attachments, [{ State: 'available', VpcId: vpc }]);
    const alloc = await cliOk('allocate-address', '--domain', 'vpc');
    assert.match(alloc.PublicIp, EIP_RANGE);
    const addresses = await cliOk('describe-addresses', '--filters', `Name=allocation-id,Values=${alloc.AllocationId}`);
    assert.equal(addresses.Addresses[0].PublicIp, alloc.PublicIp);
    await cliOk('release-address', '--allocation-id', alloc.AllocationId);
    // Errors: a non-zero exit and AWS's code on stderr.
    const r = await cli('detach-internet-gateway', '--internet-gateway-id', igw, '--vpc-id', 'vpc-0123456789abcdef0');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /An error occurred \(InvalidVpcID\.NotFound\) when calling the DetachInternetGateway operation: /);
    const del = await cli('delete-dhcp-options', '--dhcp-options-id', dopt.DhcpOptionsId);
    assert.match(del.stderr, /\(DependencyViolation\) when calling the DeleteDhcpOptions operation: The dhcpOptions '/);
    await cliOk('detach-internet-gateway', '--internet-gateway-id', igw, '--vpc-id', vpc);
    await cliOk('delete-internet-gateway', '--internet-gateway-id', igw);
    await cliOk('associate-dhcp-options', '--dhcp-options-id', 'default', '--vpc-id', vpc);
    await cliOk('delete-dhcp-options', '--dhcp-options-id', dopt.DhcpOptionsId);
    await cliOk('delete-vpc', '--vpc-id', vpc);
  });
});
