// Condition operators of the IAM policy engine (policy.ts), compiled once per parsed policy.
//
// IAM User Guide, "IAM JSON policy elements: Condition operators":
//  - a key absent from the request context makes the condition false, except that a negated
//    operator (StringNotEquals, ArnNotLike, NotIpAddress, …) is then true, `…IfExists` is then
//    true, and `Null` tests for exactly that;
// "Conditions with multiple context keys or values":
//  - several operators, and several keys under one operator, are AND-ed; several values of one
//    key are OR-ed, and NOR-ed for a negated operator;
// "Set operators for multivalued context keys":
//  - ForAllValues: every request value matches some policy value; true when the key is absent
//    or empty. ForAnyValue: some request value matches some policy value; false when absent;
// "IAM policy elements: Variables and tags", "Policy variables with no value":
//  - a value whose variable has no value matches nothing, so StringEquals/StringLike do not
//    match and StringNotEquals/StringNotLike do.
import { addressToBigInt, containsAddress, parseCidr, type Cidr, type Family } from '../core/cidr.ts';
import {
  compileTemplate,
  hasVariables,
  literalOf,
  matchTemplate,
  resolveString,
  tokenize,
  type GlobToken,
  type Template,
  type VarLookup,
} from './policy-glob.ts';

export type ContextValue = string | string[] | number | boolean | Date | undefined;

type Kind = 'string' | 'stringCI' | 'like' | 'numeric' | 'date' | 'bool' | 'binary' | 'ip' | 'arn' | 'null';
type Cmp = 'eq' | 'lt' | 'le' | 'gt' | 'ge';
interface OpDef {
  kind: Kind;
  cmp: Cmp;
  negated: boolean;
}

const op = (kind: Kind, negated = false, cmp: Cmp = 'eq'): OpDef => ({ kind, cmp, negated });
const ORDERED = (kind: Kind, prefix: string): Record<string, OpDef> => ({
  [`${prefix}Equals`]: op(kind),
  [`${prefix}NotEquals`]: op(kind, true),
  [`${prefix}LessThan`]: op(kind, false, 'lt'),
  [`${prefix}LessThanEquals`]: op(kind, false, 'le'),
  [`${prefix}GreaterThan`]: op(kind, false, 'gt'),
  [`${prefix}GreaterThanEquals`]: op(kind, false, 'ge'),
});

/** Every operator the IAM User Guide documents ("Condition operators"), by exact (case-sensitive) name. */
const OPERATORS: Readonly<Record<string, OpDef>> = {
  StringEquals: op('string'),
  StringNotEquals: op('string', true),
  StringEqualsIgnoreCase: op('stringCI'),
  StringNotEqualsIgnoreCase: op('stringCI', true),
  StringLike: op('like'),
  StringNotLike: op('like', true),
  ...ORDERED('numeric', 'Numeric'),
  ...ORDERED('date', 'Date'),
  Bool: op('bool'),
  BinaryEquals: op('binary'),
  IpAddress: op('ip'),
  NotIpAddress: op('ip', true),
  ArnEquals: op('arn'),
  ArnLike: op('arn'),
  ArnNotEquals: op('arn', true),
  ArnNotLike: op('arn', true),
  Null: op('null'),
};

/** Policy variables are supported by the string, ARN and Boolean operators (not numeric, date, binary, IP). */
const VARIABLE_KINDS = new Set<Kind>(['string', 'stringCI', 'like', 'arn', 'bool']);

type Value =
  | { tokens: GlobToken[]; text?: string } // string, stringCI, bool
  | { template: Template } // like, arn
  | { num: number } // numeric, date (ms)
  | { cidr?: Cidr } // ip
  | { b64: string } // binary
  | { isNull?: boolean }; // null

export interface CompiledCondition {
  /** the operator as written, for messages */
  operator: string;
  def: OpDef;
  set?: 'any' | 'all';
  ifExists: boolean;
  /** lower-cased context key */
  key: string;
  values: Value[];
}

export class ConditionError extends Error {}

/** Splits `ForAnyValue:StringLikeIfExists` into its parts; undefined for an unknown operator. */
function parseOperator(name: string): { def: OpDef; base: string; set?: 'any' | 'all'; ifExists: boolean } | undefined {
  let base = name;
  let set: 'any' | 'all' | undefined;
  if (base.startsWith('ForAnyValue:')) {
    set = 'any';
    base = base.slice('ForAnyValue:'.length);
  } else if (base.startsWith('ForAllValues:')) {
    set = 'all';
    base = base.slice('ForAllValues:'.length);
  }
  let ifExists = false;
  if (base.endsWith('IfExists')) {
    ifExists = true;
    base = base.slice(0, -'IfExists'.length);
  }
  const def = OPERATORS[base];
  if (!def) return undefined;
  if (def.kind === 'null' && (set || ifExists)) return undefined; // "…IfExists: any operator but Null"
  return { def, base, set, ifExists };
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
function parseNumber(s: string): number {
  const t = s.trim();
  return NUMBER.test(t) ? Number(t) : NaN;
}

const ISO = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$/;
const EPOCH = /^[+-]?\d+(?:\.\d+)?$/;
/**
 * A date as epoch milliseconds: "one of the W3C implementations of the ISO 8601 date formats or
 * in epoch (UNIX) time" (seconds). A date-time without a zone is read as UTC, so evaluation never
 * depends on the host's time zone. All-digit text is epoch seconds.
 */
function parseDate(s: string): number {
  const t = s.trim();
  if (EPOCH.test(t)) return Math.round(Number(t) * 1000);
  const m = ISO.exec(t);
  if (!m) return NaN;
  const [y, mo = '1', d = '1', h = '0', mi = '0', sec = '0', frac = '', zone] = m.slice(1);
  const nums = [Number(mo), Number(d), Number(h), Number(mi), Number(sec)];
  if (nums[0]! < 1 || nums[0]! > 12 || nums[1]! < 1 || nums[1]! > 31 || nums[2]! > 24 || nums[3]! > 59 || nums[4]! > 60) return NaN;
  let ms = Date.UTC(Number(y), nums[0]! - 1, nums[1]!, nums[2]!, nums[3]!, nums[4]!, Math.round(Number(`0.${frac || '0'}`) * 1000));
  if (zone && zone !== 'Z' && zone !== 'z') {
    const zm = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    const off = (Number(zm[2]) * 60 + Number(zm[3] ?? 0)) * 60_000;
    ms += zm[1] === '+' ? -off : off;
  }
  return ms;
}

/** `IpAddress` values: CIDR, or an address alone meaning /32 (IPv4) or /128 (IPv6). */
function parseIpValue(s: string): Cidr | undefined {
  const t = s.trim();
  if (t.includes('/')) return parseCidr(t);
  const a = addressToBigInt(t);
  return a && { family: a.family, base: a.value, prefix: a.family === 4 ? 32 : 128 };
}

const normB64 = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'base64').toString('base64');

export function compileCondition(operator: string, key: string, raw: string[], variables: boolean): CompiledCondition {
  const parsed = parseOperator(operator);
  if (!parsed) throw new ConditionError(`Invalid Condition type : ${operator}`);
  const { def, set, ifExists } = parsed;
  const vars = variables && VARIABLE_KINDS.has(def.kind);
  const values = raw.map((text): Value => {
    switch (def.kind) {
      case 'string':
      case 'stringCI':
      case 'bool': {
        const tokens = tokenize(text, { wildcards: false, variables: vars, arn: false });
        if (hasVariables(tokens)) return { tokens };
        const lit = literalOf(tokens);
        return { tokens, text: def.kind === 'string' ? lit : lit.toLowerCase() };
      }
      case 'like':
      case 'arn': {
        return { template: compileTemplate(text, { wildcards: true, variables: vars, arn: def.kind === 'arn' }) };
      }
      case 'numeric':
        return { num: parseNumber(text) };
      case 'date':
        return { num: parseDate(text) };
      case 'ip':
        return { cidr: parseIpValue(text) };
      case 'binary':
        return { b64: normB64(text) };
      case 'null': {
        const l = text.trim().toLowerCase();
        return { isNull: l === 'true' ? true : l === 'false' ? false : undefined };
      }
    }
  });
  return { operator, def, set, ifExists, key: key.toLowerCase(), values };
}

// ---- request side ----

const asString = (v: Exclude<ContextValue, undefined | string[]>): string => (v instanceof Date ? v.toISOString() : String(v));

/** The values of a context entry: none when absent or an empty list. */
export function valuesOf(v: ContextValue): Exclude<ContextValue, undefined | string[]>[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v.filter((x) => x !== undefined && x !== null) : [v];
}

function numberOf(v: Exclude<ContextValue, undefined | string[]>): number {
  return typeof v === 'number' ? v : typeof v === 'string' ? parseNumber(v) : NaN;
}
function dateOf(v: Exclude<ContextValue, undefined | string[]>): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return Math.round(v * 1000);
  return typeof v === 'string' ? parseDate(v) : NaN;
}
function addressOf(v: Exclude<ContextValue, undefined | string[]>): { family: Family; value: bigint } | undefined {
  if (typeof v !== 'string') return undefined;
  const a = addressToBigInt(v.trim());
  // an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is also tested as its IPv4 address
  if (a && a.family === 6 && a.value >> 32n === 0xffffn) return { family: 4, value: a.value & 0xffffffffn };
  return a;
}

const order = (c: Cmp, h: number, w: number) =>
  c === 'eq' ? h === w : c === 'lt' ? h < w : c === 'le' ? h <= w : c === 'gt' ? h > w : h >= w;

/** One request value against one policy value: the positive (un-negated) comparison. */
function compare(c: CompiledCondition, have: Exclude<ContextValue, undefined | string[]>, want: Value, vars: VarLookup): boolean {
  const { kind, cmp } = c.def;
  switch (kind) {
    case 'string':
    case 'stringCI':
    case 'bool': {
      const w = want as { tokens: GlobToken[]; text?: string };
      let text = w.text;
      if (text === undefined) {
        const r = resolveString(w.tokens, vars);
        if (r === undefined) return false; // a variable with no value matches nothing
        text = kind === 'string' ? r : r.toLowerCase();
      }
      const h = asString(have);
      return (kind === 'string' ? h : h.toLowerCase()) === text;
    }
    case 'like':
    case 'arn': {
      return matchTemplate((want as { template: Template }).template, asString(have), vars);
    }
    case 'numeric': {
      const h = numberOf(have);
      const w = (want as { num: number }).num;
      return !Number.isNaN(h) && !Number.isNaN(w) && order(cmp, h, w);
    }
    case 'date': {
      const h = dateOf(have);
      const w = (want as { num: number }).num;
      return !Number.isNaN(h) && !Number.isNaN(w) && order(cmp, h, w);
    }
    case 'ip': {
      const cidr = (want as { cidr?: Cidr }).cidr;
      const a = addressOf(have);
      return !!cidr && !!a && containsAddress(cidr, a.family, a.value);
    }
    case 'binary':
      return typeof have === 'string' && normB64(have) === (want as { b64: string }).b64;
    case 'null':
      return false; // handled by the caller
  }
}

/** Does one condition (operator × key) hold? `get` reads a context key by its lower-cased name. */
export function conditionHolds(c: CompiledCondition, get: (lowerKey: string) => ContextValue, vars: VarLookup): boolean {
  const have = valuesOf(get(c.key));
  if (c.def.kind === 'null') {
    const absent = have.length === 0;
    return c.values.some((v) => (v as { isNull?: boolean }).isNull === absent);
  }
  if (have.length === 0) {
    if (c.ifExists) return true;
    if (c.set === 'all') return true;
    if (c.set === 'any') return false;
    return c.def.negated;
  }
  const matchesSome = (h: (typeof have)[number]) => c.values.some((w) => compare(c, h, w, vars));
  const test = (h: (typeof have)[number]) => (c.def.negated ? !matchesSome(h) : matchesSome(h));
  if (c.set === 'all') return have.every(test);
  if (c.set === 'any') return have.some(test);
  // no set operator: a negated operator must match none of the values (NOR), a positive one any
  return c.def.negated ? !have.some(matchesSome) : have.some(matchesSome);
}
