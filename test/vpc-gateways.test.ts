// End-to-end: what surrounds a VPC — its DNS attributes, DHCP options, internet and egress-only
// gateways, Elastic IPs, NAT gateways and IPv6 addressing — driven with @aws-sdk/client-ec2
// against a real server. Every refused call is checked to have changed nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateVpcCommand,
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
