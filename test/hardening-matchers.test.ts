// No filter can block the single thread: EC2 Filter wildcards and CloudWatch Logs `*` values are
// matched in time linear in what they read. The crafted requests go to a real server on a worker thread (helpers/worker-server.ts), so
// a blocked server shows as a 10 s timeout here instead of a frozen test; each is answered with
// the right result or AWS's error, and the server still answers afterwards.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CreateTagsCommand, CreateVpcCommand, DescribeVpcsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import {
  CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, FilterLogEventsCommand, PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { compileWildcard } from '../src/core/wildcard.ts';
import { CREDS, ec2 } from './helpers/server.ts';
import { startInWorker, withinTime, type WorkerServer } from './helpers/worker-server.ts';

/** The RegExp translation the matchers used to build: safe as a reference on short inputs. */
function reference(pattern: string, text: string, question: boolean): boolean {
  let body = '';
  for (const c of pattern) body += c === '*' ? '.*' : c === '?' && question ? '.' : c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${body}$`, 's').test(text);
}

/** A hang detector for the synchronous matchers: generous, only there so a hang fails. */
function prompt<T>(what: string, f: () => T): T {
  const t0 = performance.now();
  const out = f();
  assert.ok(performance.now() - t0 < 10_000, `${what} blocked the thread`);
  return out;
}

describe('core/wildcard', () => {
  const word = (chars: string[], maxLength: number) => fc.array(fc.constantFrom(...chars), { maxLength }).map((a) => a.join(''));

  it('agrees with the RegExp translation on short random patterns and texts (EC2: `*` and `?`)', () => {
    fc.assert(
      fc.property(word(['a', 'b', '*', '?'], 9), word(['a', 'b', '?', '*', '\n'], 12), (p, t) => compileWildcard(p, { question: true })(t) === reference(p, t, true)),
      { numRuns: 5000 },
    );
  });

  it('agrees with the RegExp translation when `?` is literal (CloudWatch Logs)', () => {
    fc.assert(
      fc.property(word(['a', 'b', '*', '?'], 9), word(['a', 'b', '?', '*', '\n'], 12), (p, t) => compileWildcard(p)(t) === reference(p, t, false)),
      { numRuns: 5000 },
    );
  });

  it('answers adversarial patterns promptly', () => {
    const long = 'a'.repeat(10_000);
    assert.equal(prompt('*a*a*a*a*a*b', () => compileWildcard('*a*a*a*a*a*b', { question: true })(long)), false);
    assert.equal(prompt('*a*a*a*a*a*b (Logs)', () => compileWildcard('*a*a*a*a*a*b')(long)), false);
    assert.equal(prompt('*?a?*?a?*?a?*?b', () => compileWildcard('*?a?*?a?*?a?*?b', { question: true })(long)), false);
    assert.equal(prompt('*a*a*a*a*a*', () => compileWildcard('*a*a*a*a*a*', { question: true })(long)), true);
    assert.equal(prompt('many stars', () => compileWildcard('*a'.repeat(500) + '*b', { question: true })(long)), false);
  });
});

describe('hostile filters against a running server', () => {
  let server: WorkerServer;
  let client: EC2Client;
  let logs: CloudWatchLogsClient;
  const name = 'a'.repeat(256); // the longest tag value EC2 accepts
  let vpcId: string;

  before(async () => {
    server = await startInWorker();
    client = ec2(server.url);
    logs = new CloudWatchLogsClient({ endpoint: server.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
    vpcId = (await client.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }))).Vpc!.VpcId!;
    await client.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'Name', Value: name }] }));
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'hostile' }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: 'hostile', logStreamName: 's' }));
    const now = Date.now();
    await logs.send(new PutLogEventsCommand({ logGroupName: 'hostile', logStreamName: 's', logEvents: [
      { timestamp: now - 3000, message: 'a'.repeat(50_000) },
      { timestamp: now - 2000, message: Array(3000).fill('1').join(' ') },
      { timestamp: now - 1000, message: '2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 20 4000 1700000000 1700000060 REJECT OK' },
    ] }));
  });
  after(async () => {
    client?.destroy();
    logs?.destroy();
    await server?.close();
  });

  const vpcsNamed = async (value: string) =>
    (await withinTime(client.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:Name', Values: [value] }] })), 10_000, `DescribeVpcs tag:Name=${value.slice(0, 40)}`)).Vpcs!.map((v) => v.VpcId);
  const filter = async (filterPattern: string) =>
    (await withinTime(logs.send(new FilterLogEventsCommand({ logGroupName: 'hostile', filterPattern })), 10_000, `FilterLogEvents ${filterPattern.slice(0, 40)}`)).events!.map((e) => e.message!);
  const stillServing = async () => assert.ok((await withinTime(client.send(new DescribeVpcsCommand({ VpcIds: [vpcId] })))).Vpcs!.length === 1);

  it('EC2: a Filter value with many `*` is answered promptly, with the same matches as before', async () => {
    assert.deepEqual(await vpcsNamed('*a*a*a*a*a*b'), []);
    assert.deepEqual(await vpcsNamed('*a*a*a*a*a*'), [vpcId]);
    assert.deepEqual(await vpcsNamed('a?a*'), [vpcId]);
    assert.deepEqual(await vpcsNamed('?'.repeat(256)), [vpcId]);
    assert.deepEqual(await vpcsNamed('?'.repeat(255)), []);
    assert.deepEqual(await vpcsNamed('A*'), [], 'case-sensitive');
    await stillServing();
  });

  it('Logs: `*` values in space-delimited patterns are answered promptly', async () => {
    assert.deepEqual(await filter('[w=*a*a*a*a*a*b]'), []);
    assert.equal((await filter('[w=*a*a*a*a*a*]')).length, 1);
    await stillServing();
  });
});
