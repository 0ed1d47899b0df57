// The audit follows the whole network path (issue #14): an instance is "exposed" only where a
// packet from the internet has a route through an attached internet gateway and the subnet's
// network ACL admits it and lets its reply out; the rule-level findings stay. The network checks
// (ACLs open to the internet or dropping replies, private subnets routed to an internet gateway,
// peering routes wider than the peer) — each positive and negative — over an estate built with
// the SDK against a live server, audited live and offline from describe-* exports of it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssociateRouteTableCommand, ReplaceNetworkAclEntryCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { CREDS, ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import { audit, type AuditResult } from '../src/analysis/audit.ts';
import { fetchLiveSnapshot } from '../src/analysis/fetch-live.ts';
import { loadSnapshot } from '../src/analysis/import.ts';
import type { AuditSnapshot } from '../src/analysis/findings/estate.ts';
import type { Finding } from '../src/analysis/findings/types.ts';
import { aclRule, EstateBuilder, type AclEntry } from './helpers/estate.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

let server: Palisade;
let client: EC2Client;
let estate: EstateBuilder;
let tmp: string;

/** What the tests call the resources (each is also tagged with that Name), to their ids. */
const ids: Record<string, string> = {};

/** The describe-* files the aws CLI would print for this snapshot (what `palisade import` reads). */
async function writeExports(s: AuditSnapshot, dir: string): Promise<void> {
  await mkdir(join(dir, 'prefix-list-entries'), { recursive: true });
  const w = (file: string, v: unknown) => writeFile(join(dir, file), JSON.stringify(v, null, 2));
  await Promise.all([
    w('security-groups.json', { SecurityGroups: s.securityGroups }),
    w('security-group-rules.json', { SecurityGroupRules: s.securityGroupRules }),
    w('network-interfaces.json', { NetworkInterfaces: s.networkInterfaces }),
    w('instances.json', {
      Reservations: s.instances.map((i, k) => ({ ReservationId: `r-${String(k).padStart(17, '0')}`, Instances: [i] })),
    }),
    w('vpcs.json', { Vpcs: s.vpcs }),
    w('subnets.json', { Subnets: s.subnets }),
    w('managed-prefix-lists.json', { PrefixLists: s.prefixLists.map(({ Entries: _e, ...p }) => p) }),
    ...s.prefixLists.map((p) => w(`prefix-list-entries/${p.PrefixListId}.json`, { Entries: p.Entries ?? [] })),
    w('route-tables.json', { RouteTables: s.routeTables }),
    w('network-acls.json', { NetworkAcls: s.networkAcls }),
    w('internet-gateways.json', { InternetGateways: s.internetGateways }),
    w('nat-gateways.json', { NatGateways: s.natGateways }),
    w('vpc-peering-connections.json', { VpcPeeringConnections: s.vpcPeeringConnections }),
  ]);
}

let stage = 0;
/** The audit of the live estate, after checking that its exports, loaded offline, give the same findings. */
async function auditBoth(): Promise<{ result: AuditResult; dir: string }> {
  const live = await fetchLiveSnapshot(server.url, { credentials: CREDS });
  assert.ok(live.routeTables?.length && live.networkAcls?.length && live.internetGateways?.length, 'the live fetch has the routing');
  const result = audit(live);
  const dir = join(tmp, `stage-${++stage}`);
  await writeExports(live, dir);
  const offline = audit(await loadSnapshot(dir));
  const keys = (r: AuditResult) => r.findings.map((f) => `${f.checkId} ${f.resourceId} ${f.title}`).sort();
  assert.deepEqual(keys(offline), keys(result), 'the exports give the same findings as the live estate');
  return { result, dir };
}

const find = (r: AuditResult, check: string, resource: string): Finding | undefined =>
  r.findings.find((f) => f.checkId === check && f.resourceId === ids[resource]);

/** Adds the entry to the ACL, or replaces the one with its rule number and direction. */
async function aclEntry(acl: string, entry: AclEntry) {
  await estate.aclEntry(ids[acl]!, entry).catch(async (e: Error) => {
    if (e.name !== 'NetworkAclEntryAlreadyExists') throw e;
    await client.send(new ReplaceNetworkAclEntryCommand({ ...entry, NetworkAclId: ids[acl] }));
  });
}

async function newAcl(key: string, subnet: string) {
  ids[key] = await estate.customAcl(ids.vpc!, ids[subnet]!, [], { name: key });
}

async function run(key: string, subnet: string, group: string, publicIp: boolean) {
  ids[key] = (await estate.launch(ids[subnet]!, ids[group]!, { publicIp, name: key })).id;
}

before(async () => {
  server = await start();
  client = ec2(server.url);
  estate = new EstateBuilder(client);
  tmp = await mkdtemp(join(tmpdir(), 'palisade-audit-paths-'));
  // VPC paths 10.20.0.0/16: paths-public (jump: SSH from anywhere, a public IP), paths-private (worker: 8080 from the VPC).
  ids.vpc = await estate.vpc('10.20.0.0/16', { name: 'paths' });
  const subnet = async (key: string, cidr: string) => {
    ids[key] = await estate.subnet(ids.vpc!, cidr, { name: key });
  };
  await subnet('paths-public', '10.20.1.0/24');
  await subnet('paths-private', '10.20.2.0/24');
  await subnet('paths-egress', '10.20.3.0/24');
  ids.igw = await estate.internetGateway(ids.vpc);
  ids['paths-public-rt'] = await estate.routeTable(ids.vpc, [ids['paths-public']!], { name: 'paths-public-rt' });
  const group = async (key: string, port: number, cidr: string) => {
    ids[key] = await estate.group(ids.vpc!, key, [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{ CidrIp: cidr }] }]);
  };
  await group('ssh-world', 22, '0.0.0.0/0');
  await group('app', 8080, '10.20.0.0/16');
  await run('jump', 'paths-public', 'ssh-world', true);
  await run('worker', 'paths-private', 'app', false);
  // paths-private's ACL lets the VPC in, but only tcp 443 out: the worker's replies to the public subnet are dropped.
  await newAcl('acl-priv', 'paths-private');
  await aclEntry('acl-priv', aclRule(100, 'ingress', 'allow', '10.20.0.0/16'));
  await aclEntry('acl-priv', aclRule(100, 'egress', 'allow', '0.0.0.0/0', { ports: [443, 443] }));
});
after(async () => {
  client?.destroy();
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('audit: exposure follows the network path', () => {
  it('a public IP and SSH open to 0.0.0.0/0, but no route to the internet gateway: the rule is reported, the instance is not exposed', async () => {
    const { result } = await auditBoth();
    assert.ok(find(result, 'sg-ssh-open-to-world', 'ssh-world'), 'the rule-level finding stays');
    assert.equal(find(result, 'instance-exposed-sensitive-port', 'jump'), undefined);
    // acl-priv: the VPC gets in, the replies do not get out.
    const replies = find(result, 'nacl-blocks-replies', 'acl-priv');
    assert.ok(replies, 'replies of jump → worker:8080 are dropped by acl-priv');
    assert.deepEqual(replies.ruleIds, [`${ids['acl-priv']}/egress/32767`]);
    assert.match(
      replies.detail,
      /\(jump\) at 10\.20\.1\.\d+ → i-\w+ \(worker\) at 10\.20\.2\.\d+ tcp\/8080 is let through, but its reply \(tcp to port 49152\) is denied outbound .* by rule 32767/,
    );
    assert.equal(find(result, 'nacl-open-sensitive-port', 'acl-priv'), undefined, 'acl-priv admits only the VPC');
    assert.equal(find(result, 'private-subnet-internet-route', 'paths-private'), undefined, 'the main table has no internet route');
  });

  it('with 0.0.0.0/0 → igw in the subnet’s route table the instance is exposed, and the finding names the path', async () => {
    await estate.route(ids['paths-public-rt']!, '0.0.0.0/0', { GatewayId: ids.igw });
    const { result } = await auditBoth();
    const f = find(result, 'instance-exposed-sensitive-port', 'jump');
    assert.ok(f, 'jump is exposed');
    assert.match(f.detail, new RegExp(`internet gateway ${ids.igw}`));
    assert.match(f.detail, new RegExp(`route table ${ids['paths-public-rt']} \\(paths-public-rt\\) routes 0\\.0\\.0\\.0/0`));
    assert.match(f.detail, /network ACL acl-\w+ rule 100 admits it and rule 100 lets the reply out/);
    // The public subnet's default ACL allows everything: SSH and RDP from the internet.
    const defaultAcl = result.findings.find(
      (x) => x.checkId === 'nacl-open-sensitive-port' && x.detail.includes(`${ids['paths-public']} (paths-public)`),
    );
    assert.ok(defaultAcl, 'the default ACL of paths is open');
    assert.match(defaultAcl.detail, /the default ACL of .* rule 100 \(allow all traffic from 0\.0\.0\.0\/0\)/);
    assert.deepEqual(defaultAcl.controls, ['EC2.21', 'CIS 5.1']);
  });

  it('an ACL that denies tcp 22 from the internet: not exposed; the ACL still opens RDP', async () => {
    await newAcl('acl-pub', 'paths-public');
    await aclEntry('acl-pub', aclRule(90, 'ingress', 'deny', '0.0.0.0/0', { ports: [22, 22] }));
    await aclEntry('acl-pub', aclRule(100, 'ingress', 'allow', '0.0.0.0/0'));
    await aclEntry('acl-pub', aclRule(100, 'egress', 'allow', '0.0.0.0/0'));
    const { result } = await auditBoth();
    assert.equal(find(result, 'instance-exposed-sensitive-port', 'jump'), undefined);
    assert.ok(find(result, 'sg-ssh-open-to-world', 'ssh-world'));
    const open = find(result, 'nacl-open-sensitive-port', 'acl-pub');
    assert.ok(open);
    assert.match(open.title, /admits the internet to RDP$/);
    assert.doesNotMatch(open.detail, /tcp 22 \(SSH\)/);
    assert.deepEqual(open.ruleIds, [`${ids['acl-pub']}/ingress/100`]);
    assert.ok(find(result, 'nacl-blocks-replies', 'acl-priv'), 'jump → worker still gets in, its replies still do not get out');
  });

  it('an ACL that admits SSH but lets only tcp 443 out: the reply is dropped, so not exposed; the ACL is reported twice', async () => {
    await aclEntry('acl-pub', aclRule(90, 'ingress', 'allow', '0.0.0.0/0', { ports: [22, 22] }));
    await aclEntry('acl-pub', aclRule(100, 'egress', 'allow', '0.0.0.0/0', { ports: [443, 443] }));
    const { result } = await auditBoth();
    assert.equal(find(result, 'instance-exposed-sensitive-port', 'jump'), undefined, 'the SSH reply never leaves the subnet');
    const open = find(result, 'nacl-open-sensitive-port', 'acl-pub');
    assert.ok(open);
    assert.match(open.title, /SSH and RDP/);
    assert.ok(open.ruleIds.includes(`${ids['acl-pub']}/ingress/90`));
    const replies = find(result, 'nacl-blocks-replies', 'acl-pub');
    assert.ok(replies);
    assert.match(
      replies.detail,
      /198\.51\.100\.1 → i-\w+ \(jump\) at [\d.]+ tcp\/22 is let through, but its reply .* denied outbound .* by rule 32767/,
    );
  });

  it('fixed: SSH from the office only, ephemeral ports for the replies; an egress-only subnet whose ACL drops the replies of its own connections; routes', async () => {
    await aclEntry('acl-pub', aclRule(90, 'ingress', 'allow', '203.0.113.0/24', { ports: [22, 22] }));
    await aclEntry('acl-pub', aclRule(100, 'ingress', 'allow', '0.0.0.0/0', { ports: [1024, 65535] }));
    await aclEntry('acl-pub', aclRule(100, 'egress', 'allow', '0.0.0.0/0', { ports: [1024, 65535] }));
    // paths-egress: routed to the internet gateway; fetcher has a public IP and connects out; its ACL admits only tcp 443 in.
    await client.send(new AssociateRouteTableCommand({ RouteTableId: ids['paths-public-rt'], SubnetId: ids['paths-egress'] }));
    await run('fetcher', 'paths-egress', 'app', true);
    await newAcl('acl-egress', 'paths-egress');
    await aclEntry('acl-egress', aclRule(100, 'ingress', 'allow', '0.0.0.0/0', { ports: [443, 443] }));
    await aclEntry('acl-egress', aclRule(100, 'egress', 'allow', '0.0.0.0/0'));
    // paths-private gets a route table of its own with a route to the internet gateway (by mistake), and a peer.
    ids['paths-private-rt'] = await estate.routeTable(ids.vpc!, [ids['paths-private']!], { name: 'paths-private-rt' });
    await estate.route(ids['paths-private-rt'], '0.0.0.0/0', { GatewayId: ids.igw });
    const peer = await estate.vpc('10.21.0.0/16', { name: 'peer' });
    ids.pcx = await estate.peering(ids.vpc!, peer);
    await estate.route(ids['paths-private-rt'], '10.21.0.0/16', { VpcPeeringConnectionId: ids.pcx });
    await estate.route(ids['paths-public-rt']!, '10.0.0.0/8', { VpcPeeringConnectionId: ids.pcx });

    const { result, dir } = await auditBoth();
    assert.equal(find(result, 'instance-exposed-sensitive-port', 'jump'), undefined);
    assert.equal(find(result, 'nacl-open-sensitive-port', 'acl-pub'), undefined, 'the 1024-65535 allow is for replies');
    assert.equal(find(result, 'nacl-blocks-replies', 'acl-pub'), undefined);
    assert.equal(find(result, 'nacl-open-sensitive-port', 'acl-egress'), undefined, 'tcp 443 is not a sensitive port');
    const egress = find(result, 'nacl-blocks-replies', 'acl-egress');
    assert.ok(egress, 'fetcher connects out on tcp 443, the reply is dropped coming back in');
    assert.deepEqual(egress.ruleIds, [`${ids['acl-egress']}/ingress/32767`]);
    assert.match(egress.detail, /\(fetcher\) at 10\.20\.3\.\d+ → 198\.51\.100\.1 tcp\/443 is let through, but its reply .* denied inbound/);

    const priv = find(result, 'private-subnet-internet-route', 'paths-private');
    assert.ok(priv);
    assert.match(
      priv.detail,
      new RegExp(`named "paths-private".*${ids['paths-private-rt']} \\(paths-private-rt\\) sends 0\\.0\\.0\\.0/0 to ${ids.igw}`),
    );
    assert.equal(find(result, 'private-subnet-internet-route', 'paths-public'), undefined);
    assert.equal(find(result, 'private-subnet-internet-route', 'paths-egress'), undefined);

    const wide = find(result, 'peering-route-too-wide', 'paths-public-rt');
    assert.ok(wide);
    assert.match(wide.detail, new RegExp(`10\\.0\\.0\\.0/8 → ${ids.pcx} \\(the peer ${peer} \\(peer\\) holds 10\\.21\\.0\\.0/16\\)`));
    assert.equal(find(result, 'peering-route-too-wide', 'paths-private-rt'), undefined, '10.21.0.0/16 is exactly the peer');

    // The CLI over the exports folder: the same findings.
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'src', 'main.ts'), 'audit', '--state', dir, '--format', 'json'],
        { cwd: ROOT, maxBuffer: 1 << 24 },
        (err, stdout) => (err && err.code !== 2 ? reject(err) : resolve(stdout)),
      ),
    );
    const cli = (JSON.parse(out) as { findings: Finding[] }).findings.map((f) => `${f.checkId} ${f.resourceId}`).sort();
    assert.deepEqual(cli, result.findings.map((f) => `${f.checkId} ${f.resourceId}`).sort());
  });
});
