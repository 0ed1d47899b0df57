// CloudWatch Logs and S3 on Palisade's port, through the real SDK clients (plus the aws CLI and
// boto3 where their encodings differ): the operations, their pagination and their errors.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash, createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DeleteRetentionPolicyCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { awsError, CREDS, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import { compileFilterPattern, splitFields } from '../src/services/logs/filter-pattern.ts';
import { timed } from './helpers/run.ts';

const run = timed(promisify(execFile));
const cliEnv = {
  ...process.env,
  AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
};
const logsClient = (url: string) => new CloudWatchLogsClient({ endpoint: url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
const s3Client = (url: string, accessKeyId = CREDS.accessKeyId) =>
  new S3Client({ endpoint: url, region: 'us-east-1', credentials: { ...CREDS, accessKeyId }, forcePathStyle: true, maxAttempts: 1 });

let server: Palisade;
before(async () => {
  server = await start({ clock: 'virtual' });
});
after(async () => server.close());

describe('CloudWatch Logs', () => {
  let logs: CloudWatchLogsClient;
  let now: number;
  before(async () => {
    logs = logsClient(server.url);
    now = server.clock.now();
  });

  it('log groups: create, duplicate, invalid names, describe with prefix/pattern/pages, retention, delete', async () => {
    for (const n of ['app/web', 'app/db', 'app/cache', 'other']) await logs.send(new CreateLogGroupCommand({ logGroupName: n }));
    let x = await awsError(() => logs.send(new CreateLogGroupCommand({ logGroupName: 'app/web' })));
    assert.deepEqual([x.name, x.message, x.status], ['ResourceAlreadyExistsException', 'The specified log group already exists', 400]);
    x = await awsError(() => logs.send(new CreateLogGroupCommand({ logGroupName: 'bad:name' })));
    assert.equal(x.name, 'InvalidParameterException');
    assert.match(x.message, /logGroupName/);
    const page1 = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'app/', limit: 2 }));
    assert.deepEqual(
      page1.logGroups!.map((g) => g.logGroupName),
      ['app/cache', 'app/db'],
    );
    const page2 = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'app/', limit: 2, nextToken: page1.nextToken }));
    assert.deepEqual(
      page2.logGroups!.map((g) => g.logGroupName),
      ['app/web'],
    );
    assert.equal(page2.nextToken, undefined);
    assert.deepEqual(
      (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePattern: 'WE' }))).logGroups!.map((g) => g.logGroupName),
      ['app/web'],
    );
    x = await awsError(() => logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'a', logGroupNamePattern: 'b' })));
    assert.equal(x.name, 'InvalidParameterException');
    const g = (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'other' }))).logGroups![0]!;
    assert.equal(g.arn, 'arn:aws:logs:us-east-1:000000000000:log-group:other:*');
    assert.equal(g.logGroupArn, 'arn:aws:logs:us-east-1:000000000000:log-group:other');
    assert.equal(g.creationTime, now);
    await logs.send(new PutRetentionPolicyCommand({ logGroupName: 'other', retentionInDays: 30 }));
    assert.equal((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'other' }))).logGroups![0]!.retentionInDays, 30);
    x = await awsError(() => logs.send(new PutRetentionPolicyCommand({ logGroupName: 'other', retentionInDays: 4 })));
    assert.equal(x.name, 'InvalidParameterException');
    x = await awsError(() => logs.send(new PutRetentionPolicyCommand({ logGroupName: 'missing', retentionInDays: 1 })));
    assert.deepEqual([x.name, x.message], ['ResourceNotFoundException', 'The specified log group does not exist.']);
    await logs.send(new DeleteRetentionPolicyCommand({ logGroupName: 'other' }));
    assert.equal(
      (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'other' }))).logGroups![0]!.retentionInDays,
      undefined,
    );
    await logs.send(new DeleteLogGroupCommand({ logGroupName: 'other' }));
    x = await awsError(() => logs.send(new DeleteLogGroupCommand({ logGroupName: 'other' })));
    assert.equal(x.name, 'ResourceNotFoundException');
  });

  it('log streams and events: put, order, rejected events, get forward/backward, errors', async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'ev' }));
    let x = await awsError(() => logs.send(new CreateLogStreamCommand({ logGroupName: 'nope', logStreamName: 's' })));
    assert.deepEqual([x.name, x.message], ['ResourceNotFoundException', 'The specified log group does not exist.']);
    for (const s of ['b', 'a', 'c']) await logs.send(new CreateLogStreamCommand({ logGroupName: 'ev', logStreamName: s }));
    x = await awsError(() => logs.send(new CreateLogStreamCommand({ logGroupName: 'ev', logStreamName: 'a' })));
    assert.deepEqual([x.name, x.message], ['ResourceAlreadyExistsException', 'The specified log stream already exists']);
    const events = Array.from({ length: 5 }, (_, i) => ({ timestamp: now - 5000 + i * 1000, message: `line ${i}` }));
    const put = await logs.send(new PutLogEventsCommand({ logGroupName: 'ev', logStreamName: 'a', logEvents: events }));
    assert.match(put.nextSequenceToken!, /^\d{56}$/);
    assert.equal(put.rejectedLogEventsInfo, undefined);
    x = await awsError(() =>
      logs.send(new PutLogEventsCommand({ logGroupName: 'ev', logStreamName: 'a', logEvents: [events[1]!, events[0]!] })),
    );
    assert.deepEqual(
      [x.name, x.message],
      ['InvalidParameterException', 'Log events in a single PutLogEvents request must be in chronological order.'],
    );
    x = await awsError(() => logs.send(new PutLogEventsCommand({ logGroupName: 'ev', logStreamName: 'zz', logEvents: events })));
    assert.deepEqual([x.name, x.message], ['ResourceNotFoundException', 'The specified log stream does not exist.']);
    x = await awsError(() =>
      logs.send(new PutLogEventsCommand({ logGroupName: 'ev', logStreamName: undefined, logEvents: events } as never)),
    );
    assert.equal(x.name, 'InvalidParameterException', 'a missing required member is the service validation error');
    const DAY = 86_400_000;
    const old = await logs.send(
      new PutLogEventsCommand({
        logGroupName: 'ev',
        logStreamName: 'b',
        logEvents: [
          { timestamp: now - 14 * DAY - 3_600_000, message: 'too old' },
          { timestamp: now - 14 * DAY + 3_600_000, message: 'old but kept' },
        ],
      }),
    );
    assert.deepEqual(old.rejectedLogEventsInfo, { tooOldLogEventEndIndex: 0 });
    const young = await logs.send(
      new PutLogEventsCommand({
        logGroupName: 'ev',
        logStreamName: 'b',
        logEvents: [
          { timestamp: now, message: 'ok' },
          { timestamp: now + 3 * 3_600_000, message: 'too new' },
        ],
      }),
    );
    assert.deepEqual(young.rejectedLogEventsInfo, { tooNewLogEventStartIndex: 1 });
    x = await awsError(() =>
      logs.send(
        new PutLogEventsCommand({
          logGroupName: 'ev',
          logStreamName: 'b',
          logEvents: [
            { timestamp: now - 2 * DAY, message: 'a' },
            { timestamp: now, message: 'b' },
          ],
        }),
      ),
    );
    assert.deepEqual(
      [x.name, x.message],
      ['InvalidParameterException', 'The batch of log events in a single PutLogEvents request cannot span more than 24 hours.'],
    );

    const head = await logs.send(new GetLogEventsCommand({ logGroupName: 'ev', logStreamName: 'a', startFromHead: true, limit: 2 }));
    assert.deepEqual(
      head.events!.map((e) => e.message),
      ['line 0', 'line 1'],
    );
    const next = await logs.send(
      new GetLogEventsCommand({ logGroupName: 'ev', logStreamName: 'a', limit: 2, nextToken: head.nextForwardToken }),
    );
    assert.deepEqual(
      next.events!.map((e) => e.message),
      ['line 2', 'line 3'],
    );
    const tail = await logs.send(new GetLogEventsCommand({ logGroupName: 'ev', logStreamName: 'a', limit: 2 }));
    assert.deepEqual(
      tail.events!.map((e) => e.message),
      ['line 3', 'line 4'],
      'without startFromHead: the newest',
    );
    const back = await logs.send(
      new GetLogEventsCommand({ logGroupName: 'ev', logStreamName: 'a', limit: 2, nextToken: tail.nextBackwardToken }),
    );
    assert.deepEqual(
      back.events!.map((e) => e.message),
      ['line 1', 'line 2'],
    );
    const end = await logs.send(new GetLogEventsCommand({ logGroupName: 'ev', logStreamName: 'a', nextToken: tail.nextForwardToken }));
    assert.deepEqual(end.events, []);
    assert.equal(end.nextForwardToken, tail.nextForwardToken, 'at the end the token repeats');
    const range = await logs.send(
      new GetLogEventsCommand({
        logGroupIdentifier: 'arn:aws:logs:us-east-1:000000000000:log-group:ev',
        logStreamName: 'a',
        startTime: now - 4000,
        endTime: now - 2000,
        startFromHead: true,
      }),
    );
    assert.deepEqual(
      range.events!.map((e) => e.message),
      ['line 1', 'line 2'],
    );
    x = await awsError(() => logs.send(new GetLogEventsCommand({ logGroupName: 'ev', logStreamName: 'a', nextToken: 'garbage' })));
    assert.equal(x.name, 'InvalidParameterException');

    const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: 'ev' }));
    assert.deepEqual(
      streams.logStreams!.map((s) => s.logStreamName),
      ['a', 'b', 'c'],
    );
    const a = streams.logStreams![0]!;
    // storedBytes: "always reported as zero" for log streams (API reference, LogStream)
    assert.deepEqual([a.firstEventTimestamp, a.lastEventTimestamp, a.storedBytes], [now - 5000, now - 1000, 0]);
    assert.equal(a.arn, 'arn:aws:logs:us-east-1:000000000000:log-group:ev:log-stream:a');
    const byTime = await logs.send(
      new DescribeLogStreamsCommand({ logGroupName: 'ev', orderBy: 'LastEventTime', descending: true, limit: 1 }),
    );
    assert.deepEqual(
      byTime.logStreams!.map((s) => s.logStreamName),
      ['b'],
    );
    const more = await logs.send(
      new DescribeLogStreamsCommand({
        logGroupName: 'ev',
        orderBy: 'LastEventTime',
        descending: true,
        limit: 1,
        nextToken: byTime.nextToken,
      }),
    );
    assert.deepEqual(
      more.logStreams!.map((s) => s.logStreamName),
      ['a'],
    );
    assert.deepEqual(
      (await logs.send(new DescribeLogStreamsCommand({ logGroupName: 'ev', logStreamNamePrefix: 'c' }))).logStreams!.map(
        (s) => s.logStreamName,
      ),
      ['c'],
    );
    x = await awsError(() =>
      logs.send(new DescribeLogStreamsCommand({ logGroupName: 'ev', orderBy: 'LastEventTime', logStreamNamePrefix: 'c' })),
    );
    assert.deepEqual([x.name, x.message], ['InvalidParameterException', 'Cannot order by LastEventTime with a logStreamNamePrefix.']);
  });

  it('FilterLogEvents: terms, phrases, space-delimited conditions, regex, streams, pages', async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'flows' }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: 'flows', logStreamName: 'eni-1' }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: 'flows', logStreamName: 'eni-2' }));
    const line = (eni: string, dport: number, packets: number, action: string) =>
      `2 123456789012 ${eni} 10.0.0.1 10.0.0.2 40000 ${dport} 6 ${packets} 4000 1700000000 1700000060 ${action} OK`;
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: 'flows',
        logStreamName: 'eni-1',
        logEvents: [
          { timestamp: now - 3000, message: line('eni-1', 22, 20, 'ACCEPT') },
          { timestamp: now - 2000, message: line('eni-1', 3389, 5, 'REJECT') },
          { timestamp: now - 1000, message: '2 123456789012 eni-1 - - - - - - - 1700000000 1700000060 - NODATA' },
        ],
      }),
    );
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: 'flows',
        logStreamName: 'eni-2',
        logEvents: [
          { timestamp: now - 2500, message: line('eni-2', 22, 3, 'REJECT') },
          { timestamp: now - 500, message: 'ERROR: INTERNAL SERVER ERROR at startup' },
        ],
      }),
    );
    const f = async (filterPattern: string, more: Record<string, unknown> = {}) =>
      (await logs.send(new FilterLogEventsCommand({ logGroupName: 'flows', filterPattern, ...more }))).events!.map((e) => e.message!);
    assert.equal((await f('')).length, 5);
    assert.deepEqual((await f('REJECT')).length, 2);
    assert.deepEqual((await f('REJECT eni-2')).length, 1);
    assert.deepEqual((await f('?NODATA ?ERROR')).length, 2);
    assert.deepEqual((await f('REJECT -3389')).length, 1);
    assert.deepEqual(await f('"INTERNAL SERVER ERROR"'), ['ERROR: INTERNAL SERVER ERROR at startup']);
    assert.deepEqual((await f('ERR')).length, 0, 'terms match whole terms');
    const ssh = await f(
      '[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT", flowlogstatus]',
    );
    assert.deepEqual(ssh, [line('eni-2', 22, 3, 'REJECT')]);
    assert.equal((await f('[v, a, eni, s, d, sp, dp=22, p, packets>=5, ...]')).length, 1);
    assert.equal((await f('[v, a, eni, s, d, sp, dp=22 || dp=3389, p, packets<10, ...]')).length, 2);
    assert.equal((await f('[..., action=REJ*, status]')).length, 2);
    assert.equal((await f('[..., status=NODATA]')).length, 1);
    assert.equal((await f('[v, a, eni, s, d, sp, dp, p, packets, bytes, start, end, action, status]')).length, 4, 'field count must match');
    assert.equal((await f('%ACCEPT|NODATA%')).length, 2);
    assert.equal((await f('', { logStreamNames: ['eni-2'] })).length, 2);
    assert.equal((await f('', { logStreamNamePrefix: 'eni-1' })).length, 3);
    assert.equal((await f('', { startTime: now - 2500, endTime: now - 1000 })).length, 3);
    const p1 = await logs.send(new FilterLogEventsCommand({ logGroupName: 'flows', limit: 3 }));
    assert.equal(p1.events!.length, 3);
    assert.deepEqual(
      p1.events!.map((e) => e.timestamp),
      [now - 3000, now - 2500, now - 2000],
      'in time order across streams',
    );
    assert.match(p1.events![0]!.eventId!, /^\d+$/);
    const p2 = await logs.send(new FilterLogEventsCommand({ logGroupName: 'flows', limit: 3, nextToken: p1.nextToken }));
    assert.equal(p2.events!.length, 2);
    assert.equal(p2.nextToken, undefined);
    let x = await awsError(() => logs.send(new FilterLogEventsCommand({ logGroupName: 'flows', filterPattern: '[a, b="x]' })));
    assert.equal(x.name, 'InvalidParameterException');
    x = await awsError(() =>
      logs.send(new FilterLogEventsCommand({ logGroupName: 'flows', logStreamNames: ['eni-1'], logStreamNamePrefix: 'e' })),
    );
    assert.equal(x.name, 'InvalidParameterException');
    x = await awsError(() => logs.send(new FilterLogEventsCommand({ logGroupName: 'nope' })));
    assert.equal(x.name, 'ResourceNotFoundException');
    // The aws CLI pages through filter-log-events itself.
    const { stdout } = await run(
      'aws',
      [
        'logs',
        'filter-log-events',
        '--log-group-name',
        'flows',
        '--filter-pattern',
        'REJECT',
        '--endpoint-url',
        server.url,
        '--output',
        'json',
      ],
      { env: cliEnv },
    );
    assert.equal(JSON.parse(stdout).events.length, 2);
  });

  it('filter pattern internals', () => {
    assert.deepEqual(splitFields('1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /a b" 200'), [
      '1.2.3.4',
      '-',
      '-',
      '10/Oct/2000:13:55:36 -0700',
      'GET /a b',
      '200',
    ]);
    const m = compileFilterPattern('[ip, user, username, timestamp, request = "*html*", status_code = 4*, bytes]');
    assert.equal(m('1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /index.html" 404 12'), true);
    assert.equal(m('1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /index.html" 200 12'), false);
    assert.throws(() => compileFilterPattern('{ $.x = 1 }'), /JSON/);
  });
});

describe('S3', () => {
  let s3: S3Client;
  before(() => {
    s3 = s3Client(server.url);
  });

  it('buckets: create, re-create, names taken by other accounts, head, list, location, errors', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'alpha' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'alpha' })); // us-east-1: re-creating your own bucket succeeds
    await s3.send(new CreateBucketCommand({ Bucket: 'beta.example', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    let x = await awsError(() => s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })));
    assert.deepEqual([x.name, x.status], ['InvalidBucketName', 400]);
    const other = s3Client(server.url, '111122223333');
    x = await awsError(() => other.send(new CreateBucketCommand({ Bucket: 'alpha' })));
    assert.deepEqual([x.name, x.status], ['BucketAlreadyExists', 409]);
    x = await awsError(() =>
      s3.send(new CreateBucketCommand({ Bucket: 'beta.example', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })),
    );
    assert.deepEqual([x.name, x.status], ['BucketAlreadyOwnedByYou', 409]);
    await other.send(new CreateBucketCommand({ Bucket: 'gamma' }));
    assert.deepEqual(
      (await s3.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name),
      ['alpha', 'beta.example'],
    );
    assert.deepEqual(
      (await other.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name),
      ['gamma'],
    );
    const head = await s3.send(new HeadBucketCommand({ Bucket: 'beta.example' }));
    assert.equal(head.BucketRegion, 'eu-west-1');
    x = await awsError(() => s3.send(new HeadBucketCommand({ Bucket: 'missing-bucket' })));
    assert.deepEqual([x.name, x.status], ['NotFound', 404]);
    x = await awsError(() => s3.send(new HeadBucketCommand({ Bucket: 'gamma' })));
    assert.equal(x.status, 403, "another account's bucket");
    x = await awsError(() => s3.send(new ListObjectsV2Command({ Bucket: 'missing-bucket' })));
    assert.deepEqual([x.name, x.status, x.message], ['NoSuchBucket', 404, 'The specified bucket does not exist']);
    // The error document, as boto3 reads it.
    const py = `import boto3, json\nc = boto3.client('s3', endpoint_url='${server.url}', region_name='us-east-1', aws_access_key_id='${CREDS.accessKeyId}', aws_secret_access_key='x')\ntry:\n  c.list_objects_v2(Bucket='missing-bucket')\nexcept c.exceptions.NoSuchBucket as e:\n  print(json.dumps({'error': e.response['Error'], 'status': e.response['ResponseMetadata']['HTTPStatusCode']}))`;
    const out = JSON.parse((await run('python3', ['-c', py], { env: cliEnv })).stdout);
    assert.deepEqual(out, {
      error: { Code: 'NoSuchBucket', Message: 'The specified bucket does not exist', BucketName: 'missing-bucket' },
      status: 404,
    });
  });

  it('objects: put, get, head, ranges, metadata, conditions, delete', async () => {
    const body = 'hello, palisade';
    const put = await s3.send(
      new PutObjectCommand({ Bucket: 'alpha', Key: 'docs/hello.txt', Body: body, ContentType: 'text/plain', Metadata: { owner: 'net' } }),
    );
    const md5 = createHash('md5').update(body).digest('hex');
    assert.equal(put.ETag, `"${md5}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'docs/hello.txt' }));
    assert.equal(await got.Body!.transformToString(), body);
    assert.deepEqual(
      [got.ContentType, got.ContentLength, got.ETag, got.Metadata],
      ['text/plain', body.length, `"${md5}"`, { owner: 'net' }],
    );
    const part = await s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'docs/hello.txt', Range: 'bytes=7-14' }));
    assert.equal(await part.Body!.transformToString(), 'palisade');
    assert.equal(part.ContentRange, `bytes 7-14/${body.length}`);
    const suffix = await s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'docs/hello.txt', Range: 'bytes=-8' }));
    assert.equal(await suffix.Body!.transformToString(), 'palisade');
    let x = await awsError(() => s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'docs/hello.txt', Range: 'bytes=100-200' })));
    assert.deepEqual([x.name, x.status], ['InvalidRange', 416]);
    x = await awsError(() => s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'docs/hello.txt', IfMatch: '"nope"' })));
    assert.equal(x.status, 412);
    x = await awsError(() => s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'docs/hello.txt', IfNoneMatch: `"${md5}"` })));
    assert.equal(x.status, 304);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'alpha', Key: 'docs/hello.txt' }));
    assert.deepEqual([head.ContentLength, head.ETag], [body.length, `"${md5}"`]);
    x = await awsError(() => s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'docs/none' })));
    assert.deepEqual([x.name, x.status, x.message], ['NoSuchKey', 404, 'The specified key does not exist.']);
    x = await awsError(() => s3.send(new HeadObjectCommand({ Bucket: 'alpha', Key: 'docs/none' })));
    assert.deepEqual([x.name, x.status], ['NotFound', 404]);
    x = await awsError(() => s3.send(new PutObjectCommand({ Bucket: 'gamma', Key: 'k', Body: 'x' })));
    assert.deepEqual([x.name, x.status], ['AccessDenied', 403]);
    await s3.send(new DeleteObjectCommand({ Bucket: 'alpha', Key: 'docs/hello.txt' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'alpha', Key: 'docs/hello.txt' })); // deleting nothing succeeds
    x = await awsError(() => s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'docs/hello.txt' })));
    assert.equal(x.name, 'NoSuchKey');
  });

  it('ListObjectsV2: prefix, delimiter, max-keys, continuation tokens, start-after', async () => {
    const keys = ['a/1', 'a/2', 'a/b/3', 'b/4', 'c', 'd e+f.txt', 'é/ü'];
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: 'beta.example', Key: k, Body: k }));
    const all = await s3.send(new ListObjectsV2Command({ Bucket: 'beta.example' }));
    assert.deepEqual(
      all.Contents!.map((o) => o.Key),
      keys,
    );
    assert.equal(all.KeyCount, keys.length);
    assert.equal(all.IsTruncated, false);
    const top = await s3.send(new ListObjectsV2Command({ Bucket: 'beta.example', Delimiter: '/' }));
    assert.deepEqual(
      top.CommonPrefixes!.map((p) => p.Prefix),
      ['a/', 'b/', 'é/'],
    );
    assert.deepEqual(
      top.Contents!.map((o) => o.Key),
      ['c', 'd e+f.txt'],
    );
    const sub = await s3.send(new ListObjectsV2Command({ Bucket: 'beta.example', Prefix: 'a/', Delimiter: '/' }));
    assert.deepEqual([sub.Contents!.map((o) => o.Key), sub.CommonPrefixes!.map((p) => p.Prefix)], [['a/1', 'a/2'], ['a/b/']]);
    // Pages of two, with a common prefix counting as one entry.
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const p = await s3.send(new ListObjectsV2Command({ Bucket: 'beta.example', Delimiter: '/', MaxKeys: 2, ContinuationToken: token }));
      seen.push(...(p.Contents ?? []).map((o) => o.Key!), ...(p.CommonPrefixes ?? []).map((c) => c.Prefix!));
      token = p.NextContinuationToken;
      assert.equal(p.IsTruncated, token !== undefined);
      pages++;
    } while (token);
    assert.equal(pages, 3);
    assert.deepEqual(seen.sort(), ['a/', 'b/', 'c', 'd e+f.txt', 'é/'].sort());
    const after = await s3.send(new ListObjectsV2Command({ Bucket: 'beta.example', StartAfter: 'b/4' }));
    assert.deepEqual(
      after.Contents!.map((o) => o.Key),
      ['c', 'd e+f.txt', 'é/ü'],
    );
    const x = await awsError(() => s3.send(new ListObjectsV2Command({ Bucket: 'beta.example', ContinuationToken: 'bogus' })));
    assert.deepEqual([x.name, x.status], ['InvalidArgument', 400]);
    // The aws CLI lists with encoding-type=url and decodes the keys.
    const { stdout } = await run('aws', ['s3', 'ls', 's3://beta.example/', '--recursive', '--endpoint-url', server.url], { env: cliEnv });
    const listed = stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/).slice(3).join(' '));
    assert.deepEqual(listed, keys);
  });

  it('DeleteObjects, BucketNotEmpty, DeleteBucket; uploads by the aws CLI', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-s3-'));
    try {
      const file = join(dir, 'up.bin');
      const data = Buffer.alloc(70_000, 'x');
      writeFileSync(file, data);
      await run('aws', ['s3', 'cp', file, 's3://alpha/uploads/up.bin', '--endpoint-url', server.url], { env: cliEnv });
      const got = await s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'uploads/up.bin' }));
      assert.equal(Buffer.from(await got.Body!.transformToByteArray()).equals(data), true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await s3.send(new PutObjectCommand({ Bucket: 'alpha', Key: 'k2', Body: 'x' }));
    let x = await awsError(() => s3.send(new DeleteBucketCommand({ Bucket: 'alpha' })));
    assert.deepEqual([x.name, x.status], ['BucketNotEmpty', 409]);
    const del = await s3.send(
      new DeleteObjectsCommand({ Bucket: 'alpha', Delete: { Objects: [{ Key: 'uploads/up.bin' }, { Key: 'k2' }] } }),
    );
    assert.deepEqual(del.Deleted!.map((d) => d.Key).sort(), ['k2', 'uploads/up.bin']);
    await s3.send(new DeleteBucketCommand({ Bucket: 'alpha' }));
    x = await awsError(() => s3.send(new DeleteBucketCommand({ Bucket: 'alpha' })));
    assert.deepEqual([x.name, x.status], ['NoSuchBucket', 404]);
  });

  /** Presigned GET URLs as botocore makes them: SigV4 (`UNSIGNED-PAYLOAD`, host signed) or legacy SigV2. */
  function presign(srv: Palisade, version: 'v4' | 'v2', path: string): string {
    const { accessKeyId, secretAccessKey } = srv.gateway.rootKey();
    const u = new URL(srv.url);
    const now = new Date(srv.clock.now());
    if (version === 'v2') {
      const expires = Math.floor(now.getTime() / 1000) + 3600;
      const sig = createHmac('sha1', secretAccessKey).update(`GET\n\n\n${expires}\n${path}`).digest('base64');
      return `${srv.url}${path}?AWSAccessKeyId=${accessKeyId}&Signature=${encodeURIComponent(sig)}&Expires=${expires}`;
    }
    const amzDate = now
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    const day = amzDate.slice(0, 8);
    const scope = `${day}/us-east-1/s3/aws4_request`;
    const q = new URLSearchParams({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': `${accessKeyId}/${scope}`,
      'X-Amz-Date': amzDate,
      'X-Amz-Expires': '3600',
      'X-Amz-SignedHeaders': 'host',
    });
    const query = [...q]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join('&');
    const canonical = `GET\n${path}\n${query}\nhost:${u.host}\n\nhost\nUNSIGNED-PAYLOAD`;
    const sts = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
    let key: Buffer = Buffer.from(`AWS4${secretAccessKey}`);
    for (const part of [day, 'us-east-1', 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
    return `${srv.url}${path}?${query}&X-Amz-Signature=${createHmac('sha256', key).update(sts).digest('hex')}`;
  }

  it('--auth verify: presigned SigV4 URLs (UNSIGNED-PAYLOAD)', async () => {
    const srv = await start({ auth: 'verify' });
    try {
      const c = new S3Client({
        endpoint: srv.url,
        region: 'us-east-1',
        credentials: srv.gateway.rootKey(),
        forcePathStyle: true,
        maxAttempts: 1,
      });
      await c.send(new CreateBucketCommand({ Bucket: 'signed' }));
      await c.send(new PutObjectCommand({ Bucket: 'signed', Key: 'k.txt', Body: 'signed body' }));
      const ok = await fetch(presign(srv, 'v4', '/signed/k.txt'));
      assert.deepEqual([ok.status, await ok.text()], [200, 'signed body']);
    } finally {
      await srv.close();
    }
  });

  it('--auth verify: signatures over keys that need escaping; legacy SigV2 refused, accepted without --auth', async () => {
    const srv = await start({ auth: 'verify' });
    try {
      const root = srv.gateway.rootKey();
      const c = new S3Client({ endpoint: srv.url, region: 'us-east-1', credentials: root, forcePathStyle: true, maxAttempts: 1 });
      await c.send(new CreateBucketCommand({ Bucket: 'signed' }));
      const key = 'dir/with space+plus é%.txt';
      await c.send(new PutObjectCommand({ Bucket: 'signed', Key: key, Body: 'signed body' }));
      assert.equal(await (await c.send(new GetObjectCommand({ Bucket: 'signed', Key: key }))).Body!.transformToString(), 'signed body');
      const wrong = new S3Client({
        endpoint: srv.url,
        region: 'us-east-1',
        credentials: { ...root, secretAccessKey: 'wrong' },
        forcePathStyle: true,
        maxAttempts: 1,
      });
      const x = await awsError(() => wrong.send(new ListObjectsV2Command({ Bucket: 'signed' })));
      assert.deepEqual([x.name, x.status], ['SignatureDoesNotMatch', 403]);
      const refused = await fetch(presign(srv, 'v2', `/signed/${encodeURIComponent('k.txt')}`));
      assert.equal(refused.status, 400);
      assert.match(
        await refused.text(),
        /<Code>InvalidRequest<\/Code><Message>The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.<\/Message>/,
      );
    } finally {
      await srv.close();
    }
    // Without --auth, a legacy presigned URL (what `aws s3 presign` makes) just works.
    await s3.send(new CreateBucketCommand({ Bucket: 'presigned' }));
    await s3.send(new PutObjectCommand({ Bucket: 'presigned', Key: 'p.txt', Body: 'open' }));
    const { stdout } = await run('aws', ['s3', 'presign', 's3://presigned/p.txt', '--endpoint-url', server.url], { env: cliEnv });
    const res = await fetch(stdout.trim());
    assert.deepEqual([res.status, await res.text()], [200, 'open']);
  });

  it('objects live on disk under <stateDir>/s3/<account>/<bucket>/ and survive a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-s3d-'));
    try {
      let srv = await start({ stateDir: dir });
      await s3Client(srv.url).send(new CreateBucketCommand({ Bucket: 'durable' }));
      await s3Client(srv.url).send(new PutObjectCommand({ Bucket: 'durable', Key: 'x/y.txt', Body: 'kept' }));
      await srv.close();
      assert.equal(readdirSync(join(dir, 's3', '000000000000', 'durable')).length, 1);
      srv = await start({ stateDir: dir });
      const got = await s3Client(srv.url).send(new GetObjectCommand({ Bucket: 'durable', Key: 'x/y.txt' }));
      assert.equal(await got.Body!.transformToString(), 'kept');
      await fetch(`${srv.url}/_palisade/reset`, { method: 'POST' });
      assert.equal(existsSync(join(dir, 's3')), false, 'reset wipes the objects');
      await srv.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
