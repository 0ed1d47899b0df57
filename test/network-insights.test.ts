// Reachability Analyzer's API through the SDK and the aws CLI: an open path reports the rules
// used; a blocked one the blocking component with AWS's explanation code.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateNetworkInsightsPathCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeNetworkInsightsAnalysesCommand,
  RunInstancesCommand,
  StartNetworkInsightsAnalysisCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { CREDS, ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import { timed } from './helpers/run.ts';

const run = timed(promisify(execFile));
let server: Palisade;
let client: EC2Client;
let app: string;
let db: string;
let other: string;
let sgDb: string;

before(async () => {
  server = await start();
  client = ec2(server.url);
  const { Vpc } = await client.send(new CreateVpcCommand({ CidrBlock: '10.30.0.0/16' }));
  const { Subnet } = await client.send(new CreateSubnetCommand({ VpcId: Vpc!.VpcId, CidrBlock: '10.30.1.0/24' }));
  const sgApp = (await client.send(new CreateSecurityGroupCommand({ GroupName: 'app', Description: 'app', VpcId: Vpc!.VpcId }))).GroupId!;
  sgDb = (await client.send(new CreateSecurityGroupCommand({ GroupName: 'db', Description: 'db', VpcId: Vpc!.VpcId }))).GroupId!;
  await client.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: sgDb,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: sgApp }] }],
    }),
  );
  const launch = async (g: string) =>
    (
      await client.send(
        new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1, SubnetId: Subnet!.SubnetId, SecurityGroupIds: [g] }),
      )
    ).Instances![0]!.InstanceId!;
  app = await launch(sgApp);
  db = await launch(sgDb);
  other = await launch(sgDb);
});
after(async () => server.close());

describe('Network Insights', () => {
  it('an open path lists its components with the security-group rules used', async () => {
    const { NetworkInsightsPath } = await client.send(
      new CreateNetworkInsightsPathCommand({ Source: app, Destination: db, Protocol: 'tcp', DestinationPort: 5432 }),
    );
    const { NetworkInsightsAnalysis } = await client.send(
      new StartNetworkInsightsAnalysisCommand({ NetworkInsightsPathId: NetworkInsightsPath!.NetworkInsightsPathId }),
    );
    const got = (
      await client.send(
        new DescribeNetworkInsightsAnalysesCommand({ NetworkInsightsAnalysisIds: [NetworkInsightsAnalysis!.NetworkInsightsAnalysisId!] }),
      )
    ).NetworkInsightsAnalyses![0]!;
    assert.equal(got.Status, 'succeeded');
    assert.equal(got.NetworkPathFound, true);
    const ingress = got.ForwardPathComponents!.find((c) => c.SecurityGroupRule?.Direction === 'ingress')!;
    assert.equal(ingress.SecurityGroupRule!.SecurityGroupId, sgDb);
    assert.deepEqual(ingress.SecurityGroupRule!.PortRange, { From: 5432, To: 5432 });
  });

  it('a blocked path names the blocking interface with ENI_SG_RULES_MISMATCH (aws CLI)', async () => {
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    const aws = async (...args: string[]) =>
      JSON.parse((await run('aws', ['ec2', ...args, '--endpoint-url', server.url, '--output', 'json'], { env })).stdout);
    const path = await aws(
      'create-network-insights-path',
      '--source',
      db,
      '--destination',
      other,
      '--protocol',
      'TCP',
      '--destination-port',
      '22',
    );
    const started = await aws(
      'start-network-insights-analysis',
      '--network-insights-path-id',
      path.NetworkInsightsPath.NetworkInsightsPathId,
    );
    const out = await aws(
      'describe-network-insights-analyses',
      '--network-insights-analysis-ids',
      started.NetworkInsightsAnalysis.NetworkInsightsAnalysisId,
    );
    const a = out.NetworkInsightsAnalyses[0];
    assert.equal(a.NetworkPathFound, false);
    assert.equal(a.Explanations[0].ExplanationCode, 'ENI_SG_RULES_MISMATCH');
    assert.equal(a.Explanations[0].Direction, 'ingress');
    assert.equal(a.Explanations[0].SecurityGroups[0].Id, sgDb);
  });
});
