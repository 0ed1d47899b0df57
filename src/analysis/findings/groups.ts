// The groups themselves: default groups that allow traffic, groups nobody uses, references to
// groups that are gone or belong to someone else, and groups close to the rule quota.
import type { CheckDef, Finding } from './types.ts';
import { listText, revokeCommand, ruleText, type AuditRule } from './estate.ts';

export const RULES_PER_DIRECTION = 60;

const defaultGroupRules: CheckDef = {
  id: 'sg-default-group-has-rules',
  severity: 'high',
  title: 'Default security group allows traffic',
  help:
    'Every VPC has a default security group, and anything launched without a group gets it. It should have no rules, so ' +
    'that a forgotten group choice fails closed; give resources groups of their own instead. Security Hub EC2.2; CIS AWS ' +
    'Foundations 5.4.',
  controls: ['EC2.2', 'CIS 5.4'],
  run(e) {
    const out: Finding[] = [];
    for (const g of e.snapshot.securityGroups) {
      if (!e.isDefaultGroup(g)) continue;
      const rules = e.rules.get(g.GroupId!) ?? [];
      if (!rules.length) continue;
      const ingress = rules.filter((r) => !r.input.egress);
      const egress = rules.filter((r) => r.input.egress);
      const users = e.holders.get(g.GroupId!)?.length ?? 0;
      out.push({
        checkId: this.id,
        severity: this.severity,
        resourceId: g.GroupId!,
        resourceType: 'security-group',
        resourceName: g.GroupName,
        ruleIds: rules.map((r) => r.input.id),
        title: `Default security group of ${g.VpcId ?? 'its VPC'} allows traffic`,
        detail:
          `${e.label(g.GroupId!)} of ${e.label(g.VpcId ?? '?')} has ${ingress.length} ingress and ${egress.length} egress rule(s): ` +
          `${listText(
            rules.map((r) => ruleText(r.input)),
            4,
          )}. ${users ? `${users} interface(s) hold it.` : 'No interface holds it.'}`,
        fix:
          [ingress, egress]
            .filter((x) => x.length)
            .map((x) => revokeCommand(x))
            .join(' && ') + (users ? ' (first move the interfaces holding it to groups of their own)' : ''),
        controls: ['EC2.2', 'CIS 5.4'],
      });
    }
    return out;
  },
};

const unusedGroup: CheckDef = {
  id: 'sg-unused',
  severity: 'low',
  title: 'Unused security group',
  help:
    "The group is attached to no network interface, is not a VPC's default group, and no other group's rules reference it. " +
    'Unused groups accumulate rules nobody reviews and get attached by mistake; delete them. Security Hub EC2.22.',
  controls: ['EC2.22'],
  run(e) {
    if (!e.has('networkInterfaces') && !e.has('instances')) return [];
    const out: Finding[] = [];
    for (const g of e.snapshot.securityGroups) {
      const id = g.GroupId!;
      if (e.isDefaultGroup(g) || e.holders.get(id)?.length || e.referencedBy.get(id)?.size) continue;
      out.push({
        checkId: this.id,
        severity: this.severity,
        resourceId: id,
        resourceType: 'security-group',
        resourceName: g.GroupName,
        ruleIds: [],
        title: `Unused security group ${e.label(id)}`,
        detail: `${e.label(id)} in ${g.VpcId ?? '?'} is attached to no network interface and referenced by no other group.`,
        fix: `aws ec2 delete-security-group --group-id ${id}`,
        controls: ['EC2.22'],
      });
    }
    return out;
  },
};

const staleReference: CheckDef = {
  id: 'sg-stale-reference',
  severity: 'medium',
  title: 'Rule references a deleted or foreign security group',
  help:
    'A rule names a security group that no longer exists, belongs to another account, or lives in another VPC through a ' +
    'peering connection that is gone. Such rules admit nothing today, or admit something nobody here controls, and they mask ' +
    "the group's real intent. Remove them, or re-point them at a group of this estate.",
  controls: [],
  run(e) {
    const out: Finding[] = [];
    for (const g of e.snapshot.securityGroups) {
      const owner = g.OwnerId ?? e.snapshot.account;
      const stale: { rule: AuditRule; why: string }[] = [];
      for (const r of e.rules.get(g.GroupId!) ?? []) {
        const pair = r.pair;
        const ref = r.input.refGroupId;
        if (!pair || !ref) continue;
        const target = e.groups.get(ref);
        const foreignAccount = pair.UserId && owner && pair.UserId.replace(/-/g, '') !== owner ? pair.UserId : undefined;
        if (pair.PeeringStatus === 'deleted')
          stale.push({ rule: r, why: `${ref} through ${pair.VpcPeeringConnectionId ?? 'a peering connection'} that was deleted` });
        else if (foreignAccount)
          stale.push({
            rule: r,
            why: `${ref} of account ${foreignAccount}${pair.VpcPeeringConnectionId ? ` through ${pair.VpcPeeringConnectionId}` : ''}, outside this estate`,
          });
        else if (!target) stale.push({ rule: r, why: `${ref}, which does not exist (deleted)` });
        else if (target.VpcId && g.VpcId && target.VpcId !== g.VpcId && !pair.VpcPeeringConnectionId)
          stale.push({ rule: r, why: `${e.label(ref)} of another VPC (${target.VpcId}) with no peering connection` });
      }
      if (!stale.length) continue;
      out.push({
        checkId: this.id,
        severity: this.severity,
        resourceId: g.GroupId!,
        resourceType: 'security-group',
        resourceName: g.GroupName,
        ruleIds: stale.map((s) => s.rule.input.id),
        title: `Stale group reference in ${e.label(g.GroupId!)}`,
        detail: `${e.label(g.GroupId!)}: ${stale.map((s) => `${ruleText(s.rule.input)} references ${s.why}`).join('; ')}.`,
        fix: [stale.filter((s) => !s.rule.input.egress), stale.filter((s) => s.rule.input.egress)]
          .filter((x) => x.length)
          .map((x) => revokeCommand(x.map((s) => s.rule)))
          .join(' && '),
        controls: [],
      });
    }
    return out;
  },
};

const nearQuota: CheckDef = {
  id: 'sg-near-rule-quota',
  severity: 'low',
  title: 'Security group near its rule quota',
  help:
    `AWS allows ${RULES_PER_DIRECTION} inbound and ${RULES_PER_DIRECTION} outbound rules per group, counted separately for IPv4 and ` +
    'IPv6; a rule referencing a group counts in both, and one referencing a prefix list counts its MaxEntries in both. A group ' +
    'at or above the threshold (quotaThreshold, default 80%) will refuse the next change, often during an incident: ' +
    'consolidate rules into prefix lists or split the group.',
  controls: [],
  run(e, config) {
    const out: Finding[] = [];
    const warnAt = Math.ceil(RULES_PER_DIRECTION * config.quotaThreshold);
    for (const g of e.snapshot.securityGroups) {
      const over: string[] = [];
      const evidence = new Set<string>();
      for (const egress of [false, true]) {
        let v4 = 0;
        let v6 = 0;
        const rules = (e.rules.get(g.GroupId!) ?? []).filter((r) => r.input.egress === egress);
        for (const r of rules) {
          if (r.input.cidr4) v4++;
          else if (r.input.cidr6) v6++;
          else if (r.input.refGroupId) {
            v4++;
            v6++;
          } else if (r.input.prefixListId) {
            const w = e.prefixListMaxEntries.get(r.input.prefixListId) ?? 1;
            v4 += w;
            v6 += w;
          }
        }
        const dir = egress ? 'egress' : 'ingress';
        for (const [fam, n] of [
          ['IPv4', v4],
          ['IPv6', v6],
        ] as const) {
          if (n < warnAt) continue;
          over.push(`${dir} ${fam}: ${n} of ${RULES_PER_DIRECTION}${n > RULES_PER_DIRECTION ? ' (over the quota)' : ''}`);
          for (const r of rules) if (r.input.prefixListId) evidence.add(r.input.id);
        }
      }
      if (!over.length) continue;
      out.push({
        checkId: this.id,
        severity: this.severity,
        resourceId: g.GroupId!,
        resourceType: 'security-group',
        resourceName: g.GroupName,
        ruleIds: [...evidence],
        title: `${e.label(g.GroupId!)} is near its rule quota`,
        detail: `${e.label(g.GroupId!)} counts ${over.join('; ')} rules (prefix lists weigh their MaxEntries).`,
        fix: 'Merge CIDR rules into a managed prefix list with a MaxEntries that fits, or split the group by role.',
        controls: [],
      });
    }
    return out;
  },
};

export const groupChecks: CheckDef[] = [defaultGroupRules, unusedGroup, staleReference, nearQuota];
