// The state directory under hostile or unlucky conditions: it stays proportional to the data
// (the WAL is truncated), a full disk still answers reads and fails writes cleanly, two servers
// never serve one directory, and an empty state file is said out loud.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecurityGroupCommand, DescribeSecurityGroupsCommand, DescribeVpcsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { awsError, CREDS, ec2, start } from './helpers/server.ts';
import { startServer } from '../src/server.ts';
import { createLogger } from '../src/core/log.ts';

const AUTH = 'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00';
const dirSize = (dir: string) => readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);

describe('the state directory stays proportional to the data', () => {
  it('after 20,000 writes it is under 50 MB (the WAL is checkpointed and truncated)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-wal-'));
    const p = await start({ stateDir: dir });
    try {
      const call = (body: string) =>
        fetch(p.url, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded' }, body }).then(
          (r) => r.text(),
        );
      const sg = /<groupId>(sg-[0-9a-f]+)/.exec(
        await call('Action=CreateSecurityGroup&Version=2016-11-15&GroupName=wal&GroupDescription=w'),
      )![1];
      // Eight clients, each authorizing and revoking a rule of its own, over and over: 20,000 writes,
      // one commit each or a few per group commit, while the data stays one group.
      const rule = (w: number) =>
        `GroupId=${sg}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=22&IpPermissions.1.IpRanges.1.CidrIp=10.${w}.0.0/16`;
      await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          for (let i = 0; i < 20_000 / 16; i++) {
            for (const verb of ['AuthorizeSecurityGroupIngress', 'RevokeSecurityGroupIngress']) {
              assert.doesNotMatch(await call(`Action=${verb}&Version=2016-11-15&${rule(w)}`), /<Errors>/);
            }
          }
        }),
      );
      const size = dirSize(dir);
      assert.ok(size < 50 * 1024 * 1024, `state directory is ${(size / 1048576).toFixed(1)} MB`);
      const wal = statSync(join(dir, 'state.db-wal')).size;
      assert.ok(wal < 8 * 1024 * 1024, `WAL is ${(wal / 1048576).toFixed(1)} MB`);
    } finally {
      await p.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a full disk (SQLite max_page_count stands in for it)', () => {
  it('reads are answered, writes fail with ServiceUnavailable (503) and change nothing; the server recovers', async () => {
    const lines: string[] = [];
    const p = await startServer({ port: 0, stateDir: null, logLevel: 'error' }, { logger: createLogger('error', (l) => lines.push(l)) });
    const client: EC2Client = ec2(p.url);
    try {
      await client.send(new DescribeVpcsCommand({})); // the default VPC exists before the disk fills
      const pages = p.store.db.pragma('page_count', { simple: true }) as number;
      p.store.db.pragma(`max_page_count = ${pages}`);
      // Writes until the disk is full (a few may still fit in the last page).
      let full: { name: string; status: number } | undefined;
      for (let i = 0; i < 200 && !full; i++) {
        try {
          await client.send(new CreateSecurityGroupCommand({ GroupName: `fill-${i}`, Description: 'x'.repeat(200) }));
        } catch (e) {
          full = await awsError(() => Promise.reject(e));
        }
      }
      assert.equal(full?.name, 'ServiceUnavailable');
      assert.equal(full?.status, 503);
      const before = (await client.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!.map((g) => g.GroupId).sort();
      const failed = await awsError(() => client.send(new CreateSecurityGroupCommand({ GroupName: 'never', Description: 'x' })));
      assert.equal(failed.name, 'ServiceUnavailable');
      assert.equal(failed.status, 503);
      const after = (await client.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!.map((g) => g.GroupId).sort();
      assert.deepEqual(after, before, 'the refused write changed nothing');
      // A read's event is smaller than a write's and may still fit in the last page: reads go on
      // being answered while their events fill what is left, until one cannot be recorded.
      const lost = /cloudtrail: ec2:DescribeSecurityGroups was answered but its event could not be recorded/;
      for (let i = 0; i < 200 && !lines.some((l) => lost.test(l)); i++) {
        assert.equal(
          (await client.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!.length,
          before.length,
          'a read is answered',
        );
      }
      assert.ok(
        lines.some((l) => lost.test(l)),
        'the lost event is logged',
      );
      assert.equal((await fetch(`${p.url}/_palisade/health`)).status, 200);
      // Space again: writes work and are recorded.
      p.store.db.pragma('max_page_count = 1073741823');
      await client.send(new CreateSecurityGroupCommand({ GroupName: 'after', Description: 'x' }));
      const trail = new CloudTrailClient({ endpoint: p.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
      const events = await trail.send(
        new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateSecurityGroup' }] }),
      );
      assert.ok(events.Events!.some((e) => JSON.parse(e.CloudTrailEvent!).requestParameters?.groupName === 'after'));
      assert.ok(
        !events.Events!.some(
          (e) => JSON.parse(e.CloudTrailEvent!).requestParameters?.groupName === 'never' && !JSON.parse(e.CloudTrailEvent!).errorCode,
        ),
      );
    } finally {
      await p.close();
    }
  });
});

describe('one server per state directory', () => {
  it('a second server on the same directory refuses to start with a clear message; the first keeps serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-lock-'));
    const first = await start({ stateDir: dir });
    try {
      await assert.rejects(start({ stateDir: dir }), /state directory .* is in use by another Palisade server/);
      assert.equal((await fetch(`${first.url}/_palisade/health`)).status, 200);
    } finally {
      await first.close();
    }
    // Once the first has stopped, the directory is free again.
    const again = await start({ stateDir: dir });
    await again.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an empty (0-byte) state.db is said in the log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-empty-'));
    writeFileSync(join(dir, 'state.db'), '');
    const lines: string[] = [];
    const p = await startServer({ port: 0, stateDir: dir, logLevel: 'warn' }, { logger: createLogger('warn', (l) => lines.push(l)) });
    await p.close();
    rmSync(dir, { recursive: true, force: true });
    assert.ok(
      lines.some((l) => /state\.db is empty \(0 bytes\)/.test(l)),
      lines.join('\n'),
    );
  });
});
