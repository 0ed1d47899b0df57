// CloudWatch Logs filter patterns for FilterLogEvents, as flow-log users write them:
//   ""                                   every event
//   ERROR Exception                      events with all the terms (case-sensitive, whole terms)
//   ?ERROR ?WARN                         events with any of the terms
//   ERROR -Exiting                       with ERROR, without Exiting
//   "INTERNAL SERVER ERROR"              an exact phrase
//   %REJECT|NODATA%                      a regular expression (also as a field value: `action=%REJ|ACC%`)
//   [version, account, eni, source, destination, srcport, destport="22", protocol=6, packets>10, ..., action=REJECT, status]
//                                        space-delimited fields: names bind the event's fields in order,
//                                        `...` stands for any number of them, conditions (= != < <= > >=,
//                                        `*` wildcards in strings, && and ||) must all hold.
// JSON patterns (`{ $.x = … }`) are not supported.
//
// Every request brings its own pattern and the server has one thread, so nothing here may take
// super-linear time in the events it reads: `*` values use core/wildcard.ts (linear, no RegExp),
// regular expressions run on re2js (RE2: linear time, no backtracking), `...` is matched without
// backtracking (see delimitedMatcher), and the pattern itself is at most 1024 characters.
import type { RE2JS } from 're2js';
import { compileWildcard, type WildcardMatcher } from '../../core/wildcard.ts';
import { loadPackage } from '../../core/lazy.ts';

/** re2js (~260 KB) is loaded on the first regular expression, not at start (see lazy.ts). */
let re2: typeof RE2JS | undefined;
const RE2 = () => (re2 ??= loadPackage<typeof import('re2js')>('re2js').RE2JS);

export class FilterPatternError extends Error {}

/** FilterLogEvents' `filterPattern`: "Length Constraints: Minimum length of 0. Maximum length of 1024." */
const MAX_FILTER_PATTERN_LENGTH = 1024;
/**
 * "There is a limit of 2 regex for each filter pattern when creating a delimited or JSON filter
 * pattern for metric filters and subscription filters or when filtering log events or Live Tail."
 */
const MAX_REGEX_PER_PATTERN = 2;

type Matcher = (message: string) => boolean;

const isWordCode = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95; // [A-Za-z0-9_]

/**
 * A matcher of `term` as a whole term (not inside a longer word). The first occurrence (found by
 * indexOf) usually decides; when it lies inside a word, the other occurrences are walked with
 * Knuth–Morris–Pratt, so a term that occurs everywhere inside words (`aaa…` in `aaaa…`) costs
 * O(text + term), not O(text × term).
 */
function compileTerm(term: string): Matcher {
  if (term === '') return () => true;
  const m = term.length;
  const wordStart = isWordCode(term.charCodeAt(0));
  const wordEnd = isWordCode(term.charCodeAt(m - 1));
  const whole = (text: string, at: number) =>
    (!wordStart || !isWordCode(text.charCodeAt(at - 1))) && (!wordEnd || !isWordCode(text.charCodeAt(at + m)));
  let fail: Int32Array | undefined; // KMP failure function, built on first need
  const failure = () => {
    const f = new Int32Array(m);
    for (let i = 1, k = 0; i < m; i++) {
      while (k > 0 && term.charCodeAt(i) !== term.charCodeAt(k)) k = f[k - 1]!;
      if (term.charCodeAt(i) === term.charCodeAt(k)) k++;
      f[i] = k;
    }
    return f;
  };
  return (text) => {
    const first = text.indexOf(term);
    if (first < 0) return false;
    if (whole(text, first)) return true;
    fail ??= failure();
    // resume just after the first occurrence, with all of it matched
    let k = fail[m - 1]!;
    for (let i = first + m; i < text.length; i++) {
      const c = text.charCodeAt(i);
      while (k > 0 && c !== term.charCodeAt(k)) k = fail[k - 1]!;
      if (c === term.charCodeAt(k)) k++;
      if (k === m) {
        if (whole(text, i - m + 1)) return true;
        k = fail[m - 1]!;
      }
    }
    return false;
  };
}

/** Whether `term` occurs in `text` as a whole term (not inside a longer word). */
export function containsTerm(text: string, term: string): boolean {
  return compileTerm(term)(text);
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
  const all = terms.filter((t) => t.op === '').map((t) => compileTerm(t.term));
  const any = terms.filter((t) => t.op === '?').map((t) => compileTerm(t.term));
  const none = terms.filter((t) => t.op === '-').map((t) => compileTerm(t.term));
  return (m) => all.every((t) => t(m)) && (any.length === 0 || any.some((t) => t(m))) && !none.some((t) => t(m));
}

// ---- space-delimited ----

type Cmp = '=' | '!=' | '<' | '<=' | '>' | '>=';
interface Comparison {
  field: string;
  op: Cmp;
  value: string;
  quoted: boolean;
  /** a `*` value, compiled once */
  glob?: WildcardMatcher;
  /** a `%regex%` value, compiled once */
  regex?: RE2JS;
  /** the slot whose field the comparison reads (the last slot of that name), or -1 */
  slot: number;
}
type Expr = { k: 'cmp'; c: Comparison } | { k: 'and' | 'or'; a: Expr; b: Expr };
type Slot = { k: 'ellipsis' } | { k: 'field'; name: string; cond?: Expr };

/** Splits on `sep` outside double quotes and outside a `%regex%` value (one right after `=`). */
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
    if (c === '%' && !q && cur.trimEnd().endsWith('=')) {
      const j = s.indexOf('%', i + 1);
      if (j > i) {
        cur += s.slice(i, j + 1);
        i = j;
        continue;
      }
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
  const op = m[2] as Cmp;
  let quoted = false;
  if (value.length >= 2 && value.startsWith('%') && value.endsWith('%')) {
    if (op !== '=' && op !== '!=')
      throw new FilterPatternError(`Invalid filter pattern: a regular expression can only be compared with = or != in '${text.trim()}'`);
    return { field: m[1]!, op, value, quoted, regex: compileRegex(value), slot: -1 };
  }
  if (value.startsWith('"')) {
    if (!value.endsWith('"') || value.length < 2)
      throw new FilterPatternError(`Invalid filter pattern: unterminated quoted value in '${text.trim()}'`);
    value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    quoted = true;
  } else if (value === '' || /\s/.test(value)) {
    throw new FilterPatternError(`Invalid filter pattern: bad value in '${text.trim()}'`);
  }
  return { field: m[1]!, op, value, quoted, ...(value.includes('*') ? { glob: compileWildcard(value) } : {}), slot: -1 };
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
  if (c.regex) {
    const hit = c.regex.test(actual);
    return c.op === '=' ? hit : !hit;
  }
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

/** `field(slot)` is the event field bound to a slot (undefined for -1). */
function evaluate(e: Expr, field: (slot: number) => string | undefined): boolean {
  if (e.k === 'cmp') return compare(e.c, field(e.c.slot));
  return e.k === 'and' ? evaluate(e.a, field) && evaluate(e.b, field) : evaluate(e.a, field) || evaluate(e.b, field);
}

function comparisons(e: Expr, out: Comparison[] = []): Comparison[] {
  if (e.k === 'cmp') out.push(e.c);
  else {
    comparisons(e.a, out);
    comparisons(e.b, out);
  }
  return out;
}

// ---- regular expressions ----

/**
 * CloudWatch Logs User Guide, "Supported regular expressions (regex) syntax"
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/regex-expressions.html): "Filter
 * patterns with regex can only include the following: Alphanumeric characters […] Supported
 * symbol characters – These include: ':', '_', '#', '=', '@','/', ';', ',', and '-' […]
 * Supported operators – These include: '^', '$', '?', '[', ']', '{', '}', '|', '\\', '*', '+',
 * and '.'. The ( and ) operators are not supported. […] Multi-byte characters are not supported."
 * So no groups, hence no backreferences and no lookarounds; `\1` is refused by RE2 itself.
 */
const REGEX_CHARS = new Set('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:_#=@/;,-^$?[]{}|\\*+.');

/** Compiles `%…%` (delimiters included) for linear-time matching, or throws AWS's refusal. */
function compileRegex(term: string): RE2JS {
  const body = term.slice(1, -1);
  for (const c of body) {
    if (!REGEX_CHARS.has(c)) throw new FilterPatternError(`Invalid filter pattern: Invalid character(s) in term '${term}'`);
  }
  try {
    return RE2().compile(body);
  } catch {
    throw new FilterPatternError('Invalid filter pattern: invalid regular expression');
  }
}

/** An event's space-delimited fields; `"…"` and `[…]` groups are one field each. */
export function splitFields(message: string): string[] {
  const out: string[] = [];
  let i = 0;
  const s = message.trim();
  // The next `"` and `]` at or after some position, remembered: fields only move forward, so each
  // is searched for once per stretch of text (an event of many unclosed `[` stays linear).
  const next = { '"': -2, ']': -2 };
  const nextClose = (c: '"' | ']', from: number) => {
    const known = next[c];
    if (known === -1 || known >= from) return known;
    return (next[c] = s.indexOf(c, from));
  };
  while (i < s.length) {
    while (i < s.length && s[i] === ' ') i++;
    if (i >= s.length) break;
    const open = s[i];
    if (open === '"' || open === '[') {
      const j = nextClose(open === '"' ? '"' : ']', i + 1);
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

// `[a, b, ..., c=1, d, ..., e]`: the slots between two `...` form a segment; the first segment is
// anchored at the first field, the last at the last field, and each one in between is placed at
// its leftmost position where its conditions hold, without backtracking (as core/wildcard.ts
// places the pieces between `*`: placing leftmost never loses a match). A condition reads the
// field of the last slot with its name, as if every slot were bound before the conditions ran.
// Conditions on one floating segment (plus the anchored ones) are judged while it is placed; one
// that would tie two floating segments together is refused, since judging it would need a search.
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
  if (slots.length === 0 || (slots.length === 1 && slots[0]!.k === 'field' && slots[0]!.name === ''))
    throw new FilterPatternError('Invalid filter pattern: no fields');

  // segments of slot indexes, split at `...`
  const segments: number[][] = [[]];
  const segmentOf: number[] = [];
  slots.forEach((slot, i) => {
    if (slot.k === 'ellipsis') segments.push([]);
    else {
      segmentOf[i] = segments.length - 1;
      segments[segments.length - 1]!.push(i);
    }
  });
  const anchoredBoth = segments.length === 1;
  const lastSeg = segments.length - 1;
  const floating = (seg: number) => seg !== 0 && seg !== lastSeg;

  const lastSlotOf = new Map<string, number>();
  slots.forEach((slot, i) => {
    if (slot.k === 'field') lastSlotOf.set(slot.name, i);
  });
  const anchoredConds: Expr[] = [];
  const floatingConds: Expr[][] = segments.map(() => []);
  let never = false;
  let regexes = 0;
  for (const slot of slots) {
    if (slot.k !== 'field' || !slot.cond) continue;
    const segs = new Set<number>();
    for (const c of comparisons(slot.cond)) {
      if (c.regex && ++regexes > MAX_REGEX_PER_PATTERN) {
        throw new FilterPatternError(
          `Invalid filter pattern: a filter pattern can contain at most ${MAX_REGEX_PER_PATTERN} regular expressions`,
        );
      }
      c.slot = lastSlotOf.get(c.field) ?? -1;
      if (c.slot >= 0 && floating(segmentOf[c.slot]!)) segs.add(segmentOf[c.slot]!);
    }
    if (segs.size > 1)
      throw new FilterPatternError(`Invalid filter pattern: the condition on '${slot.name}' compares fields between different '...'`);
    if (segs.size === 1) floatingConds[[...segs][0]!]!.push(slot.cond);
    else if (comparisons(slot.cond).every((c) => c.slot < 0)) never ||= !evaluate(slot.cond, () => undefined);
    else anchoredConds.push(slot.cond);
  }
  if (never) return () => false;

  const minFields = segments.reduce((n, s) => n + s.length, 0);
  const fieldAt: number[] = new Array<number>(slots.length).fill(-1);
  let fields: string[] = [];
  const field = (slot: number) => (slot < 0 ? undefined : fields[fieldAt[slot]!]);
  const holds = (conds: Expr[]) => conds.every((c) => evaluate(c, field));
  const place = (seg: number[], at: number) => seg.forEach((slot, k) => (fieldAt[slot] = at + k));

  return (m) => {
    fields = splitFields(m);
    if (anchoredBoth ? fields.length !== minFields : fields.length < minFields) return false;
    const first = segments[0]!;
    const last = segments[lastSeg]!;
    const end = fields.length - last.length;
    place(first, 0);
    place(last, end);
    if (!holds(anchoredConds)) return false;
    let pos = first.length;
    for (let t = 1; t < lastSeg; t++) {
      const seg = segments[t]!;
      let found = false;
      for (let at = pos; at + seg.length <= end; at++) {
        place(seg, at);
        if (holds(floatingConds[t]!)) {
          found = true;
          pos = at + seg.length;
          break;
        }
      }
      if (!found) return false;
    }
    return true;
  };
}

/** Compiles a filter pattern; throws FilterPatternError for one CloudWatch Logs would refuse. */
export function compileFilterPattern(pattern: string | undefined): Matcher {
  if (pattern !== undefined && pattern.length > MAX_FILTER_PATTERN_LENGTH) {
    throw new FilterPatternError(
      `1 validation error detected: Value '${pattern}' at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to ${MAX_FILTER_PATTERN_LENGTH}`,
    );
  }
  const p = (pattern ?? '').trim();
  if (p === '') return () => true;
  if (p.startsWith('{')) throw new FilterPatternError('Invalid filter pattern: JSON filter patterns are not supported by Palisade');
  if (p.startsWith('[')) {
    if (!p.endsWith(']')) throw new FilterPatternError('Invalid filter pattern: missing ]');
    return delimitedMatcher(p);
  }
  if (p.length >= 2 && p.startsWith('%') && p.endsWith('%')) {
    const re = compileRegex(p);
    return (m) => re.test(m);
  }
  return termMatcher(p);
}
