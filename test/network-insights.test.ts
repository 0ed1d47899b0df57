// Reachability Analyzer's API through the SDK and the aws CLI: an open path reports the rules
// used; a blocked one the blocking component with AWS's explanation code.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { ec2, start } from './helpers/server.ts';
import { analysePath, awsAnalysePath, EstateBuilder } from './helpers/estate.ts';
import type { Palisade } from '../src/server.ts';

let server: Palisade;
let client: EC2Client;
let app: string;
let db: string;
let other: string;
let sgDb: string;

before(async () => {
  server = await start();
  client = ec2(server.url);
  const estate = new EstateBuilder(client);
  const vpc = await estate.vpc('10.30.0.0/16');
  const subnet = await estate.subnet(vpc, '10.30.1.0/24');
  const sgApp = await estate.group(vpc, 'app');
  sgDb = await estate.group(vpc, 'db', [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: sgApp }] }]);
  const launch = async (g: string) => (await estate.launch(subnet, g)).id;
  app = await launch(sgApp);
  db = await launch(sgDb);
  other = await launch(sgDb);
});
after(async () => server.close());

describe('Network Insights', () => {
  it('an open path lists its components with the security-group rules used', async () => {
    const got = await analysePath(client, { Source: app, Destination: db, Protocol: 'tcp', DestinationPort: 5432 });
    assert.equal(got.Status, 'succeeded');
    assert.equal(got.NetworkPathFound, true);
    const ingress = got.ForwardPathComponents!.find((c) => c.SecurityGroupRule?.Direction === 'ingress')!;
    assert.equal(ingress.SecurityGroupRule!.SecurityGroupId, sgDb);
    assert.deepEqual(ingress.SecurityGroupRule!.PortRange, { From: 5432, To: 5432 });
  });

  it('a blocked path names the blocking interface with ENI_SG_RULES_MISMATCH (aws CLI)', async () => {
    const { analysis: a } = await awsAnalysePath(server.url, db, other, 22);
    assert.equal(a.NetworkPathFound, false);
    assert.equal(a.Explanations[0].ExplanationCode, 'ENI_SG_RULES_MISMATCH');
    assert.equal(a.Explanations[0].Direction, 'ingress');
    assert.equal(a.Explanations[0].SecurityGroups[0].Id, sgDb);
  });
});
