// VPC Flow Logs end to end: flow logs created with the EC2 API record the traffic the data plane
// judged (sent through /_palisade/network), and deliver each aggregation window when it closes on
// the virtual clock — to CloudWatch Logs (read back with `aws logs filter-log-events`) and to S3
// (read back with `aws s3 cp … -`); pending windows survive a restart. Also the pure aggregation.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateFlowLogsCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteFlowLogsCommand,
  DescribeFlowLogsCommand,
  DescribeInstancesCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import {
  CloudWatchLogsClient,
  FilterLogEventsCommand,
  DescribeLogStreamsCommand,
  GetLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { S3Client, CreateBucketCommand, DeleteBucketCommand, ListObjectsV2Command, GetObjectCommand } from '@aws-sdk/client-s3';
import { awsError, CREDS, ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import { addPacket, closeWindows, emptyWindow, reportedTcpFlags, type PacketObservation } from '../src/flowlogs/aggregate.ts';
import { formatRecord, s3ObjectKey } from '../src/flowlogs/format.ts';
import { formatVersion, parseLogFormat } from '../src/flowlogs/fields.ts';
import { timed } from './helpers/run.ts';

const run = timed(promisify(execFile));
const ROLE = 'arn:aws:iam::000000000000:role/flow-logs';
/** A window boundary (10 min and 1 min) plus 30 s: the first window is open for 570 s more. */
const T0 = 1_700_000_400_000 + 30_000;

const cliEnv = {
  ...process.env,
  AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
};

interface Host {
  instanceId: string;
  eni: string;
  ip: string;
}

async function api(url: string, path: string, body?: unknown) {
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const logsClient = (url: string) => new CloudWatchLogsClient({ endpoint: url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
const s3Client = (url: string) =>
  new S3Client({ endpoint: url, region: 'us-east-1', credentials: CREDS, forcePathStyle: true, maxAttempts: 1 });

/** A VPC with a subnet and hosts: app (client), web (ssh from app), db (nothing allowed), idle. */
async function estate(client: EC2Client) {
  const { Vpc } = await client.send(new CreateVpcCommand({ CidrBlock: '10.30.0.0/16' }));
  const { Subnet } = await client.send(
    new CreateSubnetCommand({ VpcId: Vpc!.VpcId, CidrBlock: '10.30.1.0/24', AvailabilityZone: 'us-east-1a' }),
  );
  const group = async (name: string) =>
    (await client.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: Vpc!.VpcId }))).GroupId!;
  const [sgApp, sgWeb, sgDb] = [await group('app'), await group('web'), await group('db')];
  await client.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: sgWeb,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, UserIdGroupPairs: [{ GroupId: sgApp }] }],
    }),
  );
  const launch = async (sg: string): Promise<Host> => {
    const i = (
      await client.send(
        new RunInstancesCommand({
          ImageId: 'ami-12345678',
          MinCount: 1,
          MaxCount: 1,
          NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: Subnet!.SubnetId, Groups: [sg] }],
        }),
      )
    ).Instances![0]!;
    const d = (await client.send(new DescribeInstancesCommand({ InstanceIds: [i.InstanceId!] }))).Reservations![0]!.Instances![0]!;
    const n = d.NetworkInterfaces![0]!;
    return { instanceId: i.InstanceId!, eni: n.NetworkInterfaceId!, ip: n.PrivateIpAddress! };
  };
  return {
    vpcId: Vpc!.VpcId!,
    subnetId: Subnet!.SubnetId!,
    azId: Subnet!.AvailabilityZoneId!,
    app: await launch(sgApp),
    web: await launch(sgWeb),
    db: await launch(sgDb),
    idle: await launch(sgDb),
  };
}

/** SSH from app to web (SYN, SYN-ACK, ACK) and one rejected packet from app to db:5432. */
async function traffic(url: string, e: Awaited<ReturnType<typeof estate>>) {
  const open = await api(url, '/_palisade/network/connections', {
    from: e.app.instanceId,
    to: e.web.instanceId,
    protocol: 'tcp',
    port: 22,
  });
  assert.equal(open.body.verdict, 'ACCEPT');
  const id = open.body.connectionId as string;
  assert.equal(
    (await api(url, `/_palisade/network/connections/${id}/send`, { direction: 'reply', flags: ['SYN', 'ACK'] })).body.verdict,
    'ACCEPT',
  );
  assert.equal(
    (await api(url, `/_palisade/network/connections/${id}/send`, { direction: 'forward', flags: ['ACK'], bytes: 100 })).body.verdict,
    'ACCEPT',
  );
  const rej = await api(url, '/_palisade/network/evaluate', {
    flows: [{ from: e.app.instanceId, to: e.db.instanceId, protocol: 'tcp', port: 5432, srcPort: 40000 }],
    record: true,
  });
  assert.equal(rej.body.results[0].verdict, 'REJECT');
  return { srcPort: open.body.srcPort as number };
}

describe('flow logs to CloudWatch Logs and S3', () => {
  let server: Palisade;
  let client: EC2Client;
  let e: Awaited<ReturnType<typeof estate>>;
  let srcPort: number;
  let flVpc: string;
  let flCustom: string;
  let flS3: string;
  const CUSTOM =
    '${version} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${account-id} ${type} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${protocol} ${bytes} ${packets} ${start} ${end} ${action} ${tcp-flags} ${log-status} ${region} ${az-id} ${sublocation-type} ${flow-direction} ${traffic-path} ${pkt-src-aws-service}';

  before(async () => {
    server = await start({ clock: 'virtual' });
    await api(server.url, '/_palisade/clock', { epochMillis: T0 });
    client = ec2(server.url);
    e = await estate(client);
    await s3Client(server.url).send(new CreateBucketCommand({ Bucket: 'flow-bucket' }));
    const mk = async (input: ConstructorParameters<typeof CreateFlowLogsCommand>[0]) => {
      const r = await client.send(new CreateFlowLogsCommand(input));
      assert.deepEqual(r.Unsuccessful, []);
      assert.match(r.FlowLogIds![0]!, /^fl-[0-9a-f]{17}$/);
      return r.FlowLogIds![0]!;
    };
    flVpc = await mk({
      ResourceType: 'VPC',
      ResourceIds: [e.vpcId],
      TrafficType: 'ALL',
      LogGroupName: '/palisade/flows',
      DeliverLogsPermissionArn: ROLE,
      TagSpecifications: [{ ResourceType: 'vpc-flow-log', Tags: [{ Key: 'team', Value: 'net' }] }],
    });
    flCustom = await mk({
      ResourceType: 'Subnet',
      ResourceIds: [e.subnetId],
      TrafficType: 'ACCEPT',
      LogDestinationType: 'cloud-watch-logs',
      LogDestination: 'arn:aws:logs:us-east-1:000000000000:log-group:custom-flows',
      DeliverLogsPermissionArn: ROLE,
      LogFormat: CUSTOM,
      MaxAggregationInterval: 60,
    });
    flS3 = await mk({
      ResourceType: 'VPC',
      ResourceIds: [e.vpcId],
      TrafficType: 'ALL',
      LogDestinationType: 's3',
      LogDestination: 'arn:aws:s3:::flow-bucket/vpc',
    });
    ({ srcPort } = await traffic(server.url, e));
    const clock = await api(server.url, '/_palisade/clock', { advanceSeconds: 660 });
    assert.equal(clock.status, 200);
  });
  after(async () => server.close());

  it('writes the accepted SSH flow in the default format (aws logs filter-log-events, space-delimited pattern)', async () => {
    const pattern =
      '[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="ACCEPT", flowlogstatus]';
    const { stdout } = await run(
      'aws',
      [
        'logs',
        'filter-log-events',
        '--log-group-name',
        '/palisade/flows',
        '--filter-pattern',
        pattern,
        '--endpoint-url',
        server.url,
        '--output',
        'json',
      ],
      { env: cliEnv },
    );
    const events = (JSON.parse(stdout) as { events: { logStreamName: string; message: string; timestamp: number }[] }).events;
    const byEni = new Map(events.map((x) => [x.logStreamName, x.message.split(' ')]));
    assert.deepEqual([...byEni.keys()].sort(), [e.app.eni, e.web.eni].sort(), 'the forward packets, at both ends');
    for (const [eni, f] of byEni) {
      assert.equal(f.length, 14);
      const [version, account, iface, src, dst, sport, dport, proto, packets, bytes, startS, endS, action, status] = f;
      assert.deepEqual(
        [version, account, iface, src, dst, sport, dport, proto, action, status],
        ['2', '000000000000', eni, e.app.ip, e.web.ip, String(srcPort), '22', '6', 'ACCEPT', 'OK'],
      );
      assert.equal(packets, '2', 'SYN and ACK');
      assert.equal(bytes, '140', 'a bare SYN is 40 bytes, the ACK carried 100');
      assert.equal(Number(startS), T0 / 1000);
      assert.equal(Number(endS), T0 / 1000);
    }
    assert.equal(events[0]!.timestamp, T0, 'the CloudWatch timestamp is the record start');
  });

  it('records the replies, the rejected packet and NODATA for an idle interface', async () => {
    const logs = logsClient(server.url);
    const all = (await logs.send(new FilterLogEventsCommand({ logGroupName: '/palisade/flows' }))).events!;
    const reply = all.find((x) => x.logStreamName === e.web.eni && x.message!.includes(` ${e.web.ip} ${e.app.ip} 22 ${srcPort} `));
    assert.ok(reply, 'the SYN-ACK leaves web');
    const rejected = (await logs.send(new FilterLogEventsCommand({ logGroupName: '/palisade/flows', filterPattern: 'REJECT' }))).events!;
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0]!.logStreamName, e.db.eni);
    assert.equal(
      rejected[0]!.message,
      `2 000000000000 ${e.db.eni} ${e.app.ip} ${e.db.ip} 40000 5432 6 1 40 ${T0 / 1000} ${T0 / 1000} REJECT OK`,
    );
    const egress = all.find((x) => x.logStreamName === e.app.eni && x.message!.includes(' 5432 '));
    assert.match(egress!.message!, / ACCEPT OK$/, 'the packet left app: its egress accepted it');
    const idle = (
      await logs.send(new GetLogEventsCommand({ logGroupName: '/palisade/flows', logStreamName: e.idle.eni, startFromHead: true }))
    ).events!;
    assert.equal(idle.length, 1);
    assert.match(idle[0]!.message!, new RegExp(`^2 000000000000 ${e.idle.eni} - - - - - - - \\d+ \\d+ - NODATA$`));
    const [, , , , , , , , , , s, en] = idle[0]!.message!.split(' ');
    assert.ok(Number(s) >= T0 / 1000 - 30 && Number(en) < (T0 + 570_000) / 1000 + 1, 'spans the window');
    const streams = (await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/palisade/flows' })))
      .logStreams!.map((x) => x.logStreamName)
      .sort();
    assert.deepEqual(streams, [e.app.eni, e.db.eni, e.idle.eni, e.web.eni].sort(), 'one stream per interface, the group made by delivery');
  });

  it('writes a custom format with v3–v5 fields (version = highest field version)', async () => {
    const logs = logsClient(server.url);
    const events = (await logs.send(new FilterLogEventsCommand({ logGroupName: 'custom-flows', logStreamNames: [e.web.eni] }))).events!;
    const okRecords = events.map((x) => x.message!.split(' ')).filter((f) => f[20] === 'OK');
    const ingress = okRecords.find((f) => f[24] === 'ingress')!;
    const egress = okRecords.find((f) => f[24] === 'egress')!;
    assert.deepEqual(ingress, [
      '5',
      e.vpcId,
      e.subnetId,
      e.web.instanceId,
      e.web.eni,
      '000000000000',
      'IPv4',
      e.app.ip,
      e.web.ip,
      String(srcPort),
      '22',
      e.app.ip,
      e.web.ip,
      '6',
      '140',
      '2',
      String(T0 / 1000),
      String(T0 / 1000),
      'ACCEPT',
      '2',
      'OK',
      'us-east-1',
      e.azId,
      '-',
      'ingress',
      '-',
      '-',
    ]);
    assert.equal(egress[19], '18', 'SYN-ACK');
    assert.equal(egress[25], '1', 'traffic-path 1: to a resource in the same VPC');
    assert.ok(!events.some((x) => x.message!.includes('REJECT')), 'TrafficType ACCEPT leaves out rejected traffic');
    // The 60 s windows after the traffic are idle: one NODATA record covers the run of them.
    const nodata = events.filter((x) => x.message!.includes('NODATA'));
    assert.equal(nodata.length, 1);
    assert.match(
      nodata[0]!.message!,
      new RegExp(
        `^5 ${e.vpcId} ${e.subnetId} ${e.web.instanceId} ${e.web.eni} 000000000000 - - - - - - - - - - \\d+ \\d+ - - NODATA us-east-1 ${e.azId} - - - -$`,
      ),
    );
  });

  it('delivers one gzip object to S3 in AWS key layout; aws s3 cp … - gives the same records', async () => {
    const s3 = s3Client(server.url);
    const list = await s3.send(new ListObjectsV2Command({ Bucket: 'flow-bucket', Prefix: 'vpc/AWSLogs/' }));
    assert.equal(list.KeyCount, 1);
    const key = list.Contents![0]!.Key!;
    const d = new Date(T0 + 570_000);
    const day = `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}`;
    assert.match(
      key,
      new RegExp(
        `^vpc/AWSLogs/000000000000/vpcflowlogs/us-east-1/${day}/000000000000_vpcflowlogs_us-east-1_${flS3}_\\d{8}T\\d{4}Z_[0-9a-f]{8}\\.log\\.gz$`,
      ),
    );
    const { stdout } = await run('aws', ['s3', 'cp', `s3://flow-bucket/${key}`, '-', '--endpoint-url', server.url], {
      env: cliEnv,
      encoding: 'buffer',
    });
    const lines = gunzipSync(stdout).toString('utf8').trim().split('\n');
    assert.equal(
      lines[0],
      'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
    );
    const cwl = (await logsClient(server.url).send(new FilterLogEventsCommand({ logGroupName: '/palisade/flows' }))).events!.map(
      (x) => x.message!,
    );
    assert.deepEqual(lines.slice(1).sort(), cwl.sort(), 'the same records as the CloudWatch Logs flow log of the VPC');
    const sdk = await (await s3.send(new GetObjectCommand({ Bucket: 'flow-bucket', Key: key }))).Body!.transformToByteArray();
    assert.equal(gunzipSync(Buffer.from(sdk)).toString('utf8').split('\n')[0], lines[0]);
  });

  it('DescribeFlowLogs: fields, filters, tags and pages', async () => {
    const all = (await client.send(new DescribeFlowLogsCommand({}))).FlowLogs!;
    assert.equal(all.length, 3);
    const v = all.find((f) => f.FlowLogId === flVpc)!;
    assert.equal(v.ResourceId, e.vpcId);
    assert.equal(v.LogGroupName, '/palisade/flows');
    assert.equal(v.LogDestination, 'arn:aws:logs:us-east-1:000000000000:log-group:/palisade/flows');
    assert.equal(
      v.LogFormat,
      '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}',
    );
    assert.equal(v.MaxAggregationInterval, 600);
    assert.equal(v.DeliverLogsStatus, 'SUCCESS');
    assert.equal(v.FlowLogStatus, 'ACTIVE');
    assert.deepEqual(v.Tags, [{ Key: 'team', Value: 'net' }]);
    const s = all.find((f) => f.FlowLogId === flS3)!;
    assert.equal(s.LogDestinationType, 's3');
    assert.equal(s.DestinationOptions?.FileFormat, 'plain-text');
    const f = async (Name: string, Values: string[]) =>
      (await client.send(new DescribeFlowLogsCommand({ Filter: [{ Name, Values }] }))).FlowLogs!.map((x) => x.FlowLogId).sort();
    assert.deepEqual(await f('log-destination-type', ['s3']), [flS3]);
    assert.deepEqual(await f('traffic-type', ['ACCEPT']), [flCustom]);
    assert.deepEqual(await f('resource-id', [e.subnetId]), [flCustom]);
    assert.deepEqual(await f('log-group-name', ['custom-*']), [flCustom]);
    assert.deepEqual(await f('tag:team', ['net']), [flVpc]);
    assert.deepEqual(await f('deliver-log-status', ['SUCCESS']), [flVpc, flCustom, flS3].sort());
    await client.send(new CreateTagsCommand({ Resources: [flS3], Tags: [{ Key: 'team', Value: 'ops' }] }));
    assert.deepEqual(await f('tag-key', ['team']), [flVpc, flS3].sort());
    const p1 = await client.send(new DescribeFlowLogsCommand({ MaxResults: 2 }));
    assert.equal(p1.FlowLogs!.length, 2);
    const p2 = await client.send(new DescribeFlowLogsCommand({ MaxResults: 2, NextToken: p1.NextToken }));
    assert.equal(p2.FlowLogs!.length, 1);
    assert.equal(p2.NextToken, undefined);
    assert.deepEqual(
      (await client.send(new DescribeFlowLogsCommand({ FlowLogIds: [flS3] }))).FlowLogs!.map((x) => x.FlowLogId),
      [flS3],
    );
  });

  it('CreateFlowLogs validation: errors, and per-resource failures in Unsuccessful', async () => {
    const base = {
      ResourceType: 'VPC' as const,
      ResourceIds: [e.vpcId],
      TrafficType: 'ALL' as const,
      LogGroupName: 'g',
      DeliverLogsPermissionArn: ROLE,
    };
    let x = await awsError(() => client.send(new CreateFlowLogsCommand({ ...base, MaxAggregationInterval: 300 })));
    assert.deepEqual([x.name, x.message], ['InvalidParameter', 'Invalid Flow Log Max Aggregation Interval']);
    x = await awsError(() => client.send(new CreateFlowLogsCommand({ ...base, LogFormat: '${version} ${nope}' })));
    assert.equal(x.name, 'InvalidParameter');
    assert.match(x.message, /nope/);
    x = await awsError(() => client.send(new CreateFlowLogsCommand({ ...base, DeliverLogsPermissionArn: undefined })));
    assert.equal(x.name, 'InvalidParameter');
    x = await awsError(() => client.send(new CreateFlowLogsCommand({ ...base, LogGroupName: undefined })));
    assert.deepEqual([x.name, x.message], ['InvalidParameter', `LogDestination can't be empty if LogGroupName is not provided.`]);
    x = await awsError(() =>
      client.send(
        new CreateFlowLogsCommand({
          ResourceType: 'VPC',
          ResourceIds: [e.vpcId],
          TrafficType: 'ALL',
          LogDestinationType: 's3',
          LogDestination: 'arn:aws:s3:::flow-bucket/AWSLogs',
        }),
      ),
    );
    assert.equal(x.name, 'InvalidParameter');
    const r = await client.send(
      new CreateFlowLogsCommand({ ...base, ResourceIds: [e.vpcId, 'vpc-0123456789abcdef0'], LogGroupName: '/palisade/flows' }),
    );
    assert.deepEqual(r.FlowLogIds, []);
    assert.deepEqual(
      r.Unsuccessful!.map((u) => [u.ResourceId, u.Error!.Code]),
      [
        [e.vpcId, 'FlowLogAlreadyExists'],
        ['vpc-0123456789abcdef0', 'InvalidVpcID.NotFound'],
      ],
    );
    const s = await client.send(
      new CreateFlowLogsCommand({
        ResourceType: 'NetworkInterface',
        ResourceIds: [e.web.eni],
        TrafficType: 'REJECT',
        LogDestinationType: 's3',
        LogDestination: 'arn:aws:s3:::no-such-bucket',
      }),
    );
    assert.deepEqual(
      s.Unsuccessful!.map((u) => [u.Error!.Code, u.Error!.Message]),
      [['400', 'LogDestination: no-such-bucket does not exist']],
    );
    const d = await client.send(new DeleteFlowLogsCommand({ FlowLogIds: ['fl-0123456789abcdef0'] }));
    assert.deepEqual(
      d.Unsuccessful!.map((u) => [u.ResourceId, u.Error!.Code]),
      [['fl-0123456789abcdef0', 'InvalidFlowLogId.NotFound']],
    );
  });

  it('a deleted bucket fails delivery with "Access error"', async () => {
    const s3 = s3Client(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: 'short-lived' }));
    const { FlowLogIds } = await client.send(
      new CreateFlowLogsCommand({
        ResourceType: 'NetworkInterface',
        ResourceIds: [e.web.eni],
        TrafficType: 'ALL',
        LogDestinationType: 's3',
        LogDestination: 'arn:aws:s3:::short-lived',
      }),
    );
    await s3.send(new DeleteBucketCommand({ Bucket: 'short-lived' }));
    await traffic(server.url, e);
    await api(server.url, '/_palisade/clock', { advanceSeconds: 600 });
    const [f] = (await client.send(new DescribeFlowLogsCommand({ FlowLogIds }))).FlowLogs!;
    assert.equal(f!.DeliverLogsStatus, 'FAILED');
    assert.equal(f!.DeliverLogsErrorMessage, 'Access error');
    const d = await client.send(new DeleteFlowLogsCommand({ FlowLogIds }));
    assert.deepEqual(d.Unsuccessful, []);
    assert.deepEqual((await client.send(new DescribeFlowLogsCommand({ FlowLogIds }))).FlowLogs, []);
  });
});

describe('flow logs across a restart', () => {
  it('delivered logs and objects persist; a window pending at shutdown is delivered after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-fl-'));
    try {
      let server = await start({ clock: 'virtual', stateDir: dir });
      await api(server.url, '/_palisade/clock', { epochMillis: T0 });
      const client = ec2(server.url);
      const e = await estate(client);
      await s3Client(server.url).send(new CreateBucketCommand({ Bucket: 'kept' }));
      await client.send(
        new CreateFlowLogsCommand({
          ResourceType: 'Subnet',
          ResourceIds: [e.subnetId],
          TrafficType: 'REJECT',
          LogGroupName: 'kept',
          DeliverLogsPermissionArn: ROLE,
        }),
      );
      await client.send(
        new CreateFlowLogsCommand({
          ResourceType: 'Subnet',
          ResourceIds: [e.subnetId],
          TrafficType: 'REJECT',
          LogDestinationType: 's3',
          LogDestination: 'arn:aws:s3:::kept',
        }),
      );
      await traffic(server.url, e);
      await api(server.url, '/_palisade/clock', { advanceSeconds: 600 }); // window 1 delivered
      await api(server.url, '/_palisade/network/evaluate', {
        flows: [{ from: e.app.instanceId, to: e.db.instanceId, protocol: 'tcp', port: 3306 }],
        record: true,
      });
      await server.close(); // window 2 is open, with one rejected packet

      server = await start({ clock: 'virtual', stateDir: dir });
      // The restarted virtual clock starts at the real time, long after both windows: due at once.
      const logs = logsClient(server.url);
      const rejected = (
        await logs.send(
          new FilterLogEventsCommand({
            logGroupName: 'kept',
            filterPattern: '[v, a, eni, src, dst, sport, dport, proto, packets, bytes, start, end, action=REJECT, status]',
          }),
        )
      ).events!;
      assert.deepEqual(rejected.map((x) => x.message!.split(' ')[6]).sort(), ['3306', '5432']);
      const list = await s3Client(server.url).send(new ListObjectsV2Command({ Bucket: 'kept' }));
      assert.equal(list.KeyCount, 2, 'one object per delivery');
      const texts = await Promise.all(
        list.Contents!.map(async (o) =>
          gunzipSync(
            Buffer.from(
              await (await s3Client(server.url).send(new GetObjectCommand({ Bucket: 'kept', Key: o.Key }))).Body!.transformToByteArray(),
            ),
          ).toString('utf8'),
        ),
      );
      assert.ok(texts.some((t) => t.includes(' 5432 6 1 40 ')) && texts.some((t) => t.includes(' 3306 6 1 40 ')));
      await server.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('aggregation (pure)', () => {
  const pkt = (over: Partial<PacketObservation> = {}): PacketObservation => ({
    interfaceId: 'eni-1',
    direction: 'ingress',
    src: '10.0.0.1',
    dst: '10.0.0.2',
    srcPort: 1000,
    dstPort: 22,
    proto: 6,
    bytes: 0,
    flags: 2,
    action: 'ACCEPT',
    time: 1_000_000,
    ...over,
  });

  it('sums packets and bytes per flow, ORs the reported TCP flags, and keeps first/last times', () => {
    const w = emptyWindow();
    addPacket(w, pkt(), {});
    addPacket(w, pkt({ flags: 16, bytes: 500, time: 1_030_000 }), {});
    addPacket(w, pkt({ flags: 1 | 16, time: 1_050_000 }), {});
    assert.equal(w.flows.size, 1);
    const f = [...w.flows.values()][0]!;
    assert.deepEqual([f.packets, f.bytes, f.first, f.last, f.tcpFlags], [3, 40 + 500 + 40, 1_000_000, 1_050_000, 3]);
    assert.equal(reportedTcpFlags(2 | 16), 18);
    assert.equal(reportedTcpFlags(16 | 8), 0, 'ACK and PSH alone are not reported');
  });

  it('drops flows over the per-interface cap into one SKIPDATA record', () => {
    const w = emptyWindow();
    for (let p = 0; p < 5; p++) addPacket(w, pkt({ srcPort: 2000 + p, time: 1_000_000 + p * 1000 }), {}, 3);
    const { records } = closeWindows(new Map([[600_000, w]]), 600_000, 1_200_000, 600_000, []);
    assert.deepEqual(
      records.map((r) => r.status),
      ['OK', 'OK', 'OK', 'SKIPDATA'],
    );
    const skip = records.find((r) => r.status === 'SKIPDATA')!;
    assert.equal(
      formatRecord(parseLogFormat(undefined), skip, { account: '123456789012', region: 'us-east-1', version: 2 }),
      '2 123456789012 eni-1 - - - - - - - 1003 1004 - SKIPDATA',
    );
  });

  it('writes NODATA for idle covered interfaces, one record per run of idle windows', () => {
    const w = emptyWindow();
    addPacket(w, pkt({ time: 1_800_000 + 5000 }), {});
    const windows = new Map([[1_800_000, w]]);
    const covered = [
      { id: 'eni-1', since: 0 },
      { id: 'eni-2', since: 0 },
      { id: 'eni-3', since: 3_000_000 },
    ];
    const { records, closed } = closeWindows(windows, 650_000, 3_600_000, 600_000, covered);
    assert.deepEqual(closed, [1_800_000]);
    const show = records.map((r) => `${r.interfaceId} ${r.status} ${r.start}-${r.end}`);
    assert.deepEqual(
      show.sort(),
      ['eni-1 NODATA 2400-3599', 'eni-1 NODATA 650-1799', 'eni-1 OK 1805-1805', 'eni-2 NODATA 650-3599', 'eni-3 NODATA 3000-3599'].sort(),
    );
  });

  it('names S3 objects as AWS does: plain, and Hive-compatible with hourly partitions', () => {
    const o = {
      account: '123456789012',
      region: 'eu-west-1',
      flowLogId: 'fl-0123456789abcdef0',
      time: Date.UTC(2024, 0, 2, 3, 4),
      content: 'x',
    };
    assert.match(
      s3ObjectKey({ ...o, prefix: 'sub/' }),
      /^sub\/AWSLogs\/123456789012\/vpcflowlogs\/eu-west-1\/2024\/01\/02\/123456789012_vpcflowlogs_eu-west-1_fl-0123456789abcdef0_20240102T0304Z_[0-9a-f]{8}\.log\.gz$/,
    );
    assert.match(
      s3ObjectKey({ ...o, hive: true, perHour: true }),
      /^AWSLogs\/aws-account-id=123456789012\/aws-service=vpcflowlogs\/aws-region=eu-west-1\/year=2024\/month=01\/day=02\/hour=03\/123456789012_vpcflowlogs_eu-west-1_fl-0123456789abcdef0_20240102T0304Z_[0-9a-f]{8}\.log\.gz$/,
    );
  });

  it('knows the fields and their versions', () => {
    assert.equal(formatVersion(parseLogFormat('${srcaddr} ${dstaddr}'), true), 2);
    assert.equal(formatVersion(parseLogFormat('${srcaddr} ${az-id}'), true), 4);
    assert.equal(formatVersion(parseLogFormat('${traffic-path}'), true), 5);
    assert.throws(() => parseLogFormat('${srcaddr} ${bogus}'), /bogus/);
    assert.throws(() => parseLogFormat('srcaddr'), /Invalid LogFormat/);
  });
});
