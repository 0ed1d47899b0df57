// One Network Insights analysis: the path's ends resolved as AWS allows them (instances, network
// interfaces, internet gateways, VPC peering connections, an IP address as destination), the flow
// judged by the one flow judge (dataplane/flow.ts: routes, gateways, ACLs, both group gates), and
// the answer in AWS's shape: ForwardPathComponents in the order a packet meets them, or the
// Explanations of what blocks it.
//
// Shapes follow the example outputs in "Getting started with Reachability Analyzer using the AWS
// CLI" (https://docs.aws.amazon.com/vpc/latest/reachability/getting-started-cli.html): an
// internet gateway source carries InboundHeader/OutboundHeader and its Vpc, then the subnet's
// network ACL (AclRule, Protocol "all" for every protocol), the security group (SecurityGroupRule),
// the network interface (AttachedTo its instance, Subnet, Vpc), the instance (InboundHeader); on
// the way out: security group, network ACL, route table (RouteTableRoute, Origin in lower case),
// gateway.
//
// Every ExplanationCode used here is one of "Reachability Analyzer explanation codes"
// (https://docs.aws.amazon.com/vpc/latest/reachability/explanation-codes.html):
//   NO_ROUTE_TO_DESTINATION  "The route table does not have an applicable route to the destination resource."
//   BAD_STATE_ROUTE          "This route is not in a functional state." (a blackhole route)
//   BAD_STATE                "This component is not in a functional state." (a NAT gateway not available,
//                            a peering connection not active, an instance not running)
//   SUBNET_ACL_RESTRICTION   "Inbound or outbound traffic for a subnet must be admitted by the network ACL for the subnet."
//   ENI_SG_RULES_MISMATCH    "This security group has no inbound or outbound rules that apply."
//   IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS   no public IPv4 address behind the internet gateway (out)
//   IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS the destination is not a public IP address (in)
//   IGW_SOURCE_ADDRESS_NOT_IN_RFC1918_INGRESS  a private source address from the internet
//   IGW_NAT_REFLECTION       an internet gateway as an intermediate component (out and back in)
//   PCX_REQUIRES_ADDRESS_IN_VPC_CIDR  the peering connection does not lead to the address's VPC
//   UNASSOCIATED_COMPONENT   "The component is not associated with a VPC in your account" (a detached
//                            internet gateway, a terminated instance)
//   DISCONNECTED_VPCS        "The source and destination are in separate VPCs that are not connected by a supported resource."
//   NO_PATH                  no path (e.g. address families that never mix)
// (The names the issue guessed — IGW_NOT_ATTACHED, ENI_NOT_PUBLIC, ACL_RULES_MISMATCH — are not AWS codes.)
import type {
  AnalysisAclRule,
  AnalysisComponent,
  AnalysisPacketHeader,
  AnalysisRouteTableRoute,
  AnalysisSecurityGroupRule,
  Explanation,
  PathComponent,
} from '@aws-sdk/client-ec2';
import type { Ctx } from '../../core/context.ts';
import { ec2Arn, resourceTypeOfId } from '../../core/resource-types.ts';
import { bigIntToAddress, parseCidr } from '../../core/cidr.ts';
import {
  KIND,
  type EniDoc,
  type InstanceDoc,
  type InternetGatewayDoc,
  type NetworkAclDoc,
  type PeeringDoc,
  type RouteTableDoc,
} from '../../core/documents/ec2.ts';
import { judgeFlow, type FlowEnd, type RouteReject } from '../../dataplane/flow.ts';
import type { DataPlane, Endpoint, GateResult, Packet, Verdict } from '../../dataplane/dataplane.ts';
import type { AclDecision, Hop, PathDecision, RouteChoice } from '../../dataplane/routing.ts';
import { parseAddress, type Address } from '../../dataplane/addresses.ts';
import { protocolNumber, type RuleInput } from '../../dataplane/sg-policy.ts';

export interface PathSpec {
  source: string;
  destination?: string;
  sourceIp?: string;
  destinationIp?: string;
  protocol: string;
  port?: number;
}

export interface AnalysisOutcome {
  found: boolean;
  forward: PathComponent[];
  explanations: Explanation[];
}

/** Internet addresses (TEST-NET-2, RFC 5737) for an internet gateway end named without an address. */
export const INTERNET_SOURCE = '198.51.100.10';
export const INTERNET_DESTINATION = '198.51.100.20';
/** The source port of the analysed connection (an ephemeral port, for the ACLs' reply rules). */
const SOURCE_PORT = 49152;

type End =
  | { kind: 'eni'; id: string; eni: EniDoc; instance?: InstanceDoc }
  | { kind: 'igw'; id: string; igw: InternetGatewayDoc }
  | { kind: 'pcx'; id: string; pcx: PeeringDoc }
  | { kind: 'ip'; id?: undefined; address: string };

type Failure = { explanations: Explanation[] };

const host = (a: Address) => bigIntToAddress(a.family, BigInt(a.v));
const slash = (text: string) => `${text}/${text.includes(':') ? 128 : 32}`;

function isRfc1918(a: Address): boolean {
  if (a.family !== 4) return false;
  const v = a.v >>> 0;
  return v >>> 24 === 10 || v >>> 20 === (172 << 4) + 1 || v >>> 16 === (192 << 8) + 168;
}

class Analysis {
  private readonly paths;
  private readonly proto: number;
  constructor(
    private readonly ctx: Ctx,
    private readonly plane: DataPlane,
    private readonly spec: PathSpec,
  ) {
    this.paths = plane.paths;
    this.proto = protocolNumber(spec.protocol.toLowerCase());
  }

  // ---- components -------------------------------------------------------------------------

  comp(id: string): AnalysisComponent {
    const name = resourceTypeOfId(id)?.name ?? id.split('-')[0]!;
    return { Id: id, Arn: ec2Arn(this.ctx.partition, this.ctx.region, this.ctx.account, name, id) };
  }

  private vpcOfSubnet(subnetId: string): string | undefined {
    return this.paths.subnet(subnetId)?.vpcId;
  }

  private header(src: string, dst: string, port: number): AnalysisPacketHeader {
    return {
      DestinationAddresses: [slash(dst)],
      DestinationPortRanges: [{ From: port, To: port }],
      Protocol: String(this.proto),
      SourceAddresses: [slash(src)],
      SourcePortRanges: [{ From: 0, To: 65535 }],
    };
  }

  private aclRule(aclId: string, egress: boolean, d: Pick<AclDecision, 'ruleNumber' | 'allowed'>, family: 4 | 6): AnalysisAclRule {
    const doc = this.ctx.tx.get<NetworkAclDoc>(KIND.networkAcl, this.ctx.scope, aclId);
    const e = doc?.entries.find((x) => x.egress === egress && x.ruleNumber === d.ruleNumber);
    if (!e) {
      // the `*` rule (32767 IPv4, 32768 IPv6): denies what no entry allowed
      return {
        Cidr: family === 4 ? '0.0.0.0/0' : '::/0',
        Egress: egress,
        Protocol: 'all',
        RuleAction: d.allowed ? 'allow' : 'deny',
        RuleNumber: d.ruleNumber,
      };
    }
    return {
      Cidr: e.cidr4 ?? e.cidr6,
      Egress: egress,
      ...(e.ports ? { PortRange: { From: e.ports.from, To: e.ports.to } } : {}),
      Protocol: e.protocol === '-1' ? 'all' : e.protocol,
      RuleAction: e.action,
      RuleNumber: e.ruleNumber,
    };
  }

  private routeRoute(r: RouteChoice): AnalysisRouteTableRoute {
    const doc = this.ctx.tx.get<RouteTableDoc>(KIND.routeTable, this.ctx.scope, r.tableId);
    const stored = doc?.routes.find((x) => (x.cidr4 ?? x.cidr6 ?? x.prefixListId) === r.destination);
    const t = r.target;
    return {
      ...(r.destination.startsWith('pl-') ? { DestinationPrefixListId: r.destination } : { DestinationCidr: r.destination }),
      ...(t.kind === 'local' ? { GatewayId: 'local' } : {}),
      ...(t.kind === 'igw' || t.kind === 'vpce' ? { GatewayId: t.id } : {}),
      ...(t.kind === 'eigw' ? { EgressOnlyInternetGatewayId: t.id } : {}),
      ...(t.kind === 'nat' ? { NatGatewayId: t.id } : {}),
      ...(t.kind === 'pcx' ? { VpcPeeringConnectionId: t.id } : {}),
      ...(t.kind === 'eni' ? { NetworkInterfaceId: t.id, ...(stored?.instanceId ? { InstanceId: stored.instanceId } : {}) } : {}),
      ...(t.kind === 'other' ? { GatewayId: t.id } : {}),
      Origin: (stored?.origin ?? 'CreateRouteTable').toLowerCase(),
      State: this.blackholed(r) ? 'blackhole' : 'active',
    };
  }

  /**
   * A route's state as DescribeRouteTables reports it (route-tables.ts): a blackhole once its
   * target can carry nothing (a detached gateway, a deleted NAT gateway, a peering connection not active).
   */
  private blackholed(r: RouteChoice): boolean {
    const t = r.target;
    if (r.blackhole) return true;
    if (t.kind === 'nat') return !this.paths.nat(t.id)?.available;
    if (t.kind === 'pcx') return !this.paths.peering(t.id)?.active;
    return false;
  }

  private sgRule(r: RuleInput): AnalysisSecurityGroupRule {
    const p = protocolNumber(r.protocol);
    return {
      ...(r.cidr4 || r.cidr6 ? { Cidr: r.cidr4 ?? r.cidr6 } : {}),
      Direction: r.egress ? 'egress' : 'ingress',
      SecurityGroupId: r.groupId,
      ...((p === 6 || p === 17) && r.from !== undefined ? { PortRange: { From: r.from, To: r.to ?? r.from } } : {}),
      ...(r.prefixListId ? { PrefixListId: r.prefixListId } : {}),
      Protocol: r.protocol === '-1' ? 'all' : r.protocol,
    };
  }

  private eniComponent(e: Extract<End, { kind: 'eni' }>): PathComponent {
    return {
      ...(e.eni.attachment ? { AttachedTo: this.comp(e.eni.attachment.instanceId) } : {}),
      Component: this.comp(e.eni.id),
      Subnet: this.comp(e.eni.subnetId),
      Vpc: this.comp(e.eni.vpcId),
    };
  }

  private sgComponent(g: GateResult | undefined, eni: EniDoc): PathComponent | undefined {
    if (!g?.allowed) return undefined;
    const rule = g.rules[0];
    const group = rule?.groupId ?? eni.groups[0];
    if (!group) return undefined;
    return { Component: this.comp(group), ...(rule ? { SecurityGroupRule: this.sgRule(rule) } : {}) };
  }

  private aclComponent(subnetId: string | undefined, egress: boolean, remote: Address, port: number): PathComponent | undefined {
    if (!subnetId) return undefined;
    const d = this.paths.acl(subnetId, egress, remote, { proto: this.proto, port });
    if (!d) return undefined;
    return { Component: this.comp(d.aclId), AclRule: this.aclRule(d.aclId, egress, d, remote.family) };
  }

  // ---- ends --------------------------------------------------------------------------------

  private resolve(id: string): End | Failure {
    const { tx, scope } = this.ctx;
    if (id.startsWith('i-')) {
      const instance = tx.get<InstanceDoc>(KIND.instance, scope, id);
      const eni = tx.all<EniDoc>(KIND.eni, scope).find((e) => e.attachment?.instanceId === id && e.attachment.deviceIndex === 0);
      if (!instance || instance.state === 'terminated' || !eni)
        return { explanations: [{ ExplanationCode: 'UNASSOCIATED_COMPONENT', Component: this.comp(id) }] };
      if (instance.state !== 'running')
        return { explanations: [{ ExplanationCode: 'BAD_STATE', Component: this.comp(id), State: instance.state }] };
      return { kind: 'eni', id, eni, instance };
    }
    if (id.startsWith('eni-')) {
      const eni = tx.get<EniDoc>(KIND.eni, scope, id)!;
      const instance = eni.attachment ? tx.get<InstanceDoc>(KIND.instance, scope, eni.attachment.instanceId) : undefined;
      return { kind: 'eni', id, eni, instance };
    }
    if (id.startsWith('igw-')) {
      const igw = tx.get<InternetGatewayDoc>(KIND.internetGateway, scope, id)!;
      if (!igw.attachments[0]) return { explanations: [{ ExplanationCode: 'UNASSOCIATED_COMPONENT', Component: this.comp(id) }] };
      return { kind: 'igw', id, igw };
    }
    const pcx = tx.get<PeeringDoc>(KIND.peering, scope, id)!;
    return { kind: 'pcx', id, pcx };
  }

  /** The destination named by address only: an interface's address, or a host outside. */
  private byAddress(text: string): End {
    const e = this.ctx.tx
      .all<EniDoc>(KIND.eni, this.ctx.scope)
      .find((x) => x.privateIps.includes(text) || x.ipv6.includes(text) || x.publicIp === text);
    if (!e) return { kind: 'ip', address: text };
    const instance = e.attachment ? this.ctx.tx.get<InstanceDoc>(KIND.instance, this.ctx.scope, e.attachment.instanceId) : undefined;
    return { kind: 'eni', id: e.id, eni: e, instance };
  }

  /** The ENI's own address of a family (its primary private IPv4, or its first IPv6). */
  private own(eni: EniDoc, family: 4 | 6): string | undefined {
    return family === 4 ? eni.privateIps[0] : eni.ipv6[0];
  }

  private startComponent(e: End): AnalysisComponent | undefined {
    return e.id ? this.comp(e.id) : undefined;
  }

  // ---- the analysis ------------------------------------------------------------------------

  run(): AnalysisOutcome {
    const src = this.resolve(this.spec.source);
    if ('explanations' in src) return { found: false, forward: [], explanations: src.explanations };
    let dst: End | Failure;
    if (this.spec.destination) dst = this.resolve(this.spec.destination);
    else dst = this.byAddress(this.spec.destinationIp!);
    if ('explanations' in dst) return { found: false, forward: [], explanations: dst.explanations };
    const ports = this.ports(src, dst);
    let first: AnalysisOutcome | undefined;
    for (const port of ports) {
      const o = this.analyse(src, dst, port);
      if (o.found) return o;
      first ??= o;
    }
    return first!;
  }

  /** The destination ports to analyse: the path's, else the ports the groups on the way open (AWS: any port). */
  private ports(src: End, dst: End): number[] {
    if (this.spec.port !== undefined) return [this.spec.port];
    const out = new Set<number>();
    for (const [e, egress] of [
      [dst, false],
      [src, true],
    ] as const) {
      if (e.kind !== 'eni') continue;
      for (const g of e.eni.groups) {
        for (const r of this.plane.policy.groupRules(g)) {
          if (r.egress !== egress) continue;
          const p = protocolNumber(r.protocol);
          if (p === this.proto || r.protocol === '-1') out.add(r.from ?? 0);
        }
      }
    }
    if (!out.size) out.add(0);
    return [...out].slice(0, 64);
  }

  private fail(e: Explanation, forward: PathComponent[] = []): AnalysisOutcome {
    return { found: false, forward: number(forward), explanations: [e] };
  }

  private analyse(src: End, dst: End, port: number): AnalysisOutcome {
    const pkt: Packet = { proto: this.proto, srcPort: SOURCE_PORT, dstPort: port };
    const now = this.ctx.clock.now();
    const wantV6 = (this.spec.destinationIp ?? '').includes(':');
    const family: 4 | 6 = wantV6 ? 6 : 4;

    // From an interface.
    if (src.kind === 'eni') {
      const srcAddr = this.own(src.eni, family);
      if (!srcAddr) return this.fail({ ExplanationCode: 'NO_PATH', Component: this.comp(src.eni.id), Vpc: this.comp(src.eni.vpcId) });
      const from: FlowEnd = {
        kind: 'interface',
        interfaceId: src.eni.id,
        address: parseAddress(srcAddr)!,
        text: srcAddr,
        viaPublic: false,
      };
      if (dst.kind === 'eni') {
        const named = this.spec.destinationIp;
        if (named && named === dst.eni.publicIp) {
          // Out through an internet gateway and back in at a public address.
          const igw = this.paths.internetGatewayOf(src.eni.vpcId);
          return this.fail({
            ExplanationCode: 'IGW_NAT_REFLECTION',
            ...(igw ? { Component: this.comp(igw.id), InternetGateway: this.comp(igw.id) } : {}),
            Vpc: this.comp(src.eni.vpcId),
          });
        }
        const dstAddr = named && (dst.eni.privateIps.includes(named) || dst.eni.ipv6.includes(named)) ? named : this.own(dst.eni, family);
        if (!dstAddr) return this.fail({ ExplanationCode: 'NO_PATH', Component: this.comp(dst.eni.id), Vpc: this.comp(dst.eni.vpcId) });
        const to: FlowEnd = {
          kind: 'interface',
          interfaceId: dst.eni.id,
          address: parseAddress(dstAddr)!,
          text: dstAddr,
          viaPublic: false,
        };
        return this.judged(
          src,
          dst,
          srcAddr,
          dstAddr,
          judgeFlow(this.plane, from, to, pkt, now, { explain: true, commit: false, replies: true }),
          port,
        );
      }
      if (dst.kind === 'igw' || dst.kind === 'ip') {
        if (dst.kind === 'igw') {
          const at = dst.igw.attachments[0]?.vpcId;
          if (at !== src.eni.vpcId)
            return this.fail({
              ExplanationCode: 'DISCONNECTED_VPCS',
              Component: this.comp(dst.id),
              SourceVpc: this.comp(src.eni.vpcId),
              ...(at ? { DestinationVpc: this.comp(at) } : {}),
            });
        }
        const text = dst.kind === 'ip' ? dst.address : (this.spec.destinationIp ?? INTERNET_DESTINATION);
        const address = parseAddress(text)!;
        const to: FlowEnd = { kind: 'external', address, text };
        const v = judgeFlow(this.plane, from, to, pkt, now, { explain: true, commit: false, replies: true });
        if (dst.kind === 'igw' && v.route?.ok) {
          // The path must leave through this gateway.
          const last = v.route.hops.filter((h): h is Extract<Hop, { kind: 'route' }> => h.kind === 'route').at(-1);
          if (!last || last.route.target.kind !== 'igw' || last.route.target.id !== dst.id)
            return this.fail({
              ExplanationCode: 'NO_ROUTE_TO_DESTINATION',
              Destination: this.comp(dst.id),
              ...(last ? { RouteTable: this.comp(last.route.tableId), RouteTableRoute: this.routeRoute(last.route) } : {}),
              Vpc: this.comp(src.eni.vpcId),
            });
        }
        return this.judged(src, dst, srcAddr, text, v, port);
      }
      // To a peering connection: to an address in the peer VPC, through it.
      return this.toPeering(src, dst, srcAddr, pkt, now, port);
    }

    if (src.kind === 'igw') {
      if (dst.kind !== 'eni') return this.fail({ ExplanationCode: 'NO_PATH', Component: this.comp(src.id) });
      const at = src.igw.attachments[0]!.vpcId;
      if (at !== dst.eni.vpcId)
        return this.fail({
          ExplanationCode: 'DISCONNECTED_VPCS',
          Component: this.comp(src.id),
          SourceVpc: this.comp(at),
          DestinationVpc: this.comp(dst.eni.vpcId),
        });
      const text = this.spec.sourceIp ?? (family === 6 ? '2001:db8::10' : INTERNET_SOURCE);
      const address = parseAddress(text)!;
      if (isRfc1918(address))
        return this.fail({
          ExplanationCode: 'IGW_SOURCE_ADDRESS_NOT_IN_RFC1918_INGRESS',
          Component: this.comp(src.id),
          InternetGateway: this.comp(src.id),
          Address: text,
        });
      const named = this.spec.destinationIp;
      const dstText = family === 6 ? (named ?? dst.eni.ipv6[0]) : dst.eni.publicIp;
      if (!dstText || (family === 4 && named && named !== dst.eni.publicIp))
        return this.fail({
          ExplanationCode: 'IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS',
          Component: this.comp(src.id),
          InternetGateway: this.comp(src.id),
          NetworkInterface: this.comp(dst.eni.id),
          Vpc: this.comp(at),
        });
      const from: FlowEnd = { kind: 'external', address, text };
      const to: FlowEnd = {
        kind: 'interface',
        interfaceId: dst.eni.id,
        address: parseAddress(dstText)!,
        text: dstText,
        viaPublic: family === 4,
      };
      return this.judged(
        src,
        dst,
        text,
        dstText,
        judgeFlow(this.plane, from, to, pkt, now, { explain: true, commit: false, replies: true }),
        port,
      );
    }

    if (src.kind === 'pcx' && dst.kind === 'eni') return this.fromPeering(src, dst, family, pkt, now, port);
    return this.fail({ ExplanationCode: 'NO_PATH', ...(src.id ? { Component: this.comp(src.id) } : {}) });
  }

  /** The peer VPC's side of a peering connection, seen from `vpcId`, and an address in it. */
  private peerSide(pcx: PeeringDoc, vpcId: string, named: string | undefined) {
    const other = pcx.requester.vpcId === vpcId ? pcx.accepter : pcx.requester;
    let text = named;
    if (!text) {
      const c = parseCidr(other.cidrs[0] ?? '');
      text = c ? bigIntToAddress(c.family, c.base + 4n) : undefined;
    }
    return { text, connects: pcx.requester.vpcId === vpcId || pcx.accepter.vpcId === vpcId };
  }

  /** The checks of the peering connection a route leads to, as explanations. */
  private peeringState(pcxId: string, fromVpc: string, address: Address, route?: RouteChoice): Explanation | undefined {
    const p = this.paths.peering(pcxId);
    const doc = this.ctx.tx.get<PeeringDoc>(KIND.peering, this.ctx.scope, pcxId);
    const rt = route ? { RouteTable: this.comp(route.tableId), RouteTableRoute: this.routeRoute(route) } : {};
    if (!p?.active)
      return {
        ExplanationCode: 'BAD_STATE',
        Component: this.comp(pcxId),
        VpcPeeringConnection: this.comp(pcxId),
        ...(doc ? { State: doc.status } : {}),
        ...rt,
      };
    if (!p.vpcIds.includes(fromVpc))
      return {
        ExplanationCode: 'DISCONNECTED_VPCS',
        Component: this.comp(pcxId),
        VpcPeeringConnection: this.comp(pcxId),
        SourceVpc: this.comp(fromVpc),
      };
    if (doc) {
      const other = doc.requester.vpcId === fromVpc ? doc.accepter : doc.requester;
      const inside = [...other.cidrs, ...other.ipv6Cidrs].some((c) => {
        const x = parseCidr(c);
        if (!x || x.family !== address.family) return false;
        const size = 1n << BigInt((x.family === 4 ? 32 : 128) - x.prefix);
        const v = BigInt(address.v);
        return v >= x.base && v < x.base + size;
      });
      if (!inside)
        return {
          ExplanationCode: 'PCX_REQUIRES_ADDRESS_IN_VPC_CIDR',
          Component: this.comp(pcxId),
          VpcPeeringConnection: this.comp(pcxId),
          DestinationVpc: this.comp(other.vpcId),
          Address: host(address),
          ...rt,
        };
    }
    return undefined;
  }

  private toPeering(
    src: Extract<End, { kind: 'eni' }>,
    dst: Extract<End, { kind: 'pcx' }>,
    srcAddr: string,
    pkt: Packet,
    now: number,
    port: number,
  ): AnalysisOutcome {
    const peer = this.peerSide(dst.pcx, src.eni.vpcId, this.spec.destinationIp);
    if (!peer.connects)
      return this.fail({ ExplanationCode: 'DISCONNECTED_VPCS', Component: this.comp(dst.id), SourceVpc: this.comp(src.eni.vpcId) });
    if (!peer.text) return this.fail({ ExplanationCode: 'NO_PATH', Component: this.comp(dst.id) });
    const address = parseAddress(peer.text)!;
    const start = [this.first(src, srcAddr, peer.text, port), this.eniComponent(src)].filter((c): c is PathComponent => !!c);
    const r = this.paths.route(src.eni.subnetId, address);
    if (!r || r.target.kind !== 'pcx' || r.target.id !== dst.id)
      return this.fail(
        {
          ExplanationCode: 'NO_ROUTE_TO_DESTINATION',
          Destination: this.comp(dst.id),
          RouteTable: this.comp(this.paths.subnet(src.eni.subnetId)?.routeTableId ?? ''),
          ...(r ? { RouteTableRoute: this.routeRoute(r) } : {}),
          Subnet: this.comp(src.eni.subnetId),
          Vpc: this.comp(src.eni.vpcId),
        },
        start,
      );
    if (r.blackhole) return this.fail(this.blackhole(r), start);
    const bad = this.peeringState(dst.id, src.eni.vpcId, address, r);
    if (bad) return this.fail(bad, start);
    const route: PathDecision = { ok: true, hops: [{ kind: 'route', subnetId: src.eni.subnetId, route: r }], aclOut: src.eni.subnetId };
    const from: Endpoint = { kind: 'interface', interfaceId: src.eni.id, address: parseAddress(srcAddr)!, text: srcAddr };
    const to: Endpoint = { kind: 'external', address, text: peer.text };
    const v = this.plane.judge(from, to, pkt, now, { explain: true, commit: false, replies: true, route });
    return this.judged(src, dst, srcAddr, peer.text, v, port);
  }

  private fromPeering(
    src: Extract<End, { kind: 'pcx' }>,
    dst: Extract<End, { kind: 'eni' }>,
    family: 4 | 6,
    pkt: Packet,
    now: number,
    port: number,
  ): AnalysisOutcome {
    const peer = this.peerSide(src.pcx, dst.eni.vpcId, this.spec.sourceIp);
    if (!peer.connects)
      return this.fail({ ExplanationCode: 'DISCONNECTED_VPCS', Component: this.comp(src.id), DestinationVpc: this.comp(dst.eni.vpcId) });
    const dstAddr = this.own(dst.eni, family);
    if (!peer.text || !dstAddr) return this.fail({ ExplanationCode: 'NO_PATH', Component: this.comp(src.id) });
    const address = parseAddress(peer.text)!;
    const p = this.paths.peering(src.id);
    if (!p?.active)
      return this.fail({
        ExplanationCode: 'BAD_STATE',
        Component: this.comp(src.id),
        VpcPeeringConnection: this.comp(src.id),
        State: src.pcx.status,
      });
    // Replies go back through the peering connection: the destination's subnet needs the route.
    const back = this.paths.route(dst.eni.subnetId, address);
    if (!back || back.target.kind !== 'pcx' || back.target.id !== src.id)
      return this.fail({
        ExplanationCode: 'NO_ROUTE_TO_DESTINATION',
        Destination: this.comp(src.id),
        RouteTable: this.comp(this.paths.subnet(dst.eni.subnetId)?.routeTableId ?? ''),
        ...(back ? { RouteTableRoute: this.routeRoute(back) } : {}),
        Subnet: this.comp(dst.eni.subnetId),
        Vpc: this.comp(dst.eni.vpcId),
      });
    if (back.blackhole) return this.fail(this.blackhole(back));
    const route: PathDecision = { ok: true, hops: [{ kind: 'route', subnetId: dst.eni.subnetId, route: back }], aclIn: dst.eni.subnetId };
    const from: Endpoint = { kind: 'external', address, text: peer.text };
    const to: Endpoint = { kind: 'interface', interfaceId: dst.eni.id, address: parseAddress(dstAddr)!, text: dstAddr };
    const v = this.plane.judge(from, to, pkt, now, { explain: true, commit: false, replies: true, route });
    return this.judged(src, dst, peer.text, dstAddr, v, port);
  }

  private blackhole(r: RouteChoice): Explanation {
    const vpc = this.ctx.tx.get<RouteTableDoc>(KIND.routeTable, this.ctx.scope, r.tableId)?.vpcId;
    return {
      ExplanationCode: 'BAD_STATE_ROUTE',
      Component: this.comp(r.tableId),
      RouteTable: this.comp(r.tableId),
      RouteTableRoute: this.routeRoute(r),
      State: 'blackhole',
      ...(vpc ? { Vpc: this.comp(vpc) } : {}),
    };
  }

  /** The first component: the source resource, with the packet as it leaves it. */
  private first(src: End, srcAddr: string, dstAddr: string, port: number, dstWire?: string): PathComponent | undefined {
    const c = this.startComponent(src);
    if (!c) return undefined;
    if (src.kind === 'igw')
      return {
        Component: c,
        InboundHeader: this.header(srcAddr, dstWire ?? dstAddr, port),
        OutboundHeader: { DestinationAddresses: [slash(dstAddr)] },
        Vpc: this.comp(src.igw.attachments[0]!.vpcId),
      };
    if (src.kind === 'eni' && c.Id === src.eni.id) return undefined; // the interface itself comes next
    return { Component: c, OutboundHeader: this.header(srcAddr, dstWire ?? dstAddr, port) };
  }

  // ---- a verdict into components and explanations -----------------------------------------

  private judged(src: End, dst: End, srcAddr: string, dstAddr: string, v: Verdict | RouteReject, port: number): AnalysisOutcome {
    const route = v.route;
    const seenSrc = route?.sourceSeenAs ? host(route.sourceSeenAs) : srcAddr;
    // The destination as the packet names it: the public address when it enters at one.
    const dstWire = src.kind === 'igw' && dst.kind === 'eni' && dst.eni.publicIp && !dstAddr.includes(':') ? dst.eni.publicIp : dstAddr;
    const dstPrivate = src.kind === 'igw' && dst.kind === 'eni' ? (dstAddr.includes(':') ? dstAddr : dst.eni.privateIps[0]!) : dstAddr;
    const remoteOut = parseAddress(dstWire)!;
    const remoteIn = parseAddress(seenSrc)!;
    const forward: PathComponent[] = [];
    const push = (c: PathComponent | undefined) => {
      if (c) forward.push(c);
    };
    const fail = (e: Explanation) => this.fail(e, forward);

    push(this.first(src, srcAddr, dstPrivate, port, dstWire));
    if (src.kind === 'eni') push(this.eniComponent(src));
    if (v.decidedBy === 'route') return fail(this.routeExplanation(src, dst, v as RouteReject));
    const verdict = v as Verdict;
    const stop = verdict.acl;
    const srcSubnet = src.kind === 'eni' ? src.eni.subnetId : undefined;

    // Out of the source: its groups, its subnet's ACL, its route table, the gateway.
    if (verdict.decidedBy === 'egress') return fail(this.sgExplanation(verdict.egress!));
    if (stop && !stop.reply && stop.direction === 'outbound' && stop.subnetId === route?.aclOut) return fail(this.aclExplanation(stop));
    if (src.kind === 'eni') push(this.sgComponent(verdict.egress, src.eni));
    push(this.aclComponent(route?.aclOut, true, remoteOut, port));
    const forwardHops = (route?.hops ?? []).filter(
      (h): h is Extract<Hop, { kind: 'route' }> => h.kind === 'route' && (h.subnetId === srcSubnet || h.subnetId === route?.natSubnet),
    );
    for (const h of forwardHops) {
      push({
        Component: this.comp(h.route.tableId),
        RouteTableRoute: this.routeRoute(h.route),
        ...(this.vpcOfSubnet(h.subnetId) ? { Vpc: this.comp(this.vpcOfSubnet(h.subnetId)!) } : {}),
      });
      const t = h.route.target;
      if (t.kind === 'nat') {
        const nat = this.paths.nat(t.id);
        if (nat) {
          push(this.aclComponent(route?.natSubnet, false, parseAddress(srcAddr)!, port));
          if (stop && !stop.reply && stop.subnetId === route?.natSubnet) return fail(this.aclExplanation(stop));
          push({
            Component: this.comp(t.id),
            Subnet: this.comp(nat.subnetId),
            ...(this.vpcOfSubnet(nat.subnetId) ? { Vpc: this.comp(this.vpcOfSubnet(nat.subnetId)!) } : {}),
            ...(nat.publicIp ? { OutboundHeader: { SourceAddresses: [slash(nat.publicIp)] } } : {}),
          });
          push(this.aclComponent(route?.natSubnet, true, remoteOut, port));
        }
      } else if (t.kind === 'igw' || t.kind === 'eigw') {
        push({
          Component: this.comp(t.id),
          ...(this.vpcOfSubnet(h.subnetId) ? { Vpc: this.comp(this.vpcOfSubnet(h.subnetId)!) } : {}),
          OutboundHeader: this.header(seenSrc, dstWire, port),
        });
      } else if (t.kind === 'pcx') {
        const p = this.paths.peering(t.id);
        const from = this.vpcOfSubnet(h.subnetId);
        const to = p?.vpcIds.find((x) => x !== from);
        push({
          Component: this.comp(t.id),
          ...(from ? { SourceVpc: this.comp(from) } : {}),
          ...(to ? { DestinationVpc: this.comp(to) } : {}),
        });
      }
    }

    // Into the destination: its subnet's ACL, its groups, the interface, the instance.
    if (dst.kind === 'eni') {
      if (stop && !stop.reply && stop.direction === 'inbound') return fail(this.aclExplanation(stop));
      push(this.aclComponent(route?.aclIn, false, remoteIn, port));
      if (verdict.decidedBy === 'ingress') return fail(this.sgExplanation(verdict.ingress!));
      push(this.sgComponent(verdict.ingress, dst.eni));
      push(this.eniComponent(dst));
      if (dst.instance && dst.id.startsWith('i-'))
        push({ Component: this.comp(dst.instance.id), InboundHeader: this.header(seenSrc, dstPrivate, port) });
    }
    if (stop) return fail(this.aclExplanation(stop));
    if (verdict.verdict !== 'ACCEPT') return fail({ ExplanationCode: 'NO_PATH' });
    return { found: true, forward: number(forward), explanations: [] };
  }

  private sgExplanation(g: GateResult): Explanation {
    const doc = this.ctx.tx.get<EniDoc>(KIND.eni, this.ctx.scope, g.interfaceId);
    const groups = (doc?.groups ?? []).map((id) => this.comp(id));
    return {
      ExplanationCode: 'ENI_SG_RULES_MISMATCH',
      Direction: g.gate,
      Component: this.comp(g.interfaceId),
      NetworkInterface: this.comp(g.interfaceId),
      SecurityGroups: groups,
      ...(groups.length === 1 ? { SecurityGroup: groups[0] } : {}),
      ...(doc ? { Subnet: this.comp(doc.subnetId), Vpc: this.comp(doc.vpcId) } : {}),
      ...(this.spec.port !== undefined ? { Port: this.spec.port } : {}),
      Protocols: [this.spec.protocol.toLowerCase()],
    };
  }

  private aclExplanation(stop: NonNullable<Verdict['acl']>): Explanation {
    const egress = stop.direction === 'outbound';
    const vpc = this.vpcOfSubnet(stop.subnetId);
    const family = this.ctx.tx
      .get<NetworkAclDoc>(KIND.networkAcl, this.ctx.scope, stop.aclId)
      ?.entries.some((e) => e.ruleNumber === stop.ruleNumber)
      ? 4
      : stop.ruleNumber === 32768
        ? 6
        : 4;
    return {
      ExplanationCode: 'SUBNET_ACL_RESTRICTION',
      Component: this.comp(stop.aclId),
      Acl: this.comp(stop.aclId),
      AclRule: this.aclRule(stop.aclId, egress, stop, family),
      Direction: egress ? 'egress' : 'ingress',
      Subnet: this.comp(stop.subnetId),
      ...(vpc ? { Vpc: this.comp(vpc) } : {}),
    };
  }

  /** Why the route gives no path: the failing hop, read with the gateways and peerings it names. */
  private routeExplanation(src: End, dst: End, v: RouteReject): Explanation {
    const route = v.route;
    const last = route?.hops.at(-1);
    const srcComp = this.startComponent(src);
    const dstComp = this.startComponent(dst);
    if (!route || !last) {
      if (src.kind === 'igw' && dst.kind === 'eni')
        return {
          ExplanationCode: 'IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS',
          Component: this.comp(src.id),
          InternetGateway: this.comp(src.id),
          NetworkInterface: this.comp(dst.eni.id),
          Vpc: this.comp(dst.eni.vpcId),
        };
      return { ExplanationCode: 'NO_PATH', ...(srcComp ? { Component: srcComp } : {}) };
    }
    const vpc = this.vpcOfSubnet(last.subnetId);
    const base = { Subnet: this.comp(last.subnetId), ...(vpc ? { Vpc: this.comp(vpc) } : {}) };
    if (last.kind === 'no-route') {
      const back = last.why === 'no route back';
      const towards = back ? srcComp : dstComp;
      const nat = route.hops.find((h) => h.kind === 'route' && h.route.target.kind === 'nat');
      return {
        ExplanationCode: 'NO_ROUTE_TO_DESTINATION',
        Component: this.comp(this.paths.subnet(last.subnetId)?.routeTableId ?? ''),
        RouteTable: this.comp(this.paths.subnet(last.subnetId)?.routeTableId ?? ''),
        ...(towards ? { Destination: towards } : {}),
        ...(!towards && last.destination.family === 4 ? { Address: host(last.destination) } : {}),
        ...(nat && nat.kind === 'route' && last.why === 'no route from the NAT gateway'
          ? { NatGateway: this.comp(nat.route.target.kind === 'nat' ? nat.route.target.id : '') }
          : {}),
        ...base,
      };
    }
    const r = last.route;
    const rt = { RouteTable: this.comp(r.tableId), RouteTableRoute: this.routeRoute(r) };
    if (r.blackhole) return this.blackhole(r);
    const t = r.target;
    const fromSource = src.kind === 'eni' && last.subnetId === src.eni.subnetId;
    if (fromSource && t.kind === 'igw') {
      const g = this.paths.gateway(t.id);
      if (!g?.vpcId || g.vpcId !== vpc)
        return { ExplanationCode: 'BAD_STATE_ATTACHMENT', Component: this.comp(t.id), InternetGateway: this.comp(t.id), ...rt, ...base };
      return {
        ExplanationCode: 'IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS',
        Component: this.comp(t.id),
        InternetGateway: this.comp(t.id),
        NetworkInterface: this.comp(src.eni.id),
        ...rt,
        ...base,
      };
    }
    if (fromSource && t.kind === 'nat') {
      const nat = this.paths.nat(t.id);
      if (!nat?.available) return { ...this.blackhole(r), NatGateway: this.comp(t.id) };
      if (!nat.publicIp)
        return {
          ExplanationCode: 'IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS',
          Component: this.comp(t.id),
          NatGateway: this.comp(t.id),
          ...rt,
          ...base,
        };
    }
    if (fromSource && t.kind === 'pcx' && dst.kind === 'eni') {
      const bad = this.peeringState(t.id, src.eni.vpcId, parseAddress(this.own(dst.eni, 4) ?? '0.0.0.0')!, r);
      if (bad) return bad;
    }
    return {
      ExplanationCode: 'NO_ROUTE_TO_DESTINATION',
      Component: this.comp(r.tableId),
      ...(fromSource ? (dstComp ? { Destination: dstComp } : {}) : srcComp ? { Destination: srcComp } : {}),
      ...rt,
      ...base,
    };
  }
}

function number(cs: PathComponent[]): PathComponent[] {
  return cs.map((c, i) => ({ SequenceNumber: i + 1, ...c }));
}

/** Analyses a path over the live data plane. */
export function analysePath(ctx: Ctx, plane: DataPlane, spec: PathSpec): AnalysisOutcome {
  return new Analysis(ctx, plane, spec).run();
}

/** An analysis component (`{Id, Arn}`) for any EC2 id. */
export function analysisComponent(ctx: Ctx, id: string): AnalysisComponent {
  const name = resourceTypeOfId(id)?.name ?? id.split('-')[0]!;
  return { Id: id, Arn: ec2Arn(ctx.partition, ctx.region, ctx.account, name, id) };
}
