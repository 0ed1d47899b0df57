// Conventions: groups and rules that say what they are for, and names and tags that follow the
// estate's own rules: by default a group's name says its environment; more when configured.
import { DEFAULT_ENVIRONMENTS, type CheckDef, type Finding, type ResourceType } from './types.ts';
import { listText, permissionOf, ruleText, type Estate } from './estate.ts';
import type { IpPermission } from '@aws-sdk/client-ec2';

const PLACEHOLDER = /^(?:n\/?a|none|null|todo|tbd|test|temp|tmp|x+|description|desc|sg|security[ -]?group|default|-+|\.+|_+)$/i;

/** Empty, a placeholder, or only the name again. */
function emptyish(text: string | undefined, name?: string): boolean {
  const t = (text ?? '').trim();
  if (t.length < 3 || PLACEHOLDER.test(t)) return true;
  return name !== undefined && t.toLowerCase() === name.trim().toLowerCase();
}

export const groupDescription: CheckDef = {
  id: 'sg-missing-description',
  severity: 'low',
  title: 'Security group without a meaningful description',
  help:
    "The group's description is empty, a placeholder, or just its name again, so a reviewer cannot tell what it is for. " +
    'A description cannot be changed after creation: create a replacement group with a description and move the interfaces.',
  controls: [],
  run(e) {
    const out: Finding[] = [];
    for (const g of e.snapshot.securityGroups) {
      if (e.isDefaultGroup(g) || !emptyish(g.Description, g.GroupName)) continue;
      out.push({
        checkId: this.id,
        severity: this.severity,
        resourceId: g.GroupId!,
        resourceType: 'security-group',
        resourceName: g.GroupName,
        ruleIds: [],
        title: `${e.label(g.GroupId!)} has no meaningful description`,
        detail: `The description of ${e.label(g.GroupId!)} is ${JSON.stringify(g.Description ?? '')}${(g.Description ?? '').trim().toLowerCase() === (g.GroupName ?? '').toLowerCase() ? ', the same as its name' : ''}.`,
        fix: `Descriptions cannot be edited: create a replacement (aws ec2 create-security-group --group-name ${g.GroupName ?? '…'}-v2 --description "what it admits and why" --vpc-id ${g.VpcId ?? '…'}), copy the rules and move the interfaces to it.`,
        controls: [],
      });
    }
    return out;
  },
};

const ruleDescription: CheckDef = {
  id: 'sg-rule-missing-description',
  severity: 'low',
  title: 'Security group rules without descriptions',
  help:
    'Rules without a description leave the next reviewer guessing who needs the access and whether it can go. Rules AWS ' +
    "creates itself (allow-all egress, the default group's self reference) are not reported.",
  controls: [],
  run(e) {
    const out: Finding[] = [];
    for (const g of e.snapshot.securityGroups) {
      const bare = (e.rules.get(g.GroupId!) ?? []).filter((r) => !r.awsDefault && emptyish(r.description));
      if (!bare.length) continue;
      const ex = bare[0]!;
      const dir = ex.input.egress ? 'egress' : 'ingress';
      out.push({
        checkId: this.id,
        severity: this.severity,
        resourceId: g.GroupId!,
        resourceType: 'security-group',
        resourceName: g.GroupName,
        ruleIds: bare.map((r) => r.input.id),
        title: `${bare.length} rule(s) without description in ${e.label(g.GroupId!)}`,
        detail: `${e.label(g.GroupId!)}: ${listText(
          bare.map((r) => ruleText(r.input)),
          5,
        )} have no description.`,
        fix: ex.input.id.startsWith('sgr-')
          ? `aws ec2 modify-security-group-rules --group-id ${g.GroupId} --security-group-rules 'SecurityGroupRuleId=${ex.input.id},SecurityGroupRule={…,Description="who needs this and why"}' (or update-security-group-rule-descriptions-${dir}), for each rule`
          : `aws ec2 update-security-group-rule-descriptions-${dir} --group-id ${g.GroupId} --ip-permissions '${JSON.stringify([withDescription(permissionOf(ex))])}', for each rule`,
        controls: [],
      });
    }
    return out;
  },
};

function withDescription(p: IpPermission): object {
  const d = { Description: 'who needs this and why' };
  return {
    ...p,
    ...(p.IpRanges ? { IpRanges: p.IpRanges.map((r) => ({ ...r, ...d })) } : {}),
    ...(p.Ipv6Ranges ? { Ipv6Ranges: p.Ipv6Ranges.map((r) => ({ ...r, ...d })) } : {}),
    ...(p.PrefixListIds ? { PrefixListIds: p.PrefixListIds.map((r) => ({ ...r, ...d })) } : {}),
    ...(p.UserIdGroupPairs ? { UserIdGroupPairs: p.UserIdGroupPairs.map((r) => ({ ...r, ...d })) } : {}),
  };
}

const DEFAULT_APPLIES: ResourceType[] = ['security-group', 'instance', 'vpc'];

/** An allowed-values pattern, anchored: 'prod|dev|test' matches exactly one of them. */
export function anchored(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

export const naming: CheckDef = {
  id: 'naming-convention',
  severity: 'low',
  title: 'Name or tags break the naming convention',
  help:
    "A security group's name (or Name tag) does not say its environment — one of its words is none of " +
    `${DEFAULT_ENVIRONMENTS.split('|').join(', ')} (naming.environments) — and it has no Environment tag (naming.environmentTag); ` +
    'the default group is exempt. Configured conventions too: naming.groupName and naming.nameTag (regular expressions), ' +
    'naming.requiredTags (tag keys with the allowed values, e.g. {"Environment": "prod|dev|test"}).',
  controls: [],
  run(e, config) {
    const n = config.naming ?? {};
    const envText = n.environments ?? DEFAULT_ENVIRONMENTS;
    const env = envText === '' ? undefined : new RegExp(`^(?:${envText})$`, 'i');
    const envTag = n.environmentTag ?? 'Environment';
    /** Whether a name says an environment: one of its words (split at anything not a letter or digit) is one. */
    const saysEnvironment = (name: string | undefined) => !!name && name.split(/[^A-Za-z0-9]+/).some((w) => env!.test(w));
    const applies = new Set(n.appliesTo ?? DEFAULT_APPLIES);
    const groupName = n.groupName ? new RegExp(n.groupName) : undefined;
    const nameTag = n.nameTag ? new RegExp(n.nameTag) : undefined;
    const required = Object.entries(n.requiredTags ?? {}).map(([key, values]) => ({
      key,
      values,
      re: values === '' || values === '*' ? undefined : anchored(values),
    }));
    const out: Finding[] = [];
    const visit = (id: string, type: ResourceType, name: string | undefined, isGroup: boolean, exempt = false) => {
      const problems: string[] = [];
      if (isGroup && env && !exempt) {
        const tagged = (e.tag(id, envTag) ?? '').trim() !== '';
        if (!tagged && !saysEnvironment(name) && !saysEnvironment(e.tag(id, 'Name')))
          problems.push(
            `neither its name ${JSON.stringify(name ?? '')} nor a Name tag says its environment (${envText}), and it has no ${envTag} tag`,
          );
      }
      // The configured conventions, on the resources they cover.
      if (applies.has(type)) {
        if (isGroup && groupName && !exempt && !groupName.test(name ?? ''))
          problems.push(`group name ${JSON.stringify(name ?? '')} does not match /${n.groupName}/`);
        if (!isGroup && nameTag) {
          const v = e.tag(id, 'Name');
          if (v === undefined) problems.push('no Name tag');
          else if (!nameTag.test(v)) problems.push(`Name tag ${JSON.stringify(v)} does not match /${n.nameTag}/`);
        }
        for (const r of required) {
          const v = e.tag(id, r.key);
          if (v === undefined) problems.push(`no ${r.key} tag`);
          else if (r.re && !r.re.test(v)) problems.push(`${r.key}=${JSON.stringify(v)} is not one of ${r.values}`);
        }
      }
      if (!problems.length) return;
      report(id, type, name, isGroup, problems);
    };
    const report = (id: string, type: ResourceType, name: string | undefined, isGroup: boolean, problems: string[]) => {
      const envOnly = problems.every((p) => p.startsWith('neither its name'));
      out.push({
        checkId: 'naming-convention',
        severity: 'low',
        resourceId: id,
        resourceType: type,
        resourceName: name,
        ruleIds: [],
        title: `${e.label(id)} breaks the naming convention`,
        detail: `${e.label(id)}: ${problems.join('; ')}.`,
        fix: envOnly
          ? `aws ec2 create-tags --resources ${id} --tags Key=${envTag},Value=${envText.split('|')[0]} (or recreate it under a name that says its environment)`
          : required.length || nameTag
            ? `aws ec2 create-tags --resources ${id} --tags ${[...(nameTag && !isGroup ? ['Key=Name,Value=…'] : []), ...required.map((r) => `Key=${r.key},Value=${r.re ? r.values.split('|')[0] : '…'}`)].join(' ')}${isGroup && groupName && problems[0]?.startsWith('group name') ? ' (a group cannot be renamed: recreate it under a conforming name)' : ''}`
            : 'A group cannot be renamed: recreate it under a conforming name and move the interfaces.',
        controls: [],
      });
    };
    for (const g of e.snapshot.securityGroups) visit(g.GroupId!, 'security-group', g.GroupName, true, e.isDefaultGroup(g));
    for (const i of e.snapshot.instances)
      if (i.State?.Name !== 'terminated') visit(i.InstanceId!, 'instance', e.nameOf(i.InstanceId!), false);
    for (const v of e.snapshot.vpcs) visit(v.VpcId!, 'vpc', e.nameOf(v.VpcId!), false);
    for (const s of e.snapshot.subnets) visit(s.SubnetId!, 'subnet', e.nameOf(s.SubnetId!), false);
    for (const ni of e.snapshot.networkInterfaces)
      visit(ni.NetworkInterfaceId!, 'network-interface', e.nameOf(ni.NetworkInterfaceId!), false);
    return out;
  },
};

export const conventionChecks: CheckDef[] = [groupDescription, ruleDescription, naming];
export type { Estate };
