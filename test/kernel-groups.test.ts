// The kernel data plane enforces security groups on real traffic (`--dataplane kernel`): two
// instances in one VPC as network namespaces, a Python HTTP server in one, curl and a Python
// agent (long-lived connections) in the other; the groups changed with the real EC2 SDK client.
// Needs Linux, root, iproute2, nftables, conntrack, python3 and curl: without them it FAILS.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateManagedPrefixListCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  ModifyManagedPrefixListCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  type EC2Client,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { ec2, start } from './helpers/server.ts';
import { KernelFixture, conntrackList, ctRemaining, kernelTestsUnavailable, runIn, until, type Agent } from './helpers/kernel.ts';
import type { Palisade } from '../src/server.ts';

const HTTP = 8080;
const ECHO = 9000;
const IDLE = 9100;

describe('kernel data plane: security groups on real traffic', () => {
  let p: Palisade | undefined;
  let c: EC2Client;
  const fx = new KernelFixture();
  let serverNs = '';
  let clientNs = '';
  let serverIp = '';
  let clientIp = '';
  let serverEni = '';
  let clientEni = '';
  let serverId = '';
  const g: Record<'srv' | 'cli' | 'extra' | 'plain', string> = { srv: '', cli: '', extra: '', plain: '' };
  let agent: Agent;
  /** the idle connection whose conntrack entry has the interface's 60 s timeout */
  let idle: { port: number; lastUse: number } | undefined;

  const kernelInfo = async () => (await (await fetch(`${p!.url}/_palisade/kernel`)).json()) as any;

  const allow = async (groupId: string, perm: IpPermission): Promise<string> => {
    const r = await c.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [perm] }));
    return r.SecurityGroupRules![0]!.SecurityGroupRuleId!;
  };
  const revoke = (groupId: string, ruleId: string) =>
    c.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: [ruleId] }));
  const tcp = (port: number, peer: Partial<IpPermission>): IpPermission => ({ IpProtocol: 'tcp', FromPort: port, ToPort: port, ...peer });
  const cidr = (x: string) => ({ IpRanges: [{ CidrIp: x }] });

  /** One connection attempt from the client (a dropped SYN fails after `timeout` s). */
  const connects = async (port: number, timeout = 0.3) => (await agent.ask({ op: 'connect', host: serverIp, port, timeout })).ok;
  /** Connections are refused from now on: polled (the kernel applies a change just after the call). */
  const becomesClosed = (port: number) => until(`port ${port} closed`, async () => !(await connects(port, 0.2)), 5000);
  const becomesOpen = (port: number) => until(`port ${port} open`, () => connects(port, 0.1), 5000);
  const curl = () => runIn(clientNs, 'curl', ['-s', '--max-time', '2', `http://${serverIp}:${HTTP}/`]);

  before(async () => {
    const why = kernelTestsUnavailable();
    if (why) throw new Error(why);
    p = await start({ dataplane: 'kernel' });
    fx.prefix = p.kernel!.names.prefix;
    c = ec2(p.url);
    const vpc = (await c.send(new CreateVpcCommand({ CidrBlock: '10.40.0.0/16' }))).Vpc!.VpcId!;
    const subnet = (await c.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.40.1.0/24' }))).Subnet!.SubnetId!;
    for (const k of Object.keys(g) as (keyof typeof g)[])
      g[k] = (await c.send(new CreateSecurityGroupCommand({ GroupName: k, Description: k, VpcId: vpc }))).GroupId!;
    const launch = async (group: string) =>
      (
        await c.send(
          new RunInstancesCommand({
            ImageId: 'ami-12345678',
            InstanceType: 't3.micro',
            MinCount: 1,
            MaxCount: 1,
            SubnetId: subnet,
            SecurityGroupIds: [group],
          }),
        )
      ).Instances![0]!;
    const s = await launch(g.srv);
    const cl = await launch(g.cli);
    [serverId, serverIp, serverEni] = [s.InstanceId!, s.PrivateIpAddress!, s.NetworkInterfaces![0]!.NetworkInterfaceId!];
    [clientIp, clientEni] = [cl.PrivateIpAddress!, cl.NetworkInterfaces![0]!.NetworkInterfaceId!];
    // The namespaces, as the admin API names them once the queue has made them.
    await until('both namespaces', async () => {
      const k = await kernelInfo();
      serverNs = k.namespaces.instances[s.InstanceId!];
      clientNs = k.namespaces.instances[cl.InstanceId!];
      return !!serverNs && !!clientNs && k.pending === 0;
    });
    // The server's interface tracks TCP connections for 60 s of idleness (AWS's minimum).
    await c.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: serverEni,
        ConnectionTrackingSpecification: { TcpEstablishedTimeout: 60 },
      }),
    );
    const http = fx.spawnIn(serverNs, 'python3', ['-m', 'http.server', String(HTTP), '--bind', serverIp]);
    http.stderr!.resume();
    http.stdout!.resume();
    await fx.echoServer(serverNs, serverIp, ECHO);
    await fx.echoServer(serverNs, serverIp, IDLE);
    // The server answers on its own address (loopback is never filtered) once it listens.
    await until(
      'the HTTP server listens',
      async () => (await runIn(serverNs, 'curl', ['-s', '--max-time', '1', `http://${serverIp}:${HTTP}/`])).code === 0,
    );
    agent = fx.agent(clientNs);
  });

  after(async () => {
    fx.stopPrograms();
    await fx.programsGone();
    await p?.close();
    fx.cleanupSync();
  });

  it('puts each instance in its own namespace, addressed, behind its VPC router namespace', async () => {
    const k = await kernelInfo();
    assert.equal(k.dataplane, 'kernel');
    assert.ok(serverNs.startsWith(`${k.prefix}-i-`));
    assert.equal(Object.keys(k.namespaces.routers).length, 1);
    const addrs = await runIn(serverNs, 'ip', ['-o', 'addr', 'show', 'eth0']);
    assert.match(addrs.stdout, new RegExp(`inet ${serverIp.replace(/\./g, '\\.')}/32`));
    const table = await runIn(serverNs, 'nft', ['list', 'table', 'inet', 'palisade']);
    assert.match(table.stdout, /policy drop/);
  });

  it('keeps an idle tracked connection after its rule is revoked (the timeout test reads it at the end)', async () => {
    // A tracked connection on IDLE, whose rule goes at once: it lives on its conntrack entry only.
    const rule = await allow(g.srv, tcp(IDLE, cidr(`${clientIp}/32`)));
    await becomesOpen(IDLE);
    const o = await agent.ask({ op: 'open', id: 'idle', host: serverIp, port: IDLE });
    assert.ok(o.ok, o.error);
    assert.equal((await agent.ask({ op: 'echo', id: 'idle', data: 'first' })).data, 'first');
    idle = { port: o.port!, lastUse: performance.now() };
    await revoke(g.srv, rule);
    await becomesClosed(IDLE);
    assert.equal((await agent.ask({ op: 'echo', id: 'idle', data: 'second' })).data, 'second', 'the tracked connection outlives its rule');
    idle.lastUse = performance.now();
  });

  it('denies by default and lets curl in once a rule allows it', async (t) => {
    assert.notEqual((await curl()).code, 0, 'no rule: no page');
    const t0 = performance.now();
    const rule = await allow(g.srv, tcp(HTTP, cidr(`${clientIp}/32`)));
    const afterCall = performance.now();
    const r = await agent.ask({ op: 'poll', host: serverIp, port: HTTP, timeout: 0.02, bound: 5 });
    assert.ok(r.ok, r.error);
    t.diagnostic(`authorize call ${(afterCall - t0).toFixed(1)} ms, then enforced within ${r.ms!.toFixed(1)} ms (${r.attempts} connects)`);
    const page = await curl();
    assert.equal(page.code, 0, page.stderr);
    assert.match(page.stdout, /Directory listing/);
    await revoke(g.srv, rule);
    await becomesClosed(HTTP);
    assert.notEqual((await curl()).code, 0, 'revoked: no page');
  });

  it('keeps a tracked connection after its rule is revoked, while new ones are refused', async () => {
    const rule = await allow(g.srv, tcp(ECHO, cidr(`${clientIp}/32`)));
    await becomesOpen(ECHO);
    const o = await agent.ask({ op: 'open', id: 'tracked', host: serverIp, port: ECHO });
    assert.ok(o.ok, o.error);
    assert.equal((await agent.ask({ op: 'echo', id: 'tracked', data: 'a' })).data, 'a');
    // the server's conntrack holds it
    const ct = await conntrackList(serverNs, ['-p', 'tcp', '--orig-port-dst', String(ECHO)]);
    assert.ok(
      ct.some((l) => l.includes(`sport=${o.port} `)),
      ct.join('\n'),
    );
    await revoke(g.srv, rule);
    await becomesClosed(ECHO);
    assert.equal((await agent.ask({ op: 'echo', id: 'tracked', data: 'b' })).data, 'b', 'established, tracked: still answered');
    await agent.ask({ op: 'close', id: 'tracked' });
  });

  it('cuts an untracked connection (all-open rules both ways) the moment its rule goes', async () => {
    // ingress from 0.0.0.0/0 with the default egress (all traffic to 0.0.0.0/0): not tracked
    const rule = await allow(g.srv, tcp(ECHO, cidr('0.0.0.0/0')));
    await becomesOpen(ECHO);
    const o = await agent.ask({ op: 'open', id: 'untracked', host: serverIp, port: ECHO });
    assert.ok(o.ok, o.error);
    assert.equal((await agent.ask({ op: 'echo', id: 'untracked', data: 'x' })).data, 'x');
    const ct = await conntrackList(serverNs, ['-p', 'tcp', '--orig-port-dst', String(ECHO)]);
    assert.ok(!ct.some((l) => l.includes(`sport=${o.port} `)), `the server tracks no entry for it:\n${ct.join('\n')}`);
    await revoke(g.srv, rule);
    await becomesClosed(ECHO);
    const cut = await agent.ask({ op: 'echo', id: 'untracked', data: 'y', timeout: 1 });
    assert.equal(cut.ok, false, 'the untracked connection is cut');
  });

  it('aggregates the rules of every group on the interface', async () => {
    await allow(g.extra, tcp(HTTP, cidr(`${clientIp}/32`)));
    assert.equal(await connects(HTTP), false, 'the rule is in a group the interface does not have');
    await c.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: serverEni, Groups: [g.srv, g.extra] }));
    await becomesOpen(HTTP);
    assert.equal((await curl()).code, 0);
    await c.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: serverEni, Groups: [g.srv] }));
    await becomesClosed(HTTP);
  });

  it('follows a group reference as its membership changes', async () => {
    const rule = await allow(g.srv, tcp(HTTP, { UserIdGroupPairs: [{ GroupId: g.cli }] }));
    await becomesOpen(HTTP); // the client holds `cli`
    assert.equal((await curl()).code, 0);
    await c.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: clientEni, Groups: [g.plain] }));
    await becomesClosed(HTTP);
    await c.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: clientEni, Groups: [g.cli] }));
    await becomesOpen(HTTP);
    await revoke(g.srv, rule);
    await becomesClosed(HTTP);
  });

  it('follows a prefix list as its entries change', async () => {
    const pl = (
      await c.send(
        new CreateManagedPrefixListCommand({
          PrefixListName: 'clients',
          AddressFamily: 'IPv4',
          MaxEntries: 5,
          Entries: [{ Cidr: '10.99.0.0/24' }],
        }),
      )
    ).PrefixList!;
    const rule = await allow(g.srv, tcp(HTTP, { PrefixListIds: [{ PrefixListId: pl.PrefixListId }] }));
    assert.equal(await connects(HTTP), false, 'the client is not in the list');
    const v2 = await c.send(
      new ModifyManagedPrefixListCommand({
        PrefixListId: pl.PrefixListId,
        CurrentVersion: pl.Version,
        AddEntries: [{ Cidr: `${clientIp}/32` }],
      }),
    );
    await becomesOpen(HTTP);
    assert.equal((await curl()).code, 0);
    await c.send(
      new ModifyManagedPrefixListCommand({
        PrefixListId: pl.PrefixListId,
        CurrentVersion: v2.PrefixList!.Version,
        RemoveEntries: [{ Cidr: `${clientIp}/32` }],
      }),
    );
    await becomesClosed(HTTP);
    await revoke(g.srv, rule);
  });

  it("expires an idle tracked connection on the interface's TCP established timeout (60 s)", async (t) => {
    assert.ok(idle, 'the idle connection was opened');
    const find = async () =>
      (await conntrackList(serverNs, ['-p', 'tcp', '--orig-port-dst', String(IDLE)])).find((l) => l.includes(`sport=${idle!.port} `));
    const line = await find();
    assert.ok(line, 'the idle connection has its conntrack entry');
    const idleS = (performance.now() - idle.lastUse) / 1000;
    const left = ctRemaining(line);
    t.diagnostic(`idle ${idleS.toFixed(1)} s, entry expires in ${left} s (of 60)`);
    // it counts down from the interface's 60 s (not Linux's 5 days): remaining + idle ≈ 60
    assert.ok(Math.abs(left + idleS - 60) <= 2, `remaining ${left} s after ${idleS.toFixed(1)} s idle`);
    // the client's interface keeps the default (5 days)
    const clientSide = (await conntrackList(clientNs, ['-p', 'tcp', '--orig-port-dst', String(IDLE)])).find((l) =>
      l.includes(`sport=${idle!.port} `),
    );
    assert.ok(clientSide && ctRemaining(clientSide) > 400_000, clientSide);
    // and it goes when the 60 s are up, not before
    await until('the entry expires', async () => !(await find()), 75_000, 250);
    const gone = (performance.now() - idle.lastUse) / 1000;
    t.diagnostic(`entry gone after ${gone.toFixed(1)} s idle`);
    assert.ok(gone >= 59 && gone <= 63, `expired after ${gone.toFixed(1)} s`);
    const late = await agent.ask({ op: 'echo', id: 'idle', data: 'late', timeout: 1 });
    assert.equal(late.ok, false, 'the expired connection is cut (its rule is gone)');
  });

  it('removes the namespace of a stopped instance', async () => {
    await c.send(new StopInstancesCommand({ InstanceIds: [serverId] }));
    await until('the namespace goes', async () => !(await kernelInfo()).namespaces.instances[serverId]);
    assert.ok(!fx.leftovers().includes(serverNs));
  });

  it('leaves no namespace, veth or table behind when the server closes', async () => {
    fx.stopPrograms();
    await fx.programsGone();
    await p!.close();
    p = undefined;
    assert.deepEqual(fx.leftovers(), []);
    assert.deepEqual(fx.hostLeftovers(), []);
  });
});
