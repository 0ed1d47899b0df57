// Flow logs from the kernel's traffic (`--dataplane kernel`, src/kernel/kernel-flows.ts): a real
// HTTP request (python http.server in one instance namespace, curl in another) becomes ACCEPT
// records on both interfaces, both directions, with the connection's 5-tuple and the kernel's
// packet and byte counts; a connection to a port no rule allows becomes a REJECT record on the
// receiver's interface; a long-lived connection is counted in each window its packets passed in.
// Records are read back from CloudWatch Logs after advancing the server's virtual clock.
// Needs Linux, root, iproute2, nftables, conntrack, python3 and curl: without them it FAILS.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateFlowLogsCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CREDS, ec2, start } from './helpers/server.ts';
import { KernelFixture, kernelTestsUnavailable, runIn, until, type Agent } from './helpers/kernel.ts';
import { parseConntrackLine, parseDropSets } from '../src/kernel/kernel-flows.ts';
import type { Palisade } from '../src/server.ts';

const HTTP = 8080;
const ECHO = 9000;
const CLOSED = 9999;
/** A window boundary (10 min and 1 min) plus 5 s. */
const T0 = 1_700_000_400_000 + 5_000;
const GROUP = '/palisade/kernel-flows';
const FORMAT =
  '${interface-id} ${flow-direction} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${tcp-flags} ${action} ${log-status}';

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
  start: number;
  end: number;
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
    start: n(9),
    end: n(10),
    flags: n(11),
    action: f[12]!,
    status: f[13]!,
  };
};

describe('kernel data plane: flow logs from the kernel', () => {
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
  let agent: Agent;
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
    return fresh.map((e) => parse(e.message!));
  };
  const kernelInfo = async () => (await (await fetch(`${p!.url}/_palisade/kernel`)).json()) as any;

  before(async () => {
    const why = kernelTestsUnavailable();
    if (why) throw new Error(why);
    p = await start({ dataplane: 'kernel', clock: 'virtual' });
    fx.prefix = p.kernel!.names.prefix;
    await clock({ epochMillis: T0 });
    c = ec2(p.url);
    logs = new CloudWatchLogsClient({ endpoint: p.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
    const vpc = (await c.send(new CreateVpcCommand({ CidrBlock: '10.41.0.0/16' }))).Vpc!.VpcId!;
    const subnet = (await c.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.41.1.0/24' }))).Subnet!.SubnetId!;
    const group = async (name: string) =>
      (await c.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: vpc }))).GroupId!;
    const srv = await group('srv');
    const cli = await group('cli');
    const launch = async (g: string) =>
      (
        await c.send(
          new RunInstancesCommand({
            ImageId: 'ami-12345678',
            InstanceType: 't3.micro',
            MinCount: 1,
            MaxCount: 1,
            SubnetId: subnet,
            SecurityGroupIds: [g],
          }),
        )
      ).Instances![0]!;
    const s = await launch(srv);
    const cl = await launch(cli);
    [serverIp, serverEni] = [s.PrivateIpAddress!, s.NetworkInterfaces![0]!.NetworkInterfaceId!];
    [clientIp, clientEni] = [cl.PrivateIpAddress!, cl.NetworkInterfaces![0]!.NetworkInterfaceId!];
    // HTTP and the echo port from the client only (tracked: not the all-open case)
    await c.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: srv,
        IpPermissions: [HTTP, ECHO].map((port) => ({
          IpProtocol: 'tcp',
          FromPort: port,
          ToPort: port,
          IpRanges: [{ CidrIp: `${clientIp}/32` }],
        })),
      }),
    );
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
    await until('both namespaces', async () => {
      const k = await kernelInfo();
      serverNs = k.namespaces.instances[s.InstanceId!];
      clientNs = k.namespaces.instances[cl.InstanceId!];
      return !!serverNs && !!clientNs && k.pending === 0;
    });
    // The kernel counts every connection's packets from here on (nf_conntrack_acct in each namespace).
    await until('flow accounting in both namespaces', async () => {
      if (!p!.kernelFlows!.namespaces().includes(serverNs) || !p!.kernelFlows!.namespaces().includes(clientNs)) return false;
      for (const ns of [serverNs, clientNs])
        if ((await runIn(ns, 'sysctl', ['-n', 'net.netfilter.nf_conntrack_acct'])).stdout.trim() !== '1') return false;
      return true;
    });
    const http = fx.spawnIn(serverNs, 'python3', ['-m', 'http.server', String(HTTP), '--bind', serverIp]);
    http.stderr!.resume();
    http.stdout!.resume();
    await fx.echoServer(serverNs, serverIp, ECHO);
    await until(
      'the HTTP server listens',
      async () => (await runIn(serverNs, 'curl', ['-s', '--max-time', '1', `http://${serverIp}:${HTTP}/`])).code === 0,
      30_000, // (python's start on a loaded machine)
    );
    agent = fx.agent(clientNs);
  });

  after(async () => {
    fx.stopPrograms();
    await fx.programsGone();
    await p?.close();
    fx.cleanupSync();
  });

  it('parses conntrack lines and drop-set elements', () => {
    const e = parseConntrackLine(
      '[1700000000.250000]\t [UPDATE] ipv4     2 tcp      6 120 TIME_WAIT src=10.0.0.2 dst=10.0.0.1 sport=5000 dport=80 packets=7 bytes=449 src=10.0.0.1 dst=10.0.0.2 sport=80 dport=5000 packets=5 bytes=1534 [ASSURED] mark=0 use=1 id=901632643',
    );
    assert.deepEqual(e, {
      type: 'UPDATE',
      time: 1_700_000_000_250,
      proto: 6,
      state: 'TIME_WAIT',
      orig: { src: '10.0.0.2', dst: '10.0.0.1', sport: 5000, dport: 80 },
      reply: { src: '10.0.0.1', dst: '10.0.0.2', sport: 80, dport: 5000 },
      counters: { op: 7, ob: 449, rp: 5, rb: 1534 },
      id: '901632643',
    });
    const icmp = parseConntrackLine(
      'ipv6     10 icmpv6   58 29 src=2001:db8:0::2 dst=2001:db8::1 type=128 code=0 id=77 src=2001:db8::1 dst=2001:db8::2 type=129 code=0 id=77 mark=0 use=1 id=42',
    );
    assert.equal(icmp?.id, '42');
    assert.equal(icmp?.orig.src, '2001:db8::2');
    assert.equal(icmp?.orig.sport, 0);
    const drops = parseDropSets(
      JSON.stringify({
        nftables: [
          { metainfo: {} },
          {
            set: {
              name: 'pal_drop_tcp4',
              table: 'palisade',
              elem: [
                {
                  elem: {
                    val: { concat: ['10.0.0.2', 4000, '10.0.0.1', 22, { '|': ['syn', 'ack'] }] },
                    expires: 590,
                    counter: { packets: 2, bytes: 120 },
                  },
                },
              ],
            },
          },
          {
            set: {
              name: 'pal_drop4',
              table: 'palisade',
              elem: [
                { elem: { val: { concat: ['10.0.0.2', 0, '10.0.0.1', 0, 'icmp'] }, expires: 600, counter: { packets: 1, bytes: 84 } } },
              ],
            },
          },
          { set: { name: 'g_sg-1_4', table: 'palisade', elem: ['10.0.0.9'] } },
        ],
      }),
    );
    assert.deepEqual(
      drops.map((d) => [d.proto, d.sport, d.dport, d.flags, d.packets, d.bytes, d.expires]),
      [
        [6, 4000, 22, 18, 2, 120, 590],
        [1, 0, 0, 0, 1, 84, 600],
      ],
    );
  });

  it('logs a real HTTP connection as ACCEPT records, both directions on both interfaces', async () => {
    const page = await runIn(clientNs, 'curl', ['-s', '--max-time', '3', `http://${serverIp}:${HTTP}/`]);
    assert.equal(page.code, 0, page.stderr);
    assert.match(page.stdout, /Directory listing/);
    await p!.kernelFlows!.flush();
    await clock({ advanceSeconds: 60 });
    const recs = (await newRecords()).filter((r) => r.status === 'OK' && r.proto === 6 && (r.dport === HTTP || r.sport === HTTP));
    const find = (eni: string, dir: string, toServer: boolean) =>
      recs.filter(
        (r) =>
          r.eni === eni &&
          r.dir === dir &&
          r.action === 'ACCEPT' &&
          (toServer ? r.dst === serverIp && r.dport === HTTP : r.src === serverIp && r.sport === HTTP),
      );
    const srvIn = find(serverEni, 'ingress', true);
    const srvOut = find(serverEni, 'egress', false);
    const cliOut = find(clientEni, 'egress', true);
    const cliIn = find(clientEni, 'ingress', false);
    for (const [what, l] of Object.entries({ srvIn, srvOut, cliOut, cliIn })) assert.equal(l.length, 1, `${what}: ${JSON.stringify(recs)}`);
    const port = srvIn[0]!.sport;
    assert.ok(port > 1023, `the client's ephemeral port (${port})`);
    // the same 5-tuple, seen from both ends
    for (const r of [srvIn[0]!, cliOut[0]!]) assert.deepEqual([r.src, r.sport, r.dst, r.dport], [clientIp, port, serverIp, HTTP]);
    for (const r of [srvOut[0]!, cliIn[0]!]) assert.deepEqual([r.src, r.sport, r.dst, r.dport], [serverIp, HTTP, clientIp, port]);
    // (kernel times are mapped by their age onto the virtual clock, which stands still: within the window)
    // plausible counts: a handshake, a request, a page, the closing; the page is the bulk of the reply
    for (const r of [srvIn[0]!, srvOut[0]!, cliOut[0]!, cliIn[0]!]) {
      assert.ok(r.packets >= 3 && r.packets < 50, `packets ${r.packets}`);
      assert.ok(r.bytes >= r.packets * 40 && r.bytes < 100_000, `bytes ${r.bytes}`);
      assert.ok(r.start >= Math.floor(T0 / 1000) - 5 && r.end >= r.start && r.end < Math.floor(T0 / 1000) + 60, `${r.start}..${r.end}`);
    }
    assert.ok(srvOut[0]!.bytes > page.stdout.length, `reply bytes ${srvOut[0]!.bytes} carry the page (${page.stdout.length})`);
    assert.equal(srvIn[0]!.packets, cliOut[0]!.packets, 'what the client sent is what the server received');
    assert.equal(srvOut[0]!.bytes, cliIn[0]!.bytes);
    // TCP flags from conntrack's states: SYN (and FIN) from the client, SYN-ACK (and FIN) back
    assert.equal(srvIn[0]!.flags & 0x12, 2, `ingress flags ${srvIn[0]!.flags}`);
    assert.equal(srvOut[0]!.flags & 0x12, 18, `egress flags ${srvOut[0]!.flags}`);
  });

  it('logs a connection to a port no rule allows as a REJECT record on the receiver', async () => {
    const r = await runIn(clientNs, 'curl', ['-s', '--max-time', '1', `http://${serverIp}:${CLOSED}/`]);
    assert.notEqual(r.code, 0, 'no rule: no connection');
    await p!.kernelFlows!.flush();
    await clock({ advanceSeconds: 60 });
    const recs = await newRecords();
    const rejected = recs.filter((x) => x.action === 'REJECT' && x.dport === CLOSED);
    assert.equal(rejected.length, 1, JSON.stringify(recs));
    const x = rejected[0]!;
    assert.deepEqual([x.eni, x.dir, x.src, x.dst, x.proto], [serverEni, 'ingress', clientIp, serverIp, 6]);
    assert.ok(x.packets >= 1 && x.bytes >= 40 * x.packets, `${x.packets} packets, ${x.bytes} bytes`);
    assert.equal(x.flags, 2, 'SYN');
    // the client's interface let it out: an ACCEPT egress record there (its SYNs)
    const out = recs.filter((y) => y.eni === clientEni && y.action === 'ACCEPT' && y.dport === CLOSED && y.sport === x.sport);
    assert.equal(out.length, 1, JSON.stringify(recs));
    assert.equal(out[0]!.dir, 'egress');
    // (conntrack counts an unanswered connection's first SYN; the kernel does not add its retransmissions)
    assert.ok(out[0]!.packets >= 1 && out[0]!.packets <= x.packets, JSON.stringify([out, x]));
  });

  it('counts a long-lived connection in each window its packets passed in', async () => {
    const o = await agent.ask({ op: 'open', id: 'long', host: serverIp, port: ECHO });
    assert.ok(o.ok, o.error);
    const ofIt = (recs: Rec[]) => recs.filter((r) => r.eni === serverEni && r.dir === 'ingress' && r.sport === o.port && r.dport === ECHO);
    assert.equal((await agent.ask({ op: 'echo', id: 'long', data: 'first' })).data, 'first');
    await p!.kernelFlows!.flush();
    await clock({ advanceSeconds: 60 });
    const w1 = ofIt(await newRecords());
    assert.equal(w1.length, 1);
    for (let i = 0; i < 5; i++) assert.equal((await agent.ask({ op: 'echo', id: 'long', data: `again ${i}` })).data, `again ${i}`);
    await p!.kernelFlows!.flush();
    await clock({ advanceSeconds: 60 });
    const w2 = ofIt(await newRecords());
    assert.equal(w2.length, 1, 'the next window has its own record');
    // five requests (and their acknowledgements) in the second window, the handshake and one in the first
    assert.ok(w2[0]!.packets >= 5, `window 2: ${w2[0]!.packets} packets`);
    assert.ok(w2[0]!.start >= w1[0]!.end, 'later');
    assert.equal(w2[0]!.flags & 2, 0, 'no SYN in the second window');
    await agent.ask({ op: 'close', id: 'long' });
  });

  it('stops following when the server closes: no conntrack child, namespace or veth left', async () => {
    fx.stopPrograms();
    await fx.programsGone();
    await p!.close();
    p = undefined;
    const prefix = fx.prefix!;
    const children = () =>
      readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .map((d) => {
          try {
            return readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ');
          } catch {
            return '';
          }
        })
        .filter((cmd) => cmd.includes(`${prefix}-`) && cmd.includes('conntrack'));
    await until(`no conntrack child left: ${children().join('; ')}`, async () => children().length === 0, 5000, 50);
    assert.deepEqual(fx.leftovers(), []);
    assert.deepEqual(fx.hostLeftovers(), []);
  });
});
