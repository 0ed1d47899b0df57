// Durability: the real built server process (bin/palisade.js) writes state through the SDK, is
// killed with SIGKILL right after its last answer, and restarted on the same state directory:
// every acknowledged change is there, with the same ids.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateManagedPrefixListCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DescribeManagedPrefixListsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  GetManagedPrefixListEntriesCommand,
  ModifyManagedPrefixListCommand,
  ModifySecurityGroupRulesCommand,
  RevokeSecurityGroupIngressCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { ec2 } from './helpers/server.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'palisade.js');

interface Proc {
  child: ChildProcess;
  url: string;
}

/** Starts `palisade start` on a free port and waits for the endpoint it prints. */
function startProcess(stateDir: string): Promise<Proc> {
  return new Promise((resolveStart, reject) => {
    const child = spawn(process.execPath, [BIN, 'start', '--port', '0', '--state-dir', stateDir, '--log-level', 'error'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PALISADE_IN_MEMORY: '', PALISADE_AUTH: '', PALISADE_CLOCK: '' },
    });
    let out = '';
    let errText = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`palisade did not print its endpoint within 15 s; stdout: ${out} stderr: ${errText}`));
    }, 15_000);
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      errText += d;
    });
    child.stdout!.on('data', (d: string) => {
      out += d;
      const m = /^export AWS_ENDPOINT_URL=(\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveStart({ child, url: m[1]! });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`palisade exited early (${code ?? signal}); stdout: ${out} stderr: ${errText}`));
    });
  });
}

function kill(p: Proc, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolveExit) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolveExit();
    p.child.once('exit', () => resolveExit());
    p.child.kill(signal);
  });
}

/** Everything the SDK can see of the state, in a stable form. */
async function snapshot(c: EC2Client) {
  const vpcs = (await c.send(new DescribeVpcsCommand({}))).Vpcs!;
  const subnets = (await c.send(new DescribeSubnetsCommand({}))).Subnets!;
  const groups = (await c.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!;
  const rules = (await c.send(new DescribeSecurityGroupRulesCommand({}))).SecurityGroupRules!;
  const lists = (await c.send(new DescribeManagedPrefixListsCommand({}))).PrefixLists!;
  const entries: Record<string, unknown> = {};
  for (const l of lists) {
    if (l.OwnerId === 'AWS') continue;
    for (let v = 1; v <= l.Version!; v++) {
      entries[`${l.PrefixListId}@${v}`] = (
        await c.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: l.PrefixListId, TargetVersion: v }))
      ).Entries;
    }
  }
  const tags = (await c.send(new DescribeTagsCommand({}))).Tags!;
  return { vpcs, subnets, groups, rules, lists, entries, tags };
}

let dir: string;
let current: Proc | undefined;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'palisade-restart-'));
});
after(async () => {
  if (current) await kill(current, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('SIGKILL and restart on the same state directory', () => {
  const ids: Record<string, string> = {};
  let before1: Awaited<ReturnType<typeof snapshot>>;
  let beforeOther: Awaited<ReturnType<typeof snapshot>>;

  it('state written through the SDK, then SIGKILL right after the last acknowledged call', async () => {
    current = await startProcess(dir);
    const c = ec2(current.url);
    const other = ec2(current.url, { accessKeyId: '210987654321', region: 'eu-central-1' });
    ids.defaultVpc = (await c.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs![0]!.VpcId!;
    ids.vpc = (
      await c.send(
        new CreateVpcCommand({
          CidrBlock: '10.0.0.0/16',
          AmazonProvidedIpv6CidrBlock: true,
          TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'Name', Value: 'durable' }] }],
        }),
      )
    ).Vpc!.VpcId!;
    ids.subnet = (
      await c.send(
        new CreateSubnetCommand({
          VpcId: ids.vpc,
          CidrBlock: '10.0.1.0/24',
          AvailabilityZone: 'us-east-1a',
          TagSpecifications: [{ ResourceType: 'subnet', Tags: [{ Key: 'tier', Value: 'app' }] }],
        }),
      )
    ).Subnet!.SubnetId!;
    ids.web = (await c.send(new CreateSecurityGroupCommand({ GroupName: 'web', Description: 'web tier', VpcId: ids.vpc }))).GroupId!;
    ids.db = (await c.send(new CreateSecurityGroupCommand({ GroupName: 'db', Description: 'db tier', VpcId: ids.vpc }))).GroupId!;
    ids.gone = (
      await c.send(new CreateSecurityGroupCommand({ GroupName: 'gone', Description: 'deleted before the kill', VpcId: ids.vpc }))
    ).GroupId!;
    const pl = (
      await c.send(
        new CreateManagedPrefixListCommand({
          PrefixListName: 'office',
          MaxEntries: 5,
          AddressFamily: 'IPv4',
          Entries: [{ Cidr: '198.51.100.0/24', Description: 'hq' }],
        }),
      )
    ).PrefixList!;
    ids.pl = pl.PrefixListId!;
    await c.send(
      new ModifyManagedPrefixListCommand({
        PrefixListId: ids.pl,
        CurrentVersion: 1,
        AddEntries: [{ Cidr: '203.0.113.0/24', Description: 'branch' }],
      }),
    );
    const web = await c.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: ids.web,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'https' }],
            Ipv6Ranges: [{ CidrIpv6: '::/0' }],
          },
          { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, PrefixListIds: [{ PrefixListId: ids.pl, Description: 'ssh from office' }] },
          { IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, IpRanges: [{ CidrIp: '10.9.9.0/24' }] },
        ],
        TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: [{ Key: 'owner', Value: 'web-team' }] }],
      }),
    );
    ids.httpsRule = web.SecurityGroupRules![0]!.SecurityGroupRuleId!;
    ids.revokedRule = web.SecurityGroupRules![3]!.SecurityGroupRuleId!;
    const db = await c.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: ids.db,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: ids.web, Description: 'from web' }] },
        ],
      }),
    );
    ids.dbRule = db.SecurityGroupRules![0]!.SecurityGroupRuleId!;
    await c.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: ids.web,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: ids.db }] }],
      }),
    );
    await c.send(
      new ModifySecurityGroupRulesCommand({
        GroupId: ids.db,
        SecurityGroupRules: [
          {
            SecurityGroupRuleId: ids.dbRule,
            SecurityGroupRule: { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5433, ReferencedGroupId: ids.web, Description: 'modified' },
          },
        ],
      }),
    );
    await c.send(new RevokeSecurityGroupIngressCommand({ GroupId: ids.web, SecurityGroupRuleIds: [ids.revokedRule] }));
    await c.send(new DeleteSecurityGroupCommand({ GroupId: ids.gone }));
    await c.send(
      new CreateTagsCommand({
        Resources: [ids.vpc, ids.web, ids.pl],
        Tags: [
          { Key: 'env', Value: 'test' },
          { Key: 'drop', Value: 'me' },
        ],
      }),
    );
    await c.send(new DeleteTagsCommand({ Resources: [ids.vpc], Tags: [{ Key: 'drop' }] }));
    ids.otherGroup = (
      await other.send(new CreateSecurityGroupCommand({ GroupName: 'elsewhere', Description: 'another account and region' }))
    ).GroupId!;
    // A burst of concurrent writes, all acknowledged before the kill.
    const burst = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        c.send(new CreateSecurityGroupCommand({ GroupName: `burst-${i}`, Description: 'burst', VpcId: ids.vpc })),
      ),
    );
    assert.equal(new Set(burst.map((b) => b.GroupId)).size, 20);
    before1 = await snapshot(c);
    beforeOther = await snapshot(other);
    // The last write: acknowledged, then the process dies at once.
    await c.send(new CreateTagsCommand({ Resources: [ids.httpsRule], Tags: [{ Key: 'last', Value: 'write' }] }));
    await kill(current, 'SIGKILL');
    assert.equal(current.child.signalCode, 'SIGKILL');
    c.destroy();
    other.destroy();
  });

  it('after restart every acknowledged change is there with the same ids', async () => {
    current = await startProcess(dir);
    const c = ec2(current.url);
    const other = ec2(current.url, { accessKeyId: '210987654321', region: 'eu-central-1' });
    const after1 = await snapshot(c);
    // The last write is there…
    const https = after1.rules.find((r) => r.SecurityGroupRuleId === ids.httpsRule)!;
    assert.deepEqual(https.Tags!.map((t) => `${t.Key}=${t.Value}`).sort(), ['last=write', 'owner=web-team']);
    const lastTag = after1.tags.find((t) => t.ResourceId === ids.httpsRule && t.Key === 'last');
    assert.ok(lastTag);
    // …and, apart from it, everything is exactly as before the kill.
    const strip = (s: typeof after1) => ({
      ...s,
      rules: s.rules.map((r) => (r.SecurityGroupRuleId === ids.httpsRule ? { ...r, Tags: r.Tags!.filter((t) => t.Key !== 'last') } : r)),
      tags: s.tags.filter((t) => !(t.ResourceId === ids.httpsRule && t.Key === 'last')),
    });
    assert.deepEqual(strip(after1), before1);
    assert.deepEqual(await snapshot(other), beforeOther);
    // Spot checks with the ids recorded before the kill.
    const defaults = (await c.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs!;
    assert.deepEqual(
      defaults.map((v) => v.VpcId),
      [ids.defaultVpc],
      'the default VPC is not created again',
    );
    const vpc = (await c.send(new DescribeVpcsCommand({ VpcIds: [ids.vpc!] }))).Vpcs![0]!;
    assert.deepEqual(vpc.Tags!.map((t) => t.Key).sort(), ['Name', 'env']);
    assert.equal(vpc.Ipv6CidrBlockAssociationSet!.length, 1);
    assert.equal((await c.send(new DescribeSubnetsCommand({ SubnetIds: [ids.subnet!] }))).Subnets![0]!.VpcId, ids.vpc);
    const [web, db] = (await c.send(new DescribeSecurityGroupsCommand({ GroupIds: [ids.web!, ids.db!] }))).SecurityGroups!;
    assert.equal(web!.GroupId, ids.web);
    assert.equal(web!.IpPermissions!.length, 2, 'the revoked rule stays revoked');
    assert.ok(!after1.rules.some((r) => r.SecurityGroupRuleId === ids.revokedRule));
    assert.deepEqual(
      web!.IpPermissionsEgress!.flatMap((p) => p.UserIdGroupPairs!.map((g) => g.GroupId)),
      [ids.db],
    );
    assert.equal(db!.IpPermissions![0]!.ToPort, 5433);
    assert.equal(db!.IpPermissions![0]!.UserIdGroupPairs![0]!.Description, 'modified');
    const e = await c.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-id', Values: [ids.gone!] }] }));
    assert.deepEqual(e.SecurityGroups, [], 'the deleted group stays deleted');
    const pl = (await c.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [ids.pl!] }))).PrefixLists![0]!;
    assert.equal(pl.Version, 2);
    const v1 = (await c.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: ids.pl, TargetVersion: 1 }))).Entries!;
    assert.deepEqual(
      v1.map((x) => x.Cidr),
      ['198.51.100.0/24'],
    );
    assert.equal(after1.groups.filter((g) => g.GroupName!.startsWith('burst-')).length, 20);
    // The restarted server keeps working: new ids do not collide, rules still resolve references.
    const fresh = (await c.send(new CreateSecurityGroupCommand({ GroupName: 'after-restart', Description: 'x', VpcId: ids.vpc }))).GroupId!;
    assert.ok(!after1.groups.some((g) => g.GroupId === fresh));
    await c.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: fresh,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, PrefixListIds: [{ PrefixListId: ids.pl }] }],
      }),
    );
    await c.send(
      new ModifyManagedPrefixListCommand({ PrefixListId: ids.pl, CurrentVersion: 2, RemoveEntries: [{ Cidr: '203.0.113.0/24' }] }),
    );
    const dup = await c.send(new CreateSecurityGroupCommand({ GroupName: 'WEB', Description: 'x', VpcId: ids.vpc })).catch((x: Error) => x);
    assert.equal((dup as Error).name, 'InvalidGroup.Duplicate', 'names survive too');
    // Pagination over restored resources: every group once.
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await c.send(new DescribeSecurityGroupsCommand({ MaxResults: 5, NextToken: token }));
      seen.push(...page.SecurityGroups!.map((g) => g.GroupId!));
      token = page.NextToken;
    } while (token);
    assert.equal(new Set(seen).size, seen.length);
    assert.equal(seen.length, after1.groups.length + 1);
    c.destroy();
    other.destroy();
    await kill(current, 'SIGTERM');
    assert.equal(current.child.exitCode, 0, 'SIGTERM stops the server cleanly');
    current = undefined;
  });
});
