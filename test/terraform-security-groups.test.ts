// Terraform conformance: security groups as users declare them — inline rules, aws_security_group_rule,
// aws_vpc_security_group_ingress_rule/egress_rule, prefix lists — in the default VPC, with the
// usual data sources. Applied, planned again (no drift), destroyed; the aws CLI confirms nothing is left.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DescribeManagedPrefixListsCommand, DescribeSecurityGroupsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { ec2, start } from './helpers/server.ts';
import { providerBlock, TerraformDir } from './helpers/terraform.ts';
import type { Palisade } from '../src/server.ts';

const CONFIG = `
data "aws_vpc" "default" {
  default = true
}

data "aws_subnets" "default" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.default.id]
  }
}

data "aws_caller_identity" "me" {}
data "aws_region" "here" {}
data "aws_availability_zones" "available" {
  state = "available"
}

resource "aws_ec2_managed_prefix_list" "office" {
  name           = "office"
  address_family = "IPv4"
  max_entries    = 5
  entry {
    cidr        = "198.51.100.0/24"
    description = "HQ"
  }
}

resource "aws_security_group" "web" {
  name        = "tf-web"
  description = "web tier"
  vpc_id      = data.aws_vpc.default.id

  ingress {
    description = "https"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    from_port       = 22
    to_port         = 22
    protocol        = "tcp"
    prefix_list_ids = [aws_ec2_managed_prefix_list.office.id]
  }

  egress {
    from_port        = 0
    to_port          = 0
    protocol         = "-1"
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = ["::/0"]
  }

  tags = { Name = "tf-web", env = "test" }
}

resource "aws_security_group" "db" {
  name        = "tf-db"
  description = "database"
  vpc_id      = data.aws_vpc.default.id
}

resource "aws_security_group_rule" "db_from_web" {
  type                     = "ingress"
  from_port                = 5432
  to_port                  = 5432
  protocol                 = "tcp"
  security_group_id        = aws_security_group.db.id
  source_security_group_id = aws_security_group.web.id
}

resource "aws_vpc_security_group_ingress_rule" "db_admin" {
  security_group_id = aws_security_group.db.id
  cidr_ipv4         = "10.20.0.0/16"
  from_port         = 5432
  to_port           = 5432
  ip_protocol       = "tcp"
  tags              = { Name = "admin" }
}

resource "aws_vpc_security_group_egress_rule" "db_out" {
  security_group_id = aws_security_group.db.id
  cidr_ipv6         = "::/0"
  ip_protocol       = "-1"
}

data "aws_security_group" "web" {
  id = aws_security_group.web.id
}

output "account" {
  value = data.aws_caller_identity.me.account_id
}

output "region" {
  value = data.aws_region.here.name
}

output "subnets" {
  value = length(data.aws_subnets.default.ids)
}

output "zones" {
  value = length(data.aws_availability_zones.available.names)
}

output "web_name" {
  value = data.aws_security_group.web.name
}
`;

describe('terraform: security groups in the default VPC', () => {
  let p: Palisade;
  let client: EC2Client;
  let tf: TerraformDir;
  before(async () => {
    p = await start();
    client = ec2(p.url);
    tf = new TerraformDir('sg', providerBlock(p.url) + CONFIG);
  });
  after(() => p.close());

  it('applies, plans again with no changes, and destroys everything it made', async () => {
    await tf.apply();
    const out = await tf.output();
    assert.equal(out.account!.value, '000000000000');
    assert.equal(out.region!.value, 'us-east-1');
    assert.equal(out.subnets!.value, 6, 'one default subnet per zone');
    assert.equal(out.web_name!.value, 'tf-web');
    const groups = (
      await client.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['tf-web', 'tf-db'] }] }))
    ).SecurityGroups!;
    assert.equal(groups.length, 2);
    const plan = await tf.plan();
    assert.equal(plan.code, 0, `drift after apply:\n${plan.stdout}${plan.stderr}`);
    await tf.destroy();
    const left = (await client.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['tf-web', 'tf-db'] }] })))
      .SecurityGroups!;
    assert.deepEqual(left, []);
    const lists = (
      await client.send(new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: ['office'] }] }))
    ).PrefixLists!;
    assert.deepEqual(lists, []);
  });
});
