// Security groups compiled to nftables, one ruleset per instance namespace (table `inet palisade`),
// from the same RuleInput / InterfaceInput the simulated data plane compiles (sg-rules.ts), so the
// kernel enforces what the simulated plane predicts:
//
// - `input` is the ingress gate of every interface of the namespace (`iifname ethN`), `output` the
//   egress gate (`oifname ethN`); both drop by default (AWS: default deny both ways). The rules of
//   every group on an interface are one list of accepts (aggregation: any rule allows).
// - `ct state established,related accept` comes first: a tracked connection's packets pass
//   whatever the rules say now, until conntrack's idle timeout removes the entry.
// - Untracked flows (AWS: TCP/UDP allowed by a rule of the world in one direction with a rule of
//   the world for all ports in the other — `allOpenFor` in compiled-policy.ts) get `notrack` in
//   the raw-priority chains `rawpre` / `rawout`, packet by packet, so they are judged by the rules
//   at every packet and revoking the rule cuts them at once. ICMP is always tracked.
// - An interface's ConnectionTrackingSpecification becomes `ct timeout` objects set on its new
//   connections in `ctin` / `ctout` (after conntrack, before the entry is confirmed).
// - Group references are named sets of the members' private addresses (`g_<group>_4|6`), prefix
//   lists interval sets of their entries (`pl_<list>_4|6`), so a membership or entry change
//   updates set elements and no rule.
//
// Every line of a chain is an accept, a notrack or a timeout: their order in a chain does not
// matter. So a change that only adds (an authorize, a new member, a new entry) is applied as
// `add rule` / `add element` — a few ms in the kernel — and anything else flushes the chains and
// sets and fills them again, in one transaction (`nft -f -`: all or nothing, the base chains stay
// hooked, so no packet ever sees a half-made ruleset). The namespace's other knob,
// nf_conntrack_tcp_loose=0 (kernel-plane.ts), keeps conntrack from adopting a TCP stream it sees in
// the middle (after an untracked flow's rule is revoked): such packets are judged by the rules.
//
// Drop accounting (for flow logs' REJECT records, kernel-flows.ts): the one exception to "order
// does not matter" — `input` and `output` end with `update @pal_drop…` lines (DROP_LINES) that
// count, per 5-tuple (and TCP flags), the packets about to meet the chain's drop policy, in
// dynamic sets with per-element counters (DROP_SETS). They are added last, and an additive change
// inserts its new lines at the head of those chains (`insert rule`), so they stay last.
import { bigIntToAddress, canonicalCidr, parseCidr, containsCidr, type Cidr } from '../core/cidr.ts';
import { protocolNumber, type InterfaceInput, type RuleInput } from '../dataplane/sg-rules.ts';
import { DEFAULT_TIMEOUTS, type Timeouts } from '../dataplane/conntrack.ts';

export const TABLE = 'palisade';
const T = `inet ${TABLE}`;

/** Addresses whose traffic security groups do not filter (EC2 User Guide): IMDS, DNS, time sync. */
export const SERVICE_ADDRESSES = {
  v4: ['169.254.169.254', '169.254.169.253', '169.254.169.123'],
  v6: ['fd00:ec2::254', 'fd00:ec2::253', 'fd00:ec2::123'],
};

export interface NsInterface {
  iface: InterfaceInput;
  /** its device in the namespace (eth<deviceIndex>) */
  device: string;
  /** ConnectionTrackingSpecification (seconds), when set */
  timeouts?: Partial<Timeouts>;
}

export interface CompileInput {
  interfaces: NsInterface[];
  /** the rules of a group (none when it is unknown) */
  groupRules(groupId: string): RuleInput[];
  /** the private addresses of the interfaces of `vpcId` holding the group */
  members(vpcId: string, groupId: string): string[];
  /** a prefix list's CIDRs (undefined: unknown, matches nothing) */
  prefixList(id: string): string[] | undefined;
  /** false: no drop accounting (DROP_SETS / DROP_LINES); default on */
  countDrops?: boolean;
}

export type ChainName = 'input' | 'output' | 'ctin' | 'ctout' | 'rawpre' | 'rawout';

const CHAINS: Record<ChainName, string> = {
  input: 'type filter hook input priority filter; policy drop;',
  output: 'type filter hook output priority filter; policy drop;',
  ctin: 'type filter hook input priority mangle; policy accept;',
  ctout: 'type filter hook output priority mangle; policy accept;',
  rawpre: 'type filter hook prerouting priority raw; policy accept;',
  rawout: 'type filter hook output priority raw; policy accept;',
};
const CHAIN_NAMES = Object.keys(CHAINS) as ChainName[];

export interface NftSet {
  type: 'ipv4_addr' | 'ipv6_addr';
  interval: boolean;
  elements: Set<string>;
}

/** What one namespace's table holds: named sets, ct timeout objects (name → body), chains' lines. */
export interface Ruleset {
  sets: Map<string, NftSet>;
  timeouts: Map<string, string>;
  chains: Record<ChainName, Set<string>>;
  /** whether the table has the drop-accounting sets and its gates end with DROP_LINES */
  drops?: boolean;
}

const WORLD = { 4: '0.0.0.0/0', 6: '::/0' } as const;
const NFPROTO = { 4: 'ipv4', 6: 'ipv6' } as const;
const L3 = { 4: 'ip', 6: 'ip6' } as const;
const L4 = { 6: 'tcp', 17: 'udp' } as const;

// ---- drop accounting (read by kernel-flows.ts) ---------------------------------------------------

/** Dynamic sets counting dropped packets: TCP per 5-tuple and flags, other protocols per 5-tuple (ports 0 but UDP's). */
export const DROP_SETS = {
  tcp4: 'pal_drop_tcp4',
  tcp6: 'pal_drop_tcp6',
  other4: 'pal_drop4',
  other6: 'pal_drop6',
} as const;

/** Elements live 10 minutes after their last packet; at most this many per set (more distinct drops are not counted). */
export const DROP_SET_SIZE = 65535;
export const DROP_SET_TIMEOUT_S = 600;

const dropSetDecls = () =>
  ([4, 6] as const).flatMap((f) => {
    const a = f === 4 ? 'ipv4_addr' : 'ipv6_addr';
    const common = `flags dynamic,timeout; timeout ${DROP_SET_TIMEOUT_S}s; size ${DROP_SET_SIZE}; counter;`;
    return [
      `  set ${DROP_SETS[`tcp${f}`]} { type ${a} . inet_service . ${a} . inet_service . tcp_flag; ${common} }`,
      `  set ${DROP_SETS[`other${f}`]} { type ${a} . inet_service . ${a} . inet_service . inet_proto; ${common} }`,
    ];
  });

/** The last lines of `input` and `output`: what reaches them is about to be dropped (the chains' policy). */
export const DROP_LINES = ([4, 6] as const).flatMap((f) => {
  const l3 = L3[f];
  return [
    `meta l4proto tcp update @${DROP_SETS[`tcp${f}`]} { ${l3} saddr . tcp sport . ${l3} daddr . tcp dport . tcp flags }`,
    `meta l4proto udp update @${DROP_SETS[`other${f}`]} { ${l3} saddr . udp sport . ${l3} daddr . udp dport . meta l4proto }`,
    `meta nfproto ${NFPROTO[f]} meta l4proto != { tcp, udp } update @${DROP_SETS[`other${f}`]} { ${l3} saddr . 0 . ${l3} daddr . 0 . meta l4proto }`,
  ];
});

/** A name nft accepts as an identifier (AWS ids are letters, digits and `-`). */
const ident = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_');

const familyOf = (text: string): 4 | 6 | undefined => (text.includes(':') ? 6 : text.includes('.') ? 4 : undefined);

/** CIDRs of one family, canonical, without those another one contains (interval sets refuse overlaps). */
function normalize(cidrs: Iterable<string>, family: 4 | 6): string[] {
  const parsed: Cidr[] = [];
  for (const text of cidrs) {
    const c = parseCidr(text.includes('/') ? text : `${text}/${family === 4 ? 32 : 128}`, family);
    if (c) parsed.push(c);
  }
  parsed.sort((a, b) => a.prefix - b.prefix);
  const kept: Cidr[] = [];
  for (const c of parsed) if (!kept.some((k) => containsCidr(k, c))) kept.push(c);
  return kept.map((c) => {
    const addr = bigIntToAddress(c.family, c.base);
    return c.prefix === (family === 4 ? 32 : 128) ? addr : `${addr}/${c.prefix}`;
  });
}

/** The nft match of a rule's protocol and ports (`null` when it cannot match the family). */
function protoMatch(r: RuleInput, family: 4 | 6, portKey: 'dport' | 'sport' = 'dport'): string | null {
  const p = protocolNumber(r.protocol);
  if (p === -1) return '';
  if (p === 6 || p === 17) {
    const name = L4[p];
    const from = r.from ?? 0;
    const to = r.to ?? 65535;
    if (from <= 0 && to >= 65535) return `meta l4proto ${name}`;
    return `${name} ${portKey} ${from === to ? from : `${from}-${to}`}`;
  }
  if (p === 1 || p === 58) {
    if ((p === 1) !== (family === 4)) return null; // icmp is IPv4's, icmpv6 IPv6's
    const name = p === 1 ? 'icmp' : 'icmpv6';
    const type = r.from ?? -1;
    const code = r.to ?? -1;
    if (type === -1) return `meta l4proto ${p === 1 ? 'icmp' : 'ipv6-icmp'}`;
    return code === -1 ? `${name} type ${type}` : `${name} type ${type} ${name} code ${code}`;
  }
  if (!Number.isInteger(p) || p < 0 || p > 255) return null;
  return `meta l4proto ${p}`;
}

/** The peer matches of a rule, per family: [family, match] pairs (the set names it uses are added to `need`). */
function peerMatches(r: RuleInput, dir: 'saddr' | 'daddr', need: (name: string, family: 4 | 6, kind: 'group' | 'pl', id: string) => void) {
  const out: [4 | 6, string][] = [];
  if (r.cidr4) {
    const c = canonicalCidr(r.cidr4, 4);
    if (c) out.push([4, c === WORLD[4] ? 'meta nfproto ipv4' : `ip ${dir} ${c.endsWith('/32') ? c.slice(0, -3) : c}`]);
  }
  if (r.cidr6) {
    const c = canonicalCidr(r.cidr6, 6);
    if (c) out.push([6, c === WORLD[6] ? 'meta nfproto ipv6' : `ip6 ${dir} ${c.endsWith('/128') ? c.slice(0, -4) : c}`]);
  }
  for (const [kind, id] of [
    ['group', r.refGroupId],
    ['pl', r.prefixListId],
  ] as const) {
    if (!id) continue;
    for (const f of [4, 6] as const) {
      const name = `${kind === 'group' ? 'g' : 'pl'}_${ident(id)}_${f}`;
      need(name, f, kind, id);
      out.push([f, `${L3[f]} ${dir} @${name}`]);
    }
  }
  return out;
}

/** One namespace's ruleset. */
export function compileRuleset(input: CompileInput): Ruleset {
  const chains = Object.fromEntries(CHAIN_NAMES.map((c) => [c, new Set<string>()])) as Record<ChainName, Set<string>>;
  const sets = new Map<string, NftSet>();
  const timeouts = new Map<string, string>();

  // What every namespace lets through: its tracked connections, its loopback, neighbour
  // discovery (no IP traffic in AWS's model), and the link-local services groups do not filter.
  for (const [chain, dev, peer] of [
    ['input', 'iifname', 'saddr'],
    ['output', 'oifname', 'daddr'],
  ] as const) {
    chains[chain].add('ct state established,related accept');
    chains[chain].add(`${dev} "lo" accept`);
    chains[chain].add('icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept');
    chains[chain].add(`ip ${peer} { ${SERVICE_ADDRESSES.v4.join(', ')} } accept`);
    chains[chain].add(`ip6 ${peer} { ${SERVICE_ADDRESSES.v6.join(', ')} } accept`);
  }

  for (const { iface, device, timeouts: custom } of input.interfaces) {
    const rules = iface.groups.flatMap((g) => input.groupRules(g));
    const need = (name: string, family: 4 | 6, kind: 'group' | 'pl', id: string) => {
      if (sets.has(name)) return;
      const source = kind === 'group' ? input.members(iface.vpcId, id) : (input.prefixList(id) ?? []);
      const of = source.filter((x) => familyOf(x) === family);
      sets.set(name, { type: family === 4 ? 'ipv4_addr' : 'ipv6_addr', interval: kind === 'pl', elements: new Set(normalize(of, family)) });
    };
    // The gates: one accept per rule, peer and family.
    for (const r of rules) {
      const [chain, dev, dir] = r.egress ? (['output', 'oifname', 'daddr'] as const) : (['input', 'iifname', 'saddr'] as const);
      for (const [family, peer] of peerMatches(r, dir, need)) {
        const proto = protoMatch(r, family);
        if (proto === null) continue;
        chains[chain].add([`${dev} "${device}"`, peer, proto, 'accept'].filter(Boolean).join(' '));
      }
    }
    // Untracked flows (AWS's all-open case), per family and protocol.
    for (const family of [4, 6] as const) {
      for (const p of [6, 17] as const) {
        const world = (egress: boolean) =>
          rules.filter(
            (r) => r.egress === egress && (r.cidr4 ?? r.cidr6) === WORLD[family] && [p, -1].includes(protocolNumber(r.protocol)),
          );
        const allPorts = (egress: boolean) =>
          world(egress).some((r) => protocolNumber(r.protocol) === -1 || ((r.from ?? 0) <= 0 && (r.to ?? 65535) >= 65535));
        const head = (dev: string) => `${dev} "${device}" meta nfproto ${NFPROTO[family]}`;
        const notrack = (chain: 'rawpre' | 'rawout', dev: string, r: RuleInput, key: 'dport' | 'sport') => {
          const m = protocolNumber(r.protocol) === -1 ? `meta l4proto ${L4[p]}` : protoMatch(r, family, key)!;
          chains[chain].add(`${head(dev)} ${m} notrack`);
        };
        // flows this interface receives (inbound: the world may connect, the answers may go anywhere)
        if (allPorts(true))
          for (const r of world(false)) {
            notrack('rawpre', 'iifname', r, 'dport');
            notrack('rawout', 'oifname', r, 'sport');
          }
        // flows this interface opens (outbound: to the world, the answers from anywhere)
        if (allPorts(false))
          for (const r of world(true)) {
            notrack('rawout', 'oifname', r, 'dport');
            notrack('rawpre', 'iifname', r, 'sport');
          }
      }
    }
    // The interface's conntrack timeouts.
    if (custom && Object.values(custom).some((v) => v !== undefined)) {
      const t = { ...DEFAULT_TIMEOUTS, ...Object.fromEntries(Object.entries(custom).filter(([, v]) => v !== undefined)) } as Timeouts;
      for (const family of [4, 6] as const) {
        const tcp = `ct_tcp_${t.tcpEstablished}_${family}`;
        const udp = `ct_udp_${t.udp}_${t.udpStream}_${family}`;
        timeouts.set(tcp, `protocol tcp; l3proto ${L3[family]}; policy = { established: ${t.tcpEstablished} }`);
        timeouts.set(udp, `protocol udp; l3proto ${L3[family]}; policy = { unreplied: ${t.udp}, replied: ${t.udpStream} }`);
        for (const [chain, dev] of [
          ['ctin', 'iifname'],
          ['ctout', 'oifname'],
        ] as const) {
          chains[chain].add(`${dev} "${device}" ct state new meta nfproto ${NFPROTO[family]} meta l4proto tcp ct timeout set "${tcp}"`);
          chains[chain].add(`${dev} "${device}" ct state new meta nfproto ${NFPROTO[family]} meta l4proto udp ct timeout set "${udp}"`);
        }
      }
    }
  }
  // Drop accounting: last in the gates (see DROP_LINES).
  const drops = input.countDrops !== false;
  if (drops) for (const chain of ['input', 'output'] as const) for (const l of DROP_LINES) chains[chain].add(l);
  return { sets, timeouts, chains, drops };
}

const setDecl = (name: string, s: NftSet) => `  set ${name} { type ${s.type};${s.interval ? ' flags interval;' : ''} }`;
const timeoutDecl = (name: string, body: string) => `  ct timeout ${name} {\n    ${body.replace(/; /g, '\n    ')}\n  }`;

/** `table inet palisade { … }` declaring the chains and the given sets and timeouts (idempotent). */
function declarations(sets: Iterable<[string, NftSet]>, timeouts: Iterable<[string, string]>, drops = false): string {
  const lines = [`table ${T} {`];
  for (const [name, s] of sets) lines.push(setDecl(name, s));
  if (drops) lines.push(...dropSetDecls());
  for (const [name, body] of timeouts) lines.push(timeoutDecl(name, body));
  for (const c of CHAIN_NAMES) lines.push(`  chain ${c} { ${CHAINS[c]} }`);
  lines.push('}');
  return lines.join('\n');
}

const addElements = (name: string, elements: Iterable<string>) => {
  const list = [...elements];
  return list.length ? [`add element ${T} ${name} { ${list.join(', ')} }`] : [];
};

const subset = <X>(a: Set<X>, b: Set<X>) => {
  for (const x of a) if (!b.has(x)) return false;
  return true;
};

/**
 * The nft script that turns the table from `old` (undefined: none yet) into `next`, and whether
 * it only adds. Empty when nothing changes.
 */
export function plan(old: Ruleset | undefined, next: Ruleset): { script: string; additive: boolean } {
  if (!old) {
    const lines = [declarations(next.sets, next.timeouts, next.drops)];
    for (const [name, s] of next.sets) lines.push(...addElements(name, s.elements));
    for (const c of CHAIN_NAMES) for (const l of next.chains[c]) lines.push(`add rule ${T} ${c} ${l}`);
    return { script: lines.join('\n') + '\n', additive: false };
  }
  const sameSet = (a: NftSet, b: NftSet) => a.type === b.type && a.interval === b.interval;
  const additive =
    !!old.drops === !!next.drops &&
    [...old.sets].every(([n, s]) => next.sets.has(n) && sameSet(s, next.sets.get(n)!) && subset(s.elements, next.sets.get(n)!.elements)) &&
    [...old.timeouts].every(([n, b]) => next.timeouts.get(n) === b) &&
    CHAIN_NAMES.every((c) => subset(old.chains[c], next.chains[c]));
  const lines: string[] = [];
  const newSets = [...next.sets].filter(([n]) => !old.sets.has(n));
  const newTimeouts = [...next.timeouts].filter(([n]) => !old.timeouts.has(n));
  if (additive) {
    if (newSets.length || newTimeouts.length) lines.push(declarations(newSets, newTimeouts));
    for (const [name, s] of next.sets) {
      const had = old.sets.get(name)?.elements;
      lines.push(...addElements(name, had ? [...s.elements].filter((e) => !had.has(e)) : s.elements));
    }
    // (at the head of the gates, so their drop-accounting lines stay last)
    const verb = (c: ChainName) => (next.drops && (c === 'input' || c === 'output') ? 'insert' : 'add');
    for (const c of CHAIN_NAMES) for (const l of next.chains[c]) if (!old.chains[c].has(l)) lines.push(`${verb(c)} rule ${T} ${c} ${l}`);
    return { script: lines.length ? lines.join('\n') + '\n' : '', additive: true };
  }
  // Replace: sets whose type changed cannot be redeclared in place (names carry the family, so this is rare).
  const retyped = [...old.sets].filter(([n, s]) => next.sets.has(n) && !sameSet(s, next.sets.get(n)!)).map(([n]) => n);
  const changedTimeouts = [...old.timeouts].filter(([n, b]) => next.timeouts.has(n) && next.timeouts.get(n) !== b).map(([n]) => n);
  lines.push(declarations(newSets, newTimeouts, next.drops && !old.drops));
  for (const c of CHAIN_NAMES) lines.push(`flush chain ${T} ${c}`);
  if (old.drops && !next.drops) for (const name of Object.values(DROP_SETS)) lines.push(`delete set ${T} ${name}`);
  for (const [name, s] of old.sets) {
    if (!next.sets.has(name) || retyped.includes(name)) lines.push(`delete set ${T} ${name}`);
    else if (!subset(s.elements, next.sets.get(name)!.elements)) lines.push(`flush set ${T} ${name}`);
  }
  for (const [name] of old.timeouts)
    if (!next.timeouts.has(name) || changedTimeouts.includes(name)) lines.push(`delete ct timeout ${T} ${name}`);
  const redeclare = [...next.sets].filter(([n]) => retyped.includes(n));
  const retimed = [...next.timeouts].filter(([n]) => changedTimeouts.includes(n));
  if (redeclare.length || retimed.length) lines.push(declarations(redeclare, retimed));
  for (const [name, s] of next.sets) {
    const had = old.sets.get(name);
    const kept = had && !retyped.includes(name) && subset(had.elements, s.elements);
    lines.push(...addElements(name, kept ? [...s.elements].filter((e) => !had.elements.has(e)) : s.elements));
  }
  for (const c of CHAIN_NAMES) for (const l of next.chains[c]) lines.push(`add rule ${T} ${c} ${l}`);
  return { script: lines.join('\n') + '\n', additive: false };
}

/** The whole table, for display (`nft list table` gives the kernel's view of the same). */
export function render(r: Ruleset): string {
  return plan(undefined, r).script;
}
