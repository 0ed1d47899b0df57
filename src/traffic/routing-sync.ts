// Keeps the data plane's network paths (dataplane/routing.ts) in step with the store: route
// tables (with their VPC's local routes), network ACLs (with the `*` rules), which table and ACL
// each subnet uses, gateways, NAT gateways, peering connections and the interfaces' addresses.
// Like plane-sync.ts, changes wait in a queue until a verdict needs them; each changed object is
// compiled alone (a route or ACL change recompiles that one table or ACL).
import type { ChangeEvent, Doc, Store } from '../store/store.ts';
import type { NetworkPaths, RouteInput, AclEntryInput } from '../dataplane/routing.ts';
import { parseAddress } from '../dataplane/addresses.ts';
import { aclEntryInput, routeTarget } from './doc-inputs.ts';
import {
  KIND,
  type EgressOnlyInternetGatewayDoc,
  type EniDoc,
  type InternetGatewayDoc,
  type NatGatewayDoc,
  type NetworkAclDoc,
  type PeeringDoc,
  type PrefixListDoc,
  type RouteDoc,
  type RouteTableDoc,
  type SubnetDoc,
  type VpcDoc,
} from '../core/documents/ec2.ts';
import { awsPrefixLists } from '../services/ec2/lookups.ts';

/** What routing reads, in an order where each object finds what it refers to (the load at start). */
const KINDS_IN_ORDER: string[] = [
  KIND.vpc,
  KIND.subnet,
  KIND.routeTable,
  KIND.networkAcl,
  KIND.internetGateway,
  KIND.egressOnlyInternetGateway,
  KIND.natGateway,
  KIND.peering,
  KIND.eni,
  KIND.prefixList,
];
const KINDS = new Set<string>(KINDS_IN_ORDER);

function routeInput(r: RouteDoc): RouteInput | undefined {
  const destination = r.cidr4 ?? r.cidr6 ?? r.prefixListId;
  return destination ? { destination, target: routeTarget(r) } : undefined;
}

export function syncRouting(store: Store, paths: NetworkPaths): () => void {
  const pending = new Map<string, ChangeEvent>();
  /** subnet → its explicitly associated table / ACL; VPC → its main table / default ACL */
  const subnetTable = new Map<string, string>();
  const subnetAcl = new Map<string, string>();
  const mainTable = new Map<string, string>();
  const defaultAcl = new Map<string, string>();
  const subnetsOfVpc = new Map<string, Set<string>>();
  const vpcs = new Map<string, VpcDoc>();
  const tables = new Map<string, RouteTableDoc>();
  const seenRegions = new Set<string>();

  const refreshSubnet = (subnetId: string) => {
    const s = findSubnet(subnetId);
    if (!s) {
      paths.removeSubnet(subnetId);
      return;
    }
    paths.setSubnet({
      id: s.id,
      vpcId: s.vpcId,
      routeTableId: subnetTable.get(s.id) ?? mainTable.get(s.vpcId) ?? '',
      aclId: subnetAcl.get(s.id) ?? defaultAcl.get(s.vpcId) ?? '',
    });
  };
  const subnetDocs = new Map<string, SubnetDoc>();
  const findSubnet = (id: string) => subnetDocs.get(id);
  const refreshVpcSubnets = (vpcId: string) => {
    for (const id of subnetsOfVpc.get(vpcId) ?? []) refreshSubnet(id);
  };
  const compileTable = (t: RouteTableDoc) => {
    const vpc = vpcs.get(t.vpcId);
    const local = vpc
      ? [
          ...vpc.cidrAssociations.filter((a) => a.state === 'associated').map((a) => a.cidr),
          ...vpc.ipv6.filter((a) => a.state === 'associated').map((a) => a.cidr),
        ].map((destination): RouteInput => ({ destination, target: { kind: 'local' } }))
      : [];
    paths.setRouteTable({ id: t.id, vpcId: t.vpcId, routes: [...local, ...t.routes.map(routeInput).filter((r): r is RouteInput => !!r)] });
  };
  const ensureAwsLists = (scope: string) => {
    const region = scope.split('/')[1];
    if (!region || seenRegions.has(region)) return;
    seenRegions.add(region);
    for (const l of awsPrefixLists(region))
      paths.setPrefixList(
        l.id,
        l.entries.map((e) => e.cidr),
      );
  };

  const apply = (e: ChangeEvent) => {
    const after = e.after as Doc | undefined;
    switch (e.kind) {
      case KIND.vpc: {
        if (after) vpcs.set(e.id, after as VpcDoc);
        else vpcs.delete(e.id);
        for (const t of tables.values()) if (t.vpcId === e.id) compileTable(t);
        break;
      }
      case KIND.subnet: {
        const before = e.before as SubnetDoc | undefined;
        if (before) subnetsOfVpc.get(before.vpcId)?.delete(before.id);
        if (after) {
          const s = after as SubnetDoc;
          subnetDocs.set(s.id, s);
          let set = subnetsOfVpc.get(s.vpcId);
          if (!set) subnetsOfVpc.set(s.vpcId, (set = new Set()));
          set.add(s.id);
        } else subnetDocs.delete(e.id);
        refreshSubnet(e.id);
        break;
      }
      case KIND.routeTable: {
        const before = e.before as RouteTableDoc | undefined;
        const t = after as RouteTableDoc | undefined;
        const touched = new Set<string>();
        let vpcMainChanged: string | undefined;
        for (const a of before?.associations ?? []) {
          if (a.subnetId && subnetTable.get(a.subnetId) === e.id) {
            subnetTable.delete(a.subnetId);
            touched.add(a.subnetId);
          }
          if (a.main && before && mainTable.get(before.vpcId) === e.id) {
            mainTable.delete(before.vpcId);
            vpcMainChanged = before.vpcId;
          }
        }
        if (t) {
          tables.set(t.id, t);
          compileTable(t);
          for (const a of t.associations) {
            if (a.subnetId) {
              subnetTable.set(a.subnetId, t.id);
              touched.add(a.subnetId);
            }
            if (a.main) {
              mainTable.set(t.vpcId, t.id);
              vpcMainChanged = t.vpcId;
            }
          }
        } else {
          tables.delete(e.id);
          paths.removeRouteTable(e.id);
        }
        if (vpcMainChanged) refreshVpcSubnets(vpcMainChanged);
        for (const id of touched) refreshSubnet(id);
        break;
      }
      case KIND.networkAcl: {
        const before = e.before as NetworkAclDoc | undefined;
        const a = after as NetworkAclDoc | undefined;
        const touched = new Set<string>();
        for (const x of before?.associations ?? []) {
          if (subnetAcl.get(x.subnetId) === e.id) {
            subnetAcl.delete(x.subnetId);
            touched.add(x.subnetId);
          }
        }
        if (before?.isDefault && defaultAcl.get(before.vpcId) === e.id) defaultAcl.delete(before.vpcId);
        if (a) {
          const vpc = vpcs.get(a.vpcId);
          // The `*` rules: deny what no entry allowed (IPv6 too once the VPC has IPv6).
          const star = (egress: boolean): AclEntryInput[] => [
            { ruleNumber: 32767, egress, protocol: -1, allow: false, cidr: '0.0.0.0/0' },
            ...(vpc?.ipv6.length ? [{ ruleNumber: 32768, egress, protocol: -1, allow: false, cidr: '::/0' }] : []),
          ];
          paths.setAcl({
            id: a.id,
            entries: [...a.entries.map(aclEntryInput).filter((x): x is AclEntryInput => !!x), ...star(false), ...star(true)],
          });
          for (const x of a.associations) {
            subnetAcl.set(x.subnetId, a.id);
            touched.add(x.subnetId);
          }
          if (a.isDefault) {
            defaultAcl.set(a.vpcId, a.id);
            refreshVpcSubnets(a.vpcId);
          }
        } else paths.removeAcl(e.id);
        for (const id of touched) refreshSubnet(id);
        break;
      }
      case KIND.internetGateway: {
        const g = after as InternetGatewayDoc | undefined;
        if (g) paths.setGateway({ id: g.id, kind: 'igw', vpcId: g.attachments[0]?.vpcId });
        else paths.removeGateway(e.id);
        break;
      }
      case KIND.egressOnlyInternetGateway: {
        const g = after as EgressOnlyInternetGatewayDoc | undefined;
        if (g) paths.setGateway({ id: g.id, kind: 'eigw', vpcId: g.attachments[0]?.vpcId });
        else paths.removeGateway(e.id);
        break;
      }
      case KIND.natGateway: {
        const n = after as NatGatewayDoc | undefined;
        if (n) {
          paths.setNat({
            id: n.id,
            subnetId: n.subnetId,
            publicIp: n.publicIp,
            privateIp: n.privateIp,
            ...(n.networkInterfaceId ? { interfaceId: n.networkInterfaceId } : {}),
            available: n.state === 'available',
          });
        } else paths.removeNat(e.id);
        break;
      }
      case KIND.peering: {
        const p = after as PeeringDoc | undefined;
        if (p) paths.setPeering({ id: p.id, vpcIds: [p.requester.vpcId, p.accepter.vpcId], active: p.status === 'active' });
        else paths.removePeering(e.id);
        break;
      }
      case KIND.eni: {
        const n = after as EniDoc | undefined;
        if (n) {
          const pub = n.publicIp ? parseAddress(n.publicIp) : undefined;
          paths.setInterface({ id: n.id, subnetId: n.subnetId, vpcId: n.vpcId, publicIp: pub, hasIpv6: n.ipv6.length > 0 });
        } else paths.removeInterface(e.id);
        break;
      }
      case KIND.prefixList: {
        const l = after as PrefixListDoc | undefined;
        if (l)
          paths.setPrefixList(
            l.id,
            l.entries.map((x) => x.cidr),
          );
        else paths.removePrefixList(e.id);
        break;
      }
    }
    if (after) ensureAwsLists(e.scope);
  };

  // What the store holds at start, in an order where each object finds what it refers to.
  for (const kind of KINDS_IN_ORDER) {
    for (const scope of store.scopes(kind))
      for (const doc of store.table(kind, scope).values()) apply({ kind, scope, id: doc.id, after: doc });
  }
  store.onChange((events) => {
    for (const e of events) {
      if (!KINDS.has(e.kind)) continue;
      const key = `${e.kind}\u0000${e.id}`;
      pending.delete(key);
      pending.set(key, e);
    }
  });
  return () => {
    if (pending.size === 0) return;
    // VPCs and subnets first: tables, ACLs and associations refer to them.
    const order = [KIND.vpc, KIND.subnet];
    const queue = [...pending.values()].sort((a, b) => Number(!order.includes(a.kind as never)) - Number(!order.includes(b.kind as never)));
    pending.clear();
    for (const e of queue) apply(e);
  };
}
