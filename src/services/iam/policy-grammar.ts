// The IAM JSON policy grammar as IAM enforces it when a policy is stored (identity policies:
// inline and managed; trust policies: a role's AssumeRolePolicyDocument), with IAM's
// MalformedPolicyDocument messages, the size quotas, and the URL-encoding IAM applies to
// documents in its responses.
//
// Order of checks follows IAM (and moto's port of it): syntax of the whole document first
// ("Syntax errors in policy."), then version, statement ids, actions, then the kind-specific
// elements (Principal / Resource), then action vendors. Finally the document must be one the
// evaluator (src/auth/policy.ts) can load, so `--auth enforce` and STS never meet a policy they
// cannot read.
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
const isStringOrStrings = (v: unknown) => typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
const asList = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : v === undefined ? [] : [v as string]);

const SYNTAX = 'Syntax errors in policy.';

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

function principalOk(p: unknown): boolean {
  if (p === '*') return true;
  if (!isObject(p) || Object.keys(p).length === 0) return false;
  return Object.entries(p).every(([k, v]) => PRINCIPAL_KEYS.has(k) && isStringOrStrings(v) && asList(v).length > 0);
}

function statementSyntaxOk(s: unknown): boolean {
  if (!isObject(s)) return false;
  for (const k of Object.keys(s)) if (!STATEMENT_KEYS.has(k)) return false;
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') return false;
  if (s.Action !== undefined && s.NotAction !== undefined) return false;
  if (s.Resource !== undefined && s.NotResource !== undefined) return false;
  if (s.Principal !== undefined && s.NotPrincipal !== undefined) return false;
  for (const k of ['Action', 'NotAction', 'Resource', 'NotResource'] as const) {
    if (s[k] !== undefined && !isStringOrStrings(s[k])) return false;
  }
  for (const k of ['Principal', 'NotPrincipal'] as const) if (s[k] !== undefined && !principalOk(s[k])) return false;
  if (s.Sid !== undefined && typeof s.Sid !== 'string') return false;
  if (s.Condition !== undefined) {
    if (!isObject(s.Condition)) return false;
    for (const block of Object.values(s.Condition)) {
      if (!isObject(block)) return false;
      for (const v of Object.values(block)) {
        const values = Array.isArray(v) ? v : [v];
        if (!values.every((x) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean')) return false;
      }
    }
  }
  return true;
}

function statementsOf(doc: Json): Json[] {
  return (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) as Json[];
}

function grammar(text: string, kind: PolicyKind, managed: boolean): void {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    throw malformedPolicy(SYNTAX);
  }
  if (!syntaxOk(doc)) throw malformedPolicy(SYNTAX);
  if (managed && doc.Version !== '2012-10-17') throw malformedPolicy('Policy document must be version 2012-10-17 or greater.');
  const statements = statementsOf(doc);
  const sids = new Set<string>();
  for (const s of statements) {
    if (typeof s.Sid === 'string' && s.Sid !== '') {
      if (sids.has(s.Sid)) throw malformedPolicy('Statement IDs (SID) in a single policy must be unique.');
      sids.add(s.Sid);
    }
  }
  for (const s of statements) {
    if (asList(s.Action ?? s.NotAction).length === 0) throw malformedPolicy('Policy statement must contain actions.');
  }
  for (const s of statements) {
    if (kind === 'identity') {
      if (s.Principal !== undefined || s.NotPrincipal !== undefined)
        throw malformedPolicy('Policy document should not specify a principal.');
      if (asList(s.Resource ?? s.NotResource).length === 0) throw malformedPolicy('Policy statement must contain resources.');
    } else {
      if (s.Resource !== undefined || s.NotResource !== undefined) throw malformedPolicy('Has prohibited field Resource');
      if (s.Principal === undefined && s.NotPrincipal === undefined) throw malformedPolicy('Missing required field Principal');
    }
  }
  for (const s of statements) {
    for (const a of asList(s.Action ?? s.NotAction)) {
      const parts = a.split(':');
      if (parts.length === 1 && a !== '*')
        throw malformedPolicy('Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.');
      if (parts.length > 2) throw malformedPolicy('Actions/Condition can contain only one colon.');
      if (a !== '*' && /[^a-zA-Z0-9\-.*?]/.test(parts[0]!)) throw malformedPolicy(`Vendor ${parts[0]} is not valid`);
      if (kind === 'trust' && s.Action !== undefined && a !== '*' && parts[0]!.toLowerCase() !== 'sts') {
        throw malformedPolicy('AssumeRole policy may only specify STS AssumeRole actions.');
      }
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
