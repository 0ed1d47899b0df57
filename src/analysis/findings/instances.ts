// Instances: which sensitive flows from the internet really get through — asked of the data
// plane's compiled policy (the same engine that enforces traffic), over every group of every
// interface with a public address, and where the estate has its routing, of the whole path
// (dataplane/flow.ts: route, internet gateway, network ACLs both ways) — and the metadata
// service's IMDSv2 requirement.
import type { CheckDef, Finding } from './types.ts';
import { ruleText, uniq, type Estate } from './estate.ts';
import { ADMIN_PORTS, SENSITIVE_PORTS } from './exposure.ts';
import { parseAddress, type Address } from '../../dataplane/addresses.ts';
import { judgeFlow } from '../../dataplane/flow.ts';
import { targetText, type PathDecision } from '../../dataplane/routing.ts';
import type { RuleInput } from '../../dataplane/sg-policy.ts';

/** Stand-ins for "anyone on the internet" (TEST-NET-2 and the IPv6 documentation range). */
const INTERNET_V4 = '198.51.100.1';
const INTERNET_V6 = '2001:db8::1';

export const PROBES = [...ADMIN_PORTS.map((p) => ({ port: p.port, proto: 'tcp' as const, service: p.service })), ...SENSITIVE_PORTS];

const exposedInstance: CheckDef = {
  id: 'instance-exposed-sensitive-port',
  severity: 'critical',
  title: 'Instance reachable from the internet on a sensitive port',
  help:
    'The instance has a public address, and the union of the security groups on that interface really admits a connection ' +
    'from an arbitrary internet address to SSH, RDP, a database, cache, search, container or file-sharing port — computed ' +
    "with Palisade's data-plane engine, so overlapping and cross-group rules are all taken into account. Where the estate " +
    'has its routing (route tables, network ACLs, gateways), the flow must also have a path: an internet gateway attached to ' +
    "the VPC, a route back to it in the subnet's route table, and a network ACL that admits the request and lets the reply " +
    'out. Remove the public address or the rules that admit the flow.',
  controls: ['EC2.19'],
  run(e) {
    const v4 = parseAddress(INTERNET_V4)!;
    const v6 = parseAddress(INTERNET_V6)!;
    const policy = e.internetPolicy;
    // With routing, a flow the groups admit must also have a path (judged as the server judges it).
    const routed = e.paths !== undefined;
    const byResource = new Map<string, { flows: string[]; services: string[]; rules: RuleInput[]; paths: string[] }>();
    for (const n of e.snapshot.networkInterfaces) {
      const eni = n.NetworkInterfaceId!;
      const inst = e.instanceOfEni.get(eni);
      if (inst && e.instances.get(inst)?.State?.Name === 'terminated') continue;
      const publicIp = n.Association?.PublicIp;
      const ipv6 = (n.Ipv6Addresses ?? []).map((a) => a.Ipv6Address).filter((a): a is string => !!a);
      const targets = [
        ...(publicIp ? [{ remote: v4, remoteText: INTERNET_V4, to: publicIp, viaPublic: true, from: 'the internet (IPv4)' }] : []),
        ...(ipv6.length ? [{ remote: v6, remoteText: INTERNET_V6, to: ipv6[0]!, viaPublic: false, from: 'the internet (IPv6)' }] : []),
      ];
      const flows: string[] = [];
      const services: string[] = [];
      const rules: RuleInput[] = [];
      const pathTexts: string[] = [];
      for (const t of targets) {
        const to = parseAddress(t.to);
        let pathText: string | undefined;
        for (const p of PROBES) {
          const proto = p.proto === 'tcp' ? 6 : 17;
          const q = { direction: 'ingress' as const, proto, port: p.port, remote: t.remote };
          if (!policy.allows(eni, q)) continue;
          let acl = '';
          if (routed && to) {
            const v = judgeFlow(
              e.internetPlane,
              { kind: 'external', address: t.remote, text: t.remoteText },
              { kind: 'interface', interfaceId: eni, address: to, text: t.to, viaPublic: t.viaPublic },
              { proto, srcPort: EPHEMERAL_PORT, dstPort: p.port },
              0,
              { explain: false, commit: false, replies: true },
            );
            if (v.verdict !== 'ACCEPT') continue; // no path: no route, no gateway, or an ACL in the way
            pathText ??= routeText(e, v.route);
            acl = aclText(e, v.route, t.remote, proto, p.port);
          }
          const why = policy.matchingRules(eni, q);
          flows.push(`${t.from} → ${t.to} ${p.proto}/${p.port} (${p.service}) via ${why.map((r) => r.id).join(', ')}${acl}`);
          services.push(p.service);
          rules.push(...why);
        }
        if (pathText) pathTexts.push(`${t.from} → ${t.to}: ${pathText}`);
      }
      if (!flows.length) continue;
      const key = inst ?? eni;
      const acc = byResource.get(key) ?? { flows: [], services: [], rules: [], paths: [] };
      acc.flows.push(...flows);
      acc.services.push(...services);
      acc.rules.push(...rules);
      acc.paths.push(...pathTexts);
      byResource.set(key, acc);
    }
    const out: Finding[] = [];
    for (const [id, acc] of byResource) {
      const isInstance = id.startsWith('i-');
      const ruleIds = uniq(acc.rules.map((r) => r.id));
      const byId = new Map(acc.rules.map((r) => [r.id, r]));
      out.push({
        checkId: this.id,
        severity: this.severity,
        resourceId: id,
        resourceType: isInstance ? 'instance' : 'network-interface',
        resourceName: e.nameOf(id),
        ruleIds,
        title: `${e.label(id)} is reachable from the internet on ${uniq(acc.services).join(', ')}`,
        detail:
          `Open flows (checked with the data-plane engine from ${INTERNET_V4} / ${INTERNET_V6}): ${acc.flows.join('; ')}. ` +
          `Admitting rules: ${ruleIds.map((r) => ruleText(byId.get(r)!)).join('; ')}.` +
          (acc.paths.length ? ` Network path: ${uniq(acc.paths).join('; ')}.` : ''),
        fix:
          `Remove the public address (${isInstance ? 'launch without one, or move the instance to a private subnet behind a load balancer' : 'disassociate it'}), ` +
          'or restrict the admitting rules to known sources (see the security-group findings for the revoke commands).',
        controls: ['EC2.19'],
      });
    }
    return out;
  },
};

/** The source port of probes: an ephemeral port, which the reply goes back to. */
const EPHEMERAL_PORT = 49152;

/** `in through igw-1, back by rtb-1 (0.0.0.0/0 → igw-1) of subnet-1` */
function routeText(e: Estate, route: PathDecision | undefined): string | undefined {
  const hop = route?.hops.find((h) => h.kind === 'route');
  if (!hop || hop.kind !== 'route') return undefined;
  const r = hop.route;
  return (
    `in through the internet gateway ${e.label(targetText(r.target))} to ${e.label(hop.subnetId)}, ` +
    `whose route table ${e.label(r.tableId)} routes ${r.destination} back to it`
  );
}

/** `, network ACL acl-1 rule 100 admits it and rule 100 lets the reply out` */
function aclText(e: Estate, route: PathDecision | undefined, remote: Address, proto: number, port: number): string {
  const subnet = route?.aclIn;
  const paths = e.paths;
  if (!subnet || !paths) return '';
  const inbound = paths.acl(subnet, false, remote, { proto, port });
  const reply = paths.acl(subnet, true, remote, { proto, port: EPHEMERAL_PORT });
  if (!inbound || !reply) return '';
  return `, network ACL ${inbound.aclId} rule ${inbound.ruleNumber} admits it and rule ${reply.ruleNumber} lets the reply out`;
}

export const imdsv2: CheckDef = {
  id: 'instance-imdsv2-not-required',
  severity: 'medium',
  title: 'Instance does not require IMDSv2',
  help:
    'The instance metadata service answers IMDSv1 requests (HttpTokens optional), so a server-side request forgery in any ' +
    "application on the instance can read the role's credentials. Require session tokens. Security Hub EC2.8; CIS AWS " +
    'Foundations 5.6.',
  controls: ['EC2.8', 'CIS 5.6'],
  run(e) {
    const out: Finding[] = [];
    for (const i of e.snapshot.instances) {
      if (i.State?.Name === 'terminated' || i.State?.Name === 'shutting-down') continue;
      const m = i.MetadataOptions;
      if (m?.HttpEndpoint === 'disabled' || m?.HttpTokens === 'required') continue;
      const id = i.InstanceId!;
      out.push({
        checkId: this.id,
        severity: this.severity,
        resourceId: id,
        resourceType: 'instance',
        resourceName: e.nameOf(id),
        ruleIds: [],
        title: `${e.label(id)} does not require IMDSv2`,
        detail: m
          ? `${e.label(id)} has MetadataOptions.HttpTokens = ${JSON.stringify(m.HttpTokens ?? 'optional')}: IMDSv1 requests are answered.`
          : `${e.label(id)} has no MetadataOptions in the snapshot: IMDSv1 is assumed to be allowed.`,
        fix: `aws ec2 modify-instance-metadata-options --instance-id ${id} --http-tokens required --http-endpoint enabled`,
        controls: ['EC2.8', 'CIS 5.6'],
      });
    }
    return out;
  },
};

export const instanceChecks: CheckDef[] = [exposedInstance, imdsv2];
