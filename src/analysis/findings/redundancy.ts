// Redundant rules: rule A adds nothing when another rule B admits everything A admits — same
// direction, A's protocol and ports inside B's, A's peer inside B's — and B sits on every
// interface A does (in the same group, or in another group held wherever A's group is held).
// Equal rules are ordered by id so that exactly one of a pair is reported: every reported rule
// keeps an unreported rule covering it, so all of them can go at once.
import type { CheckDef, Finding } from './types.ts';
import { cidrOf, ruleText, revokeCommand, type AuditRule, type Estate } from './estate.ts';
import { protocolNumber, ruleInterval } from '../../dataplane/sg-policy.ts';
import { containsCidr, type Cidr } from '../../core/cidr.ts';

interface Prepared {
  rule: AuditRule;
  proto: number;
  lo: number;
  hi: number;
  key: string;
}

function prepare(r: AuditRule): Prepared {
  const [lo, hi] = ruleInterval(r.input);
  return { rule: r, proto: protocolNumber(r.input.protocol), lo, hi, key: `${r.group.GroupId}\u0000${r.input.id}` };
}

/** Every address `a`'s peer admits is admitted by `b`'s peer (a structural, always-true inclusion). */
function peerWithin(e: Estate, a: AuditRule, b: AuditRule): boolean {
  const A = a.input;
  const B = b.input;
  const cidrsOf = (r: AuditRule): Cidr[] | undefined => {
    if (r.cidrText !== undefined) {
      const c = cidrOf(r);
      return c ? [c] : undefined;
    }
    return r.input.prefixListId ? e.prefixListCidrs.get(r.input.prefixListId) : undefined;
  };
  if (A.refGroupId) return B.refGroupId === A.refGroupId;
  if (A.prefixListId && B.prefixListId === A.prefixListId) return true;
  const inner = cidrsOf(a);
  const outer = cidrsOf(b);
  if (!inner?.length || !outer?.length) return false;
  return inner.every((c) => outer.some((o) => containsCidr(o, c)));
}

function within(e: Estate, a: Prepared, b: Prepared): boolean {
  if (b.proto !== -1 && (a.proto !== b.proto || a.lo < b.lo || a.hi > b.hi)) return false;
  return peerWithin(e, a.rule, b.rule);
}

/** b covers a, and a is the one to drop (strictly smaller, or equal with the larger key). */
function dominated(e: Estate, a: Prepared, b: Prepared, widerHolders = false): boolean {
  if (a === b || !within(e, a, b)) return false;
  return widerHolders || !within(e, b, a) || b.key < a.key;
}

const redundantRule: CheckDef = {
  id: 'sg-redundant-rule',
  severity: 'low',
  title: 'Rule made redundant by a broader rule',
  help:
    'Another rule of the same group — or of another group held by every interface that holds this one — admits everything ' +
    'this rule admits (same direction, protocol and ports within, source or destination CIDR within). The rule can be removed ' +
    'without changing what is allowed; keeping it makes reviews harder and wastes quota. AWS-created allow-all egress rules are ' +
    "not reported as redundant to another group's.",
  controls: [],
  run(e) {
    const out: Finding[] = [];
    // per group and direction, the rules by protocol number (-1: all protocols)
    type Buckets = Map<number, Prepared[]>;
    const prepared = new Map<string, { ingress: Buckets; egress: Buckets; all: Prepared[] }>();
    const prep = (gid: string) => {
      let p = prepared.get(gid);
      if (!p) {
        p = { ingress: new Map(), egress: new Map(), all: [] };
        for (const r of e.rules.get(gid) ?? []) {
          const x = prepare(r);
          p.all.push(x);
          const b = r.input.egress ? p.egress : p.ingress;
          const list = b.get(x.proto);
          if (list) list.push(x);
          else b.set(x.proto, [x]);
        }
        prepared.set(gid, p);
      }
      return p;
    };
    /** The rules of a group that could cover `a`: same direction, same protocol or all protocols. */
    const candidates = (gid: string, a: Prepared): Prepared[][] => {
      const b = a.rule.input.egress ? prep(gid).egress : prep(gid).ingress;
      const same = b.get(a.proto) ?? [];
      return a.proto === -1 ? [same] : [same, b.get(-1) ?? []];
    };
    // groups of each interface, for "held wherever this group is held"
    const groupsOf = new Map<string, string[]>();
    for (const n of e.snapshot.networkInterfaces)
      groupsOf.set(
        n.NetworkInterfaceId!,
        (n.Groups ?? []).map((g) => g.GroupId!),
      );
    for (const g of e.snapshot.securityGroups) {
      const gid = g.GroupId!;
      const holders = e.holders.get(gid) ?? [];
      let companions: string[] = [];
      if (holders.length) {
        let common = new Set(groupsOf.get(holders[0]!) ?? []);
        for (let k = 1; k < holders.length && common.size > 1; k++) {
          const here = new Set(groupsOf.get(holders[k]!) ?? []);
          common = new Set([...common].filter((x) => here.has(x)));
        }
        common.delete(gid);
        companions = [...common].filter((c) => e.groups.has(c));
      }
      const mine = prep(gid);
      const hits: { rule: AuditRule; by: AuditRule; other: boolean }[] = [];
      for (const a of mine.all) {
        let by: AuditRule | undefined;
        let other = false;
        mine: for (const list of candidates(gid, a))
          for (const b of list)
            if (dominated(e, a, b)) {
              by = b.rule;
              break mine;
            }
        if (!by && !a.rule.awsDefault) {
          outer: for (const c of companions) {
            // c's holders include all of this group's: if they are more, c's equal rule is the one to keep
            const wider = (e.holders.get(c)?.length ?? 0) > holders.length;
            for (const list of candidates(c, a))
              for (const b of list)
                if (dominated(e, a, b, wider)) {
                  by = b.rule;
                  other = true;
                  break outer;
                }
          }
        }
        if (by) hits.push({ rule: a.rule, by, other });
      }
      if (!hits.length) continue;
      out.push({
        checkId: this.id,
        severity: this.severity,
        resourceId: gid,
        resourceType: 'security-group',
        resourceName: g.GroupName,
        ruleIds: hits.map((h) => h.rule.input.id),
        title: `${hits.length} redundant rule(s) in ${e.label(gid)}`,
        detail: `${e.label(gid)}: ${hits
          .map(
            (h) =>
              `${ruleText(h.rule.input)} is covered by ${ruleText(h.by.input)}` +
              (h.other ? ` of ${e.label(h.by.group.GroupId!)}, held by every interface holding this group` : ''),
          )
          .join('; ')}.`,
        fix: [hits.filter((h) => !h.rule.input.egress), hits.filter((h) => h.rule.input.egress)]
          .filter((x) => x.length)
          .map((x) => revokeCommand(x.map((h) => h.rule)))
          .join(' && '),
        controls: [],
      });
    }
    return out;
  },
};

export const redundancyChecks: CheckDef[] = [redundantRule];
