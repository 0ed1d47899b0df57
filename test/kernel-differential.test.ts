// The kernel does what the simulation predicts (issue #18's differential test): on seeded random
// estates built through the EC2 API (test/helpers/kernel-estate.ts) — groups with random rules,
// references, a prefix list; in the routed variant also internet gateways, public IPs, peering,
// route tables, a NAT gateway and network ACLs — thousands of random flows are asked of the
// simulated data plane (POST /_palisade/network/evaluate, explain false) and made for real
// between the instances' network namespaces (and "the internet"): a TCP connect (ACCEPT: the
// SYN-ACK came back), a UDP request and its echo, an ICMP echo and its reply. One listener
// process (test/helpers/kernel-probe.py serve) per namespace answers every port the flows use;
// one client process per namespace makes that namespace's flows concurrently, each from its own
// source port (ICMP identifier), so no flow meets another's conntrack entry. A REJECT is a silent
// drop in AWS: the kernel's drop shows as a timeout. Zero mismatches is the bar; a mismatch
// prints the seed, the estate and the flow, with the simulation's explanation.
// `PALISADE_DIFF_SEEDS=N` runs N seeds per variant, `PALISADE_DIFF_SEED=S` starts at seed S.
// Needs Linux, root, iproute2, nftables and python3: without them it FAILS.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { ec2, start } from './helpers/server.ts';
import { rng } from './helpers/random-estate.ts';
import {
  buildKernelEstate,
  internetAddress,
  tearDownEstate,
  TCP_PORTS,
  UDP_PORTS,
  type KEstate,
  type KHost,
  type Rng,
} from './helpers/kernel-estate.ts';
import type { Palisade } from '../src/server.ts';

const PROBE = fileURLToPath(new URL('./helpers/kernel-probe.py', import.meta.url));
const SEEDS = Number(process.env.PALISADE_DIFF_SEEDS ?? 4);
const FIRST_SEED = Number(process.env.PALISADE_DIFF_SEED ?? 1);
/** flows per estate and round (a round on the estate as built, one after random changes) */
const FLOWS_PER_ROUND = 200;
/** how long a flow waits for its answer (a drop shows as this timeout) */
const TIMEOUT_S = 0.4;
/** a flow predicted ACCEPT that timed out is made once more, with this timeout (a slow machine is not a mismatch) */
const RETRY_TIMEOUT_S = 1.5;
const BATCH = 160;

function unavailable(): string | undefined {
  if (process.platform !== 'linux') return `the kernel differential test needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'the kernel differential test needs root (network namespaces, nftables): run it as root';
  for (const [cmd, args, pkg] of [
    ['ip', ['-V'], 'iproute2'],
    ['nft', ['--version'], 'nftables'],
    ['python3', ['--version'], 'python3'],
  ] as const) {
    try {
      execFileSync(cmd, args, { stdio: 'ignore' });
    } catch {
      return `the kernel differential test needs '${cmd}' (apt-get install ${pkg})`;
    }
  }
  return undefined;
}

interface Flow {
  n: number;
  /** the namespace it is made from, and its source address there (the internet's) */
  ns: string;
  src?: string;
  proto: 'tcp' | 'udp' | 'icmp';
  dst: string;
  port?: number;
  sport?: number;
  icmpId?: number;
  /** what the simulation is asked */
  sim: Record<string, unknown>;
  /** for the report */
  what: string;
}

interface Outcome {
  ok: boolean;
  how: string;
}

/** The processes the test started: killed in after() and, synchronously, on exit. */
const children = new Set<ChildProcess>();
const killAll = () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
};
process.on('exit', killAll);

function spawnIn(ns: string, args: string[]): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', ns, 'python3', '-u', PROBE, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.on('error', () => undefined);
  child.stdin!.on('error', () => undefined);
  children.add(child);
  child.once('exit', () => children.delete(child));
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + String(d)).slice(-4000)));
  (child as ChildProcess & { errText: () => string }).errText = () => err;
  return child;
}

const errText = (c: ChildProcess) => (c as ChildProcess & { errText?: () => string }).errText?.() ?? '';

/** A listener on every flow port of the namespace, once it says it is ready. */
async function serve(ns: string): Promise<ChildProcess> {
  const child = spawnIn(ns, ['serve', TCP_PORTS.join(','), UDP_PORTS.join(',')]);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`listener in ${ns} exited (${code}): ${errText(child)}`)));
  });
  return child;
}

/** A client process in a namespace: one batch of flows in, their outcomes out. */
class Client {
  private readonly waiting: ((line: string) => void)[] = [];
  readonly child: ChildProcess;

  constructor(readonly ns: string) {
    this.child = spawnIn(ns, ['client']);
    createInterface({ input: this.child.stdout! }).on('line', (l) => this.waiting.shift()?.(l));
    this.child.once('exit', (code) => {
      for (const w of this.waiting.splice(0)) w(JSON.stringify({ error: `client in ${ns} exited (${code}): ${errText(this.child)}` }));
    });
  }

  async run(flows: Flow[], timeout: number): Promise<Map<number, Outcome>> {
    const line = await new Promise<string>((resolve) => {
      this.waiting.push(resolve);
      const req = flows.map((f) => ({
        id: String(f.n),
        proto: f.proto,
        dst: f.dst,
        timeout,
        ...(f.port !== undefined ? { port: f.port } : {}),
        ...(f.sport !== undefined ? { sport: f.sport } : {}),
        ...(f.icmpId !== undefined ? { icmpId: f.icmpId } : {}),
        ...(f.src ? { src: f.src } : {}),
      }));
      this.child.stdin!.write(JSON.stringify(req) + '\n');
    });
    const out = JSON.parse(line) as { results?: Record<string, Outcome>; error?: string };
    if (out.error) throw new Error(`probe client in ${this.ns}: ${out.error}`);
    return new Map(Object.entries(out.results!).map(([k, v]) => [Number(k), v]));
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** Source ports and ICMP identifiers never used twice from one namespace (no flow meets another's conntrack entry). */
class Allocator {
  private readonly used = new Map<string, Set<number>>();
  private readonly avoid = new Set<number>([...TCP_PORTS, ...UDP_PORTS]);

  sport(ns: string, r: Rng): number {
    const set = this.used.get(`p ${ns}`) ?? new Set<number>();
    this.used.set(`p ${ns}`, set);
    for (;;) {
      // mostly ephemeral ports; some below 1024 (ACLs' reply rules tell them apart)
      const p = r.bool(0.1) ? 600 + Math.floor(r.next() * 424) : 1024 + Math.floor(r.next() * 64000);
      if (!this.avoid.has(p) && !set.has(p)) {
        set.add(p);
        return p;
      }
    }
  }

  icmpId(ns: string, r: Rng): number {
    const set = this.used.get(`i ${ns}`) ?? new Set<number>();
    this.used.set(`i ${ns}`, set);
    for (;;) {
      const id = 1 + Math.floor(r.next() * 65534);
      if (!set.has(id)) {
        set.add(id);
        return id;
      }
    }
  }
}

interface Mismatch {
  flow: Flow;
  sim: { verdict: string; decidedBy?: string };
  kernel: Outcome;
  explanation?: unknown;
}

describe('kernel differential: the kernel does what the simulation predicts', () => {
  let p: Palisade | undefined;
  let c: EC2Client;
  let prefix = '';
  let internetNs = '';
  let internetClient: Client | undefined;
  const alloc = new Allocator();
  const totals = {
    seeds: 0,
    flows: 0,
    accept: 0,
    reject: 0,
    retried: 0,
    mismatches: 0,
    byProto: { tcp: 0, udp: 0, icmp: 0 } as Record<string, number>,
  };

  type RouterLike = { settle?: () => Promise<void>; internetNamespace?: () => Promise<string> };
  const routers = () => p?.kernel?.router as RouterLike | undefined;

  const leftovers = () =>
    execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0] ?? '')
      .filter((n) => prefix && n.startsWith(`${prefix}-`));

  const safety = () => {
    killAll();
    for (const ns of leftovers()) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        /* gone */
      }
    }
  };

  before(async () => {
    const why = unavailable();
    if (why) throw new Error(why);
    process.on('exit', safety);
    p = await start({ dataplane: 'kernel' });
    prefix = p.kernel!.names.prefix;
    internetNs = p.kernel!.names.internetNs;
    c = ec2(p.url);
  });

  after(async () => {
    killAll();
    await Promise.all(
      [...children].map((ch) => new Promise((r) => (ch.exitCode !== null || ch.signalCode !== null ? r(0) : ch.once('exit', r)))),
    );
    await p?.close();
    const left = leftovers();
    safety();
    process.off('exit', safety);
    assert.deepEqual(left, [], `namespaces with the server's prefix ${prefix} left behind`);
  });

  /** Every committed change is in the kernel: instance namespaces, rulesets and routers. */
  async function settle(estate: KEstate): Promise<void> {
    const t0 = performance.now();
    for (;;) {
      await p!.kernel!.settle();
      await routers()?.settle?.();
      const info = p!.kernel!.info();
      if (info.pending === 0 && estate.hosts.every((h) => p!.kernel!.namespaceOf(h.id))) {
        // (the routers may have been marked by the last instance's interfaces: once more)
        await routers()?.settle?.();
        if (p!.kernel!.info().pending === 0) return;
      }
      if (performance.now() - t0 > 30_000) throw new Error(`the kernel plane did not settle: ${JSON.stringify(info)}`);
      await new Promise((r) => setImmediate(r));
    }
  }

  function makeFlows(estate: KEstate, r: Rng, nsOf: Map<string, string>): Flow[] {
    const flows: Flow[] = [];
    const hosts = estate.hosts;
    for (let n = 0; n < FLOWS_PER_ROUND; n++) {
      const proto = r.pick(['tcp', 'tcp', 'tcp', 'udp', 'udp', 'icmp', 'icmp'] as const);
      const fromInternet = estate.routed && internetClient && r.bool(0.12);
      let ns: string;
      let src: string | undefined;
      let simFrom: string;
      let dst: string;
      let simTo: string;
      let srcName: string;
      let dstName: string;
      if (fromInternet) {
        const to = r.pick(hosts);
        src = internetAddress(r);
        ns = internetNs;
        simFrom = `internet:${src}`;
        srcName = `internet ${src}`;
        dst = to.publicIp && r.bool(0.9) ? to.publicIp : to.privateIp;
        simTo = dst;
        dstName = `${to.id} ${dst}`;
      } else {
        let from: KHost;
        let to: KHost;
        do {
          from = r.pick(hosts);
          // (routed: half the flows stay in the source's VPC, where routes rarely decide)
          const near = estate.routed && r.bool(0.5) ? hosts.filter((h) => h.vpc === from.vpc && h !== from) : [];
          to = near.length ? r.pick(near) : r.pick(hosts);
        } while (from === to && hosts.length > 1);
        ns = nsOf.get(from.id)!;
        simFrom = from.id;
        srcName = `${from.id} ${from.privateIp}`;
        const kind = estate.routed ? r.pick(['private', 'private', 'private', 'private', 'public', 'internet'] as const) : 'private';
        if (kind === 'internet') {
          dst = internetAddress(r);
          simTo = `internet:${dst}`;
          dstName = `internet ${dst}`;
        } else {
          dst = kind === 'public' && to.publicIp ? to.publicIp : to.privateIp;
          simTo = dst;
          dstName = `${to.id} ${dst}`;
        }
      }
      const f: Flow = { n: totals.flows + n, ns, proto, dst, sim: { from: simFrom, to: simTo, protocol: proto }, what: '' };
      if (src) f.src = src;
      if (proto === 'icmp') {
        f.icmpId = alloc.icmpId(ns, r);
        Object.assign(f.sim, { icmpType: 8, icmpCode: 0 });
        f.what = `icmp echo ${srcName} -> ${dstName} (id ${f.icmpId})`;
      } else {
        f.port = r.pick(proto === 'tcp' ? TCP_PORTS : UDP_PORTS);
        f.sport = alloc.sport(ns, r);
        Object.assign(f.sim, { port: f.port, srcPort: f.sport });
        f.what = `${proto} ${srcName}:${f.sport} -> ${dstName}:${f.port}`;
      }
      flows.push(f);
    }
    return flows;
  }

  async function evaluate(flows: Flow[], explain: boolean): Promise<{ verdict: string; decidedBy?: string; error?: string }[]> {
    const res = await fetch(`${p!.url}/_palisade/network/evaluate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ flows: flows.map((f) => f.sim), explain }),
    });
    const body = (await res.json()) as { results: { verdict: string; decidedBy?: string; error?: string }[] };
    assert.equal(res.status, 200, JSON.stringify(body));
    return body.results;
  }

  /** Makes the flows for real: each namespace's in batches, every namespace at once. */
  async function makeFlowsReal(flows: Flow[], clients: Map<string, Client>, timeout: number): Promise<Map<number, Outcome>> {
    const byNs = new Map<string, Flow[]>();
    for (const f of flows) byNs.set(f.ns, [...(byNs.get(f.ns) ?? []), f]);
    const out = new Map<number, Outcome>();
    await Promise.all(
      [...byNs].map(async ([ns, list]) => {
        for (let i = 0; i < list.length; i += BATCH)
          for (const [k, v] of await clients.get(ns)!.run(list.slice(i, i + BATCH), timeout)) out.set(k, v);
      }),
    );
    return out;
  }

  function report(estate: KEstate, mismatches: Mismatch[], round: number): string {
    const lines = [
      `seed ${estate.seed} (${estate.routed ? 'routed' : 'groups only'}), ${round ? 'after the changes' : 'as built'}: ${mismatches.length} mismatch(es)`,
      'estate:',
      ...estate.log.map((l) => `  ${l}`),
      'flows:',
    ];
    for (const m of mismatches.slice(0, 20)) {
      lines.push(`  #${m.flow.n} ${m.flow.what}`);
      lines.push(
        `    simulation: ${m.sim.verdict} (${m.sim.decidedBy ?? '-'}); kernel: ${m.kernel.ok ? 'ACCEPT' : 'REJECT'} (${m.kernel.how})`,
      );
      if (m.explanation) lines.push(`    explanation: ${JSON.stringify(m.explanation).slice(0, 1500)}`);
    }
    if (mismatches.length > 20) lines.push(`  … and ${mismatches.length - 20} more`);
    return lines.join('\n');
  }

  async function runSeed(seed: number, routed: boolean, base: number, t: { diagnostic: (m: string) => void }): Promise<void> {
    const t0 = performance.now();
    const estate = await buildKernelEstate(c, seed, base, routed);
    totals.seeds++;
    const started: Client[] = [];
    const listeners: ChildProcess[] = [];
    try {
      await settle(estate);
      const tBuilt = performance.now();
      const nsOf = new Map(estate.hosts.map((h) => [h.id, p!.kernel!.namespaceOf(h.id)!]));
      const clients = new Map<string, Client>();
      for (const ns of nsOf.values()) {
        listeners.push(await serve(ns));
        const cl = new Client(ns);
        started.push(cl);
        clients.set(ns, cl);
      }
      if (routed && !internetClient) {
        const inet = await routers()?.internetNamespace?.();
        if (inet) {
          assert.equal(inet, internetNs);
          await serve(internetNs);
          internetClient = new Client(internetNs);
        }
      }
      if (internetClient) clients.set(internetNs, internetClient);

      const r = rng(seed * 7919 + (routed ? 1 : 0));
      for (const round of [0, 1]) {
        const tRound = round ? performance.now() : t0;
        if (round === 1) {
          await estate.change();
          await settle(estate);
        }
        const settledS = ((round ? performance.now() : tBuilt) - tRound) / 1000;
        const flows = makeFlows(estate, r, nsOf);
        const sims = await evaluate(flows, false);
        sims.forEach((s, i) => assert.ok(!s.error, `the simulation refused flow ${flows[i]!.what}: ${s.error}`));
        let kernel = await makeFlowsReal(flows, clients, TIMEOUT_S);
        // A flow predicted ACCEPT that timed out gets one more chance with a longer timeout, from a
        // fresh source port: a busy machine answering late is not a mismatch, a drop stays a drop.
        const late = flows.filter((f, i) => sims[i]!.verdict === 'ACCEPT' && !kernel.get(f.n)?.ok && kernel.get(f.n)?.how === 'timeout');
        if (late.length) {
          const again = late.map((f) => {
            const g: Flow = { ...f, sim: { ...f.sim } };
            if (g.sport !== undefined) g.sport = alloc.sport(g.ns, r);
            if (g.icmpId !== undefined) g.icmpId = alloc.icmpId(g.ns, r);
            return g;
          });
          const second = await makeFlowsReal(again, clients, RETRY_TIMEOUT_S);
          kernel = new Map(kernel);
          for (const g of again) {
            const o = second.get(g.n)!;
            kernel.set(g.n, { ...o, how: `${o.how} (retried from ${g.sport ?? g.icmpId})` });
          }
          totals.retried += late.length;
        }
        const mismatches: Mismatch[] = [];
        flows.forEach((f, i) => {
          const sim = sims[i]!;
          const k = kernel.get(f.n);
          assert.ok(k, `no kernel outcome for flow #${f.n} ${f.what}`);
          totals.byProto[f.proto]!++;
          if (sim.verdict === 'ACCEPT') totals.accept++;
          else totals.reject++;
          if ((sim.verdict === 'ACCEPT') !== k.ok) mismatches.push({ flow: f, sim, kernel: k });
        });
        totals.flows += flows.length;
        if (mismatches.length) {
          const explained = await evaluate(
            mismatches.slice(0, 20).map((m) => m.flow),
            true,
          );
          explained.forEach((e, i) => (mismatches[i]!.explanation = e));
          totals.mismatches += mismatches.length;
        }
        const accepted = sims.filter((s) => s.verdict === 'ACCEPT').length;
        const deciders = new Map<string, number>();
        for (const s of sims) if (s.verdict !== 'ACCEPT') deciders.set(s.decidedBy ?? '?', (deciders.get(s.decidedBy ?? '?') ?? 0) + 1);
        t.diagnostic(
          `seed ${seed}${routed ? ' routed' : ''}${round ? ' changed' : ''}: ${estate.hosts.length} instances, ${estate.groups.size} groups, ${flows.length} flows ` +
            `(${accepted} ACCEPT; REJECT by ${[...deciders].map(([k, v]) => `${k} ${v}`).join(', ')}), ${late.length} retried, ${mismatches.length} mismatches; ${round ? 'changed' : 'built'}+settled ${settledS.toFixed(1)} s, ` +
            `total ${((performance.now() - tRound) / 1000).toFixed(1)} s`,
        );
        assert.equal(mismatches.length, 0, report(estate, mismatches, round));
      }
    } finally {
      for (const cl of started) cl.stop();
      for (const l of listeners) if (l.exitCode === null && l.signalCode === null) l.kill('SIGKILL');
      await tearDownEstate(c, estate);
      await p!.kernel!.settle();
    }
  }

  it('groups only: security groups (rules, references, prefix lists) on seeded random estates', async (t) => {
    for (let s = 0; s < SEEDS; s++) await runSeed(FIRST_SEED + s, false, 20 + s, t);
  });

  it('routed: route tables, gateways, peering and network ACLs too', async (t) => {
    if (!routers()) {
      // TODO(issue #18): the VPC routers (src/kernel/router-plane.ts) are not wired into this
      // server: without them the kernel forwards everything, so only the groups variant can run.
      t.skip('the kernel VPC routers (src/kernel/router-plane.ts) are not part of this server yet');
      return;
    }
    for (let s = 0; s < SEEDS; s++) await runSeed(FIRST_SEED + 100 + s, true, 60 + 2 * s, t);
  });

  it('made thousands of flows, and leaves no namespace behind', async (t) => {
    t.diagnostic(
      `${totals.flows} flows (tcp ${totals.byProto.tcp}, udp ${totals.byProto.udp}, icmp ${totals.byProto.icmp}; ` +
        `${totals.accept} ACCEPT, ${totals.reject} REJECT), ${totals.retried} retried, ${totals.mismatches} mismatches`,
    );
    // (every seed that ran made both rounds; the full run — both variants — thousands of flows)
    assert.equal(totals.flows, totals.seeds * 2 * FLOWS_PER_ROUND);
    if (totals.seeds === 2 * SEEDS) assert.ok(totals.flows >= 2000 * Math.min(1, SEEDS / 4), `only ${totals.flows} flows were compared`);
    internetClient?.stop();
    killAll();
    await p!.close();
    p = undefined;
    assert.deepEqual(leftovers(), []);
  });
});
