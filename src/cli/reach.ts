// `palisade reach`: who can reach a port of an instance (and through which rules), or whether
// A can reach B — against a running server (--endpoint) or an imported estate (--state).
import type { ReachAnswer, PathAnswer, EstateView } from '../analysis/reach.ts';

const fmtRule = (r: {
  securityGroupRuleId?: string;
  id?: string;
  groupId: string;
  protocol: string;
  from?: number;
  to?: number;
  cidr4?: string;
  cidr6?: string;
  prefixListId?: string;
  refGroupId?: string;
}) =>
  `${r.securityGroupRuleId ?? r.id} (${r.groupId}: ${r.protocol === '-1' ? 'all' : r.protocol}${r.from !== undefined && r.protocol !== '-1' ? ` ${r.from}${r.to !== r.from ? '-' + r.to : ''}` : ''} ${r.cidr4 ?? r.cidr6 ?? r.prefixListId ?? r.refGroupId ?? ''})`;

function printSources(a: ReachAnswer): void {
  const t = a.target;
  process.stdout.write(
    `Who can open ${a.protocol === 6 ? 'tcp' : a.protocol === 17 ? 'udp' : a.protocol}${a.port !== undefined ? '/' + a.port : ''} to ${t.instanceId ?? t.interfaceId} (${t.privateIp}${t.publicIp ? ', public ' + t.publicIp : ''}):\n`,
  );
  if (!a.sources.length) process.stdout.write('  nobody\n');
  for (const s of a.sources) {
    if (s.kind === 'internet')
      process.stdout.write(`  internet ${s.cidrs!.join(', ')}\n    in: ${s.ingressRules.map(fmtRule).join(', ')}\n`);
    else
      process.stdout.write(
        `  ${s.instanceId ?? s.interfaceId} (${s.interfaceId}, ${s.address})\n    out: ${s.egressRules!.map(fmtRule).join(', ')}\n    in:  ${s.ingressRules.map(fmtRule).join(', ')}\n`,
      );
  }
  for (const n of a.notes) process.stdout.write(`  note: ${n}\n`);
}

function printPath(from: string, to: string, a: PathAnswer): void {
  const v = a.verdict as {
    verdict: string;
    decidedBy: string;
    reason?: string;
    egress?: { rules: never[]; interfaceId: string; gate: string };
    ingress?: { rules: never[]; interfaceId: string; gate: string };
    acl?: { aclId: string; subnetId: string; direction: string; ruleNumber: number; reply: boolean };
    route?: {
      hops: (
        | {
            kind: 'route';
            subnetId: string;
            route: { tableId: string; destination: string; target: { kind: string; id?: string }; blackhole: boolean };
          }
        | { kind: 'no-route'; subnetId: string; why: string }
      )[];
    };
  };
  process.stdout.write(`${a.reachable ? 'YES' : 'NO'}  ${from} → ${to}\n`);
  if (a.openPorts)
    process.stdout.write(
      `  open ports: ${a.openPorts.length ? a.openPorts.map(([x, y]) => (x === y ? `${x}` : `${x}-${y}`)).join(', ') : 'none'}\n`,
    );
  if (v.reason) process.stdout.write(`  ${v.reason}\n`);
  for (const h of v.route?.hops ?? [])
    process.stdout.write(
      h.kind === 'route'
        ? `  route: ${h.subnetId} ${h.route.tableId} ${h.route.destination} → ${h.route.target.id ?? h.route.target.kind}${h.route.blackhole ? ' (blackhole)' : ''}\n`
        : `  route: ${h.subnetId}: ${h.why}\n`,
    );
  for (const g of [v.egress, v.ingress])
    if (g?.rules?.length) process.stdout.write(`  ${g.gate} of ${g.interfaceId}: ${g.rules.map(fmtRule).join(', ')}\n`);
  if (!a.reachable && v.decidedBy === 'acl' && v.acl)
    process.stdout.write(
      `  blocked by the network ACL ${v.acl.aclId} of ${v.acl.subnetId} (${v.acl.direction}${v.acl.reply ? ', the replies' : ''}): rule ${v.acl.ruleNumber >= 32767 ? '*' : v.acl.ruleNumber} denies it\n`,
    );
  else if (!a.reachable && v.decidedBy !== 'route')
    process.stdout.write(
      `  blocked by the ${v.decidedBy} gate of ${(v.decidedBy === 'egress' ? v.egress : v.ingress)?.interfaceId}: no rule of its groups matches\n`,
    );
  if (a.suggestion) process.stdout.write(`  to open it: ${a.suggestion}\n`);
}

export interface ReachOptions {
  to: string;
  from?: string;
  port?: number;
  protocol: string;
  /** the server's endpoint (when not --state) */
  endpoint: string;
  state?: string;
  json: boolean;
}

/** Exit codes: 0 reachable (and every answer without --from), 1 not reachable; errors are thrown (cli.ts). */
export async function reach(values: ReachOptions): Promise<number> {
  const port = values.port;
  const protocol = values.protocol ?? 'tcp';
  let answer: ReachAnswer | PathAnswer;
  if (values.state) {
    const { loadSnapshot } = await import('../analysis/import.ts');
    const { policyOf } = await import('../analysis/snapshot.ts');
    const { ruleInputsOf } = await import('../analysis/findings/estate.ts');
    const { pathsOf } = await import('../analysis/snapshot-paths.ts');
    const { whoCanReach, canReach } = await import('../analysis/reach.ts');
    const snap = await loadSnapshot(values.state);
    const paths = pathsOf(snap); // the exported routing (route tables, ACLs, gateways, peering), if any
    const view: EstateView = {
      policy: policyOf(snap, ruleInputsOf(snap)), // real sgr- ids when the export has the rules
      ...(paths ? { paths } : {}),
      instanceOf: (id) => snap.networkInterfaces.find((n) => n.NetworkInterfaceId === id)?.Attachment?.InstanceId,
      primaryOf: (iid) =>
        snap.networkInterfaces.find((n) => n.Attachment?.InstanceId === iid && (n.Attachment.DeviceIndex ?? 0) === 0)?.NetworkInterfaceId,
    };
    answer = values.from ? canReach(view, values.from, values.to, protocol, port) : whoCanReach(view, values.to, protocol, port);
  } else {
    const { adminCall } = await import('./signed-fetch.ts');
    answer = await adminCall<ReachAnswer | PathAnswer>(values.endpoint, 'POST', '/_palisade/network/reach', {
      to: values.to,
      ...(values.from !== undefined ? { from: values.from } : {}),
      ...(port !== undefined ? { port } : {}),
      protocol,
    });
  }
  if (values.json) process.stdout.write(JSON.stringify(answer, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
  else if (values.from) printPath(values.from, values.to, answer as PathAnswer);
  else printSources(answer as ReachAnswer);
  if (values.from) return (answer as PathAnswer).reachable ? 0 : 1;
  return 0;
}
