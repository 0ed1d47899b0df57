// IAM policy evaluation, pure: no I/O and no clock (time arrives as aws:CurrentTime / aws:EpochTime
// in the request context). Follows the IAM User Guide:
//  - "Policy evaluation logic": an explicit deny overrides any allow; an allow overrides the
//    implicit deny that every request starts with;
//  - "IAM JSON policy elements": Action/NotAction (case-insensitive, wildcards), Resource/
//    NotResource (case-sensitive ARN globbing), Principal/NotPrincipal, Condition;
//  - "IAM policy elements: Variables and tags" (recognised only under Version 2012-10-17).
//
// parsePolicy validates and normalises a document and compiles its matchers once (wildcards to
// RegExp); evaluate/evaluateTrust only run them. Condition operators live in policy-conditions.ts,
// wildcard/variable templates in policy-glob.ts.
import {
  compileCondition,
  conditionHolds,
  ConditionError,
  valuesOf,
  type CompiledCondition,
  type ContextValue,
} from './policy-conditions.ts';
import { compileTemplate, matchTemplate, type Template, type VarLookup } from './policy-glob.ts';

export type { ContextValue } from './policy-conditions.ts';

type PrincipalBlock = Partial<Record<'AWS' | 'Service' | 'Federated' | 'CanonicalUser', string[]>>;
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string[];
  NotAction?: string[];
  Resource?: string[];
  NotResource?: string[];
  Principal?: PrincipalBlock | '*';
  NotPrincipal?: PrincipalBlock | '*';
  Condition?: Record<string, Record<string, string[]>>;
}
export interface ParsedPolicy {
  id?: string;
  statements: PolicyStatement[];
  /**
   * The document's Version. parsePolicy sets it ('2008-10-17' when the document has none, as AWS
   * defaults); a hand-built policy without it is treated as '2012-10-17'. Under '2008-10-17'
   * `${…}` is literal text, not a variable.
   */
  version?: '2008-10-17' | '2012-10-17';
}
export class PolicyParseError extends Error {
  override name = 'PolicyParseError';
}
export interface RequestContext {
  /** e.g. 'ec2:AuthorizeSecurityGroupIngress' (matched case-insensitively) */
  action: string;
  /** the resource ARN, or '*' */
  resource: string;
  /** for trust/resource policies: who is calling */
  principal?: { aws?: string[]; service?: string; federated?: string; account?: string };
  /** condition keys, names matched case-insensitively */
  context: Record<string, ContextValue>;
}
export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';
interface Evaluation {
  decision: Decision;
  allowedBy: { policyId?: string; sid?: string }[];
  deniedBy: { policyId?: string; sid?: string }[];
}

// ---------------------------------------------------------------- parsing

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

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** A string or a list of strings ("if an element takes an array but only one value is included, the brackets are optional"). */
function stringList(v: unknown, what: string, scalars = false, nulls = false): string[] {
  // IAM stores `null` inside a Resource list and ignores it (moto's AWS-checked valid policies)
  if (nulls && Array.isArray(v)) v = v.filter((x) => x !== null);
  const one = (x: unknown): string => {
    if (typeof x === 'string') return x;
    // "Quotation marks are optional for numeric and Boolean values" (condition values)
    if (scalars && (typeof x === 'number' || typeof x === 'boolean')) return String(x);
    throw new PolicyParseError(`Syntax errors in policy: ${what} must be a string or a list of strings.`);
  };
  return Array.isArray(v) ? v.map(one) : [one(v)];
}

function principalBlock(v: unknown, what: string): PrincipalBlock | '*' {
  if (v === '*') return '*';
  if (!isObject(v)) throw new PolicyParseError(`Invalid principal in policy: ${what}`);
  const out: PrincipalBlock = {};
  for (const [k, val] of Object.entries(v)) {
    if (!PRINCIPAL_KEYS.has(k)) throw new PolicyParseError(`Invalid principal in policy: "${k}"`);
    const list = stringList(val, `${what}.${k}`);
    if (!list.length) throw new PolicyParseError(`Invalid principal in policy: empty ${k}`);
    out[k as keyof PrincipalBlock] = list;
  }
  return out;
}

function parseStatement(s: unknown, index: number): PolicyStatement {
  if (!isObject(s)) throw new PolicyParseError('Syntax errors in policy: a statement must be an object.');
  for (const k of Object.keys(s))
    if (!STATEMENT_KEYS.has(k)) throw new PolicyParseError(`Syntax errors in policy: unknown element "${k}".`);
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new PolicyParseError(`Invalid effect: ${String(s.Effect)}`);
  const pair = (a: string, b: string, required: string | undefined) => {
    if (s[a] !== undefined && s[b] !== undefined)
      throw new PolicyParseError(`Syntax errors in policy: ${a} and ${b} cannot both be used in one statement.`);
    if (required && s[a] === undefined && s[b] === undefined) throw new PolicyParseError(required);
  };
  pair('Action', 'NotAction', 'Policy statement must contain actions.');
  pair('Resource', 'NotResource', undefined); // trust policies have neither
  pair('Principal', 'NotPrincipal', undefined);
  const list = (k: string, emptyMessage: string, nulls = false) => {
    if (s[k] === undefined) return undefined;
    const l = stringList(s[k], k, false, nulls);
    if (!l.length) throw new PolicyParseError(emptyMessage);
    return l;
  };
  const actions = (k: string) => {
    const l = list(k, 'Policy statement must contain actions.');
    for (const a of l ?? []) {
      // only the vendor is checked: IAM stores `iam: asdf safdsf af ` (an action no request names)
      if (a !== '*' && !/^[^:\s]+:/.test(a))
        throw new PolicyParseError(`Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc. (${a})`);
    }
    return l;
  };
  let condition: PolicyStatement['Condition'];
  if (s.Condition !== undefined) {
    if (!isObject(s.Condition)) throw new PolicyParseError('Syntax errors in policy: Condition must be an object.');
    condition = {};
    for (const [opName, block] of Object.entries(s.Condition)) {
      if (!isObject(block)) throw new PolicyParseError(`Syntax errors in policy: Condition ${opName} must be an object.`);
      // an operator with nothing under it tests nothing (IAM stores {"AnyName": {}})
      if (Object.keys(block).length === 0) continue;
      condition[opName] = Object.fromEntries(Object.entries(block).map(([k, v]) => [k, stringList(v, `Condition ${opName} ${k}`, true)]));
    }
  }
  const sid = s.Sid;
  if (sid !== undefined && typeof sid !== 'string' && typeof sid !== 'number')
    throw new PolicyParseError('Syntax errors in policy: Sid must be a string.');
  const st: PolicyStatement = { Effect: s.Effect };
  if (sid !== undefined) st.Sid = String(sid);
  const action = actions('Action');
  if (action) st.Action = action;
  const notAction = actions('NotAction');
  if (notAction) st.NotAction = notAction;
  const resource = list('Resource', 'Policy statement must contain resources.', true);
  if (resource) st.Resource = resource;
  const notResource = list('NotResource', 'Policy statement must contain resources.', true);
  if (notResource) st.NotResource = notResource;
  if (s.Principal !== undefined) st.Principal = principalBlock(s.Principal, `Statement[${index}].Principal`);
  if (s.NotPrincipal !== undefined) st.NotPrincipal = principalBlock(s.NotPrincipal, `Statement[${index}].NotPrincipal`);
  if (condition) st.Condition = condition;
  return st;
}

/**
 * Parses and validates a policy document (JSON text or an already-parsed object), normalising
 * single strings to lists, and compiles its matchers. Throws PolicyParseError on anything AWS
 * would refuse as a malformed document (unknown elements or operators, a bad Effect, an action
 * without a service prefix, Action with NotAction, …).
 */
export function parsePolicy(json: string | object, id?: string): ParsedPolicy {
  let doc: unknown = json;
  if (typeof json === 'string') {
    try {
      doc = JSON.parse(json.replace(/^\uFEFF/, ''));
    } catch {
      throw new PolicyParseError('Syntax errors in policy.');
    }
  }
  if (!isObject(doc)) throw new PolicyParseError('Syntax errors in policy.');
  for (const k of Object.keys(doc)) if (!TOP_KEYS.has(k)) throw new PolicyParseError(`Syntax errors in policy: unknown element "${k}".`);
  const version = doc.Version ?? '2008-10-17';
  if (version !== '2008-10-17' && version !== '2012-10-17') throw new PolicyParseError('The policy must contain a valid version string');
  if (doc.Statement === undefined) throw new PolicyParseError('Missing required field Statement');
  const raw = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (!raw.length) throw new PolicyParseError('Could not parse the policy: Statement is empty!');
  const policy: ParsedPolicy = { id, statements: raw.map(parseStatement), version };
  if (id === undefined) delete policy.id;
  compiled(policy); // compile now: refuses unknown operators, and evaluation only runs matchers
  return policy;
}

// ---------------------------------------------------------------- compilation

interface CompiledPrincipal {
  any: boolean; // "*"
  anyAws: boolean; // {"AWS": "*"}
  accounts: Set<string>;
  arns: Set<string>;
  services: Set<string>;
  federated: Set<string>;
}
interface CompiledStatement {
  sid?: string;
  deny: boolean;
  action?: Template[];
  notAction?: Template[];
  resource?: Template[];
  notResource?: Template[];
  principal?: CompiledPrincipal;
  notPrincipal?: CompiledPrincipal;
  conditions: CompiledCondition[];
}
interface CompiledPolicy {
  source: PolicyStatement[];
  count: number;
  statements: CompiledStatement[];
}

const policyCache = new WeakMap<ParsedPolicy, CompiledPolicy>();
const principalCache = new WeakMap<PrincipalBlock, CompiledPrincipal>();

const ACCOUNT = /^\d{12}$/;
const ROOT_ARN = /^arn:[^:]+:iam::(\d{12}):root$/;

function compilePrincipal(block: PrincipalBlock | '*'): CompiledPrincipal {
  const out: CompiledPrincipal = {
    any: block === '*',
    anyAws: false,
    accounts: new Set(),
    arns: new Set(),
    services: new Set(),
    federated: new Set(),
  };
  if (block === '*') return out;
  const cached = principalCache.get(block);
  if (cached) return cached;
  for (const a of block.AWS ?? []) {
    if (a === '*') out.anyAws = true;
    else if (ACCOUNT.test(a)) out.accounts.add(a);
    else {
      const root = ROOT_ARN.exec(a);
      if (root) out.accounts.add(root[1]!);
      else out.arns.add(a);
    }
  }
  for (const s of block.Service ?? []) out.services.add(s.toLowerCase());
  for (const f of block.Federated ?? []) out.federated.add(f);
  principalCache.set(block, out);
  return out;
}

function compileStatement(s: PolicyStatement, variables: boolean): CompiledStatement {
  const actions = (l: string[] | undefined) =>
    l?.map((a) => compileTemplate(a, { wildcards: true, variables: false, arn: false, caseInsensitive: true }));
  const resources = (l: string[] | undefined) => l?.map((r) => compileTemplate(r, { wildcards: true, variables, arn: true }));
  const conditions: CompiledCondition[] = [];
  for (const [opName, block] of Object.entries(s.Condition ?? {})) {
    for (const [key, values] of Object.entries(block)) conditions.push(compileCondition(opName, key, values, variables));
  }
  return {
    sid: s.Sid,
    deny: s.Effect === 'Deny',
    action: actions(s.Action),
    notAction: actions(s.NotAction),
    resource: resources(s.Resource),
    notResource: resources(s.NotResource),
    principal: s.Principal === undefined ? undefined : compilePrincipal(s.Principal),
    notPrincipal: s.NotPrincipal === undefined ? undefined : compilePrincipal(s.NotPrincipal),
    conditions,
  };
}

/**
 * The compiled form of a policy, built on first use (parsePolicy does it at once) and kept while
 * its statement list is the same array of the same length: treat statements as immutable.
 */
function compiled(p: ParsedPolicy): CompiledPolicy {
  const c = policyCache.get(p);
  if (c && c.source === p.statements && c.count === p.statements.length) return c;
  const variables = (p.version ?? '2012-10-17') === '2012-10-17';
  let statements: CompiledStatement[];
  try {
    statements = p.statements.map((s) => compileStatement(s, variables));
  } catch (e) {
    throw e instanceof ConditionError ? new PolicyParseError(e.message) : e;
  }
  const fresh = { source: p.statements, count: p.statements.length, statements };
  policyCache.set(p, fresh);
  return fresh;
}

// ---------------------------------------------------------------- evaluation

/** The request's context keys by lower-cased name, built once per evaluation and only if needed. */
class Lookup {
  private map?: Map<string, ContextValue>;
  constructor(private readonly req: RequestContext) {}
  get = (lowerKey: string): ContextValue => {
    if (!this.map) {
      this.map = new Map();
      for (const [k, v] of Object.entries(this.req.context ?? {})) this.map.set(k.toLowerCase(), v);
    }
    return this.map.get(lowerKey);
  };
  /** a policy variable: a single-valued key's value ("multivalued keys can't be variables") */
  variable: VarLookup = (lowerKey) => {
    const v = this.get(lowerKey);
    if (v === undefined || v === null || Array.isArray(v)) return undefined;
    const [one] = valuesOf(v);
    return one === undefined ? undefined : one instanceof Date ? one.toISOString() : String(one);
  };
}

// "the resource that includes a policy variable with no value will not match any resource"
function anyMatches(templates: Template[], text: string, vars: VarLookup): boolean {
  for (const t of templates) if (matchTemplate(t, text, vars)) return true;
  return false;
}

function accountsOf(p: NonNullable<RequestContext['principal']>): string[] {
  const out = new Set<string>();
  if (p.account) out.add(p.account);
  for (const arn of p.aws ?? []) {
    const acct = arn.split(':')[4];
    if (acct && ACCOUNT.test(acct)) out.add(acct);
  }
  return [...out];
}

const isAnonymous = (p: RequestContext['principal']) => !p || (!p.aws?.length && !p.account && !p.service && !p.federated);

/** Principal: does any identity of the caller match the block? */
function principalMatches(c: CompiledPrincipal, p: RequestContext['principal']): boolean {
  if (c.any) return true;
  if (isAnonymous(p)) return c.anyAws; // {"AWS": "*"} and "*" are the same for anonymous callers
  const q = p!;
  if (c.anyAws && (q.aws?.length || q.account)) return true;
  for (const a of q.aws ?? []) if (c.arns.has(a)) return true;
  if (c.accounts.size) for (const a of accountsOf(q)) if (c.accounts.has(a)) return true;
  if (q.service && c.services.has(q.service.toLowerCase())) return true;
  if (q.federated && c.federated.has(q.federated)) return true;
  return false;
}

/**
 * NotPrincipal: is the caller exempt, i.e. is every identity AWS checks for it (its account, and
 * each of its ARNs: user, or role and role session) named in the block? IAM User Guide,
 * "AWS JSON policy elements: NotPrincipal": with Deny "you must also specify the account ARN of
 * the not-denied principal", and for an assumed role the role's and the account's ARN as well.
 */
function notPrincipalExempts(c: CompiledPrincipal, p: RequestContext['principal']): boolean {
  if (c.any || c.anyAws) return true;
  if (isAnonymous(p)) return false;
  const q = p!;
  for (const a of q.aws ?? []) if (!c.arns.has(a)) return false;
  for (const a of accountsOf(q)) if (!c.accounts.has(a)) return false;
  if (q.service && !c.services.has(q.service.toLowerCase())) return false;
  if (q.federated && !c.federated.has(q.federated)) return false;
  return true;
}

/**
 * Does a Principal block name the caller? "*" is everyone; {"AWS": "*"} every AWS identity and
 * anonymous callers; an account ID or `arn:…:iam::ACCOUNT:root` any principal of that account;
 * other AWS values are exact ARNs (no wildcards: "you cannot use a wildcard to match part of a
 * principal name or ARN"), so a role ARN names that role's sessions only when the caller passes
 * the role ARN too; Service and Federated compare the caller's service principal and provider.
 */
export function matchesPrincipal(block: PrincipalBlock | '*', req: RequestContext['principal']): boolean {
  return principalMatches(compilePrincipal(block), req);
}

function statementApplies(s: CompiledStatement, req: RequestContext, look: Lookup, trust: boolean): boolean {
  if (s.action) {
    if (!anyMatches(s.action, req.action, look.variable)) return false;
  } else if (s.notAction) {
    if (anyMatches(s.notAction, req.action, look.variable)) return false;
  } else return false; // a statement must name actions
  if (s.resource && !anyMatches(s.resource, req.resource, look.variable)) return false;
  if (s.notResource && anyMatches(s.notResource, req.resource, look.variable)) return false;
  if (trust) {
    if (s.principal) {
      if (!principalMatches(s.principal, req.principal)) return false;
    } else if (s.notPrincipal) {
      if (notPrincipalExempts(s.notPrincipal, req.principal)) return false;
    } else return false; // a resource policy statement applies to the principals it names
  }
  for (const c of s.conditions) if (!conditionHolds(c, look.get, look.variable)) return false;
  return true;
}

function run(policies: ParsedPolicy[], req: RequestContext, trust: boolean): Evaluation {
  const allowedBy: Evaluation['allowedBy'] = [];
  const deniedBy: Evaluation['deniedBy'] = [];
  const look = new Lookup(req);
  for (const p of policies) {
    for (const s of compiled(p).statements) {
      if (!statementApplies(s, req, look, trust)) continue;
      const who: { policyId?: string; sid?: string } = {};
      if (p.id !== undefined) who.policyId = p.id;
      if (s.sid !== undefined) who.sid = s.sid;
      (s.deny ? deniedBy : allowedBy).push(who);
    }
  }
  const decision: Decision = deniedBy.length ? 'ExplicitDeny' : allowedBy.length ? 'Allow' : 'ImplicitDeny';
  return { decision, allowedBy, deniedBy };
}

/**
 * Identity-based evaluation over a set of policies (IAM User Guide, "Policy evaluation logic"):
 * any applicable Deny gives ExplicitDeny; otherwise any applicable Allow gives Allow; otherwise
 * ImplicitDeny. Principal/NotPrincipal elements are not consulted.
 */
export function evaluate(policies: ParsedPolicy[], req: RequestContext): Evaluation {
  return run(policies, req, false);
}

/**
 * A resource-based (e.g. role trust) policy: as evaluate, but a statement applies only to the
 * principals its Principal names (or NotPrincipal does not exempt); one with neither never applies.
 */
export function evaluateTrust(policy: ParsedPolicy, req: RequestContext): Evaluation {
  return run([policy], req, true);
}
