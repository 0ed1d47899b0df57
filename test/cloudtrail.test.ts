// CloudTrail: every call Palisade answers is one management event in AWS's record format,
// queryable with LookupEvents (real @aws-sdk clients and the aws CLI v1), delivered by trails as
// gzip log files, kept across restarts and for 90 days; `palisade trail` prints them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import {
  CloudTrailClient,
  CreateTrailCommand,
  DeleteTrailCommand,
  DescribeTrailsCommand,
  GetTrailCommand,
  GetTrailStatusCommand,
  ListTrailsCommand,
  LookupEventsCommand,
  StartLoggingCommand,
  StopLoggingCommand,
  type Event,
  type LookupAttribute,
} from '@aws-sdk/client-cloudtrail';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import {
  AddRoleToInstanceProfileCommand,
  CreateAccessKeyCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  CreateUserCommand,
  GetRoleCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateBucketCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { start, ec2, awsError, CREDS } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import type { VirtualClock } from '../src/core/clock.ts';
import { LOOKUP_KEYS } from '../src/cloudtrail/events.ts';
import { trail as trailCli, parseSince } from '../src/cli/trail.ts';
import { timed } from './helpers/run.ts';

const run = timed(promisify(execFile));
const ACCOUNT = '000000000000';

type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
const ct = (url: string, opts: { region?: string; credentials?: Creds } = {}) =>
  new CloudTrailClient({ endpoint: url, region: opts.region ?? 'us-east-1', credentials: opts.credentials ?? CREDS, maxAttempts: 1 });
const iam = (url: string, credentials: Creds = CREDS) => new IAMClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 });
const sts = (url: string, credentials: Creds) => new STSClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 });

const record = (e: Event): any => JSON.parse(e.CloudTrailEvent!);

/**
 * A bucket trails may deliver to, as CloudTrail requires one: created, with the bucket policy
 * CloudTrail's documentation gives (ACL check, and writes under each key prefix's AWSLogs/ACCOUNT/).
 */
async function trailBucket(url: string, bucket: string, prefixes: string[] = ['']): Promise<void> {
  const s3 = new S3Client({ endpoint: url, region: 'us-east-1', credentials: CREDS, forcePathStyle: true, maxAttempts: 1 });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const Policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:GetBucketAcl',
        Resource: `arn:aws:s3:::${bucket}`,
      },
      {
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: prefixes.map((p) => `arn:aws:s3:::${bucket}/${p ? `${p}/` : ''}AWSLogs/${ACCOUNT}/*`),
        Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
      },
    ],
  });
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy }));
  s3.destroy();
}

async function lookup(c: CloudTrailClient, attr?: LookupAttribute, extra: Record<string, unknown> = {}): Promise<Event[]> {
  const r = await c.send(new LookupEventsCommand({ ...(attr ? { LookupAttributes: [attr] } : {}), ...extra }));
  return r.Events ?? [];
}

/** Every event of a lookup, through all its pages. */
async function lookupAll(c: CloudTrailClient, attr?: LookupAttribute, pageSize = 50): Promise<Event[]> {
  const out: Event[] = [];
  let token: string | undefined;
  do {
    const r = await c.send(
      new LookupEventsCommand({ ...(attr ? { LookupAttributes: [attr] } : {}), MaxResults: pageSize, NextToken: token }),
    );
    out.push(...(r.Events ?? []));
    token = r.NextToken;
  } while (token);
  return out;
}

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out;
}

describe('CloudTrail events of the calls', () => {
  let server: Palisade;
  let client: EC2Client;
  let trailClient: CloudTrailClient;
  let user: Creds;
  let groupId: string;

  before(async () => {
    server = await start();
    trailClient = ct(server.url);
    // An IAM user with its own key makes the calls, so userIdentity is not the default root.
    const admin = iam(server.url);
    await admin.send(new CreateUserCommand({ UserName: 'alice' }));
    const key = await admin.send(new CreateAccessKeyCommand({ UserName: 'alice' }));
    user = { accessKeyId: key.AccessKey!.AccessKeyId!, secretAccessKey: key.AccessKey!.SecretAccessKey! };
    client = ec2(server.url, { accessKeyId: user.accessKeyId });
    groupId = (await client.send(new CreateSecurityGroupCommand({ GroupName: 'web', Description: 'web tier' }))).GroupId!;
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
  });
  after(async () => server.close());

  it('records the change with its request parameters, response and caller identity', async () => {
    const [ev, ...more] = await lookup(trailClient, { AttributeKey: 'EventName', AttributeValue: 'AuthorizeSecurityGroupIngress' });
    assert.equal(more.length, 0);
    assert.equal(ev!.EventName, 'AuthorizeSecurityGroupIngress');
    assert.equal(ev!.EventSource, 'ec2.amazonaws.com');
    assert.equal(ev!.ReadOnly, 'false');
    assert.equal(ev!.Username, 'alice');
    assert.equal(ev!.AccessKeyId, user.accessKeyId);
    assert.ok(ev!.EventTime instanceof Date && Math.abs(ev!.EventTime.getTime() - Date.now()) < 60_000);
    assert.deepEqual(
      ev!.Resources?.find((r) => r.ResourceType === 'AWS::EC2::SecurityGroup'),
      { ResourceType: 'AWS::EC2::SecurityGroup', ResourceName: groupId },
    );
    const r = record(ev!);
    assert.equal(r.eventVersion, '1.11');
    assert.equal(r.eventID, ev!.EventId);
    assert.match(r.eventID, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.match(r.eventTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(r.eventTime, ev!.EventTime!.toISOString().replace('.000Z', 'Z'));
    assert.deepEqual(r.userIdentity, {
      type: 'IAMUser',
      principalId: r.userIdentity.principalId,
      arn: `arn:aws:iam::${ACCOUNT}:user/alice`,
      accountId: ACCOUNT,
      accessKeyId: user.accessKeyId,
      userName: 'alice',
    });
    assert.match(r.userIdentity.principalId, /^AIDA/);
    assert.deepEqual(r.requestParameters, {
      groupId,
      ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipRanges: { items: [{ cidrIp: '0.0.0.0/0' }] } }] },
    });
    assert.equal(r.responseElements._return, true);
    assert.equal(r.responseElements.requestId, r.requestID);
    const rule = r.responseElements.securityGroupRuleSet.items[0];
    assert.equal(rule.groupId, groupId);
    assert.match(rule.securityGroupRuleId, /^sgr-/);
    assert.equal(rule.cidrIpv4, '0.0.0.0/0');
    assert.equal(rule.isEgress, false);
    for (const [k, v] of Object.entries({
      eventSource: 'ec2.amazonaws.com',
      eventName: 'AuthorizeSecurityGroupIngress',
      awsRegion: 'us-east-1',
      sourceIPAddress: '127.0.0.1',
      readOnly: false,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: ACCOUNT,
      eventCategory: 'Management',
    }))
      assert.deepEqual(r[k], v, k);
    assert.match(r.userAgent, /aws-sdk-js/);
    assert.equal(r.errorCode, undefined);
    assert.equal(r.tlsDetails, undefined);
    // The record's fields come in AWS's order.
    assert.deepEqual(Object.keys(r), [
      'eventVersion',
      'userIdentity',
      'eventTime',
      'eventSource',
      'eventName',
      'awsRegion',
      'sourceIPAddress',
      'userAgent',
      'requestParameters',
      'responseElements',
      'requestID',
      'eventID',
      'readOnly',
      'eventType',
      'managementEvent',
      'recipientAccountId',
      'eventCategory',
    ]);
  });

  it('names EC2 parameters by their wire names (CreateSecurityGroup: groupDescription)', async () => {
    const [ev] = await lookup(trailClient, { AttributeKey: 'EventName', AttributeValue: 'CreateSecurityGroup' });
    const r = record(ev!);
    assert.deepEqual(r.requestParameters, { groupDescription: 'web tier', groupName: 'web' });
    assert.equal(r.responseElements.groupId, groupId);
    assert.match(r.responseElements.securityGroupArn, /^arn:aws:ec2:us-east-1:000000000000:security-group\/sg-/);
    assert.deepEqual(ev!.Resources, [{ ResourceType: 'AWS::EC2::SecurityGroup', ResourceName: groupId }]);
  });

  it('records reads as read-only with null responseElements', async () => {
    await client.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
    const [ev] = await lookup(trailClient, { AttributeKey: 'EventName', AttributeValue: 'DescribeSecurityGroups' });
    assert.equal(ev!.ReadOnly, 'true');
    const r = record(ev!);
    assert.equal(r.readOnly, true);
    assert.equal(r.responseElements, null);
    assert.deepEqual(r.requestParameters, { groupId: { items: [{ groupId }] } });
  });

  it('records failures with errorCode and errorMessage (EC2 codes prefixed Client.)', async () => {
    const e = await awsError(() => client.send(new DeleteSecurityGroupCommand({ GroupId: 'sg-0123456789abcdef0' })));
    assert.equal(e.name, 'InvalidGroup.NotFound');
    const [ev] = await lookup(trailClient, { AttributeKey: 'EventName', AttributeValue: 'DeleteSecurityGroup' });
    const r = record(ev!);
    assert.equal(r.errorCode, 'Client.InvalidGroup.NotFound');
    assert.equal(r.errorMessage, e.message);
    assert.deepEqual(r.requestParameters, { groupId: 'sg-0123456789abcdef0' });
    assert.equal(r.responseElements, null);
    assert.deepEqual(Object.keys(r).slice(7, 11), ['userAgent', 'errorCode', 'errorMessage', 'requestParameters']);
    // DryRun is a failure too.
    await awsError(() => client.send(new DeleteSecurityGroupCommand({ GroupId: groupId, DryRun: true })));
    const [dry] = await lookup(trailClient, { AttributeKey: 'EventName', AttributeValue: 'DeleteSecurityGroup' });
    assert.equal(record(dry!).errorCode, 'Client.DryRunOperation');
    // IAM errors carry the model's exception name.
    await awsError(() => iam(server.url).send(new GetRoleCommand({ RoleName: 'nope' })));
    const [get] = await lookup(trailClient, { AttributeKey: 'EventName', AttributeValue: 'GetRole' });
    assert.equal(record(get!).errorCode, 'NoSuchEntityException');
    assert.deepEqual(record(get!).requestParameters, { roleName: 'nope' });
  });

  it('records IAM (global) calls in us-east-1 with lower-camel parameters', async () => {
    const west = ct(server.url, { region: 'us-west-2' });
    const trust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }],
    });
    await new IAMClient({ endpoint: server.url, region: 'us-west-2', credentials: CREDS, maxAttempts: 1 }).send(
      new CreateRoleCommand({ RoleName: 'deployer', AssumeRolePolicyDocument: trust }),
    );
    const [ev] = await lookup(trailClient, { AttributeKey: 'EventName', AttributeValue: 'CreateRole' });
    const r = record(ev!);
    assert.equal(r.eventSource, 'iam.amazonaws.com');
    assert.equal(r.awsRegion, 'us-east-1');
    assert.deepEqual(r.requestParameters, { roleName: 'deployer', assumeRolePolicyDocument: trust });
    assert.equal(r.responseElements.role.roleName, 'deployer');
    assert.match(r.responseElements.role.createDate, /^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d:\d\d [AP]M$/);
    assert.deepEqual(ev!.Resources, [{ ResourceType: 'AWS::IAM::Role', ResourceName: 'deployer' }]);
    assert.equal(r.userIdentity.type, 'Root');
    assert.equal(ev!.Username, 'root');
    assert.equal((await lookup(west, { AttributeKey: 'EventName', AttributeValue: 'CreateRole' })).length, 0, 'not in us-west-2');
    // The secret of a new access key is never logged.
    const [key] = await lookup(trailClient, { AttributeKey: 'EventName', AttributeValue: 'CreateAccessKey' });
    assert.equal(record(key!).responseElements.accessKey.accessKeyId, user.accessKeyId);
    assert.equal(record(key!).responseElements.accessKey.secretAccessKey, undefined);
    assert.ok(!key!.CloudTrailEvent!.includes(user.secretAccessKey));
  });

  it('records the assumed-role identity with its session context, and AssumeRole with its resources', async () => {
    const assumed = await sts(server.url, CREDS).send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/deployer`, RoleSessionName: 'ci-run' }),
    );
    const c = assumed.Credentials!;
    const session = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    await ec2(server.url).send(new DescribeVpcsCommand({})); // root, for contrast
    const asRole = new (await import('@aws-sdk/client-ec2')).EC2Client({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: session,
      maxAttempts: 1,
    });
    await asRole.send(new CreateTagsCommand({ Resources: [groupId], Tags: [{ Key: 'team', Value: 'web' }] }));
    const [ev] = await lookup(trailClient, { AttributeKey: 'AccessKeyId', AttributeValue: session.accessKeyId });
    assert.equal(ev!.EventName, 'CreateTags');
    assert.equal(ev!.Username, 'ci-run');
    const r = record(ev!);
    assert.equal(r.userIdentity.type, 'AssumedRole');
    assert.equal(r.userIdentity.arn, `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/ci-run`);
    assert.match(r.userIdentity.principalId, /^AROA[A-Z0-9]+:ci-run$/);
    assert.equal(r.userIdentity.accessKeyId, session.accessKeyId);
    assert.equal(r.userIdentity.sessionContext.attributes.mfaAuthenticated, 'false');
    assert.match(r.userIdentity.sessionContext.attributes.creationDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(r.userIdentity.sessionContext.sessionIssuer, {
      type: 'Role',
      principalId: r.userIdentity.principalId.split(':')[0],
      arn: `arn:aws:iam::${ACCOUNT}:role/deployer`,
      accountId: ACCOUNT,
      userName: 'deployer',
    });
    assert.deepEqual(r.requestParameters, {
      resourceId: { items: [{ resourceId: groupId }] },
      tag: { items: [{ key: 'team', value: 'web' }] },
    });
    assert.deepEqual(r.responseElements, { requestId: r.requestID, _return: true });

    const [ar] = await lookup(trailClient, { AttributeKey: 'EventName', AttributeValue: 'AssumeRole' });
    const a = record(ar!);
    assert.equal(a.eventSource, 'sts.amazonaws.com');
    assert.deepEqual(a.requestParameters, { roleArn: `arn:aws:iam::${ACCOUNT}:role/deployer`, roleSessionName: 'ci-run' });
    assert.equal(a.responseElements.credentials.accessKeyId, session.accessKeyId);
    assert.equal(a.responseElements.credentials.secretAccessKey, undefined, 'secrets are not logged');
    assert.deepEqual(a.resources, [{ accountId: ACCOUNT, type: 'AWS::IAM::Role', ARN: `arn:aws:iam::${ACCOUNT}:role/deployer` }]);
    const types = ar!.Resources!.map((x) => x.ResourceType).sort();
    assert.deepEqual(types, ['AWS::IAM::AccessKey', 'AWS::IAM::Role', 'AWS::STS::AssumedRole']);
  });

  it('records instance-role sessions from IMDS with ec2RoleDelivery, and CloudWatch Logs calls', async () => {
    const admin = iam(server.url);
    const trust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    await admin.send(new CreateRoleCommand({ RoleName: 'app', AssumeRolePolicyDocument: trust }));
    await admin.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'app' }));
    await admin.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'app', RoleName: 'app' }));
    const ran = await ec2(server.url).send(
      new RunInstancesCommand({
        ImageId: 'ami-12345678',
        MinCount: 1,
        MaxCount: 1,
        IamInstanceProfile: { Name: 'app' },
        MetadataOptions: { HttpTokens: 'required' },
      }),
    );
    const id = ran.Instances![0]!.InstanceId!;
    const endpoint = ((await (await fetch(`${server.url}/_palisade/imds/${id}`, { method: 'POST' })).json()) as { endpoint: string })
      .endpoint;
    const token = await (
      await fetch(`${endpoint}/latest/api/token`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' } })
    ).text();
    const doc = (await (
      await fetch(`${endpoint}/latest/meta-data/iam/security-credentials/app`, { headers: { 'x-aws-ec2-metadata-token': token } })
    ).json()) as Record<string, string>;
    const creds = { accessKeyId: doc.AccessKeyId!, secretAccessKey: doc.SecretAccessKey!, sessionToken: doc.Token! };
    const logs = new CloudWatchLogsClient({ endpoint: server.url, region: 'us-east-1', credentials: creds, maxAttempts: 1 });
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/app/web' }));
    const [ev] = await lookup(trailClient, { AttributeKey: 'AccessKeyId', AttributeValue: creds.accessKeyId });
    assert.equal(ev!.EventName, 'CreateLogGroup');
    assert.equal(ev!.EventSource, 'logs.amazonaws.com');
    assert.equal(ev!.Username, id);
    assert.deepEqual(ev!.Resources, [{ ResourceType: 'AWS::Logs::LogGroup', ResourceName: '/app/web' }]);
    const r = record(ev!);
    assert.deepEqual(r.requestParameters, { logGroupName: '/app/web' });
    assert.equal(r.responseElements, null);
    assert.equal(r.userIdentity.type, 'AssumedRole');
    assert.equal(r.userIdentity.arn, `arn:aws:sts::${ACCOUNT}:assumed-role/app/${id}`);
    assert.equal(r.userIdentity.sessionContext.ec2RoleDelivery, '2.0');
    assert.equal(r.userIdentity.sessionContext.sessionIssuer.userName, 'app');
  });

  // Found by test/fuzz.test.ts: resources were looked up by key in plain objects, so a tag key
  // `constructor` or `__proto__` (or an EC2 value like `constructor-01234567`) became a resource
  // whose ResourceType was a function or {} — and the SDK could not read LookupEvents any more.
  it('caller data named like Object.prototype members is neither a resource nor lost', async () => {
    const auth = (svc: string) =>
      `AWS4-HMAC-SHA256 Credential=${CREDS.accessKeyId}/20260101/us-east-1/${svc}/aws4_request, SignedHeaders=host, Signature=00`;
    const created = await fetch(server.url, {
      method: 'POST',
      headers: {
        authorization: auth('logs'),
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'Logs_20140328.CreateLogGroup',
      },
      body: '{"logGroupName":"/proto/tags","tags":{"__proto__":"x","constructor":"y","toString":"z"}}',
    });
    assert.equal(created.status, 200, await created.text());
    const [ev] = await lookup(trailClient, { AttributeKey: 'ResourceName', AttributeValue: '/proto/tags' });
    assert.deepEqual(ev!.Resources, [{ ResourceType: 'AWS::Logs::LogGroup', ResourceName: '/proto/tags' }]);
    assert.deepEqual(record(ev!).requestParameters.tags, JSON.parse('{"__proto__":"x","constructor":"y","toString":"z"}'));
    const tagged = await fetch(server.url, {
      method: 'POST',
      headers: { authorization: auth('ec2'), 'content-type': 'application/x-www-form-urlencoded' },
      body: `Action=CreateTags&Version=2016-11-15&ResourceId.1=${groupId}&Tag.1.Key=__proto__&Tag.1.Value=constructor-01234567`,
    });
    assert.equal(tagged.status, 200, await tagged.text());
    const [tags] = await lookup(trailClient, { AttributeKey: 'EventName', AttributeValue: 'CreateTags' });
    assert.deepEqual(tags!.Resources, [{ ResourceType: 'AWS::EC2::SecurityGroup', ResourceName: groupId }]);
  });

  it('answers the aws CLI v1 (lookup-events --lookup-attributes)', async () => {
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    const { stdout } = await run(
      'aws',
      [
        'cloudtrail',
        'lookup-events',
        '--lookup-attributes',
        'AttributeKey=EventName,AttributeValue=AuthorizeSecurityGroupIngress',
        '--endpoint-url',
        server.url,
        '--output',
        'json',
      ],
      { env },
    );
    const out = JSON.parse(stdout) as {
      Events: { EventName: string; ReadOnly: string; Username: string; EventTime: string; CloudTrailEvent: string }[];
    };
    assert.equal(out.Events.length, 1);
    assert.equal(out.Events[0]!.EventName, 'AuthorizeSecurityGroupIngress');
    assert.equal(out.Events[0]!.Username, 'alice');
    assert.equal(JSON.parse(out.Events[0]!.CloudTrailEvent).requestParameters.groupId, groupId);
    // The CLI's own call is an event too (cloudtrail.amazonaws.com, read-only), with botocore's user agent.
    const [self] = await lookup(trailClient, { AttributeKey: 'EventSource', AttributeValue: 'cloudtrail.amazonaws.com' });
    assert.equal(self!.EventName, 'LookupEvents');
    assert.equal(self!.ReadOnly, 'true');
    assert.match(record(self!).userAgent, /aws-cli\/1\./);
    assert.deepEqual(record(self!).requestParameters, {
      lookupAttributes: [{ attributeKey: 'EventName', attributeValue: 'AuthorizeSecurityGroupIngress' }],
    });
  });

  it('scopes events by account and region', async () => {
    await ec2(server.url, { region: 'eu-west-1' }).send(new DescribeVpcsCommand({}));
    const eu = ct(server.url, { region: 'eu-west-1' });
    const inEu = await lookupAll(eu, { AttributeKey: 'EventSource', AttributeValue: 'ec2.amazonaws.com' });
    assert.deepEqual(
      inEu.map((e) => e.EventName),
      ['DescribeVpcs'],
    );
    assert.equal(record(inEu[0]!).awsRegion, 'eu-west-1');
    // A 12-digit access key is that account's root: it sees only its own events.
    const other = ct(server.url, { credentials: { accessKeyId: '111111111111', secretAccessKey: 'x' } });
    await ec2(server.url, { accessKeyId: '111111111111' }).send(new DescribeVpcsCommand({}));
    const theirs = await lookupAll(other);
    assert.deepEqual(
      theirs.map((e) => e.EventName),
      ['DescribeVpcs'],
    );
    assert.equal(record(theirs[0]!).recipientAccountId, '111111111111');
    assert.ok((await lookupAll(trailClient)).every((e) => record(e).recipientAccountId === ACCOUNT));
  });

  it('answers every lookup attribute from its in-memory index exactly as a scan of the rows would', () => {
    const events = server.trail.events;
    events.invalidate(); // rebuilt from the rows, then compared with them
    type R = {
      id: number;
      account: string;
      region: string;
      t: number;
      event_id: string;
      event_name: string;
      event_source: string;
      username: string | null;
      access_key_id: string | null;
      read_only: number;
      resources: string | null;
    };
    const rows = events.db
      .prepare(
        'SELECT id, account, region, t, event_id, event_name, event_source, username, access_key_id, read_only, resources FROM cloudtrail_events',
      )
      .all() as R[];
    const valueOf = (r: R, key: string): string[] => {
      const res = r.resources ? (JSON.parse(r.resources) as { ResourceType: string; ResourceName: string }[]) : [];
      switch (key) {
        case 'EventId':
          return [r.event_id];
        case 'EventName':
          return [r.event_name];
        case 'EventSource':
          return [r.event_source];
        case 'Username':
          return r.username === null ? [] : [r.username];
        case 'AccessKeyId':
          return r.access_key_id === null ? [] : [r.access_key_id];
        case 'ReadOnly':
          return [r.read_only ? 'true' : 'false'];
        case 'ResourceType':
          return res.map((x) => x.ResourceType);
        default:
          return res.map((x) => x.ResourceName);
      }
    };
    const byScope = (a: R, b: R) => b.t - a.t || b.id - a.id;
    let checked = 0;
    for (const key of LOOKUP_KEYS) {
      const values = new Set(rows.flatMap((r) => valueOf(r, key).map((v) => `${r.account}/${r.region}/${v}`)));
      for (const av of [...values].slice(0, 5)) {
        const [account, region, ...rest] = av.split('/');
        const value = rest.join('/');
        const want = rows
          .filter((r) => r.account === account && r.region === region && valueOf(r, key).includes(value))
          .sort(byScope)
          .map((r) => r.id);
        const got = events
          .lookup({ account: account!, region: region!, attribute: { key, value }, from: 0, to: Number.MAX_SAFE_INTEGER, limit: 10_000 })
          .map((e) => e.id);
        assert.deepEqual(got, want, `${key}=${value}`);
        checked++;
      }
    }
    assert.ok(checked >= LOOKUP_KEYS.length, `checked ${checked} lookups`);
  });
});

describe('LookupEvents attributes, pages, time ranges and errors', () => {
  let server: Palisade;
  let clock: VirtualClock;
  let c: CloudTrailClient;
  let client: EC2Client;
  const groups: string[] = [];
  let t0: number;

  before(async () => {
    server = await start({ clock: 'virtual' });
    clock = server.clock as VirtualClock;
    clock.set(Date.UTC(2025, 5, 1, 12, 0, 0));
    t0 = clock.now();
    c = ct(server.url);
    client = ec2(server.url);
    for (let i = 0; i < 12; i++) {
      groups.push((await client.send(new CreateSecurityGroupCommand({ GroupName: `g${i}`, Description: `group ${i}` }))).GroupId!);
      clock.advance(60);
    }
    await client.send(new DescribeSecurityGroupsCommand({}));
  });
  after(async () => server.close());

  it('pages newest first with NextToken, each event once', async () => {
    const all = await lookupAll(c, { AttributeKey: 'EventName', AttributeValue: 'CreateSecurityGroup' }, 5);
    assert.equal(all.length, 12);
    assert.deepEqual(
      all.map((e) => record(e).responseElements.groupId),
      [...groups].reverse(),
    );
    for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.EventTime! >= all[i]!.EventTime!);
    assert.equal(new Set(all.map((e) => e.EventId)).size, 12);
    const first = await c.send(new LookupEventsCommand({ MaxResults: 3 }));
    assert.equal(first.Events!.length, 3);
    assert.ok(first.NextToken);
    // Default page size 50; the last page has no token.
    const everything = await c.send(new LookupEventsCommand({}));
    assert.ok(everything.Events!.length <= 50);
    assert.equal(everything.NextToken, undefined);
  });

  it('rejects a NextToken used with other parameters, or made up', async () => {
    const p = await c.send(
      new LookupEventsCommand({ MaxResults: 2, LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateSecurityGroup' }] }),
    );
    let e = await awsError(() =>
      c.send(
        new LookupEventsCommand({
          MaxResults: 2,
          NextToken: p.NextToken,
          LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'DescribeSecurityGroups' }],
        }),
      ),
    );
    assert.equal(e.name, 'InvalidNextTokenException');
    e = await awsError(() => c.send(new LookupEventsCommand({ MaxResults: 2, NextToken: p.NextToken })));
    assert.equal(e.name, 'InvalidNextTokenException');
    e = await awsError(() => c.send(new LookupEventsCommand({ NextToken: 'not-a-token' })));
    assert.equal(e.name, 'InvalidNextTokenException');
    assert.equal(e.status, 400);
    // Same parameters, another page size: fine.
    const next = await c.send(
      new LookupEventsCommand({
        MaxResults: 4,
        NextToken: p.NextToken,
        LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateSecurityGroup' }],
      }),
    );
    assert.equal(next.Events!.length, 4);
    assert.equal(record(next.Events![0]!).responseElements.groupId, groups[9]);
  });

  it('filters by every lookup attribute', async () => {
    const create = (await lookup(c, { AttributeKey: 'EventName', AttributeValue: 'CreateSecurityGroup' }))[4]!;
    const byId = await lookup(c, { AttributeKey: 'EventId', AttributeValue: create.EventId! });
    assert.deepEqual(
      byId.map((e) => e.EventId),
      [create.EventId],
    );
    const ro = await lookupAll(c, { AttributeKey: 'ReadOnly', AttributeValue: 'true' });
    assert.ok(ro.length >= 1 && ro.every((e) => e.ReadOnly === 'true'));
    assert.ok(ro.some((e) => e.EventName === 'DescribeSecurityGroups'));
    const rw = await lookupAll(c, { AttributeKey: 'ReadOnly', AttributeValue: 'false' });
    assert.equal(rw.length, 12);
    assert.ok(rw.every((e) => e.ReadOnly === 'false'));
    const byUser = await lookupAll(c, { AttributeKey: 'Username', AttributeValue: 'root' });
    assert.ok(byUser.length >= 13);
    assert.equal((await lookup(c, { AttributeKey: 'Username', AttributeValue: 'nobody' })).length, 0);
    const byType = await lookupAll(c, { AttributeKey: 'ResourceType', AttributeValue: 'AWS::EC2::SecurityGroup' }, 5);
    assert.equal(byType.filter((e) => e.EventName === 'CreateSecurityGroup').length, 12);
    assert.equal(new Set(byType.map((e) => e.EventId)).size, byType.length, 'no event twice');
    const byName = await lookup(c, { AttributeKey: 'ResourceName', AttributeValue: groups[3]! });
    assert.deepEqual(
      byName.map((e) => e.EventName),
      ['CreateSecurityGroup'],
    );
    const bySource = await lookupAll(c, { AttributeKey: 'EventSource', AttributeValue: 'ec2.amazonaws.com' });
    assert.equal(bySource.length, 13);
    const byKey = await lookupAll(c, { AttributeKey: 'AccessKeyId', AttributeValue: CREDS.accessKeyId });
    assert.ok(byKey.length >= 13 && byKey.every((e) => e.AccessKeyId === CREDS.accessKeyId));
  });

  it('restricts to StartTime/EndTime (inclusive)', async () => {
    const at = (minute: number) => new Date(t0 + minute * 60_000);
    const mid = await c.send(
      new LookupEventsCommand({
        StartTime: at(3),
        EndTime: at(5),
        LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateSecurityGroup' }],
      }),
    );
    assert.deepEqual(
      mid.Events!.map((e) => record(e).responseElements.groupId),
      [groups[5], groups[4], groups[3]],
    );
    const since = await c.send(
      new LookupEventsCommand({ StartTime: at(10), LookupAttributes: [{ AttributeKey: 'ReadOnly', AttributeValue: 'false' }] }),
    );
    assert.equal(since.Events!.length, 2);
    const until = await c.send(
      new LookupEventsCommand({ EndTime: at(0), LookupAttributes: [{ AttributeKey: 'ReadOnly', AttributeValue: 'false' }] }),
    );
    assert.deepEqual(
      until.Events!.map((e) => record(e).responseElements.groupId),
      [groups[0]],
    );
  });

  it("rejects bad parameters with CloudTrail's exceptions", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ StartTime: new Date(t0 + 60_000), EndTime: new Date(t0) }, 'InvalidTimeRangeException'],
      [{ MaxResults: 0 }, 'InvalidMaxResultsException'],
      [{ MaxResults: 51 }, 'InvalidMaxResultsException'],
      [
        {
          LookupAttributes: [
            { AttributeKey: 'EventName', AttributeValue: 'A' },
            { AttributeKey: 'Username', AttributeValue: 'B' },
          ],
        },
        'InvalidLookupAttributesException',
      ],
      [{ LookupAttributes: [{ AttributeKey: 'Color', AttributeValue: 'blue' }] }, 'InvalidLookupAttributesException'],
      [{ LookupAttributes: [{ AttributeKey: 'ReadOnly', AttributeValue: 'maybe' }] }, 'InvalidLookupAttributesException'],
      [{ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: '' }] }, 'InvalidLookupAttributesException'],
      [{ EventCategory: 'data' }, 'InvalidEventCategoryException'],
    ];
    for (const [input, code] of cases) {
      const e = await awsError(() => c.send(new LookupEventsCommand(input)));
      assert.equal(e.name, code, JSON.stringify(input));
      assert.equal(e.status, 400);
    }
    // Rejected lookups are events too.
    const failed = await lookupAll(c, { AttributeKey: 'EventName', AttributeValue: 'LookupEvents' });
    assert.ok(failed.some((e) => record(e).errorCode === 'InvalidTimeRangeException'));
    assert.deepEqual((await c.send(new LookupEventsCommand({ EventCategory: 'insight' }))).Events, []);
  });

  it('keeps 90 days of events', async () => {
    clock.advance(89 * 86_400);
    assert.equal((await lookupAll(c, { AttributeKey: 'EventName', AttributeValue: 'CreateSecurityGroup' })).length, 12);
    clock.advance(2 * 86_400);
    assert.equal((await lookupAll(c, { AttributeKey: 'EventName', AttributeValue: 'CreateSecurityGroup' })).length, 0);
    // …and the rows are gone, not just hidden.
    const n = server.store.db.prepare("SELECT count(*) AS n FROM cloudtrail_events WHERE event_name = 'CreateSecurityGroup'").get() as {
      n: number;
    };
    assert.equal(n.n, 0);
  });

  it('is emptied by /_palisade/reset', async () => {
    await client.send(new DescribeVpcsCommand({}));
    assert.ok((await lookupAll(c)).length > 0);
    const res = await fetch(`${server.url}/_palisade/reset`, { method: 'POST' });
    assert.equal(res.status, 200);
    const after = await lookupAll(c);
    assert.equal(after.length, 0);
  });
});

describe('CloudTrail across restarts and trail delivery', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-ct-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps events across a restart', async () => {
    const stateDir = join(dir, 'restart');
    let server = await start({ stateDir });
    const groupId = (await ec2(server.url).send(new CreateSecurityGroupCommand({ GroupName: 'kept', Description: 'kept' }))).GroupId!;
    const [before1] = await lookup(ct(server.url), { AttributeKey: 'ResourceName', AttributeValue: groupId });
    await server.close();
    server = await start({ stateDir });
    try {
      const [again] = await lookup(ct(server.url), { AttributeKey: 'ResourceName', AttributeValue: groupId });
      assert.equal(again!.EventId, before1!.EventId);
      assert.equal(again!.CloudTrailEvent, before1!.CloudTrailEvent);
      const page = await ct(server.url).send(new LookupEventsCommand({ MaxResults: 1 }));
      assert.equal(page.Events![0]!.EventName, 'LookupEvents');
    } finally {
      await server.close();
    }
  });

  it("manages trails and delivers what was logged while logging as gzip files in AWS's layout", async () => {
    const stateDir = join(dir, 'trails');
    const server = await start({ stateDir, clock: 'virtual' });
    const clock = server.clock as VirtualClock;
    clock.set(Date.UTC(2025, 2, 4, 10, 20, 30));
    try {
      const c = ct(server.url);
      const client = ec2(server.url);
      await trailBucket(server.url, 'audit-logs', ['', 'team']);
      const made = await c.send(new CreateTrailCommand({ Name: 'main', S3BucketName: 'audit-logs' }));
      assert.equal(made.TrailARN, `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/main`);
      assert.equal(made.IncludeGlobalServiceEvents, true);
      assert.equal(made.IsMultiRegionTrail, false);
      assert.equal(
        (await awsError(() => c.send(new CreateTrailCommand({ Name: 'main', S3BucketName: 'audit-logs' })))).name,
        'TrailAlreadyExistsException',
      );
      assert.equal(
        (await awsError(() => c.send(new CreateTrailCommand({ Name: 'a--b', S3BucketName: 'audit-logs' })))).name,
        'InvalidTrailNameException',
      );
      assert.equal(
        (await awsError(() => c.send(new CreateTrailCommand({ Name: 'ok-name', S3BucketName: 'Bad_Bucket' })))).name,
        'InvalidS3BucketNameException',
      );
      assert.equal((await awsError(() => c.send(new GetTrailStatusCommand({ Name: 'nope' })))).name, 'TrailNotFoundException');
      assert.equal((await c.send(new GetTrailStatusCommand({ Name: 'main' }))).IsLogging, false);

      await client.send(new DescribeVpcsCommand({})); // before logging: not delivered
      await c.send(new StartLoggingCommand({ Name: made.TrailARN }));
      const g = (await client.send(new CreateSecurityGroupCommand({ GroupName: 'logged', Description: 'logged' }))).GroupId!;
      await iam(server.url).send(new CreateUserCommand({ UserName: 'bob' })); // global: us-east-1
      await ec2(server.url, { region: 'eu-west-1' }).send(new DescribeVpcsCommand({})); // other region: not for a single-region trail
      const status = await c.send(new GetTrailStatusCommand({ Name: 'main' }));
      assert.equal(status.IsLogging, true);
      assert.equal(status.StartLoggingTime?.getTime(), Date.UTC(2025, 2, 4, 10, 20, 30));
      assert.equal(status.TimeLoggingStarted, '2025-03-04T10:20:30Z');
      assert.equal(status.LatestDeliveryTime, undefined);

      const delivered = server.trail.flush();
      assert.equal(delivered.files.length, 1);
      const file = delivered.files[0]!;
      const rel = relative(stateDir, file);
      assert.match(
        rel,
        /^cloudtrail\/AWSLogs\/000000000000\/CloudTrail\/us-east-1\/2025\/03\/04\/000000000000_CloudTrail_us-east-1_20250304T1020Z_[A-Za-z0-9]{16}\.json\.gz$/,
      );
      const body = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as {
        Records: { eventName: string; awsRegion: string; requestParameters: unknown }[];
      };
      assert.deepEqual(
        body.Records.map((r) => r.eventName),
        ['StartLogging', 'CreateSecurityGroup', 'CreateUser', 'GetTrailStatus'],
      );
      assert.deepEqual(body.Records[1]!.requestParameters, { groupDescription: 'logged', groupName: 'logged' });
      assert.ok(JSON.stringify(body).includes(g));
      assert.equal(server.trail.flush().files.length, 0, 'nothing new, nothing written');

      const after1 = await c.send(new GetTrailStatusCommand({ Name: 'main' }));
      assert.equal(after1.LatestDeliveryTime?.getTime(), Date.UTC(2025, 2, 4, 10, 20, 30));
      assert.equal(after1.LatestDeliveryAttemptSucceeded, '2025-03-04T10:20:30Z');

      // Advancing the server clock by the delivery interval delivers on its own.
      await client.send(new DescribeVpcsCommand({}));
      clock.advance(5 * 60);
      const dayFiles = () => files(join(stateDir, 'cloudtrail')).filter((f) => f.endsWith('.json.gz'));
      assert.equal(dayFiles().length, 2);
      const second = dayFiles().find((f) => f !== file)!;
      assert.match(second, /_20250304T1025Z_/);
      const recs = (JSON.parse(gunzipSync(readFileSync(second)).toString('utf8')) as { Records: { eventName: string }[] }).Records;
      assert.deepEqual(
        recs.map((r) => r.eventName),
        ['GetTrailStatus', 'DescribeVpcs'],
      );

      // Stopped: what follows is not delivered; what came before still is.
      await client.send(new CreateTagsCommand({ Resources: [g], Tags: [{ Key: 'k', Value: 'v' }] }));
      await c.send(new StopLoggingCommand({ Name: 'main' }));
      await client.send(new DeleteSecurityGroupCommand({ GroupId: g }));
      const last = server.trail.flush();
      assert.equal(last.files.length, 1);
      const recs3 = (JSON.parse(gunzipSync(readFileSync(last.files[0]!)).toString('utf8')) as { Records: { eventName: string }[] }).Records;
      assert.deepEqual(
        recs3.map((r) => r.eventName),
        ['CreateTags'],
      );
      const stopped = await c.send(new GetTrailStatusCommand({ Name: 'main' }));
      assert.equal(stopped.IsLogging, false);
      assert.ok(stopped.StopLoggingTime);

      // Describe/Get/List, shadow trails of multi-region trails, delete.
      await c.send(new CreateTrailCommand({ Name: 'org-wide', S3BucketName: 'audit-logs', S3KeyPrefix: 'team', IsMultiRegionTrail: true }));
      const eu = ct(server.url, { region: 'eu-west-1' });
      assert.deepEqual(
        (await eu.send(new DescribeTrailsCommand({}))).trailList!.map((t) => t.Name),
        ['org-wide'],
      );
      assert.deepEqual((await eu.send(new DescribeTrailsCommand({ includeShadowTrails: false }))).trailList, []);
      assert.equal((await eu.send(new GetTrailCommand({ Name: 'org-wide' }))).Trail!.HomeRegion, 'us-east-1');
      assert.equal((await awsError(() => eu.send(new DeleteTrailCommand({ Name: 'org-wide' })))).name, 'InvalidHomeRegionException');
      assert.deepEqual((await c.send(new ListTrailsCommand({}))).Trails!.map((t) => t.Name).sort(), ['main', 'org-wide']);
      const d = (await c.send(new DescribeTrailsCommand({ trailNameList: ['main'] }))).trailList!;
      assert.equal(d[0]!.S3BucketName, 'audit-logs');
      assert.equal(d[0]!.HasCustomEventSelectors, false);
      // A multi-region trail with a prefix delivers every region, under the prefix.
      await c.send(new StartLoggingCommand({ Name: 'org-wide' }));
      await ec2(server.url, { region: 'eu-west-1' }).send(new DescribeVpcsCommand({}));
      const multi = server.trail.flush();
      const regions = multi.files.map((f) => relative(stateDir, f).split('/').slice(0, 6).join('/')).sort();
      assert.deepEqual(regions, [
        'cloudtrail/team/AWSLogs/000000000000/CloudTrail/eu-west-1',
        'cloudtrail/team/AWSLogs/000000000000/CloudTrail/us-east-1',
      ]);
      await c.send(new DeleteTrailCommand({ Name: 'main' }));
      assert.equal((await awsError(() => c.send(new GetTrailCommand({ Name: 'main' })))).name, 'TrailNotFoundException');
    } finally {
      await server.close();
    }
  });

  it('keeps the trail API working without a state directory (no files)', async () => {
    const server = await start();
    try {
      const c = ct(server.url);
      await trailBucket(server.url, 'bucket-1');
      await c.send(new CreateTrailCommand({ Name: 'mem', S3BucketName: 'bucket-1' }));
      await c.send(new StartLoggingCommand({ Name: 'mem' }));
      await ec2(server.url).send(new DescribeVpcsCommand({}));
      const r = server.trail.flush();
      assert.deepEqual(r.files, []);
      assert.ok(r.records >= 2);
      assert.equal((await c.send(new GetTrailStatusCommand({ Name: 'mem' }))).IsLogging, true);
    } finally {
      await server.close();
    }
  });
});

describe('palisade trail', () => {
  let server: Palisade;
  before(async () => {
    server = await start();
    const client = ec2(server.url);
    await client.send(new CreateSecurityGroupCommand({ GroupName: 'cli', Description: 'cli' }));
    await awsError(() => client.send(new DeleteSecurityGroupCommand({ GroupId: 'sg-0000000000000000f' })));
    await iam(server.url).send(new CreateUserCommand({ UserName: 'carol' }));
  });
  after(async () => server.close());

  const cli = async (...args: string[]) => {
    let text = '';
    const code = await trailCli(['--endpoint', server.url, ...args], (s) => {
      text += s;
    });
    return { code, text };
  };

  it('prints recent events as a table, newest first', async () => {
    const { code, text } = await cli();
    assert.equal(code, 0);
    const lines = text.trimEnd().split('\n');
    assert.match(lines[0]!, /^TIME\s+EVENT\s+SOURCE\s+USER\s+RESULT\s+RESOURCES$/);
    assert.match(lines[1]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+CreateUser\s+iam\s+root\s+ok\s+carol$/);
    assert.match(lines[2]!, /DeleteSecurityGroup\s+ec2\s+root\s+Client\.InvalidGroup\.NotFound\s+sg-0000000000000000f/);
    assert.match(lines[3]!, /CreateSecurityGroup\s+ec2\s+root\s+ok\s+sg-/);
  });

  it('filters by event name and user, --since, and prints JSON', async () => {
    const { text } = await cli('--event-name', 'CreateSecurityGroup', '--user', 'root', '--json');
    const events = JSON.parse(text) as { EventName: string; CloudTrailEvent: { requestParameters: unknown } }[];
    assert.deepEqual(
      events.map((e) => e.EventName),
      ['CreateSecurityGroup'],
    );
    assert.deepEqual(events[0]!.CloudTrailEvent.requestParameters, { groupDescription: 'cli', groupName: 'cli' });
    const none = await cli('--user', 'nobody');
    assert.equal(none.text, 'no events\n');
    const future = await cli('--since', new Date(Date.now() + 3_600_000).toISOString());
    assert.equal(future.text, 'no events\n');
    const recent = await cli('--since', '10m', '--json', '--max', '2');
    assert.equal((JSON.parse(recent.text) as unknown[]).length, 2);
    assert.equal(parseSince('2h', 10_000_000).getTime(), 10_000_000 - 7_200_000);
    assert.throws(() => parseSince('yesterday'), /invalid --since/);
    await assert.rejects(() => cli('--since', '1h', '--max', '0'), /invalid --max/);
  });

  it('runs from the built command line', async () => {
    const bin = fileURLToPath(new URL('../bin/palisade.js', import.meta.url));
    const { stdout } = await run(process.execPath, [bin, 'trail', '--endpoint', server.url, '--event-name', 'CreateUser', '--json'], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' },
    });
    const events = JSON.parse(stdout) as { EventName: string; Username: string }[];
    assert.deepEqual(
      events.map((e) => e.EventName),
      ['CreateUser'],
    );
  });
});
