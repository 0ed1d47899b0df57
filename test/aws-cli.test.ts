// The security-group workflow driven with the real `aws` CLI (v1) as a child process: what the
// CLI sends (its own flat-parameter and --ip-permissions shorthands, pagination, rule ids) and
// how it reads our XML back, errors included (non-zero exit and the AWS code on stderr).
// Skipped when `aws` is not on PATH.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';

function onPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return join(dir, cmd);
    } catch {
      /* not here */
    }
  }
  return undefined;
}

const AWS = onPath('aws');

/** The environment for the CLI: our credentials only, no profile or config file interfering. */
function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  return {
    ...env,
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'x',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_MAX_ATTEMPTS: '1',
    AWS_PAGER: '',
  };
}

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json: any;
}

let server: Palisade;
const env = cliEnv();

/** Runs `aws ec2 <args>` against the server; resolves with the exit code, output and parsed JSON. */
function ec2(...args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      AWS!,
      ['ec2', ...args, '--endpoint-url', server.url, '--output', 'json'],
      { env, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        if (error && error.killed) return reject(new Error(`aws ec2 ${args[0]} timed out\n${stderr}`));
        let json: unknown = undefined;
        if (code === 0 && stdout.trim()) {
          try {
            json = JSON.parse(stdout);
          } catch {
            return reject(new Error(`aws ec2 ${args[0]} printed non-JSON output:\n${stdout}`));
          }
        }
        resolve({ code, stdout, stderr, json });
      },
    );
  });
}

/** `aws ec2 …` that must succeed; returns the parsed JSON. */
async function ok(...args: string[]): Promise<any> {
  const r = await ec2(...args);
  assert.equal(r.code, 0, `aws ec2 ${args.join(' ')} failed (exit ${r.code}):\n${r.stderr}`);
  return r.json ?? {};
}

/** `aws ec2 …` that must fail with the given AWS error code (from the server, not CLI validation). */
async function fails(code: string, operation: string, ...args: string[]): Promise<string> {
  const r = await ec2(...args);
  assert.notEqual(r.code, 0, `aws ec2 ${args.join(' ')} should have failed with ${code}; printed:\n${r.stdout}`);
  assert.equal(r.stdout.trim(), '', 'nothing on stdout for a failed call');
  const escaped = code.replace(/\./g, '\\.');
  assert.match(r.stderr, new RegExp(`An error occurred \\(${escaped}\\) when calling the ${operation} operation: `), r.stderr);
  return r.stderr;
}

const SG_ID = /^sg-[0-9a-f]{17}$/;
const RULE_ID = /^sgr-[0-9a-f]{17}$/;

describe('aws CLI v1 against Palisade', { skip: AWS ? false : '`aws` is not on PATH', concurrency: 2 }, () => {
  before(async () => {
    server = await start();
  });
  after(async () => server?.close());

  describe('security-group workflow', { concurrency: false }, () => {
    let web: string;
    let app: string;
    let sshRule: string;
    const added: Record<string, string> = {};

    it('create-security-group returns an sg- id and ARN in the default VPC', async () => {
      const out = await ok('create-security-group', '--group-name', 'cli-web', '--description', 'web tier');
      assert.match(out.GroupId, SG_ID);
      assert.match(out.SecurityGroupArn, new RegExp(`^arn:aws:ec2:us-east-1:\\d{12}:security-group/${out.GroupId}$`));
      web = out.GroupId;
      app = (await ok('create-security-group', '--group-name', 'cli-app', '--description', 'app tier (CLI)')).GroupId;
      assert.match(app, SG_ID);
      assert.notEqual(app, web);
    });

    it('authorize-security-group-ingress with --protocol/--port/--cidr', async () => {
      const out = await ok(
        'authorize-security-group-ingress',
        '--group-id',
        web,
        '--protocol',
        'tcp',
        '--port',
        '22',
        '--cidr',
        '203.0.113.0/24',
      );
      assert.equal(out.Return, true);
      assert.equal(out.SecurityGroupRules.length, 1);
      const r = out.SecurityGroupRules[0];
      assert.match(r.SecurityGroupRuleId, RULE_ID);
      assert.equal(r.GroupId, web);
      assert.equal(r.IsEgress, false);
      assert.equal(r.IpProtocol, 'tcp');
      assert.equal(r.FromPort, 22);
      assert.equal(r.ToPort, 22);
      assert.equal(r.CidrIpv4, '203.0.113.0/24');
      sshRule = r.SecurityGroupRuleId;
    });

    it('authorize-security-group-ingress with --ip-permissions JSON (IPv4, IPv6, group pair, descriptions)', async () => {
      const perms = [
        {
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'https from the VPN' }],
          Ipv6Ranges: [{ CidrIpv6: '2001:db8::/32', Description: 'https v6' }],
          UserIdGroupPairs: [{ GroupId: app, Description: 'from app tier' }],
        },
      ];
      const out = await ok('authorize-security-group-ingress', '--group-id', web, '--ip-permissions', JSON.stringify(perms));
      assert.equal(out.Return, true);
      const rules = out.SecurityGroupRules as any[];
      assert.equal(rules.length, 3, 'one rule per source');
      for (const r of rules) {
        assert.match(r.SecurityGroupRuleId, RULE_ID);
        assert.equal(r.IpProtocol, 'tcp');
        assert.equal(r.FromPort, 443);
        assert.equal(r.ToPort, 443);
      }
      const v4 = rules.find((r) => r.CidrIpv4)!;
      const v6 = rules.find((r) => r.CidrIpv6)!;
      const pair = rules.find((r) => r.ReferencedGroupInfo)!;
      assert.equal(v4.CidrIpv4, '10.0.0.0/8');
      assert.equal(v4.Description, 'https from the VPN');
      assert.equal(v6.CidrIpv6, '2001:db8::/32');
      assert.equal(v6.Description, 'https v6');
      assert.equal(pair.ReferencedGroupInfo.GroupId, app);
      assert.match(pair.ReferencedGroupInfo.UserId, /^\d{12}$/);
      assert.equal(pair.Description, 'from app tier');
      Object.assign(added, { v4: v4.SecurityGroupRuleId, v6: v6.SecurityGroupRuleId, pair: pair.SecurityGroupRuleId });
    });

    it('describe-security-groups --group-ids shows the permissions grouped back by protocol and ports', async () => {
      const out = await ok('describe-security-groups', '--group-ids', web);
      assert.equal(out.SecurityGroups.length, 1);
      const g = out.SecurityGroups[0];
      assert.equal(g.GroupId, web);
      assert.equal(g.GroupName, 'cli-web');
      assert.equal(g.Description, 'web tier');
      assert.match(g.VpcId, /^vpc-[0-9a-f]+$/);
      assert.match(g.OwnerId, /^\d{12}$/);
      const ssh = g.IpPermissions.find((p: any) => p.FromPort === 22);
      assert.deepEqual(ssh.IpRanges, [{ CidrIp: '203.0.113.0/24' }]);
      assert.equal(ssh.IpProtocol, 'tcp');
      const https = g.IpPermissions.find((p: any) => p.FromPort === 443);
      assert.equal(https.ToPort, 443);
      assert.deepEqual(https.IpRanges, [{ CidrIp: '10.0.0.0/8', Description: 'https from the VPN' }]);
      assert.deepEqual(https.Ipv6Ranges, [{ CidrIpv6: '2001:db8::/32', Description: 'https v6' }]);
      assert.equal(https.UserIdGroupPairs.length, 1);
      assert.equal(https.UserIdGroupPairs[0].GroupId, app);
      assert.equal(https.UserIdGroupPairs[0].Description, 'from app tier');
      assert.equal(g.IpPermissions.length, 2);
      // The allow-all egress rule every new group gets; "-1" permissions carry no ports.
      assert.equal(g.IpPermissionsEgress.length, 1);
      assert.equal(g.IpPermissionsEgress[0].IpProtocol, '-1');
      assert.equal(g.IpPermissionsEgress[0].FromPort, undefined);
      assert.deepEqual(g.IpPermissionsEgress[0].IpRanges, [{ CidrIp: '0.0.0.0/0' }]);
    });

    it('describe-security-groups --group-names resolves the name in the default VPC', async () => {
      const out = await ok('describe-security-groups', '--group-names', 'cli-web', 'default');
      const byName = new Map<string, any>(out.SecurityGroups.map((g: any) => [g.GroupName, g]));
      assert.equal(byName.get('cli-web')?.GroupId, web);
      const def = byName.get('default');
      assert.ok(def, 'the default group is found by name');
      assert.equal(def.Description, 'default VPC security group');
      assert.equal(def.VpcId, byName.get('cli-web').VpcId);
      // Default group: all traffic from itself.
      assert.equal(def.IpPermissions[0].IpProtocol, '-1');
      assert.equal(def.IpPermissions[0].UserIdGroupPairs[0].GroupId, def.GroupId);
    });

    it('describe-security-groups --filters Name=ip-permission.from-port,Values=22', async () => {
      const out = await ok('describe-security-groups', '--filters', 'Name=ip-permission.from-port,Values=22');
      const ids = out.SecurityGroups.map((g: any) => g.GroupId);
      assert.ok(ids.includes(web), 'the group with the port-22 rule matches');
      assert.ok(!ids.includes(app), 'a group without ingress rules does not');
      for (const g of out.SecurityGroups)
        assert.ok(
          g.IpPermissions.some((p: any) => p.FromPort === 22),
          g.GroupId,
        );
      // Filters AND together; values within one filter OR.
      const both = await ok(
        'describe-security-groups',
        '--filters',
        'Name=ip-permission.from-port,Values=22,443',
        'Name=ip-permission.cidr,Values=10.0.0.0/8',
        'Name=group-name,Values=cli-*',
      );
      assert.deepEqual(
        both.SecurityGroups.map((g: any) => g.GroupId),
        [web],
      );
    });

    it('describe-security-group-rules by group-id filter and by --security-group-rule-ids', async () => {
      const out = await ok('describe-security-group-rules', '--filters', `Name=group-id,Values=${web}`);
      const rules = out.SecurityGroupRules as any[];
      assert.equal(rules.length, 5, '4 ingress + the default egress');
      const egress = rules.filter((r) => r.IsEgress);
      assert.equal(egress.length, 1);
      assert.equal(egress[0].IpProtocol, '-1');
      assert.equal(egress[0].FromPort, -1, 'DescribeSecurityGroupRules reports -1 ports for all-protocol rules');
      assert.equal(egress[0].CidrIpv4, '0.0.0.0/0');
      assert.deepEqual(
        rules
          .filter((r) => !r.IsEgress)
          .map((r) => r.SecurityGroupRuleId)
          .sort(),
        [sshRule, added.v4, added.v6, added.pair].sort(),
      );
      for (const r of rules) {
        assert.equal(r.GroupId, web);
        assert.match(r.GroupOwnerId, /^\d{12}$/);
        assert.equal(r.SecurityGroupRuleArn.endsWith(`:security-group-rule/${r.SecurityGroupRuleId}`), true);
      }
      const one = await ok('describe-security-group-rules', '--security-group-rule-ids', added.pair!);
      assert.equal(one.SecurityGroupRules.length, 1);
      assert.equal(one.SecurityGroupRules[0].ReferencedGroupInfo.GroupId, app);
      assert.equal(one.SecurityGroupRules[0].Description, 'from app tier');
    });

    it('create-tags on a group and a rule, describe-tags, tag filter', async () => {
      const out = await ec2('create-tags', '--resources', web, added.v4!, '--tags', 'Key=env,Value=dev', 'Key=Name,Value=cli-web');
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout.trim(), '', 'create-tags prints nothing');
      const tags = await ok('describe-tags', '--filters', `Name=resource-id,Values=${web},${added.v4}`);
      const rows = (tags.Tags as any[]).map((t) => `${t.ResourceType} ${t.ResourceId} ${t.Key}=${t.Value}`).sort();
      assert.deepEqual(
        rows,
        [
          `security-group ${web} Name=cli-web`,
          `security-group ${web} env=dev`,
          `security-group-rule ${added.v4} Name=cli-web`,
          `security-group-rule ${added.v4} env=dev`,
        ].sort(),
      );
      const byTag = await ok('describe-security-groups', '--filters', 'Name=tag:env,Values=dev');
      assert.deepEqual(
        byTag.SecurityGroups.map((g: any) => g.GroupId),
        [web],
      );
      assert.deepEqual(
        byTag.SecurityGroups[0].Tags.sort((a: any, b: any) => (a.Key < b.Key ? -1 : 1)),
        [
          { Key: 'Name', Value: 'cli-web' },
          { Key: 'env', Value: 'dev' },
        ],
      );
    });

    it('a second identical authorize fails with InvalidPermission.Duplicate', async () => {
      const stderr = await fails(
        'InvalidPermission.Duplicate',
        'AuthorizeSecurityGroupIngress',
        'authorize-security-group-ingress',
        '--group-id',
        web,
        '--protocol',
        'tcp',
        '--port',
        '22',
        '--cidr',
        '203.0.113.77/24',
      );
      assert.match(stderr, /the specified rule "peer: 203\.0\.113\.0\/24, TCP, from port: 22, to port: 22, ALLOW" already exists/);
    });

    it('revoke-security-group-ingress by --protocol/--port/--cidr, then again (default VPC: UnknownIpPermissions)', async () => {
      const out = await ok(
        'revoke-security-group-ingress',
        '--group-id',
        web,
        '--protocol',
        'tcp',
        '--port',
        '22',
        '--cidr',
        '203.0.113.0/24',
      );
      assert.equal(out.Return, true);
      assert.equal(out.UnknownIpPermissions, undefined);
      assert.equal(out.RevokedSecurityGroupRules.length, 1);
      assert.equal(out.RevokedSecurityGroupRules[0].SecurityGroupRuleId, sshRule);
      assert.equal(out.RevokedSecurityGroupRules[0].CidrIpv4, '203.0.113.0/24');
      const again = await ok(
        'revoke-security-group-ingress',
        '--group-id',
        web,
        '--protocol',
        'tcp',
        '--port',
        '22',
        '--cidr',
        '203.0.113.0/24',
      );
      assert.equal(again.Return, true);
      assert.equal(again.UnknownIpPermissions.length, 1);
      assert.equal(again.UnknownIpPermissions[0].IpProtocol, 'tcp');
      assert.equal(again.UnknownIpPermissions[0].FromPort, 22);
      assert.deepEqual(again.UnknownIpPermissions[0].IpRanges, [{ CidrIp: '203.0.113.0/24' }]);
      assert.equal(again.RevokedSecurityGroupRules?.length ?? 0, 0);
    });

    it('delete-security-group of a referenced group fails with DependencyViolation', async () => {
      await fails('DependencyViolation', 'DeleteSecurityGroup', 'delete-security-group', '--group-id', app);
    });

    it('revoke-security-group-ingress --security-group-rule-ids removes exactly those rules', async () => {
      const out = await ok('revoke-security-group-ingress', '--group-id', web, '--security-group-rule-ids', added.v6!, added.pair!);
      assert.equal(out.Return, true);
      assert.deepEqual(out.RevokedSecurityGroupRules.map((r: any) => r.SecurityGroupRuleId).sort(), [added.v6, added.pair].sort());
      const pair = out.RevokedSecurityGroupRules.find((r: any) => r.SecurityGroupRuleId === added.pair);
      assert.equal(pair.ReferencedGroupId, app);
      const g = (await ok('describe-security-groups', '--group-ids', web)).SecurityGroups[0];
      assert.deepEqual(
        g.IpPermissions.map((p: any) => [p.IpProtocol, p.FromPort, p.IpRanges, p.Ipv6Ranges, p.UserIdGroupPairs]),
        [['tcp', 443, [{ CidrIp: '10.0.0.0/8', Description: 'https from the VPN' }], [], []]],
      );
      await fails(
        'InvalidSecurityGroupRuleId.NotFound',
        'RevokeSecurityGroupIngress',
        'revoke-security-group-ingress',
        '--group-id',
        web,
        '--security-group-rule-ids',
        added.v6!,
      );
    });

    it('delete-security-group by id and by name; the group is gone', async () => {
      const out = await ok('delete-security-group', '--group-id', web);
      assert.equal(out.Return, true);
      assert.equal(out.GroupId, web);
      const byName = await ok('delete-security-group', '--group-name', 'cli-app');
      assert.equal(byName.Return, true);
      assert.equal(byName.GroupId, app);
      const stderr = await fails('InvalidGroup.NotFound', 'DescribeSecurityGroups', 'describe-security-groups', '--group-ids', web, app);
      assert.match(stderr, /The security group 'sg-[0-9a-f]{17}' does not exist/);
    });
  });

  describe('errors', { concurrency: 2 }, () => {
    it('InvalidGroup.NotFound for an unknown id and an unknown name', async () => {
      const byId = await fails(
        'InvalidGroup.NotFound',
        'DescribeSecurityGroups',
        'describe-security-groups',
        '--group-ids',
        'sg-0123456789abcdef0',
      );
      assert.match(byId, /The security group 'sg-0123456789abcdef0' does not exist/);
      const byName = await fails(
        'InvalidGroup.NotFound',
        'DescribeSecurityGroups',
        'describe-security-groups',
        '--group-names',
        'no-such-group',
      );
      assert.match(byName, /The security group 'no-such-group' does not exist in default VPC 'vpc-[0-9a-f]+'/);
    });

    it('InvalidParameterValue for an sg-* group name and a malformed CIDR; InvalidGroup.Duplicate for a taken name', async () => {
      const stderr = await fails(
        'InvalidParameterValue',
        'CreateSecurityGroup',
        'create-security-group',
        '--group-name',
        'sg-web',
        '--description',
        'x',
      );
      assert.match(stderr, /Group names may not be in the format sg-\*/);
      const g = (await ok('create-security-group', '--group-name', 'cli-errors', '--description', 'errors')).GroupId;
      const cidr = await fails(
        'InvalidParameterValue',
        'AuthorizeSecurityGroupIngress',
        'authorize-security-group-ingress',
        '--group-id',
        g,
        '--protocol',
        'tcp',
        '--port',
        '80',
        '--cidr',
        '10.0.0.1',
      );
      assert.match(cidr, /CIDR block 10\.0\.0\.1 is malformed/);
      const dup = await fails(
        'InvalidGroup.Duplicate',
        'CreateSecurityGroup',
        'create-security-group',
        '--group-name',
        'CLI-Errors',
        '--description',
        'x',
      );
      assert.match(dup, /The security group 'CLI-Errors' already exists for VPC 'vpc-[0-9a-f]+'/);
    });

    it('CannotDelete for the default group, DryRunOperation for --dry-run', async () => {
      await fails('CannotDelete', 'DeleteSecurityGroup', 'delete-security-group', '--group-name', 'default');
      const dry = await fails(
        'DryRunOperation',
        'CreateSecurityGroup',
        'create-security-group',
        '--group-name',
        'cli-dry',
        '--description',
        'x',
        '--dry-run',
      );
      assert.match(dry, /Request would have succeeded, but DryRun flag is set/);
    });
  });
});
