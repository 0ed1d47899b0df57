// Terraform conformance: instances as users declare them — an IAM role and instance profile, an
// imported key pair, the newest Amazon Linux from `data "aws_ami"`, an `aws_instance` in the
// default VPC with IMDSv2 required, a security group and the profile, and an `aws_launch_template`
// with an instance launched from it. Applied, planned again (no drift), destroyed; the SDK
// confirms what was made and that nothing is left.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import {
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeLaunchTemplatesCommand,
  DescribeVolumesCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import { ec2, start } from './helpers/server.ts';
import { providerBlock, TerraformDir } from './helpers/terraform.ts';
import type { Palisade } from '../src/server.ts';

/** A fresh ED25519 public key in OpenSSH form. */
function sshPublicKey(): string {
  const x = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from('ssh-ed25519')), str(x)]).toString('base64')} tf@test`;
}

const config = (publicKey: string) => `
data "aws_vpc" "default" {
  default = true
}

data "aws_ami" "al2023" {
  most_recent = true
  owners      = ["amazon"]

  filter {
    name   = "name"
    values = ["al2023-ami-2023.*-x86_64"]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

resource "aws_iam_role" "app" {
  name = "tf-instance-app"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_instance_profile" "app" {
  name = "tf-instance-app"
  role = aws_iam_role.app.name
}

resource "aws_key_pair" "deployer" {
  key_name   = "tf-deployer"
  public_key = "${publicKey}"
  tags       = { team = "ops" }
}

resource "aws_security_group" "web" {
  name        = "tf-instance-web"
  description = "web instances"
  vpc_id      = data.aws_vpc.default.id

  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
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
  key_name               = aws_key_pair.deployer.key_name
  vpc_security_group_ids = [aws_security_group.web.id]
  iam_instance_profile   = aws_iam_instance_profile.app.name
  user_data              = "#!/bin/sh\\necho hello\\n"

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  root_block_device {
    volume_size = 12
    volume_type = "gp3"
  }

  tags = { Name = "tf-web" }
}

resource "aws_launch_template" "app" {
  name                   = "tf-instance-app"
  image_id               = data.aws_ami.al2023.id
  instance_type          = "t3.small"
  key_name               = aws_key_pair.deployer.key_name
  vpc_security_group_ids = [aws_security_group.web.id]

  # No user_data and no instance tags here: an instance launched from a template that has them
  # shows a perpetual diff on real AWS too (hashicorp/terraform-provider-aws#30825); the SDK
  # tests (launch-templates.test.ts) cover both.

  iam_instance_profile {
    name = aws_iam_instance_profile.app.name
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 2
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size = 10
      volume_type = "gp3"
    }
  }

  tag_specifications {
    resource_type = "volume"
    tags          = { Name = "from-template" }
  }
}

resource "aws_instance" "from_template" {
  launch_template {
    id      = aws_launch_template.app.id
    version = "$Latest"
  }
}

output "ami" {
  value = data.aws_ami.al2023.id
}

output "web" {
  value = aws_instance.web.id
}

output "from_template" {
  value = aws_instance.from_template.id
}

output "fingerprint" {
  value = aws_key_pair.deployer.fingerprint
}
`;

describe('terraform: instances, key pairs, images and launch templates', () => {
  let p: Palisade;
  let client: EC2Client;
  let tf: TerraformDir;
  before(async () => {
    p = await start();
    client = ec2(p.url);
    tf = new TerraformDir('instances', providerBlock(p.url) + config(sshPublicKey()));
  });
  after(() => p.close());

  const instance = async (id: string): Promise<Instance> =>
    (await client.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;

  it('applies, plans again with no changes, and destroys everything it made', async () => {
    await tf.apply();
    const out = await tf.output();
    const web = await instance(out.web!.value as string);
    assert.equal(web.State!.Name, 'running');
    assert.equal(web.ImageId, out.ami!.value);
    assert.equal(web.InstanceType, 't3.micro');
    assert.equal(web.KeyName, 'tf-deployer');
    assert.equal(web.MetadataOptions!.HttpTokens, 'required');
    assert.match(web.IamInstanceProfile!.Arn!, /:instance-profile\/tf-instance-app$/);
    assert.deepEqual(
      web.SecurityGroups!.map((g) => g.GroupName),
      ['tf-instance-web'],
    );
    const [root] = (
      await client.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [web.InstanceId!] }] }))
    ).Volumes!;
    assert.deepEqual([root!.Size, root!.VolumeType], [12, 'gp3']);
    const [key] = (await client.send(new DescribeKeyPairsCommand({ KeyNames: ['tf-deployer'] }))).KeyPairs!;
    assert.equal(key!.KeyFingerprint, out.fingerprint!.value);
    assert.deepEqual(key!.Tags, [{ Key: 'team', Value: 'ops' }]);

    // The instance launched from the template has its parameters, groups and tags.
    const lt = await instance(out.from_template!.value as string);
    assert.equal(lt.InstanceType, 't3.small');
    assert.equal(lt.KeyName, 'tf-deployer');
    assert.equal(lt.MetadataOptions!.HttpPutResponseHopLimit, 2);
    assert.deepEqual(
      lt.NetworkInterfaces![0]!.Groups!.map((g) => g.GroupName),
      ['tf-instance-web'],
    );
    const tags = Object.fromEntries(lt.Tags!.map((t) => [t.Key, t.Value]));
    assert.match(tags['aws:ec2launchtemplate:id']!, /^lt-[0-9a-f]{17}$/);
    assert.equal(tags['aws:ec2launchtemplate:version'], '1');
    const [ltRoot] = (
      await client.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [lt.InstanceId!] }] }))
    ).Volumes!;
    assert.equal(ltRoot!.Size, 10);
    assert.deepEqual(ltRoot!.Tags, [{ Key: 'Name', Value: 'from-template' }]);

    const plan = await tf.plan();
    assert.equal(plan.code, 0, `drift after apply:\n${plan.stdout}${plan.stderr}`);

    await tf.destroy();
    for (const id of [web.InstanceId!, lt.InstanceId!]) assert.equal((await instance(id)).State!.Name, 'terminated');
    assert.deepEqual((await client.send(new DescribeKeyPairsCommand({}))).KeyPairs, []);
    assert.deepEqual((await client.send(new DescribeLaunchTemplatesCommand({}))).LaunchTemplates, []);
    assert.deepEqual((await client.send(new DescribeVolumesCommand({}))).Volumes, [], 'root volumes go with their instances');
  });
});
