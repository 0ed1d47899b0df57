// The kernel data plane's VPC routers on real traffic (`--dataplane kernel`): route tables,
// internet and NAT gateways, network ACLs and peering applied inside each VPC's router namespace,
// "the internet" as one more namespace — the scenarios of test/network-path.test.ts with real
// packets (Python servers that answer with the address they see, clients inside the namespaces).
// Also the compiler (src/kernel/router-nft.ts) on plain inputs, its rulesets checked by `nft -c`.
// Needs Linux, root, iproute2, nftables, conntrack, python3 and curl: without them it FAILS.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AcceptVpcPeeringConnectionCommand,
  AllocateAddressCommand,
  AssociateRouteTableCommand,
  AssociateSubnetCidrBlockCommand,
  AuthorizeSecurityGroupEgressCommand,
  CreateEgressOnlyInternetGatewayCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcPeeringConnectionCommand,
  DeleteRouteCommand,
  DescribeInstancesCommand,
  DescribeNetworkAclsCommand,
  DescribeRouteTablesCommand,
  DescribeVpcsCommand,
  ReplaceNetworkAclAssociationCommand,
  ReplaceNetworkAclEntryCommand,
  ReplaceRouteCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { ec2, start } from './helpers/server.ts';
import { KernelFixture, kernelTestsUnavailable, runIn, until } from './helpers/kernel.ts';
import type { Palisade } from '../src/server.ts';
import type { KernelRouters } from '../src/kernel/router-plane.ts';
import { addressesRoutedBy, compileRouter, compileTable, type Names, type RouterInput } from '../src/kernel/router-nft.ts';

/** A TCP server answering each connection with the address it sees, then closing it. */
const WHO = String.raw`
import socket, sys
srv = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((sys.argv[1], int(sys.argv[2])))
srv.listen(64)
print('listening', flush=True)
while True:
    c, a = srv.accept()
    try:
        c.sendall((a[0] + '\n').encode())
    finally:
        c.close()
`;

/** One connection: prints `OK <the address the server saw>` or `FAIL <why>` (exit 1). */
const CONNECT = String.raw`
import socket, sys
host, port, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET)
s.settimeout(timeout)
if len(sys.argv) > 4:
    s.bind((sys.argv[4], 0))
try:
    s.connect((host, port))
    print('OK ' + s.recv(200).decode().strip())
except Exception as e:
    print('FAIL ' + repr(e))
    sys.exit(1)
`;

const PORT = 8022;
const PORT6 = 8023;
const INET_PORT = 8080;

describe('the compiler (router-nft.ts) on plain inputs', () => {
  const names: Names = {
    routerEnd: (id) => `tE${id.slice(-6)}`,
    uplink: () => 'tUp',
    downlink: () => 'tDown',
    peerLink: (id, side) => `t${side ? 'b' : 'a'}${id.slice(-6)}`,
  };
  const estate = (): RouterInput => ({
    vpcId: 'vpc-1',
    igwId: 'igw-1',
    eigwIds: ['eigw-1'],
    cidrs6: ['2600:1f18:1::/56'],
    subnets: [
      { id: 'subnet-pub', tableId: 'rtb-pub', aclId: 'acl-open' },
      { id: 'subnet-priv', tableId: 'rtb-priv', aclId: 'acl-strict' },
    ],
    tables: [
      {
        id: 'rtb-pub',
        routes: [
          { destination: '10.0.0.0/16', target: { kind: 'local' } },
          { destination: '2600:1f18:1::/56', target: { kind: 'local' } },
          { destination: '0.0.0.0/0', target: { kind: 'igw', id: 'igw-1' } },
          { destination: '192.0.2.0/24', target: { kind: 'eni', id: 'eni-x' } },
          { destination: '::/0', target: { kind: 'igw', id: 'igw-1' } },
        ],
      },
      {
        id: 'rtb-priv',
        routes: [
          { destination: '10.0.0.0/16', target: { kind: 'local' } },
          { destination: '0.0.0.0/0', target: { kind: 'nat', id: 'nat-1' } },
          { destination: '192.0.2.128/25', target: { kind: 'igw', id: 'igw-other' } },
          { destination: '10.9.0.0/16', target: { kind: 'pcx', id: 'pcx-1' } },
          { destination: '::/0', target: { kind: 'eigw', id: 'eigw-1' } },
        ],
      },
    ],
    acls: [
      { id: 'acl-open', entries: [{ ruleNumber: 100, egress: true, protocol: -1, allow: true, cidr: '0.0.0.0/0' }] },
      {
        id: 'acl-strict',
        entries: [
          { ruleNumber: 100, egress: false, protocol: 6, allow: false, cidr: '10.0.1.0/24', ports: { from: 22, to: 22 } },
          { ruleNumber: 200, egress: false, protocol: -1, allow: true, cidr: '0.0.0.0/0' },
          { ruleNumber: 50, egress: true, protocol: 1, allow: true, cidr: '0.0.0.0/0', icmp: { type: 8, code: -1 } },
          { ruleNumber: 60, egress: true, protocol: 58, allow: true, cidr: '::/0', icmp: { type: -1, code: -1 } },
          { ruleNumber: 70, egress: true, protocol: 17, allow: true, cidr: '203.0.113.0/24', ports: { from: 1024, to: 65535 } },
        ],
      },
    ],
    interfaces: [
      { id: 'eni-aaaaaa', subnetId: 'subnet-pub', ipv4: ['10.0.1.5', '10.0.1.6'], ipv6: [], publicIp: '198.18.0.5', sourceDestCheck: true },
      { id: 'eni-bbbbbb', subnetId: 'subnet-priv', ipv4: ['10.0.2.5'], ipv6: ['2600:1f18:1:2::5'], sourceDestCheck: true },
      {
        id: 'eni-natnat',
        subnetId: 'subnet-pub',
        ipv4: ['10.0.1.9'],
        ipv6: [],
        publicIp: '198.18.0.9',
        sourceDestCheck: true,
        natGateway: true,
      },
    ],
    nats: [{ id: 'nat-1', subnetId: 'subnet-pub', publicIp: '198.18.0.9', available: true }],
    peerings: [{ id: 'pcx-000001', vpcIds: ['vpc-1', 'vpc-2'], active: true }],
  });

  it('routes each target as decidePath does: local throws, gateways out the uplink, a NAT through its subnet, the rest blackholes', () => {
    const input = estate();
    input.peerings[0]!.id = 'pcx-1';
    const pub = compileTable(input, input.tables[0]!, 1000, names);
    assert.equal(pub.get('10.0.0.0/16'), 'throw 10.0.0.0/16 table 1000');
    assert.equal(pub.get('0.0.0.0/0'), '0.0.0.0/0 via 169.254.0.2 dev tUp onlink realm 1 table 1000');
    assert.equal(pub.get('192.0.2.0/24'), 'blackhole 192.0.2.0/24 table 1000', 'an interface target leads nowhere');
    assert.equal(pub.get('::/0'), '::/0 via fe80::2 dev tUp table 1000');
    const priv = compileTable(input, input.tables[1]!, 1001, names);
    assert.equal(
      priv.get('0.0.0.0/0'),
      '0.0.0.0/0 via 169.254.0.2 dev tUp onlink realm 2 table 1001',
      'out through the NAT gateway (realm 2)',
    );
    // 192.0.2.0/24 is an interface route in the NAT's subnet: through the NAT it is a blackhole too…
    assert.equal(priv.get('192.0.2.0/24'), 'blackhole 192.0.2.0/24 table 1001');
    // …except where this table itself says more (a detached gateway: a blackhole of its own)
    assert.equal(priv.get('192.0.2.128/25'), 'blackhole 192.0.2.128/25 table 1001');
    assert.equal(priv.get('10.9.0.0/16'), '10.9.0.0/16 via 169.254.1.2 dev tapcx-1 onlink table 1001');
    assert.equal(priv.get('::/0'), '::/0 via fe80::2 dev tUp table 1001', 'egress-only: IPv6 out');
    input.igwId = undefined;
    assert.equal(
      compileTable(input, input.tables[1]!, 1001, names).get('0.0.0.0/0'),
      'blackhole 0.0.0.0/0 table 1001',
      'no gateway behind the NAT',
    );
    const noDefault = compileTable(input, { id: 't', routes: [{ destination: '10.0.0.0/16', target: { kind: 'local' } }] }, 7, names);
    assert.equal(noDefault.get('0.0.0.0/0'), 'blackhole 0.0.0.0/0 table 7', 'nothing falls through to the main table');
    assert.equal(noDefault.get('::/0'), 'blackhole ::/0 table 7');
  });

  it('works out the addresses a table routes back through a gateway (longest prefix, prefix lists losing ties)', () => {
    const t = {
      id: 't',
      routes: [
        { destination: '10.0.0.0/16', target: { kind: 'local' as const } },
        { destination: '0.0.0.0/0', target: { kind: 'igw' as const, id: 'igw-1' } },
        { destination: '52.0.0.0/8', target: { kind: 'nat' as const, id: 'nat-1' } },
        { destination: '52.0.0.0/8', target: { kind: 'vpce' as const, id: 'vpce-1' }, fromList: true },
        { destination: '52.1.0.0/16', target: { kind: 'vpce' as const, id: 'vpce-1' }, fromList: true },
      ],
    };
    const back = addressesRoutedBy(t, 4, (x) => x.kind === 'igw');
    const text = back.map(([a, b]) => `${a}-${b}`);
    const ip = (s: string) => BigInt(s.split('.').reduce((n, o) => n * 256 + Number(o), 0));
    assert.deepEqual(text, [
      `0-${ip('9.255.255.255')}`,
      `${ip('10.1.0.0')}-${ip('51.255.255.255')}`,
      `${ip('53.0.0.0')}-${ip('255.255.255.255')}`,
    ]);
    assert.deepEqual(
      addressesRoutedBy(t, 4, (x) => x.kind === 'vpce'),
      [[ip('52.1.0.0'), ip('52.1.255.255')]],
    );
  });

  it('compiles a ruleset nft accepts (checked with nft -c in a throwaway namespace), ACL entries in rule order', () => {
    const plan = compileRouter(
      estate(),
      names,
      (id) => (id === 'rtb-pub' ? 1000 : 1001),
      (id) => ({ 'eni-aaaaaa': 2000, 'eni-bbbbbb': 2001 })[id] ?? 2002,
    );
    assert.equal(plan.uplink, true);
    assert.deepEqual(
      plan.peerLinks.map((l) => [l.device, l.otherDevice, l.otherVpcId]),
      [['ta000001', 'tb000001', 'vpc-2']],
    );
    assert.deepEqual(plan.rules.get('4 2000'), { family: 4, pref: 2000, iif: 'tEaaaaaa', table: 1000 });
    const acl = plan.nft.slice(plan.nft.indexOf('chain acl_acl_strict_out'));
    const order = ['rule 50', 'rule 60', 'rule 70', 'rule *'].map((r) => acl.indexOf(r));
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
      'entries in rule-number order',
    );
    assert.match(plan.nft, /ip saddr 10\.0\.1\.0\/24 meta l4proto 6 th dport 22 drop comment "rule 100"/);
    assert.match(plan.nft, /dnat ip to ip daddr map \{ 198\.18\.0\.5 : 10\.0\.1\.5 \}/);
    assert.match(plan.nft, /snat ip to ip saddr map \{ 10\.0\.1\.5 : 198\.18\.0\.5, 10\.0\.1\.6 : 198\.18\.0\.5 \}/);
    assert.match(plan.nft, /meta rtclassid 2 snat ip to 198\.18\.0\.9/);
    assert.doesNotMatch(plan.nft, /ct state/, 'no connection state in the ACLs');
    assert.deepEqual([...plan.internet.keys()].sort(), ['198.18.0.5/32', '198.18.0.9/32', '2600:1f18:1::/56']);
    const ns = `palisade-rtest-${process.pid}`;
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      execFileSync('ip', ['netns', 'exec', ns, 'nft', '-c', '-f', '-'], { input: plan.nft });
      // applied twice: the script replaces the table atomically
      execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: plan.nft });
      execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: plan.nft });
    } finally {
      execFileSync('ip', ['netns', 'del', ns]);
    }
  });
});

describe('kernel data plane: VPC routers on real traffic', () => {
  let p: Palisade | undefined;
  let c: EC2Client;
  const fx = new KernelFixture();
  let inet = '';
  const who = join(fx.dir, 'who.py');
  const connect = join(fx.dir, 'connect.py');
  writeFileSync(who, WHO);
  writeFileSync(connect, CONNECT);

  const routers = () => p!.kernel!.router as KernelRouters;
  /** Every committed change in the kernel: instances' namespaces and the routers. */
  const settle = async () => {
    await p!.kernel!.settle();
    await routers().settle();
  };
  /** One connection from a namespace: the address the server saw, or undefined. */
  const reach = async (ns: string, host: string, port: number, opts: { from?: string; timeout?: number } = {}) => {
    const r = await runIn(ns, 'python3', [connect, host, String(port), String(opts.timeout ?? 1), ...(opts.from ? [opts.from] : [])]);
    return r.stdout.startsWith('OK ') ? r.stdout.slice(3).trim() : undefined;
  };
  /** Reachable once the kernel has the change (polled with a bound): the address seen. */
  const reaches = async (ns: string, host: string, port: number, opts: { from?: string } = {}) => {
    let seen: string | undefined;
    await until(`${ns} reaches ${host}:${port}`, async () => !!(seen = await reach(ns, host, port, { ...opts, timeout: 0.5 })), 8000);
    return seen!;
  };
  /** The simulated data plane's verdict on the same flow (`evaluate`): the kernel must agree. */
  const simulated = async (from: string, to: string, port: number) => {
    const res = await fetch(`${p!.url}/_palisade/network/evaluate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ flows: [{ from, to, protocol: 'tcp', port }] }),
    });
    return ((await res.json()) as { results: { verdict: string }[] }).results[0]!.verdict;
  };
  const agrees = async (kernelSeen: string | undefined, from: string, to: string, port: number) =>
    assert.equal(await simulated(from, to, port), kernelSeen ? 'ACCEPT' : 'REJECT', `the simulated plane on ${from} → ${to}:${port}`);
  const serve = async (ns: string, addr: string, port: number) => {
    const child = fx.spawnIn(ns, 'python3', ['-u', who, addr, String(port)]);
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr!.on('data', (d) => (err += d));
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`server exited (${code}): ${err}`)));
    });
  };

  const vpc = async (cidr: string, ipv6 = false) =>
    (await c.send(new CreateVpcCommand({ CidrBlock: cidr, AmazonProvidedIpv6CidrBlock: ipv6 }))).Vpc!.VpcId!;
  const subnet = async (vpcId: string, cidr: string) =>
    (await c.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: 'us-east-1a' }))).Subnet!.SubnetId!;
  const openGroup = async (vpcId: string, name: string) => {
    const g = (await c.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: vpcId }))).GroupId!;
    await c.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: g,
        IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [{ CidrIpv6: '::/0' }] }],
      }),
    );
    await c
      .send(
        new AuthorizeSecurityGroupEgressCommand({ GroupId: g, IpPermissions: [{ IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] }] }),
      )
      .catch(() => undefined); // (a VPC with IPv6 has it already)
    return g;
  };
  const mainTable = async (vpcId: string) =>
    (
      await c.send(
        new DescribeRouteTablesCommand({
          Filters: [
            { Name: 'vpc-id', Values: [vpcId] },
            { Name: 'association.main', Values: ['true'] },
          ],
        }),
      )
    ).RouteTables![0]!.RouteTableId!;
  const igw = async (vpcId: string) => {
    const id = (await c.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await c.send(new AttachInternetGatewayCommand({ InternetGatewayId: id, VpcId: vpcId }));
    return id;
  };
  /** An instance (its namespace made, a server answering on PORT): id, private and public IPv4, namespace. */
  const launch = async (subnetId: string, group: string, publicIp = false, ipv6 = false) => {
    const i = (
      await c.send(
        new RunInstancesCommand({
          ImageId: 'ami-12345678',
          InstanceType: 't3.micro',
          MinCount: 1,
          MaxCount: 1,
          NetworkInterfaces: [
            {
              DeviceIndex: 0,
              SubnetId: subnetId,
              Groups: [group],
              AssociatePublicIpAddress: publicIp,
              ...(ipv6 ? { Ipv6AddressCount: 1 } : {}),
            },
          ],
        }),
      )
    ).Instances![0]!;
    const d = (await c.send(new DescribeInstancesCommand({ InstanceIds: [i.InstanceId!] }))).Reservations![0]!.Instances![0]!;
    let ns = '';
    await until(`the namespace of ${i.InstanceId}`, async () => !!(ns = p!.kernel!.namespaceOf(i.InstanceId!) ?? ''));
    await settle();
    await serve(ns, '0.0.0.0', PORT);
    const ipv6Address = d.NetworkInterfaces![0]!.Ipv6Addresses?.[0]?.Ipv6Address;
    if (ipv6Address) await serve(ns, '::', PORT6);
    return { id: i.InstanceId!, ip: d.PrivateIpAddress!, publicIp: d.PublicIpAddress, ipv6: ipv6Address, ns };
  };

  before(async () => {
    const why = kernelTestsUnavailable();
    if (why) throw new Error(why);
    p = await start({ dataplane: 'kernel' });
    fx.prefix = p.kernel!.names.prefix;
    c = ec2(p.url);
    inet = await routers().internetNamespace();
    // "The internet" answers at its documentation addresses.
    await serve(inet, '198.51.100.7', INET_PORT);
    await serve(inet, '203.0.113.5', INET_PORT);
    await serve(inet, '2001:db8::7', INET_PORT);
  });

  after(async () => {
    fx.stopPrograms();
    await fx.programsGone();
    await p?.close();
    const left = fx.leftovers();
    fx.cleanupSync();
    assert.deepEqual(left, [], 'no namespace of the server is left');
  });

  it('the internet reaches a public IP only with the route to the internet gateway, and sees the public IP of what comes out', async (t) => {
    const v = await vpc('10.61.0.0/16');
    const s = await subnet(v, '10.61.1.0/24');
    const g = await openGroup(v, 'open-61');
    const gw = await igw(v);
    const i = await launch(s, g, true);
    assert.ok(i.publicIp, 'the instance has a public IP');
    assert.equal(await reach(inet, i.publicIp!, PORT, { from: '198.51.100.9' }), undefined, 'no route back: the internet gets no answer');
    await agrees(undefined, 'internet:198.51.100.9', i.publicIp!, PORT);
    assert.equal(await reach(i.ns, '198.51.100.7', INET_PORT), undefined, 'no route out');
    await agrees(undefined, i.id, 'internet:198.51.100.7', INET_PORT);
    const rt = await mainTable(v);
    const t0 = performance.now();
    await c.send(new CreateRouteCommand({ RouteTableId: rt, DestinationCidrBlock: '0.0.0.0/0', GatewayId: gw }));
    const called = performance.now();
    await settle();
    t.diagnostic(
      `CreateRoute ${(called - t0).toFixed(1)} ms, then in the kernel ${(performance.now() - called).toFixed(1)} ms (router sync ${routers().stats.lastSyncMs.toFixed(1)} ms)`,
    );
    assert.equal(await reaches(inet, i.publicIp!, PORT, { from: '198.51.100.9' }), '198.51.100.9', 'in at the public IP');
    await agrees('yes', 'internet:198.51.100.9', i.publicIp!, PORT);
    assert.equal(await reaches(i.ns, '198.51.100.7', INET_PORT), i.publicIp, 'the internet sees the public IP');
    await agrees('yes', i.id, 'internet:198.51.100.7', INET_PORT);
    // More addresses of the internet, by the admin API.
    const res = await fetch(`${p!.url}/_palisade/kernel/internet-address`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ address: '8.8.8.8' }),
    });
    assert.equal(res.status, 200);
    await serve(inet, '8.8.8.8', INET_PORT);
    assert.equal(await reaches(i.ns, '8.8.8.8', INET_PORT), i.publicIp);
    const bad = await fetch(`${p!.url}/_palisade/kernel/internet-address`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ address: 'nope' }),
    });
    assert.equal(bad.status, 400);
    // Removing the route closes both ways at once.
    await c.send(new DeleteRouteCommand({ RouteTableId: rt, DestinationCidrBlock: '0.0.0.0/0' }));
    await settle();
    assert.equal(await reach(inet, i.publicIp!, PORT, { from: '198.51.100.9' }), undefined);
    assert.equal(await reach(i.ns, '198.51.100.7', INET_PORT), undefined);
  });

  it('a NAT-ed private instance reaches the internet, seen as the NAT gateway, and is not reachable from it', async () => {
    const v = await vpc('10.62.0.0/16');
    const pub = await subnet(v, '10.62.1.0/24');
    const priv = await subnet(v, '10.62.2.0/24');
    const g = await openGroup(v, 'open-62');
    const gw = await igw(v);
    const pubRt = (await c.send(new CreateRouteTableCommand({ VpcId: v }))).RouteTable!.RouteTableId!;
    await c.send(new CreateRouteCommand({ RouteTableId: pubRt, DestinationCidrBlock: '0.0.0.0/0', GatewayId: gw }));
    await c.send(new AssociateRouteTableCommand({ RouteTableId: pubRt, SubnetId: pub }));
    const eip = await c.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    const nat = (await c.send(new CreateNatGatewayCommand({ SubnetId: pub, AllocationId: eip.AllocationId! }))).NatGateway!.NatGatewayId!;
    const privRt = (await c.send(new CreateRouteTableCommand({ VpcId: v }))).RouteTable!.RouteTableId!;
    await c.send(new CreateRouteCommand({ RouteTableId: privRt, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: nat }));
    await c.send(new AssociateRouteTableCommand({ RouteTableId: privRt, SubnetId: priv }));
    const i = await launch(priv, g);
    assert.equal(await reaches(i.ns, '203.0.113.5', INET_PORT), eip.PublicIp, 'the internet sees the NAT gateway');
    await agrees('yes', i.id, 'internet:203.0.113.5', INET_PORT);
    assert.equal(await reach(inet, eip.PublicIp!, PORT, { from: '203.0.113.5' }), undefined, 'nothing enters through the NAT gateway');
    await agrees(undefined, 'internet:203.0.113.5', i.id, PORT);
    // The NAT gateway's subnet has an ACL of its own, crossed both ways: an empty one drops everything.
    const denyAll = (await c.send(new CreateNetworkAclCommand({ VpcId: v }))).NetworkAcl!.NetworkAclId!;
    const assocOf = async (subnetId: string) =>
      (
        await c.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [subnetId] }] }))
      ).NetworkAcls![0]!.Associations!.find((a) => a.SubnetId === subnetId)!;
    const before = await assocOf(pub);
    await c.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: before.NetworkAclAssociationId!, NetworkAclId: denyAll }));
    await settle();
    assert.equal(await reach(i.ns, '203.0.113.5', INET_PORT), undefined, "the NAT gateway's subnet ACL drops it");
    await agrees(undefined, i.id, 'internet:203.0.113.5', INET_PORT);
    await c.send(
      new ReplaceNetworkAclAssociationCommand({
        AssociationId: (await assocOf(pub)).NetworkAclAssociationId!,
        NetworkAclId: before.NetworkAclId!,
      }),
    );
    await settle();
    assert.equal(await reaches(i.ns, '203.0.113.5', INET_PORT), eip.PublicIp);
    // Without the NAT gateway's own route to the internet gateway, nothing goes out either.
    await c.send(new DeleteRouteCommand({ RouteTableId: pubRt, DestinationCidrBlock: '0.0.0.0/0' }));
    await settle();
    assert.equal(await reach(i.ns, '203.0.113.5', INET_PORT), undefined);
    await agrees(undefined, i.id, 'internet:203.0.113.5', INET_PORT);
  });

  describe('network ACLs are stateless and ordered', () => {
    let i: Awaited<ReturnType<typeof launch>>;
    let peer: Awaited<ReturnType<typeof launch>>;
    let acl = '';
    before(async () => {
      const v = await vpc('10.63.0.0/16');
      const s = await subnet(v, '10.63.1.0/24');
      const other = await subnet(v, '10.63.2.0/24');
      const g = await openGroup(v, 'open-63');
      i = await launch(s, g);
      peer = await launch(other, g);
      acl = (await c.send(new CreateNetworkAclCommand({ VpcId: v }))).NetworkAcl!.NetworkAclId!;
      const entry = (RuleNumber: number, Egress: boolean, RuleAction: 'allow' | 'deny', ports?: [number, number]) =>
        c.send(
          new CreateNetworkAclEntryCommand({
            NetworkAclId: acl,
            RuleNumber,
            Egress,
            RuleAction,
            Protocol: ports ? '6' : '-1',
            CidrBlock: '0.0.0.0/0',
            ...(ports ? { PortRange: { From: ports[0], To: ports[1] } } : {}),
          }),
        );
      await entry(100, false, 'deny', [PORT, PORT]);
      await entry(200, false, 'allow');
      await entry(100, true, 'allow');
      assert.equal(await reaches(peer.ns, i.ip, PORT), peer.ip, 'the default ACL lets everything through');
      const assoc = (
        await c.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [s] }] }))
      ).NetworkAcls![0]!.Associations!.find((a) => a.SubnetId === s)!.NetworkAclAssociationId!;
      await c.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: assoc, NetworkAclId: acl }));
      await settle();
    });

    it('a deny at a lower rule number beats an allow', async () => {
      assert.equal(await reach(peer.ns, i.ip, PORT), undefined);
      await agrees(undefined, peer.id, i.id, PORT);
      await c.send(
        new ReplaceNetworkAclEntryCommand({
          NetworkAclId: acl,
          RuleNumber: 100,
          Egress: false,
          RuleAction: 'allow',
          Protocol: '6',
          CidrBlock: '0.0.0.0/0',
          PortRange: { From: PORT, To: PORT },
        }),
      );
      await settle();
      assert.equal(await reaches(peer.ns, i.ip, PORT), peer.ip);
    });

    it('without the ephemeral ports outbound the replies are dropped (no connection state in an ACL)', async () => {
      await c.send(
        new ReplaceNetworkAclEntryCommand({
          NetworkAclId: acl,
          RuleNumber: 100,
          Egress: true,
          RuleAction: 'allow',
          Protocol: '6',
          CidrBlock: '0.0.0.0/0',
          PortRange: { From: 80, To: 80 },
        }),
      );
      await settle();
      assert.equal(await reach(peer.ns, i.ip, PORT), undefined, 'the SYN-ACK goes to an ephemeral port: dropped');
      await agrees(undefined, peer.id, i.id, PORT);
      await c.send(
        new CreateNetworkAclEntryCommand({
          NetworkAclId: acl,
          RuleNumber: 110,
          Egress: true,
          RuleAction: 'allow',
          Protocol: '6',
          CidrBlock: '0.0.0.0/0',
          PortRange: { From: 1024, To: 65535 },
        }),
      );
      await settle();
      assert.equal(await reaches(peer.ns, i.ip, PORT), peer.ip);
    });
  });

  it('peered VPCs reach each other only with routes on both sides', async () => {
    const a = await vpc('10.64.0.0/16');
    const b = await vpc('10.65.0.0/16');
    const sa = await subnet(a, '10.64.1.0/24');
    const sb = await subnet(b, '10.65.1.0/24');
    const ia = await launch(sa, await openGroup(a, 'open-64'));
    const ib = await launch(sb, await openGroup(b, 'open-65'));
    const pcx = (await c.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: b }))).VpcPeeringConnection!
      .VpcPeeringConnectionId!;
    await c.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
    await c.send(
      new CreateRouteCommand({ RouteTableId: await mainTable(a), DestinationCidrBlock: '10.65.0.0/16', VpcPeeringConnectionId: pcx }),
    );
    await settle();
    assert.equal(await reach(ia.ns, ib.ip, PORT), undefined, 'no route back on the other side');
    await agrees(undefined, ia.id, ib.id, PORT);
    await c.send(
      new CreateRouteCommand({ RouteTableId: await mainTable(b), DestinationCidrBlock: '10.64.0.0/16', VpcPeeringConnectionId: pcx }),
    );
    await settle();
    assert.equal(await reaches(ia.ns, ib.ip, PORT), ia.ip, 'private addresses end to end');
    assert.equal(await reaches(ib.ns, ia.ip, PORT), ib.ip);
    await agrees('yes', ia.id, ib.id, PORT);
  });

  it('IPv6 is routed as it is: an egress-only gateway lets only outbound through, an internet gateway both ways', async () => {
    const v = await vpc('10.66.0.0/16', true);
    const block = (await c.send(new DescribeVpcsCommand({ VpcIds: [v] }))).Vpcs![0]!.Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlock!;
    const s = await subnet(v, '10.66.1.0/24');
    await c.send(new AssociateSubnetCidrBlockCommand({ SubnetId: s, Ipv6CidrBlock: block.replace('::/56', '::/64') }));
    const i = await launch(s, await openGroup(v, 'open-66'), false, true);
    assert.ok(i.ipv6, 'the instance has an IPv6 address');
    const rt = await mainTable(v);
    const eigw = (await c.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: v }))).EgressOnlyInternetGateway!
      .EgressOnlyInternetGatewayId!;
    await c.send(new CreateRouteCommand({ RouteTableId: rt, DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: eigw }));
    await settle();
    assert.equal(await reaches(i.ns, '2001:db8::7', INET_PORT), i.ipv6, 'out, as itself');
    assert.equal(
      await reach(inet, i.ipv6!, PORT6, { from: '2001:db8::9' }),
      undefined,
      'nothing new comes in through an egress-only gateway',
    );
    assert.equal(await reach(i.ns, '198.51.100.7', INET_PORT), undefined, 'IPv4 has no route');
    const gw = await igw(v);
    await c.send(new ReplaceRouteCommand({ RouteTableId: rt, DestinationIpv6CidrBlock: '::/0', GatewayId: gw }));
    await settle();
    assert.equal(await reaches(inet, i.ipv6!, PORT6, { from: '2001:db8::9' }), '2001:db8::9', 'in through the internet gateway');
    await agrees('yes', 'internet:2001:db8::9', i.ipv6!, PORT6);
  });
});
