// Instance roles: what the credentials every process on an instance can fetch from its
// metadata service are allowed to do. Reported per role (with the instances using it) when an
// Allow statement of its inline or attached policies grants every action on every resource,
// whole services, or non-read actions on every resource.
import type { CheckDef, Finding, Severity } from './types.ts';
import type { Estate } from './estate.ts';
import type { IamRoleDetail } from '../snapshot.ts';
import { awsManagedPolicy } from '../../services/iam/aws-managed.ts';

export interface Statement {
  Effect?: string;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: unknown;
  Sid?: string;
}

/** A policy document as exports carry it: an object, JSON text, or URL-encoded JSON text (the raw API's form). */
export function parseDocument(doc: string | object | undefined): { Statement?: unknown } | undefined {
  if (doc === undefined) return undefined;
  if (typeof doc === 'object') return doc as { Statement?: unknown };
  for (const text of [doc, safeDecode(doc)]) {
    if (text === undefined) continue;
    try {
      const v = JSON.parse(text) as unknown;
      if (v && typeof v === 'object') return v as { Statement?: unknown };
    } catch {
      /* next form */
    }
  }
  return undefined;
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, '%20'));
  } catch {
    return undefined;
  }
}

export function statementsOf(doc: { Statement?: unknown } | undefined): Statement[] {
  const s = doc?.Statement;
  if (!s) return [];
  return (Array.isArray(s) ? s : [s]).filter((x): x is Statement => !!x && typeof x === 'object');
}

const list = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
const READ = /^(?:Describe|Get|List|Head|BatchGet|Search|Lookup|View)/;

type Grant = 'admin' | 'wildcard-action' | 'wildcard-resource' | undefined;

/** How broad an Allow statement is (undefined: not broad). */
export function classify(st: Statement): Grant {
  if (st.Effect !== 'Allow') return undefined;
  const actions = list(st.Action);
  const everyAction = actions.some((a) => a === '*' || a === '*:*');
  const everyResource = list(st.Resource).includes('*') || st.NotResource !== undefined;
  if (everyAction && everyResource) return 'admin';
  if (everyAction || st.NotAction !== undefined || actions.some((a) => /^[^:*]+:\*$/.test(a))) return 'wildcard-action';
  if (everyResource && actions.some((a) => !READ.test(a.split(':')[1] ?? ''))) return 'wildcard-resource';
  return undefined;
}

interface Evidence {
  ref: string;
  grant: Exclude<Grant, undefined>;
  text: string;
}

function roleEvidence(e: Estate, role: IamRoleDetail): Evidence[] {
  const out: Evidence[] = [];
  const visit = (ref: string, label: string, doc: string | object | undefined) => {
    statementsOf(parseDocument(doc)).forEach((st, k) => {
      const grant = classify(st);
      if (!grant) return;
      const what = st.NotAction !== undefined ? `all but ${JSON.stringify(st.NotAction)}` : JSON.stringify(st.Action);
      const where = st.NotResource !== undefined ? `all but ${JSON.stringify(st.NotResource)}` : JSON.stringify(st.Resource);
      out.push({
        ref: `${ref}#Statement[${k}]`,
        grant,
        text: `${label} allows ${what} on ${where}${st.Condition ? ' (with conditions)' : ''}`,
      });
    });
  };
  for (const p of role.RolePolicyList ?? []) visit(`${role.Arn}/inline/${p.PolicyName}`, `inline policy ${p.PolicyName}`, p.PolicyDocument);
  for (const a of role.AttachedManagedPolicies ?? []) {
    const p = e.policies.get(a.PolicyArn);
    let doc: string | object | undefined;
    if (p) {
      const versions = p.PolicyVersionList ?? [];
      doc = (versions.find((v) => v.IsDefaultVersion) ?? versions.find((v) => v.VersionId === p.DefaultVersionId) ?? versions[0])?.Document;
    } else {
      // AWS managed policies are often left out of exports; Palisade knows the common ones.
      doc = awsManagedPolicy(a.PolicyArn.split(':')[1] ?? 'aws', a.PolicyArn)?.versions[0]?.document;
    }
    visit(a.PolicyArn, `managed policy ${a.PolicyName ?? a.PolicyArn.split('/').pop()}`, doc);
  }
  return out;
}

/** Roles of the instances' profiles, with the instances using each. */
function instanceRoles(e: Estate): Map<IamRoleDetail, string[]> {
  const out = new Map<IamRoleDetail, string[]>();
  for (const i of e.snapshot.instances) {
    if (i.State?.Name === 'terminated') continue;
    const arn = i.IamInstanceProfile?.Arn;
    if (!arn) continue;
    const role = e.rolesByProfile.get(arn) ?? e.rolesByProfile.get(`name:${arn.split('/').pop()}`);
    if (!role) continue;
    out.set(role, [...(out.get(role) ?? []), i.InstanceId!]);
  }
  return out;
}

function roleCheck(
  id: string,
  grant: Exclude<Grant, undefined>,
  severity: Severity,
  title: string,
  help: string,
  controls: string[],
  fix: string,
): CheckDef {
  return {
    id,
    severity,
    title,
    help,
    controls,
    run(e) {
      const out: Finding[] = [];
      for (const [role, instances] of instanceRoles(e)) {
        const ev = roleEvidence(e, role).filter((x) => x.grant === grant);
        if (!ev.length) continue;
        out.push({
          checkId: id,
          severity,
          resourceId: role.Arn,
          resourceType: 'iam-role',
          resourceName: role.RoleName,
          ruleIds: ev.map((x) => x.ref),
          title: `${title}: ${role.RoleName} (used by ${instances.map((i) => e.label(i)).join(', ')})`,
          detail:
            `Role ${role.RoleName}, whose credentials ${instances.length === 1 ? 'instance' : 'instances'} ${instances.map((i) => e.label(i)).join(', ')} ` +
            `can fetch from the metadata service: ${ev.map((x) => x.text).join('; ')}.`,
          fix: fix.replace('ROLE', role.RoleName),
          controls,
        });
      }
      return out;
    },
  };
}

const roleAdmin = roleCheck(
  'iam-instance-role-admin',
  'admin',
  'critical',
  'Instance role with full administrator access',
  'A policy of a role that instances use allows every action ("*") on every resource: whoever runs code on the instance — or ' +
    'reaches its metadata service — is an administrator of the account. Grant the actions and resources the workload uses. ' +
    'Security Hub IAM.1; CIS AWS Foundations 1.16.',
  ['IAM.1', 'CIS 1.16'],
  'Detach or rewrite the policy: aws iam detach-role-policy --role-name ROLE --policy-arn … (or delete-role-policy for an inline one), then grant only the actions the workload uses.',
);

const roleWildcardAction = roleCheck(
  'iam-instance-role-wildcard-action',
  'wildcard-action',
  'high',
  'Instance role with wildcard actions',
  'A policy of a role that instances use allows every action of a service ("s3:*"), every action ("*") on some resources, or ' +
    'everything but a list (NotAction). Name the actions the workload calls. Security Hub IAM.21.',
  ['IAM.21'],
  'Replace the wildcard with the actions the workload calls (IAM Access Analyzer can generate them from CloudTrail): aws iam put-role-policy --role-name ROLE …',
);

const roleWildcardResource = roleCheck(
  'iam-instance-role-wildcard-resource',
  'wildcard-resource',
  'medium',
  'Instance role acting on every resource',
  'A policy of a role that instances use allows actions that change or read data (not only Describe/Get/List) on every ' +
    'resource ("*" or NotResource). Scope the statement to the ARNs the workload uses.',
  [],
  'Scope the Resource element to the ARNs the workload uses: aws iam put-role-policy --role-name ROLE …',
);

export const iamChecks: CheckDef[] = [roleAdmin, roleWildcardAction, roleWildcardResource];
