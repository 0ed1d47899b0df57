// End-to-end: what surrounds a VPC — its DNS attributes, DHCP options, internet and egress-only
// gateways, Elastic IPs, NAT gateways and IPv6 addressing — driven with @aws-sdk/client-ec2
// against a real server. Every refused call is checked to have changed nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AssociateDhcpOptionsCommand,
  AttachInternetGatewayCommand,
  CreateDhcpOptionsCommand,
  CreateEgressOnlyInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteDhcpOptionsCommand,
  DeleteEgressOnlyInternetGatewayCommand,
  DeleteInternetGatewayCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeDhcpOptionsCommand,
  DescribeEgressOnlyInternetGatewaysCommand,
  DescribeInternetGatewaysCommand,
  DetachInternetGatewayCommand,
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
