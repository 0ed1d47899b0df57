// Wildcard and policy-variable templates for the IAM policy engine (policy.ts).
//
// A template is tokenised once, when a policy is parsed. One without variables becomes a RegExp
// there and then; one with variables is resolved per request into plain units and matched by a
// small dynamic-programming matcher, so evaluation never builds a RegExp.
//
// Wildcards (IAM User Guide, "IAM JSON policy elements: Resource"): `*` is any run of characters
// and `?` any one. In ARN mode they stay inside a colon-delimited segment, except that "if the *
// wildcard is the last character of a resource ARN segment, it can expand to match beyond the
// colon boundaries".
// Variables (IAM User Guide, "IAM policy elements: Variables and tags"): `${key}` or
// `${key, 'default'}`, key names case-insensitive; `${*}`, `${?}` and `${$}` stand for the
// literal characters. A multivalued key, or one with no value and no default, does not resolve.

export type GlobToken =
  { t: 'lit'; s: string } | { t: 'star'; cross: boolean } | { t: 'one'; cross: boolean } | { t: 'var'; key: string; dflt?: string };

interface TemplateOptions {
  /** `*` and `?` are wildcards (Like operators, Resource, Action) */
  wildcards: boolean;
  /** `${…}` are policy variables (Version 2012-10-17 and an element that supports them) */
  variables: boolean;
  /** ARN segment rules for the wildcards */
  arn: boolean;
}

export function tokenize(text: string, o: TemplateOptions): GlobToken[] {
  const out: GlobToken[] = [];
  const lit = (s: string) => {
    const last = out[out.length - 1];
    if (last?.t === 'lit') last.s += s;
    else out.push({ t: 'lit', s });
  };
  for (let i = 0; i < text.length;) {
    const c = text[i]!;
    if (o.variables && c === '$' && text[i + 1] === '{') {
      const end = text.indexOf('}', i + 2);
      if (end < 0) {
        lit(text.slice(i));
        break;
      }
      const inner = text.slice(i + 2, end);
      if (inner === '*' || inner === '?' || inner === '$') lit(inner);
      else {
        const m = /^\s*([^,]+?)\s*(?:,\s*'([^']*)'\s*)?$/.exec(inner);
        if (m) out.push({ t: 'var', key: m[1]!.toLowerCase(), ...(m[2] !== undefined ? { dflt: m[2] } : {}) });
        else out.push({ t: 'var', key: inner.toLowerCase() }); // malformed: never resolves
      }
      i = end + 1;
      continue;
    }
    if (o.wildcards && c === '*') {
      if (out[out.length - 1]?.t !== 'star') out.push({ t: 'star', cross: !o.arn }); // ** is *
    } else if (o.wildcards && c === '?') out.push({ t: 'one', cross: !o.arn });
    else lit(c);
    i++;
  }
  if (o.arn) {
    // a `*` ending a segment (followed by ':' or the end) may cross colons
    out.forEach((tok, k) => {
      if (tok.t !== 'star') return;
      const next = out[k + 1];
      tok.cross = next === undefined || (next.t === 'lit' && next.s.startsWith(':'));
    });
  }
  return out;
}

export const hasVariables = (tokens: GlobToken[]) => tokens.some((t) => t.t === 'var');

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The RegExp of a template without variables (compile time only). */
export function toRegExp(tokens: GlobToken[], caseInsensitive: boolean): RegExp {
  let src = '';
  for (const t of tokens) {
    if (t.t === 'lit') src += escapeRe(t.s);
    else if (t.t === 'star') src += t.cross ? '.*' : '[^:]*';
    else if (t.t === 'one') src += t.cross ? '.' : '[^:]';
    else throw new Error('toRegExp: template has variables');
  }
  return new RegExp(`^${src}$`, caseInsensitive ? 'siu' : 'su');
}

/** The literal text of a template without wildcards (variables already resolved or absent). */
export function literalOf(tokens: GlobToken[]): string {
  return tokens.map((t) => (t.t === 'lit' ? t.s : t.t === 'star' ? '*' : t.t === 'one' ? '?' : '')).join('');
}

/** Looks a variable up: its single string value, or undefined. */
export type VarLookup = (lowerKey: string) => string | undefined;

/** Resolves the variables of a template: literal tokens in their place, or undefined if one has no value. */
export function resolve(tokens: GlobToken[], lookup: VarLookup): GlobToken[] | undefined {
  const out: GlobToken[] = [];
  for (const t of tokens) {
    if (t.t !== 'var') {
      out.push(t);
      continue;
    }
    const v = lookup(t.key) ?? t.dflt;
    if (v === undefined) return undefined;
    out.push({ t: 'lit', s: v });
  }
  return out;
}

/** Resolves a template without wildcards to its string, or undefined. */
export function resolveString(tokens: GlobToken[], lookup: VarLookup): string | undefined {
  let s = '';
  for (const t of tokens) {
    if (t.t === 'lit') s += t.s;
    else if (t.t === 'var') {
      const v = lookup(t.key) ?? t.dflt;
      if (v === undefined) return undefined;
      s += v;
    } else s += t.t === 'star' ? '*' : '?';
  }
  return s;
}

const enum U {
  Char,
  Star,
  One,
}
/** A template flattened to one unit per character, for the matcher. */
interface Units {
  kinds: U[];
  chars: string[];
  cross: boolean[];
}

/** Units of tokens without variables (undefined if one remains). */
function toUnits(tokens: GlobToken[], lowerCase = false): Units | undefined {
  const u: Units = { kinds: [], chars: [], cross: [] };
  for (const t of tokens) {
    if (t.t === 'lit') {
      for (const ch of lowerCase ? t.s.toLowerCase() : t.s) {
        u.kinds.push(U.Char);
        u.chars.push(ch);
        u.cross.push(false);
      }
    } else if (t.t === 'star') {
      u.kinds.push(U.Star);
      u.chars.push('');
      u.cross.push(t.cross);
    } else if (t.t === 'one') {
      u.kinds.push(U.One);
      u.chars.push('');
      u.cross.push(t.cross);
    } else return undefined;
  }
  return u;
}

/**
 * Matches units against text without a RegExp: dynamic programming over the pattern,
 * O(pattern × text) whatever the wildcards (a RegExp of many `.*` backtracks polynomially).
 */
function unitsMatch(u: Units, text: string): boolean {
  const chars = Array.from(text);
  const n = chars.length;
  let cur = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  cur[0] = 1;
  for (let p = 0; p < u.kinds.length; p++) {
    const k = u.kinds[p]!;
    const cross = u.cross[p]!;
    next.fill(0);
    if (k === U.Star) {
      for (let j = 0; j <= n; j++) {
        next[j] = cur[j] || (j > 0 && next[j - 1] && (cross || chars[j - 1] !== ':')) ? 1 : 0;
      }
    } else {
      const want = u.chars[p]!;
      for (let j = 1; j <= n; j++) {
        if (!cur[j - 1]) continue;
        const ch = chars[j - 1]!;
        next[j] = (k === U.Char ? ch === want : cross || ch !== ':') ? 1 : 0;
      }
    }
    [cur, next] = [next, cur];
  }
  return cur[n] === 1;
}

/** Matches tokens (variables already resolved) against text. */
export function globMatch(tokens: GlobToken[], text: string): boolean {
  const u = toUnits(tokens);
  return !!u && unitsMatch(u, text);
}

/** A compiled wildcard template: a RegExp when that is safe and static, else units for the matcher. */
export interface Template {
  re?: RegExp;
  units?: Units;
  tokens?: GlobToken[];
  ci: boolean;
}

/** Most `*` a RegExp gets; more would risk polynomial backtracking on long ARNs. */
const MAX_REGEXP_STARS = 2;

export function compileTemplate(text: string, o: TemplateOptions & { caseInsensitive?: boolean }): Template {
  const tokens = tokenize(text, o);
  const ci = !!o.caseInsensitive;
  if (hasVariables(tokens))
    return { tokens: ci ? tokens.map((t) => (t.t === 'lit' ? { t: 'lit', s: t.s.toLowerCase() } : t)) : tokens, ci };
  if (tokens.filter((t) => t.t === 'star').length <= MAX_REGEXP_STARS) return { re: toRegExp(tokens, ci), ci };
  return { units: toUnits(tokens, ci)!, ci };
}

/** Tests text against a template; a variable with no value matches nothing. No RegExp is built here. */
export function matchTemplate(t: Template, text: string, vars: VarLookup): boolean {
  if (t.re) return t.re.test(text);
  const subject = t.ci ? text.toLowerCase() : text;
  if (t.units) return unitsMatch(t.units, subject);
  const r = resolve(t.tokens!, vars);
  const u = r && toUnits(r);
  return !!u && unitsMatch(u, subject);
}
