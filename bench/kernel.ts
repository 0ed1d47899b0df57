// The kernel data plane (`--dataplane kernel`, Linux and root only): connections per second
// through two instance namespaces and their VPC router namespace (tracked and untracked flows),
// and the latency from a rule change returning to the kernel enforcing it — an authorize until a
// connection succeeds (target ≤ 10 ms), a revoke until new connections fail — polled with
// connects of a 2 ms timeout from a Python agent in the client's namespace.
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { ec2, start } from '../test/helpers/server.ts';
import { KernelFixture, kernelTestsUnavailable, until } from '../test/helpers/kernel.ts';

const mark = (ok: boolean) => (ok ? '✓' : '✗');
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

export async function benchKernel(print: (line: string) => void = console.log): Promise<void> {
  const why = kernelTestsUnavailable();
  if (why) {
    print(`kernel: not run — ${why}`);
    return;
  }
  const fx = new KernelFixture();
  const p = await start({ dataplane: 'kernel' });
  fx.prefix = p.kernel!.names.prefix;
  try {
    const c = ec2(p.url);
    const vpc = (await c.send(new CreateVpcCommand({ CidrBlock: '10.50.0.0/16' }))).Vpc!.VpcId!;
    const subnet = (await c.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.50.1.0/24' }))).Subnet!.SubnetId!;
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
    const t0 = performance.now();
    const s = await launch(srv);
    const cl = await launch(cli);
    await p.kernel!.settle();
    print(`kernel: two instances launched to both namespaces up: ${(performance.now() - t0).toFixed(0)} ms`);
    const serverNs = p.kernel!.namespaceOf(s.InstanceId!)!;
    const clientNs = p.kernel!.namespaceOf(cl.InstanceId!)!;
    const ip = s.PrivateIpAddress!;
    const clientIp = cl.PrivateIpAddress!;
    await fx.echoServer(serverNs, ip, 9000);
    const agent = fx.agent(clientNs);
    const allow = async (perm: IpPermission) =>
      (await c.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: srv, IpPermissions: [perm] }))).SecurityGroupRules![0]!
        .SecurityGroupRuleId!;
    const revoke = (id: string) => c.send(new RevokeSecurityGroupIngressCommand({ GroupId: srv, SecurityGroupRuleIds: [id] }));
    const tcp = (port: number, cidr: string): IpPermission => ({
      IpProtocol: 'tcp',
      FromPort: port,
      ToPort: port,
      IpRanges: [{ CidrIp: cidr }],
    });

    // Connections per second (connect + close, one at a time), tracked and untracked.
    for (const [label, cidr] of [
      ['tracked (rule from the client /32)', `${clientIp}/32`],
      ['untracked (0.0.0.0/0 both ways)', '0.0.0.0/0'],
    ] as const) {
      const id = await allow(tcp(9000, cidr));
      await until('open', async () => (await agent.ask({ op: 'connect', host: ip, port: 9000, timeout: 0.1 })).ok);
      const n = 2000;
      const r = await agent.ask({ op: 'burst', host: ip, port: 9000, n });
      if (!r.ok) throw new Error(r.error);
      print(
        `kernel: connections through the kernel path, ${label}: ${Math.round((n / r.ms!) * 1000).toLocaleString('en-US')} /s  (${n} in ${r.ms!.toFixed(0)} ms)`,
      );
      await revoke(id);
      await until('closed', async () => !(await agent.ask({ op: 'connect', host: ip, port: 9000, timeout: 0.05 })).ok);
    }

    // Rule change → enforced.
    const auth: number[] = [];
    const authCall: number[] = [];
    const rev: number[] = [];
    const rounds = 30;
    for (let k = 0; k < rounds; k++) {
      const a0 = performance.now();
      const id = await allow(tcp(9000, `${clientIp}/32`));
      const a1 = performance.now();
      const r = await agent.ask({ op: 'poll', host: ip, port: 9000, timeout: 0.002, bound: 5 });
      if (!r.ok) throw new Error(`authorize not enforced: ${r.error}`);
      auth.push(performance.now() - a1);
      authCall.push(a1 - a0);
      await revoke(id);
      const r1 = performance.now();
      for (;;) {
        const x = await agent.ask({ op: 'connect', host: ip, port: 9000, timeout: 0.002 });
        if (!x.ok) break;
        if (performance.now() - r1 > 5000) throw new Error('revoke not enforced');
      }
      rev.push(performance.now() - r1);
      await p.kernel!.settle(); // one rule change at a time: the next starts on an idle queue
    }
    const p50 = pct(auth, 50);
    const p99 = pct(auth, 99);
    print(
      `kernel: AuthorizeSecurityGroupIngress returned → connection succeeds: p50 ${p50.toFixed(2)} ms  p99 ${p99.toFixed(2)} ms  max ${Math.max(...auth).toFixed(2)} ms  (${rounds} changes; the call itself p50 ${pct(authCall, 50).toFixed(2)} ms)  [target ≤ 10 ms] ${mark(p99 <= 10)}`,
    );
    print(
      `kernel: RevokeSecurityGroupIngress returned → new connections fail: p50 ${pct(rev, 50).toFixed(2)} ms  p99 ${pct(rev, 99).toFixed(2)} ms  (includes one 2 ms connect timeout)`,
    );
    const st = p.kernel!.stats;
    print(`kernel: nft transactions: ${st.applies} (${st.additive} additive, ${st.replaces} replacing) through ${st.driver}`);
  } finally {
    fx.stopPrograms();
    await fx.programsGone();
    await p.close();
    fx.cleanupSync();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchKernel();
