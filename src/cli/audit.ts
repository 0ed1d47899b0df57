// `palisade audit [--endpoint URL | --state PATH] [--format table|json|sarif] [--fail-on SEVERITY] [--config F]`
// (flags and help: commands.ts). Exit codes: 0; 1 when a finding at or above --fail-on exists; 2
// on usage or input errors; 3 when the server cannot be reached.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { audit, atOrAbove, auditJson, type AuditResult } from '../analysis/audit.ts';
import { ConfigError, loadConfig } from '../analysis/config.ts';
import { ImportError, loadSnapshot } from '../analysis/import.ts';
import { toSarif } from '../analysis/sarif.ts';
import { defaultConfig, SEVERITIES, type Severity } from '../analysis/findings/types.ts';
import type { AuditSnapshot } from '../analysis/findings/estate.ts';
import { Progress, describeSnapshot } from './import.ts';
import { EXIT, InputError, UnreachableError, UsageError } from './errors.ts';

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

export interface AuditOptions {
  endpoint?: string;
  state?: string;
  format: 'table' | 'json' | 'sarif';
  output?: string;
  failOn?: string;
  config?: string;
  region?: string;
  showSuppressed: boolean;
}

/**
 * Exit codes (as every subcommand's): 0 no finding at or above --fail-on, 1 there is one, and —
 * thrown for cli.ts — 2 a usage or input error (bad flag value, export, config), 3 the server
 * could not be reached.
 */
export async function runAudit(v: AuditOptions): Promise<number> {
  const progress = new Progress('auditing');
  try {
    if (!['table', 'json', 'sarif'].includes(v.format)) throw new UsageError(`--format must be table, json or sarif, not '${v.format}'`);
    const failOn = v.failOn as Severity | undefined;
    if (failOn !== undefined && !SEVERITIES.includes(failOn))
      throw new UsageError(`--fail-on must be one of ${SEVERITIES.join(', ')}, not '${failOn}'`);
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
        if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ECONNRESET' || err.name === 'TimeoutError')
          throw new UnreachableError(endpoint, code ?? err.name, { cause: e });
        throw new InputError(`${endpoint}: ${err.name}: ${err.message}`);
      }
    }
    const result = audit(snapshot, config, { onProgress: second });
    progress.end();

    let report: string;
    if (v.format === 'json') report = JSON.stringify(auditJson(result, { failOn, showSuppressed: v.showSuppressed }), null, 2) + '\n';
    else if (v.format === 'sarif')
      report = JSON.stringify(toSarif(result, { toolVersion: toolVersion(), sources: snapshot.sources }), null, 2) + '\n';
    else report = tableReport(result, snapshot, failOn, v.showSuppressed);
    if (v.output) await writeFile(v.output, report);
    else process.stdout.write(report);
    return failOn && atOrAbove(result.findings, failOn).length ? EXIT.negative : EXIT.ok;
  } catch (e) {
    progress.end();
    if (e instanceof ImportError || e instanceof ConfigError) {
      const lines = e.message.split('\n');
      throw new InputError(lines.length > 1 ? `the input has problems:\n${lines.map((l) => `  ${l}`).join('\n')}` : lines[0]!);
    }
    throw e;
  }
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
