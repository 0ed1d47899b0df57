// XML encoders for the `ec2` and `query` protocols, walking the operation's output shape from
// the SDK model, plus each protocol's error body.
import { resolve, type Member, type ServiceModel, type ShapeRef, type StructShape } from './model.ts';

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;'));
}

function scalarText(kind: string, v: unknown): string {
  if (kind === '#timestamp') {
    const d = v instanceof Date ? v : new Date(typeof v === 'number' ? v * 1000 : String(v));
    return d.toISOString();
  }
  if (kind === '#blob' && v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return escapeXml(String(v));
}

export class XmlEncoder {
  constructor(private readonly model: ServiceModel) {}

  private get listItem(): string {
    return this.model.protocol === 'ec2' ? 'item' : 'member';
  }

  /** The body of a successful call. */
  success(operation: string, output: Record<string, unknown> | undefined, requestId: string): string {
    const op = this.model.ops[operation];
    const shape = op?.o ? this.model.shapes[op.o] : undefined;
    const inner: string[] = [];
    if (shape && output) this.members(shape, output, inner);
    const ns = this.model.xmlns ?? '';
    if (this.model.protocol === 'ec2') {
      if (!shape && output?.Return === undefined) inner.push('<return>true</return>');
      return `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="${ns}"><requestId>${requestId}</requestId>${inner.join('')}</${operation}Response>`;
    }
    const result = shape ? `<${operation}Result>${inner.join('')}</${operation}Result>` : '';
    return `<${operation}Response xmlns="${ns}">${result}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`;
  }

  private members(shape: StructShape, value: Record<string, unknown>, out: string[]): void {
    for (const [name, m] of Object.entries(shape.m)) {
      const v = value[name];
      if (v === undefined || v === null) continue;
      this.member(m.x ?? name, m, v, out);
    }
  }

  private member(tag: string, m: Member, v: unknown, out: string[]): void {
    const shape = resolve(this.model, m.s);
    if (typeof shape !== 'string' && shape.k === 'list' && m.f) {
      for (const item of v as unknown[]) this.element(tag, shape.v, item, out);
      return;
    }
    this.element(tag, m.s, v, out);
  }

  private element(tag: string, ref: ShapeRef, v: unknown, out: string[]): void {
    const shape = resolve(this.model, ref);
    if (typeof shape === 'string') {
      out.push(`<${tag}>${scalarText(shape, v)}</${tag}>`);
      return;
    }
    if (shape.k === 'struct') {
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
      for (const item of items) this.element(itemTag, shape.v, item, out);
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
      return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
    }
    return `<ErrorResponse xmlns="${this.model.xmlns ?? ''}"><Error><Type>${fault}</Type><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  }
}
