// requestParameters / responseElements in the shapes CloudTrail logs them, derived generically
// from each service's SDK model (never per operation):
//  - EC2 (protocol `ec2`): the wire-style names — a member's xmlName/locationName with the first
//    letter lowered (`Description` → `groupDescription`), lists as `{"items":[…]}` (a list of
//    scalars becomes `{"items":[{"<itemName>":v}]}`), timestamps as epoch milliseconds, sensitive
//    members as "<sensitiveDataRemoved>";
//  - IAM, STS (query) and the JSON services: lower-camel member names, plain arrays, timestamps
//    in the Java style AWS prints ("Jan 5, 2024, 3:04:05 PM"), sensitive members left out.
import { resolve, type Member, type ServiceModel, type Shape, type StructShape } from '../protocol/model.ts';

type Json = unknown;
interface Plan {
  name: string;
  key: string;
  member: Member;
  shape: Shape;
  sensitive: boolean;
  itemKey: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Jan 5, 2024, 3:04:05 PM` (UTC): how CloudTrail prints timestamps of non-EC2 services. */
function javaDate(ms: number): string {
  const d = new Date(ms);
  const h = d.getUTCHours();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}, ${h % 12 === 0 ? 12 : h % 12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

/** `2024-01-05T15:04:05Z`: CloudTrail's eventTime (the last second's text is kept: calls come in bursts). */
let lastSecond = NaN;
let lastText = '';
export function isoSeconds(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    const d = new Date(second * 1000);
    const y = d.getUTCFullYear();
    const p2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);
    // Field by field: the first toISOString() of a process costs ~0.7 ms (a cold start's first call).
    lastText =
      y >= 1000 && y <= 9999
        ? `${y}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}T${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}Z`
        : d.toISOString().replace('.000Z', 'Z');
  }
  return lastText;
}

const lowerFirst = (s: string) => (s ? s.charAt(0).toLowerCase() + s.slice(1) : s);

function toMs(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return v < 1e11 ? v * 1000 : v;
  return Date.parse(String(v));
}

export class ParamFormatter {
  private readonly plans = new Map<StructShape, Plan[]>();
  private readonly ec2: boolean;

  constructor(private readonly model: ServiceModel) {
    this.ec2 = model.protocol === 'ec2';
  }

  private plan(shape: StructShape): Plan[] {
    let p = this.plans.get(shape);
    if (!p) {
      p = Object.entries(shape.m).map(([name, member]) => {
        const wire = this.ec2 ? (member.x ?? name) : (member.j ?? name);
        const s = resolve(this.model, member.s);
        // The key of each scalar item of an EC2 list: the list's item name, else the member's.
        const itemName = typeof s === 'object' && s.k === 'list' && s.x && s.x !== 'item' && s.x !== 'member' ? s.x : wire;
        return {
          name,
          key: lowerFirst(wire),
          member,
          shape: s,
          sensitive: (member as Member & { sn?: 1 }).sn === 1,
          itemKey: lowerFirst(itemName),
        };
      });
      this.plans.set(shape, p);
    }
    return p;
  }

  /** An operation's input (SDK member names) as requestParameters; null when there is nothing. */
  request(operation: string, input: Record<string, unknown> | undefined): Json {
    const op = this.model.ops[operation];
    if (!input || !op?.i) return null;
    const out = this.struct(this.model.shapes[op.i]!, input, true);
    return out && Object.keys(out).length ? out : null;
  }

  /** An operation's output as responseElements (EC2 adds requestId and `_return`). */
  response(operation: string, output: Record<string, unknown> | undefined, requestId: string): Json {
    const op = this.model.ops[operation];
    const body = op?.o && output ? this.struct(this.model.shapes[op.o]!, output, false) : undefined;
    if (this.ec2) {
      const r: Record<string, Json> = { requestId };
      if (body) {
        for (const [k, v] of Object.entries(body)) r[k === 'return' ? '_return' : k] = v;
      }
      if (!op?.o) r._return = true;
      return r;
    }
    return body && Object.keys(body).length ? body : null;
  }

  private struct(shape: StructShape, v: Record<string, unknown>, isRequest: boolean): Record<string, Json> | undefined {
    if (typeof v !== 'object' || v === null) return undefined;
    const out: Record<string, Json> = {};
    for (const p of this.plan(shape)) {
      const x = v[p.name];
      if (x === undefined || x === null) continue;
      if (p.sensitive) {
        if (this.ec2) out[p.key] = '<sensitiveDataRemoved>';
        else if (isRequest) out[p.key] = 'HIDDEN_DUE_TO_SECURITY_REASONS';
        continue;
      }
      const c = this.value(p.shape, x, isRequest, p.itemKey);
      if (c !== undefined) out[p.key] = c;
    }
    return out;
  }

  private value(shape: Shape, v: unknown, isRequest: boolean, itemKey: string): Json {
    if (typeof shape === 'string') {
      switch (shape) {
        case '#timestamp': {
          const ms = toMs(v);
          if (Number.isNaN(ms)) return String(v);
          return this.ec2 ? ms : javaDate(ms);
        }
        case '#blob':
          return v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v;
        case '#document':
          return v;
        default:
          return v;
      }
    }
    if (shape.k === 'struct') return this.struct(shape, v as Record<string, unknown>, isRequest);
    if (shape.k === 'list') {
      if (!Array.isArray(v)) return undefined;
      const item = resolve(this.model, shape.v);
      const scalar = typeof item === 'string';
      const items = v.map((x) => {
        const c = this.value(item, x, isRequest, itemKey);
        return this.ec2 && scalar ? { [itemKey]: c } : c;
      });
      return this.ec2 ? { items } : items;
    }
    if (typeof v !== 'object' || v === null) return undefined;
    const vShape = resolve(this.model, shape.v);
    // fromEntries defines each key (an assignment to `__proto__` would set the prototype instead).
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, this.value(vShape, x, isRequest, itemKey)]));
  }
}
