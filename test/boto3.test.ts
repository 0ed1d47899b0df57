// The security-group workflow through boto3: test/py/sg_flow.py runs the whole flow against a
// server started here (create, authorize flat and by IpPermissions, describe by id/name/filters,
// rules, tags, revoke by properties and by rule id, the default-VPC UnknownIpPermissions case,
// paginator over DescribeSecurityGroups, errors with their codes and HTTP statuses, delete) with
// plain asserts, and prints a JSON summary that is checked here. Skipped without python3 + boto3.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';

const SCRIPT = fileURLToPath(new URL('./py/sg_flow.py', import.meta.url));

/** python3's environment: no AWS profile, config or endpoint from the caller's shell. */
function pyEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  return {
    ...env,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    PYTHONDONTWRITEBYTECODE: '1',
  };
}
const env = pyEnv();

function python(args: string[], timeout: number): Promise<{ code: number; stdout: string; stderr: string; missing: boolean }> {
  return new Promise((resolve) => {
    execFile('python3', args, { env, timeout, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const e = error as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
      resolve({
        code: e ? (typeof e.code === 'number' ? e.code : -1) : 0,
        stdout,
        stderr: e?.killed ? `${stderr}\n(timed out after ${timeout} ms)` : stderr,
        missing: e?.code === 'ENOENT',
      });
    });
  });
}

// Decided before the suite is declared, so a missing interpreter or library is a skip, not a failure.
const probe = await python(['-c', 'import boto3, botocore; print(boto3.__version__)'], 60_000);
const skip = probe.missing ? 'python3 is not on PATH' : probe.code !== 0 ? 'boto3 is not installed for python3' : false;

interface Summary {
  ok: boolean;
  boto3: string;
  steps: string[];
  errors: string[];
  pages: number[];
  pagedGroups: number;
  allGroups: number;
  unknownIpPermissions: { IpProtocol: string; FromPort: number; ToPort: number; IpRanges: { CidrIp: string }[] }[];
}

describe(`boto3${skip ? '' : ` ${probe.stdout.trim()}`} against Palisade`, { skip }, () => {
  let server: Palisade;
  let summary: Summary;
  before(async () => {
    server = await start();
  });
  after(async () => server?.close());

  it('test/py/sg_flow.py runs the whole flow and exits 0', async () => {
    const r = await python([SCRIPT, server.url], 120_000);
    assert.equal(r.code, 0, `sg_flow.py failed (exit ${r.code}):\n${r.stderr}\n${r.stdout}`);
    const last = r.stdout.trim().split('\n').pop() ?? '';
    summary = JSON.parse(last) as Summary;
    assert.equal(summary.ok, true);
  });

  it('went through every step', () => {
    assert.ok(summary, 'the script ran');
    assert.deepEqual(summary.steps, [
      'create',
      'authorize',
      'authorize-errors',
      'describe',
      'describe-rules',
      'tags',
      'revoke',
      'pagination',
      'delete',
    ]);
  });

  it('paged DescribeSecurityGroups with MaxResults=5: 12 groups in pages of 5, 5, 2', () => {
    assert.ok(summary, 'the script ran');
    assert.deepEqual(summary.pages, [5, 5, 2]);
    assert.equal(summary.pagedGroups, 12);
    // 2 default groups (default VPC + the VPC it created) + web, app, other + 12 paged ones.
    assert.equal(summary.allGroups, 17);
  });

  it('default-VPC revoke of a missing rule answered UnknownIpPermissions', () => {
    assert.ok(summary, 'the script ran');
    assert.equal(summary.unknownIpPermissions.length, 1);
    const u = summary.unknownIpPermissions[0]!;
    assert.equal(u.IpProtocol, 'tcp');
    assert.equal(u.FromPort, 22);
    assert.equal(u.ToPort, 22);
    assert.deepEqual(u.IpRanges, [{ CidrIp: '203.0.113.0/24' }]);
  });

  it('saw each AWS error code it provoked', () => {
    assert.ok(summary, 'the script ran');
    const seen = new Set(summary.errors);
    for (const code of [
      'InvalidPermission.Duplicate',
      'InvalidParameterValue',
      'InvalidGroup.NotFound',
      'InvalidGroupId.Malformed',
      'InvalidSecurityGroupRuleId.NotFound',
      'InvalidPermission.NotFound',
      'DependencyViolation',
      'InvalidNextToken',
      'DryRunOperation',
      'CannotDelete',
      'InvalidGroup.Duplicate',
    ])
      assert.ok(seen.has(code), `${code} was checked`);
  });
});
