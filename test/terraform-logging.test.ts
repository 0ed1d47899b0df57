// Terraform conformance: the logging estate users declare around a VPC — an S3 bucket for
// CloudTrail with its bucket policy, versioning, public access block, ownership controls and
// encryption; a trail on it with event selectors and tags; a CloudWatch Logs group with tags and
// retention; flow logs of the default VPC to that group (through an IAM role) and to a second
// bucket. Applied, planned again (no drift), destroyed; the SDK confirms nothing is left.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
  ListTagsCommand,
} from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient, DescribeLogGroupsCommand, ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeFlowLogsCommand } from '@aws-sdk/client-ec2';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  ListBucketsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { awsError, CREDS, ec2, start } from './helpers/server.ts';
import { providerBlock, TerraformDir } from './helpers/terraform.ts';
import type { Palisade } from '../src/server.ts';

const CONFIG = `
data "aws_caller_identity" "me" {}
data "aws_region" "here" {}
data "aws_partition" "here" {}

data "aws_vpc" "default" {
  default = true
}

locals {
  account   = data.aws_caller_identity.me.account_id
  trail_arn = "arn:\${data.aws_partition.here.partition}:cloudtrail:\${data.aws_region.here.name}:\${local.account}:trail/palisade-audit"
}

# ---- the trail's bucket ----

resource "aws_s3_bucket" "trail" {
  bucket        = "palisade-tf-trail-logs"
  force_destroy = true
  tags          = { purpose = "cloudtrail", env = "test" }
}

resource "aws_s3_bucket_versioning" "trail" {
  bucket = aws_s3_bucket.trail.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "trail" {
  bucket                  = aws_s3_bucket.trail.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "trail" {
  bucket = aws_s3_bucket.trail.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "trail" {
  bucket = aws_s3_bucket.trail.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

data "aws_iam_policy_document" "trail" {
  statement {
    sid       = "AWSCloudTrailAclCheck"
    actions   = ["s3:GetBucketAcl"]
    resources = [aws_s3_bucket.trail.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
  }
  statement {
    sid       = "AWSCloudTrailWrite"
    actions   = ["s3:PutObject"]
    resources = ["\${aws_s3_bucket.trail.arn}/AWSLogs/\${local.account}/*"]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "s3:x-amz-acl"
      values   = ["bucket-owner-full-control"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
  }
}

resource "aws_s3_bucket_policy" "trail" {
  bucket = aws_s3_bucket.trail.id
  policy = data.aws_iam_policy_document.trail.json
}

# ---- the trail ----

resource "aws_cloudtrail" "audit" {
  name                          = "palisade-audit"
  s3_bucket_name                = aws_s3_bucket.trail.id
  include_global_service_events = true
  enable_log_file_validation    = true

  event_selector {
    read_write_type           = "WriteOnly"
    include_management_events = true
  }

  tags       = { env = "test", team = "security" }
  depends_on = [aws_s3_bucket_policy.trail]
}

# ---- flow logs to CloudWatch Logs, through a role ----

resource "aws_cloudwatch_log_group" "flow" {
  name              = "/palisade/vpc-flow-logs"
  retention_in_days = 14
  tags              = { env = "test" }
}

resource "aws_iam_role" "flow" {
  name = "palisade-flow-logs"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "vpc-flow-logs.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "flow" {
  name = "deliver"
  role = aws_iam_role.flow.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"]
      Resource = "\${aws_cloudwatch_log_group.flow.arn}:*"
    }]
  })
}

resource "aws_flow_log" "cwl" {
  iam_role_arn    = aws_iam_role.flow.arn
  log_destination = aws_cloudwatch_log_group.flow.arn
  traffic_type    = "ALL"
  vpc_id          = data.aws_vpc.default.id
  tags            = { Name = "vpc-to-cwl" }
}

# ---- flow logs to S3 ----

resource "aws_s3_bucket" "flow" {
  bucket        = "palisade-tf-flow-logs"
  force_destroy = true
}

resource "aws_flow_log" "s3" {
  log_destination          = aws_s3_bucket.flow.arn
  log_destination_type     = "s3"
  traffic_type             = "REJECT"
  vpc_id                   = data.aws_vpc.default.id
  max_aggregation_interval = 60
  tags                     = { Name = "vpc-to-s3" }
}

output "trail_arn" {
  value = aws_cloudtrail.audit.arn
}

output "log_group_arn" {
  value = aws_cloudwatch_log_group.flow.arn
}

output "flow_log_ids" {
  value = [aws_flow_log.cwl.id, aws_flow_log.s3.id]
}
`;

describe('terraform: S3, CloudTrail, CloudWatch Logs and flow logs', () => {
  let p: Palisade;
  let tf: TerraformDir;
  const opts = () => ({ endpoint: p.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
  before(async () => {
    p = await start();
    tf = new TerraformDir('logging', providerBlock(p.url) + CONFIG);
  });
  after(() => p.close());

  it('applies, plans again with no changes, and destroys everything it made', async () => {
    await tf.apply();
    const out = await tf.output();
    assert.equal(out.trail_arn!.value, 'arn:aws:cloudtrail:us-east-1:000000000000:trail/palisade-audit');
    assert.equal(out.log_group_arn!.value, 'arn:aws:logs:us-east-1:000000000000:log-group:/palisade/vpc-flow-logs');

    const s3 = new S3Client({ ...opts(), forcePathStyle: true });
    const Bucket = 'palisade-tf-trail-logs';
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status, 'Enabled');
    assert.equal((await s3.send(new GetPublicAccessBlockCommand({ Bucket }))).PublicAccessBlockConfiguration?.BlockPublicPolicy, true);
    assert.match((await s3.send(new GetBucketPolicyCommand({ Bucket }))).Policy!, /cloudtrail\.amazonaws\.com/);
    assert.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket }))).TagSet!.map((t) => t.Key).sort(), ['env', 'purpose']);
    assert.equal(
      (await s3.send(new GetBucketEncryptionCommand({ Bucket }))).ServerSideEncryptionConfiguration?.Rules?.[0]
        ?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm,
      'AES256',
    );
    // The flow log's bucket got the policy AWS attaches for log delivery.
    assert.match(
      (await s3.send(new GetBucketPolicyCommand({ Bucket: 'palisade-tf-flow-logs' }))).Policy!,
      /delivery\.logs\.amazonaws\.com/,
    );

    const ct = new CloudTrailClient(opts());
    const trailArn = out.trail_arn!.value as string;
    const [trail] = (await ct.send(new DescribeTrailsCommand({ trailNameList: [trailArn] }))).trailList!;
    assert.deepEqual([trail!.S3BucketName, trail!.LogFileValidationEnabled, trail!.HasCustomEventSelectors], [Bucket, true, true]);
    assert.equal((await ct.send(new GetTrailStatusCommand({ Name: trailArn }))).IsLogging, true);
    assert.equal((await ct.send(new GetEventSelectorsCommand({ TrailName: trailArn }))).EventSelectors?.[0]?.ReadWriteType, 'WriteOnly');
    assert.deepEqual(
      (await ct.send(new ListTagsCommand({ ResourceIdList: [trailArn] }))).ResourceTagList![0]!.TagsList!.map((t) => t.Key).sort(),
      ['env', 'team'],
    );

    const logs = new CloudWatchLogsClient(opts());
    const [group] = (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/palisade/' }))).logGroups!;
    assert.equal(group!.retentionInDays, 14);
    assert.deepEqual((await logs.send(new ListTagsForResourceCommand({ resourceArn: group!.logGroupArn! }))).tags, { env: 'test' });

    const client = ec2(p.url);
    const flowIds = out.flow_log_ids!.value as string[];
    const flows = (await client.send(new DescribeFlowLogsCommand({ FlowLogIds: flowIds }))).FlowLogs!;
    assert.deepEqual(flows.map((f) => f.LogDestinationType).sort(), ['cloud-watch-logs', 's3']);

    const plan = await tf.plan();
    assert.equal(plan.code, 0, `drift after apply:\n${plan.stdout}${plan.stderr}`);
    await tf.destroy();

    const left = (await s3.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name).filter((n) => n?.startsWith('palisade-tf-'));
    assert.deepEqual(left, []);
    assert.deepEqual((await ct.send(new DescribeTrailsCommand({}))).trailList, []);
    assert.deepEqual((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/palisade/' }))).logGroups, []);
    assert.deepEqual((await client.send(new DescribeFlowLogsCommand({}))).FlowLogs, []);
    const gone = await awsError(() => new IAMClient(opts()).send(new GetRoleCommand({ RoleName: 'palisade-flow-logs' })));
    assert.equal(gone.name, 'NoSuchEntityException');
  });
});
