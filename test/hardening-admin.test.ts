// The admin API (/_palisade/*, /moto-api/*) under --auth: only the root key pair may use it, and
// the `palisade` subcommands keep working with root credentials. Also its bodies: validated by
// schema (400 naming the field, nothing changed), the clock's bounds, and the caps on what a
// caller can make the server remember (open connections, tracked flows, IMDS tokens).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { CreateSecurityGroupCommand, DescribeSecurityGroupsCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../src/core/sha256.ts';
import { start } from './helpers/server.ts';
import { timed } from './helpers/run.ts';
import type { Palisade } from '../src/server.ts';
import { BoundedTable } from '../src/core/bounded-table.ts';
import { ConnTrack, MAX_TRACKED_PER_INTERFACE } from '../src/dataplane/conntrack.ts';

const run = timed(promisify(execFile));
const ROOT = { accessKeyId: 'AKIAPALISADEADMIN001', secretAccessKey: 'admin-root-secret-for-tests-only' };
const DEADLINE = () => AbortSignal.timeout(10_000); // a hang detector, not a timing assertion

type Creds = { accessKeyId: string; secretAccessKey: string };

async function signedRequest(url: string, method: string, path: string, creds: Creds | undefined, body?: string) {
  const u = new URL(path, url);
  let headers: Record<string, string> = body !== undefined ? { 'content-type': 'application/json' } : {};
  if (creds) {
    const signer = new SignatureV4({ service: 'palisade', region: 'us-east-1', credentials: creds, sha256: Sha256 as never });
    const signed = await signer.sign({
      method,
      protocol: 'http:',
      hostname: u.hostname,
      port: Number(u.port),
      path: u.pathname,
      query: {},
      headers: { ...headers, host: u.host },
      ...(body !== undefined ? { body } : {}),
    });
    headers = signed.headers as Record<string, string>;
  }
  const res = await fetch(u, { method, headers, ...(body !== undefined ? { body } : {}), signal: DEADLINE() });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), body: text ? JSON.parse(text) : undefined };
}

/** Every route of the admin API, with a body it accepts. */
const ROUTES: { method: string; path: string; body?: unknown }[] = [
  { method: 'POST', path: '/_palisade/reset' },
  { method: 'POST', path: '/moto-api/reset' },
  { method: 'POST', path: '/_palisade/imds/i-0123456789abcdef0' },
  { method: 'GET', path: '/_palisade/imds/i-0123456789abcdef0' },
  { method: 'GET', path: '/_palisade/clock' },
  { method: 'POST', path: '/_palisade/clock', body: { advanceSeconds: 1 } },
  { method: 'POST', path: '/_palisade/network/evaluate', body: { flows: [] } },
  { method: 'POST', path: '/_palisade/network/reach', body: { to: 'i-0123456789abcdef0' } },
  { method: 'POST', path: '/_palisade/network/connections', body: { from: 'internet:1.2.3.4', to: 'i-0123456789abcdef0', port: 22 } },
  { method: 'POST', path: '/_palisade/network/connections/conn-x/send', body: {} },
  { method: 'GET', path: '/_palisade/network/connections/conn-x' },
  { method: 'DELETE', path: '/_palisade/network/connections/conn-x' },
  { method: 'GET', path: '/_palisade/nothing-here' },
  { method: 'POST', path: '/moto-api/data.json' },
];

for (const mode of ['verify', 'enforce'] as const) {
  describe(`the admin API under --auth ${mode}`, () => {
    let server: Palisade;
    let user: Creds;
    before(async () => {
      process.env.PALISADE_ROOT_ACCESS_KEY_ID = ROOT.accessKeyId;
      process.env.PALISADE_ROOT_SECRET_ACCESS_KEY = ROOT.secretAccessKey;
      server = await start({ auth: mode, clock: 'virtual' });
      const iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials: ROOT, maxAttempts: 1 });
      await iam.send(new CreateUserCommand({ UserName: 'admin-wannabe' }));
      const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'admin-wannabe' }))).AccessKey!;
      user = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
    });
    after(async () => {
      await server.close();
      delete process.env.PALISADE_ROOT_ACCESS_KEY_ID;
      delete process.env.PALISADE_ROOT_SECRET_ACCESS_KEY;
    });

    it('refuses every route unsigned, signed by an IAM user, or signed with a wrong secret (403, JSON), and changes nothing', async () => {
      const ec2 = new EC2Client({ endpoint: server.url, region: 'us-east-1', credentials: ROOT, maxAttempts: 1 });
      await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'survives', Description: 'x' }));
      const clockBefore = server.clock.now();
      const wrong = { accessKeyId: ROOT.accessKeyId, secretAccessKey: 'not-the-secret' };
      for (const r of ROUTES) {
        const body = r.body === undefined ? undefined : JSON.stringify(r.body);
        for (const [who, creds] of [
          ['unsigned', undefined],
          ['IAM user', user],
          ['wrong secret', wrong],
        ] as const) {
          const res = await signedRequest(server.url, r.method, r.path, creds, body);
          assert.equal(res.status, 403, `${r.method} ${r.path} ${who}`);
          assert.match(res.type ?? '', /application\/json/);
          assert.equal(typeof res.body.error, 'string');
        }
      }
      assert.equal(server.clock.now(), clockBefore, 'the clock did not move');
      const groups = await ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: ['survives'] }));
      assert.equal(groups.SecurityGroups?.length, 1, 'no reset happened');
    });

    it('serves the root key pair', async () => {
      const res = await signedRequest(server.url, 'POST', '/_palisade/clock', ROOT, JSON.stringify({ advanceSeconds: 5 }));
      assert.equal(res.status, 200);
      assert.equal(res.body.virtual, true);
      const unknown = await signedRequest(server.url, 'GET', '/_palisade/nothing-here', ROOT);
      assert.equal(unknown.status, 404);
    });

    it('health stays open (a liveness probe: it reads no state)', async () => {
      const res = await fetch(`${server.url}/_palisade/health`, { signal: DEADLINE() });
      assert.equal(res.status, 200);
    });
  });
}

describe('the palisade subcommands sign with the root credentials of their environment (--auth enforce)', () => {
  let server: Palisade;
  let instance: string;
  const bin = join(process.cwd(), 'bin', 'palisade.js');
  const env = () => ({
    ...process.env,
    AWS_ACCESS_KEY_ID: ROOT.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ROOT.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: server.url,
  });
  before(async () => {
    process.env.PALISADE_ROOT_ACCESS_KEY_ID = ROOT.accessKeyId;
    process.env.PALISADE_ROOT_SECRET_ACCESS_KEY = ROOT.secretAccessKey;
    server = await start({ auth: 'enforce' });
    const ec2 = new EC2Client({ endpoint: server.url, region: 'us-east-1', credentials: ROOT, maxAttempts: 1 });
    instance = (await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1 }))).Instances![0]!.InstanceId!;
  });
  after(async () => {
    await server.close();
    delete process.env.PALISADE_ROOT_ACCESS_KEY_ID;
    delete process.env.PALISADE_ROOT_SECRET_ACCESS_KEY;
  });

  it('probe, reach, trail, audit and exec work', async () => {
    const probe = await run(
      process.execPath,
      [bin, 'probe', '--from', 'internet:198.51.100.7', '--to', instance, '--port', '22', '--json'],
      { env: env() },
    ).catch((e) => e);
    assert.equal(JSON.parse(probe.stdout).verdict, 'REJECT', probe.stderr);
    const reach = await run(process.execPath, [bin, 'reach', '--to', instance, '--port', '22', '--json'], { env: env() });
    assert.ok(JSON.parse(reach.stdout).target);
    const trail = await run(process.execPath, [bin, 'trail', '--json'], { env: env() });
    assert.ok(Array.isArray(JSON.parse(trail.stdout)));
    const audit = await run(process.execPath, [bin, 'audit', '--endpoint', server.url, '--format', 'json'], { env: env() });
    assert.ok(Array.isArray(JSON.parse(audit.stdout).findings ?? JSON.parse(audit.stdout)));
    const exec = await run(process.execPath, [bin, 'exec', instance, '--', 'sh', '-c', 'echo $AWS_EC2_METADATA_SERVICE_ENDPOINT'], {
      env: env(),
    });
    assert.match(exec.stdout, /^http:\/\/127\.0\.0\.1:\d+/);
  });

  it('without credentials they say the admin API needs the root key', async () => {
    const e = await run(process.execPath, [bin, 'probe', '--from', 'internet:198.51.100.7', '--to', instance, '--port', '22'], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_ENDPOINT_URL: server.url },
    }).catch((x) => x);
    assert.equal(e.code, 2);
    assert.match(e.stderr, /root key/);
  });
});

describe('a reset keeps the root key pair (the old key works after a restart)', () => {
  it('restarts on the same state directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-reset-'));
    delete process.env.PALISADE_ROOT_ACCESS_KEY_ID;
    try {
      let server = await start({ auth: 'verify', stateDir: dir });
      const root = server.gateway.rootKey();
      assert.equal((await signedRequest(server.url, 'POST', '/_palisade/reset', root)).status, 200);
      await server.close();
      server = await start({ auth: 'verify', stateDir: dir });
      try {
        assert.equal(server.gateway.rootKey().accessKeyId, root.accessKeyId);
        assert.equal((await signedRequest(server.url, 'GET', '/_palisade/clock', root)).status, 200);
      } finally {
        await server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('admin API bodies are validated by schema: 400 naming the field, nothing changed', () => {
  let server: Palisade;
  before(async () => {
    server = await start({ clock: 'virtual' });
  });
  after(() => server.close());
  const call = (method: string, path: string, body?: string) => signedRequest(server.url, method, path, undefined, body);

  it('evaluate with wrong types or null flows', async () => {
    for (const [body, field] of [
      ['{"flows":[{"from":1,"to":2}]}', /flows\[0\]\.from/],
      ['{"flows":[null]}', /flows\[0\]/],
      ['{"flows":"x"}', /flows/],
      ['{"flows":[{"from":"a","to":"b","flags":["URG"]}]}', /flows\[0\]\.flags/],
      ['{"flows":[],"region":".."}', /region/],
      ['{"flows":[],"bogus":1}', /bogus/],
      ['[]', /expected object/i],
      ['not json', /JSON/],
    ] as const) {
      const res = await call('POST', '/_palisade/network/evaluate', body);
      assert.equal(res.status, 400, body);
      assert.match(res.body.error, field, body);
    }
  });

  it('connections with wrong types', async () => {
    for (const body of ['{"from":{"a":1},"to":"b"}', '{"from":"a","to":"b","bytes":-1}', '{"from":"a","to":"b","protocol":[6]}', 'null']) {
      const res = await call('POST', '/_palisade/network/connections', body);
      assert.equal(res.status, 400, body);
    }
    const send = await call('POST', '/_palisade/network/connections/conn-1/send', '{"direction":"sideways"}');
    assert.equal(send.status, 400);
    assert.match(send.body.error, /direction/);
  });

  it('the clock refuses absurd values and does not move (finding: 1e20 was applied and broke STS and CloudTrail)', async () => {
    const before = server.clock.now();
    for (const body of [
      '{"epochMillis":1e20}',
      '{"advanceSeconds":1e308}',
      '{"advanceSeconds":-5}',
      '{"epochMillis":-1}',
      '{"epochMillis":1.5}',
      '{"advanceSeconds":"10"}',
      '{}',
      '{"advanceSeconds":1,"epochMillis":2}',
      '{"advanceSeconds":253402300799}',
    ]) {
      const res = await call('POST', '/_palisade/clock', body);
      assert.equal(res.status, 400, body);
      assert.equal(server.clock.now(), before, body);
    }
    const ok = await call('POST', '/_palisade/clock', '{"advanceSeconds":0.5}');
    assert.equal(ok.status, 200);
    assert.equal(server.clock.now(), before + 500);
  });

  it('unknown paths answer a JSON 404 and wrong methods a JSON 405', async () => {
    const unknown = await call('GET', '/_palisade/x');
    assert.equal(unknown.status, 404);
    assert.match(unknown.type ?? '', /json/);
    const wrong = await call('PUT', '/_palisade/reset');
    assert.equal(wrong.status, 405);
    assert.match(wrong.type ?? '', /json/);
  });

  it('an idle connection handle is forgotten after 7 days on the server clock', async () => {
    const ec2 = new EC2Client({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    const id = (await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1 }))).Instances![0]!.InstanceId!;
    const open = await call('POST', '/_palisade/network/connections', JSON.stringify({ from: id, to: 'internet:198.51.100.1', port: 443 }));
    assert.equal(open.status, 201);
    assert.equal((await call('GET', `/_palisade/network/connections/${open.body.connectionId}`)).status, 200);
    await call('POST', '/_palisade/clock', JSON.stringify({ advanceSeconds: 7 * 86400 + 1 }));
    assert.equal((await call('GET', `/_palisade/network/connections/${open.body.connectionId}`)).status, 404);
  });
});

describe('bounded tables (open connections, tracked flows, IMDS tokens)', () => {
  it('never hold more than their capacity, evict the oldest first, and drop expired entries', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 50 })), { maxLength: 200 }),
        (cap, ops) => {
          const t = new BoundedTable<number, { exp: number }>(cap, (v) => v.exp);
          let now = 0;
          const live = new Map<number, number>(); // reference: key → expiry, in insertion order
          for (const [key, ttl] of ops) {
            now++;
            t.set(key, { exp: now + ttl }, now);
            live.delete(key);
            live.set(key, now + ttl);
            assert.ok(t.size <= cap);
          }
          // The newest `cap` entries that have not expired are all still there.
          const newest = [...live].slice(-cap);
          for (const [k, exp] of newest) assert.equal(t.get(k, now) !== undefined, exp > now, `key ${k}`);
        },
      ),
    );
  });

  it('a connection tracking table stays at its cap however many flows open', () => {
    const ct = new ConnTrack();
    for (let i = 0; i < MAX_TRACKED_PER_INTERFACE + 5000; i++) ct.open(`6|10.0.0.1|${i}|10.0.0.2|443`, 6, false, i, 2);
    assert.equal(ct.size, MAX_TRACKED_PER_INTERFACE);
    assert.equal(ct.get('6|10.0.0.1|0|10.0.0.2|443', MAX_TRACKED_PER_INTERFACE + 5000), undefined, 'the oldest went first');
    assert.ok(ct.get(`6|10.0.0.1|${MAX_TRACKED_PER_INTERFACE + 4999}|10.0.0.2|443`, MAX_TRACKED_PER_INTERFACE + 5000));
  });
});
