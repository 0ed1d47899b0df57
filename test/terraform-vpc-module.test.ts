// Terraform conformance: the shape of a VPC module as users write it — public and private subnets
// over two zones, an internet gateway, a NAT gateway with an Elastic IP, route tables and
// associations, default and custom network ACLs, an S3 gateway endpoint, DHCP options, IPv6 — with a
// web instance in a public subnet and an app instance in a private one. After apply the verdicts are
// the ones a user expects (the web tier reachable from the internet on its open port, the private
// one not, the private one reaching the internet through NAT); planned again with no drift,
// destroyed, and the aws CLI confirms nothing is left.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { start } from './helpers/server.ts';
import { providerBlock, TerraformDir } from './helpers/terraform.ts';
import { timed } from './helpers/run.ts';
import type { Palisade } from '../src/server.ts';

const run = timed(promisify(execFile));

const CONFIG = `
data "aws_availability_zones" "zones" {
  state = "available"
}

data "aws_ami" "al2023" {
  most_recent = true
  owners      = ["amazon"]
  filter {
    name   = "name"
    values = ["al2023-ami-2023*-x86_64"]
  }
}

resource "aws_vpc" "main" {
  cidr_block                       = "10.42.0.0/16"
  enable_dns_hostnames             = true
  assign_generated_ipv6_cidr_block = true
  tags                             = { Name = "module" }
}

resource "aws_vpc_dhcp_options" "main" {
  domain_name         = "internal.example"
  domain_name_servers = ["AmazonProvidedDNS"]
}

resource "aws_vpc_dhcp_options_association" "main" {
  vpc_id          = aws_vpc.main.id
  dhcp_options_id = aws_vpc_dhcp_options.main.id
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id
}

resource "aws_subnet" "public" {
  count                           = 2
  vpc_id                          = aws_vpc.main.id
  cidr_block                      = cidrsubnet(aws_vpc.main.cidr_block, 8, count.index)
  ipv6_cidr_block                 = cidrsubnet(aws_vpc.main.ipv6_cidr_block, 8, count.index)
  availability_zone               = data.aws_availability_zones.zones.names[count.index]
  map_public_ip_on_launch         = true
  assign_ipv6_address_on_creation = true
  tags                            = { Name = "public-\${count.index}" }
}

resource "aws_subnet" "private" {
  count             = 2
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet(aws_vpc.main.cidr_block, 8, count.index + 10)
  availability_zone = data.aws_availability_zones.zones.names[count.index]
  tags              = { Name = "private-\${count.index}" }
}

resource "aws_eip" "nat" {
  domain = "vpc"
}

resource "aws_nat_gateway" "main" {
  allocation_id = aws_eip.nat.id
  subnet_id     = aws_subnet.public[0].id
  depends_on    = [aws_internet_gateway.main]
}

resource "aws_default_route_table" "main" {
  default_route_table_id = aws_vpc.main.default_route_table_id
  tags                   = { Name = "main" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.main.id
  }
  route {
    ipv6_cidr_block = "::/0"
    gateway_id      = aws_internet_gateway.main.id
  }
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.main.id
  }
}

resource "aws_route_table_association" "public" {
  count          = 2
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table_association" "private" {
  count          = 2
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

resource "aws_default_network_acl" "default" {
  default_network_acl_id = aws_vpc.main.default_network_acl_id
  ingress {
    protocol   = -1
    rule_no    = 100
    action     = "allow"
    cidr_block = "0.0.0.0/0"
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
  lifecycle {
    ignore_changes = [subnet_ids]
  }
}

resource "aws_network_acl" "private" {
  vpc_id     = aws_vpc.main.id
  subnet_ids = aws_subnet.private[*].id
  ingress {
    protocol   = "-1"
    rule_no    = 100
    action     = "allow"
    cidr_block = aws_vpc.main.cidr_block
    from_port  = 0
    to_port    = 0
  }
  ingress {
    protocol   = "tcp"
    rule_no    = 200
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
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.main.id
  service_name      = "com.amazonaws.us-east-1.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.public.id, aws_route_table.private.id]
}

resource "aws_security_group" "web" {
  name   = "module-web"
  vpc_id = aws_vpc.main.id
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "app" {
  name   = "module-app"
  vpc_id = aws_vpc.main.id
  ingress {
    from_port       = 8080
    to_port         = 8080
    protocol        = "tcp"
    security_groups = [aws_security_group.web.id]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_instance" "web" {
  ami                    = data.aws_ami.al2023.id
  instance_type          = "t3.micro"
  subnet_id              = aws_subnet.public[0].id
  vpc_security_group_ids = [aws_security_group.web.id]
  depends_on             = [aws_route_table_association.public]
}

resource "aws_instance" "app" {
  ami                    = data.aws_ami.al2023.id
  instance_type          = "t3.micro"
  subnet_id              = aws_subnet.private[0].id
  vpc_security_group_ids = [aws_security_group.app.id]
  depends_on             = [aws_route_table_association.private, aws_nat_gateway.main]
}

output "vpc" {
  value = aws_vpc.main.id
}
output "web" {
  value = aws_instance.web.id
}
output "web_public_ip" {
  value = aws_instance.web.public_ip
}
output "app" {
  value = aws_instance.app.id
}
`;

describe('terraform: a VPC module, and the verdicts it gives', () => {
  let p: Palisade;
  let tf: TerraformDir;
  before(async () => {
    p = await start();
    tf = new TerraformDir('vpc-module', providerBlock(p.url) + CONFIG);
  });
  after(() => p.close());

  const evaluate = async (flow: Record<string, unknown>) => {
    const res = await fetch(`${p.url}/_palisade/network/evaluate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ flows: [flow] }),
    });
    return ((await res.json()) as { results: Record<string, any>[] }).results[0]!;
  };

  it('applies; the web tier is reachable from the internet on 443, the app tier not, and the app tier reaches the internet through NAT; no drift; destroys', async () => {
    await tf.apply();
    const out = await tf.output();
    const web = out.web!.value as string;
    const app = out.app!.value as string;
    const webIp = out.web_public_ip!.value as string;
    assert.ok(webIp, 'the web instance has a public IP (map_public_ip_on_launch)');
    let r = await evaluate({ from: 'internet:198.51.100.77', to: webIp, protocol: 'tcp', port: 443 });
    assert.equal(r.verdict, 'ACCEPT', JSON.stringify(r));
    r = await evaluate({ from: 'internet:198.51.100.77', to: webIp, protocol: 'tcp', port: 22 });
    assert.equal(r.verdict, 'REJECT');
    assert.equal(r.decidedBy, 'ingress');
    r = await evaluate({ from: 'internet:198.51.100.77', to: app, protocol: 'tcp', port: 8080 });
    assert.equal(r.verdict, 'REJECT');
    assert.equal(r.decidedBy, 'route');
    r = await evaluate({ from: app, to: 'internet:203.0.113.10', protocol: 'tcp', port: 443 });
    assert.equal(r.verdict, 'ACCEPT', JSON.stringify(r));
    r = await evaluate({ from: web, to: app, protocol: 'tcp', port: 8080 });
    assert.equal(r.verdict, 'ACCEPT', JSON.stringify(r));

    const plan = await tf.plan();
    assert.equal(plan.code, 0, `drift after apply:\n${plan.stdout}${plan.stderr}`);
    await tf.destroy();
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1' };
    const vpcs = JSON.parse(
      (
        await run(
          'aws',
          ['ec2', 'describe-vpcs', '--endpoint-url', p.url, '--filters', 'Name=tag:Name,Values=module', '--output', 'json'],
          { env },
        )
      ).stdout,
    );
    assert.deepEqual(vpcs.Vpcs, [], 'the aws CLI finds no VPC left');
    const running = JSON.parse(
      (
        await run(
          'aws',
          [
            'ec2',
            'describe-instances',
            '--endpoint-url',
            p.url,
            '--instance-ids',
            web,
            app,
            '--query',
            'Reservations[].Instances[].State.Name',
            '--output',
            'json',
          ],
          { env },
        )
      ).stdout,
    ) as string[];
    assert.ok(
      running.every((s) => s === 'terminated'),
      running.join(','),
    );
  });
});
