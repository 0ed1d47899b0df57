// A total, linear XML reader for request bodies (S3's REST-XML): the root element of a document
// with its child elements and text, or an XmlSyntaxError for anything that is not well-formed
// XML 1.0 without a DTD. Hardened against hostile input (see readXml); the REST-XML codec
// (rest-xml.ts) answers its errors as S3's MalformedXML.

/** Why a body is not a well-formed XML document (the codec answers it in its protocol's shape). */
export class XmlSyntaxError extends Error {
  constructor() {
    super('not a well-formed XML document');
  }
}

const malformedXml = () => new XmlSyntaxError();

/** An element of a request body: its local name (any prefix dropped), child elements and text. */
export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
  /** Its attributes by local name (`xsi:type` as `type`), namespace declarations left out; absent when it has none. */
  attributes?: Record<string, string>;
}

/** S3's request schemas are 3 levels deep (Delete/Object/Key): far deeper is not theirs. */
const MAX_XML_DEPTH = 32;
/** Characters XML 1.0 allows (§2.2). */
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const isXmlChar = (cp: number) =>
  cp === 0x9 ||
  cp === 0xa ||
  cp === 0xd ||
  (cp >= 0x20 && cp <= 0xd7ff) ||
  (cp >= 0xe000 && cp <= 0xfffd) ||
  (cp >= 0x10000 && cp <= 0x10ffff);
const XML_NAME = /[A-Za-z_:\u00C0-\uFFFF][A-Za-z0-9_.:\u00B7\u00C0-\uFFFF-]*/y;
const XML_REF = /&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|(lt|gt|amp|quot|apos));/y;
const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * Reads a request body as an XML document: its root element, or null when there is none
 * (an empty body, or only a declaration). Total: any input yields that or throws XmlSyntaxError —
 * bytes that are not UTF-8, characters or references XML forbids (NUL, surrogates, beyond
 * U+10FFFF), undeclared entities, a DOCTYPE (no DTDs, so no entity expansion), unterminated
 * markup, mismatched tags, nesting past MAX_XML_DEPTH. Each step consumes input, so it runs in
 * time linear in the body (which the gateway caps).
 */
export function readXml(body: Buffer): XmlElement | null {
  return new XmlReader(xmlSource(body)).document();
}

function xmlSource(body: Buffer): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body); // a leading BOM is dropped
  } catch {
    throw malformedXml();
  }
  if (NOT_XML_CHAR.test(text)) throw malformedXml();
  return text.replace(/\r\n?/g, '\n'); // end-of-line handling (§2.11); &#13; still gives CR
}

/** Character data with its references resolved; a bare `&` or a reference to a non-character fails. */
function unescapeXml(raw: string): string {
  let amp = raw.indexOf('&');
  if (amp < 0) return raw;
  let out = '';
  let from = 0;
  while (amp >= 0) {
    XML_REF.lastIndex = amp;
    const m = XML_REF.exec(raw);
    if (!m) throw malformedXml();
    let text = m[3] !== undefined ? XML_ENTITIES[m[3]]! : undefined;
    if (text === undefined) {
      const cp = m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2]!, 10); // a long run of digits is Infinity
      if (!isXmlChar(cp)) throw malformedXml();
      text = String.fromCodePoint(cp);
    }
    out += raw.slice(from, amp) + text;
    from = XML_REF.lastIndex;
    amp = raw.indexOf('&', from);
  }
  return out + raw.slice(from);
}

class XmlReader {
  private pos = 0;
  constructor(private readonly s: string) {}

  document(): XmlElement | null {
    this.misc();
    if (this.pos === this.s.length) return null;
    const root = this.element();
    this.misc();
    if (this.pos !== this.s.length) throw malformedXml();
    return root;
  }

  /** Whitespace, comments and processing instructions (the XML declaration is one) around the root. */
  private misc(): void {
    for (;;) {
      this.space();
      if (this.at('<!--')) this.skipPast('-->', 4);
      else if (this.at('<?')) this.skipPast('?>', 2);
      else return;
    }
  }

  /** The element at `pos` with all its content, read with a stack (no recursion on hostile depth). */
  private element(): XmlElement {
    const stack: { el: XmlElement; qname: string }[] = [];
    const open = () => {
      const tag = this.startTag();
      const el: XmlElement = { name: tag.qname.slice(tag.qname.lastIndexOf(':') + 1), children: [], text: '' };
      if (tag.attributes) el.attributes = tag.attributes;
      stack.at(-1)?.el.children.push(el);
      if (stack.length >= MAX_XML_DEPTH) throw malformedXml();
      stack.push({ el, qname: tag.qname });
      if (tag.empty) stack.pop();
      return el;
    };
    const root = open();
    const s = this.s;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (s[this.pos] !== '<') {
        const lt = s.indexOf('<', this.pos); // character data runs to the next markup
        if (lt < 0) throw malformedXml(); // the element never ends
        top.el.text += unescapeXml(s.slice(this.pos, lt));
        this.pos = lt;
      } else if (this.at('</')) {
        this.pos += 2;
        if (this.name() !== top.qname) throw malformedXml();
        this.space();
        this.expect('>');
        stack.pop();
      } else if (this.at('<!--')) {
        this.skipPast('-->', 4);
      } else if (this.at('<![CDATA[')) {
        const end = s.indexOf(']]>', this.pos + 9);
        if (end < 0) throw malformedXml();
        top.el.text += s.slice(this.pos + 9, end);
        this.pos = end + 3;
      } else if (this.at('<?')) {
        this.skipPast('?>', 2);
      } else {
        open();
      }
    }
    return root;
  }

  /**
   * `<name attr="v" …>` or `<name …/>`: attributes are checked, and kept by local name but for
   * namespace declarations (S3's request schemas have one attribute: a Grantee's `xsi:type`).
   */
  private startTag(): { qname: string; empty: boolean; attributes?: Record<string, string> } {
    this.expect('<');
    const qname = this.name();
    const seen = new Set<string>();
    let attributes: Record<string, string> | undefined;
    for (;;) {
      const spaced = this.space();
      if (this.at('/>')) {
        this.pos += 2;
        return { qname, empty: true, ...(attributes ? { attributes } : {}) };
      }
      if (this.at('>')) {
        this.pos += 1;
        return { qname, empty: false, ...(attributes ? { attributes } : {}) };
      }
      if (!spaced) throw malformedXml();
      const attr = this.name();
      if (seen.has(attr)) throw malformedXml();
      seen.add(attr);
      this.space();
      this.expect('=');
      this.space();
      const quote = this.s[this.pos];
      if (quote !== '"' && quote !== "'") throw malformedXml();
      const end = this.s.indexOf(quote, this.pos + 1);
      if (end < 0) throw malformedXml();
      const value = this.s.slice(this.pos + 1, end);
      if (value.includes('<')) throw malformedXml();
      const text = unescapeXml(value);
      if (attr !== 'xmlns' && !attr.startsWith('xmlns:')) {
        attributes ??= Object.create(null) as Record<string, string>;
        attributes[attr.slice(attr.lastIndexOf(':') + 1)] = text;
      }
      this.pos = end + 1;
    }
  }

  private name(): string {
    XML_NAME.lastIndex = this.pos;
    const m = XML_NAME.exec(this.s);
    if (!m) throw malformedXml();
    this.pos = XML_NAME.lastIndex;
    return m[0];
  }

  /** Skips whitespace (CR is gone by now); says whether there was any. */
  private space(): boolean {
    const start = this.pos;
    while (this.s[this.pos] === ' ' || this.s[this.pos] === '\t' || this.s[this.pos] === '\n') this.pos++;
    return this.pos > start;
  }

  private at(text: string): boolean {
    return this.s.startsWith(text, this.pos);
  }

  private expect(text: string): void {
    if (!this.at(text)) throw malformedXml();
    this.pos += text.length;
  }

  /** Moves past the first `end` found `from` characters on (so always forward). */
  private skipPast(end: string, from: number): void {
    const i = this.s.indexOf(end, this.pos + from);
    if (i < 0) throw malformedXml();
    this.pos = i + end.length;
  }
}
