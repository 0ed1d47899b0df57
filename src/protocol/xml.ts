// XML encoders for the `ec2` and `query` protocols, walking the operation's output shape from
// the SDK model, plus each protocol's error body.
import { resolve, type Member, type ServiceModel, type Shape, type ShapeRef, type StructShape } from './model.ts';

interface MemberPlan {
  name: string;
  tag: string;
  member: Member;
  shape: Shape;
}

/** Where the encoder puts the pieces of an answer, in order (an array, or a writer of the body). */
interface Pieces {
  push(piece: string): unknown;
}

/**
 * Characters written as references: markup, CR (a reader would turn a raw one into LF), and the
 * characters XML 1.0 cannot carry at all (C0 controls but TAB and LF, U+FFFE, U+FFFF).
 */
const SPECIAL = /[&<>"'\r\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;
const SPECIALS = new RegExp(SPECIAL.source, 'g');
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * Text for XML content or attributes. A stored value may hold characters XML 1.0 cannot carry (an
 * EC2 tag value may be any string): they are written as character references (`&#x1;`), as S3
 * writes them in listings (see services/s3 xmlEscape), rather than raw.
 */
export function escapeXml(s: string): string {
  if (!SPECIAL.test(s)) return s;
  return s.replace(SPECIALS, (c) => ENTITIES[c] ?? `&#x${c.charCodeAt(0).toString(16)};`);
}

/** What XML 1.0 cannot carry, even as a reference; lone surrogates (which UTF-8 cannot encode) too. */
const NOT_XML =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * The message of an XML error body. Messages echo input (`Invalid value '…' for MaxResults`), and
 * an error must be readable by every client's XML reader (boto3's refuses even `&#x1;`): the
 * characters XML 1.0 cannot carry are written as visible escapes (`\u0001`).
 */
export function escapeXmlMessage(s: string): string {
  return escapeXml(s.replace(NOT_XML, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

function scalarText(kind: string, v: unknown): string {
  if (kind === '#timestamp') {
    const d = v instanceof Date ? v : new Date(typeof v === 'number' ? v * 1000 : String(v));
    return d.toISOString();
  }
  if (kind === '#blob' && v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return escapeXml(String(v));
}

/** Outputs a service promises never to change (deep-frozen), whose XML may be kept and reused. */
const reusable = new WeakSet<object>();

function deepFreeze(o: unknown): void {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
}

/**
 * Marks an output structure (e.g. the wire form of a stored document, built once per version of
 * it) as immutable, deep-freezing it: the encoder then renders it once per tag and shape and
 * reuses the text, so a Describe of many unchanged resources costs little more than copying it.
 */
export function reusableOutput<T extends object>(o: T): T {
  deepFreeze(o);
  reusable.add(o);
  return o;
}

interface Rendered {
  shape: Shape;
  tag: string;
  xml: string;
}

export class XmlEncoder {
  /** The XML of reusable outputs, per object (one rendering: the tag and shape it was made for). */
  private readonly rendered = new WeakMap<object, Rendered>();

  /** Each structure's members with their tags and resolved shapes, worked out once. */
  private readonly plans = new Map<StructShape, MemberPlan[]>();
  constructor(private readonly model: ServiceModel) {}

  private plan(shape: StructShape): MemberPlan[] {
    let p = this.plans.get(shape);
    if (!p) {
      p = Object.entries(shape.m).map(([name, member]) => ({ name, tag: member.x ?? name, member, shape: resolve(this.model, member.s) }));
      this.plans.set(shape, p);
    }
    return p;
  }

  private get listItem(): string {
    return this.model.protocol === 'ec2' ? 'item' : 'member';
  }

  /** The body of a successful call, piece by piece into `out` (see gateway/body.ts AnswerWriter). */
  successInto(operation: string, output: Record<string, unknown> | undefined, requestId: string, out: Pieces): void {
    const op = this.model.ops[operation];
    const shape = op?.o ? this.model.shapes[op.o] : undefined;
    const ns = this.model.xmlns ?? '';
    if (this.model.protocol === 'ec2') {
      out.push(`<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="${ns}"><requestId>${requestId}</requestId>`);
      if (shape && output) this.members(shape, output, out);
      if (!shape && output?.Return === undefined) out.push('<return>true</return>');
      out.push(`</${operation}Response>`);
      return;
    }
    out.push(`<${operation}Response xmlns="${ns}">`);
    if (shape) {
      out.push(`<${operation}Result>`);
      if (output) this.members(shape, output, out);
      out.push(`</${operation}Result>`);
    }
    out.push(`<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`);
  }

  private members(shape: StructShape, value: Record<string, unknown>, out: Pieces): void {
    const plan = this.plan(shape);
    for (let i = 0; i < plan.length; i++) {
      const p = plan[i]!;
      const v = value[p.name];
      if (v === undefined || v === null) continue;
      if (typeof p.shape !== 'string' && p.shape.k === 'list' && p.member.f) {
        const itemShape = resolve(this.model, p.shape.v);
        for (const item of v as unknown[]) this.emit(p.tag, itemShape, item, out);
      } else this.emit(p.tag, p.shape, v, out);
    }
  }

  private element(tag: string, ref: ShapeRef, v: unknown, out: Pieces): void {
    this.emit(tag, resolve(this.model, ref), v, out);
  }

  private emit(tag: string, shape: Shape, v: unknown, out: Pieces): void {
    if (typeof shape === 'string') {
      out.push(`<${tag}>${scalarText(shape, v)}</${tag}>`);
      return;
    }
    if (shape.k === 'struct') {
      if (reusable.has(v as object)) {
        const r = this.rendered.get(v as object);
        if (r && r.shape === shape && r.tag === tag) {
          out.push(r.xml);
          return;
        }
        const parts = [`<${tag}>`];
        this.members(shape, v as Record<string, unknown>, parts);
        parts.push(`</${tag}>`);
        const xml = parts.join('');
        this.rendered.set(v as object, { shape, tag, xml });
        out.push(xml);
        return;
      }
      out.push(`<${tag}>`);
      this.members(shape, v as Record<string, unknown>, out);
      out.push(`</${tag}>`);
      return;
    }
    if (shape.k === 'list') {
      const items = v as unknown[];
      if (items.length === 0) {
        out.push(`<${tag}/>`);
        return;
      }
      out.push(`<${tag}>`);
      const itemTag = shape.x ?? this.listItem;
      const itemShape = resolve(this.model, shape.v);
      for (const item of items) this.emit(itemTag, itemShape, item, out);
      out.push(`</${tag}>`);
      return;
    }
    out.push(`<${tag}>`);
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      out.push(`<entry><${shape.kx ?? 'key'}>${escapeXml(k)}</${shape.kx ?? 'key'}>`);
      this.element(shape.vx ?? 'value', shape.v, val, out);
      out.push('</entry>');
    }
    out.push(`</${tag}>`);
  }

  error(code: string, message: string, requestId: string, fault: 'Sender' | 'Receiver'): string {
    if (this.model.protocol === 'ec2') {
      return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXmlMessage(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
    }
    return `<ErrorResponse xmlns="${this.model.xmlns ?? ''}"><Error><Type>${fault}</Type><Code>${escapeXml(code)}</Code><Message>${escapeXmlMessage(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  }
}
