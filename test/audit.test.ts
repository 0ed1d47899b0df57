// `palisade audit` and `palisade import`: one fixture estate built through the API with the SDK
// (test/fixtures/estate-builder.ts) and the same estate as aws CLI exports (test/fixtures/estate/)
// yield exactly the expected findings; every check has a positive and a negative case; SARIF
// output is checked against the required parts of the SARIF 2.1.0 schema; bad exports are
// refused with the file and the field; the CLI's exit codes follow --fail-on.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IAMClient } from '@aws-sdk/client-iam';
import { CREDS, ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import { buildEstate } from './fixtures/estate-builder.ts';
import { audit, type AuditResult } from '../src/analysis/audit.ts';
import { ConfigError, parseConfig } from '../src/analysis/config.ts';
import { fetchLiveSnapshot } from '../src/analysis/fetch-live.ts';
import { ImportError, importExports, loadSnapshot, saveSnapshot } from '../src/analysis/import.ts';
import { toSarif } from '../src/analysis/sarif.ts';
import { CHECKS } from '../src/analysis/findings/index.ts';
import { ruleInputsOf, type AuditSnapshot } from '../src/analysis/findings/estate.ts';
import { policyOf } from '../src/analysis/snapshot.ts';
import { parseAddress } from '../src/dataplane/addresses.ts';
import type { Finding } from '../src/analysis/findings/types.ts';
import { classify, parseDocument } from '../src/analysis/findings/iam.ts';
import { Progress } from '../src/cli/import.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'estate');
/**
 * The naming convention of the main runs: instances carry Environment = prod, dev or test (the
 * default rule on group names, that they say their environment, is tested in audit-naming.test.ts).
 */
const CONFIG = parseConfig({ naming: { environments: '', requiredTags: { Environment: 'prod|dev|test' }, appliesTo: ['instance'] } });

/** `check type:name`, default groups named after their VPC (`default@prod`, `default@default-vpc`). */
function keysOf(s: AuditSnapshot, findings: Finding[]): string[] {
  const vpcName = new Map(
    s.vpcs.map((v) => [v.VpcId, v.IsDefault ? 'default-vpc' : (v.Tags?.find((t) => t.Key === 'Name')?.Value ?? v.VpcId)]),
  );
  const groups = new Map(s.securityGroups.map((g) => [g.GroupId, g]));
  const acls = new Map((s.networkAcls ?? []).map((a) => [a.NetworkAclId, a]));
  return findings
    .map((f) => {
      let name = f.resourceName ?? f.resourceId;
      if (f.resourceType === 'security-group' && name === 'default') name = `default@${vpcName.get(groups.get(f.resourceId)?.VpcId)}`;
      if (f.resourceType === 'network-acl' && acls.get(f.resourceId)?.IsDefault)
        name = `default@${vpcName.get(acls.get(f.resourceId)?.VpcId)}`;
      return `${f.checkId} ${f.resourceType}:${name}`;
    })
    .sort();
}

/**
 * Every check, with the resources it must report (pos) and must not (neg) in the fixture estate;
 * liveOnly: reported over the live estate only, whose fetch has the routing the exports lack.
 */
const CASES: { check: string; pos: string[]; neg: string[]; exportsOnly?: string[]; liveOnly?: string[] }[] = [
  { check: 'sg-ssh-open-to-world', pos: ['security-group:bastion'], neg: ['security-group:web'] }, // web: SSH from a prefix list
  { check: 'sg-rdp-open-to-world', pos: ['security-group:bastion'], neg: ['security-group:web'] },
  { check: 'sg-sensitive-port-open-to-world', pos: ['security-group:db'], neg: ['security-group:wide', 'security-group:web'] }, // wide: 3306 inside 1000-5000 but from 10/8
  { check: 'sg-all-open-to-world', pos: ['security-group:open-all'], neg: ['security-group:legacy'] }, // legacy: every port, from 10/8
  { check: 'sg-wide-port-range', pos: ['security-group:wide'], neg: ['security-group:app', 'security-group:legacy'] }, // legacy: suppressed by tag
  { check: 'instance-exposed-sensitive-port', pos: ['instance:bastion-1'], neg: ['instance:db-1', 'instance:web-1'] }, // db-1: 5432 open to the world, no public address
  {
    check: 'nacl-open-sensitive-port',
    pos: [],
    liveOnly: ['network-acl:default@default-vpc', 'network-acl:default@prod'],
    neg: ['network-acl:prod-private-acl'], // its tcp 1024-65535 from anywhere is for replies
  },
  { check: 'nacl-blocks-replies', pos: [], liveOnly: ['network-acl:prod-private-acl'], neg: ['network-acl:default@prod'] },
  { check: 'private-subnet-internet-route', pos: [], liveOnly: ['subnet:prod-private'], neg: ['subnet:prod-public'] },
  { check: 'peering-route-too-wide', pos: [], liveOnly: ['route-table:prod-private-rt'], neg: ['route-table:prod-public-rt'] },
  { check: 'instance-imdsv2-not-required', pos: ['instance:bastion-1'], neg: ['instance:web-1', 'instance:db-1', 'instance:app-1'] },
  { check: 'iam-instance-role-admin', pos: ['iam-role:bastion-role'], neg: ['iam-role:admin-unused', 'iam-role:web-role'] }, // admin-unused: no instance uses it
  { check: 'iam-instance-role-wildcard-action', pos: ['iam-role:app-role'], neg: ['iam-role:web-role', 'iam-role:bastion-role'] },
  { check: 'iam-instance-role-wildcard-resource', pos: ['iam-role:app-role'], neg: ['iam-role:web-role'] },
  { check: 'sg-default-group-has-rules', pos: ['security-group:default@default-vpc'], neg: ['security-group:default@prod'] },
  {
    check: 'sg-unused',
    pos: ['security-group:open-all', 'security-group:unused'],
    neg: ['security-group:cache-clients', 'security-group:default@prod', 'security-group:legacy'],
    exportsOnly: ['security-group:peered-analytics'],
  },
  { check: 'sg-stale-reference', pos: [], neg: ['security-group:db'], exportsOnly: ['security-group:peered-analytics'] }, // db references cache-clients, which exists
  { check: 'sg-near-rule-quota', pos: ['security-group:partners'], neg: ['security-group:web'] }, // web: a prefix list of MaxEntries 5
  {
    check: 'sg-redundant-rule',
    pos: ['security-group:app', 'security-group:app-extra'],
    neg: ['security-group:wide', 'security-group:db', 'security-group:web', 'security-group:partners'],
  },
  { check: 'sg-missing-description', pos: ['security-group:scratch_tmp'], neg: ['security-group:web', 'security-group:default@prod'] },
  { check: 'sg-rule-missing-description', pos: ['security-group:db'], neg: ['security-group:default@default-vpc', 'security-group:app'] },
  { check: 'naming-convention', pos: ['instance:bastion-1', 'instance:db-1'], neg: ['instance:web-1', 'instance:app-1'] },
];
const SUPPRESSED = ['sg-unused security-group:legacy', 'sg-wide-port-range security-group:legacy'];
const expected = (exported: boolean) =>
  CASES.flatMap((c) => [...c.pos, ...((exported ? c.exportsOnly : c.liveOnly) ?? [])].map((p) => `${c.check} ${p}`)).sort();

let server: Palisade;
let live: AuditSnapshot;
let exported: AuditSnapshot;
let liveResult: AuditResult;
let exportedResult: AuditResult;
let tmp: string;

before(async () => {
  server = await start();
  const iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
  await buildEstate(ec2(server.url), iam);
  iam.destroy();
  live = await fetchLiveSnapshot(server.url, { credentials: CREDS });
  exported = await loadSnapshot(FIXTURES);
  liveResult = audit(live, CONFIG);
  exportedResult = audit(exported, CONFIG);
  tmp = await mkdtemp(join(tmpdir(), 'palisade-audit-test-'));
});
after(async () => {
  await server.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('audit: the fixture estate', () => {
  it('covers every check with a positive and a negative case', () => {
    assert.deepEqual(CASES.map((c) => c.check).sort(), CHECKS.map((c) => c.id).sort());
    for (const c of CASES) {
      assert.ok(c.pos.length + (c.exportsOnly?.length ?? 0) + (c.liveOnly?.length ?? 0) > 0, `${c.check} has no positive case`);
      assert.ok(c.neg.length > 0, `${c.check} has no negative case`);
    }
  });

  it('the estate built through the API yields exactly the expected findings', () => {
    assert.deepEqual(keysOf(live, liveResult.findings), expected(false));
    assert.deepEqual(keysOf(live, liveResult.suppressed), SUPPRESSED);
    for (const c of CASES)
      for (const n of c.neg) assert.ok(!keysOf(live, liveResult.findings).includes(`${c.check} ${n}`), `${c.check} must not report ${n}`);
  });

  it('the same estate as aws CLI exports yields the same findings, plus the stale references only an export can hold', () => {
    assert.deepEqual(keysOf(exported, exportedResult.findings), expected(true));
    assert.deepEqual(keysOf(exported, exportedResult.suppressed), SUPPRESSED);
    assert.equal(exported.instances.length, 4, 'Reservations → Instances flattened');
    assert.equal(exported.iam?.roles.length, 4);
  });

  it('findings carry real sgr- ids as evidence, and the Security Hub / CIS controls', () => {
    for (const r of [liveResult, exportedResult]) {
      const by = (check: string, name: string) => r.findings.find((f) => f.checkId === check && f.resourceName === name)!;
      for (const f of r.findings.filter(
        (x) => x.resourceType === 'security-group' && x.checkId !== 'sg-unused' && x.checkId !== 'sg-missing-description',
      )) {
        assert.ok(f.ruleIds.length > 0 && f.ruleIds.every((id) => id.startsWith('sgr-')), `${f.checkId} ${f.resourceName}: ${f.ruleIds}`);
      }
      assert.deepEqual(by('sg-ssh-open-to-world', 'bastion').controls, ['EC2.13', 'EC2.19', 'EC2.53', 'CIS 5.2']);
      assert.deepEqual(by('sg-rdp-open-to-world', 'bastion').controls, ['EC2.14', 'EC2.19', 'EC2.54', 'CIS 5.3']);
      assert.deepEqual(by('sg-default-group-has-rules', 'default').controls, ['EC2.2', 'CIS 5.4']);
      assert.deepEqual(by('sg-sensitive-port-open-to-world', 'db').controls, ['EC2.19', 'EC2.18']);
      assert.deepEqual(by('sg-all-open-to-world', 'open-all').controls, ['EC2.18', 'EC2.19', 'EC2.53', 'CIS 5.2']);
      assert.deepEqual(by('instance-imdsv2-not-required', 'bastion-1').controls, ['EC2.8', 'CIS 5.6']);
      assert.deepEqual(by('iam-instance-role-admin', 'bastion-role').controls, ['IAM.1', 'CIS 1.16']);
      assert.deepEqual(by('sg-unused', 'unused').controls, ['EC2.22']);
      assert.equal(by('sg-near-rule-quota', 'partners').severity, 'low');
      assert.match(by('sg-near-rule-quota', 'partners').detail, /ingress IPv4: 50 of 60/);
      assert.equal(by('sg-redundant-rule', 'app').ruleIds.length, 2, 'ingress 8080 inside 8000-8100, egress 443 inside allow-all');
      assert.match(by('sg-redundant-rule', 'app-extra').detail, /of sg-\S+ \(app\), held by every interface/);
      assert.match(by('iam-instance-role-wildcard-action', 'app-role').detail, /"s3:\*"/);
      assert.match(by('iam-instance-role-wildcard-resource', 'app-role').detail, /ec2:TerminateInstances/);
      assert.doesNotMatch(by('iam-instance-role-wildcard-resource', 'app-role').detail, /Describe/);
      assert.match(by('naming-convention', 'bastion-1').detail, /Environment="staging" is not one of prod\|dev\|test/);
      for (const f of r.findings) for (const k of ['title', 'detail', 'fix'] as const) assert.ok(f[k].length > 10, `${f.checkId}.${k}`);
    }
    // the exports' ids are the ones in security-group-rules.json
    const ssh = exportedResult.findings.find((f) => f.checkId === 'sg-ssh-open-to-world')!;
    const rows = exported.securityGroupRules!.filter((r) => r.GroupId === ssh.resourceId && r.FromPort === 22);
    assert.deepEqual(
      ssh.ruleIds,
      rows.map((r) => r.SecurityGroupRuleId),
    );
  });

  it("the exposure of instances is what the data-plane engine lets through, across all the interface's groups", () => {
    for (const r of [liveResult, exportedResult]) {
      const f = r.findings.find((x) => x.checkId === 'instance-exposed-sensitive-port')!;
      const ssh = r.findings.find((x) => x.checkId === 'sg-ssh-open-to-world')!;
      assert.match(f.detail, /tcp\/22 \(SSH\)/);
      assert.doesNotMatch(f.detail, /3389/, 'RDP is open to ::/0, but bastion-1 has no IPv6 address');
      assert.deepEqual(f.ruleIds, ssh.ruleIds);
    }
    // the engine, fed the real rule ids, names the same rule the finding cites
    const bastionEni = exported.networkInterfaces.find((n) => n.Groups?.some((g) => g.GroupName === 'bastion'))!.NetworkInterfaceId!;
    const cited = exportedResult.findings.find((x) => x.checkId === 'instance-exposed-sensitive-port')!.ruleIds;
    const q = { direction: 'ingress' as const, proto: 6, port: 22, remote: parseAddress('198.51.100.1')! };
    assert.deepEqual(
      policyOf(exported, ruleInputsOf(exported))
        .matchingRules(bastionEni, q)
        .map((r) => r.id),
      cited,
    );
    assert.match(policyOf(exported).matchingRules(bastionEni, q)[0]!.id, /^sg-\w+\/i0$/, 'without them, rulesOfGroup ids');
    // give bastion-1 an IPv6 address: the ::/0 RDP rule now really admits the internet
    const copy = structuredClone(exported);
    const bastion = copy.instances.find((i) => i.Tags?.some((t) => t.Value === 'bastion-1'))!;
    const eni = copy.networkInterfaces.find((n) => n.Attachment?.InstanceId === bastion.InstanceId)!;
    eni.Ipv6Addresses = [{ Ipv6Address: '2600:1f18:1234:5600::10' }];
    let f = audit(copy, CONFIG).findings.find((x) => x.checkId === 'instance-exposed-sensitive-port')!;
    assert.match(f.detail, /IPv6\) → 2600:1f18:1234:5600::10 tcp\/3389 \(RDP\)/);
    assert.equal(f.ruleIds.length, 2);
    // and a world-open rule in a second group of web-1 exposes web-1, though web itself is clean
    const web = copy.instances.find((i) => i.Tags?.some((t) => t.Value === 'web-1'))!;
    const webEni = copy.networkInterfaces.find((n) => n.Attachment?.InstanceId === web.InstanceId)!;
    const openAll = copy.securityGroups.find((g) => g.GroupName === 'open-all')!;
    webEni.Groups!.push({ GroupId: openAll.GroupId, GroupName: 'open-all' });
    f = audit(copy, CONFIG).findings.find((x) => x.checkId === 'instance-exposed-sensitive-port' && x.resourceName === 'web-1')!;
    assert.ok(f, 'web-1 is exposed through open-all');
    assert.match(f.detail, /tcp\/3306 \(MySQL\)/);
    // without its public address, bastion-1 is not reachable, whatever its rules say
    delete eni.Association;
    eni.Ipv6Addresses = [];
    assert.ok(!audit(copy, CONFIG).findings.some((x) => x.checkId === 'instance-exposed-sensitive-port' && x.resourceName === 'bastion-1'));
  });

  it('without a describe-security-group-rules export, evidence uses stable sg-…/i0 ids', async () => {
    const dir = join(tmp, 'no-rules');
    await cp(FIXTURES, dir, { recursive: true });
    await rm(join(dir, 'security-group-rules.json'));
    const s = await loadSnapshot(dir);
    const r = audit(s, CONFIG);
    assert.deepEqual(keysOf(s, r.findings), expected(true));
    const ssh = r.findings.find((f) => f.checkId === 'sg-ssh-open-to-world')!;
    assert.deepEqual(ssh.ruleIds, [`${ssh.resourceId}/i0`]);
    for (const f of r.findings.filter((x) => x.resourceType === 'security-group'))
      for (const id of f.ruleIds) assert.match(id, /^sg-[0-9a-f]+\/[ie]\d+$/);
  });

  it('configuration: suppressions, thresholds, naming, disabled checks; errors name the file and the field', () => {
    const openAll = exported.securityGroups.find((g) => g.GroupName === 'open-all')!.GroupId!;
    let r = audit(
      exported,
      parseConfig({
        suppress: [{ checkId: 'sg-unused', resourceId: openAll, reason: 'kept for drills' }, { checkId: 'naming-convention' }],
      }),
    );
    assert.ok(!r.findings.some((f) => (f.checkId === 'sg-unused' && f.resourceId === openAll) || f.checkId === 'naming-convention'));
    assert.ok(r.findings.some((f) => f.checkId === 'sg-unused' && f.resourceName === 'unused'));
    assert.match(r.suppressed.find((f) => f.resourceId === openAll && f.checkId === 'sg-unused')!.suppressedBy, /kept for drills/);
    // a narrower wide-range threshold catches 8000-8100 (101 ports) and 9000-9100
    r = audit(exported, parseConfig({ wideRangeThreshold: 100 }));
    assert.deepEqual(
      r.findings
        .filter((f) => f.checkId === 'sg-wide-port-range')
        .map((f) => f.resourceName)
        .sort(),
      ['app', 'wide'],
    );
    // group names: lower-case words; the default groups are exempt
    r = audit(exported, parseConfig({ naming: { environments: '', groupName: '^[a-z][a-z0-9-]*$', appliesTo: ['security-group'] } }));
    assert.deepEqual(
      keysOf(
        exported,
        r.findings.filter((f) => f.checkId === 'naming-convention'),
      ),
      ['naming-convention security-group:scratch_tmp'],
    );
    // no naming configured: only the default rule, on security groups (their names say no environment)
    r = audit(exported);
    const naming = r.findings.filter((f) => f.checkId === 'naming-convention');
    assert.ok(naming.length > 0);
    assert.ok(naming.every((f) => f.resourceType === 'security-group' && /says its environment/.test(f.detail)));
    r = audit(exported, parseConfig({ disable: ['sg-redundant-rule'] }));
    assert.ok(!r.findings.some((f) => f.checkId === 'sg-redundant-rule'));
    assert.throws(
      () =>
        parseConfig(
          { suppress: [{ checkId: 'no-such-check' }, {}], wideRangeThreshold: -1, naming: { groupName: '(' }, colour: 1 },
          'audit.json',
        ),
      (e: Error) => {
        assert.ok(e instanceof ConfigError);
        for (const want of [
          "audit.json: suppress[0].checkId: unknown check 'no-such-check'",
          'audit.json: suppress[1]: needs a checkId, a resourceId, or both',
          'audit.json: wideRangeThreshold: must be an integer',
          'audit.json: naming.groupName: not a valid regular expression',
          'audit.json: colour: unknown field',
        ])
          assert.ok(e.message.includes(want), `${want}\n---\n${e.message}`);
        return true;
      },
    );
  });

  it('IAM documents as exports carry them: objects, JSON text, URL-encoded JSON', () => {
    const doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
    for (const form of [doc, JSON.stringify(doc), encodeURIComponent(JSON.stringify(doc))]) assert.deepEqual(parseDocument(form), doc);
    assert.equal(classify({ Effect: 'Allow', Action: '*', Resource: '*' }), 'admin');
    assert.equal(classify({ Effect: 'Allow', NotAction: 'iam:*', Resource: 'arn:aws:s3:::x' }), 'wildcard-action');
    assert.equal(classify({ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: '*' }), undefined);
    assert.equal(classify({ Effect: 'Deny', Action: '*', Resource: '*' }), undefined);
  });
});

// ---- SARIF ----------------------------------------------------------------------------------

/**
 * The parts of the SARIF 2.1.0 schema (sarif-schema-2.1.0.json, OASIS) that GitHub code scanning
 * relies on, checked structurally:
 *   sarifLog: required ["version", "runs"], version enum ["2.1.0"], $schema a URI;
 *   run: required ["tool"]; tool: required ["driver"]; toolComponent: required ["name"];
 *   reportingDescriptor (a rule): required ["id"]; multiformatMessageString (shortDescription,
 *     fullDescription, help): required ["text"];
 *   result: required ["message"]; message: anyOf required ["text"] | ["id"];
 *     level enum ["none", "note", "warning", "error"]; ruleIndex integer ≥ -1;
 *     partialFingerprints: an object of strings;
 *   location.physicalLocation: anyOf required ["address"] | ["artifactLocation"];
 *     artifactLocation.uri a URI reference; region.startLine integer ≥ 1;
 *   logicalLocation: name, fullyQualifiedName, kind strings.
 * GitHub adds: results[].ruleId naming a rule of the driver, at least one location with a
 * physicalLocation, unique rule ids, properties["security-severity"] a number in text.
 */
function validateSarif(doc: unknown): string[] {
  const errs: string[] = [];
  const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  const text = (v: unknown, path: string) => {
    if (!isObj(v) || typeof v.text !== 'string' || !v.text) errs.push(`${path}.text: required string`);
  };
  if (!isObj(doc)) return ['sarifLog: must be an object'];
  if (doc.version !== '2.1.0') errs.push('version: must be "2.1.0"');
  if (typeof doc.$schema !== 'string' || !/^https?:\/\/\S+sarif[^/]*2\.1\.0[^/]*\.json$/.test(doc.$schema))
    errs.push('$schema: must be the 2.1.0 schema URI');
  if (!Array.isArray(doc.runs) || !doc.runs.length) return [...errs, 'runs: required non-empty array'];
  doc.runs.forEach((run: unknown, i) => {
    const p = `runs[${i}]`;
    if (!isObj(run) || !isObj(run.tool) || !isObj(run.tool.driver)) return errs.push(`${p}.tool.driver: required`);
    const driver = run.tool.driver;
    if (typeof driver.name !== 'string' || !driver.name) errs.push(`${p}.tool.driver.name: required string`);
    const rules = Array.isArray(driver.rules) ? driver.rules : [];
    const ids = new Set<string>();
    rules.forEach((r: unknown, k) => {
      const q = `${p}.tool.driver.rules[${k}]`;
      if (!isObj(r) || typeof r.id !== 'string' || !r.id) return errs.push(`${q}.id: required string`);
      if (ids.has(r.id)) errs.push(`${q}.id: duplicate ${r.id}`);
      ids.add(r.id);
      for (const m of ['shortDescription', 'fullDescription', 'help'] as const) if (r[m] !== undefined) text(r[m], `${q}.${m}`);
      const sev = isObj(r.properties) ? r.properties['security-severity'] : undefined;
      if (sev !== undefined && (typeof sev !== 'string' || !Number.isFinite(Number(sev)) || Number(sev) < 0 || Number(sev) > 10))
        errs.push(`${q}.properties.security-severity: a number from 0 to 10 as text`);
    });
    if (!Array.isArray(run.results)) return errs.push(`${p}.results: required array`);
    run.results.forEach((res: unknown, k) => {
      const q = `${p}.results[${k}]`;
      if (!isObj(res)) return errs.push(`${q}: must be an object`);
      if (typeof res.ruleId !== 'string' || !ids.has(res.ruleId)) errs.push(`${q}.ruleId: must name a rule of the driver`);
      if (
        res.ruleIndex !== undefined &&
        (!Number.isInteger(res.ruleIndex) ||
          (res.ruleIndex as number) < -1 ||
          (rules[res.ruleIndex as number] as { id?: string } | undefined)?.id !== res.ruleId)
      )
        errs.push(`${q}.ruleIndex: must point at the rule`);
      if (!isObj(res.message) || (typeof res.message.text !== 'string' && typeof res.message.id !== 'string'))
        errs.push(`${q}.message: text or id required`);
      if (res.level !== undefined && !['none', 'note', 'warning', 'error'].includes(res.level as string))
        errs.push(`${q}.level: not in the enum`);
      if (
        res.partialFingerprints !== undefined &&
        (!isObj(res.partialFingerprints) || Object.values(res.partialFingerprints).some((v) => typeof v !== 'string'))
      )
        errs.push(`${q}.partialFingerprints: strings`);
      if (!Array.isArray(res.locations) || !res.locations.length) return errs.push(`${q}.locations: GitHub requires one`);
      res.locations.forEach((l: unknown, m) => {
        const lp = `${q}.locations[${m}]`;
        if (!isObj(l) || !isObj(l.physicalLocation)) return errs.push(`${lp}.physicalLocation: required`);
        const ph = l.physicalLocation;
        if (!isObj(ph.artifactLocation) && ph.address === undefined)
          errs.push(`${lp}.physicalLocation: artifactLocation or address required`);
        const uri = isObj(ph.artifactLocation) ? ph.artifactLocation.uri : undefined;
        if (typeof uri !== 'string' || !uri || /\s/.test(uri)) errs.push(`${lp}.physicalLocation.artifactLocation.uri: a URI reference`);
        if (ph.region !== undefined && (!isObj(ph.region) || !Number.isInteger(ph.region.startLine) || (ph.region.startLine as number) < 1))
          errs.push(`${lp}.physicalLocation.region.startLine: integer ≥ 1`);
        if (l.logicalLocations !== undefined) {
          if (!Array.isArray(l.logicalLocations)) errs.push(`${lp}.logicalLocations: array`);
          else
            l.logicalLocations.forEach((ll: unknown, n) => {
              if (!isObj(ll) || ['name', 'fullyQualifiedName', 'kind'].some((f) => ll[f] !== undefined && typeof ll[f] !== 'string'))
                errs.push(`${lp}.logicalLocations[${n}]: strings`);
            });
        }
      });
    });
  });
  return errs;
}

describe('audit: SARIF', () => {
  it('validates against the required parts of SARIF 2.1.0, with rules, levels, locations and fingerprints', async () => {
    const sarif = toSarif(exportedResult, { toolVersion: '0.1.0', sources: exported.sources, cwd: ROOT }) as {
      runs: {
        tool: { driver: { name: string; rules: { id: string; properties: Record<string, unknown> }[] } };
        results: Record<string, any>[];
      }[];
    };
    assert.deepEqual(validateSarif(sarif), []);
    const run = sarif.runs[0]!;
    assert.equal(run.tool.driver.name, 'Palisade');
    assert.deepEqual(
      run.tool.driver.rules.map((r) => r.id),
      CHECKS.map((c) => c.id),
    );
    assert.equal(run.results.length, exportedResult.findings.length);
    // the physical location is the export file, at the group's own GroupId line
    const ssh = run.results.find((r) => r.ruleId === 'sg-ssh-open-to-world')!;
    assert.equal(ssh.level, 'error');
    const loc = ssh.locations[0];
    assert.equal(loc.physicalLocation.artifactLocation.uri, 'test/fixtures/estate/security-groups.json');
    const lines = (await readFile(join(FIXTURES, 'security-groups.json'), 'utf8')).split('\n');
    const groupId = loc.logicalLocations[0].name as string;
    assert.equal(lines[loc.physicalLocation.region.startLine - 1]!.trim(), `"GroupId": "${groupId}",`);
    assert.equal(loc.logicalLocations[0].fullyQualifiedName, `security-group/${groupId}`);
    const role = run.results.find((r) => r.ruleId === 'iam-instance-role-admin')!;
    assert.equal(role.locations[0].physicalLocation.artifactLocation.uri, 'test/fixtures/estate/account-authorization-details.json');
    assert.equal(run.tool.driver.rules.find((r) => r.id === 'sg-all-open-to-world')!.properties['security-severity'], '9.5');
    assert.equal(run.results.find((r) => r.ruleId === 'sg-unused')!.level, 'note');
    // fingerprints: distinct per finding, stable from one run to the next
    const fps = run.results.map((r) => r.partialFingerprints['palisadeFinding/v1']);
    assert.equal(new Set(fps).size, fps.length);
    const again = toSarif(audit(await loadSnapshot(FIXTURES), CONFIG), { sources: exported.sources, cwd: ROOT }) as typeof sarif;
    assert.deepEqual(
      again.runs[0]!.results.map((r) => r.partialFingerprints['palisadeFinding/v1']),
      fps,
    );
  });

  it('live estates have no file: every result still has a location', () => {
    const sarif = toSarif(liveResult) as {
      runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[];
    };
    assert.deepEqual(validateSarif(sarif), []);
    for (const r of sarif.runs[0]!.results) assert.match(r.locations[0]!.physicalLocation.artifactLocation.uri, /^estate\/[a-z-]+\/\S+$/);
  });

  it('the validator catches what GitHub would refuse', () => {
    const bad = {
      version: '2.0.0',
      runs: [
        { tool: { driver: { rules: [{ id: 'a' }, { id: 'a' }] } }, results: [{ ruleId: 'b', level: 'fatal', message: {}, locations: [] }] },
      ],
    };
    const errs = validateSarif(bad);
    for (const want of ['version', '$schema', 'driver.name', 'duplicate a', 'ruleId', 'message', 'locations'])
      assert.ok(
        errs.some((e) => e.includes(want)),
        want,
      );
  });
});

// ---- import ---------------------------------------------------------------------------------

describe('import', () => {
  it('saves one state file that audits the same; sources point at the exports, or at the state file once they are gone', async () => {
    const dir = join(tmp, 'exports');
    await cp(FIXTURES, dir, { recursive: true });
    const state = join(tmp, 'state.json');
    await saveSnapshot(await importExports(dir), state);
    const fromState = await loadSnapshot(state);
    const r = audit(fromState, CONFIG);
    assert.deepEqual(keysOf(fromState, r.findings), expected(true));
    const bastion = exported.securityGroups.find((g) => g.GroupName === 'bastion')!.GroupId!;
    assert.equal(fromState.sources![bastion]!.file, join(dir, 'security-groups.json'));
    await rm(dir, { recursive: true });
    const moved = await loadSnapshot(state);
    assert.equal(moved.sources![bastion]!.file, state);
    const lines = (await readFile(state, 'utf8')).split('\n');
    assert.match(lines[moved.sources![bastion]!.line! - 1]!, new RegExp(`"GroupId": "${bastion}"`));
  });

  it('one export file alone; inline Entries; describe-prefix-lists; Instances without Reservations', async () => {
    const one = await loadSnapshot(join(FIXTURES, 'security-groups.json'));
    assert.equal(one.securityGroups.length, exported.securityGroups.length);
    const r = audit(one);
    assert.ok(!r.findings.some((f) => f.checkId === 'sg-unused'), 'no interfaces exported: nothing can be called unused');
    assert.match(r.summary.notes.join(' '), /sg-unused and instance checks skipped/);
    const dir = join(tmp, 'shapes');
    await mkdir(dir);
    await writeFile(
      join(dir, 'managed-prefix-lists.json'),
      JSON.stringify({ PrefixLists: [{ PrefixListId: 'pl-0123456789abcdef0', MaxEntries: 3, Entries: [{ Cidr: '10.1.0.0/16' }] }] }),
    );
    await writeFile(
      join(dir, 'aws-lists.json'),
      JSON.stringify({
        PrefixLists: [{ PrefixListId: 'pl-63a5400a', PrefixListName: 'com.amazonaws.us-east-1.s3', Cidrs: ['52.216.0.0/15'] }],
      }),
    );
    await writeFile(
      join(dir, 'run.json'),
      JSON.stringify({ Instances: [{ InstanceId: 'i-0123456789abcdef0', MetadataOptions: { HttpTokens: 'optional' } }] }),
    );
    const s = await loadSnapshot(dir);
    assert.deepEqual(s.prefixLists.map((p) => [p.PrefixListId, p.Entries?.map((e) => e.Cidr)]).sort(), [
      ['pl-0123456789abcdef0', ['10.1.0.0/16']],
      ['pl-63a5400a', ['52.216.0.0/15']],
    ]);
    assert.equal(s.instances.length, 1);
    assert.deepEqual(s.exported, ['instances', 'prefixLists']);
  });

  it('bad or partial exports: every problem named with its file and field, and nothing loaded', async () => {
    const dir = join(tmp, 'bad');
    await cp(FIXTURES, dir, { recursive: true });
    const sg = JSON.parse(await readFile(join(dir, 'security-groups.json'), 'utf8'));
    delete sg.SecurityGroups[3].GroupId;
    sg.SecurityGroups[2].IpPermissions[0].IpRanges[0].CidrIp = '10.0.0.0/33';
    sg.SecurityGroups[5].IpPermissions[0].FromPort = '22';
    await writeFile(join(dir, 'security-groups.json'), JSON.stringify(sg, null, 4));
    await writeFile(join(dir, 'instances.json'), '{\n    "Reservations": [\n        {,\n    ]\n}\n');
    await writeFile(join(dir, 'vpcs.json'), JSON.stringify({ Reservations: [] }));
    await writeFile(join(dir, 'notes.json'), JSON.stringify({ owner: 'ops' }));
    await writeFile(join(dir, 'entries.json'), JSON.stringify({ Entries: [{ Cidr: '10.0.0.0/8' }] }));
    const ni = JSON.parse(await readFile(join(dir, 'network-interfaces.json'), 'utf8'));
    ni.NetworkInterfaces[1].Groups[0].GroupId = 42;
    await writeFile(join(dir, 'network-interfaces.json'), JSON.stringify(ni));
    const iam = JSON.parse(await readFile(join(dir, 'account-authorization-details.json'), 'utf8'));
    iam.RoleDetailList[1].RolePolicyList[0].PolicyDocument = 'not a policy';
    await writeFile(join(dir, 'account-authorization-details.json'), JSON.stringify(iam));
    await writeFile(join(dir, 'subnets-2.json'), await readFile(join(FIXTURES, 'subnets.json')));
    await assert.rejects(loadSnapshot(dir), (e: Error) => {
      assert.ok(e instanceof ImportError);
      const want = [
        'security-groups.json: SecurityGroups[3].GroupId: missing',
        'security-groups.json: SecurityGroups[2].IpPermissions[0].IpRanges[0].CidrIp: "10.0.0.0/33" is not an IPv4 CIDR block',
        'security-groups.json: SecurityGroups[5].IpPermissions[0].FromPort: must be an integer, got string "22"',
        'instances.json: not valid JSON at line 3, column',
        'vpcs.json: Vpcs: missing (expected the output of aws ec2 describe-vpcs; this looks like aws ec2 describe-instances)',
        'notes.json: not an export Palisade recognises (top-level keys: owner;',
        'entries.json: Entries: cannot tell which prefix list these entries belong to',
        'network-interfaces.json: NetworkInterfaces[1].Groups[0].GroupId: must be a string, got number 42',
        'account-authorization-details.json: RoleDetailList[1].RolePolicyList[0].PolicyDocument: is not a policy document',
        'subnets.json: Subnets[0].SubnetId: subnet-',
      ];
      for (const w of want) assert.ok(e.message.includes(w), `missing: ${w}\n---\n${e.message}`);
      return true;
    });
  });

  it('security-group-rules that name a group missing from the security-groups export', async () => {
    const dir = join(tmp, 'orphans');
    await mkdir(dir);
    await cp(join(FIXTURES, 'security-group-rules.json'), join(dir, 'security-group-rules.json'));
    const sg = JSON.parse(await readFile(join(FIXTURES, 'security-groups.json'), 'utf8'));
    sg.SecurityGroups = sg.SecurityGroups.filter((g: { GroupName: string }) => g.GroupName !== 'db');
    await writeFile(join(dir, 'security-groups.json'), JSON.stringify(sg));
    await assert.rejects(
      loadSnapshot(dir),
      /security-group-rules\.json: SecurityGroupRules\[\d+\]\.GroupId: sg-\w+ is not in the security-groups export/,
    );
  });

  it('a state file is checked like the exports', async () => {
    const state = join(tmp, 'broken-state.json');
    const s = JSON.parse(JSON.stringify(exported));
    delete s.securityGroups[0].GroupId;
    await writeFile(state, JSON.stringify({ $palisade: 'palisade-snapshot', version: 1, ...s }));
    await assert.rejects(loadSnapshot(state), /broken-state\.json: securityGroups\[0\]\.GroupId: missing/);
    await assert.rejects(loadSnapshot(join(tmp, 'nowhere')), /nowhere: no such file or folder/);
  });
});

describe('progress bar', () => {
  it('draws on a terminal only, and only once the work has taken a second', () => {
    const fake = (isTTY: boolean) => ({
      isTTY,
      columns: 100,
      out: '',
      write(s: string) {
        this.out += s;
        return true;
      },
    });
    const realNow = Date.now;
    let now = 1_000_000;
    Date.now = () => now;
    try {
      for (const tty of [false, true]) {
        const stream = fake(tty);
        const p = new Progress('importing', stream as unknown as NodeJS.WriteStream);
        p.update(1, 10, 'early');
        assert.equal(stream.out, '', 'nothing within the first second');
        now += 1500;
        p.update(5, 10, 'security-groups.json');
        p.end();
        if (tty) {
          assert.match(stream.out, /importing \[#{15}\.{15}\] {2}50% security-groups\.json/);
          assert.match(stream.out, /\r {99}\r$/, 'cleared at the end');
        } else assert.equal(stream.out, '');
      }
    } finally {
      Date.now = realNow;
    }
  });
});

// ---- the command line ---------------------------------------------------------------------

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src', 'main.ts'), ...args],
      { cwd: ROOT, env: { ...process.env, NODE_NO_WARNINGS: '1' }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('palisade audit / import (command line)', () => {
  it('--fail-on: exit 2 at or above the severity, 0 below it; JSON output', async () => {
    const cfg = join(tmp, 'no-critical.json');
    await writeFile(
      cfg,
      JSON.stringify({ disable: ['sg-all-open-to-world', 'instance-exposed-sensitive-port', 'iam-instance-role-admin'] }),
    );
    const [crit, below, high] = await Promise.all([
      cli(['audit', '--state', FIXTURES, '--format', 'json', '--fail-on', 'critical']),
      cli(['audit', '--state', FIXTURES, '--format', 'json', '--fail-on', 'critical', '--config', cfg]),
      cli(['audit', '--state', FIXTURES, '--fail-on', 'high', '--config', cfg]),
    ]);
    assert.equal(crit.code, 1, crit.stderr);
    const json = JSON.parse(crit.stdout) as {
      findings: Finding[];
      summary: { total: number; failed: boolean; bySeverity: Record<string, number> };
    };
    assert.equal(json.findings.length, audit(exported).findings.length, 'the default configuration on the command line');
    assert.equal(json.summary.failed, true);
    assert.deepEqual(
      Object.keys(json.findings[0]!).sort(),
      ['checkId', 'controls', 'detail', 'fix', 'resourceId', 'resourceName', 'resourceType', 'ruleIds', 'severity', 'title'].sort(),
    );
    assert.equal(below.code, 0, below.stderr);
    assert.equal(JSON.parse(below.stdout).summary.bySeverity.critical, 0);
    assert.equal(high.code, 1);
    assert.match(high.stdout, /^HIGH +sg-ssh-open-to-world +sg-\w+ \(bastion\)$/m);
    assert.match(high.stdout, /FAIL: findings at or above high/);
  });

  it('usage and input errors exit 2 and say what is wrong', async () => {
    const bad = join(tmp, 'cli-bad');
    await mkdir(bad);
    await writeFile(join(bad, 'security-groups.json'), JSON.stringify({ SecurityGroups: [{ GroupName: 'x' }] }));
    const [sev, both, missing, input] = await Promise.all([
      cli(['audit', '--state', FIXTURES, '--fail-on', 'severe']),
      cli(['audit', '--state', FIXTURES, '--endpoint', 'http://127.0.0.1:1']),
      cli(['audit', '--state', join(tmp, 'missing-dir')]),
      cli(['audit', '--state', bad]),
    ]);
    assert.equal(sev.code, 2);
    assert.match(sev.stderr, /invalid --fail-on 'severe': Allowed choices are critical, high, medium, low, informational/);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--endpoint or --state, not both/);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing-dir: no such file or folder/);
    assert.equal(input.code, 2);
    assert.match(input.stderr, /security-groups\.json: SecurityGroups\[0\]\.GroupId: missing/);
  });

  it('live: --endpoint audits a running server through its API; SARIF to a file', async () => {
    const out = join(tmp, 'live.sarif');
    const r = await cli(['audit', '--endpoint', server.url, '--format', 'sarif', '--output', out, '--fail-on', 'high']);
    assert.equal(r.code, 1, r.stderr);
    const sarif = JSON.parse(await readFile(out, 'utf8'));
    assert.deepEqual(validateSarif(sarif), []);
    assert.equal(sarif.runs[0].results.length, audit(live).findings.length, 'the default configuration on the command line');
    const down = await cli(['audit', '--endpoint', 'http://127.0.0.1:9', '--fail-on', 'low']);
    assert.equal(down.code, 3);
    assert.match(down.stderr, /cannot reach the Palisade server at http:\/\/127\.0\.0\.1:9: is the server running\?/);
  });

  it('palisade import writes the state file, and refuses bad exports without writing anything', async () => {
    const state = join(tmp, 'cli-state.json');
    const ok = await cli(['import', FIXTURES, '--out', state]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(
      ok.stdout,
      /Imported 15 security groups \(\d+ rules\), 4 network interfaces, 4 instances, 2 VPCs, 8 subnets, 6 prefix lists, 4 IAM roles/,
    );
    const table = await cli(['audit', '--state', state]);
    assert.equal(table.code, 0);
    assert.match(table.stdout, /^CRITICAL +sg-all-open-to-world/m);
    const badDir = join(tmp, 'cli-bad-import');
    await mkdir(badDir);
    await writeFile(join(badDir, 'instances.json'), JSON.stringify({ Reservations: [{ Instances: [{ InstanceId: 'x-1' }] }] }));
    const badOut = join(tmp, 'never.json');
    const bad = await cli(['import', badDir, '--out', badOut]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /instances\.json: Reservations\[0\]\.Instances\[0\]\.InstanceId: "x-1" is not an id of the form i-…/);
    assert.ok(!existsSync(badOut));
    assert.deepEqual(
      (await readdir(tmp)).filter((f) => f.startsWith('never')),
      [],
    );
  });
});
