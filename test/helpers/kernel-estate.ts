// Seeded random estates for the kernel differential test (test/kernel-differential.test.ts), built
// through the EC2 API: VPCs with 2–3 subnets, 4–8 instances in 1–2 groups each, groups with
// random ingress and egress rules (tcp/udp ports and ranges, icmp types, all traffic; sources the
// world, the VPC, a subnet, /32s of other instances, the internet, self and other group references,
// a customer prefix list) — and, in the routed variant, a second VPC, internet gateways, public
// IPs, peering with routes on none, one or both sides, custom route tables, a NAT gateway, custom
// network ACLs with random entries. Every step is written to `log`, so a failing flow can print
// the estate it ran on (and the seed rebuilds it).
import {
  AuthorizeSecurityGroupEgressCommand,
  CreateManagedPrefixListCommand,
  DeleteNatGatewayCommand,
  DeleteRouteCommand,
  DescribeNatGatewaysCommand,
  ReleaseAddressCommand,
  DescribeManagedPrefixListsCommand,
  DescribeSecurityGroupRulesCommand,
  ModifyManagedPrefixListCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ReplaceNetworkAclEntryCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { aclRule, EstateBuilder, type AclEntry } from './estate.ts';
import { rng } from './random-estate.ts';

/** The ports every instance (and the internet) listens on: flows use only these. */
export const TCP_PORTS = [22, 80, 443, 3306, 5000, 5005, 8080, 9000, 9090, 30000] as const;
export const UDP_PORTS = [53, 123, 500, 5000, 5005, 9000, 30000] as const;

export type Rng = ReturnType<typeof rng>;

export interface KHost {
  id: string;
  eni: string;
  vpc: number;
  subnet: number;
  privateIp: string;
  publicIp?: string;
  groups: string[];
}

export interface KEstate {
  seed: number;
  routed: boolean;
  vpcs: { id: string; cidr: string; subnets: { id: string; cidr: string }[] }[];
  hosts: KHost[];
  /** group id → name */
  groups: Map<string, string>;
  /** what was made, one line a call (printed with a mismatch) */
  log: string[];
  /** random changes: rules revoked and authorized, interfaces' groups, the prefix list's entries, ACL entries, routes */
  change: () => Promise<void>;
}

const ri = (r: Rng, lo: number, hi: number) => lo + Math.floor(r.next() * (hi - lo + 1));

/** Addresses "the internet" answers at (src/kernel/internet.ts: the documentation ranges). */
export const internetAddress = (r: Rng) => `${r.pick(['198.51.100', '203.0.113'])}.${ri(r, 10, 250)}`;

const TCP_UDP_RANGES: [number, number][] = [
  [0, 65535],
  [1024, 65535],
  [8000, 9100],
  [20, 25],
  [80, 443],
  [5000, 5010],
  [29000, 31000],
];

function portsFor(r: Rng, proto: 'tcp' | 'udp'): [number, number] {
  if (r.bool(0.55)) {
    const p = r.pick(proto === 'tcp' ? TCP_PORTS : UDP_PORTS);
    return [p, p];
  }
  return r.pick(TCP_UDP_RANGES);
}

const ICMP_TYPES: [number, number][] = [
  [-1, -1],
  [8, -1],
  [8, 0],
  [0, -1],
  [3, -1],
];

const fmtPerm = (p: IpPermission) => {
  const ports = p.IpProtocol === '-1' ? 'all' : `${p.FromPort}..${p.ToPort}`;
  const peer = [
    ...(p.IpRanges ?? []).map((x) => x.CidrIp),
    ...(p.UserIdGroupPairs ?? []).map((x) => x.GroupId),
    ...(p.PrefixListIds ?? []).map((x) => x.PrefixListId),
  ].join(',');
  return `${p.IpProtocol} ${ports} ${peer}`;
};

/**
 * Builds one estate. `base` picks the address space (10.base.0.0/16, and 10.base+1 for the
 * routed variant's second VPC); instances run when it returns.
 */
export async function buildKernelEstate(client: EC2Client, seed: number, base: number, routed: boolean): Promise<KEstate> {
  const r = rng(seed);
  const b = new EstateBuilder(client);
  const log: string[] = [];
  const estate: KEstate = { seed, routed, vpcs: [], hosts: [], groups: new Map(), log, change: async () => undefined };
  const nVpcs = routed ? 2 : 1;
  const igws: (string | undefined)[] = [];
  const acls: { id: string; entries: AclEntry[] }[] = [];
  const routes: { table: string; dest: string }[] = [];
  const mains: string[] = [];
  for (let k = 0; k < nVpcs; k++) {
    const cidr = `10.${base + k}.0.0/16`;
    const id = await b.vpc(cidr);
    const subnets: { id: string; cidr: string }[] = [];
    const n = ri(r, 2, 3);
    for (let s = 0; s < n; s++) {
      const sc = `10.${base + k}.${s + 1}.0/24`;
      subnets.push({ id: await b.subnet(id, sc), cidr: sc });
    }
    estate.vpcs.push({ id, cidr, subnets });
    log.push(`vpc ${id} ${cidr}; subnets ${subnets.map((s) => `${s.id} ${s.cidr}`).join(', ')}`);
    mains.push(await b.mainRouteTable(id));
    igws.push(routed && r.bool(0.8) ? await b.internetGateway(id) : undefined);
    if (igws[k]) log.push(`  igw ${igws[k]} attached to ${id}`);
  }

  // Groups (empty for now: their rules name the instances), some without the default egress rule.
  const groupsOf: string[][] = [];
  const restricted = new Set<string>();
  for (const [k, v] of estate.vpcs.entries()) {
    const list: string[] = [];
    for (let g = 0, n = ri(r, 3, 5); g < n; g++) {
      const name = `diff-${seed}-${k}-${g}`;
      const id = await b.group(v.id, name);
      estate.groups.set(id, name);
      list.push(id);
      if (r.bool(0.35)) {
        await client.send(
          new RevokeSecurityGroupEgressCommand({
            GroupId: id,
            IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
          }),
        );
        restricted.add(id);
      }
    }
    groupsOf.push(list);
    log.push(
      `groups of ${v.id}: ${list.map((g) => `${g} (${estate.groups.get(g)}${restricted.has(g) ? ', no default egress' : ''})`).join(', ')}`,
    );
  }

  // Routing (the routed variant): peering, routes, a NAT gateway, custom route tables and ACLs.
  if (routed) {
    const pcx = r.bool(0.7) ? await b.peering(estate.vpcs[0]!.id, estate.vpcs[1]!.id) : undefined;
    if (pcx) log.push(`peering ${pcx} ${estate.vpcs[0]!.id} <-> ${estate.vpcs[1]!.id}`);
    for (const [k, v] of estate.vpcs.entries()) {
      const other = estate.vpcs[1 - k]!;
      const peerDest = () => (r.bool(0.75) ? other.cidr : r.pick(other.subnets).cidr);
      const route = async (rt: string, dest: string, target: Record<string, string>) => {
        await b.route(rt, dest, target);
        routes.push({ table: rt, dest });
        log.push(`  route ${rt}: ${dest} -> ${Object.values(target)[0]}`);
      };
      log.push(`main route table of ${v.id}: ${mains[k]}`);
      if (igws[k] && r.bool(0.8)) await route(mains[k]!, '0.0.0.0/0', { GatewayId: igws[k]! });
      if (pcx && r.bool(0.7)) await route(mains[k]!, peerDest(), { VpcPeeringConnectionId: pcx });
      let nat: string | undefined;
      if (igws[k] && r.bool(0.35)) {
        nat = await b.natGateway(v.subnets[0]!.id);
        log.push(`  nat gateway ${nat} in ${v.subnets[0]!.id}`);
      }
      for (const s of v.subnets.slice(1)) {
        if (!r.bool(0.5)) continue;
        const rt = await b.routeTable(v.id, [s.id]);
        log.push(`  route table ${rt} for ${s.id}`);
        const dflt = r.pick(['none', 'igw', 'nat'] as const);
        if (dflt === 'igw' && igws[k]) await route(rt, '0.0.0.0/0', { GatewayId: igws[k]! });
        if (dflt === 'nat' && nat) await route(rt, '0.0.0.0/0', { NatGatewayId: nat });
        if (pcx && r.bool(0.7)) await route(rt, peerDest(), { VpcPeeringConnectionId: pcx });
      }
      for (const s of v.subnets) {
        if (!r.bool(0.5)) continue;
        const entries: AclEntry[] = [];
        for (const direction of ['ingress', 'egress'] as const) {
          const numbers = new Set<number>();
          for (let e = 0, n = ri(r, 2, 5); e < n; e++) {
            let num = ri(r, 1, 300);
            while (numbers.has(num)) num = ri(r, 1, 300);
            numbers.add(num);
            const proto = r.pick(['6', '17', '1', '-1', '6', '17']);
            const cidr = r.pick(['0.0.0.0/0', '10.0.0.0/8', v.cidr, r.pick(v.subnets).cidr, other.cidr, '198.51.100.0/24']);
            const action = r.bool(0.75) ? 'allow' : 'deny';
            const entry = aclRule(num, direction, action, cidr, {
              protocol: proto,
              ...(proto === '6' || proto === '17'
                ? {
                    ports: r.pick<[number, number]>([
                      [22, 22],
                      [80, 443],
                      [1024, 65535],
                      [0, 65535],
                      [5000, 9100],
                      [32768, 65535],
                    ]),
                  }
                : {}),
            });
            if (proto === '1') {
              const [type, code] = r.pick(ICMP_TYPES.slice(0, 4));
              entry.IcmpTypeCode = { Type: type, Code: code };
            }
            entries.push(entry);
          }
          if (r.bool(0.65)) entries.push(aclRule(400, direction, 'allow', '0.0.0.0/0'));
        }
        const acl = await b.customAcl(v.id, s.id, entries);
        acls.push({ id: acl, entries });
        log.push(`  acl ${acl} on ${s.id}:`);
        for (const e of [...entries].sort((x, y) => Number(x.Egress) - Number(y.Egress) || x.RuleNumber! - y.RuleNumber!))
          log.push(
            `    ${e.Egress ? 'out' : 'in '} #${e.RuleNumber} ${e.RuleAction} proto ${e.Protocol} ${e.CidrBlock}` +
              (e.PortRange ? ` ports ${e.PortRange.From}-${e.PortRange.To}` : '') +
              (e.IcmpTypeCode ? ` icmp ${e.IcmpTypeCode.Type}/${e.IcmpTypeCode.Code}` : ''),
          );
      }
    }
  }

  // Instances: 4–8, in random subnets, 1–2 groups of their VPC each.
  for (let h = 0, n = ri(r, 4, 8); h < n; h++) {
    const k = routed ? ri(r, 0, 1) : 0;
    const si = ri(r, 0, estate.vpcs[k]!.subnets.length - 1);
    const list = groupsOf[k]!;
    const g1 = r.pick(list);
    const groups = r.bool(0.4) ? [...new Set([g1, r.pick(list)])] : [g1];
    const l = await b.launch(estate.vpcs[k]!.subnets[si]!.id, groups, { publicIp: routed && r.bool(0.6) });
    estate.hosts.push({ id: l.id, eni: l.eni, vpc: k, subnet: si, privateIp: l.privateIp, publicIp: l.publicIp, groups });
  }
  for (const h of estate.hosts)
    log.push(
      `instance ${h.id} ${h.eni} vpc#${h.vpc} subnet#${h.subnet} ${h.privateIp}${h.publicIp ? ` public ${h.publicIp}` : ''} groups ${h.groups.join(',')}`,
    );

  // A customer prefix list: subnets, instances, the internet.
  const plEntries = new Set<string>();
  for (let e = 0, n = ri(r, 1, 3); e < n; e++)
    plEntries.add(
      r.pick([
        `${r.pick(estate.hosts).privateIp}/32`,
        r.pick(r.pick(estate.vpcs).subnets).cidr,
        '198.51.100.0/25',
        `${r.pick(estate.hosts).privateIp}/32`,
      ]),
    );
  const pl = (
    await client.send(
      new CreateManagedPrefixListCommand({
        PrefixListName: `diff-${seed}`,
        AddressFamily: 'IPv4',
        MaxEntries: 5,
        Entries: [...plEntries].map((Cidr) => ({ Cidr })),
      }),
    )
  ).PrefixList!.PrefixListId!;
  log.push(`prefix list ${pl}: ${[...plEntries].join(', ')}`);

  // The rules.
  const peer = (k: number, g: string): Partial<IpPermission> => {
    const v = estate.vpcs[k]!;
    const kind = r.pick([
      'world',
      'world',
      'vpc',
      'subnet',
      'host',
      'host',
      'self',
      'group',
      'pl',
      '10/8',
      ...(routed ? (['internet', 'otherVpc', 'public'] as const) : []),
    ] as const);
    const cidr = (c: string) => ({ IpRanges: [{ CidrIp: c }] });
    switch (kind) {
      case 'world':
        return cidr('0.0.0.0/0');
      case 'vpc':
        return cidr(v.cidr);
      case 'subnet':
        return cidr(r.pick(v.subnets).cidr);
      case 'host':
        return cidr(`${r.pick(estate.hosts).privateIp}/32`);
      case 'self':
        return { UserIdGroupPairs: [{ GroupId: g }] };
      case 'group':
        return { UserIdGroupPairs: [{ GroupId: r.pick(groupsOf[k]!) }] };
      case 'pl':
        return { PrefixListIds: [{ PrefixListId: pl }] };
      case '10/8':
        return cidr('10.0.0.0/8');
      case 'internet':
        return cidr(r.bool() ? '198.51.100.0/24' : '0.0.0.0/1');
      case 'otherVpc':
        return cidr(estate.vpcs[1 - k]!.cidr);
      case 'public': {
        const withIp = estate.hosts.filter((h) => h.publicIp);
        return cidr(withIp.length ? `${r.pick(withIp).publicIp}/32` : '0.0.0.0/0');
      }
    }
  };
  const perm = (k: number, g: string): IpPermission => {
    const proto = r.pick(['tcp', 'tcp', 'tcp', 'udp', 'udp', 'icmp', 'icmp', '-1'] as const);
    if (proto === '-1') return { IpProtocol: '-1', ...peer(k, g) };
    if (proto === 'icmp') {
      const [type, code] = r.pick(ICMP_TYPES);
      return { IpProtocol: 'icmp', FromPort: type, ToPort: code, ...peer(k, g) };
    }
    const [from, to] = portsFor(r, proto);
    return { IpProtocol: proto, FromPort: from, ToPort: to, ...peer(k, g) };
  };
  const authorize = async (k: number, g: string, egress: boolean) => {
    const p = perm(k, g);
    try {
      if (egress) await client.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: g, IpPermissions: [p] }));
      else await b.allowIngress(g, [p]);
      log.push(`  ${g} ${egress ? 'egress ' : 'ingress'} ${fmtPerm(p)}`);
    } catch (e) {
      // (a duplicate of a rule drawn before: AWS refuses it, nothing changes)
      if ((e as Error).name !== 'InvalidPermission.Duplicate') throw e;
    }
  };
  for (const k of estate.vpcs.keys())
    for (const g of groupsOf[k]!)
      for (const egress of [false, true]) {
        if (egress && !restricted.has(g)) continue;
        for (let i = 0, n = egress ? ri(r, 1, 4) : ri(r, 1, 7); i < n; i++) await authorize(k, g, egress);
      }

  // Random changes, to run the same estate again (the kernel's rulesets changed in place).
  estate.change = async () => {
    log.push('changes:');
    for (const k of estate.vpcs.keys()) {
      for (const g of groupsOf[k]!) {
        const rules = (await client.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [g] }] })))
          .SecurityGroupRules!;
        for (const rule of rules) {
          if (!r.bool(0.25)) continue;
          const ids = { GroupId: g, SecurityGroupRuleIds: [rule.SecurityGroupRuleId!] };
          if (rule.IsEgress) await client.send(new RevokeSecurityGroupEgressCommand(ids));
          else await client.send(new RevokeSecurityGroupIngressCommand(ids));
          log.push(`  ${g} revoked ${rule.IsEgress ? 'egress ' : 'ingress'} ${rule.SecurityGroupRuleId}`);
        }
        for (let i = 0, n = ri(r, 0, 2); i < n; i++) await authorize(k, g, r.bool(0.3));
      }
    }
    for (const h of estate.hosts) {
      if (!r.bool(0.3)) continue;
      const list = groupsOf[h.vpc]!;
      const g1 = r.pick(list);
      h.groups = r.bool(0.4) ? [...new Set([g1, r.pick(list)])] : [g1];
      await client.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: h.eni, Groups: h.groups }));
      log.push(`  ${h.eni} (${h.id}) now in ${h.groups.join(',')}`);
    }
    const add = `${r.pick(estate.hosts).privateIp}/32`;
    const remove = r.bool(0.5) && plEntries.size > 1 ? r.pick([...plEntries]) : undefined;
    if (!plEntries.has(add) || remove) {
      const version = (await client.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [pl] }))).PrefixLists![0]!.Version;
      await client.send(
        new ModifyManagedPrefixListCommand({
          PrefixListId: pl,
          CurrentVersion: version,
          ...(plEntries.has(add) ? {} : { AddEntries: [{ Cidr: add }] }),
          ...(remove && remove !== add ? { RemoveEntries: [{ Cidr: remove }] } : {}),
        }),
      );
      plEntries.add(add);
      if (remove && remove !== add) plEntries.delete(remove);
      log.push(`  prefix list ${pl} now ${[...plEntries].join(', ')}`);
    }
    for (const a of acls) {
      if (!r.bool(0.5)) continue;
      const e = r.pick(a.entries);
      e.RuleAction = e.RuleAction === 'allow' ? 'deny' : 'allow';
      await client.send(new ReplaceNetworkAclEntryCommand({ ...e, NetworkAclId: a.id }));
      log.push(`  acl ${a.id} ${e.Egress ? 'out' : 'in'} #${e.RuleNumber} now ${e.RuleAction}`);
    }
    for (const rt of routes) {
      if (!r.bool(0.25)) continue;
      await client.send(new DeleteRouteCommand({ RouteTableId: rt.table, DestinationCidrBlock: rt.dest }));
      log.push(`  route ${rt.table}: ${rt.dest} deleted`);
    }
    routes.length = 0;
  };
  return estate;
}

/** Terminates the estate's instances (their namespaces go) and gives back its NAT gateways' Elastic IPs (5 a region). */
export async function tearDownEstate(client: EC2Client, estate: KEstate): Promise<void> {
  if (estate.hosts.length) await client.send(new TerminateInstancesCommand({ InstanceIds: estate.hosts.map((h) => h.id) }));
  const vpcIds = estate.vpcs.map((v) => v.id);
  if (!vpcIds.length) return;
  const nats = (await client.send(new DescribeNatGatewaysCommand({ Filter: [{ Name: 'vpc-id', Values: vpcIds }] }))).NatGateways ?? [];
  for (const n of nats) {
    if (n.State === 'deleted') continue;
    await client.send(new DeleteNatGatewayCommand({ NatGatewayId: n.NatGatewayId }));
    for (const a of n.NatGatewayAddresses ?? [])
      if (a.AllocationId) await client.send(new ReleaseAddressCommand({ AllocationId: a.AllocationId }));
  }
}
