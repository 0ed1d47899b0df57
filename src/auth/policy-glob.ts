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
  | { t: 'lit'; s: string }
  | { t: 'star'; cross: boolean }
  | { t: 'one'; cross: boolean }
  | { t: 'var'; key: string; dflt?: string };

export interface TemplateOptions {
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
  for (let i = 0; i < text.length; ) {
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
    if (o.wildcards && c === '*') out.push({ t: 'star', cross: !o.arn });
    else if (o.wildcards && c === '?') out.push({ t: 'one', cross: !o.arn });
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
export const hasWildcards = (tokens: GlobToken[]) => tokens.some((t) => t.t === 'star' || t.t === 'one');

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
  return new RegExp(`^${src}$`, caseInsensitive ? 'si' : 's');
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

const enum U { Char, Star, One }
/**
 * Matches resolved tokens against text without a RegExp: dynamic programming over the pattern,
 * O(pattern × text). Case-sensitive (the variable-bearing elements all are).
 */
export function globMatch(tokens: GlobToken[], text: string): boolean {
  const kinds: U[] = [];
  const chars: string[] = [];
  const cross: boolean[] = [];
  for (const t of tokens) {
    if (t.t === 'lit') for (const ch of t.s) { kinds.push(U.Char); chars.push(ch); cross.push(false); }
    else if (t.t === 'star') { kinds.push(U.Star); chars.push(''); cross.push(t.cross); }
    else if (t.t === 'one') { kinds.push(U.One); chars.push(''); cross.push(t.cross); }
    else return false; // unresolved variable
  }
  const text_ = Array.from(text);
  const n = text_.length;
  // cur[j]: pattern prefix matches text prefix of length j
  let cur = new Array<boolean>(n + 1).fill(false);
  cur[0] = true;
  for (let p = 0; p < kinds.length; p++) {
    const next = new Array<boolean>(n + 1).fill(false);
    const k = kinds[p]!;
    if (k === U.Star) {
      for (let j = 0; j <= n; j++) {
        next[j] = cur[j]! || (j > 0 && next[j - 1]! && (cross[p]! || text_[j - 1] !== ':'));
      }
    } else {
      for (let j = 1; j <= n; j++) {
        if (!cur[j - 1]) continue;
        const ch = text_[j - 1]!;
        next[j] = k === U.Char ? ch === chars[p] : cross[p]! || ch !== ':';
      }
    }
    cur = next;
  }
  return cur[n]!;
}
