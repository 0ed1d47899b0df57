// Who a flow's endpoints are: an instance (its primary interface), an interface, an address of
// an interface (private, or public), or a host on the internet (`internet:203.0.113.7`). Also the
// path between them: private addresses reach each other inside one VPC; the internet reaches an
// interface only at its public address. (Route tables, gateways, peering and network ACLs are
// not modelled yet: every VPC behaves as if it had an internet gateway and a default route.)
import type { Store } from '../store/store.ts';
import { parseAddress, type Address } from '../dataplane/addresses.ts';
import type { Endpoint } from '../dataplane/dataplane.ts';
import { KIND, type EniDoc, type InstanceDoc } from '../core/documents/ec2.ts';
import { decidePath, type NetworkPaths, type PathDecision, type PathEnd } from '../dataplane/routing.ts';
import { bigIntToAddress } from '../core/cidr.ts';

export class EndpointError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface Resolved {
  kind: 'interface' | 'external';
  eni?: EniDoc;
  scope?: string;
  /** the address named (private or public) */
  address: Address;
  text: string;
  viaPublic: boolean;
  label: string;
}

function findById<T extends { id: string }>(store: Store, kind: string, id: string): { doc: T; scope: string } | undefined {
  for (const scope of store.scopes(kind)) {
    const d = store.table(kind, scope).get(id) as T | undefined;
    if (d) return { doc: d, scope };
  }
  return undefined;
}

function parse(text: string, what: string): Address {
  const a = parseAddress(text);
  if (!a) throw new EndpointError(`${what}: '${text}' is not an IP address`);
  return a;
}

export function resolveEndpoint(store: Store, spec: string, scope: string, family: 4 | 6 = 4): Resolved {
  if (typeof spec !== 'string' || spec === '')
    throw new EndpointError('an endpoint is required (instance id, interface id, IP or internet:IP)');
  if (spec.startsWith('internet:')) {
    const text = spec.slice('internet:'.length);
    return { kind: 'external', address: parse(text, spec), text, viaPublic: true, label: spec };
  }
  const primaryOf = (eni: EniDoc): { address: Address; text: string } => {
    const text = family === 6 && eni.ipv6[0] ? eni.ipv6[0] : eni.privateIps[0]!;
    return { address: parse(text, eni.id), text };
  };
  if (spec.startsWith('i-')) {
    const found = findById<InstanceDoc>(store, KIND.instance, spec);
    if (!found) throw new EndpointError(`The instance ID '${spec}' does not exist`, 404);
    if (found.doc.state !== 'running')
      throw new EndpointError(`The instance '${spec}' is ${found.doc.state}: it sends and receives nothing`, 409);
    const eni = [...(store.table(KIND.eni, found.scope).values() as Iterable<EniDoc>)].find(
      (e) => e.attachment?.instanceId === spec && e.attachment.deviceIndex === 0,
    );
    if (!eni) throw new EndpointError(`The instance '${spec}' has no primary network interface`, 409);
    return { kind: 'interface', eni, scope: found.scope, ...primaryOf(eni), viaPublic: false, label: spec };
  }
  if (spec.startsWith('eni-')) {
    const found = findById<EniDoc>(store, KIND.eni, spec);
    if (!found) throw new EndpointError(`The networkInterface ID '${spec}' does not exist`, 404);
    return { kind: 'interface', eni: found.doc, scope: found.scope, ...primaryOf(found.doc), viaPublic: false, label: spec };
  }
  const address = parse(spec, 'endpoint');
  const enis = [...(store.table(KIND.eni, scope).values() as Iterable<EniDoc>)];
  const byPrivate = enis.filter((e) => e.privateIps.includes(spec) || e.ipv6.includes(spec));
  if (byPrivate.length > 1)
    throw new EndpointError(
      `The address ${spec} belongs to interfaces in several VPCs (${byPrivate.map((e) => e.id).join(', ')}): name the interface instead`,
    );
  if (byPrivate.length === 1) return { kind: 'interface', eni: byPrivate[0], scope, address, text: spec, viaPublic: false, label: spec };
  const byPublic = enis.find((e) => e.publicIp === spec);
  if (byPublic) return { kind: 'interface', eni: byPublic, scope, address, text: spec, viaPublic: true, label: spec };
  return { kind: 'external', address, text: spec, viaPublic: true, label: `internet:${spec}` };
}

export type PathResult = { src: Endpoint; dst: Endpoint; route?: PathDecision } | { noRoute: string; route?: PathDecision };

/**
 * Turns two resolved endpoints into the data plane's view, or says why no path exists. Where
 * routing knows the interfaces (their subnets' route tables and ACLs), the path is the one the
 * VPC's routes give (dataplane/routing.ts); otherwise (an estate without routing data) the plain
 * model: private addresses inside a VPC, the internet at public addresses.
 */
export function path(src: Resolved, dst: Resolved, paths?: NetworkPaths): PathResult {
  if (paths) {
    const routed = routedPath(src, dst, paths);
    if (routed) return routed;
  }
  return plainPath(src, dst);
}

function routedPath(src: Resolved, dst: Resolved, paths: NetworkPaths): PathResult | undefined {
  const end = (r: Resolved): PathEnd | undefined | null => {
    if (r.kind === 'external') return { kind: 'external', address: r.address };
    const iface = paths.interface(r.eni!.id);
    return iface ? { kind: 'interface', iface, address: r.address, viaPublic: r.viaPublic } : null;
  };
  const a = end(src);
  const b = end(dst);
  if (a === null || b === null || !a || !b) return undefined;
  if (a.kind === 'interface' && b.kind === 'interface' && a.iface.id === b.iface.id)
    return { noRoute: 'source and destination are the same interface' };
  const route = decidePath(paths, a, b);
  if (!route.ok) return { noRoute: route.reason ?? 'no route', route };
  const local = (r: Resolved): Extract<Endpoint, { kind: 'interface' }> => {
    const eni = r.eni!;
    const text = r.address.family === 6 ? r.text : eni.privateIps[0]!;
    return { kind: 'interface', interfaceId: eni.id, address: parseAddress(text)!, text };
  };
  const seen = route.sourceSeenAs;
  const source: Endpoint =
    src.kind === 'external'
      ? { kind: 'external', address: src.address, text: src.text }
      : { ...local(src), ...(seen ? { seenAs: { address: seen, text: bigIntToAddress(seen.family, BigInt(seen.v)) } } : {}) };
  const destination: Endpoint =
    dst.kind === 'external'
      ? { kind: 'external', address: dst.address, text: dst.text }
      : { ...local(dst), ...(dst.viaPublic ? { seenAs: { address: dst.address, text: dst.text } } : {}) };
  return { src: source, dst: destination, route };
}

function plainPath(src: Resolved, dst: Resolved): PathResult {
  if (src.kind === 'external' && dst.kind === 'external') return { noRoute: 'neither end is a Palisade network interface' };
  const local = (r: Resolved): Extract<Endpoint, { kind: 'interface' }> => {
    const eni = r.eni!;
    const text = r.address.family === 6 ? r.text : eni.privateIps[0]!;
    return { kind: 'interface', interfaceId: eni.id, address: parseAddress(text)!, text };
  };
  if (src.kind === 'interface' && dst.kind === 'interface') {
    const a = src.eni!;
    const b = dst.eni!;
    if (a.id === b.id) return { noRoute: 'source and destination are the same interface' };
    if (!dst.viaPublic) {
      if (a.vpcId !== b.vpcId || src.scope !== dst.scope)
        return {
          noRoute: `no route from ${a.vpcId} to ${b.vpcId}: private addresses are reachable only inside their VPC (peering is not modelled yet)`,
        };
      return {
        src: { ...local(src), ...(src.address.family === 6 ? {} : {}) },
        dst: { kind: 'interface', interfaceId: b.id, address: dst.address, text: dst.text },
      };
    }
    if (!a.publicIp) return { noRoute: `${a.id} has no public IPv4 address: it cannot reach the internet` };
    const s = local(src);
    return {
      src: { ...s, seenAs: { address: parseAddress(a.publicIp)!, text: a.publicIp } },
      dst: { ...local(dst), seenAs: { address: dst.address, text: dst.text } },
    };
  }
  if (src.kind === 'external') {
    if (!dst.viaPublic) return { noRoute: `the internet reaches ${dst.eni!.id} only at its public IP address, not at ${dst.text}` };
    return {
      src: { kind: 'external', address: src.address, text: src.text },
      dst: { ...local(dst), seenAs: { address: dst.address, text: dst.text } },
    };
  }
  const a = src.eni!;
  if (dst.address.family === 4 && !a.publicIp) return { noRoute: `${a.id} has no public IPv4 address: it cannot reach the internet` };
  return {
    src: { ...local(src), ...(dst.address.family === 4 ? { seenAs: { address: parseAddress(a.publicIp!)!, text: a.publicIp! } } : {}) },
    dst: { kind: 'external', address: dst.address, text: dst.text },
  };
}
