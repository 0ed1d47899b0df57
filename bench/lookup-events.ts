// LookupEvents latency with 100,000 stored events (target: p99 ≤ 20 ms). The events are written
// straight into a state directory through the audit store (real records, built by the same code
// as live calls, spread over 30 days, 3 account/region scopes, 24 event names, 12 users, 2,000
// security groups); then the built server is started on that directory as a child process and
// queried over keep-alive HTTP, one request at a time, with every lookup attribute, time
// ranges and second pages. Run alone with `node --import tsx bench/lookup-events.ts`.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Store } from '../src/store/store.ts';
import { EventStore } from '../src/cloudtrail/events.ts';
import { buildEvent, type AuditEvent } from '../src/cloudtrail/record.ts';
import { loadModel } from '../src/protocol/model.ts';
import type { Ctx, ServiceDef } from '../src/core/context.ts';
import type { Principal } from '../src/auth/principals.ts';

type Print = (line: string) => void;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TOTAL = 100_000;
const QUERIES = 3000;
const WARMUP = 300;
const TARGET_P99_MS = 20;
const ACCOUNT = '000000000000';
const TARGET = 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents';

const NAMES: [string, number][] = [
  ['DescribeSecurityGroups', 30],
  ['DescribeInstances', 20],
  ['DescribeVpcs', 10],
  ['DescribeSubnets', 8],
  ['DescribeNetworkInterfaces', 6],
  ['AuthorizeSecurityGroupIngress', 5],
  ['RevokeSecurityGroupIngress', 3],
  ['AuthorizeSecurityGroupEgress', 2],
  ['CreateSecurityGroup', 3],
  ['DeleteSecurityGroup', 1],
  ['CreateTags', 3],
  ['RunInstances', 2],
  ['TerminateInstances', 1],
  ['ModifyInstanceAttribute', 1],
  ['DescribeSecurityGroupRules', 2],
  ['ModifySecurityGroupRules', 1],
  ['CreateNetworkInterface', 1],
  ['DescribePrefixLists', 1],
  ['DescribeRegions', 1],
  ['DescribeAvailabilityZones', 1],
  ['CreateVpc', 1],
  ['DeleteVpc', 1],
  ['CreateSubnet', 1],
  ['GetSecurityGroupsForVpc', 1],
];

/** A small deterministic PRNG, so every run stores the same events. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (rand: () => number, n: number) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');

interface Fixture {
  eventIds: string[];
  groups: string[];
  users: { name: string; key: string }[];
}

function principal(user: { name: string; key: string }, account: string): Principal {
  if (user.name === 'root') return { type: 'Root', account, arn: `arn:aws:iam::${account}:root`, userId: account, accessKeyId: user.key };
  return {
    type: 'IAMUser',
    account,
    arn: `arn:aws:iam::${account}:user/${user.name}`,
    userId: `AIDA${user.key.slice(4)}`,
    accessKeyId: user.key,
    userName: user.name,
  };
}

/** Builds TOTAL events with the recorder's own code and writes them through EventStore. */
export function fill(dir: string, now: number): Fixture {
  const rand = prng(42);
  const store = new Store(dir);
  const events = new EventStore(store.db);
  const ec2: ServiceDef = { name: 'ec2', model: loadModel('ec2'), handlers: {} };
  const groups = Array.from({ length: 2000 }, () => `sg-${hex(rand, 17)}`);
  const users = ['root', 'alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory'].map((name) => ({
    name,
    key: `AKIA${hex(rand, 16).toUpperCase()}`,
  }));
  const weight = NAMES.reduce((s, [, w]) => s + w, 0);
  const pickName = () => {
    let r = rand() * weight;
    for (const [n, w] of NAMES) if ((r -= w) < 0) return n;
    return NAMES[0]![0];
  };
  const span = 30 * 86_400_000;
  const eventIds: string[] = [];
  let batch: AuditEvent[] = [];
  for (let i = 0; i < TOTAL; i++) {
    const time = now - span + Math.floor((i / TOTAL) * span);
    const scope = rand();
    const account = scope < 0.9 ? ACCOUNT : '111111111111';
    const region = scope < 0.8 ? 'us-east-1' : scope < 0.9 ? 'us-west-2' : 'us-east-1';
    const user = users[Math.floor(rand() * users.length)]!;
    const action = pickName();
    const g = groups[Math.floor(rand() * groups.length)]!;
    const input: Record<string, unknown> = action.startsWith('Describe')
      ? { GroupIds: [g], MaxResults: 100 }
      : {
          GroupId: g,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'internal' }] }],
        };
    const output = action.startsWith('Describe') ? undefined : { Return: true };
    const ctx = {
      requestId: `${hex(rand, 8)}-${hex(rand, 4)}-${hex(rand, 4)}-${hex(rand, 4)}-${hex(rand, 12)}`,
      account,
      region,
      partition: 'aws',
      principal: principal(user, account),
      sourceIp: '10.1.2.3',
      userAgent: 'aws-cli/2.15.0 Python/3.11.6 Linux/6.5 exe/x86_64 prompt/off command/ec2',
      clock: { now: () => time },
    } as unknown as Ctx;
    const e = buildEvent(ctx, { service: ec2, action, input, output });
    if (i % 97 === 0 && account === ACCOUNT && region === 'us-east-1') eventIds.push(e.eventId);
    batch.push(e);
    if (batch.length === 10_000) {
      events.insertMany(batch);
      batch = [];
    }
  }
  events.insertMany(batch);
  store.close();
  return { eventIds, groups, users };
}

function startServer(stateDir: string): Promise<{ port: number; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    [join(root, 'bin', 'palisade.js'), 'start', '--port', '0', '--state-dir', stateDir, '--log-level', 'error'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += String(d);
      const m = /export AWS_ENDPOINT_URL=http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) {
        resolve({
          port: Number(m[1]),
          stop: () =>
            new Promise<void>((r) => {
              child.once('exit', () => r());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
}

let agent = new Agent({ keepAlive: true, maxSockets: 1 });
const AUTH = `AWS4-HMAC-SHA256 Credential=AKIABENCH000000000000/20260101/us-east-1/cloudtrail/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`;

/** A no-op request on the same connection: the noise floor of the machine during the run. */
function health(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/_palisade/health', method: 'GET', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

function lookupEvents(
  port: number,
  body: Record<string, unknown>,
): Promise<{ status: number; json: { Events?: unknown[]; NextToken?: string; __type?: string } }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': TARGET,
          authorization: AUTH,
          'content-length': Buffer.byteLength(text),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as never }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const f2 = (n: number) => `${n.toFixed(2)} ms`;

export async function benchLookupEvents(print: Print = console.log): Promise<void> {
  if (!existsSync(join(root, 'dist', 'palisade.cjs'))) throw new Error('dist/palisade.cjs is missing: run `npm run build` first');
  const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-ct-'));
  agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const now = Date.now();
    const t0 = performance.now();
    const fx = fill(dir, now);
    print(
      `lookup-events: ${TOTAL.toLocaleString('en-US')} events written through EventStore in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const server = await startServer(dir);
    try {
      const rand = prng(7);
      const pick = <T>(a: T[]) => a[Math.floor(rand() * a.length)]!;
      const sec = (ms: number) => ms / 1000;
      const day = 86_400_000;
      const attr = (AttributeKey: string, AttributeValue: string) => ({ LookupAttributes: [{ AttributeKey, AttributeValue }] });
      const kinds: [string, () => Record<string, unknown>][] = [
        ['latest 50', () => ({})],
        ['EventName (common)', () => attr('EventName', 'DescribeSecurityGroups')],
        ['EventName (rare)', () => attr('EventName', pick(['DeleteVpc', 'CreateSubnet', 'DescribeRegions', 'TerminateInstances']))],
        ['EventId', () => attr('EventId', pick(fx.eventIds))],
        ['ReadOnly=false', () => attr('ReadOnly', 'false')],
        ['Username', () => attr('Username', pick(fx.users).name)],
        ['AccessKeyId', () => attr('AccessKeyId', pick(fx.users).key)],
        ['EventSource', () => attr('EventSource', 'ec2.amazonaws.com')],
        ['ResourceType', () => attr('ResourceType', 'AWS::EC2::SecurityGroup')],
        ['ResourceName', () => attr('ResourceName', pick(fx.groups))],
        [
          'time range 1 day',
          () => {
            const end = now - Math.floor(rand() * 25) * day;
            return { StartTime: sec(end - day), EndTime: sec(end) };
          },
        ],
        [
          'EventName + 1 h range',
          () => {
            const end = now - Math.floor(rand() * 700) * 3_600_000;
            return { ...attr('EventName', 'AuthorizeSecurityGroupIngress'), StartTime: sec(end - 3_600_000), EndTime: sec(end) };
          },
        ],
        ['empty range (before retention)', () => ({ StartTime: sec(now - 120 * day), EndTime: sec(now - 100 * day) })],
      ];
      // Second pages: the token of a first page, asked for again with the same parameters.
      const paged: [string, () => Promise<Record<string, unknown>>][] = [
        [
          'page 2 (latest)',
          async () => ({ NextToken: (await lookupEvents(server.port, { MaxResults: 50 })).json.NextToken, MaxResults: 50 }),
        ],
        [
          'page 2 (ResourceType)',
          async () => {
            const p = attr('ResourceType', 'AWS::EC2::SecurityGroup');
            return { ...p, NextToken: (await lookupEvents(server.port, { ...p, MaxResults: 50 })).json.NextToken, MaxResults: 50 };
          },
        ],
      ];
      const all: number[] = [];
      const byKind = new Map<string, number[]>();
      const control: number[] = [];
      let counts = 0;
      for (let i = 0; i < WARMUP + QUERIES; i++) {
        const k = i % (kinds.length + paged.length);
        let name: string;
        let body: Record<string, unknown>;
        if (k < kinds.length) [name, body] = [kinds[k]![0], { MaxResults: 50, ...kinds[k]![1]() }];
        else [name, body] = [paged[k - kinds.length]![0], await paged[k - kinds.length]![1]()];
        const s = performance.now();
        const r = await lookupEvents(server.port, body);
        const took = performance.now() - s;
        if (r.status !== 200) throw new Error(`${name}: HTTP ${r.status} ${r.json.__type}`);
        if (i < WARMUP) continue;
        counts += r.json.Events?.length ?? 0;
        all.push(took);
        let l = byKind.get(name);
        if (!l) byKind.set(name, (l = []));
        l.push(took);
        const h = performance.now();
        await health(server.port);
        control.push(performance.now() - h);
      }
      all.sort((a, b) => a - b);
      const p99 = pct(all, 0.99);
      print(
        `lookup-events: LookupEvents over HTTP, ${QUERIES.toLocaleString('en-US')} sequential calls (${(counts / QUERIES).toFixed(1)} events/answer): ` +
          `p50 ${f2(pct(all, 0.5))}, p99 ${f2(p99)} (target p99 ≤ ${TARGET_P99_MS} ms) ${p99 <= TARGET_P99_MS ? '✓' : '✗'}`,
      );
      control.sort((a, b) => a - b);
      print(
        `  ${'(control: GET /_palisade/health)'.padEnd(32)} p50 ${f2(pct(control, 0.5)).padStart(9)}  p99 ${f2(pct(control, 0.99)).padStart(9)}  max ${f2(control[control.length - 1]!).padStart(9)}`,
      );
      for (const [name, l] of byKind) {
        l.sort((a, b) => a - b);
        print(
          `  ${name.padEnd(32)} p50 ${f2(pct(l, 0.5)).padStart(9)}  p99 ${f2(pct(l, 0.99)).padStart(9)}  max ${f2(l[l.length - 1]!).padStart(9)}`,
        );
      }
    } finally {
      await server.stop();
    }
  } finally {
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchLookupEvents();
}
