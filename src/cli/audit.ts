// `palisade audit [--endpoint URL | --state PATH] [--format table|json|sarif] [--fail-on SEVERITY] [--config F]`
// Exit codes: 0; 2 when a finding at or above --fail-on exists; 1 on usage or input errors.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { audit, atOrAbove, type AuditResult } from '../analysis/audit.ts';
import { ConfigError, loadConfig } from '../analysis/config.ts';
import { ImportError, loadSnapshot } from '../analysis/import.ts';
import { toSarif } from '../analysis/sarif.ts';
import { defaultConfig, SEVERITIES, type Severity } from '../analysis/findings/types.ts';
import { CHECKS } from '../analysis/findings/index.ts';
import type { AuditSnapshot } from '../analysis/findings/estate.ts';
import { Progress, describeSnapshot } from './import.ts';

const AUDIT_USAGE = `Usage: palisade audit [--endpoint URL | --state PATH] [--format table|json|sarif] [--fail-on SEVERITY] [--config FILE]
  Checks an estate's security groups, instances and instance roles: SSH/RDP and sensitive ports
  open to the internet (and whether the engine really lets them through, over the routes, gateways
  and network ACLs where the estate has them), default groups with rules, unused and stale groups,
  redundant rules, wide port ranges, rule quotas, descriptions, naming, IMDSv2 and wildcard instance
  roles; network ACLs open to the internet or dropping replies, private subnets routed to an
  internet gateway, peering routes wider than the peer — with Security Hub / CIS control ids.
  --endpoint URL     audit a running server through its API (default: AWS_ENDPOINT_URL, else http://127.0.0.1:4566)
  --state PATH       audit a state file from \`palisade import\`, a folder of aws CLI exports, or one export
  --format F         table (default), json or sarif (SARIF 2.1.0 for GitHub code scanning)
  --output FILE      write the report to FILE instead of standard output
  --fail-on SEV      exit 2 when a finding of this severity or worse exists (${SEVERITIES.join('|')})
  --config FILE      suppressions, naming convention, thresholds (JSON)
  --region REGION    region of the live estate (default AWS_REGION, else us-east-1)
  --show-suppressed  list suppressed findings too (table and json)
  Exit codes: 0 (no finding at or above --fail-on), 2 (there is one), 1 (usage or input error).
`;

function toolVersion(): string | undefined {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'palisade') return pkg.version;
    } catch {
      /* next */
    }
  }
  return undefined;
}

class UsageError extends Error {}

export async function runAudit(args: string[]): Promise<number> {
  const progress = new Progress('auditing');
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        options: {
          endpoint: { type: 'string' },
          state: { type: 'string' },
          format: { type: 'string' },
          'fail-on': { type: 'string' },
          config: { type: 'string' },
          region: { type: 'string' },
          output: { type: 'string', short: 'o' },
          'show-suppressed': { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const v = parsed.values;
    if (v.help) {
      const width = Math.max(...CHECKS.map((c) => c.id.length));
      const list = CHECKS.map(
        (c) => `  ${c.id.padEnd(width)}  ${c.severity.padEnd(8)}  ${c.title}${c.controls.length ? ` (${c.controls.join(', ')})` : ''}`,
      ).join('\n');
      process.stdout.write(`${AUDIT_USAGE}\nChecks (id, severity, what; Security Hub / CIS controls):\n${list}\n`);
      return 0;
    }
    const format = v.format ?? 'table';
    if (!['table', 'json', 'sarif'].includes(format)) throw new UsageError(`--format must be table, json or sarif, not '${format}'`);
    const failOn = v['fail-on'] as Severity | undefined;
    if (failOn !== undefined && !SEVERITIES.includes(failOn))
      throw new UsageError(`--fail-on must be one of ${SEVERITIES.join(', ')}, not '${failOn}'`);
    if (v.endpoint && v.state) throw new UsageError('give --endpoint or --state, not both');
    const config = v.config ? await loadConfig(v.config) : defaultConfig();

    // one bar: reading the estate is the first half, the checks the second
    const first = (d: number, n: number, label: string) => progress.update(n ? d / n : 0, 2, label);
    const second = (d: number, n: number, label: string) => progress.update(1 + (n ? d / n : 0), 2, label);
    let snapshot: AuditSnapshot;
    if (v.state) snapshot = await loadSnapshot(v.state, { onProgress: first });
    else {
      const endpoint = (v.endpoint ?? process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566').replace(/\/$/, '');
      // The SDK's notice about future Node versions is not this command's business.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const { fetchLiveSnapshot } = await import('../analysis/fetch-live.ts');
      try {
        snapshot = await fetchLiveSnapshot(endpoint, { region: v.region, onProgress: first });
      } catch (e) {
        const err = e as Error & { code?: string; cause?: { code?: string } };
        const code = err.code ?? err.cause?.code;
        if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || err.name === 'TimeoutError')
          throw new ImportError([
            `${endpoint}: cannot reach the endpoint (${code ?? err.name}); start one with \`palisade start\` or give --state`,
          ]);
        throw new ImportError([`${endpoint}: ${err.name}: ${err.message}`]);
      }
    }
    const result = audit(snapshot, config, { onProgress: second });
    progress.end();

    let report: string;
    if (format === 'json') report = JSON.stringify(jsonReport(result, failOn, !!v['show-suppressed']), null, 2) + '\n';
    else if (format === 'sarif')
      report = JSON.stringify(toSarif(result, { toolVersion: toolVersion(), sources: snapshot.sources }), null, 2) + '\n';
    else report = tableReport(result, snapshot, failOn, !!v['show-suppressed']);
    if (v.output) await writeFile(v.output, report);
    else process.stdout.write(report);
    return failOn && atOrAbove(result.findings, failOn).length ? 2 : 0;
  } catch (e) {
    progress.end();
    if (e instanceof UsageError) {
      process.stderr.write(`palisade audit: ${e.message}\n${AUDIT_USAGE}`);
      return 1;
    }
    if (e instanceof ImportError || e instanceof ConfigError) {
      const lines = e.message.split('\n');
      process.stderr.write(
        `palisade audit: ${lines.length > 1 ? `the input has problems:\n${lines.map((l) => `  ${l}`).join('\n')}` : lines[0]}\n`,
      );
      return 1;
    }
    process.stderr.write(`palisade audit: ${(e as Error).message}\n`);
    return 1;
  }
}

function jsonReport(r: AuditResult, failOn: Severity | undefined, showSuppressed: boolean): object {
  const strip = ({
    checkId,
    severity,
    resourceId,
    resourceType,
    resourceName,
    ruleIds,
    title,
    detail,
    fix,
    controls,
  }: AuditResult['findings'][number]) => ({
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
  return {
    findings: r.findings.map(strip),
    ...(showSuppressed ? { suppressed: r.suppressed.map((f) => ({ ...strip(f), suppressedBy: f.suppressedBy })) } : {}),
    summary: { ...r.summary, ...(failOn ? { failOn, failed: atOrAbove(r.findings, failOn).length > 0 } : {}) },
  };
}

function tableReport(r: AuditResult, s: AuditSnapshot, failOn: Severity | undefined, showSuppressed: boolean): string {
  const lines: string[] = [`Palisade audit: ${describeSnapshot(s)}`, ''];
  const pad = Math.max(...r.findings.map((f) => f.checkId.length), 10);
  const row = (f: AuditResult['findings'][number], extra?: string) => {
    lines.push(
      `${f.severity.toUpperCase().padEnd(13)} ${f.checkId.padEnd(pad)}  ${f.resourceName && f.resourceName !== f.resourceId ? `${f.resourceId} (${f.resourceName})` : f.resourceId}`,
    );
    const indent = ' '.repeat(14);
    lines.push(`${indent}${f.title}`);
    lines.push(`${indent}${f.detail}`);
    if (f.ruleIds.length || f.controls.length)
      lines.push(
        `${indent}${f.ruleIds.length ? `evidence: ${f.ruleIds.join(', ')}` : ''}${f.ruleIds.length && f.controls.length ? '   ' : ''}${f.controls.length ? `controls: ${f.controls.join(', ')}` : ''}`,
      );
    lines.push(`${indent}fix: ${f.fix}`);
    if (extra) lines.push(`${indent}${extra}`);
    lines.push('');
  };
  if (!r.findings.length) lines.push('No findings.', '');
  for (const f of r.findings) row(f);
  if (showSuppressed && r.suppressed.length) {
    lines.push('Suppressed:', '');
    for (const f of r.suppressed) row(f, `suppressed by ${f.suppressedBy}`);
  }
  for (const n of r.summary.notes) lines.push(`note: ${n}`);
  const sev = [...SEVERITIES]
    .reverse()
    .map((x) => `${r.summary.bySeverity[x]} ${x}`)
    .join(', ');
  lines.push(
    `${r.summary.total} finding(s): ${sev}${r.summary.suppressed ? ` (${r.summary.suppressed} suppressed)` : ''} — ${r.summary.durationMs} ms`,
  );
  if (failOn)
    lines.push(atOrAbove(r.findings, failOn).length ? `FAIL: findings at or above ${failOn}` : `PASS: no finding at or above ${failOn}`);
  return lines.join('\n') + '\n';
}
