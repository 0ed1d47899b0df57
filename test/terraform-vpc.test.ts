// Terraform conformance: a VPC as users declare one — DNS hostnames on, an IPv6 block, public
// and private subnets over two zones, an IPv6-only subnet, an internet gateway, an egress-only
// gateway, a NAT gateway with its Elastic IP, an Elastic IP on an interface, DHCP options and
// their association — with the default VPC as a data source. Applied, planned again (no drift),
// destroyed; the SDK confirms nothing is left.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DescribeAddressesCommand,
  DescribeDhcpOptionsCommand,
  DescribeEgressOnlyInternetGatewaysCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { ec2, start } from './helpers/server.ts';
import { providerBlock, TerraformDir } from './helpers/terraform.ts';
import type { Palisade } from '../src/server.ts';

const CONFIG = `
data "aws_availability_zones" "available" {
  state = "available"
}

data "aws_vpc" "default" {
  default = true
}

resource "aws_vpc" "main" {
  cidr_block                       = "10.10.0.0/16"
  enable_dns_hostnames             = true
  assign_generated_ipv6_cidr_block = true
  tags                             = { Name = "tf-main" }
}

resource "aws_internet_gateway" "gw" {
  vpc_id = aws_vpc.main.id
  tags   = { Name = "tf-igw" }
}

resource "aws_egress_only_internet_gateway" "v6" {
  vpc_id = aws_vpc.main.id
  tags   = { Name = "tf-eigw" }
}

resource "aws_subnet" "public" {
  count                           = 2
  vpc_id                          = aws_vpc.main.id
  availability_zone               = data.aws_availability_zones.available.names[count.index]
  cidr_block                      = cidrsubnet(aws_vpc.main.cidr_block, 8, count.index)
  ipv6_cidr_block                 = cidrsubnet(aws_vpc.main.ipv6_cidr_block, 8, count.index)
  map_public_ip_on_launch         = true
  assign_ipv6_address_on_creation = true
  tags                            = { Name = "tf-public-\${count.index}" }
}

resource "aws_subnet" "private" {
  count             = 2
  vpc_id            = aws_vpc.main.id
  availability_zone = data.aws_availability_zones.available.names[count.index]
  cidr_block        = cidrsubnet(aws_vpc.main.cidr_block, 8, 10 + count.index)
  tags              = { Name = "tf-private-\${count.index}" }
}

resource "aws_subnet" "v6only" {
  vpc_id                                         = aws_vpc.main.id
  availability_zone                              = data.aws_availability_zones.available.names[0]
  ipv6_native                                    = true
  ipv6_cidr_block                                = cidrsubnet(aws_vpc.main.ipv6_cidr_block, 8, 20)
  assign_ipv6_address_on_creation                = true
  enable_dns64                                   = true
  enable_resource_name_dns_aaaa_record_on_launch = true
  private_dns_hostname_type_on_launch            = "resource-name"
}

resource "aws_eip" "nat" {
  domain     = "vpc"
  tags       = { Name = "tf-nat" }
  depends_on = [aws_internet_gateway.gw]
}

resource "aws_nat_gateway" "nat" {
  allocation_id = aws_eip.nat.id
  subnet_id     = aws_subnet.public[0].id
  tags          = { Name = "tf-nat" }
  depends_on    = [aws_internet_gateway.gw]
}

resource "aws_network_interface" "app" {
  subnet_id = aws_subnet.public[1].id
}

resource "aws_eip" "app" {
  domain     = "vpc"
  depends_on = [aws_internet_gateway.gw]
}

resource "aws_eip_association" "app" {
  allocation_id        = aws_eip.app.id
  network_interface_id = aws_network_interface.app.id
}

resource "aws_vpc_dhcp_options" "corp" {
  domain_name         = "corp.example.com"
  domain_name_servers = ["AmazonProvidedDNS"]
  ntp_servers         = ["169.254.169.123"]
  tags                = { Name = "tf-dhcp" }
}

resource "aws_vpc_dhcp_options_association" "corp" {
  vpc_id          = aws_vpc.main.id
  dhcp_options_id = aws_vpc_dhcp_options.corp.id
}

output "vpc_id" {
  value = aws_vpc.main.id
}

output "ipv6_cidr" {
  value = aws_vpc.main.ipv6_cidr_block
}

output "default_vpc" {
  value = data.aws_vpc.default.id
}

output "default_vpc_dns_hostnames" {
  value = data.aws_vpc.default.enable_dns_hostnames
}

output "nat_public_ip" {
  value = aws_nat_gateway.nat.public_ip
}

output "eip_nat" {
  value = aws_eip.nat.public_ip
}

output "eip_app" {
  value = aws_eip.app.public_ip
}

output "eni_app" {
  value = aws_network_interface.app.id
}

output "dhcp_id" {
  value = aws_vpc_dhcp_options.corp.id
}
`;

describe('terraform: a VPC with its gateways, addresses and DHCP options', () => {
  let p: Palisade;
  let client: EC2Client;
  let tf: TerraformDir;
  before(async () => {
    p = await start();
    client = ec2(p.url);
    tf = new TerraformDir('vpc', providerBlock(p.url) + CONFIG);
  });
  after(() => p.close());

  it('applies, plans again with no changes, and destroys everything it made', async () => {
    await tf.apply();
    const out = await tf.output();
    const vpcId = out.vpc_id!.value as string;
    const vpc = (await client.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs![0]!;
    assert.equal(vpc.CidrBlock, '10.10.0.0/16');
    assert.equal(vpc.Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlock, out.ipv6_cidr!.value);
    assert.equal(vpc.DhcpOptionsId, out.dhcp_id!.value);
    const hostnames = await client.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsHostnames' }));
    assert.equal(hostnames.EnableDnsHostnames!.Value, true);
    assert.equal(out.default_vpc_dns_hostnames!.value, true);
    const def = (await client.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs![0]!;
    assert.equal(out.default_vpc!.value, def.VpcId);
    const subnets = (await client.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).Subnets!;
    assert.equal(subnets.length, 5);
    assert.equal(new Set(subnets.map((s) => s.AvailabilityZone)).size, 2, 'two zones');
    assert.equal(subnets.filter((s) => s.Ipv6Native).length, 1);
    const igw = (await client.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }] })))
      .InternetGateways!;
    assert.equal(igw.length, 1);
    const nat = (await client.send(new DescribeNatGatewaysCommand({ Filter: [{ Name: 'vpc-id', Values: [vpcId] }] }))).NatGateways!;
    assert.equal(nat.length, 1);
    assert.equal(nat[0]!.State, 'available');
    assert.equal(out.nat_public_ip!.value, out.eip_nat!.value);
    const eni = (await client.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [out.eni_app!.value as string] })))
      .NetworkInterfaces![0]!;
    assert.equal(eni.Association!.PublicIp, out.eip_app!.value, "the Elastic IP is the interface's public address");

    const plan = await tf.plan();
    assert.equal(plan.code, 0, `drift after apply:\n${plan.stdout}${plan.stderr}`);

    await tf.destroy();
    assert.deepEqual((await client.send(new DescribeVpcsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).Vpcs, []);
    assert.deepEqual((await client.send(new DescribeAddressesCommand({}))).Addresses, []);
    const gateways = (await client.send(new DescribeInternetGatewaysCommand({}))).InternetGateways!;
    assert.deepEqual(
      gateways.map((g) => g.Attachments![0]?.VpcId),
      [def.VpcId],
      "only the default VPC's gateway is left",
    );
    assert.deepEqual((await client.send(new DescribeEgressOnlyInternetGatewaysCommand({}))).EgressOnlyInternetGateways, []);
    const nats = (await client.send(new DescribeNatGatewaysCommand({}))).NatGateways!;
    assert.ok(
      nats.every((n) => n.State === 'deleted'),
      'the NAT gateway is deleted (it stays visible for an hour, as in AWS)',
    );
    const sets = (await client.send(new DescribeDhcpOptionsCommand({}))).DhcpOptions!;
    assert.deepEqual(
      sets.map((s) => s.DhcpOptionsId),
      [def.DhcpOptionsId],
      "only the region's default set is left",
    );
    assert.equal((await client.send(new DescribeVpcsCommand({}))).Vpcs!.length, 1, 'the default VPC stays');
  });
});
