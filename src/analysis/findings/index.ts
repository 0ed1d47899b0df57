// Every check Palisade's audit runs, family by family (one module each).
import type { CheckDef } from './types.ts';
import { exposureChecks } from './exposure.ts';
import { groupChecks } from './groups.ts';
import { conventionChecks } from './conventions.ts';
import { redundancyChecks } from './redundancy.ts';
import { instanceChecks } from './instances.ts';
import { iamChecks } from './iam.ts';
import { networkChecks } from './network.ts';

export const CHECKS: CheckDef[] = [
  ...exposureChecks,
  ...instanceChecks,
  ...networkChecks,
  ...iamChecks,
  ...groupChecks,
  ...redundancyChecks,
  ...conventionChecks,
];

export const checkById = new Map(CHECKS.map((c) => [c.id, c]));

export * from './types.ts';
export { Estate, type AuditSnapshot, type AuditRule, type SourceRef, type ExportKind, EXPORT_KINDS } from './estate.ts';
