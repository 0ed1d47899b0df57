// Nothing lost: the server process is killed (SIGKILL) right after it acknowledges a change; after
// a restart on the same state directory both the change and its CloudTrail event are there,
// because the event is written in the same SQLite transaction as the change.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { ec2, CREDS } from './helpers/server.ts';

function startProcess(stateDir: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/palisade.js', 'start', '--port', '0', '--state-dir', stateDir, '--log-level', 'error'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, PALISADE_IN_MEMORY: '', PALISADE_AUTH: '', PALISADE_CLOCK: '' },
    });
    let out = '';
    child.stdout!.on('data', (d) => {
      out += String(d);
      const m = /export AWS_ENDPOINT_URL=(\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (c) => reject(new Error(`exited ${c}: ${out}`)));
  });
}

describe('crash right after an acknowledged call', () => {
  it('keeps both the change and its CloudTrail event', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-crash-'));
    try {
      const a = await startProcess(dir);
      const c = ec2(a.url);
      const { GroupId } = await c.send(new CreateSecurityGroupCommand({ GroupName: 'crash', Description: 'x' }));
      await c.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
        }),
      );
      const exited = new Promise((r) => a.child.once('exit', r));
      a.child.kill('SIGKILL');
      await exited;
      c.destroy();
      const b = await startProcess(dir);
      try {
        const g = (await ec2(b.url).send(new DescribeSecurityGroupsCommand({ GroupIds: [GroupId!] }))).SecurityGroups![0]!;
        assert.equal(g.IpPermissions![0]!.FromPort, 22);
        const ct = new CloudTrailClient({ endpoint: b.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
        const ev = await ct.send(
          new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'AuthorizeSecurityGroupIngress' }] }),
        );
        assert.equal(ev.Events!.length, 1);
        const record = JSON.parse(ev.Events![0]!.CloudTrailEvent!);
        assert.equal(record.requestParameters.groupId, GroupId);
      } finally {
        b.child.kill('SIGKILL');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
