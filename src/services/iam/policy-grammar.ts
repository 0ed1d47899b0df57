// The IAM JSON policy grammar as IAM enforces it when a policy is stored (identity policies:
// inline and managed; trust policies: a role's AssumeRolePolicyDocument), with IAM's
// MalformedPolicyDocument messages, the size quotas, and the URL-encoding IAM applies to
// documents in its responses.
//
// IAM reports the first problem in a fixed order (the messages and the order are those recorded
// from IAM in moto's tests/test_iam/test_iam_policies.py, whose validator was written against real
// AWS; this is an independent implementation of that behaviour):
//   1. JSON and the shape of every element: "Syntax errors in policy." (a trust policy that is not
//      JSON at all: "This policy contains invalid Json");
//   2. a managed policy without Version 2012-10-17: "Policy document must be version 2012-10-17 or
//      greater.";
//   3. the "legacy parser": Effect in exact case, the values of Date conditions, and resources that
//      are ARN-shaped but malformed (`arn:aws:s3::bucket`): "The policy failed legacy parsing";
//   4. duplicate Sids; 5. a statement without actions;
//   6. the resource formats (ARN form or "*", a known partition, no region in IAM/S3 ARNs, IAM
//      resource paths) — so a bad Resource is reported before a bad Action;
//   7. the action vendors (`iam: asdf safdsf af ` is accepted: only the vendor is checked);
//   8. the kind-specific elements (identity: resources, no principal; trust: no resource, a
//      principal, only the STS actions that assume a role).
// Finally the document must be one the evaluator (src/auth/iam-policy.ts) can load, so
// `--auth enforce` and STS never meet a policy they cannot read.
//
// Every check is a single pass over the document (or over each statement's list, sorted once):
// time is linear in the size of the document, up to the sort (test/aws-parity-iam.test.ts has the
// property tests).
import { parsePolicy } from '../../auth/iam-policy.ts';
import { limitExceeded, malformedPolicy } from './errors.ts';
import { Checks } from './validate.ts';

type PolicyKind = 'identity' | 'trust';

const TOP_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set([
  'Sid',
  'Effect',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Principal',
  'NotPrincipal',
  'Condition',
]);
const PRINCIPAL_KEYS = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);
const VERSIONS = new Set(['2012-10-17', '2008-10-17']);
/** The condition operators of the IAM User Guide ("IAM JSON policy elements: Condition operators"). */
const OPERATORS = new Set([
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'NumericEquals',
  'NumericNotEquals',
  'NumericLessThan',
  'NumericLessThanEquals',
  'NumericGreaterThan',
  'NumericGreaterThanEquals',
  'DateEquals',
  'DateNotEquals',
  'DateLessThan',
  'DateLessThanEquals',
  'DateGreaterThan',
  'DateGreaterThanEquals',
  'Bool',
  'BinaryEquals',
  'IpAddress',
  'NotIpAddress',
  'ArnEquals',
  'ArnLike',
  'ArnNotEquals',
  'ArnNotLike',
  'Null',
]);
/** The partitions a policy's resources may name (IAM User Guide, "IAM identifiers": ARN format). */
const PARTITIONS = new Set(['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-eusc']);
/** The resource types of IAM ARNs (IAM User Guide, "IAM identifiers"). */
const IAM_RESOURCE_TYPES = [
  'user/',
  'federated-user/',
  'role/',
  'group/',
  'instance-profile/',
  'mfa/',
  'server-certificate/',
  'policy/',
  'sms-mfa/',
  'saml-provider/',
  'oidc-provider/',
  'report/',
  'access-report/',
];
/** The STS actions a trust policy may allow (IAM User Guide, "Role trust policies"; sts:TagSession, sts:SetSourceIdentity, sts:SetContext). */
const TRUST_ACTIONS = [
  'sts:assumerole',
  'sts:assumerolewithsaml',
  'sts:assumerolewithwebidentity',
  'sts:tagsession',
  'sts:setsourceidentity',
  'sts:setcontext',
];

/** Quotas, counted in non-white-space characters as IAM counts them. */
const SIZE = {
  /** all inline policies of one role together */
  roleInline: 10_240,
  /** all inline policies of one user together */
  userInline: 2_048,
  /** one managed policy (each version) */
  managed: 6_144,
  /** a role's trust policy (default quota "ACLSizePerRole") */
  trust: 2_048,
} as const;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
const isScalar = (x: unknown) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean';
/** Action/Resource lists: a string, or a list of strings (IAM lets `null` through in a list). */
const isStringList = (v: unknown) => typeof v === 'string' || (Array.isArray(v) && v.every((x) => x === null || typeof x === 'string'));
const asList = (v: unknown): string[] =>
  Array.isArray(v) ? (v as unknown[]).filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];

const SYNTAX = 'Syntax errors in policy.';
const LEGACY = 'The policy failed legacy parsing';

/** Strips one ForAnyValue:/ForAllValues: prefix and one IfExists suffix. */
function baseOperator(op: string): string {
  let o = op;
  if (o.startsWith('ForAnyValue:')) o = o.slice('ForAnyValue:'.length);
  else if (o.startsWith('ForAllValues:')) o = o.slice('ForAllValues:'.length);
  if (o.endsWith('IfExists')) o = o.slice(0, -'IfExists'.length);
  return o;
}

function principalOk(p: unknown): boolean {
  if (p === '*') return true;
  if (!isObject(p) || Object.keys(p).length === 0) return false;
  return Object.entries(p).every(([k, v]) => PRINCIPAL_KEYS.has(k) && isStringList(v) && asList(v).length > 0);
}

function statementSyntaxOk(s: unknown): boolean {
  if (!isObject(s)) return false;
  for (const k of Object.keys(s)) if (!STATEMENT_KEYS.has(k)) return false;
  if (s.Action !== undefined && s.NotAction !== undefined) return false;
  if (s.Resource !== undefined && s.NotResource !== undefined) return false;
  if (s.Principal !== undefined && s.NotPrincipal !== undefined) return false;
  // case-insensitive here; the exact case is the legacy parser's (step 3)
  if (typeof s.Effect !== 'string' || !['allow', 'deny'].includes(s.Effect.toLowerCase())) return false;
  for (const k of ['Action', 'NotAction', 'Resource', 'NotResource'] as const) {
    if (s[k] !== undefined && !isStringList(s[k])) return false;
  }
  for (const k of ['Principal', 'NotPrincipal'] as const) if (s[k] !== undefined && !principalOk(s[k])) return false;
  if (s.Sid !== undefined && typeof s.Sid !== 'string') return false;
  if (s.Condition !== undefined) {
    if (!isObject(s.Condition)) return false;
    for (const [op, block] of Object.entries(s.Condition)) {
      if (!isObject(block)) return false;
      for (const v of Object.values(block)) {
        if (!(isScalar(v) || (Array.isArray(v) && v.every(isScalar)))) return false;
      }
      // an unknown operator is tolerated only with nothing under it
      if (!OPERATORS.has(baseOperator(op)) && Object.keys(block).length > 0) return false;
    }
  }
  return true;
}

function syntaxOk(doc: unknown): doc is Json {
  if (!isObject(doc)) return false;
  for (const k of Object.keys(doc)) if (!TOP_KEYS.has(k)) return false;
  if (doc.Version !== undefined && (typeof doc.Version !== 'string' || !VERSIONS.has(doc.Version))) return false;
  if (doc.Id !== undefined && typeof doc.Id !== 'string') return false;
  const st = doc.Statement;
  if (!isObject(st) && !(Array.isArray(st) && st.length > 0)) return false;
  for (const s of Array.isArray(st) ? st : [st]) if (!statementSyntaxOk(s)) return false;
  return true;
}

function statementsOf(doc: Json): Json[] {
  return (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) as Json[];
}

/** An integer in text, as the legacy parser reads one (optional sign, digits, white space around). */
const INTEGER = /^\s*[+-]?\d+\s*$/;
function intIn(text: string, min: bigint, max: bigint): boolean {
  if (!INTEGER.test(text)) return false;
  const n = BigInt(text.trim());
  return n >= min && n <= max;
}

/** The legacy parser's ISO 8601 check (lower-cased text): year, month, day, time, zone ranges. */
function isoDateOk(text: string): boolean {
  const t = text.indexOf('t');
  const datePart = t < 0 ? text : text.slice(0, t);
  const timePart = t < 0 ? '' : text.slice(t + 1);
  const negative = datePart.startsWith('-');
  const dateParts = (negative ? datePart.slice(1) : datePart).split('-');
  if (!intIn((negative ? '-' : '') + dateParts[0], -292275054n, 292278993n)) return false;
  if (dateParts.length > 1 && !intIn(dateParts[1]!, 1n, 12n)) return false;
  if (dateParts.length > 2 && !intIn(dateParts[2]!, 1n, 31n)) return false;
  if (dateParts.length > 3) return false;
  const time = timePart.split(':');
  if (time[0] !== '' && !intIn(time[0]!, 0n, 23n)) return false;
  if (time.length > 1 && !intIn(time[1]!, 0n, 59n)) return false;
  if (time.length > 2) {
    let seconds = time[2]!;
    const z = seconds.indexOf('z');
    const plus = seconds.indexOf('+');
    if (z >= 0) {
      if (seconds.slice(z + 1) !== '') return false;
      seconds = seconds.slice(0, z);
    } else if (plus >= 0) {
      const zone = seconds.slice(plus + 1);
      seconds = seconds.slice(0, plus);
      const c = zone.indexOf(':');
      const hours = c < 0 ? zone : zone.slice(0, c);
      if (hours.length !== 2 || !intIn(hours, 0n, 23n)) return false;
      if (c >= 0) {
        const minutes = zone.slice(c + 1);
        if (minutes.length !== 2 || !intIn(minutes, 0n, 59n)) return false;
      }
    }
    const dot = seconds.indexOf('.');
    if (!intIn(dot < 0 ? seconds : seconds.slice(0, dot), 0n, 59n)) return false;
    if (dot >= 0 && !intIn(seconds.slice(dot + 1), 0n, 999_999_999n)) return false;
  }
  return true;
}

/** A Date condition value: ISO 8601 (has `t` or `-`) or epoch seconds (0 … 2^63-1). */
function dateValueOk(v: unknown): boolean {
  if (typeof v !== 'string' && typeof v !== 'number') return false;
  const text = String(v);
  if (text.toLowerCase().includes('t') || text.includes('-')) return isoDateOk(text.toLowerCase());
  return intIn(text, 0n, 9_223_372_036_854_775_807n);
}

function legacyStatementOk(s: Json): boolean {
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') return false;
  for (const [op, block] of Object.entries((s.Condition ?? {}) as Record<string, Json>)) {
    if (!baseOperator(op).startsWith('Date')) continue;
    for (const v of Object.values(block)) {
      if (Array.isArray(v) ? !v.every(dateValueOk) : !dateValueOk(v)) return false;
    }
  }
  return true;
}

/** A resource the legacy parser can read: "*", no empty field before the resource, a vendor. */
function legacyResourceOk(r: string): boolean {
  if (r === '*') return true;
  if (!((r.match(/:/g)?.length ?? 0) >= 5 || !r.includes('::'))) return false;
  const vendor = r.split(':')[2];
  return vendor !== undefined && vendor !== '';
}

/** The problem with one Resource/NotResource entry, or undefined. */
function resourceProblem(r: string): string | undefined {
  if (r === '*') return undefined;
  const c1 = r.indexOf(':');
  if (c1 < 0) return `Resource ${r} must be in ARN format or "*".`;
  const afterArn = r.slice(c1 + 1);
  const c2 = afterArn.indexOf(':');
  const partition = c2 < 0 ? afterArn : afterArn.slice(0, c2);
  const rest = c2 < 0 ? '' : afterArn.slice(c2 + 1);
  if (partition !== '*' && !PARTITIONS.has(partition)) {
    // IAM shows the resource as a full ARN, "*" standing for the missing fields
    const f = rest.split(':');
    const f1 = f[0] !== '' || f.length > 1 ? f[0] : '*';
    const f2 = f.length > 1 ? f[1] : '*';
    const f3 = f.length > 2 ? f[2] : '*';
    const f4 = f.length > 3 ? f.slice(3).join(':') : '*';
    return `Partition "${partition}" is not valid for resource "arn:${partition}:${f1}:${f2}:${f3}:${f4}".`;
  }
  if (c2 < 0) return 'Resource vendor must be fully qualified and cannot contain regexes.';
  const c3 = rest.indexOf(':');
  const service = c3 < 0 ? rest : rest.slice(0, c3);
  const afterService = c3 < 0 ? '' : rest.slice(c3 + 1); // region:account:resource
  const c4 = afterService.indexOf(':');
  const afterRegion = c4 < 0 ? '' : afterService.slice(c4 + 1);
  const c5 = afterRegion.indexOf(':');
  const resource = c5 < 0 ? '' : afterRegion.slice(c5 + 1);
  const hasRegion = !afterService.startsWith(':');
  if (service === 'iam' && hasRegion) return `IAM resource ${r} cannot contain region information.`;
  // Buckets and objects have no region and no account (arn:aws:s3:::bucket/key); the S3 resources
  // that live in a region also name an account (access points, access grants, jobs…: AWS's own
  // SageMakerStudioProjectRoleMachineLearningPolicy has arn:aws:s3:*:*:access-grants/…).
  const account = c5 < 0 ? afterRegion : afterRegion.slice(0, c5);
  if (service === 's3' && hasRegion && account === '' && !resource.startsWith('accesspoint/'))
    return `Resource ${r} can not contain region information.`;
  // `root` too: the account root (AWS's own IAMAuditRootUserCredentials has arn:aws:iam::*:root)
  if (service === 'iam' && resource !== '*' && resource !== 'root' && !IAM_RESOURCE_TYPES.some((t) => resource.startsWith(t)))
    return `IAM resource path must either be "*" or start with ${IAM_RESOURCE_TYPES.join(', ')}.`;
  return undefined;
}

interface ResourceScan {
  /** the problem IAM reports for the resources (the last one found in its scan order) */
  problem?: string;
  legacyFailed: boolean;
}

/**
 * Resource, then NotResource, statement by statement, each list in descending order: the last
 * problem found is the one reported; while none is found, each list must also pass the legacy
 * parser.
 */
function scanResources(statements: Json[]): ResourceScan {
  const scan: ResourceScan = { legacyFailed: false };
  for (const key of ['Resource', 'NotResource'] as const) {
    for (const s of statements) {
      if (s[key] === undefined) continue;
      const list = asList(s[key]);
      const ordered = typeof s[key] === 'string' ? list : [...list].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
      for (const r of ordered) {
        const p = resourceProblem(r);
        if (p !== undefined) scan.problem = p;
      }
      if (scan.problem === undefined && !list.every(legacyResourceOk)) scan.legacyFailed = true;
    }
  }
  return scan;
}

function actionProblem(a: string): string | undefined {
  const parts = a.split(':');
  if (parts.length === 1 && a !== '*') return 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.';
  if (parts.length > 2) return 'Actions/Condition can contain only one colon.';
  if (parts[0] !== '*' && /[^a-zA-Z0-9\-.]/.test(parts[0]!)) return `Vendor ${parts[0]} is not valid`;
  return undefined;
}

/** Does an action pattern (wildcards * and ?) cover one of the STS actions that assume a role? */
function isTrustAction(a: string): boolean {
  if (a === '*') return true;
  const l = a.toLowerCase();
  if (!/[*?]/.test(l)) return TRUST_ACTIONS.includes(l);
  // a glob over short, fixed names: linear per name with the classic two-pointer match
  return TRUST_ACTIONS.some((name) => globMatch(l, name));
}

function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

function grammar(text: string, kind: PolicyKind, managed: boolean): void {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    throw malformedPolicy(kind === 'trust' ? 'This policy contains invalid Json' : SYNTAX);
  }
  if (!syntaxOk(doc)) throw malformedPolicy(SYNTAX);
  if (managed && doc.Version !== '2012-10-17') throw malformedPolicy('Policy document must be version 2012-10-17 or greater.');
  const statements = statementsOf(doc);
  if (!statements.every(legacyStatementOk)) throw malformedPolicy(LEGACY);
  const resources = scanResources(statements);
  if (resources.legacyFailed) throw malformedPolicy(LEGACY);
  const sids = new Set<string>();
  for (const s of statements) {
    if (typeof s.Sid === 'string' && s.Sid !== '') {
      if (sids.has(s.Sid)) throw malformedPolicy('Statement IDs (SID) in a single policy must be unique.');
      sids.add(s.Sid);
    }
  }
  for (const s of statements) {
    const actions = s.Action ?? s.NotAction;
    if (actions === undefined || (Array.isArray(actions) && actions.length === 0))
      throw malformedPolicy('Policy statement must contain actions.');
  }
  if (resources.problem !== undefined) throw malformedPolicy(resources.problem);
  for (const key of ['Action', 'NotAction'] as const) {
    for (const s of statements) {
      for (const a of asList(s[key])) {
        const p = actionProblem(a);
        if (p !== undefined) throw malformedPolicy(p);
      }
    }
  }
  for (const s of statements) {
    if (kind === 'identity') {
      if (s.Principal !== undefined || s.NotPrincipal !== undefined)
        throw malformedPolicy('Policy document should not specify a principal.');
      const r = s.Resource ?? s.NotResource;
      if (r === undefined || (Array.isArray(r) && r.length === 0)) throw malformedPolicy('Policy statement must contain resources.');
    } else {
      if (s.Resource !== undefined || s.NotResource !== undefined) throw malformedPolicy('Has prohibited field Resource');
      if (s.Principal === undefined && s.NotPrincipal === undefined) throw malformedPolicy('Missing required field Principal');
    }
  }
  if (kind === 'trust') {
    for (const s of statements) {
      if (!asList(s.Action).every(isTrustAction)) throw malformedPolicy('AssumeRole policy may only specify STS AssumeRole actions.');
    }
  }
  try {
    parsePolicy(text);
  } catch (e) {
    throw malformedPolicy((e as Error).message);
  }
}

/**
 * Validates an identity or trust policy document against the IAM policy grammar; throws
 * MalformedPolicyDocument (400) with IAM's message on the first violation.
 */
export function validatePolicyDocument(json: string, kind: PolicyKind): void {
  grammar(json, kind, false);
}

/**
 * The full check of a policy document member of a request: present, within the model's length
 * and character set (ValidationError), grammatical (MalformedPolicyDocument). Managed policies
 * must be Version 2012-10-17. Returns the text as given (IAM stores and returns it verbatim).
 */
export function checkPolicyDocument(text: string | undefined, kind: PolicyKind, field: string, opts: { managed?: boolean } = {}): string {
  const c = new Checks();
  if (c.required(text, field)) {
    c.length(text, field, 1, 131_072).pattern(
      text,
      field,
      /^[\u0009\u000A\u000D\u0020-\u00FF]+$/,
      '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+',
    );
  }
  c.done();
  grammar(text!, kind, opts.managed ?? false);
  return text!;
}

/** A document's size as IAM counts it against the quotas: white space does not count. */
function policySize(text: string): number {
  return text.replace(/\s+/g, '').length;
}

export function checkManagedSize(text: string): void {
  if (policySize(text) > SIZE.managed) throw limitExceeded(`Cannot exceed quota for PolicySize: ${SIZE.managed}`);
}

export function checkTrustSize(text: string): void {
  if (policySize(text) > SIZE.trust) throw limitExceeded(`Cannot exceed quota for ACLSizePerRole: ${SIZE.trust}`);
}

/** All inline policies of an identity together (after the change) against its quota. */
export function checkInlineSize(policies: Record<string, string>, owner: { type: 'role' | 'user'; name: string }): void {
  const quota = owner.type === 'role' ? SIZE.roleInline : SIZE.userInline;
  const total = Object.values(policies).reduce((n, t) => n + policySize(t), 0);
  if (total > quota) throw limitExceeded(`Maximum policy size of ${quota} bytes exceeded for ${owner.type} ${owner.name}`);
}

/**
 * A policy document as IAM puts it in a response: URL-encoded (RFC 3986, e.g. `{` → `%7B`,
 * `*` → `%2A`, space → `%20`). botocore (so boto3 and the AWS CLI) decodes it with unquote +
 * json.loads; the JS SDK v3 hands the encoded string over as received.
 */
export function encodePolicyDocument(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
