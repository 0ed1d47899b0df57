// The few facts AssumeRoleWithSAML reads from a SAML response, found with forward scans only.
//
// The assertion comes from the caller (up to 100,000 base64 characters) and the server has one
// thread, so no RegExp with open-ended quantifiers runs over the document (`<Issuer[^>]*>` from
// every `<Issuer` of a document without `>` is quadratic). Each search below moves forward and
// remembers where the next `<` and `>` are, so the whole parse is linear in the document.
// Palisade does not verify signatures; this is not an XML parser either: elements are found by
// name (any `prefix:`), with plain text content (no CDATA, entities left as written).

interface SamlFacts {
  issuer: string;
  subject: string;
  /** the NameID Format, without `urn:oasis:names:tc:SAML:{1.1,2.0}:nameid-format:` */
  subjectType: string;
  audience: string;
  /** the first NotOnOrAfter attribute (SubjectConfirmationData or Conditions), as written */
  notOnOrAfter?: string;
}

const isWord = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/** Where the local name starts after `<` or `</` at `at`: past a `prefix:` of word characters, if any. */
function localName(xml: string, at: number): number {
  let j = at;
  while (j < xml.length && isWord(xml.charCodeAt(j))) j++;
  return j > at && xml.charCodeAt(j) === 58 /* : */ ? j + 1 : at;
}

/** indexOf(ch, from) for non-decreasing `from`s, each stretch of the text searched once. */
function forwardFinder(xml: string, ch: string): (from: number) => number {
  let found = -2;
  return (from) => (found === -1 || found >= from ? found : (found = xml.indexOf(ch, from)));
}

/** Whether the document has an `<[prefix:]Assertion` start tag. */
function hasAssertion(xml: string): boolean {
  for (let i = xml.indexOf('<'); i >= 0; i = xml.indexOf('<', i + 1)) {
    const n = localName(xml, i + 1);
    if (xml.startsWith('Assertion', n)) {
      const c = xml.charCodeAt(n + 9);
      if (isSpace(c) || c === 62 /* > */) return true;
    }
  }
  return false;
}

/** The first `<[p:]tag attrs>text</[p:]tag>` with plain text content: its attributes and text. */
function findElement(xml: string, tag: string): { attrs: string; text: string } | undefined {
  const nextGt = forwardFinder(xml, '>');
  const nextLt = forwardFinder(xml, '<');
  for (let i = xml.indexOf('<'); i >= 0; i = xml.indexOf('<', i + 1)) {
    const n = localName(xml, i + 1);
    if (!xml.startsWith(tag, n)) continue;
    const after = n + tag.length;
    const c = xml.charCodeAt(after);
    if (!isSpace(c) && c !== 62 /* > */) continue;
    const gt = nextGt(after);
    if (gt < 0) return undefined; // no `>` left: no later element either
    if (xml.charCodeAt(gt - 1) === 47 /* / */) continue; // <tag … /> has no text
    const lt = nextLt(gt + 1);
    if (lt < 0) return undefined;
    if (!xml.startsWith('</', lt)) continue;
    const m = localName(xml, lt + 2);
    if (xml.startsWith(tag, m) && xml.charCodeAt(m + tag.length) === 62)
      return { attrs: xml.slice(after, gt), text: xml.slice(gt + 1, lt) };
  }
  return undefined;
}

/** The value of `name="…"` in a start tag's attribute text (name preceded by whitespace). */
export function attribute(attrs: string, name: string): string | undefined {
  const key = `${name}="`;
  for (let i = attrs.indexOf(key); i >= 0; i = attrs.indexOf(key, i + 1)) {
    if (i > 0 && !isSpace(attrs.charCodeAt(i - 1))) continue;
    const end = attrs.indexOf('"', i + key.length);
    return end < 0 ? undefined : attrs.slice(i + key.length, end);
  }
  return undefined;
}

/** The first non-empty `NotOnOrAfter="…"` attribute anywhere in the document. */
function firstNotOnOrAfter(xml: string): string | undefined {
  const key = 'NotOnOrAfter="';
  for (let i = xml.indexOf(key); i >= 0; i = xml.indexOf(key, i + 1)) {
    if (!isSpace(xml.charCodeAt(i - 1))) continue; // not SessionNotOnOrAfter
    const end = xml.indexOf('"', i + key.length);
    if (end < 0) return undefined;
    if (end > i + key.length) return xml.slice(i + key.length, end);
  }
  return undefined;
}

/** The facts of a decoded SAML response, or undefined when it holds no assertion. */
export function readSamlResponse(xml: string): SamlFacts | undefined {
  if (!hasAssertion(xml)) return undefined;
  const nameId = findElement(xml, 'NameID');
  const format = nameId && attribute(nameId.attrs, 'Format');
  return {
    issuer: findElement(xml, 'Issuer')?.text.trim() ?? '',
    subject: nameId?.text.trim() ?? '',
    subjectType: format ? format.replace(/^urn:oasis:names:tc:SAML:(1\.1|2\.0):nameid-format:/, '') : 'unspecified',
    audience: findElement(xml, 'Audience')?.text.trim() ?? 'https://signin.aws.amazon.com/saml',
    notOnOrAfter: firstNotOnOrAfter(xml),
  };
}
