// Linear-time wildcard matching for the patterns clients send in requests: EC2 Describe* `Filter`
// values (`*` any run of characters, `?` any one) and CloudWatch Logs filter-pattern values
// (`*` only; `?` is a literal there).
//
// A request's pattern is attacker-chosen, so it is never turned into a backtracking RegExp
// (`*a*a*a*a*b` against a long name takes seconds that way, and the server has one thread).
// The pattern is split at `*` into segments; the first must match as a prefix, the last as a
// suffix, and each one in between at its leftmost position after the previous one. Placing a
// segment leftmost never loses a match (any later placement leaves less room for the rest), so
// there is no backtracking: the work is O(text × longest segment) at worst.
//
// Matching is case-sensitive and by UTF-16 code unit (as a RegExp without the `u` flag: `?` is
// one code unit); `?` also matches line terminators. Compile a pattern once (per request) and
// run the matcher on every candidate; nothing is cached globally.

interface WildcardOptions {
  /** `?` stands for any one character (EC2 filters); otherwise it is literal (CloudWatch Logs). */
  question?: boolean;
}

export type WildcardMatcher = (text: string) => boolean;

const QUESTION = 63; // '?'

/** Does `seg` match `text` at `at` (the caller knows at + seg.length <= text.length)? */
function segmentAt(seg: string, any: boolean, text: string, at: number): boolean {
  if (!any) return text.startsWith(seg, at);
  for (let k = 0; k < seg.length; k++) {
    const c = seg.charCodeAt(k);
    if (c !== QUESTION && c !== text.charCodeAt(at + k)) return false;
  }
  return true;
}

/** The leftmost i in [from, to - seg.length] where `seg` matches, or -1. */
function segmentFind(seg: string, any: boolean, text: string, from: number, to: number): number {
  const last = to - seg.length;
  if (last < from) return -1;
  if (!any) {
    const i = text.indexOf(seg, from);
    return i >= 0 && i <= last ? i : -1;
  }
  for (let i = from; i <= last; i++) if (segmentAt(seg, true, text, i)) return i;
  return -1;
}

/** Compiles `pattern` into a matcher of whole texts. */
export function compileWildcard(pattern: string, opts: WildcardOptions = {}): WildcardMatcher {
  const q = !!opts.question;
  const hasQ = (s: string) => q && s.includes('?');
  if (!pattern.includes('*')) {
    if (!hasQ(pattern)) return (text) => text === pattern;
    return (text) => text.length === pattern.length && segmentAt(pattern, true, text, 0);
  }
  const parts = pattern.split('*');
  const head = parts[0]!;
  const tail = parts[parts.length - 1]!;
  const headQ = hasQ(head);
  const tailQ = hasQ(tail);
  // empty middles (`**`) add nothing: `*` already takes any run
  const middle = parts
    .slice(1, -1)
    .filter((s) => s !== '')
    .map((s) => ({ s, q: hasQ(s) }));
  const minLength = head.length + tail.length + middle.reduce((n, m) => n + m.s.length, 0);
  return (text) => {
    if (text.length < minLength) return false;
    const end = text.length - tail.length;
    if (!segmentAt(head, headQ, text, 0) || !segmentAt(tail, tailQ, text, end)) return false;
    let pos = head.length;
    for (const m of middle) {
      const i = segmentFind(m.s, m.q, text, pos, end);
      if (i < 0) return false;
      pos = i + m.s.length;
    }
    return true;
  };
}
