// Findings as SARIF 2.1.0, in the form GitHub code scanning accepts: one run whose tool.driver
// ("Palisade") lists every check as a rule (id, shortDescription, help, security-severity), and
// one result per finding with ruleId, level, message and a location — a logical location naming
// the resource, and a physical one at the export (or state) file it was read from.
import { crypto } from '../core/lazy.ts';
import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AuditResult } from './audit.ts';
import { checkById } from './findings/index.ts';
import type { SourceRef } from './findings/estate.ts';
import type { Finding, Severity } from './findings/types.ts';

const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
const SARIF_VERSION = '2.1.0';

/** GitHub reads properties["security-severity"]: ≥ 9 critical, ≥ 7 high, ≥ 4 medium, > 0 low. */
const SECURITY_SEVERITY: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', informational: '0.0' };
const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  informational: 'note',
};

interface SarifOptions {
  toolVersion?: string;
  /** where each resource was read from (AuditSnapshot.sources) */
  sources?: Record<string, SourceRef>;
  /** base for relative artifact URIs (default: the working directory, the repository root in CI) */
  cwd?: string;
}

function fingerprint(f: Finding): string {
  return crypto().createHash('sha256').update(`${f.checkId}\u0000${f.resourceId}`).digest('hex').slice(0, 32);
}

function artifactUri(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  if (rel && !rel.startsWith('..') && !isAbsolute(rel)) return rel.split(sep).join('/');
  return pathToFileURL(file).href;
}

export function toSarif(result: AuditResult, opts: SarifOptions = {}): object {
  const cwd = opts.cwd ?? process.cwd();
  const ids = result.summary.checks.length ? result.summary.checks : [...checkById.keys()];
  const rules = ids.map((id) => {
    const c = checkById.get(id)!;
    return {
      id: c.id,
      name: c.id.replace(/(^|-)([a-z0-9])/g, (_m, _d, ch: string) => ch.toUpperCase()),
      shortDescription: { text: c.title },
      fullDescription: { text: c.help },
      help: { text: c.help, markdown: `**${c.title}**\n\n${c.help}${c.controls.length ? `\n\nControls: ${c.controls.join(', ')}` : ''}` },
      defaultConfiguration: { level: LEVEL[c.severity] },
      properties: {
        'security-severity': SECURITY_SEVERITY[c.severity],
        precision: 'high',
        'problem.severity': LEVEL[c.severity] === 'note' ? 'recommendation' : LEVEL[c.severity],
        tags: ['security', ...c.controls],
      },
    };
  });
  const index = new Map(ids.map((id, i) => [id, i]));
  const results = result.findings.map((f) => {
    const src = opts.sources?.[f.resourceId];
    return {
      ruleId: f.checkId,
      ruleIndex: index.get(f.checkId) ?? -1,
      level: LEVEL[f.severity],
      message: { text: `${f.title}. ${f.detail} Fix: ${f.fix}` },
      locations: [
        {
          physicalLocation: src
            ? { artifactLocation: { uri: artifactUri(src.file, cwd) }, ...(src.line ? { region: { startLine: src.line } } : {}) }
            : // live estates have no file; GitHub still needs one location with an artifact
              { artifactLocation: { uri: `estate/${f.resourceType}/${f.resourceId}` } },
          logicalLocations: [{ name: f.resourceId, fullyQualifiedName: `${f.resourceType}/${f.resourceId}`, kind: 'resource' }],
        },
      ],
      partialFingerprints: { 'palisadeFinding/v1': fingerprint(f) },
      properties: {
        severity: f.severity,
        resourceType: f.resourceType,
        ...(f.resourceName ? { resourceName: f.resourceName } : {}),
        evidence: f.ruleIds,
        controls: f.controls,
        fix: f.fix,
      },
    };
  });
  return {
    $schema: SARIF_SCHEMA,
    version: SARIF_VERSION,
    runs: [
      {
        tool: {
          driver: {
            name: 'Palisade',
            ...(opts.toolVersion ? { version: opts.toolVersion, semanticVersion: opts.toolVersion } : {}),
            rules,
          },
        },
        results,
        columnKind: 'utf16CodeUnits',
        invocations: [{ executionSuccessful: true }],
      },
    ],
  };
}
