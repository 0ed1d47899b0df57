// IAM policy evaluation (IAM User Guide, "Policy evaluation logic"): explicit deny beats allow,
// allow beats the implicit deny. Pure: the request context carries everything, time included.
import { parseCidr, addressToBigInt } from '../net/cidr.ts';

export type PrincipalBlock = Partial<Record<'AWS' | 'Service' | 'Federated' | 'CanonicalUser', string[]>>;
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
export interface ParsedPolicy { id?: string; statements: PolicyStatement[] }
export class PolicyParseError extends Error {}
export type ContextValue = string | string[] | number | boolean | Date | undefined;
export interface RequestContext {
  action: string;
  resource: string;
  principal?: { aws?: string[]; service?: string; federated?: string; account?: string };
  context: Record<string, ContextValue>;
}
export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';
export interface Evaluation { decision: Decision; allowedBy: { policyId?: string; sid?: string }[]; deniedBy: { policyId?: string; sid?: string }[] }

const arr = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

export function parsePolicy(json: string | object, id?: string): ParsedPolicy {
  let doc: unknown = json;
  if (typeof json === 'string') {
    try {
      doc = JSON.parse(json);
    } catch {
      throw new PolicyParseError('Syntax errors in policy.');
    }
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new PolicyParseError('Syntax errors in policy.');
  const raw = (doc as { Statement?: unknown }).Statement;
  if (raw === undefined) throw new PolicyParseError('Missing required field Statement');
  const list = Array.isArray(raw) ? raw : [raw];
  const statements = list.map((s): PolicyStatement => {
    if (!s || typeof s !== 'object') throw new PolicyParseError('Syntax errors in policy.');
    const st = s as Record<string, unknown>;
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny') throw new PolicyParseError('Invalid effect');
    const principal = (p: unknown): PrincipalBlock | '*' | undefined => {
      if (p === undefined) return undefined;
      if (p === '*') return '*';
      if (!p || typeof p !== 'object') throw new PolicyParseError('Invalid principal in policy');
      const out: PrincipalBlock = {};
      for (const [k, v] of Object.entries(p as Record<string, unknown>)) out[k as keyof PrincipalBlock] = arr(v);
      return out;
    };
    const cond = st.Condition as Record<string, Record<string, unknown>> | undefined;
    return {
      Sid: st.Sid === undefined ? undefined : String(st.Sid),
      Effect: st.Effect,
      Action: st.Action === undefined ? undefined : arr(st.Action),
      NotAction: st.NotAction === undefined ? undefined : arr(st.NotAction),
      Resource: st.Resource === undefined ? undefined : arr(st.Resource),
      NotResource: st.NotResource === undefined ? undefined : arr(st.NotResource),
      Principal: principal(st.Principal),
      NotPrincipal: principal(st.NotPrincipal),
      Condition: cond && Object.fromEntries(Object.entries(cond).map(([op, block]) => [op, Object.fromEntries(Object.entries(block ?? {}).map(([k, v]) => [k, arr(v)]))])),
    };
  });
  return { id, statements };
}

const globCache = new Map<string, RegExp>();
function glob(pattern: string, caseInsensitive: boolean): RegExp {
  const key = `${caseInsensitive ? 'i' : 's'}${pattern}`;
  let re = globCache.get(key);
  if (!re) {
    re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, caseInsensitive ? 'is' : 's');
    if (globCache.size > 50_000) globCache.clear();
    globCache.set(key, re);
  }
  return re;
}

function ctxValue(req: RequestContext, key: string): ContextValue {
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(req.context)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** Replaces ${aws:username}-style variables; undefined when a variable has no value. */
function substitute(text: string, req: RequestContext): string | undefined {
  let missing = false;
  const out = text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
    if (name === '*' || name === '?' || name === '$') return name;
    const [key, dflt] = name.split(/,\s*/);
    const v = ctxValue(req, key!);
    if (v === undefined || Array.isArray(v)) {
      if (dflt !== undefined) return dflt.replace(/^'|'$/g, '');
      missing = true;
      return '';
    }
    return String(v);
  });
  return missing ? undefined : out;
}

const actionMatches = (patterns: string[], action: string) => patterns.some((p) => glob(p, true).test(action));
function resourceMatches(patterns: string[], resource: string, req: RequestContext): boolean {
  return patterns.some((p) => {
    if (p === '*') return true;
    const s = substitute(p, req);
    return s !== undefined && glob(s, false).test(resource);
  });
}

export function matchesPrincipal(block: PrincipalBlock | '*', p: RequestContext['principal']): boolean {
  if (block === '*') return true;
  if (!p) return false;
  for (const a of block.AWS ?? []) {
    if (a === '*') return true;
    const acct = /^\d{12}$/.test(a) ? a : /^arn:[^:]+:iam::(\d{12}):root$/.exec(a)?.[1];
    if (acct && p.account === acct) return true;
    if (p.aws?.includes(a)) return true;
  }
  if (p.service && (block.Service ?? []).includes(p.service)) return true;
  if (p.federated && (block.Federated ?? []).includes(p.federated)) return true;
  return false;
}

function toDate(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return v * 1000;
  const s = String(v);
  return /^\d+$/.test(s) ? Number(s) * 1000 : Date.parse(s);
}

function inCidr(cidr: string, addr: string): boolean {
  const c = parseCidr(cidr.includes('/') ? cidr : `${cidr}/${cidr.includes(':') ? 128 : 32}`);
  const a = addressToBigInt(addr);
  if (!c || !a || c.family !== a.family) return false;
  const size = 1n << BigInt((c.family === 4 ? 32 : 128) - c.prefix);
  return a.value >= c.base && a.value < c.base + size;
}

type Cmp = (have: string, want: string) => boolean;
const BASE: Record<string, { cmp: Cmp; negated?: boolean }> = {
  StringEquals: { cmp: (h, w) => h === w },
  StringNotEquals: { cmp: (h, w) => h === w, negated: true },
  StringEqualsIgnoreCase: { cmp: (h, w) => h.toLowerCase() === w.toLowerCase() },
  StringNotEqualsIgnoreCase: { cmp: (h, w) => h.toLowerCase() === w.toLowerCase(), negated: true },
  StringLike: { cmp: (h, w) => glob(w, false).test(h) },
  StringNotLike: { cmp: (h, w) => glob(w, false).test(h), negated: true },
  NumericEquals: { cmp: (h, w) => Number(h) === Number(w) },
  NumericNotEquals: { cmp: (h, w) => Number(h) === Number(w), negated: true },
  NumericLessThan: { cmp: (h, w) => Number(h) < Number(w) },
  NumericLessThanEquals: { cmp: (h, w) => Number(h) <= Number(w) },
  NumericGreaterThan: { cmp: (h, w) => Number(h) > Number(w) },
  NumericGreaterThanEquals: { cmp: (h, w) => Number(h) >= Number(w) },
  DateEquals: { cmp: (h, w) => toDate(h) === toDate(w) },
  DateNotEquals: { cmp: (h, w) => toDate(h) === toDate(w), negated: true },
  DateLessThan: { cmp: (h, w) => toDate(h) < toDate(w) },
  DateLessThanEquals: { cmp: (h, w) => toDate(h) <= toDate(w) },
  DateGreaterThan: { cmp: (h, w) => toDate(h) > toDate(w) },
  DateGreaterThanEquals: { cmp: (h, w) => toDate(h) >= toDate(w) },
  Bool: { cmp: (h, w) => h.toLowerCase() === w.toLowerCase() },
  BinaryEquals: { cmp: (h, w) => h === w },
  IpAddress: { cmp: (h, w) => inCidr(w, h) },
  NotIpAddress: { cmp: (h, w) => inCidr(w, h), negated: true },
  ArnEquals: { cmp: (h, w) => glob(w, false).test(h) },
  ArnLike: { cmp: (h, w) => glob(w, false).test(h) },
  ArnNotEquals: { cmp: (h, w) => glob(w, false).test(h), negated: true },
  ArnNotLike: { cmp: (h, w) => glob(w, false).test(h), negated: true },
};

function conditionHolds(op: string, key: string, wanted: string[], req: RequestContext): boolean {
  let name = op;
  let set: 'any' | 'all' | undefined;
  if (name.startsWith('ForAnyValue:')) { set = 'any'; name = name.slice(12); }
  else if (name.startsWith('ForAllValues:')) { set = 'all'; name = name.slice(13); }
  const ifExists = name.endsWith('IfExists');
  if (ifExists) name = name.slice(0, -8);
  const raw = ctxValue(req, key);
  const values = raw === undefined ? [] : (Array.isArray(raw) ? raw : [raw]).map((v) => (v instanceof Date ? v.toISOString() : String(v)));
  if (name === 'Null') {
    const isNull = values.length === 0;
    return wanted.some((w) => (w.toLowerCase() === 'true') === isNull);
  }
  const def = BASE[name];
  if (!def) return false;
  const subs = wanted.map((w) => substitute(w, req)).filter((w): w is string => w !== undefined);
  const positive = (h: string) => subs.some((w) => def.cmp(h, w));
  if (set === 'all') return values.every((h) => (def.negated ? !positive(h) : positive(h)));
  if (values.length === 0) return ifExists || (!!def.negated && set !== 'any');
  if (set === 'any') return values.some((h) => (def.negated ? !positive(h) : positive(h)));
  return def.negated ? !values.some(positive) : values.some(positive);
}

function statementApplies(s: PolicyStatement, req: RequestContext, checkPrincipal: boolean): boolean {
  if (s.Action && !actionMatches(s.Action, req.action)) return false;
  if (s.NotAction && actionMatches(s.NotAction, req.action)) return false;
  if (s.Resource && !resourceMatches(s.Resource, req.resource, req)) return false;
  if (s.NotResource && resourceMatches(s.NotResource, req.resource, req)) return false;
  if (checkPrincipal) {
    if (s.Principal && !matchesPrincipal(s.Principal, req.principal)) return false;
    if (s.NotPrincipal && matchesPrincipal(s.NotPrincipal, req.principal)) return false;
    if (!s.Principal && !s.NotPrincipal) return false;
  }
  for (const [op, block] of Object.entries(s.Condition ?? {})) {
    for (const [key, wanted] of Object.entries(block)) if (!conditionHolds(op, key, wanted, req)) return false;
  }
  return true;
}

function run(policies: ParsedPolicy[], req: RequestContext, checkPrincipal: boolean): Evaluation {
  const allowedBy: Evaluation['allowedBy'] = [];
  const deniedBy: Evaluation['deniedBy'] = [];
  for (const p of policies) {
    for (const s of p.statements) {
      if (!statementApplies(s, req, checkPrincipal)) continue;
      (s.Effect === 'Deny' ? deniedBy : allowedBy).push({ policyId: p.id, sid: s.Sid });
    }
  }
  return { decision: deniedBy.length ? 'ExplicitDeny' : allowedBy.length ? 'Allow' : 'ImplicitDeny', allowedBy, deniedBy };
}

export function evaluate(policies: ParsedPolicy[], req: RequestContext): Evaluation {
  return run(policies, req, false);
}

export function evaluateTrust(policy: ParsedPolicy, req: RequestContext): Evaluation {
  return run([policy], req, true);
}
