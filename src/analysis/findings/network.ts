// The network around the groups: network ACLs that open sensitive ports to the internet or drop
// the replies of what they let in (ACLs are stateless), private subnets routed to an internet
// gateway, and peering routes wider than the peer VPC. Each check needs the routing exports
// (describe-route-tables, describe-network-acls, …): a snapshot without them yields nothing here.
// Where a question is about traffic, it is asked of the data plane (dataplane/flow.ts) over the
// snapshot's NetworkPaths — the same judge the server uses.
import type { NetworkAcl, NetworkAclEntry, Route, RouteTable, VpcPeeringConnectionVpcInfo } from '@aws-sdk/client-ec2';
import type { CheckDef, Finding } from './types.ts';
import { listText, uniq, type Estate } from './estate.ts';
import { PROBES } from './instances.ts';
import { bigIntToAddress, parseCidr, type Cidr } from '../../core/cidr.ts';
import { parseAddress, type Address } from '../../dataplane/addresses.ts';
import { judgeFlow, type FlowEnd } from '../../dataplane/flow.ts';
import { ruleInterval } from '../../dataplane/sg-policy.ts';

/** Stand-ins for "anyone on the internet" (TEST-NET-2 and the IPv6 documentation range). */
const INTERNET = { 4: '198.51.100.1', 6: '2001:db8::1' } as const;
/** The port a reply goes back to (the start of the IANA ephemeral range). */
const EPHEMERAL_PORT = 49152;

const ADMIN = new Set([22, 3389]);

function aclEntries(a: NetworkAcl, egress: boolean): NetworkAclEntry[] {
  return (a.Entries ?? []).filter((x) => !!x.Egress === egress).sort((x, y) => (x.RuleNumber ?? 0) - (y.RuleNumber ?? 0));
}

const protoOf = (x: NetworkAclEntry) => (x.Protocol === undefined || x.Protocol === 'all' ? '-1' : String(x.Protocol));

/** Does the entry match tcp/udp (6/17) traffic to this port? */
function entryMatches(x: NetworkAclEntry, proto: number, port: number): boolean {
  const p = protoOf(x);
  if (p === '-1') return true;
  if (Number(p) !== proto) return false;
  return port >= (x.PortRange?.From ?? 0) && port <= (x.PortRange?.To ?? 65535);
}

/** An allow entry that exists for replies: tcp/udp, from an ephemeral port (≥ 1024) up to 65535. */
function isReplyEntry(x: NetworkAclEntry): boolean {
  const p = protoOf(x);
  return (p === '6' || p === '17') && (x.PortRange?.From ?? 0) >= 1024 && (x.PortRange?.To ?? 0) === 65535;
}

function entryText(x: NetworkAclEntry): string {
  const p = protoOf(x);
  const what =
    p === '-1'
      ? 'all traffic'
      : p === '6' || p === '17'
        ? `${p === '6' ? 'tcp' : 'udp'} ${x.PortRange?.From ?? 0}${x.PortRange?.To !== x.PortRange?.From ? `-${x.PortRange?.To ?? 65535}` : ''}`
        : `protocol ${p}`;
  return `rule ${x.RuleNumber} (${x.RuleAction} ${what} from ${x.CidrBlock ?? x.Ipv6CidrBlock})`;
}

const aclSubnets = (a: NetworkAcl) => uniq((a.Associations ?? []).map((x) => x.SubnetId).filter((s): s is string => !!s));

const naclOpen: CheckDef = {
  id: 'nacl-open-sensitive-port',
  severity: 'medium',
  title: 'Network ACL admits the whole internet to SSH, RDP or another sensitive port',
  help:
    'A network ACL associated with a subnet lets 0.0.0.0/0 or ::/0 in on SSH, RDP or a database, cache, search, container or ' +
    'file-sharing port: for the internet at large, the first inbound entry (in rule-number order) that matches the port and ' +
    'covers every address of the family is an allow — the default ACL\'s "allow all" included. The security groups are then ' +
    'the only layer left. An allow entry for replies (tcp/udp from port 1024 or above up to 65535) is not counted: stateless ' +
    'ACLs need it. Add deny entries for these ports before the allow, or narrow the allow to known sources. ' +
    'Security Hub EC2.21 ("Network ACLs should not allow ingress from 0.0.0.0/0 to port 22 or port 3389"); CIS AWS Foundations 5.1.',
  controls: ['EC2.21', 'CIS 5.1'],
  run(e) {
    const out: Finding[] = [];
    for (const a of e.snapshot.networkAcls ?? []) {
      const subnets = aclSubnets(a);
      if (!a.NetworkAclId || !subnets.length) continue;
      const ingress = aclEntries(a, false);
      const byRule = new Map<number, { entry: NetworkAclEntry; services: string[]; ports: number[] }>();
      for (const family of [4, 6] as const) {
        for (const p of PROBES) {
          const proto = p.proto === 'tcp' ? 6 : 17;
          for (const x of ingress) {
            const cidr = family === 4 ? x.CidrBlock : x.Ipv6CidrBlock;
            if (!cidr || !entryMatches(x, proto, p.port)) continue;
            // A narrower entry decides for a part of the internet only; the first whole-family entry for the rest.
            if (parseCidr(cidr)?.prefix !== 0) continue;
            if (x.RuleAction === 'allow' && !isReplyEntry(x)) {
              const hit = byRule.get(x.RuleNumber!) ?? { entry: x, services: [], ports: [] };
              hit.services.push(`${p.proto} ${p.port} (${p.service})`);
              hit.ports.push(p.port);
              byRule.set(x.RuleNumber!, hit);
            }
            break;
          }
        }
      }
      if (!byRule.size) continue;
      const id = a.NetworkAclId;
      const hits = [...byRule.values()];
      const ports = uniq(hits.flatMap((h) => h.ports));
      const admin = ports.filter((p) => ADMIN.has(p));
      const label = `${e.label(id)}${a.IsDefault ? ` (the default ACL of ${e.label(a.VpcId ?? '?')})` : ''}`;
      out.push({
        checkId: this.id,
        severity: this.severity,
        resourceId: id,
        resourceType: 'network-acl',
        resourceName: e.nameOf(id),
        ruleIds: hits.map((h) => `${id}/ingress/${h.entry.RuleNumber}`),
        title: `${e.label(id)} admits the internet to ${admin.length ? admin.map((p) => (p === 22 ? 'SSH' : 'RDP')).join(' and ') : 'sensitive ports'}`,
        detail:
          `${label}, associated with ${listText(subnets.map((s) => e.label(s)))}, admits the whole internet inbound on ` +
          hits.map((h) => `${listText(uniq(h.services))} by ${entryText(h.entry)}`).join('; ') +
          '.',
        fix:
          `Add deny entries numbered below the allow for the ports that must not face the internet, e.g. ` +
          (admin.length ? admin : ports.slice(0, 1))
            .map(
              (p, k) =>
                `aws ec2 create-network-acl-entry --network-acl-id ${id} --ingress --rule-number ${Math.max(1, Math.min(...hits.map((h) => h.entry.RuleNumber!)) - 1 - k)} ` +
                `--protocol tcp --port-range From=${p},To=${p} --cidr-block 0.0.0.0/0 --rule-action deny`,
            )
            .join(' && ') +
          ', or replace the allow with entries for known sources (aws ec2 replace-network-acl-entry).',
        controls: admin.length ? ['EC2.21', 'CIS 5.1'] : [],
      });
    }
    return out;
  },
};

// ---- replies -------------------------------------------------------------------------------

/** Ports worth asking about for an interface: where its ingress rules start, or where they meet the ACL's allows. */
function candidatePorts(e: Estate, groups: string[], acl: NetworkAcl | undefined, limit = 24): { proto: number; port: number }[] {
  const allows = acl ? aclEntries(acl, false).filter((x) => x.RuleAction === 'allow') : [];
  const out = new Map<string, { proto: number; port: number }>();
  const add = (proto: number, port: number) => {
    if (out.size < limit) out.set(`${proto}/${port}`, { proto, port });
  };
  for (const g of groups) {
    for (const r of e.rules.get(g) ?? []) {
      if (r.input.egress) continue;
      const p = r.input.protocol;
      const protos = p === '-1' ? [6, 17] : p === 'tcp' ? [6] : p === 'udp' ? [17] : [];
      const [a, b] = p === '-1' ? [0, 65535] : ruleInterval(r.input);
      for (const proto of protos) {
        if (p !== '-1') add(proto, a);
        for (const x of allows) {
          const xp = protoOf(x);
          if (xp !== '-1' && Number(xp) !== proto) continue;
          const lo = xp === '-1' ? 0 : (x.PortRange?.From ?? 0);
          const hi = xp === '-1' ? 65535 : (x.PortRange?.To ?? 65535);
          if (lo <= b && hi >= a) add(proto, Math.max(a, lo) || (p === '-1' ? 22 : a));
        }
      }
    }
  }
  return [...out.values()];
}

const naclReplies: CheckDef = {
  id: 'nacl-blocks-replies',
  severity: 'low',
  title: 'Network ACL drops the replies of traffic it lets through',
  help:
    "Network ACLs are stateless: the reply of a connection crosses them again, to the client's ephemeral port (1024-65535). " +
    "An ACL whose inbound entries admit a connection the instance's security groups accept — from the internet or from " +
    'another subnet — but whose outbound entries deny the reply (asked at port 49152) breaks that service; and likewise an ' +
    'ACL that lets an instance connect out (tcp 443 to the internet) but drops the reply coming back in. Judged by the data ' +
    "plane over the estate's routing. Add an entry allowing tcp (and udp) 1024-65535 to the clients' addresses.",
  controls: [],
  run(e) {
    const paths = e.paths;
    if (!paths) return [];
    // The whole estate's plane is compiled only when some flow between interfaces needs judging
    // (an ACL that may drop replies); flows from the internet need only the internet-facing part.
    const byAcl = new Map<string, { flows: string[]; rules: Set<string>; subnets: Set<string> }>();
    const record = (aclId: string, subnetId: string, direction: string, ruleNumber: number, flow: string) => {
      const acc = byAcl.get(aclId) ?? { flows: [], rules: new Set(), subnets: new Set() };
      if (acc.flows.length < 6) acc.flows.push(flow);
      acc.rules.add(`${aclId}/${direction === 'outbound' ? 'egress' : 'ingress'}/${ruleNumber}`);
      acc.subnets.add(subnetId);
      byAcl.set(aclId, acc);
    };
    const aclById = new Map((e.snapshot.networkAcls ?? []).map((a) => [a.NetworkAclId!, a]));
    // Interfaces by subnet (live ones that routing knows).
    const bySubnet = new Map<string, { id: string; addr: Address; text: string; groups: string[]; pub?: string; v6?: string }[]>();
    for (const n of e.snapshot.networkInterfaces) {
      const id = n.NetworkInterfaceId!;
      const inst = e.instanceOfEni.get(id);
      if (inst && ['terminated', 'shutting-down'].includes(e.instances.get(inst)?.State?.Name ?? '')) continue;
      const ri = paths.interface(id);
      const text = n.PrivateIpAddress;
      const addr = text ? parseAddress(text) : undefined;
      if (!ri || !addr || !text) continue;
      const list = bySubnet.get(ri.subnetId) ?? [];
      list.push({
        id,
        addr,
        text,
        groups: (n.Groups ?? []).map((g) => g.GroupId!),
        pub: n.Association?.PublicIp,
        v6: n.Ipv6Addresses?.find((x) => x.Ipv6Address)?.Ipv6Address,
      });
      bySubnet.set(ri.subnetId, list);
    }
    const pkt = (proto: number, port: number) => ({ proto, srcPort: EPHEMERAL_PORT, dstPort: port });
    const opts = { explain: false, commit: false, replies: true } as const;
    const protoName = (p: number) => (p === 6 ? 'tcp' : 'udp');
    const who = (end: FlowEnd) =>
      end.kind === 'external' ? end.text : `${e.label(e.instanceOfEni.get(end.interfaceId) ?? end.interfaceId)} at ${end.text}`;
    /** Judges one flow; a reply stopped by an ACL is recorded. */
    const tryFlow = (src: FlowEnd, dst: FlowEnd, proto: number, port: number): boolean => {
      const plane = src.kind === 'external' ? e.internetPlane : e.plane;
      const v = judgeFlow(plane, src, dst, pkt(proto, port), 0, opts);
      if (v.verdict !== 'REJECT' || v.decidedBy !== 'acl' || !('acl' in v) || !v.acl?.reply) return false;
      const a = v.acl;
      record(
        a.aclId,
        a.subnetId,
        a.direction,
        a.ruleNumber,
        `${who(src)} → ${who(dst)} ${protoName(proto)}/${port} is let through, but its reply (${protoName(proto)} to port ${EPHEMERAL_PORT}) ` +
          `is denied ${a.direction} at ${e.label(a.subnetId)} by rule ${a.ruleNumber}`,
      );
      return true;
    };
    for (const [subnetId, ifaces] of bySubnet) {
      const sub = paths.subnet(subnetId);
      const acl = sub?.aclId ? aclById.get(sub.aclId) : undefined;
      if (!sub || !acl) continue;
      // Does the ACL let a reply to this remote address out (tcp and udp)?
      const repliesOut = (remote: Address) =>
        [6, 17].every((proto) => paths.acl(subnetId, true, remote, { proto, port: EPHEMERAL_PORT })?.allowed !== false);
      const admits = (remote: Address, proto: number, port: number) =>
        paths.acl(subnetId, false, remote, { proto, port })?.allowed !== false;
      // From the internet to the interfaces' public addresses.
      for (const family of [4, 6] as const) {
        const remote = parseAddress(INTERNET[family])!;
        if (repliesOut(remote)) continue;
        const from: FlowEnd = { kind: 'external', address: remote, text: INTERNET[family] };
        found: for (const i of ifaces) {
          const at = family === 4 ? i.pub : i.v6;
          const addr = at ? parseAddress(at) : undefined;
          if (!at || !addr) continue;
          for (const c of candidatePorts(e, i.groups, acl)) {
            if (!admits(remote, c.proto, c.port)) continue;
            const to: FlowEnd = { kind: 'interface', interfaceId: i.id, address: addr, text: at, viaPublic: family === 4 };
            if (tryFlow(from, to, c.proto, c.port)) break found;
          }
        }
      }
      // From the other subnets of the VPC.
      for (const [otherId, others] of bySubnet) {
        if (otherId === subnetId || paths.subnet(otherId)?.vpcId !== sub.vpcId) continue;
        let attempts = 0;
        found: for (const s of others) {
          if (repliesOut(s.addr)) continue;
          const from: FlowEnd = { kind: 'interface', interfaceId: s.id, address: s.addr, text: s.text, viaPublic: false };
          for (const i of ifaces) {
            for (const c of candidatePorts(e, i.groups, acl)) {
              if (!admits(s.addr, c.proto, c.port)) continue;
              if (++attempts > 200) break found;
              const to: FlowEnd = { kind: 'interface', interfaceId: i.id, address: i.addr, text: i.text, viaPublic: false };
              if (tryFlow(from, to, c.proto, c.port)) break found;
            }
          }
        }
      }
      // Outbound: tcp 443 to the internet, its reply back in.
      const remote = parseAddress(INTERNET[4])!;
      if (paths.acl(subnetId, false, remote, { proto: 6, port: EPHEMERAL_PORT })?.allowed === false) {
        const to: FlowEnd = { kind: 'external', address: remote, text: INTERNET[4] };
        for (const i of ifaces) {
          if (tryFlow({ kind: 'interface', interfaceId: i.id, address: i.addr, text: i.text, viaPublic: false }, to, 6, 443)) break;
        }
      }
    }
    const out: Finding[] = [];
    for (const [id, acc] of byAcl) {
      out.push({
        checkId: this.id,
        severity: this.severity,
        resourceId: id,
        resourceType: 'network-acl',
        resourceName: e.nameOf(id),
        ruleIds: [...acc.rules],
        title: `${e.label(id)} drops the replies of traffic it lets through`,
        detail: `${e.label(id)} (associated with ${listText([...acc.subnets].map((s) => e.label(s)))}): ${acc.flows.join('; ')}.`,
        fix:
          `Allow the replies: aws ec2 create-network-acl-entry --network-acl-id ${id} --egress --rule-number <below the deny> ` +
          '--protocol tcp --port-range From=1024,To=65535 --cidr-block <the clients> --rule-action allow (and --ingress for the replies ' +
          'of outbound connections).',
        controls: [],
      });
    }
    return out;
  },
};

// ---- routes --------------------------------------------------------------------------------

/** The route table each subnet uses: its explicit association, else its VPC's main table. */
function tablesOfSubnets(e: Estate): Map<string, RouteTable> {
  const main = new Map<string, RouteTable>();
  const explicit = new Map<string, RouteTable>();
  for (const t of e.snapshot.routeTables ?? []) {
    for (const a of t.Associations ?? []) {
      if (a.Main && t.VpcId) main.set(t.VpcId, t);
      else if (a.SubnetId) explicit.set(a.SubnetId, t);
    }
  }
  const out = new Map<string, RouteTable>();
  for (const s of e.snapshot.subnets) {
    const t = explicit.get(s.SubnetId!) ?? main.get(s.VpcId!);
    if (t) out.set(s.SubnetId!, t);
  }
  return out;
}

const PRIVATE = /private/i;

const privateRoute: CheckDef = {
  id: 'private-subnet-internet-route',
  severity: 'medium',
  title: 'Subnet named private routes to an internet gateway',
  help:
    'A subnet that is meant to be private — its Name tag, or the Name tag of its route table, contains "private" — uses a ' +
    'route table with an active route to an internet gateway: any instance there that gets a public address (an Elastic IP, ' +
    'a launch with AssociatePublicIpAddress) faces the internet, and its outbound traffic skips the NAT gateway. Send the ' +
    "subnet's internet-bound traffic through a NAT gateway instead.",
  controls: [],
  run(e) {
    if (!e.snapshot.routeTables?.length) return [];
    const out: Finding[] = [];
    for (const [subnetId, t] of tablesOfSubnets(e)) {
      const name = e.nameOf(subnetId);
      const tableName = e.nameOf(t.RouteTableId!);
      if (!PRIVATE.test(name ?? '') && !PRIVATE.test(tableName ?? '')) continue;
      const routes = (t.Routes ?? []).filter((r) => r.GatewayId?.startsWith('igw-') && r.State !== 'blackhole');
      if (!routes.length) continue;
      const dest = (r: Route) => r.DestinationCidrBlock ?? r.DestinationIpv6CidrBlock ?? r.DestinationPrefixListId ?? '?';
      const why = PRIVATE.test(name ?? '') ? `named ${JSON.stringify(name)}` : `its route table is named ${JSON.stringify(tableName)}`;
      out.push({
        checkId: this.id,
        severity: this.severity,
        resourceId: subnetId,
        resourceType: 'subnet',
        resourceName: name,
        ruleIds: routes.map((r) => `${t.RouteTableId}/${dest(r)}`),
        title: `Private subnet ${e.label(subnetId)} routes to an internet gateway`,
        detail:
          `${e.label(subnetId)} is private by name (${why}), but its route table ${e.label(t.RouteTableId!)} ` +
          `sends ${routes.map((r) => `${dest(r)} to ${e.label(r.GatewayId!)}`).join(' and ')}.`,
        fix: routes
          .map((r) =>
            r.DestinationIpv6CidrBlock
              ? `aws ec2 replace-route --route-table-id ${t.RouteTableId} --destination-ipv6-cidr-block ${r.DestinationIpv6CidrBlock} --egress-only-internet-gateway-id <eigw-…>`
              : `aws ec2 replace-route --route-table-id ${t.RouteTableId} --destination-cidr-block ${dest(r)} --nat-gateway-id <nat-… in a public subnet>`,
          )
          .join(' && '),
        controls: [],
      });
    }
    return out;
  },
};

/** The CIDR blocks of the peer side of a peering connection, as far as the snapshot knows them. */
function peerBlocks(e: Estate, info: VpcPeeringConnectionVpcInfo | undefined): Cidr[] | undefined {
  if (!info) return undefined;
  const texts = [
    info.CidrBlock,
    ...(info.CidrBlockSet ?? []).map((c) => c.CidrBlock),
    ...(info.Ipv6CidrBlockSet ?? []).map((c) => c.Ipv6CidrBlock),
  ];
  const vpc = e.snapshot.vpcs.find((v) => v.VpcId === info.VpcId);
  if (vpc) {
    texts.push(vpc.CidrBlock);
    for (const a of vpc.CidrBlockAssociationSet ?? []) if (a.CidrBlockState?.State === 'associated') texts.push(a.CidrBlock);
    for (const a of vpc.Ipv6CidrBlockAssociationSet ?? []) if (a.Ipv6CidrBlockState?.State === 'associated') texts.push(a.Ipv6CidrBlock);
  }
  const blocks = texts.map((t) => (t ? parseCidr(t) : undefined)).filter((c): c is Cidr => !!c);
  return blocks.length ? blocks : undefined;
}

function within(inner: Cidr, outer: Cidr): boolean {
  if (inner.family !== outer.family || inner.prefix < outer.prefix) return false;
  const shift = BigInt((inner.family === 4 ? 32 : 128) - outer.prefix);
  return inner.base >> shift === outer.base >> shift;
}

const peeringWide: CheckDef = {
  id: 'peering-route-too-wide',
  severity: 'medium',
  title: "Route to a peering connection wider than the peer VPC's CIDR blocks",
  help:
    'A route sends a destination to a VPC peering connection that is wider than every CIDR block of the peer VPC ' +
    '(0.0.0.0/0, 10.0.0.0/8 when the peer is 10.1.0.0/16): traffic for addresses the peer does not hold is sent to it and ' +
    'dropped there, more specific routes elsewhere are shadowed in intent, and a later peering or a new block on the peer ' +
    "silently widens what the two VPCs exchange. Route exactly the peer's CIDR blocks.",
  controls: [],
  run(e) {
    const out: Finding[] = [];
    const pcxById = new Map((e.snapshot.vpcPeeringConnections ?? []).map((p) => [p.VpcPeeringConnectionId!, p]));
    for (const t of e.snapshot.routeTables ?? []) {
      const wide: string[] = [];
      const ids: string[] = [];
      const fixes: string[] = [];
      for (const r of t.Routes ?? []) {
        const pcxId = r.VpcPeeringConnectionId;
        const text = r.DestinationCidrBlock ?? r.DestinationIpv6CidrBlock;
        const pcx = pcxId ? pcxById.get(pcxId) : undefined;
        const dest = text ? parseCidr(text) : undefined;
        if (!pcx || !dest) continue;
        const peer = pcx.RequesterVpcInfo?.VpcId === t.VpcId ? pcx.AccepterVpcInfo : pcx.RequesterVpcInfo;
        const blocks = peerBlocks(e, peer);
        if (!blocks || blocks.some((b) => within(dest, b))) continue;
        const same = uniq(blocks.filter((b) => b.family === dest.family).map((b) => cidrText(b)));
        wide.push(
          `${text} → ${e.label(pcxId!)} (the peer ${e.label(peer?.VpcId ?? '?')} holds ${same.length ? same.join(', ') : `no IPv${dest.family} block`})`,
        );
        ids.push(`${t.RouteTableId}/${text}`);
        const flag = dest.family === 4 ? '--destination-cidr-block' : '--destination-ipv6-cidr-block';
        fixes.push(
          `aws ec2 delete-route --route-table-id ${t.RouteTableId} ${flag} ${text}`,
          ...same.map((b) => `aws ec2 create-route --route-table-id ${t.RouteTableId} ${flag} ${b} --vpc-peering-connection-id ${pcxId}`),
        );
      }
      if (!wide.length) continue;
      const id = t.RouteTableId!;
      out.push({
        checkId: this.id,
        severity: this.severity,
        resourceId: id,
        resourceType: 'route-table',
        resourceName: e.nameOf(id),
        ruleIds: ids,
        title: `${e.label(id)} routes more than the peer VPC to a peering connection`,
        detail: `${e.label(id)} of ${e.label(t.VpcId ?? '?')}: ${wide.join('; ')}.`,
        fix: `Route exactly the peer's blocks: ${fixes.join(' && ')}`,
        controls: [],
      });
    }
    return out;
  },
};

const cidrText = (c: Cidr) => `${bigIntToAddress(c.family, c.base)}/${c.prefix}`;

export const networkChecks: CheckDef[] = [naclOpen, naclReplies, privateRoute, peeringWide];
