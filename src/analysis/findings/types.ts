// What every family of checks shares: the finding, the check's description (which SARIF turns
// into a rule), and the audit's configuration as the checks read it.
import type { Estate } from './estate.ts';

export const SEVERITIES = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

export type ResourceType =
  'security-group' | 'instance' | 'network-interface' | 'vpc' | 'subnet' | 'iam-role' | 'network-acl' | 'route-table';

export interface Finding {
  checkId: string;
  severity: Severity;
  resourceId: string;
  resourceType: ResourceType;
  /** the resource's name (GroupName, Name tag, RoleName), when it has one */
  resourceName?: string;
  /** evidence: sgr- ids (or stable `sg-…/i0` ids), or `policy#Statement[n]` for IAM */
  ruleIds: string[];
  title: string;
  detail: string;
  fix: string;
  /** AWS Security Hub and CIS AWS Foundations Benchmark control ids */
  controls: string[];
}

export interface CheckDef {
  id: string;
  severity: Severity;
  /** one line: what the check looks for */
  title: string;
  /** why it matters and how to fix it (SARIF rule help) */
  help: string;
  /** every control a finding of this check may cite */
  controls: string[];
  run(estate: Estate, config: AuditConfig): Finding[];
}

interface NamingConfig {
  /**
   * The environments a security group's name (or Name tag) must name, as alternatives
   * (default DEFAULT_ENVIRONMENTS; '' turns the rule off) — unless it carries `environmentTag`.
   */
  environments?: string;
  /** the tag that says a group's environment instead of its name (default Environment) */
  environmentTag?: string;
  /** a regular expression every security group name must match (the default group excepted) */
  groupName?: string;
  /** a regular expression the Name tag of the other covered resources must match */
  nameTag?: string;
  /** tag key → regular expression of allowed values ('' or '*': any value, but the tag must exist) */
  requiredTags?: Record<string, string>;
  /** which resources the convention covers (default: security-group, instance, vpc) */
  appliesTo?: ResourceType[];
}

interface SuppressRule {
  checkId?: string;
  resourceId?: string;
  reason?: string;
}

export interface AuditConfig {
  suppress: SuppressRule[];
  naming?: NamingConfig;
  /** tcp/udp ranges wider than this many ports are reported (default 1000) */
  wideRangeThreshold: number;
  /** a direction/family of a group at or above this share of the 60-rule quota is reported (default 0.8) */
  quotaThreshold: number;
  /** check ids not to run */
  disable: string[];
}

/** What a group's name must say by default: its environment (the security-group guidance's "names that say purpose and environment"). */
export const DEFAULT_ENVIRONMENTS = 'prod|production|stg|staging|dev|test|qa';

export const defaultConfig = (): AuditConfig => ({ suppress: [], wideRangeThreshold: 1000, quotaThreshold: 0.8, disable: [] });
