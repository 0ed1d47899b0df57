// `reach` follows the whole network path, as probe and evaluate do: routes and the internet
// gateway, the stateless network ACLs (replies included) and peering with routes on both sides —
// live (/_palisade/network/reach) and offline (`palisade reach --state` over describe-* exports).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeEgressOnlyInternetGatewaysCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeManagedPrefixListsCommand,
  DescribeNatGatewaysCommand,
  DescribeNetworkAclsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcPeeringConnectionsCommand,
  DescribeVpcsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { ec2, start } from './helpers/server.ts';
import { timed } from './helpers/run.ts';
import type { Palisade } from '../src/server.ts';
import { inCidr } from './helpers/reference-engine.ts';
import { aclRule, EstateBuilder, evaluate as evaluateAt, reach as reachAt, type Json, type Launched } from './helpers/estate.ts';

const run = timed(promisify(execFile));
const cli = (...args: string[]): Promise<{ code?: number; stdout: string }> =>
  run(process.execPath, ['--import', 'tsx', 'src/main.ts', 'reach', ...args]).catch((e) => e as { code: number; stdout: string });

let server: Palisade;
let client: EC2Client;
let estate: EstateBuilder;

const evaluate = (flow: Json) => evaluateAt(server.url, flow);
const reach = (q: Json) => reachAt(server.url, q);
const internetCidrs = (a: Json): string[] => a.sources.find((s: Json) => s.kind === 'internet')?.cidrs ?? [];
const covers = (cidrs: string[], ip: string) => cidrs.some((c) => inCidr(c, ip));
const listed = (a: Json) => a.sources.filter((s: Json) => s.kind === 'interface').map((s: Json) => s.instanceId as string);

/** A group admitting tcp/22 from anywhere (egress: the default all-traffic rule). */
const sshGroup = (vpcId: string, name: string) =>
  estate.group(vpcId, name, [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }]);

// The estates, kept for the offline comparison at the end.
const cases: { to: string; from?: string; port: number }[] = [];

before(async () => {
  server = await start();
  client = ec2(server.url);
  estate = new EstateBuilder(client);
});
after(() => server.close());

describe('the internet reaches a public IP only through the route back to an internet gateway', () => {
  let v: string;
  let s: string;
  let web: Launched;
  let igw: string;
  before(async () => {
    v = await estate.vpc('10.41.0.0/16');
    s = await estate.subnet(v, '10.41.1.0/24');
    web = await estate.launch(s, await sshGroup(v, 'ssh-41'), { publicIp: true });
    igw = await estate.internetGateway(v);
    assert.ok(web.publicIp);
  });

  it('no internet route: reach, whoCanReach and evaluate all say no, and the fix is the route', async () => {
    const ev = await evaluate({ from: 'internet:198.51.100.9', to: web.id, protocol: 'tcp', port: 22 });
    assert.equal(ev.verdict, 'REJECT');
    assert.equal(ev.decidedBy, 'route');
    const r = await reach({ from: 'internet:198.51.100.9', to: web.id, port: 22, protocol: 'tcp' });
    assert.equal(r.reachable, false);
    assert.equal(r.verdict.decidedBy, 'route');
    assert.equal(
      r.suggestion,
      `aws ec2 create-route --route-table-id ${await estate.mainRouteTable(v)} --destination-cidr-block 0.0.0.0/0 --gateway-id ${igw}`,
    );
    const who = await reach({ to: web.id, port: 22, protocol: 'tcp' });
    assert.deepEqual(internetCidrs(who), [], 'nothing from the internet');
    assert.ok(
      who.notes.some((n: string) => /no route to the internet/.test(n)),
      who.notes.join('\n'),
    );
  });

  it('with the route: reachable, the hops name the gateway, and the internet set leaves out the VPC itself', async () => {
    await estate.route(await estate.mainRouteTable(v), '0.0.0.0/0', { GatewayId: igw });
    const ev = await evaluate({ from: 'internet:198.51.100.9', to: web.id, protocol: 'tcp', port: 22 });
    assert.equal(ev.verdict, 'ACCEPT', JSON.stringify(ev));
    const r = await reach({ from: 'internet:198.51.100.9', to: web.id, port: 22, protocol: 'tcp' });
    assert.equal(r.reachable, true, JSON.stringify(r));
    assert.ok(r.verdict.route.hops.some((h: Json) => h.route?.target?.id === igw));
    // Without a port: the open ports, ACLs and groups together.
    const ports = await reach({ from: 'internet:198.51.100.9', to: web.id, protocol: 'tcp' });
    assert.deepEqual(ports.openPorts, [[22, 22]]);
    const who = await reach({ to: web.id, port: 22, protocol: 'tcp' });
    const cidrs = internetCidrs(who);
    for (const ip of ['198.51.100.9', '203.0.113.5', '10.41.1.7', '10.42.0.1']) {
      const e = await evaluate({ from: `internet:${ip}`, to: web.id, protocol: 'tcp', port: 22 });
      assert.equal(covers(cidrs, ip), e.verdict === 'ACCEPT', `${ip}: ${cidrs.join(', ')} vs ${JSON.stringify(e)}`);
    }
    assert.ok(!covers(cidrs, '10.41.1.7'), 'the VPC range routes locally, not through the gateway');
    cases.push({ to: web.id, port: 22 }, { from: 'internet:198.51.100.9', to: web.id, port: 22 });
  });

  it('an ACL deny narrows who reaches it from the internet, exactly', async () => {
    const acl = await estate.customAcl(v, s, [
      aclRule(100, 'ingress', 'deny', '198.51.100.0/24'),
      aclRule(110, 'ingress', 'allow', '0.0.0.0/0', { ports: [22, 22] }),
      aclRule(100, 'egress', 'allow', '0.0.0.0/0', { ports: [1024, 65535] }),
    ]);
    const who = await reach({ to: web.id, port: 22, protocol: 'tcp' });
    const cidrs = internetCidrs(who);
    for (const ip of ['198.51.100.0', '198.51.100.7', '198.51.100.255', '198.51.99.255', '198.51.101.0', '203.0.113.5', '10.41.1.7']) {
      const e = await evaluate({ from: `internet:${ip}`, to: web.id, protocol: 'tcp', port: 22 });
      assert.equal(covers(cidrs, ip), e.verdict === 'ACCEPT', `${ip}: ${JSON.stringify(e)}`);
    }
    assert.ok(!covers(cidrs, '198.51.100.7') && covers(cidrs, '198.51.101.0') && covers(cidrs, '198.51.99.255'));
    assert.ok(who.notes.some((n: string) => n.includes(acl)));
    const r = await reach({ from: 'internet:198.51.100.7', to: web.id, port: 22, protocol: 'tcp' });
    assert.equal(r.reachable, false);
    assert.equal(r.verdict.decidedBy, 'acl');
    assert.equal(r.verdict.acl.aclId, acl);
    assert.equal(r.verdict.acl.ruleNumber, 100);
    assert.match(r.suggestion, new RegExp(`create-network-acl-entry --network-acl-id ${acl} --rule-number 90 --protocol 6`));
    assert.match(r.suggestion, /--port-range From=22,To=22 --cidr-block 198\.51\.100\.7\/32 --rule-action allow --ingress/);
    // Port 80 is closed by the ACL as well as the group: only 22 is open.
    const ports = await reach({ from: 'internet:203.0.113.5', to: web.id, protocol: 'tcp' });
    assert.deepEqual(ports.openPorts, [[22, 22]]);
    cases.push({ to: web.id, port: 22 }, { from: 'internet:198.51.100.7', to: web.id, port: 22 });
    cases.push({ from: 'internet:203.0.113.5', to: web.id, port: 22 });
  });
});

describe('network ACLs are stateless: the reply needs its rule', () => {
  it('without the ephemeral-port outbound entry nothing from the internet gets an answer; the fix names the ephemeral ports', async () => {
    const v = await estate.vpc('10.43.0.0/16');
    const s = await estate.subnet(v, '10.43.1.0/24');
    const web = await estate.launch(s, await sshGroup(v, 'ssh-43'), { publicIp: true });
    await estate.internetGateway(v, { route: true });
    const acl = await estate.customAcl(v, s, [aclRule(100, 'ingress', 'allow', '0.0.0.0/0', { ports: [22, 22] })]);
    const ev = await evaluate({ from: 'internet:203.0.113.5', to: web.id, protocol: 'tcp', port: 22 });
    assert.equal(ev.verdict, 'REJECT');
    assert.equal(ev.decidedBy, 'acl');
    const r = await reach({ from: 'internet:203.0.113.5', to: web.id, port: 22, protocol: 'tcp' });
    assert.equal(r.reachable, false);
    assert.equal(r.verdict.decidedBy, 'acl');
    assert.equal(r.verdict.acl.reply, true);
    assert.equal(r.verdict.acl.direction, 'outbound');
    assert.match(r.suggestion, /--port-range From=1024,To=65535 .*--rule-action allow --egress/);
    assert.match(r.suggestion, /ephemeral ports/);
    const who = await reach({ to: web.id, port: 22, protocol: 'tcp' });
    assert.deepEqual(internetCidrs(who), []);
    cases.push({ to: web.id, port: 22 }, { from: 'internet:203.0.113.5', to: web.id, port: 22 });
    // The entry the suggestion gives opens it.
    await estate.aclEntry(acl, aclRule(100, 'egress', 'allow', '0.0.0.0/0', { ports: [1024, 65535] }));
    assert.equal((await reach({ from: 'internet:203.0.113.5', to: web.id, port: 22, protocol: 'tcp' })).reachable, true);
    assert.ok(covers(internetCidrs(await reach({ to: web.id, port: 22, protocol: 'tcp' })), '203.0.113.5'));
  });
});

describe('IPv6 from the internet', () => {
  it('reaches the IPv6 address of an instance only with a ::/0 route to the internet gateway', async () => {
    const v = await estate.vpc('10.46.0.0/16', { ipv6: true });
    const block = await estate.ipv6Block(v);
    const s = await estate.subnet(v, '10.46.1.0/24', { ipv6Cidr: block.replace('::/56', '::/64') });
    const v6ssh = [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, Ipv6Ranges: [{ CidrIpv6: '::/0' }] }];
    const g = await estate.group(v, 'ssh-46', v6ssh, { description: 'v6' });
    const i = (await estate.launch(s, g, { ipv6: true })).id;
    const igw = await estate.internetGateway(v);
    const from = 'internet:2001:db8::1';
    let r = await reach({ from, to: i, port: 22, protocol: 'tcp' });
    assert.equal(r.reachable, false);
    assert.equal(r.verdict.decidedBy, 'route');
    assert.equal(
      r.suggestion,
      `aws ec2 create-route --route-table-id ${await estate.mainRouteTable(v)} --destination-ipv6-cidr-block ::/0 --gateway-id ${igw}`,
    );
    assert.equal((await evaluate({ from, to: i, protocol: 'tcp', port: 22 })).decidedBy, 'route');
    assert.deepEqual(internetCidrs(await reach({ to: i, port: 22, protocol: 'tcp' })), []);
    cases.push({ to: i, port: 22 }, { from, to: i, port: 22 });
    await estate.route(await estate.mainRouteTable(v), '::/0', { GatewayId: igw });
    r = await reach({ from, to: i, port: 22, protocol: 'tcp' });
    assert.equal(r.reachable, true, JSON.stringify(r));
    assert.equal((await evaluate({ from, to: i, protocol: 'tcp', port: 22 })).verdict, 'ACCEPT');
    const cidrs = internetCidrs(await reach({ to: i, port: 22, protocol: 'tcp' }));
    assert.ok(covers(cidrs, '2001:db8::1'));
    assert.ok(!covers(cidrs, block.replace('::/56', '::5')), 'the VPC block routes locally');
  });
});

describe('peering', () => {
  it('a source in the peer VPC is listed only once both sides route through the peering connection', async () => {
    const a = await estate.vpc('10.44.0.0/16');
    const b = await estate.vpc('10.45.0.0/16');
    const target = await estate.launch(await estate.subnet(a, '10.44.1.0/24'), await sshGroup(a, 'ssh-44'));
    const peerSg = await estate.group(b, 'peer-45', [], { description: 'p' });
    const src = await estate.launch(await estate.subnet(b, '10.45.1.0/24'), peerSg);
    const pcx = await estate.peering(a, b);
    const agree = async (reachable: boolean) => {
      const ev = await evaluate({ from: src.id, to: target.id, protocol: 'tcp', port: 22 });
      assert.equal(ev.verdict === 'ACCEPT', reachable, JSON.stringify(ev));
      const r = await reach({ from: src.id, to: target.id, port: 22, protocol: 'tcp' });
      assert.equal(r.reachable, reachable, JSON.stringify(r));
      const who = await reach({ to: target.id, port: 22, protocol: 'tcp' });
      assert.equal(listed(who).includes(src.id), reachable, JSON.stringify(who));
      return { r, who };
    };
    let { r } = await agree(false);
    assert.equal(r.verdict.decidedBy, 'route');
    // One side only: still no path, and the fix is the missing route.
    await estate.route(await estate.mainRouteTable(b), '10.44.0.0/16', { VpcPeeringConnectionId: pcx });
    const oneSide = await agree(false);
    r = oneSide.r;
    const who = oneSide.who;
    assert.match(r.verdict.reason, /return route/);
    assert.equal(
      r.suggestion,
      `aws ec2 create-route --route-table-id ${await estate.mainRouteTable(a)} --destination-cidr-block 10.45.0.0/16 --vpc-peering-connection-id ${pcx}`,
    );
    assert.ok(
      who.notes.some((n: string) => n.includes(src.id) && /no path/.test(n)),
      who.notes.join('\n'),
    );
    cases.push({ to: target.id, port: 22 }, { from: src.id, to: target.id, port: 22 });
    await estate.route(await estate.mainRouteTable(a), '10.45.0.0/16', { VpcPeeringConnectionId: pcx });
    ({ r } = await agree(true));
    assert.ok(r.verdict.route.hops.filter((h: Json) => h.route?.target?.id === pcx).length === 2, 'both routes on the path');
  });
});

describe('palisade reach --state over the exported estate', () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-reach-paths-'));
    // What the aws CLI prints for each describe-* call (the SDK's output without its metadata).
    const exports: [string, { input: unknown }][] = [
      ['security-groups', new DescribeSecurityGroupsCommand({})],
      ['network-interfaces', new DescribeNetworkInterfacesCommand({})],
      ['instances', new DescribeInstancesCommand({})],
      ['vpcs', new DescribeVpcsCommand({})],
      ['subnets', new DescribeSubnetsCommand({})],
      ['managed-prefix-lists', new DescribeManagedPrefixListsCommand({})],
      ['route-tables', new DescribeRouteTablesCommand({})],
      ['network-acls', new DescribeNetworkAclsCommand({})],
      ['internet-gateways', new DescribeInternetGatewaysCommand({})],
      ['egress-only-internet-gateways', new DescribeEgressOnlyInternetGatewaysCommand({})],
      ['nat-gateways', new DescribeNatGatewaysCommand({})],
      ['vpc-peering-connections', new DescribeVpcPeeringConnectionsCommand({})],
    ];
    for (const [name, command] of exports) {
      const { $metadata: _, ...out } = (await client.send(command as never)) as Json;
      writeFileSync(join(dir, `${name}.json`), JSON.stringify(out, null, 4));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the answers the live server gives', async () => {
    assert.ok(cases.length >= 8);
    for (const c of cases) {
      const live = await reach({ ...c, protocol: 'tcp' });
      const args = ['--state', dir, '--to', c.to, '--port', String(c.port), '--json', ...(c.from ? ['--from', c.from] : [])];
      const out = await cli(...args);
      const offline = JSON.parse(out.stdout) as Json;
      const what = `${c.from ?? '*'} → ${c.to}`;
      if (c.from) {
        assert.equal(offline.reachable, live.reachable, what);
        assert.equal(offline.verdict.decidedBy, live.verdict.decidedBy, what);
        assert.equal(offline.suggestion, live.suggestion, what);
        assert.equal(out.code ?? 0, live.reachable ? 0 : 1);
        if (live.verdict.decidedBy === 'acl') {
          const text = (await cli(...args.filter((x) => x !== '--json'))).stdout;
          assert.match(text, /blocked by the network ACL acl-\S+ of subnet-\S+ \((inbound|outbound)/);
          assert.match(text, /to open it: aws ec2 create-network-acl-entry/);
        }
      } else {
        assert.deepEqual(internetCidrs(offline), internetCidrs(live), what);
        assert.deepEqual(listed(offline).sort(), listed(live).sort(), what);
      }
    }
  });
});
