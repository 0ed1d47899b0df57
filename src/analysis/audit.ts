// The audit: every check over one snapshot (live or imported), suppressions applied, findings
// sorted worst first, with a summary.
import { CHECKS } from './findings/index.ts';
import { Estate, type AuditSnapshot } from './findings/estate.ts';
import { defaultConfig, SEVERITIES, severityRank, type AuditConfig, type CheckDef, type Finding, type Severity } from './findings/types.ts';

const SUPPRESS_TAG = 'palisade:suppress';

interface SuppressedFinding extends Finding {
  suppressedBy: string;
}

interface AuditSummary {
  total: number;
  bySeverity: Record<Severity, number>;
  byCheck: Record<string, number>;
  suppressed: number;
  resources: {
    securityGroups: number;
    rules: number;
    networkInterfaces: number;
    instances: number;
    vpcs: number;
    subnets: number;
    prefixLists: number;
    roles: number;
  };
  checks: string[];
  notes: string[];
  durationMs: number;
}

export interface AuditResult {
  findings: Finding[];
  suppressed: SuppressedFinding[];
  summary: AuditSummary;
}

interface AuditOptions {
  /** called as the checks progress (done of total), for a progress bar */
  onProgress?: (done: number, total: number, label: string) => void;
  /** only these checks (default: all but config.disable) */
  checks?: string[];
}

export function audit(snapshot: AuditSnapshot, config: AuditConfig = defaultConfig(), opts: AuditOptions = {}): AuditResult {
  const t0 = performance.now();
  const checks: CheckDef[] = CHECKS.filter((c) => !config.disable.includes(c.id) && (!opts.checks || opts.checks.includes(c.id)));
  const total = checks.length + 1;
  opts.onProgress?.(0, total, 'compiling the estate');
  const estate = new Estate(snapshot);
  opts.onProgress?.(1, total, 'compiled');
  const raw: Finding[] = [];
  checks.forEach((c, k) => {
    opts.onProgress?.(k + 1, total, c.id);
    raw.push(...c.run(estate, config));
  });
  opts.onProgress?.(total, total, 'done');

  const findings: Finding[] = [];
  const suppressed: SuppressedFinding[] = [];
  for (const f of raw) {
    const by = suppressedBy(estate, config, f);
    if (by) suppressed.push({ ...f, suppressedBy: by });
    else findings.push(f);
  }
  findings.sort(compareFindings);
  suppressed.sort(compareFindings);

  const notes: string[] = [];
  if (!estate.has('networkInterfaces') && !estate.has('instances'))
    notes.push('no network-interfaces or instances export: sg-unused and instance checks skipped');
  if (snapshot.instances.some((i) => i.IamInstanceProfile) && !snapshot.iam)
    notes.push(
      'instances have instance profiles but the snapshot has no IAM part (get-account-authorization-details): role checks skipped',
    );
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  const byCheck: Record<string, number> = {};
  for (const f of findings) {
    bySeverity[f.severity]++;
    byCheck[f.checkId] = (byCheck[f.checkId] ?? 0) + 1;
  }
  let rules = 0;
  for (const r of estate.rules.values()) rules += r.length;
  return {
    findings,
    suppressed,
    summary: {
      total: findings.length,
      bySeverity,
      byCheck,
      suppressed: suppressed.length,
      resources: {
        securityGroups: snapshot.securityGroups.length,
        rules,
        networkInterfaces: snapshot.networkInterfaces.length,
        instances: snapshot.instances.length,
        vpcs: snapshot.vpcs.length,
        subnets: snapshot.subnets.length,
        prefixLists: snapshot.prefixLists.length,
        roles: snapshot.iam?.roles.length ?? 0,
      },
      checks: checks.map((c) => c.id),
      notes,
      durationMs: Math.round(performance.now() - t0),
    },
  };
}

function compareFindings(a: Finding, b: Finding): number {
  return (
    severityRank(b.severity) - severityRank(a.severity) || a.checkId.localeCompare(b.checkId) || a.resourceId.localeCompare(b.resourceId)
  );
}

/** Why the finding is suppressed: the resource's palisade:suppress tag, or a config entry. */
function suppressedBy(e: Estate, config: AuditConfig, f: Finding): string | undefined {
  const tag = e.tag(f.resourceId, SUPPRESS_TAG);
  if (tag !== undefined) {
    const ids = tag.split(/[\s,]+/).filter(Boolean);
    if (ids.includes(f.checkId) || ids.includes('*') || ids.includes('all')) return `tag ${SUPPRESS_TAG}=${tag}`;
  }
  for (const s of config.suppress) {
    if (
      (s.checkId === undefined || s.checkId === '*' || s.checkId === f.checkId) &&
      (s.resourceId === undefined || s.resourceId === '*' || s.resourceId === f.resourceId || s.resourceId === f.resourceName)
    ) {
      return `config: ${JSON.stringify({ checkId: s.checkId, resourceId: s.resourceId })}${s.reason ? ` (${s.reason})` : ''}`;
    }
  }
  return undefined;
}

/** Findings at or above the severity. */
export function atOrAbove(findings: Finding[], severity: Severity): Finding[] {
  const min = severityRank(severity);
  return findings.filter((f) => severityRank(f.severity) >= min);
}

/** The audit as JSON (`palisade audit --format json`, `GET /_palisade/audit`): findings without the internals. */
export function auditJson(r: AuditResult, opts: { failOn?: Severity; showSuppressed?: boolean } = {}): object {
  const strip = ({ checkId, severity, resourceId, resourceType, resourceName, ruleIds, title, detail, fix, controls }: Finding) => ({
    checkId,
    severity,
    resourceId,
    resourceType,
    ...(resourceName !== undefined ? { resourceName } : {}),
    ruleIds,
    title,
    detail,
    fix,
    controls,
  });
  const failOn = opts.failOn;
  return {
    findings: r.findings.map(strip),
    ...(opts.showSuppressed ? { suppressed: r.suppressed.map((f) => ({ ...strip(f), suppressedBy: f.suppressedBy })) } : {}),
    summary: { ...r.summary, ...(failOn ? { failOn, failed: atOrAbove(r.findings, failOn).length > 0 } : {}) },
  };
}
