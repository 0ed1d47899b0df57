// Reachability over the data plane's compiled policy (the one rule engine): who can open a
// connection to an interface's port — computed over address and port spaces from the admitted
// sets, not by enumerating addresses — and whether A can reach B, with the rules on the path or
// the gate that blocks and the change that would open it.
import { Policy, protocolNumber, type InterfaceInput, type RuleInput } from '../dataplane/sg-policy.ts';
import { DataPlane, type Endpoint, type Verdict } from '../dataplane/dataplane.ts';
import { parseAddress, setHas, Set4, Set6, type Address, type AddressSet } from '../dataplane/addresses.ts';
import { bigIntToAddress } from '../core/cidr.ts';
import type { NetworkPaths } from '../dataplane/routing.ts';

export interface EstateView {
  policy: Policy;
  /** the routing around the groups (route tables, ACLs, gateways); absent: the plain model */
  paths?: NetworkPaths;
  /** interface id → instance id, for reporting */
  instanceOf(interfaceId: string): string | undefined;
  /** instance id → its primary interface */
  primaryOf(instanceId: string): string | undefined;
}

export interface Source {
  kind: 'internet' | 'interface';
  /** internet: the admitted CIDR blocks */
  cidrs?: string[];
  interfaceId?: string;
  instanceId?: string;
  address?: string;
  ingressRules: RuleInput[];
  egressRules?: RuleInput[];
}

export interface ReachAnswer {
  target: { interfaceId: string; instanceId?: string; privateIp?: string; publicIp?: string };
  protocol: number;
  port?: number;
  sources: Source[];
  notes: string[];
}

/** Minimal CIDR blocks covering [lo, hi]. */
function rangeToCidrs(family: 4 | 6, lo: bigint, hi: bigint): string[] {
  const bits = family === 4 ? 32 : 128;
  const out: string[] = [];
  while (lo <= hi) {
    let size = 0;
    while (size < bits) {
      const block = 1n << BigInt(size + 1);
      if (lo % block !== 0n || lo + block - 1n > hi) break;
      size++;
    }
    out.push(`${bigIntToAddress(family, lo)}/${bits - size}`);
    lo += 1n << BigInt(size);
    if (out.length > 10_000) break;
  }
  return out;
}

function setToCidrs(s: AddressSet): string[] {
  return [
    ...s.v4.ranges().flatMap(([a, b]) => rangeToCidrs(4, BigInt(a), BigInt(b))),
    ...s.v6.ranges().flatMap(([a, b]) => rangeToCidrs(6, a, b)),
  ];
}

function resolveInterface(view: EstateView, spec: string): InterfaceInput {
  const id = spec.startsWith('i-')
    ? view.primaryOf(spec)
    : spec.startsWith('eni-')
      ? spec
      : [...view.policy.allInterfaces()].find((i) => i.ipv4.includes(spec) || i.ipv6.includes(spec) || i.publicIp === spec)?.id;
  const i = id ? view.policy.getInterface(id) : undefined;
  if (!i) throw new Error(`unknown target '${spec}': give an instance id, interface id or one of its addresses`);
  return i;
}

/** Every source that can open a connection to `target` on proto/port, and through which rules. */
export function whoCanReach(view: EstateView, targetSpec: string, protocol: string | number, port?: number): ReachAnswer {
  const target = resolveInterface(view, targetSpec);
  const proto = typeof protocol === 'number' ? protocol : protocolNumber(protocol.toLowerCase());
  const p = view.policy;
  const adm = p.admitted(target.id, 'ingress', proto, port, port === undefined ? 8 : undefined, 0);
  const notes: string[] = [];
  const sources: Source[] = [];
  // The internet reaches an interface only at its public IPv4 address (or its IPv6 addresses).
  const internet = setToCidrs({ v4: target.publicIp ? adm.set.v4 : Set4.EMPTY, v6: target.ipv6.length ? adm.set.v6 : Set6.EMPTY });
  if (internet.length) {
    sources.push({ kind: 'internet', cidrs: internet, ingressRules: adm.rules.filter((r) => r.cidr4 || r.cidr6 || r.prefixListId) });
  } else if (adm.set.v4.size && !target.publicIp) {
    notes.push(`${target.id} has no public IPv4 address: the internet cannot reach it, whatever its rules admit`);
  }
  const targetAddr = parseAddress(target.ipv4[0]!)!;
  for (const s of p.allInterfaces()) {
    if (s.id === target.id || s.vpcId !== target.vpcId) continue;
    const addr = s.ipv4[0];
    if (!addr) continue;
    const a = parseAddress(addr)!;
    const q = { direction: 'ingress' as const, proto, port, icmpType: 8, icmpCode: 0, remote: a };
    const admittedHere = setHas(adm.set, a) || s.groups.some((g) => adm.groups.has(g));
    if (!admittedHere) continue;
    const out = { direction: 'egress' as const, proto, port, icmpType: 8, icmpCode: 0, remote: targetAddr };
    if (!p.allows(s.id, out)) continue;
    sources.push({
      kind: 'interface',
      interfaceId: s.id,
      instanceId: view.instanceOf(s.id),
      address: addr,
      ingressRules: p.matchingRules(target.id, q),
      egressRules: p.matchingRules(s.id, out),
    });
  }
  return {
    target: { interfaceId: target.id, instanceId: view.instanceOf(target.id), privateIp: target.ipv4[0], publicIp: target.publicIp },
    protocol: proto,
    port,
    sources,
    notes,
  };
}

export interface PathAnswer {
  reachable: boolean;
  verdict: Verdict | { verdict: 'REJECT'; decidedBy: 'route'; reason: string };
  openPorts?: [number, number][];
  suggestion?: string;
}

function endpointOf(view: EstateView, spec: string): { ep: Endpoint; iface?: InterfaceInput } {
  if (spec.startsWith('internet:')) {
    const a = parseAddress(spec.slice(9));
    if (!a) throw new Error(`'${spec}' is not internet:IP`);
    return { ep: { kind: 'external', address: a, text: spec.slice(9) } };
  }
  const i = resolveInterface(view, spec);
  return { ep: { kind: 'interface', interfaceId: i.id, address: parseAddress(i.ipv4[0]!)!, text: i.ipv4[0]! }, iface: i };
}

/** Can `from` open a connection to `to`? With the deciding rules, or the fix. */
export function canReach(view: EstateView, from: string, to: string, protocol: string | number = 'tcp', port?: number): PathAnswer {
  const proto = typeof protocol === 'number' ? protocol : protocolNumber(protocol.toLowerCase());
  const a = endpointOf(view, from);
  const b = endpointOf(view, to);
  const plane = new DataPlane(view.policy);
  if (a.iface && b.iface && a.iface.vpcId !== b.iface.vpcId) {
    return {
      reachable: false,
      verdict: {
        verdict: 'REJECT',
        decidedBy: 'route',
        reason: `no route from ${a.iface.vpcId} to ${b.iface.vpcId} (peering is not modelled)`,
      },
    };
  }
  let src = a.ep;
  let dst = b.ep;
  if (a.ep.kind === 'external' && b.iface) {
    if (!b.iface.publicIp)
      return { reachable: false, verdict: { verdict: 'REJECT', decidedBy: 'route', reason: `${b.iface.id} has no public IPv4 address` } };
    dst = {
      ...(b.ep as Extract<Endpoint, { kind: 'interface' }>),
      seenAs: { address: parseAddress(b.iface.publicIp)!, text: b.iface.publicIp },
    };
  }
  if (b.ep.kind === 'external' && a.iface) {
    if (!a.iface.publicIp)
      return { reachable: false, verdict: { verdict: 'REJECT', decidedBy: 'route', reason: `${a.iface.id} has no public IPv4 address` } };
    src = {
      ...(a.ep as Extract<Endpoint, { kind: 'interface' }>),
      seenAs: { address: parseAddress(a.iface.publicIp)!, text: a.iface.publicIp },
    };
  }
  if (port === undefined && (proto === 6 || proto === 17)) {
    const open = openPorts(plane, src, dst, proto);
    return {
      reachable: open.length > 0,
      verdict: plane.judge(src, dst, { proto, srcPort: 49152, dstPort: open[0]?.[0] ?? 0 }, 0, { commit: false }),
      openPorts: open,
    };
  }
  const v = plane.judge(src, dst, { proto, srcPort: 49152, dstPort: port ?? 0, icmpType: 8, icmpCode: 0 }, 0, { commit: false });
  return {
    reachable: v.verdict === 'ACCEPT',
    verdict: v,
    suggestion: v.verdict === 'REJECT' ? suggest(view, v, a, b, proto, port) : undefined,
  };
}

function openPorts(plane: DataPlane, src: Endpoint, dst: Endpoint, proto: number): [number, number][] {
  const points = new Set<number>([0]);
  for (const [ep, egress] of [
    [src, true],
    [dst, false],
  ] as const) {
    if (ep.kind !== 'interface') continue;
    const i = plane.policy.getInterface(ep.interfaceId);
    for (const g of i?.groups ?? []) {
      for (const r of plane.policy.groupRules(g)) {
        if (r.egress !== egress) continue;
        const p = protocolNumber(r.protocol);
        if (p !== proto) continue;
        points.add(r.from ?? 0);
        if ((r.to ?? 65535) < 65535) points.add((r.to ?? 65535) + 1);
      }
    }
  }
  const starts = [...points].sort((x, y) => x - y);
  const out: [number, number][] = [];
  starts.forEach((s, k) => {
    const e = (starts[k + 1] ?? 65536) - 1;
    if (plane.judge(src, dst, { proto, srcPort: 49152, dstPort: s }, 0, { commit: false, explain: false }).verdict !== 'ACCEPT') return;
    const last = out[out.length - 1];
    if (last && last[1] === s - 1) last[1] = e;
    else out.push([s, e]);
  });
  return out;
}

function suggest(
  view: EstateView,
  v: Verdict,
  a: { ep: Endpoint; iface?: InterfaceInput },
  b: { ep: Endpoint; iface?: InterfaceInput },
  proto: number,
  port?: number,
): string | undefined {
  const protoText = proto === 6 ? 'tcp' : proto === 17 ? 'udp' : proto === 1 ? 'icmp' : String(proto);
  const portText = port !== undefined && (proto === 6 || proto === 17) ? ` --port ${port}` : '';
  if (v.decidedBy === 'ingress' && b.iface) {
    const group = b.iface.groups[0];
    const source = a.iface
      ? a.iface.groups[0]
        ? `--source-group ${a.iface.groups[0]}`
        : `--cidr ${a.iface.ipv4[0]}/32`
      : `--cidr ${(a.ep as { text: string }).text}/32`;
    return group
      ? `aws ec2 authorize-security-group-ingress --group-id ${group} --protocol ${protoText}${portText} ${source}`
      : `attach a security group to ${b.iface.id}`;
  }
  if (v.decidedBy === 'egress' && a.iface) {
    const group = a.iface.groups[0];
    const dest = b.iface
      ? b.iface.groups[0]
        ? `"UserIdGroupPairs":[{"GroupId":"${b.iface.groups[0]}"}]`
        : `"IpRanges":[{"CidrIp":"${b.iface.ipv4[0]}/32"}]`
      : `"IpRanges":[{"CidrIp":"${(b.ep as { text: string }).text}/32"}]`;
    const ports = port !== undefined && (proto === 6 || proto === 17) ? `,"FromPort":${port},"ToPort":${port}` : '';
    return group
      ? `aws ec2 authorize-security-group-egress --group-id ${group} --ip-permissions '[{"IpProtocol":"${protoText}"${ports},${dest}}]'`
      : `attach a security group to ${a.iface.id}`;
  }
  void view;
  return undefined;
}

export type { Address };
