// Terraform conformance: the routing around a VPC as modules declare it — public and private
// subnets, a public route table with a default route to an internet gateway, the VPC's default
// route table and network ACL adopted, a custom ACL with rules, an S3 gateway endpoint on the
// route tables, a peering connection between two VPCs with routes both ways and a main route
// table association. Applied, planned again (no drift), destroyed; the SDK confirms nothing is left.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DescribeNetworkAclsCommand,
  DescribeRouteTablesCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcPeeringConnectionsCommand,
  DescribeVpcsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { ec2, start } from './helpers/server.ts';
import { providerBlock, TerraformDir } from './helpers/terraform.ts';
import type { Palisade } from '../src/server.ts';

const CONFIG = `
resource "aws_vpc" "main" {
  cidr_block           = "10.70.0.0/16"
  enable_dns_hostnames = true
  tags                 = { Name = "tf-routing" }
}

resource "aws_vpc" "peer" {
  cidr_block = "10.71.0.0/16"
  tags       = { Name = "tf-routing-peer" }
}

resource "aws_internet_gateway" "gw" {
  vpc_id = aws_vpc.main.id
  tags   = { Name = "tf-routing" }
}

resource "aws_subnet" "public" {
  vpc_id                  = aws_vpc.main.id
  cidr_block              = "10.70.1.0/24"
  availability_zone       = "us-east-1a"
  map_public_ip_on_launch = true
  tags                    = { Name = "public" }
}

resource "aws_subnet" "private" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.70.2.0/24"
  availability_zone = "us-east-1b"
  tags              = { Name = "private" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.gw.id
  }
  tags = { Name = "public" }
}

resource "aws_route_table_association" "public" {
  subnet_id      = aws_subnet.public.id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.main.id
  tags   = { Name = "private" }
}

resource "aws_route_table_association" "private" {
  subnet_id      = aws_subnet.private.id
  route_table_id = aws_route_table.private.id
}

resource "aws_default_route_table" "main" {
  default_route_table_id = aws_vpc.main.default_route_table_id
  tags                   = { Name = "main (unused)" }
}

resource "aws_network_acl" "public" {
  vpc_id     = aws_vpc.main.id
  subnet_ids = [aws_subnet.public.id]

  ingress {
    protocol   = "tcp"
    rule_no    = 100
    action     = "allow"
    cidr_block = "0.0.0.0/0"
    from_port  = 443
    to_port    = 443
  }

  ingress {
    protocol   = "tcp"
    rule_no    = 110
    action     = "allow"
    cidr_block = "0.0.0.0/0"
    from_port  = 1024
    to_port    = 65535
  }

  egress {
    protocol   = "-1"
    rule_no    = 100
    action     = "allow"
    cidr_block = "0.0.0.0/0"
    from_port  = 0
    to_port    = 0
  }

  tags = { Name = "public" }
}

# Rules as resources of their own, on an ACL that declares none inline.
resource "aws_network_acl" "rules" {
  vpc_id = aws_vpc.main.id
  tags   = { Name = "rules" }
}

resource "aws_network_acl_rule" "ping" {
  network_acl_id = aws_network_acl.rules.id
  rule_number    = 120
  egress         = false
  protocol       = "icmp"
  rule_action    = "allow"
  cidr_block     = "10.0.0.0/8"
  icmp_type      = 8
  icmp_code      = -1
}

resource "aws_network_acl_rule" "dns_out" {
  network_acl_id  = aws_network_acl.rules.id
  rule_number     = 200
  egress          = true
  protocol        = "udp"
  rule_action     = "deny"
  ipv6_cidr_block = "::/0"
  from_port       = 53
  to_port         = 53
}

resource "aws_default_network_acl" "main" {
  default_network_acl_id = aws_vpc.main.default_network_acl_id
  subnet_ids             = [aws_subnet.private.id]

  ingress {
    protocol   = -1
    rule_no    = 100
    action     = "allow"
    cidr_block = aws_vpc.main.cidr_block
    from_port  = 0
    to_port    = 0
  }

  egress {
    protocol   = -1
    rule_no    = 100
    action     = "allow"
    cidr_block = "0.0.0.0/0"
    from_port  = 0
    to_port    = 0
  }

  tags = { Name = "default" }
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id          = aws_vpc.main.id
  service_name    = "com.amazonaws.us-east-1.s3"
  route_table_ids = [aws_route_table.public.id, aws_route_table.private.id]
  tags            = { Name = "s3" }
}

resource "aws_vpc_peering_connection" "main_peer" {
  vpc_id      = aws_vpc.main.id
  peer_vpc_id = aws_vpc.peer.id
  auto_accept = true
  tags        = { Name = "main-peer" }
}

resource "aws_route" "to_peer" {
  route_table_id            = aws_route_table.private.id
  destination_cidr_block    = aws_vpc.peer.cidr_block
  vpc_peering_connection_id = aws_vpc_peering_connection.main_peer.id
}

resource "aws_route_table" "peer" {
  vpc_id = aws_vpc.peer.id
  route {
    cidr_block                = aws_vpc.main.cidr_block
    vpc_peering_connection_id = aws_vpc_peering_connection.main_peer.id
  }
  tags = { Name = "peer" }
}

resource "aws_main_route_table_association" "peer" {
  vpc_id         = aws_vpc.peer.id
  route_table_id = aws_route_table.peer.id
}

data "aws_route_table" "public" {
  subnet_id = aws_subnet.public.id
  depends_on = [aws_route_table_association.public]
}

output "public_table" {
  value = data.aws_route_table.public.id
}

output "public_subnet" {
  value = aws_subnet.public.id
}

output "vpc_ids" {
  value = [aws_vpc.main.id, aws_vpc.peer.id]
}

output "peering" {
  value = aws_vpc_peering_connection.main_peer.id
}
`;

describe('terraform: routing around a VPC', () => {
  let p: Palisade;
  let client: EC2Client;
  let tf: TerraformDir;
  before(async () => {
    p = await start();
    client = ec2(p.url);
    tf = new TerraformDir('routing', providerBlock(p.url) + CONFIG);
  });
  after(() => p.close());

  it('applies, plans again with no changes, and destroys everything it made', async () => {
    await tf.apply();
    const out = await tf.output();
    const [vpcId, peerVpcId] = out.vpc_ids!.value as [string, string];
    const peering = out.peering!.value as string;

    const tables = (await client.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).RouteTables!;
    assert.equal(tables.length, 3, 'main, public, private');
    const publicTable = tables.find((t) => t.Tags?.some((x) => x.Key === 'Name' && x.Value === 'public'))!;
    assert.equal(out.public_table!.value, publicTable.RouteTableId);
    const def = publicTable.Routes!.find((r) => r.DestinationCidrBlock === '0.0.0.0/0')!;
    assert.match(def.GatewayId!, /^igw-/);
    assert.equal(def.State, 'active');
    assert.ok(
      publicTable.Routes!.some((r) => r.DestinationPrefixListId && r.GatewayId?.startsWith('vpce-')),
      'the S3 endpoint route',
    );
    const privateTable = tables.find((t) => t.Tags?.some((x) => x.Key === 'Name' && x.Value === 'private'))!;
    const toPeer = privateTable.Routes!.find((r) => r.DestinationCidrBlock === '10.71.0.0/16')!;
    assert.equal(toPeer.VpcPeeringConnectionId, peering);
    assert.equal(toPeer.State, 'active');

    const peerMain = (
      await client.send(
        new DescribeRouteTablesCommand({
          Filters: [
            { Name: 'vpc-id', Values: [peerVpcId] },
            { Name: 'association.main', Values: ['true'] },
          ],
        }),
      )
    ).RouteTables![0]!;
    assert.ok(
      peerMain.Tags?.some((x) => x.Value === 'peer'),
      'the peer VPC main table is the associated one',
    );

    const acls = (await client.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).NetworkAcls!;
    assert.equal(acls.length, 3);
    const named = (n: string) => acls.find((a) => a.Tags?.some((x) => x.Key === 'Name' && x.Value === n))!;
    assert.deepEqual(
      named('public')
        .Entries!.filter((e) => !e.Egress)
        .map((e) => e.RuleNumber),
      [100, 110, 32767],
    );
    assert.deepEqual(
      named('public').Associations!.map((a) => a.SubnetId),
      [out.public_subnet!.value],
    );
    assert.deepEqual(
      named('rules').Entries!.map((e) => `${e.Egress ? 'out' : 'in'} ${e.RuleNumber}`),
      ['out 200', 'out 32767', 'in 120', 'in 32767'],
    );
    const defaultAcl = named('default');
    assert.equal(defaultAcl.IsDefault, true);
    assert.equal(defaultAcl.Entries!.find((e) => !e.Egress && e.RuleNumber === 100)!.CidrBlock, '10.70.0.0/16');

    const plan = await tf.plan();
    assert.equal(plan.code, 0, `drift after apply:\n${plan.stdout}${plan.stderr}`);

    await tf.destroy();
    const vpcs = (await client.send(new DescribeVpcsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId, peerVpcId] }] }))).Vpcs!;
    assert.deepEqual(vpcs, []);
    const leftTables = (await client.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId, peerVpcId] }] })))
      .RouteTables!;
    assert.deepEqual(leftTables, []);
    const leftAcls = (await client.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId, peerVpcId] }] })))
      .NetworkAcls!;
    assert.deepEqual(leftAcls, []);
    const endpoints = (await client.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] })))
      .VpcEndpoints!;
    assert.deepEqual(endpoints, []);
    const pcx = (await client.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [peering] })))
      .VpcPeeringConnections!;
    assert.equal(pcx[0]!.Status!.Code, 'deleted');
  });
});
