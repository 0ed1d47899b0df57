// CloudWatch Logs filter patterns for FilterLogEvents, as flow-log users write them:
//   ""                                   every event
//   ERROR Exception                      events with all the terms (case-sensitive, whole terms)
//   ?ERROR ?WARN                         events with any of the terms
//   ERROR -Exiting                       with ERROR, without Exiting
//   "INTERNAL SERVER ERROR"              an exact phrase
//   %REJECT|NODATA%                      a regular expression
//   [version, account, eni, source, destination, srcport, destport="22", protocol=6, packets>10, ..., action=REJECT, status]
//                                        space-delimited fields: names bind the event's fields in order,
//                                        `...` stands for any number of them, conditions (= != < <= > >=,
//                                        `*` wildcards in strings, && and ||) must all hold.
// JSON patterns (`{ $.x = … }`) are not supported.
import { compileWildcard, type WildcardMatcher } from '../../core/wildcard.ts';

export class FilterPatternError extends Error {}

export type Matcher = (message: string) => boolean;

const isWordChar = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_]/.test(c);

/** Whether `term` occurs in `text` as a whole term (not inside a longer word). */
export function containsTerm(text: string, term: string): boolean {
  if (term === '') return true;
  let i = text.indexOf(term);
  while (i >= 0) {
    const before = text[i - 1];
    const after = text[i + term.length];
    const startOk = !isWordChar(term[0]) || !isWordChar(before);
    const endOk = !isWordChar(term[term.length - 1]) || !isWordChar(after);
    if (startOk && endOk) return true;
    i = text.indexOf(term, i + 1);
  }
  return false;
}

function tokenizeTerms(pattern: string): { op: '' | '?' | '-'; term: string }[] {
  const out: { op: '' | '?' | '-'; term: string }[] = [];
  let i = 0;
  while (i < pattern.length) {
    while (i < pattern.length && /\s/.test(pattern[i]!)) i++;
    if (i >= pattern.length) break;
    let op: '' | '?' | '-' = '';
    if (pattern[i] === '?' || pattern[i] === '-') {
      op = pattern[i] as '?' | '-';
      i++;
    }
    let term = '';
    if (pattern[i] === '"') {
      i++;
      while (i < pattern.length && pattern[i] !== '"') {
        if (pattern[i] === '\\' && i + 1 < pattern.length) i++;
        term += pattern[i++];
      }
      if (pattern[i] !== '"') throw new FilterPatternError('Invalid filter pattern: unterminated quoted term');
      i++;
    } else {
      while (i < pattern.length && !/\s/.test(pattern[i]!)) term += pattern[i++];
    }
    if (term === '' && op === '') continue;
    out.push({ op, term });
  }
  return out;
}

function termMatcher(pattern: string): Matcher {
  const terms = tokenizeTerms(pattern);
  const all = terms.filter((t) => t.op === '').map((t) => t.term);
  const any = terms.filter((t) => t.op === '?').map((t) => t.term);
  const none = terms.filter((t) => t.op === '-').map((t) => t.term);
  return (m) => all.every((t) => containsTerm(m, t)) && (any.length === 0 || any.some((t) => containsTerm(m, t))) && !none.some((t) => containsTerm(m, t));
}

// ---- space-delimited ----

type Cmp = '=' | '!=' | '<' | '<=' | '>' | '>=';
interface Comparison {
  field: string;
  op: Cmp;
  value: string;
  quoted: boolean;
  /** a `*` value, compiled once (linear time, core/wildcard.ts) */
  glob?: WildcardMatcher;
}
type Expr = { k: 'cmp'; c: Comparison } | { k: 'and' | 'or'; a: Expr; b: Expr };
type Slot = { k: 'ellipsis' } | { k: 'field'; name: string; cond?: Expr };

/** Splits on `sep` outside double quotes. */
function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && q && i + 1 < s.length) {
      cur += c + s[++i];
      continue;
    }
    if (c === '"') q = !q;
    if (!q && s.startsWith(sep, i)) {
      out.push(cur);
      cur = '';
      i += sep.length - 1;
      continue;
    }
    cur += c;
  }
  if (q) throw new FilterPatternError('Invalid filter pattern: unterminated quoted value');
  out.push(cur);
  return out;
}

function parseComparison(text: string): Comparison {
  const m = /^\s*([A-Za-z0-9_$.@-]+)\s*(!=|<=|>=|=|<|>)\s*(.*?)\s*$/.exec(text);
  if (!m) throw new FilterPatternError(`Invalid filter pattern: cannot read the condition '${text.trim()}'`);
  let value = m[3]!;
  let quoted = false;
  if (value.startsWith('"')) {
    if (!value.endsWith('"') || value.length < 2) throw new FilterPatternError(`Invalid filter pattern: unterminated quoted value in '${text.trim()}'`);
    value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    quoted = true;
  } else if (value === '' || /\s/.test(value)) {
    throw new FilterPatternError(`Invalid filter pattern: bad value in '${text.trim()}'`);
  }
  return { field: m[1]!, op: m[2] as Cmp, value, quoted, ...(value.includes('*') ? { glob: compileWildcard(value) } : {}) };
}

function parseExpr(text: string): Expr {
  const ors = splitTop(text, '||');
  if (ors.length > 1) return ors.map(parseExpr).reduce((a, b) => ({ k: 'or', a, b }));
  const ands = splitTop(text, '&&');
  if (ands.length > 1) return ands.map(parseExpr).reduce((a, b) => ({ k: 'and', a, b }));
  return { k: 'cmp', c: parseComparison(text) };
}

const NUMBER = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

function compare(c: Comparison, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  const numeric = !c.quoted && NUMBER.test(c.value);
  if (c.op === '=' || c.op === '!=') {
    const eq = numeric ? NUMBER.test(actual) && Number(actual) === Number(c.value) : c.glob ? c.glob(actual) : actual === c.value;
    return c.op === '=' ? eq : !eq;
  }
  if (!numeric || !NUMBER.test(actual)) return false;
  const a = Number(actual);
  const v = Number(c.value);
  return c.op === '<' ? a < v : c.op === '<=' ? a <= v : c.op === '>' ? a > v : a >= v;
}

function evaluate(e: Expr, bound: Map<string, string>): boolean {
  if (e.k === 'cmp') return compare(e.c, bound.get(e.c.field));
  return e.k === 'and' ? evaluate(e.a, bound) && evaluate(e.b, bound) : evaluate(e.a, bound) || evaluate(e.b, bound);
}

/** An event's space-delimited fields; `"…"` and `[…]` groups are one field each. */
export function splitFields(message: string): string[] {
  const out: string[] = [];
  let i = 0;
  const s = message.trim();
  while (i < s.length) {
    while (i < s.length && s[i] === ' ') i++;
    if (i >= s.length) break;
    const open = s[i];
    if (open === '"' || open === '[') {
      const close = open === '"' ? '"' : ']';
      const j = s.indexOf(close, i + 1);
      if (j >= 0) {
        out.push(s.slice(i + 1, j));
        i = j + 1;
        continue;
      }
    }
    let j = i;
    while (j < s.length && s[j] !== ' ') j++;
    out.push(s.slice(i, j));
    i = j;
  }
  return out;
}

function delimitedMatcher(pattern: string): Matcher {
  const inner = pattern.trim().slice(1, -1);
  const slots: Slot[] = splitTop(inner, ',').map((part) => {
    const p = part.trim();
    if (p === '...') return { k: 'ellipsis' };
    if (/^[A-Za-z0-9_$.@-]+$/.test(p)) return { k: 'field', name: p };
    const name = /^\s*([A-Za-z0-9_$.@-]+)/.exec(p)?.[1];
    if (!name) throw new FilterPatternError(`Invalid filter pattern: cannot read '${p}'`);
    return { k: 'field', name, cond: parseExpr(p) };
  });
  if (slots.length === 0 || (slots.length === 1 && slots[0]!.k === 'field' && slots[0]!.name === '')) throw new FilterPatternError('Invalid filter pattern: no fields');
  const conds = slots.filter((s): s is Extract<Slot, { k: 'field' }> => s.k === 'field' && !!s.cond).map((s) => s.cond!);
  const match = (fields: string[], si: number, fi: number, bound: Map<string, string>): boolean => {
    if (si === slots.length) return fi === fields.length && conds.every((c) => evaluate(c, bound));
    const slot = slots[si]!;
    if (slot.k === 'ellipsis') {
      for (let n = fi; n <= fields.length; n++) if (match(fields, si + 1, n, bound)) return true;
      return false;
    }
    if (fi >= fields.length) return false;
    const prev = bound.get(slot.name);
    bound.set(slot.name, fields[fi]!);
    const ok = match(fields, si + 1, fi + 1, bound);
    if (prev === undefined) bound.delete(slot.name);
    else bound.set(slot.name, prev);
    return ok;
  };
  return (m) => match(splitFields(m), 0, 0, new Map());
}

/** Compiles a filter pattern; throws FilterPatternError for one CloudWatch Logs would refuse. */
export function compileFilterPattern(pattern: string | undefined): Matcher {
  const p = (pattern ?? '').trim();
  if (p === '') return () => true;
  if (p.startsWith('{')) throw new FilterPatternError('Invalid filter pattern: JSON filter patterns are not supported by Palisade');
  if (p.startsWith('[')) {
    if (!p.endsWith(']')) throw new FilterPatternError('Invalid filter pattern: missing ]');
    return delimitedMatcher(p);
  }
  if (p.length >= 2 && p.startsWith('%') && p.endsWith('%')) {
    let re: RegExp;
    try {
      re = new RegExp(p.slice(1, -1));
    } catch {
      throw new FilterPatternError('Invalid filter pattern: invalid regular expression');
    }
    return (m) => re.test(m);
  }
  return termMatcher(p);
}
