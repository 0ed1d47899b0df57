// Flow logs of what the VPC routers' network ACLs drop in the kernel data plane (`--dataplane
// kernel`: router-nft.ts counts the drops in per-5-tuple sets, kernel-flows.ts reads them): a
// connection to a port the server's subnet ACL denies inbound is an ingress REJECT record on the
// server's interface (the client's interface let it out: ACCEPT egress there); with the ephemeral
// ports denied outbound, the server's interface has an ACCEPT ingress record for the SYN and a
// REJECT egress record for its SYN-ACK (not an ACCEPT: the simulated plane's and AWS's "ping
// allowed by the group, reply blocked by the ACL"). A change of the router's table keeps the
// counters. From the internet to the server's public address (the internet gateway's 1:1 NAT), the
// ingress REJECT record has the private address, as on AWS. Records are read back from CloudWatch
// Logs after advancing the virtual clock.
// Needs Linux, root, iproute2, nftables, conntrack, python3 and curl: without them it FAILS.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateFlowLogsCommand,
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  CreateRouteCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeInstancesCommand,
  DescribeNetworkAclsCommand,
  DescribeRouteTablesCommand,
  ReplaceNetworkAclAssociationCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CREDS, ec2, start } from './helpers/server.ts';
import { KernelFixture, kernelTestsUnavailable, runIn, until } from './helpers/kernel.ts';
import { ACL_DROP_SETS, INTERNET_SOURCE, compileRouter, routerNftUpdate, type RouterInput } from '../src/kernel/router-nft.ts';
import { parseDropSets } from '../src/kernel/kernel-flows.ts';
import type { KernelRouters } from '../src/kernel/router-plane.ts';
import type { Palisade } from '../src/server.ts';

const SSH = 22;
const HTTP = 8080;
/** A window boundary (10 min and 1 min) plus 5 s. */
const T0 = 1_700_000_400_000 + 5_000;
const GROUP = '/palisade/kernel-flows-acl';
const FORMAT =
  '${interface-id} ${flow-direction} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${tcp-flags} ${action} ${log-status}';

interface Rec {
  eni: string;
  dir: string;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  proto: number;
  packets: number;
  bytes: number;
  flags: number;
  action: string;
  status: string;
}

const parse = (m: string): Rec => {
  const f = m.split(' ');
  const n = (i: number) => (f[i] === '-' ? NaN : Number(f[i]));
  return {
    eni: f[0]!,
    dir: f[1]!,
    src: f[2]!,
    dst: f[3]!,
    sport: n(4),
    dport: n(5),
    proto: n(6),
    packets: n(7),
    bytes: n(8),
    flags: n(9),
    action: f[10]!,
    status: f[11]!,
  };
};

describe('kernel data plane: flow logs of network ACL drops', () => {
  it('counts ACL drops in sets that survive a change of the router table (nft in a throwaway namespace)', () => {
    const why = kernelTestsUnavailable();
    if (why) throw new Error(why);
    const names = {
      routerEnd: (id: string) => `tE${id.slice(-6)}`,
      uplink: () => 'tup',
      downlink: () => 'tdown',
      peerLink: (id: string, side: 0 | 1) => `t${side ? 'b' : 'a'}${id.slice(-6)}`,
    };
    const input = (withSecond: boolean): RouterInput => ({
      vpcId: 'vpc-1',
      eigwIds: [],
      cidrs6: [],
      subnets: [
        { id: 'subnet-a', tableId: 'rtb-1', aclId: 'acl-a' },
        ...(withSecond ? [{ id: 'subnet-b', tableId: 'rtb-1', aclId: 'acl-b' }] : []),
      ],
      tables: [{ id: 'rtb-1', routes: [{ destination: '10.0.0.0/16', target: { kind: 'local' } }] }],
      acls: [
        {
          id: 'acl-a',
          entries: [
            { ruleNumber: 90, egress: false, protocol: 6, allow: false, cidr: '0.0.0.0/0', ports: { from: 22, to: 22 } },
            { ruleNumber: 100, egress: false, protocol: -1, allow: true, cidr: '0.0.0.0/0' },
            { ruleNumber: 100, egress: true, protocol: -1, allow: true, cidr: '0.0.0.0/0' },
          ],
        },
        { id: 'acl-b', entries: [{ ruleNumber: 100, egress: true, protocol: -1, allow: true, cidr: '0.0.0.0/0' }] },
      ],
      interfaces: [
        { id: 'eni-aaaaaa', subnetId: 'subnet-a', ipv4: ['10.0.1.5'], ipv6: [], sourceDestCheck: true },
        ...(withSecond ? [{ id: 'eni-bbbbbb', subnetId: 'subnet-b', ipv4: ['10.0.2.5'], ipv6: [], sourceDestCheck: true }] : []),
      ],
      nats: [],
      peerings: [],
    });
    const plan2 = compileRouter(
      input(true),
      names,
      () => 1000,
      (id) => (id === 'eni-aaaaaa' ? 2000 : 2001),
    );
    const plan1 = compileRouter(
      input(false),
      names,
      () => 1000,
      () => 2000,
    );
    // the deny counts before it drops: the same match jumps to the counting chain first
    assert.match(
      plan2.nft,
      /meta l4proto 6 th dport 22 jump acl_count_in\n\s+meta nfproto ipv4 meta l4proto 6 th dport 22 drop comment "rule 90"/,
    );
    assert.match(plan2.nft, /jump acl_count_out\n\s+drop comment "rule \*"/);
    assert.ok(plan2.nftChains.includes('acl_acl_b_out') && !plan1.nftChains.includes('acl_acl_b_out'));
    const ns = `palisade-fltest-${process.pid}`;
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      const nft = (script: string) => execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: script });
      nft(plan2.nft);
      nft(`add element inet palisade ${ACL_DROP_SETS.in.tcp4} { 10.0.2.5 . 40000 . 10.0.1.5 . 22 . syn }`);
      // a change: a subnet (its ACL chains) goes; the counters stay
      nft(routerNftUpdate(plan2.nftChains, plan1));
      const sets = execFileSync('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'sets', 'inet'], { encoding: 'utf8' });
      const drops = parseDropSets(sets, [...Object.values(ACL_DROP_SETS.in), ...Object.values(ACL_DROP_SETS.out)]);
      assert.deepEqual(
        drops.map((d) => [d.set, d.src, d.sport, d.dst, d.dport, d.proto, d.flags]),
        [[ACL_DROP_SETS.in.tcp4, '10.0.2.5', 40000, '10.0.1.5', 22, 6, 2]],
      );
      const chains = execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'chains', 'inet'], { encoding: 'utf8' });
      assert.doesNotMatch(chains, /acl_acl_b_out/, 'the chains no longer wanted are gone');
      // and back (chains added again)
      nft(routerNftUpdate(plan1.nftChains, plan2));
    } finally {
      execFileSync('ip', ['netns', 'del', ns]);
    }
  });

  describe('on real traffic', () => {
    let p: Palisade | undefined;
    let c: EC2Client;
    let logs: CloudWatchLogsClient;
    const fx = new KernelFixture();
    let serverNs = '';
    let clientNs = '';
    let serverIp = '';
    let clientIp = '';
    let serverEni = '';
    let clientEni = '';
    let serverPublic = '';
    let acl = '';
    const seen = new Set<string>();

    const clock = async (body: Record<string, number>) => {
      const r = await fetch(`${p!.url}/_palisade/clock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(r.status, 200);
    };
    /** The records delivered since the last call. */
    const newRecords = async (): Promise<Rec[]> => {
      const events = (await logs.send(new FilterLogEventsCommand({ logGroupName: GROUP }))).events ?? [];
      const fresh = events.filter((e) => !seen.has(e.eventId!));
      for (const e of fresh) seen.add(e.eventId!);
      return fresh.map((e) => parse(e.message!)).filter((r) => r.status === 'OK');
    };
    const kernelInfo = async () => (await (await fetch(`${p!.url}/_palisade/kernel`)).json()) as any;
    const settle = async () => {
      await p!.kernel!.settle();
      await (p!.kernel!.router as KernelRouters).settle();
    };
    const entry = (RuleNumber: number, Egress: boolean, RuleAction: 'allow' | 'deny', cidr: string, ports?: [number, number]) =>
      c.send(
        new CreateNetworkAclEntryCommand({
          NetworkAclId: acl,
          RuleNumber,
          Egress,
          RuleAction,
          Protocol: ports ? '6' : '-1',
          CidrBlock: cidr,
          ...(ports ? { PortRange: { From: ports[0], To: ports[1] } } : {}),
        }),
      );

    before(async () => {
      const why = kernelTestsUnavailable();
      if (why) throw new Error(why);
      p = await start({ dataplane: 'kernel', clock: 'virtual' });
      fx.prefix = p.kernel!.names.prefix;
      await clock({ epochMillis: T0 });
      c = ec2(p.url);
      logs = new CloudWatchLogsClient({ endpoint: p.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
      const vpc = (await c.send(new CreateVpcCommand({ CidrBlock: '10.42.0.0/16' }))).Vpc!.VpcId!;
      const subnet = async (cidr: string) =>
        (await c.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: cidr, AvailabilityZone: 'us-east-1a' }))).Subnet!.SubnetId!;
      const cliSubnet = await subnet('10.42.1.0/24');
      const srvSubnet = await subnet('10.42.2.0/24');
      const group = async (name: string) =>
        (await c.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: vpc }))).GroupId!;
      const srv = await group('srv');
      const cli = await group('cli');
      // the groups allow both ports: only the ACL stands in the way
      await c.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: srv,
          IpPermissions: [SSH, HTTP].map((port) => ({
            IpProtocol: 'tcp',
            FromPort: port,
            ToPort: port,
            IpRanges: [{ CidrIp: port === SSH ? '0.0.0.0/0' : '10.42.1.0/24' }],
          })),
        }),
      );
      const launch = async (s: string, g: string, publicIp: boolean) =>
        (
          await c.send(
            new RunInstancesCommand({
              ImageId: 'ami-12345678',
              InstanceType: 't3.micro',
              MinCount: 1,
              MaxCount: 1,
              NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: s, Groups: [g], AssociatePublicIpAddress: publicIp }],
            }),
          )
        ).Instances![0]!;
      const s = await launch(srvSubnet, srv, true);
      const cl = await launch(cliSubnet, cli, false);
      [serverIp, serverEni] = [s.PrivateIpAddress!, s.NetworkInterfaces![0]!.NetworkInterfaceId!];
      [clientIp, clientEni] = [cl.PrivateIpAddress!, cl.NetworkInterfaces![0]!.NetworkInterfaceId!];
      serverPublic = (await c.send(new DescribeInstancesCommand({ InstanceIds: [s.InstanceId!] }))).Reservations![0]!.Instances![0]!
        .PublicIpAddress!;
      assert.ok(serverPublic, 'the server has a public IPv4 address');
      // the internet reaches the VPC (the main route table: both subnets)
      const igw = (await c.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
      await c.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpc }));
      const main = (
        await c.send(
          new DescribeRouteTablesCommand({
            Filters: [
              { Name: 'vpc-id', Values: [vpc] },
              { Name: 'association.main', Values: ['true'] },
            ],
          }),
        )
      ).RouteTables![0]!.RouteTableId!;
      await c.send(new CreateRouteCommand({ RouteTableId: main, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
      // The server's subnet: SSH denied inbound, the rest allowed; the ephemeral ports toward the
      // client's subnet denied outbound (the replies), the rest allowed.
      acl = (await c.send(new CreateNetworkAclCommand({ VpcId: vpc }))).NetworkAcl!.NetworkAclId!;
      await entry(90, false, 'deny', '0.0.0.0/0', [SSH, SSH]);
      await entry(100, false, 'allow', '0.0.0.0/0');
      await entry(50, true, 'deny', '10.42.1.0/24', [1024, 65535]);
      await entry(100, true, 'allow', '0.0.0.0/0');
      const assoc = (
        await c.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [srvSubnet] }] }))
      ).NetworkAcls![0]!.Associations!.find((a) => a.SubnetId === srvSubnet)!.NetworkAclAssociationId!;
      await c.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: assoc, NetworkAclId: acl }));
      const fl = await c.send(
        new CreateFlowLogsCommand({
          ResourceType: 'VPC',
          ResourceIds: [vpc],
          TrafficType: 'ALL',
          LogGroupName: GROUP,
          DeliverLogsPermissionArn: 'arn:aws:iam::000000000000:role/flow-logs',
          LogFormat: FORMAT,
          MaxAggregationInterval: 60,
        }),
      );
      assert.deepEqual(fl.Unsuccessful, []);
      await until(
        'both namespaces',
        async () => {
          const k = await kernelInfo();
          serverNs = k.namespaces.instances[s.InstanceId!];
          clientNs = k.namespaces.instances[cl.InstanceId!];
          return !!serverNs && !!clientNs && k.pending === 0;
        },
        60_000,
        50,
      );
      await settle();
      await until(
        'flow accounting in both namespaces',
        async () => {
          if (!p!.kernelFlows!.namespaces().includes(serverNs) || !p!.kernelFlows!.namespaces().includes(clientNs)) return false;
          for (const ns of [serverNs, clientNs])
            if ((await runIn(ns, 'sysctl', ['-n', 'net.netfilter.nf_conntrack_acct'])).stdout.trim() !== '1') return false;
          return true;
        },
        30_000,
        50,
      );
      await fx.echoServer(serverNs, serverIp, HTTP);
      // (anything sent so far is not this test's)
      await p.kernelFlows!.flush();
      await clock({ advanceSeconds: 60 });
      await newRecords();
    });

    after(async () => {
      fx.stopPrograms();
      await fx.programsGone();
      await p?.close();
      fx.cleanupSync();
    });

    it('an inbound ACL deny is an ingress REJECT record on the receiving interface (counters kept over a router change)', async () => {
      const r = await runIn(clientNs, 'curl', ['-s', '--max-time', '2', `http://${serverIp}:${SSH}/`]);
      assert.notEqual(r.code, 0, 'the ACL denies it: no connection');
      // a change of the router's table in between: the drop counters stay
      await entry(120, false, 'allow', '192.0.2.0/24', [53, 53]);
      await settle();
      await p!.kernelFlows!.flush();
      await clock({ advanceSeconds: 60 });
      const recs = (await newRecords()).filter((x) => x.proto === 6 && (x.dport === SSH || x.sport === SSH));
      const rejected = recs.filter((x) => x.action === 'REJECT');
      assert.equal(rejected.length, 1, JSON.stringify(recs));
      const x = rejected[0]!;
      assert.deepEqual([x.eni, x.dir, x.src, x.dst, x.dport], [serverEni, 'ingress', clientIp, serverIp, SSH]);
      assert.ok(x.sport > 1023, `the client's port ${x.sport}`);
      assert.ok(x.packets >= 1 && x.bytes >= 40 * x.packets, `${x.packets} packets, ${x.bytes} bytes`);
      assert.equal(x.flags, 2, 'SYN');
      // the client's group let it out: ACCEPT egress there (as the simulated plane records it); nothing reached the server
      const cli = recs.filter((y) => y.eni === clientEni);
      assert.deepEqual(
        cli.map((y) => [y.dir, y.action, y.sport, y.dport]),
        [['egress', 'ACCEPT', x.sport, SSH]],
        JSON.stringify(recs),
      );
      assert.equal(recs.filter((y) => y.eni === serverEni).length, 1, JSON.stringify(recs));
    });

    it('replies denied by the ACL: ACCEPT ingress for the SYN, REJECT egress for the SYN-ACK on the server', async () => {
      const r = await runIn(clientNs, 'curl', ['-s', '--max-time', '3', `http://${serverIp}:${HTTP}/`]);
      assert.notEqual(r.code, 0, 'the SYN-ACK goes to an ephemeral port: dropped');
      await p!.kernelFlows!.flush();
      await clock({ advanceSeconds: 60 });
      const recs = (await newRecords()).filter((x) => x.proto === 6 && (x.dport === HTTP || x.sport === HTTP));
      const srv = recs.filter((y) => y.eni === serverEni);
      const inAccept = srv.filter((y) => y.dir === 'ingress' && y.action === 'ACCEPT');
      assert.equal(inAccept.length, 1, JSON.stringify(recs));
      const port = inAccept[0]!.sport;
      assert.deepEqual([inAccept[0]!.src, inAccept[0]!.dst, inAccept[0]!.dport], [clientIp, serverIp, HTTP]);
      assert.equal(inAccept[0]!.flags & 2, 2, 'SYN');
      const outReject = srv.filter((y) => y.dir === 'egress' && y.action === 'REJECT');
      assert.equal(outReject.length, 1, JSON.stringify(recs));
      const y = outReject[0]!;
      assert.deepEqual([y.src, y.sport, y.dst, y.dport], [serverIp, HTTP, clientIp, port]);
      assert.equal(y.flags, 18, 'SYN-ACK');
      assert.ok(y.packets >= 1, `${y.packets} packets`);
      // the reply never left the VPC's router: no ACCEPT egress record for it
      assert.deepEqual(
        srv.filter((z) => z.dir === 'egress' && z.action === 'ACCEPT'),
        [],
        JSON.stringify(recs),
      );
      // the client sent its SYN (ACCEPT egress) and got nothing back
      assert.deepEqual(
        recs.filter((z) => z.eni === clientEni).map((z) => [z.dir, z.action]),
        [['egress', 'ACCEPT']],
        JSON.stringify(recs),
      );
    });

    it('from the internet to the public address: an ingress REJECT record at the private address (the NAT is done before the ACL)', async () => {
      const inet = p!.kernel!.names.internetNs;
      const r = await runIn(inet, 'curl', ['-s', '--max-time', '2', `http://${serverPublic}:${SSH}/`]);
      assert.notEqual(r.code, 0, 'the ACL denies it: no connection');
      await p!.kernelFlows!.flush();
      await clock({ advanceSeconds: 60 });
      const recs = (await newRecords()).filter((x) => x.proto === 6 && (x.dport === SSH || x.sport === SSH));
      assert.deepEqual(
        recs.map((x) => [x.eni, x.dir, x.src, x.dst, x.dport, x.action, x.flags]),
        [[serverEni, 'ingress', INTERNET_SOURCE.v4, serverIp, SSH, 'REJECT', 2]],
        JSON.stringify(recs),
      );
    });

    it('leaves no namespace behind when the server closes', async () => {
      fx.stopPrograms();
      await fx.programsGone();
      await p!.close();
      p = undefined;
      assert.deepEqual(fx.leftovers(), []);
      assert.deepEqual(fx.hostLeftovers(), []);
    });
  });
});
