// Network-path benchmarks: new-flow verdicts per second through the whole path (route, ACLs,
// both group gates, the reply through the ACLs) on a synthetic estate — 10,000 interfaces and
// 50,000 group rules (bench/engine.ts's generator) in 1,000 subnets, each with its own route table
// (the local route and ~10 others) and its own network ACL (20 entries) — and the incremental
// recompile after one route table or one ACL changes.
//
// The figure held to the target is the verdict path's on ends resolved once (`DataPlane.verdictAt`
// on `endHandle`s — as bench/engine.ts measures the security-group gates on handles, and as the
// matrix judges its port segments); the same flows on FlowEnd objects (`judgeFlowFast`: the ends
// resolved per flow, as the batch API with explain off asks) and through the explaining path
// (`judgeFlow` with explain: true, which builds the route's hops and the gates' rules) are printed
// for information, and the security-group gates alone (bench/engine.ts) from the same run for scale.
// Both are measured as the server runs: bundled by esbuild (scripts/build.mjs bundles the server
// the same way). Run under tsx, every named function and closure of src/ pays tsx's `__name`
// wrapper, which is not in the bundle: `benchPaths` bundles this file into a temporary .mjs and
// runs it in a child node (`PALISADE_BENCH_BUNDLED=1` marks the child), unless it already is one.
import { DataPlane, type Packet } from '../src/dataplane/dataplane.ts';
import { FLOW_ACCEPT, judgeFlow, judgeFlowFast, type FlowEnd } from '../src/dataplane/flow.ts';
import { parseAddress } from '../src/dataplane/addresses.ts';
import type { AclEntryInput, AclInput, RouteInput, RouteTableInput } from '../src/dataplane/routing.ts';
import { rng, syntheticEstate, verdictsPerSecond } from './engine.ts';

const SUBNETS = 1_000;

export interface PathEstate {
  plane: DataPlane;
  tables: RouteTableInput[];
  acls: AclInput[];
  /** per interface: its private end, its public end (if any), its subnet */
  privateEnd: FlowEnd[];
  publicEnd: (FlowEnd | undefined)[];
  subnetOf: Int32Array;
  /** interfaces by subnet */
  members: number[][];
  internet: FlowEnd[];
  /** the same ends resolved (DataPlane.endHandle); publicH -1: none */
  privateH: Int32Array;
  publicH: Int32Array;
  internetH: Int32Array;
  randomTable: (id: string, k: number) => RouteTableInput;
  randomAcl: (id: string) => AclInput;
}

export function pathEstate(seed = 11): PathEstate {
  const e = syntheticEstate(10_000, 1_000, 50_000, seed);
  const r = rng(seed + 1);
  const int = (n: number) => Math.floor(r() * n);
  // As groups usually are: the default egress rule (all traffic out), and a quarter of them open
  // to the VPC on the service ports, an eighth to the internet on 443.
  e.groups.forEach((g, k) =>
    e.policy.setGroup({
      ...g,
      rules: [
        ...g.rules,
        { id: `sgr-${k}-out`, groupId: g.id, egress: true, protocol: '-1', cidr4: '0.0.0.0/0' },
        ...(k % 4 === 0
          ? [{ id: `sgr-${k}-vpc`, groupId: g.id, egress: false, protocol: 'tcp', from: 0, to: 2100, cidr4: '10.0.0.0/16' }]
          : []),
        ...(k % 8 === 0
          ? [{ id: `sgr-${k}-web`, groupId: g.id, egress: false, protocol: 'tcp', from: 443, to: 443, cidr4: '0.0.0.0/0' }]
          : []),
      ],
    }),
  );
  const plane = new DataPlane(e.policy);
  const paths = plane.paths;
  paths.setGateway({ id: 'igw-1', kind: 'igw', vpcId: 'vpc-1' });
  paths.setGateway({ id: 'eigw-1', kind: 'eigw', vpcId: 'vpc-1' });
  paths.setPeering({ id: 'pcx-1', vpcIds: ['vpc-1', 'vpc-2'], active: true });
  for (let n = 0; n < 10; n++)
    paths.setNat({ id: `nat-${n}`, subnetId: `subnet-${n}`, publicIp: `198.19.0.${n + 1}`, privateIp: `10.0.0.${n + 1}`, available: true });
  const cidr = () => `${11 + int(200)}.${int(256)}.${int(16) * 16}.0/${[12, 16, 20, 24, 28][int(5)]}`;
  const randomTable = (id: string, k: number): RouteTableInput => {
    const routes: RouteInput[] = [
      { destination: '10.0.0.0/16', target: { kind: 'local' } },
      // public subnets (and the NAT gateways' ones) to the internet gateway, the others through a NAT gateway
      { destination: '0.0.0.0/0', target: k < 10 || k % 2 === 0 ? { kind: 'igw', id: 'igw-1' } : { kind: 'nat', id: `nat-${k % 10}` } },
      { destination: '::/0', target: { kind: 'eigw', id: 'eigw-1' } },
    ];
    while (routes.length < 11) {
      const destination = cidr();
      if (routes.some((x) => x.destination === destination)) continue;
      const t = int(4);
      routes.push({
        destination,
        target: t === 0 ? { kind: 'pcx', id: 'pcx-1' } : t === 1 ? { kind: 'igw', id: 'igw-1' } : { kind: 'nat', id: `nat-${int(10)}` },
        ...(t === 3 ? { blackhole: true } : {}),
      });
    }
    return { id, vpcId: 'vpc-1', routes };
  };
  const randomAcl = (id: string): AclInput => {
    const entries: AclEntryInput[] = [];
    for (const egress of [false, true]) {
      // 9 specific entries (most allow), then allow-all at 100 and the `*` deny
      const numbers = new Set<number>();
      while (numbers.size < 8) numbers.add(1 + int(99));
      for (const ruleNumber of numbers) {
        const proto = [6, 6, 6, 17, 1, -1][int(6)]!;
        const from = int(2000);
        entries.push({
          ruleNumber,
          egress,
          protocol: proto,
          allow: r() < 0.8,
          cidr: r() < 0.5 ? cidr() : `10.0.${int(40)}.0/${[20, 24, 28][int(3)]}`,
          ...(proto === 6 || proto === 17 ? { ports: { from, to: from + int(100) } } : {}),
          ...(proto === 1 ? { icmp: { type: -1, code: -1 } } : {}),
        });
      }
      entries.push({ ruleNumber: 100, egress, protocol: -1, allow: true, cidr: '0.0.0.0/0' });
      entries.push({ ruleNumber: 32767, egress, protocol: -1, allow: false, cidr: '0.0.0.0/0' });
    }
    return { id, entries };
  };
  const tables: RouteTableInput[] = [];
  const acls: AclInput[] = [];
  for (let k = 0; k < SUBNETS; k++) {
    const t = randomTable(`rtb-${k}`, k);
    const a = randomAcl(`acl-${k}`);
    tables.push(t);
    acls.push(a);
    paths.setRouteTable(t);
    paths.setAcl(a);
    paths.setSubnet({ id: `subnet-${k}`, vpcId: 'vpc-1', routeTableId: t.id, aclId: a.id });
  }
  const n = e.interfaces.length;
  const subnetOf = new Int32Array(n);
  const members: number[][] = Array.from({ length: SUBNETS }, () => []);
  const privateEnd: FlowEnd[] = [];
  const publicEnd: (FlowEnd | undefined)[] = [];
  for (let i = 0; i < n; i++) {
    const id = e.interfaces[i]!;
    const k = Math.floor((i * SUBNETS) / n);
    subnetOf[i] = k;
    members[k]!.push(i);
    // interfaces in the internet-routed subnets have a public IPv4
    const pub = k < 10 || k % 2 === 0 ? `198.18.${(i >> 8) & 255}.${i & 255}` : undefined;
    paths.setInterface({
      id,
      subnetId: `subnet-${k}`,
      vpcId: 'vpc-1',
      ...(pub ? { publicIp: parseAddress(pub)! } : {}),
      hasIpv6: false,
    });
    const text = e.policy.getInterface(id)!.ipv4[0]!;
    privateEnd.push({ kind: 'interface', interfaceId: id, address: parseAddress(text)!, text, viaPublic: false });
    publicEnd.push(pub ? { kind: 'interface', interfaceId: id, address: parseAddress(pub)!, text: pub, viaPublic: true } : undefined);
  }
  const internet: FlowEnd[] = Array.from({ length: 256 }, (_, j) => {
    const text = `${[8, 52, 93, 151, 203][j % 5]}.${int(256)}.${int(256)}.${j}`;
    return { kind: 'external', address: parseAddress(text)!, text };
  });
  const privateH = Int32Array.from(privateEnd, (x) => plane.endHandle(x));
  const publicH = Int32Array.from(publicEnd, (x) => (x ? plane.endHandle(x) : -1));
  const internetH = Int32Array.from(internet, (x) => plane.endHandle(x));
  return {
    plane,
    tables,
    acls,
    privateEnd,
    publicEnd,
    subnetOf,
    members,
    internet,
    privateH,
    publicH,
    internetH,
    randomTable,
    randomAcl,
  };
}

/**
 * New-flow verdicts per second through the verdict path on resolved ends (`verdictAt`: commit
 * false, explain false, replies), a quarter each: within one subnet, across subnets, to the
 * internet, from the internet to a public address. Flows are drawn inside the loop (xorshift32),
 * as in bench/engine.ts; the ends are the estate's handles (`endHandle`, resolved once).
 */
export function pathVerdictsPerSecond(p: PathEstate, flows = 1_000_000, seed = 7): { rate: number; accepted: number } {
  const n = p.privateH.length;
  let x = (seed * 0x9e3779b1) | 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  const plane = p.plane;
  const { privateH, publicH, internetH, members, subnetOf } = p;
  let accepted = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < flows; i++) {
    const a = Math.floor(next() * n);
    const kind = i & 3;
    const proto = next() < 0.8 ? 6 : 17;
    const srcPort = 32768 + Math.floor(next() * 28000);
    const dstPort = next() < 0.3 ? 443 : Math.floor(next() * 2100);
    let src: number;
    let dst: number;
    if (kind === 0) {
      const m = members[subnetOf[a]!]!;
      src = privateH[a]!;
      dst = privateH[m[Math.floor(next() * m.length)]!]!;
    } else if (kind === 1) {
      src = privateH[a]!;
      dst = privateH[Math.floor(next() * n)]!;
    } else if (kind === 2) {
      src = privateH[a]!;
      dst = internetH[Math.floor(next() * 256)]!;
    } else {
      src = internetH[Math.floor(next() * 256)]!;
      const pub = publicH[a]!;
      dst = pub >= 0 ? pub : privateH[a]!;
    }
    if (plane.verdictAt(src, dst, proto, srcPort, dstPort, NaN, NaN, 0, true) === FLOW_ACCEPT) accepted++;
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { rate: flows / s, accepted: accepted / flows };
}

/**
 * The same flows (same draws) on FlowEnd objects: through `judgeFlowFast` (the ends resolved per
 * flow), or with `explain` through `judgeFlow` (explain: true, commit: false, replies).
 */
export function pathEndVerdictsPerSecond(p: PathEstate, flows = 1_000_000, seed = 7, explain = false): { rate: number; accepted: number } {
  const n = p.privateEnd.length;
  let x = (seed * 0x9e3779b1) | 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  const opts = { commit: false, explain: true, replies: true } as const;
  const plane = p.plane;
  let accepted = 0;
  // one packet, its fields drawn per flow (a batch's caller holds its packets; neither path keeps one)
  const pkt: Packet = { proto: 6, srcPort: 0, dstPort: 0 };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < flows; i++) {
    const a = Math.floor(next() * n);
    const kind = i & 3;
    pkt.proto = next() < 0.8 ? 6 : 17;
    pkt.srcPort = 32768 + Math.floor(next() * 28000);
    pkt.dstPort = next() < 0.3 ? 443 : Math.floor(next() * 2100);
    let src: FlowEnd;
    let dst: FlowEnd;
    if (kind === 0) {
      const m = p.members[p.subnetOf[a]!]!;
      src = p.privateEnd[a]!;
      dst = p.privateEnd[m[Math.floor(next() * m.length)]!]!;
    } else if (kind === 1) {
      src = p.privateEnd[a]!;
      dst = p.privateEnd[Math.floor(next() * n)]!;
    } else if (kind === 2) {
      src = p.privateEnd[a]!;
      dst = p.internet[Math.floor(next() * 256)]!;
    } else {
      src = p.internet[Math.floor(next() * 256)]!;
      dst = p.publicEnd[a] ?? p.privateEnd[a]!;
    }
    if (explain ? judgeFlow(plane, src, dst, pkt, 0, opts).verdict === 'ACCEPT' : judgeFlowFast(plane, src, dst, pkt, 0) === FLOW_ACCEPT)
      accepted++;
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { rate: flows / s, accepted: accepted / flows };
}

/** Milliseconds to recompile after one change, `runs` times: median and p99. */
export function pathRecompileMs(p: PathEstate, what: 'route' | 'acl', runs = 1_000): { median: number; p99: number } {
  const times: number[] = [];
  const paths = p.plane.paths;
  for (let i = 0; i < runs; i++) {
    const k = (i * 7919) % SUBNETS;
    let t0: bigint;
    if (what === 'route') {
      // one route changed: a new destination replaces the last one
      const old = p.tables[k]!;
      const next = {
        ...old,
        routes: [...old.routes.slice(0, -1), { destination: `172.16.${i & 255}.0/24`, target: { kind: 'igw', id: 'igw-1' } } as RouteInput],
      };
      t0 = process.hrtime.bigint();
      paths.setRouteTable(next);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      p.tables[k] = next;
    } else {
      // one entry changed: its action flipped
      const old = p.acls[k]!;
      const j = i % old.entries.length;
      const next = { ...old, entries: old.entries.map((x, m) => (m === j ? { ...x, allow: !x.allow } : x)) };
      t0 = process.hrtime.bigint();
      paths.setAcl(next);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      p.acls[k] = next;
    }
  }
  times.sort((a, b) => a - b);
  return { median: times[times.length >> 1]!, p99: times[Math.floor(times.length * 0.99)]! };
}

export async function benchPaths(print: (line: string) => void = console.log): Promise<void> {
  if (!process.env.PALISADE_BENCH_BUNDLED) return runBundled(print);
  const p = pathEstate();
  const median = <T extends { rate: number }>(xs: T[]) => xs.sort((a, b) => a.rate - b.rate)[xs.length >> 1]!;
  // for scale, on the same machine at the same time: the security-group gates alone (bench/engine.ts)
  const e = syntheticEstate(10_000, 1_000, 50_000);
  // warm up, then the three measured in turn, three times each, so that all see the same machine
  pathVerdictsPerSecond(p, 200_000);
  pathEndVerdictsPerSecond(p, 200_000);
  verdictsPerSecond(e, 200_000);
  const onHandles: { rate: number; accepted: number }[] = [];
  const onEnds: { rate: number; accepted: number }[] = [];
  const sgs: { rate: number }[] = [];
  for (let k = 0; k < 3; k++) {
    onHandles.push(pathVerdictsPerSecond(p));
    onEnds.push(pathEndVerdictsPerSecond(p));
    sgs.push({ rate: verdictsPerSecond(e) });
  }
  const v = median(onHandles);
  const w = median(onEnds);
  const sg = median(sgs).rate;
  pathEndVerdictsPerSecond(p, 5_000, 7, true);
  const x = median([1, 2, 3].map(() => pathEndVerdictsPerSecond(p, 25_000, 7, true)));
  pathRecompileMs(p, 'route', 200);
  pathRecompileMs(p, 'acl', 200);
  const rt = pathRecompileMs(p, 'route');
  const acl = pathRecompileMs(p, 'acl');
  const f = (n: number) => Math.round(n).toLocaleString('en-US');
  print(
    `paths: new-flow verdicts through the verdict path on resolved ends (verdictAt; 10,000 interfaces, 50,000 rules, 1,000 route tables, 1,000 ACLs; same-subnet, cross-subnet, to and from the internet; ${Math.round(v.accepted * 100)}% accepted): ${f(v.rate)}/s (median of 3)  [target ≥ 2,000,000/s] ${v.rate >= 2e6 ? '✓' : '✗'}`,
  );
  print(
    `paths: for scale, the security-group gates alone (bench/engine.ts, same estate size, same run): ${f(sg)}/s (median of 3); the whole path runs at ${(v.rate / sg).toFixed(2)}× their rate`,
  );
  print(
    `paths: the same flows on FlowEnd objects (judgeFlowFast: the ends resolved per flow): ${f(w.rate)}/s (median of 3; for information)`,
  );
  print(`paths: the same flows through judgeFlow with explanations (hops, rules): ${f(x.rate)}/s (median of 3 × 25,000; for information)`);
  print(
    `paths: incremental recompile after one route change: ${rt.median.toFixed(3)} ms median, ${rt.p99.toFixed(3)} ms p99 over 1,000  [target ≤ 1 ms] ${rt.p99 <= 1 ? '✓' : '✗'}`,
  );
  print(
    `paths: incremental recompile after one ACL change: ${acl.median.toFixed(3)} ms median, ${acl.p99.toFixed(3)} ms p99 over 1,000  [target ≤ 1 ms] ${acl.p99 <= 1 ? '✓' : '✗'}`,
  );
}

/** Bundles this file (esbuild, as scripts/build.mjs bundles the server) and runs it in a child node. */
async function runBundled(print: (line: string) => void): Promise<void> {
  const { build } = await import('esbuild');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { fileURLToPath, pathToFileURL } = await import('node:url');
  const { execFileSync } = await import('node:child_process');
  const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-'));
  try {
    const out = join(dir, 'paths.mjs');
    // an entry that calls benchPaths, loaded by --eval: no module's "run me when I am the script" fires
    await build({
      stdin: {
        contents: `import { benchPaths } from ${JSON.stringify(fileURLToPath(import.meta.url))}; await benchPaths();`,
        resolveDir: dir,
        loader: 'ts',
      },
      outfile: out,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'warning',
    });
    const text = execFileSync(
      process.execPath,
      ['--input-type=module', '--eval', `await import(${JSON.stringify(pathToFileURL(out).href)})`],
      {
        env: { ...process.env, PALISADE_BENCH_BUNDLED: '1' },
        encoding: 'utf8',
      },
    );
    for (const line of text.trimEnd().split('\n')) print(line);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchPaths();
