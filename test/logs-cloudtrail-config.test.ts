// CloudWatch Logs tags and log-group fields, and CloudTrail's trail configuration, through the real
// SDK clients (and the aws CLI): tags by ARN and by name with AWS's limits; the bucket checks of
// CreateTrail/UpdateTrail (bucket policy evaluated for cloudtrail.amazonaws.com); UpdateTrail;
// event selectors (validation, and what a trail then delivers); Insights selectors; trail tags.
// Refused calls change nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
  ListTagsLogGroupCommand,
  PutRetentionPolicyCommand,
  TagLogGroupCommand,
  TagResourceCommand,
  UntagLogGroupCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  AddTagsCommand,
  CloudTrailClient,
  CreateTrailCommand,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetInsightSelectorsCommand,
  GetTrailCommand,
  GetTrailStatusCommand,
  ListTagsCommand,
  ListTrailsCommand,
  PutEventSelectorsCommand,
  PutInsightSelectorsCommand,
  RemoveTagsCommand,
  StartLoggingCommand,
  UpdateTrailCommand,
} from '@aws-sdk/client-cloudtrail';
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  GetBucketPolicyCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateFlowLogsCommand,
  CreateSecurityGroupCommand,
  DescribeFlowLogsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { awsError, CREDS, ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import type { VirtualClock } from '../src/core/clock.ts';
import { timed } from './helpers/run.ts';

const run = timed(promisify(execFile));
const ACCOUNT = '000000000000';
const opts = (url: string, region = 'us-east-1') => ({ endpoint: url, region, credentials: CREDS, maxAttempts: 1 });
const s3Of = (url: string) => new S3Client({ ...opts(url), forcePathStyle: true });
const cliEnv = {
  ...process.env,
  AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
};

/** CloudTrail's documented bucket policy, with aws:SourceArn naming the trails that may write (any of the account's when omitted). */
function trailPolicy(bucket: string, opt: { prefix?: string; trails?: string[]; acl?: boolean; deny?: boolean } = {}): string {
  const source = opt.trails
    ? { StringEquals: { 'aws:SourceArn': opt.trails.map((t) => `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/${t}`) } }
    : {};
  const statements: object[] = [
    {
      Sid: 'AWSCloudTrailWrite',
      Effect: 'Allow',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: 's3:PutObject',
      Resource: `arn:aws:s3:::${bucket}/${opt.prefix ? `${opt.prefix}/` : ''}AWSLogs/${ACCOUNT}/*`,
      Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', ...source.StringEquals } },
    },
  ];
  if (opt.acl !== false)
    statements.push({
      Sid: 'AWSCloudTrailAclCheck',
      Effect: 'Allow',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: 's3:GetBucketAcl',
      Resource: `arn:aws:s3:::${bucket}`,
      ...(opt.trails ? { Condition: source } : {}),
    });
  if (opt.deny) statements.push({ Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/*` });
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

describe('CloudWatch Logs: tags and log-group fields', () => {
  let server: Palisade;
  let logs: CloudWatchLogsClient;
  const arn = (name: string) => `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:${name}`;
  before(async () => {
    server = await start();
    logs = new CloudWatchLogsClient(opts(server.url));
  });
  after(async () => server.close());

  it('CreateLogGroup with tags; TagResource, UntagResource, ListTagsForResource by ARN (with or without :*)', async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/app/web', tags: { env: 'test', team: 'web' }, kmsKeyId: 'alias/logs' }));
    await logs.send(new PutRetentionPolicyCommand({ logGroupName: '/app/web', retentionInDays: 30 }));
    assert.deepEqual((await logs.send(new ListTagsForResourceCommand({ resourceArn: arn('/app/web') }))).tags, {
      env: 'test',
      team: 'web',
    });
    assert.deepEqual((await logs.send(new ListTagsForResourceCommand({ resourceArn: `${arn('/app/web')}:*` }))).tags, {
      env: 'test',
      team: 'web',
    });
    await logs.send(new TagResourceCommand({ resourceArn: arn('/app/web'), tags: { env: 'prod', owner: 'ops' } }));
    await logs.send(new UntagResourceCommand({ resourceArn: arn('/app/web'), tagKeys: ['team', 'absent'] }));
    assert.deepEqual((await logs.send(new ListTagsForResourceCommand({ resourceArn: arn('/app/web') }))).tags, {
      env: 'prod',
      owner: 'ops',
    });
    const [g] = (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/app/web' }))).logGroups!;
    assert.equal(g!.arn, `${arn('/app/web')}:*`);
    assert.equal(g!.logGroupArn, arn('/app/web'));
    assert.equal(g!.retentionInDays, 30);
    assert.equal(g!.kmsKeyId, 'alias/logs');
    assert.equal(g!.logGroupClass, 'STANDARD');
    const cli = await run('aws', ['logs', 'list-tags-for-resource', '--resource-arn', arn('/app/web'), '--endpoint-url', server.url], {
      env: cliEnv,
    });
    assert.deepEqual(JSON.parse(cli.stdout).tags, { env: 'prod', owner: 'ops' });
  });

  it('the older TagLogGroup, UntagLogGroup, ListTagsLogGroup by name', async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'legacy' }));
    await logs.send(new TagLogGroupCommand({ logGroupName: 'legacy', tags: { a: '1', b: '2' } }));
    await logs.send(new UntagLogGroupCommand({ logGroupName: 'legacy', tags: ['a'] }));
    assert.deepEqual((await logs.send(new ListTagsLogGroupCommand({ logGroupName: 'legacy' }))).tags, { b: '2' });
    const e = await awsError(() => logs.send(new ListTagsLogGroupCommand({ logGroupName: 'nope' })));
    assert.deepEqual([e.name, e.message], ['ResourceNotFoundException', 'The specified log group does not exist.']);
  });

  it("AWS's limits and ARNs: 50 tags, key and value lengths and characters; unknown groups; refused calls change nothing", async () => {
    const many = (n: number, from = 0) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i + from}`, 'v']));
    let e = await awsError(() => logs.send(new CreateLogGroupCommand({ logGroupName: 'too-many', tags: many(51) })));
    assert.equal(e.name, 'InvalidParameterException');
    assert.match(e.message, /at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50/);
    assert.deepEqual((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'too-many' }))).logGroups, []);
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'limits', tags: many(40) }));
    e = await awsError(() => logs.send(new TagResourceCommand({ resourceArn: arn('limits'), tags: many(11, 100) })));
    assert.deepEqual([e.name, e.status], ['TooManyTagsException', 400]);
    for (const tags of [{ ['k'.repeat(129)]: 'v' }, { k: 'v'.repeat(257) }, { 'bad*key': 'v' }, { 'aws:reserved': 'v' }] as Record<
      string,
      string
    >[]) {
      e = await awsError(() => logs.send(new TagResourceCommand({ resourceArn: arn('limits'), tags })));
      assert.equal(e.name, 'InvalidParameterException', JSON.stringify(tags).slice(0, 40));
    }
    assert.equal(Object.keys((await logs.send(new ListTagsForResourceCommand({ resourceArn: arn('limits') }))).tags!).length, 40);
    await logs.send(new TagResourceCommand({ resourceArn: arn('limits'), tags: many(10, 100) }));
    assert.equal(Object.keys((await logs.send(new ListTagsForResourceCommand({ resourceArn: arn('limits') }))).tags!).length, 50);
    e = await awsError(() => logs.send(new TagResourceCommand({ resourceArn: arn('nope'), tags: { a: 'b' } })));
    assert.deepEqual([e.name, e.message], ['ResourceNotFoundException', 'The specified log group does not exist.']);
    e = await awsError(() =>
      logs.send(new ListTagsForResourceCommand({ resourceArn: `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:limits` })),
    );
    assert.equal(e.name, 'ResourceNotFoundException');
    e = await awsError(() => logs.send(new ListTagsForResourceCommand({ resourceArn: 'limits' })));
    assert.equal(e.name, 'InvalidParameterException');
    e = await awsError(() => logs.send(new UntagResourceCommand({ resourceArn: arn('limits'), tagKeys: [] })));
    assert.equal(e.name, 'InvalidParameterException');
  });
});

describe('CloudTrail: trail configuration', () => {
  let dir: string;
  let server: Palisade;
  let trails: CloudTrailClient;
  let s3: S3Client;
  const trailArn = (name: string) => `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/${name}`;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-trail-config-'));
    server = await start({ stateDir: dir, clock: 'virtual' });
    trails = new CloudTrailClient(opts(server.url));
    s3 = s3Of(server.url);
    for (const b of ['trail-logs', 'bare-bucket', 'other-logs']) await s3.send(new CreateBucketCommand({ Bucket: b }));
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const names = async () => ((await trails.send(new ListTrailsCommand({}))).Trails ?? []).map((t) => t.Name).sort();

  it('CreateTrail checks the bucket as CloudTrail does: it exists, and its policy lets cloudtrail.amazonaws.com write', async () => {
    let e = await awsError(() => trails.send(new CreateTrailCommand({ Name: 'main-trail', S3BucketName: 'no-such-bucket' })));
    assert.deepEqual([e.name, e.status], ['S3BucketDoesNotExistException', 400]);
    const insufficient = async (why: string, input: { Name: string; S3BucketName: string; S3KeyPrefix?: string }) => {
      e = await awsError(() => trails.send(new CreateTrailCommand(input)));
      assert.deepEqual(
        [e.name, e.message],
        ['InsufficientS3BucketPolicyException', `Incorrect S3 bucket policy is detected for bucket: ${input.S3BucketName}`],
        why,
      );
    };
    await insufficient('a bucket without a policy', { Name: 'main-trail', S3BucketName: 'bare-bucket' });
    const put = (Policy: string) => s3.send(new PutBucketPolicyCommand({ Bucket: 'trail-logs', Policy }));
    await put(trailPolicy('trail-logs', { acl: false }));
    await insufficient('no GetBucketAcl', { Name: 'main-trail', S3BucketName: 'trail-logs' });
    await put(trailPolicy('trail-logs', { deny: true }));
    await insufficient('an explicit deny', { Name: 'main-trail', S3BucketName: 'trail-logs' });
    await put(trailPolicy('trail-logs', { trails: ['someone-else'] }));
    await insufficient('aws:SourceArn of another trail', { Name: 'main-trail', S3BucketName: 'trail-logs' });
    await put(trailPolicy('trail-logs', { trails: ['main-trail'] }));
    await insufficient('a prefix the policy does not cover', { Name: 'main-trail', S3BucketName: 'trail-logs', S3KeyPrefix: 'team' });
    assert.deepEqual(await names(), [], 'refused calls create nothing');
    const made = await trails.send(
      new CreateTrailCommand({ Name: 'main-trail', S3BucketName: 'trail-logs', TagsList: [{ Key: 'env', Value: 'test' }] }),
    );
    assert.equal(made.TrailARN, trailArn('main-trail'));
    const cli = await run('aws', ['cloudtrail', 'get-trail', '--name', 'main-trail', '--endpoint-url', server.url], { env: cliEnv });
    assert.equal(JSON.parse(cli.stdout).Trail.S3BucketName, 'trail-logs');
  });

  it('UpdateTrail: every setting, validated as CreateTrail validates it, the bucket checked again', async () => {
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'other-logs', Policy: trailPolicy('other-logs', { prefix: 'audit' }) }));
    const refused: [object, string][] = [
      [{ S3BucketName: 'Bad_Bucket' }, 'InvalidS3BucketNameException'],
      [{ S3BucketName: 'no-such-bucket' }, 'S3BucketDoesNotExistException'],
      [{ S3BucketName: 'bare-bucket' }, 'InsufficientS3BucketPolicyException'],
      [{ S3BucketName: 'other-logs' }, 'InsufficientS3BucketPolicyException'], // without the prefix its policy covers
      [{ S3KeyPrefix: 'a/../b' }, 'InvalidS3PrefixException'],
      [{ IsMultiRegionTrail: true, IncludeGlobalServiceEvents: false }, 'InvalidParameterCombinationException'],
      [{ IsOrganizationTrail: true }, 'OrganizationsNotInUseException'],
    ];
    for (const [input, code] of refused) {
      const e = await awsError(() => trails.send(new UpdateTrailCommand({ Name: 'main-trail', ...input })));
      assert.equal(e.name, code, JSON.stringify(input));
    }
    assert.equal(
      (await trails.send(new GetTrailCommand({ Name: 'main-trail' }))).Trail?.S3BucketName,
      'trail-logs',
      'refused calls change nothing',
    );
    const updated = await trails.send(
      new UpdateTrailCommand({
        Name: trailArn('main-trail'),
        S3BucketName: 'other-logs',
        S3KeyPrefix: 'audit',
        EnableLogFileValidation: true,
        IsMultiRegionTrail: true,
        KmsKeyId: 'alias/trail',
        SnsTopicName: 'trail-topic',
      }),
    );
    assert.deepEqual(
      [updated.S3BucketName, updated.S3KeyPrefix, updated.LogFileValidationEnabled, updated.IsMultiRegionTrail, updated.KmsKeyId],
      ['other-logs', 'audit', true, true, 'alias/trail'],
    );
    assert.equal(updated.SnsTopicARN, `arn:aws:sns:us-east-1:${ACCOUNT}:trail-topic`);
    const t = (await trails.send(new DescribeTrailsCommand({ trailNameList: [trailArn('main-trail')] }))).trailList![0]!;
    assert.deepEqual([t.S3BucketName, t.S3KeyPrefix, t.HomeRegion, t.IsMultiRegionTrail], ['other-logs', 'audit', 'us-east-1', true]);
    // Empty strings remove optional settings; the bucket must then take the prefix-less key.
    await trails.send(
      new UpdateTrailCommand({
        Name: 'main-trail',
        S3BucketName: 'trail-logs',
        S3KeyPrefix: '',
        KmsKeyId: '',
        SnsTopicName: '',
        IsMultiRegionTrail: false,
      }),
    );
    const back = (await trails.send(new GetTrailCommand({ Name: 'main-trail' }))).Trail!;
    assert.deepEqual(
      [back.S3BucketName, back.S3KeyPrefix, back.KmsKeyId, back.SnsTopicName, back.IsMultiRegionTrail],
      ['trail-logs', undefined, undefined, undefined, false],
    );
    let e = await awsError(() => trails.send(new UpdateTrailCommand({ Name: 'nope', EnableLogFileValidation: true })));
    assert.equal(e.name, 'TrailNotFoundException');
    await trails.send(new UpdateTrailCommand({ Name: 'main-trail', IsMultiRegionTrail: true }));
    e = await awsError(() =>
      new CloudTrailClient(opts(server.url, 'eu-west-1')).send(
        new UpdateTrailCommand({ Name: 'main-trail', EnableLogFileValidation: false }),
      ),
    );
    assert.equal(e.name, 'InvalidHomeRegionException');
    await trails.send(new UpdateTrailCommand({ Name: 'main-trail', IsMultiRegionTrail: false }));
  });

  it('event selectors: the default, basic and advanced selectors, their validation', async () => {
    let got = await trails.send(new GetEventSelectorsCommand({ TrailName: 'main-trail' }));
    assert.deepEqual(got.EventSelectors, [
      { ReadWriteType: 'All', IncludeManagementEvents: true, DataResources: [], ExcludeManagementEventSources: [] },
    ]);
    assert.equal((await trails.send(new GetTrailCommand({ Name: 'main-trail' }))).Trail?.HasCustomEventSelectors, false);
    const put = await trails.send(
      new PutEventSelectorsCommand({
        TrailName: 'main-trail',
        EventSelectors: [
          {
            ReadWriteType: 'WriteOnly',
            IncludeManagementEvents: true,
            DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3:::trail-logs/'] }],
          },
        ],
      }),
    );
    assert.equal(put.TrailARN, trailArn('main-trail'));
    got = await trails.send(new GetEventSelectorsCommand({ TrailName: trailArn('main-trail') }));
    assert.deepEqual(got.EventSelectors, [
      {
        ReadWriteType: 'WriteOnly',
        IncludeManagementEvents: true,
        DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3:::trail-logs/'] }],
        ExcludeManagementEventSources: [],
      },
    ]);
    assert.equal((await trails.send(new GetTrailCommand({ Name: 'main-trail' }))).Trail?.HasCustomEventSelectors, true);
    const invalid: [object, string][] = [
      [{ EventSelectors: [{ ReadWriteType: 'read-only' }] }, 'InvalidEventSelectorsException'],
      [{ EventSelectors: Array.from({ length: 6 }, () => ({ ReadWriteType: 'All' })) }, 'InvalidEventSelectorsException'],
      [
        { EventSelectors: [{ DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3:::*'] }] }] },
        'InvalidEventSelectorsException',
      ],
      [
        { EventSelectors: [{ DataResources: [{ Type: 'AWS::EC2::Instance', Values: ['arn:aws:ec2'] }] }] },
        'InvalidEventSelectorsException',
      ],
      [{ EventSelectors: [{ ExcludeManagementEventSources: ['ec2.amazonaws.com'] }] }, 'InvalidEventSelectorsException'],
      [
        { EventSelectors: [{}], AdvancedEventSelectors: [{ FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }] }] },
        'InvalidParameterCombinationException',
      ],
      [{ AdvancedEventSelectors: [{ FieldSelectors: [{ Field: 'readOnly', Equals: ['true'] }] }] }, 'InvalidEventSelectorsException'],
      [
        {
          AdvancedEventSelectors: [
            {
              FieldSelectors: [
                { Field: 'eventCategory', Equals: ['Management'] },
                { Field: 'colour', Equals: ['red'] },
              ],
            },
          ],
        },
        'InvalidEventSelectorsException',
      ],
      [
        {
          AdvancedEventSelectors: [
            {
              FieldSelectors: [
                { Field: 'eventCategory', Equals: ['Management'] },
                { Field: 'eventName', Equals: ['RunInstances'] },
              ],
            },
          ],
        },
        'InvalidEventSelectorsException',
      ],
      [
        {
          AdvancedEventSelectors: [
            {
              FieldSelectors: [
                { Field: 'eventCategory', Equals: ['Management'] },
                { Field: 'readOnly', Equals: ['maybe'] },
              ],
            },
          ],
        },
        'InvalidEventSelectorsException',
      ],
      [{ AdvancedEventSelectors: [{ FieldSelectors: [{ Field: 'eventCategory', Equals: ['Data'] }] }] }, 'InvalidEventSelectorsException'],
    ];
    for (const [input, code] of invalid) {
      const e = await awsError(() => trails.send(new PutEventSelectorsCommand({ TrailName: 'main-trail', ...(input as object) })));
      assert.equal(e.name, code, JSON.stringify(input));
    }
    assert.equal(
      (await trails.send(new GetEventSelectorsCommand({ TrailName: 'main-trail' }))).EventSelectors?.[0]?.ReadWriteType,
      'WriteOnly',
      'refused calls change nothing',
    );
    const advanced = [
      {
        Name: 'writes',
        FieldSelectors: [
          { Field: 'eventCategory', Equals: ['Management'] },
          { Field: 'readOnly', Equals: ['false'] },
        ],
      },
      {
        Name: 's3 data',
        FieldSelectors: [
          { Field: 'eventCategory', Equals: ['Data'] },
          { Field: 'resources.type', Equals: ['AWS::S3::Object'] },
        ],
      },
    ];
    await trails.send(new PutEventSelectorsCommand({ TrailName: 'main-trail', AdvancedEventSelectors: advanced }));
    got = await trails.send(new GetEventSelectorsCommand({ TrailName: 'main-trail' }));
    assert.deepEqual([got.EventSelectors, got.AdvancedEventSelectors], [undefined, advanced]);
    const cli = await run('aws', ['cloudtrail', 'get-event-selectors', '--trail-name', 'main-trail', '--endpoint-url', server.url], {
      env: cliEnv,
    });
    assert.deepEqual(JSON.parse(cli.stdout).AdvancedEventSelectors, advanced);
  });

  it('event selectors decide what the trail delivers: write-only, read-only, no management events, advanced', async () => {
    const vpcs = ec2(server.url);
    const deliver = async (selectors: object): Promise<string[]> => {
      await trails.send(new PutEventSelectorsCommand({ TrailName: 'main-trail', ...selectors }));
      server.trail.flush(); // what came before is someone else's
      await vpcs.send(new DescribeVpcsCommand({}));
      await vpcs.send(new CreateSecurityGroupCommand({ GroupName: `g${Math.random().toString(36).slice(2, 8)}`, Description: 'd' }));
      await vpcs.send(new DescribeSecurityGroupsCommand({}));
      const files = server.trail.flush().files;
      return files.flatMap((f) =>
        (JSON.parse(gunzipSync(readFileSync(f)).toString()) as { Records: { eventName: string }[] }).Records.map((r) => r.eventName),
      );
    };
    await trails.send(new StartLoggingCommand({ Name: 'main-trail' }));
    const all = await deliver({ EventSelectors: [{ ReadWriteType: 'All' }] });
    assert.deepEqual(all, ['DescribeVpcs', 'CreateSecurityGroup', 'DescribeSecurityGroups']);
    const writes = await deliver({ EventSelectors: [{ ReadWriteType: 'WriteOnly' }] });
    assert.deepEqual(writes, ['CreateSecurityGroup']);
    const reads = await deliver({ EventSelectors: [{ ReadWriteType: 'ReadOnly' }] });
    assert.deepEqual(reads, ['DescribeVpcs', 'DescribeSecurityGroups']);
    const none = await deliver({ EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: false }] });
    assert.deepEqual(none, []);
    const advancedReads = await deliver({
      AdvancedEventSelectors: [
        {
          FieldSelectors: [
            { Field: 'eventCategory', Equals: ['Management'] },
            { Field: 'readOnly', Equals: ['true'] },
          ],
        },
      ],
    });
    assert.deepEqual(advancedReads, ['DescribeVpcs', 'DescribeSecurityGroups']);
    await trails.send(new PutEventSelectorsCommand({ TrailName: 'main-trail', EventSelectors: [{ ReadWriteType: 'All' }] }));
    // The bucket's policy withdrawn: delivery fails as S3 refuses it, and nothing is written.
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: 'trail-logs' }));
    await vpcs.send(new CreateSecurityGroupCommand({ GroupName: 'after-policy', Description: 'd' }));
    assert.deepEqual(server.trail.flush().files, []);
    assert.equal((await trails.send(new GetTrailStatusCommand({ Name: 'main-trail' }))).LatestDeliveryError, 'AccessDenied');
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'trail-logs', Policy: trailPolicy('trail-logs', { trails: ['main-trail'] }) }));
  });

  it('Insights selectors: InsightNotEnabledException until set; validation; an empty list turns them off', async () => {
    let e = await awsError(() => trails.send(new GetInsightSelectorsCommand({ TrailName: 'main-trail' })));
    assert.deepEqual([e.name, e.status], ['InsightNotEnabledException', 400]);
    e = await awsError(() =>
      trails.send(new PutInsightSelectorsCommand({ TrailName: 'main-trail', InsightSelectors: [{ InsightType: 'Guesswork' as never }] })),
    );
    assert.equal(e.name, 'InvalidInsightSelectorsException');
    await trails.send(
      new PutInsightSelectorsCommand({ TrailName: 'main-trail', InsightSelectors: [{ InsightType: 'ApiCallRateInsight' }] }),
    );
    assert.deepEqual((await trails.send(new GetInsightSelectorsCommand({ TrailName: 'main-trail' }))).InsightSelectors, [
      { InsightType: 'ApiCallRateInsight' },
    ]);
    assert.equal((await trails.send(new GetTrailCommand({ Name: 'main-trail' }))).Trail?.HasInsightSelectors, true);
    await trails.send(new PutInsightSelectorsCommand({ TrailName: 'main-trail', InsightSelectors: [] }));
    assert.equal(
      (await awsError(() => trails.send(new GetInsightSelectorsCommand({ TrailName: 'main-trail' })))).name,
      'InsightNotEnabledException',
    );
  });

  it('trail tags: AddTags, RemoveTags, ListTags by ARN; limits and bad ARNs change nothing', async () => {
    const list = async () =>
      (await trails.send(new ListTagsCommand({ ResourceIdList: [trailArn('main-trail')] }))).ResourceTagList![0]!.TagsList;
    assert.deepEqual(await list(), [{ Key: 'env', Value: 'test' }]);
    await trails.send(
      new AddTagsCommand({
        ResourceId: trailArn('main-trail'),
        TagsList: [
          { Key: 'env', Value: 'prod' },
          { Key: 'team', Value: 'sec' },
        ],
      }),
    );
    assert.deepEqual(await list(), [
      { Key: 'env', Value: 'prod' },
      { Key: 'team', Value: 'sec' },
    ]);
    await trails.send(new RemoveTagsCommand({ ResourceId: trailArn('main-trail'), TagsList: [{ Key: 'env' }] }));
    assert.deepEqual(await list(), [{ Key: 'team', Value: 'sec' }]);
    const many = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    let e = await awsError(() => trails.send(new AddTagsCommand({ ResourceId: trailArn('main-trail'), TagsList: many })));
    assert.equal(e.name, 'TagsLimitExceededException');
    e = await awsError(() =>
      trails.send(new AddTagsCommand({ ResourceId: trailArn('main-trail'), TagsList: [{ Key: 'k'.repeat(129), Value: 'v' }] })),
    );
    assert.equal(e.name, 'InvalidTagParameterException');
    e = await awsError(() => trails.send(new AddTagsCommand({ ResourceId: 'main-trail', TagsList: [{ Key: 'a', Value: 'b' }] })));
    assert.equal(e.name, 'CloudTrailARNInvalidException');
    e = await awsError(() => trails.send(new ListTagsCommand({ ResourceIdList: [trailArn('nope')] })));
    assert.equal(e.name, 'ResourceNotFoundException');
    assert.deepEqual(await list(), [{ Key: 'team', Value: 'sec' }], 'refused calls change nothing');
  });
});

describe('VPC Flow Logs to S3: the bucket as the log delivery service finds it', () => {
  let server: Palisade;
  let s3: S3Client;
  const client = () => ec2(server.url);
  let vpcId: string;
  let instances: string[];
  const flowLog = (bucket: string, resourceId = vpcId) =>
    client().send(
      new CreateFlowLogsCommand({
        ResourceType: 'VPC',
        ResourceIds: [resourceId],
        TrafficType: 'ALL',
        LogDestinationType: 's3',
        LogDestination: `arn:aws:s3:::${bucket}`,
      }),
    );
  /** Delivery's policy for account 000000000000, as a bucket of another account would grant it. */
  const deliveryPolicy = (bucket: string, account = ACCOUNT) =>
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'delivery.logs.amazonaws.com' },
          Action: 's3:PutObject',
          Resource: `arn:aws:s3:::${bucket}/AWSLogs/${account}/*`,
          Condition: { StringEquals: { 'aws:SourceAccount': account, 's3:x-amz-acl': 'bucket-owner-full-control' } },
        },
        {
          Effect: 'Allow',
          Principal: { Service: 'delivery.logs.amazonaws.com' },
          Action: 's3:GetBucketAcl',
          Resource: `arn:aws:s3:::${bucket}`,
          Condition: { StringEquals: { 'aws:SourceAccount': account } },
        },
      ],
    });
  before(async () => {
    server = await start({ clock: 'virtual' });
    s3 = s3Of(server.url);
    vpcId = (await client().send(new DescribeVpcsCommand({}))).Vpcs![0]!.VpcId!;
    const subnet = (await client().send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).Subnets![0]!;
    const run = await client().send(
      new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 2, MaxCount: 2, SubnetId: subnet.SubnetId }),
    );
    instances = run.Instances!.map((i) => i.InstanceId!);
  });
  after(async () => server.close());

  it("the creator's bucket without a policy gets the policy AWS attaches; delivery writes under AWSLogs/", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'flow-own' }));
    const r = await flowLog('flow-own');
    assert.deepEqual(r.Unsuccessful, []);
    const policy = JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: 'flow-own' }))).Policy!) as {
      Statement: { Sid: string; Principal: unknown }[];
    };
    assert.deepEqual(
      policy.Statement.map((x) => [x.Sid, x.Principal]),
      [
        ['AWSLogDeliveryWrite', { Service: 'delivery.logs.amazonaws.com' }],
        ['AWSLogDeliveryAclCheck', { Service: 'delivery.logs.amazonaws.com' }],
      ],
    );
    const res = await fetch(`${server.url}/_palisade/network/evaluate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ flows: [{ from: instances[0], to: instances[1], protocol: 'tcp', port: 22, srcPort: 40000 }], record: true }),
    });
    assert.equal(res.status, 200);
    (server.clock as VirtualClock).advance(600);
    const listed = (await s3.send(new ListObjectsV2Command({ Bucket: 'flow-own' }))).Contents ?? [];
    assert.ok(listed.length >= 1);
    assert.match(listed[0]!.Key!, new RegExp(`^AWSLogs/${ACCOUNT}/vpcflowlogs/us-east-1/`));
    const [f] = (await client().send(new DescribeFlowLogsCommand({ FlowLogIds: r.FlowLogIds }))).FlowLogs!;
    assert.equal(f!.DeliverLogsStatus, 'SUCCESS');
  });

  it('a bucket whose policy does not let delivery.logs.amazonaws.com write: an Unsuccessful item, nothing created or attached', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'flow-trail-only' }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'flow-trail-only', Policy: trailPolicy('flow-trail-only') }));
    const before = (await client().send(new DescribeFlowLogsCommand({}))).FlowLogs!.length;
    const r = await flowLog('flow-trail-only');
    assert.deepEqual(r.FlowLogIds, []);
    assert.deepEqual(
      r.Unsuccessful!.map((u) => [u.ResourceId, u.Error?.Code, u.Error?.Message]),
      [[vpcId, '400', 'Access Denied for LogDestination: flow-trail-only. Please check LogDestination permission']],
    );
    assert.equal((await client().send(new DescribeFlowLogsCommand({}))).FlowLogs!.length, before);
    assert.equal((await s3.send(new GetBucketPolicyCommand({ Bucket: 'flow-trail-only' }))).Policy, trailPolicy('flow-trail-only'));
    const missing = await flowLog('flow-no-such-bucket');
    assert.deepEqual(
      missing.Unsuccessful!.map((u) => u.Error?.Message),
      ['LogDestination: flow-no-such-bucket does not exist'],
    );
  });

  it("another account's bucket: delivered to when its policy grants the log delivery service for this account", async () => {
    const other = new S3Client({
      ...opts(server.url),
      credentials: { accessKeyId: '111122223333', secretAccessKey: 'x' },
      forcePathStyle: true,
    });
    await other.send(new CreateBucketCommand({ Bucket: 'flow-central' }));
    let r = await flowLog('flow-central');
    assert.equal(
      r.Unsuccessful![0]?.Error?.Message,
      'Access Denied for LogDestination: flow-central. Please check LogDestination permission',
    );
    await other.send(new PutBucketPolicyCommand({ Bucket: 'flow-central', Policy: deliveryPolicy('flow-central', '444455556666') }));
    r = await flowLog('flow-central');
    assert.equal(r.Unsuccessful!.length, 1, 'granted to another account only');
    await other.send(new PutBucketPolicyCommand({ Bucket: 'flow-central', Policy: deliveryPolicy('flow-central') }));
    r = await flowLog('flow-central');
    assert.deepEqual(r.Unsuccessful, []);
    // The grant withdrawn: delivery fails as S3 refuses it.
    await other.send(new DeleteBucketPolicyCommand({ Bucket: 'flow-central' }));
    await fetch(`${server.url}/_palisade/network/evaluate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ flows: [{ from: instances[1], to: instances[0], protocol: 'tcp', port: 22, srcPort: 40001 }], record: true }),
    });
    (server.clock as VirtualClock).advance(600);
    const [f] = (await client().send(new DescribeFlowLogsCommand({ FlowLogIds: r.FlowLogIds }))).FlowLogs!;
    assert.deepEqual([f!.DeliverLogsStatus, f!.DeliverLogsErrorMessage], ['FAILED', 'Access error']);
    assert.deepEqual((await other.send(new ListObjectsV2Command({ Bucket: 'flow-central' }))).Contents ?? [], []);
  });
});
