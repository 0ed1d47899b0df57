// Keeps the data plane's compiled policy in step with the store: every committed change to a
// security group, network interface or prefix list reaches the engine before the next verdict or
// analysis reads it (`settle`, called by every reader: see live-view.ts), so rule changes are live
// at once. Changes wait in a queue until then, the latest state of each resource in the order of
// its last change: a burst of API calls (a Terraform apply, authorize/revoke pairs) costs no
// compiles until traffic is judged, and a group changed ten times compiles once.
import type { Store, ChangeEvent } from '../store/store.ts';
import type { DataPlane } from '../dataplane/dataplane.ts';
import { KIND, type EniDoc, type PrefixListDoc, type SecurityGroupDoc } from '../core/documents/ec2.ts';
import { awsPrefixLists } from '../services/ec2/lookups.ts';
import { rulesOfGroup } from './doc-inputs.ts';

export function syncDataPlane(store: Store, plane: DataPlane): () => void {
  // AWS-managed lists (hundreds of CIDRs) are compiled into the engine when a rule of the region
  // first references one, not at start.
  const seenRegions = new Set<string>();
  const ensureAwsLists = (scope: string, g: SecurityGroupDoc) => {
    const region = scope.split('/')[1];
    if (!region || seenRegions.has(region) || !g.rules.some((r) => r.prefixListId)) return;
    seenRegions.add(region);
    for (const l of awsPrefixLists(region))
      plane.policy.setPrefixList(
        l.id,
        l.entries.map((e) => e.cidr),
      );
  };
  const apply = (e: ChangeEvent) => {
    if (e.kind === KIND.sg) {
      if (e.after) {
        const g = e.after as SecurityGroupDoc;
        ensureAwsLists(e.scope, g);
        plane.policy.setGroup({ id: g.id, vpcId: g.vpcId, rules: rulesOfGroup(g) });
      } else plane.policy.removeGroup(e.id);
    } else if (e.kind === KIND.eni) {
      if (e.after) {
        const n = e.after as EniDoc;
        plane.policy.setInterface({ id: n.id, vpcId: n.vpcId, ipv4: n.privateIps, ipv6: n.ipv6, publicIp: n.publicIp, groups: n.groups });
        plane.setTimeouts(
          n.id,
          n.connTrack && { tcpEstablished: n.connTrack.tcpEstablished, udpStream: n.connTrack.udpStream, udp: n.connTrack.udp },
        );
      } else {
        plane.policy.removeInterface(e.id);
        plane.forget(e.id);
      }
    } else if (e.kind === KIND.prefixList) {
      if (e.after)
        plane.policy.setPrefixList(
          e.id,
          (e.after as PrefixListDoc).entries.map((x) => x.cidr),
        );
      else plane.policy.removePrefixList(e.id);
    }
  };
  for (const kind of [KIND.prefixList, KIND.sg, KIND.eni]) {
    for (const scope of store.scopes(kind)) {
      for (const doc of store.table(kind, scope).values()) apply({ kind, scope, id: doc.id, after: doc });
    }
  }
  const pending = new Map<string, ChangeEvent>();
  store.onChange((events) => {
    for (const e of events) {
      const key = `${e.kind}\u0000${e.id}`;
      pending.delete(key); // to the end: the order of last changes
      pending.set(key, e);
    }
  });
  return () => {
    if (pending.size === 0) return;
    const queue = [...pending.values()];
    pending.clear();
    for (const e of queue) apply(e);
  };
}
