// Who a flow's endpoints are: an instance (its primary interface), an interface, an address of
// an interface (private, or public), or a host on the internet (`internet:203.0.113.7`). The path
// between them is dataplane/flow.ts's.
import type { Store } from '../store/store.ts';
import { parseAddress, type Address } from '../dataplane/addresses.ts';
import { KIND, type EniDoc, type InstanceDoc } from '../core/documents/ec2.ts';
import type { FlowEnd } from '../dataplane/flow.ts';

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

/** The data plane's view of a resolved end. */
export function flowEnd(r: Resolved): FlowEnd {
  return r.kind === 'external'
    ? { kind: 'external', address: r.address, text: r.text }
    : { kind: 'interface', interfaceId: r.eni!.id, address: r.address, text: r.text, viaPublic: r.viaPublic };
}

/**
 * An end named by its id (`i-…`, `eni-…`) as a flow from the internet reaches it: at its public
 * IPv4 address (as `reach` does), or at its IPv6 address for an IPv6 flow.
 */
export function fromTheInternet(r: Resolved, spec: string): Resolved {
  if (r.kind !== 'interface' || r.viaPublic || r.address.family !== 4) return r;
  if (!spec.startsWith('i-') && !spec.startsWith('eni-')) return r;
  const pub = r.eni!.publicIp;
  if (!pub) return r;
  return { ...r, address: parseAddress(pub)!, text: pub, viaPublic: true };
}
