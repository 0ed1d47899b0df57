// API benchmarks against the built server in a child process (never in this process):
//  - startup: spawn → first answered health check and first EC2 call (median of several spawns);
//  - security-group API throughput over 8 keep-alive connections with state on disk (WAL SQLite).
import { connect } from 'node:net';
import { Agent } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Conn, agentPost, drive, ec2Request, mark, msf, num, openConns, spawnPalisade, type LoadResult } from './wire.ts';

type Print = (line: string) => void;

const V = '&Version=2016-11-15';

// ---------------------------------------------------------------------------------------------
// Startup

/** One raw request on a fresh connection; rejects when the port is not accepting yet. */
function once(port: number, req: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, noDelay: true });
    let data = '';
    s.on('data', (d) => {
      data += d.toString('latin1');
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return;
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(data.slice(0, end));
      if (m && data.length >= end + 4 + Number(m[1])) {
        s.destroy();
        resolve({ status: Number(data.slice(9, 12)), body: data.slice(end + 4) });
      }
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error('closed')));
    s.write(req);
  });
}

async function poll(port: number, req: Buffer, deadline: number): Promise<{ status: number; body: string }> {
  for (;;) {
    try {
      const r = await once(port, req);
      if (r.status === 200) return r;
    } catch {
      /* not listening yet */
    }
    if (performance.now() > deadline) throw new Error('server did not answer within 10 s');
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * Spawn → first 200 from GET /_palisade/health, and spawn → first 200 from an EC2
 * DescribeSecurityGroups (which also creates the region's default VPC and group).
 * The port is chosen beforehand so the client can poll it from the moment of the spawn.
 */
async function startupOnce(env: NodeJS.ProcessEnv): Promise<{ health: number; ec2: number; cpu?: number; waited?: number }> {
  const { spawn } = await import('node:child_process');
  const { root } = await import('./wire.ts');
  const port = await freePort();
  const health = Buffer.from(`GET /_palisade/health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
  const dsg = ec2Request(port, `Action=DescribeSecurityGroups${V}`);
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [join(root, 'bin', 'palisade.js'), 'start', '--port', String(port), '--in-memory', '--log-level', 'error'],
    { stdio: 'ignore', env },
  );
  try {
    const deadline = t0 + 10_000;
    const [h, e] = await Promise.all([
      poll(port, health, deadline).then(() => performance.now() - t0),
      poll(port, dsg, deadline).then((r) => {
        if (!r.body.includes('<groupName>default</groupName>'))
          throw new Error(`unexpected DescribeSecurityGroups answer: ${r.body.slice(0, 300)}`);
        return performance.now() - t0;
      }),
    ]);
    return { health: h, ec2: e, ...schedstat(child.pid!) };
  } finally {
    await new Promise<void>((r) => {
      if (child.exitCode !== null) return r();
      child.once('exit', () => r());
      child.kill('SIGTERM');
    });
  }
}

/** Time the main thread of a process has run and has waited for a CPU, in ms (Linux /proc). */
function schedstat(pid: number): { cpu?: number; waited?: number } {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ').map(Number);
    return { cpu: run! / 1e6, waited: wait! / 1e6 };
  } catch {
    return {};
  }
}

/** utime + stime of a process in seconds, from /proc (undefined elsewhere). */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // fields 14 and 15, in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchStartup(print: Print = console.log, runs = 5): Promise<{ health: number; ec2: number }> {
  const { execFileSync } = await import('node:child_process');
  // NODE_EXTRA_CA_CERTS makes every node process parse that bundle before running any code
  // (~60 ms on this kind of machine). The server never uses TLS; when the variable is set the
  // figures are given both ways, the target judged without it (the server's own start).
  const inherited = process.env;
  const clean = { ...process.env };
  delete clean.NODE_EXTRA_CA_CERTS;
  const envs: [string, NodeJS.ProcessEnv][] = inherited.NODE_EXTRA_CA_CERTS
    ? [
        ['', clean],
        [' (NODE_EXTRA_CA_CERTS set, as in this environment)', inherited],
      ]
    : [['', inherited]];
  const bare = (env: NodeJS.ProcessEnv) => {
    const xs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      execFileSync(process.execPath, ['-e', '0'], { env });
      xs.push(performance.now() - t);
    }
    return median(xs);
  };
  const results = envs.map(() => ({ hs: [] as number[], es: [] as number[], cpu: [] as number[], waited: [] as number[] }));
  for (const [, env] of envs) await startupOnce(env); // warm the page cache
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < envs.length; k++) {
      const r = await startupOnce(envs[k]![1]);
      results[k]!.hs.push(r.health);
      results[k]!.es.push(r.ec2);
      if (r.cpu !== undefined) results[k]!.cpu.push(r.cpu);
      if (r.waited !== undefined) results[k]!.waited.push(r.waited);
    }
  }
  const out = { health: median(results[0]!.hs), ec2: median(results[0]!.es) };
  envs.forEach(([label, env], k) => {
    const { hs, es, cpu, waited } = results[k]!;
    const h = median(hs);
    const e = median(es);
    print(
      `startup${label}: spawn → first health answer: ${msf(h)}  (median of ${runs}: ${hs.map((x) => x.toFixed(0)).join(', ')})  [target ≤ 150 ms] ${mark(h <= 150)}`,
    );
    print(
      `startup${label}: spawn → first DescribeSecurityGroups answer: ${msf(e)}  (median of ${runs}: ${es.map((x) => x.toFixed(0)).join(', ')})  [target ≤ 150 ms] ${mark(e <= 150)}`,
    );
    if (cpu.length)
      print(
        `startup${label}: the server's main thread ran ${msf(median(cpu))} by then and waited ${msf(median(waited))} for a CPU (other load on the machine)`,
      );
    print(`startup${label}: for reference, \`node -e 0\` takes ${msf(bare(env))} here`);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Security-group API throughput

function line(label: string, r: LoadResult, unit: string, target: number): string {
  const err = r.errors ? `  ${r.errors} ERRORS (first: ${r.firstError})` : '';
  const cpu = r.serverCpuUs !== undefined ? `, server CPU ${num(r.serverCpuUs)} µs/op` : '';
  return `${label}: ${num(r.rate)} ${unit}  p50 ${msf(r.p50)}  p99 ${msf(r.p99)}  (${num(r.ops)} in ${r.secs.toFixed(2)} s${cpu})  [target ≥ ${num(target)} ${unit}] ${mark(r.rate >= target && !r.errors)}${err}`;
}

async function call(conn: Conn, port: number, body: string): Promise<string> {
  const r = await conn.send(ec2Request(port, body + V));
  const text = r.body.toString('utf8');
  if (r.status !== 200) throw new Error(`${body.split('&')[0]} → HTTP ${r.status}: ${text.slice(0, 400)}`);
  return text;
}

export interface SgOptions {
  groups?: number;
  rulesPerGroup?: number;
  conns?: number;
  secs?: number;
  agentComparison?: boolean;
  /** node flags for the server process, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] */
  nodeArgs?: string[];
  /** a subset of the scenarios: all, one, pairs */
  only?: string[];
}

export async function benchSecurityGroups(print: Print = console.log, o: SgOptions = {}): Promise<Record<string, LoadResult>> {
  const groups = o.groups ?? 100;
  const rulesPer = o.rulesPerGroup ?? 10;
  const nConns = o.conns ?? 8;
  const secs = o.secs ?? 4;
  const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-'));
  const server = await spawnPalisade(['--state-dir', dir], o.nodeArgs);
  const { port } = server;
  const out: Record<string, LoadResult> = {};
  try {
    // Seed: `groups` groups with `rulesPerGroup` ingress rules each (plus their default egress rule).
    const seed = await new Conn(port).open();
    const ids: string[] = [];
    for (let g = 0; g < groups; g++) {
      const xml = await call(seed, port, `Action=CreateSecurityGroup&GroupName=bench-${g}&GroupDescription=bench%20group%20${g}`);
      const id = /<groupId>(sg-[0-9a-f]+)<\/groupId>/.exec(xml)![1]!;
      ids.push(id);
      let perms = '';
      for (let k = 1; k <= rulesPer; k++) {
        perms +=
          `&IpPermissions.${k}.IpProtocol=tcp&IpPermissions.${k}.FromPort=${1000 + k}&IpPermissions.${k}.ToPort=${1000 + k}` +
          `&IpPermissions.${k}.IpRanges.1.CidrIp=10.${g % 256}.${k}.0%2F24&IpPermissions.${k}.IpRanges.1.Description=rule%20${k}`;
      }
      await call(seed, port, `Action=AuthorizeSecurityGroupIngress&GroupId=${id}${perms}`);
    }
    const all = await call(seed, port, 'Action=DescribeSecurityGroups');
    const returned = (all.match(/<groupName>/g) ?? []).length;
    if (returned !== groups + 1) throw new Error(`expected ${groups + 1} groups, DescribeSecurityGroups returned ${returned}`);
    const one = await call(seed, port, `Action=DescribeSecurityGroups&GroupId.1=${ids[0]}`);
    if ((one.match(/<cidrIp>/g) ?? []).length !== rulesPer + 1) throw new Error(`unexpected single-group answer: ${one.slice(0, 400)}`);
    seed.close();

    const conns = await openConns(port, nConns);
    // The server's own CPU time per operation (Linux /proc), a figure other load on the machine disturbs less.
    const measure = async (f: () => Promise<LoadResult>): Promise<LoadResult> => {
      const c0 = cpuSeconds(server.child.pid!);
      const r = await f();
      const c1 = cpuSeconds(server.child.pid!);
      if (c0 !== undefined && c1 !== undefined) r.serverCpuUs = ((c1 - c0) / r.ops) * 1e6;
      return r;
    };
    const client = `raw keep-alive HTTP/1.1 client, ${nConns} connections, 1 request in flight each, pre-built SigV4-shaped form POSTs`;
    print(
      `security groups (server: --state-dir on ${tmpdir()}, WAL SQLite; client: ${client}; ${Math.round(all.length / 1024)} KB answer for all groups):`,
    );

    const want = (name: string) => !o.only?.length || o.only.includes(name);

    if (want('all')) {
      // a. every group (all returned: no MaxResults)
      const allReq = ec2Request(port, `Action=DescribeSecurityGroups${V}`);
      await drive(conns, 300, () => allReq, { maxSecs: 2 });
      out.all = await measure(() => drive(conns, 1_000_000, () => allReq, { maxSecs: secs }));
      print(line(`  a. DescribeSecurityGroups (all ${groups + 1} groups, ${groups} x ${rulesPer} rules)`, out.all, 'req/s', 1000));
    }

    if (want('one')) {
      // b. one group by id, cycling through the groups
      const oneReqs = ids.map((id) => ec2Request(port, `Action=DescribeSecurityGroups&GroupId.1=${id}${V}`));
      let k = 0;
      const pick = () => oneReqs[k++ % oneReqs.length]!;
      await drive(conns, 2000, pick, { maxSecs: 2 });
      out.one = await measure(() => drive(conns, 10_000_000, pick, { maxSecs: secs }));
      print(line('  b. DescribeSecurityGroups (one GroupId)', out.one, 'req/s', 6000));
    }

    if (want('pairs')) {
      // c. authorize + revoke of one rule, each connection on its own group so that every call succeeds
      const pairs = conns.map((_, c) => {
        const p = `&GroupId=${ids[c % ids.length]}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=${20000 + c}&IpPermissions.1.ToPort=${20000 + c}&IpPermissions.1.IpRanges.1.CidrIp=192.168.0.0%2F16`;
        return [
          ec2Request(port, `Action=AuthorizeSecurityGroupIngress${p}${V}`),
          ec2Request(port, `Action=RevokeSecurityGroupIngress${p}${V}`),
        ] as const;
      });
      // Each connection alternates authorize/revoke across the warm-up and the measured run.
      const phase = conns.map(() => 0);
      const step = (c: number) => pairs[c]![phase[c]!++ & 1]!;
      await drive(conns, 1000, step, { maxSecs: 2 });
      out.pairs = await measure(() => drive(conns, 10_000_000, step, { maxSecs: secs }));
      print(line('  c. AuthorizeSecurityGroupIngress + RevokeSecurityGroupIngress (each call an op)', out.pairs, 'ops/s', 5000));
      // A connection stopped by the clock may have ended on an authorize: revoke it.
      await Promise.all(conns.map((c, i) => (phase[i]! & 1 ? c.send(pairs[i]![1]) : undefined)));
    }

    if ((o.agentComparison ?? true) && want('one')) {
      // b. again through node:http and a keep-alive Agent (maxSockets 8), for comparison.
      const agent = new Agent({ keepAlive: true, maxSockets: nConns });
      const body = `Action=DescribeSecurityGroups&GroupId.1=${ids[1 % ids.length]}${V}`;
      const r = await measure(async () => {
        const lat: number[] = [];
        let errors = 0;
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: nConns }, async () => {
            while (performance.now() - t0 < 2000) {
              const s = performance.now();
              if ((await agentPost(agent, port, body)) !== 200) errors++;
              lat.push(performance.now() - s);
            }
          }),
        );
        const t = (performance.now() - t0) / 1000;
        lat.sort((a, b) => a - b);
        return {
          ops: lat.length,
          secs: t,
          rate: lat.length / t,
          p50: lat[Math.floor(lat.length / 2)]!,
          p99: lat[Math.floor(lat.length * 0.99)]!,
          errors,
        };
      });
      agent.destroy();
      const cpu = r.serverCpuUs !== undefined ? `, server CPU ${num(r.serverCpuUs)} µs/op` : '';
      print(
        `  (b. with node:http + Agent{keepAlive, maxSockets ${nConns}} as the client instead: ${num(r.rate)} req/s  p50 ${msf(r.p50)}  p99 ${msf(r.p99)}${cpu}${r.errors ? `  ${r.errors} ERRORS` : ''})`,
      );
    }
    for (const c of conns) c.close();
    // Everything acknowledged is on disk: the groups survive a restart.
    await server.stop();
    const again = await spawnPalisade(['--state-dir', dir]);
    try {
      const c = await new Conn(again.port).open();
      const x = await call(c, again.port, 'Action=DescribeSecurityGroups');
      const n = (x.match(/<groupName>/g) ?? []).length;
      const rules = (x.match(/<cidrIp>/g) ?? []).length;
      c.close();
      const expectRules = groups * (rulesPer + 1) + 1;
      print(
        `  after a restart on the same --state-dir: ${n} groups, ${rules} IPv4 rules (expected ${groups + 1} and ${expectRules}) ${mark(n === groups + 1 && rules === expectRules)}`,
      );
    } finally {
      await again.stop();
    }
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
