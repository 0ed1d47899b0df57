// Decoder for the two form-encoded AWS protocols: `ec2` (EC2) and `query` (IAM, STS).
// Walks the operation's input shape from the SDK model; no per-operation code.
import { ApiError, err } from '../core/errors.ts';
import { resolve, type Member, type ServiceModel, type ShapeRef, type StructShape } from './model.ts';

interface Node {
  value?: string;
  children?: Map<string, Node>;
}

/** Parameters that belong to the envelope, not to the operation's input. */
const ENVELOPE =
  /^(Action|Version|X-Amz-[A-Za-z-]+|AWSAccessKeyId|SignatureVersion|SignatureMethod|Signature|Timestamp|Expires|SecurityToken)$/i;

function buildTree(params: Iterable<[string, string]>): Node {
  const root: Node = { children: new Map() };
  for (const [key, value] of params) {
    if (ENVELOPE.test(key)) continue;
    let node = root;
    for (const part of key.split('.')) {
      node.children ??= new Map();
      let next = node.children.get(part);
      if (!next) node.children.set(part, (next = {}));
      node = next;
    }
    node.value = value;
  }
  return root;
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** A query parameter path as Coral's validation messages name it: `Tags.member.2.Key` → `tags.2.member.key`. */
function coralPath(wirePath: string): string {
  const parts = wirePath.split('.');
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if ((p === 'member' || p === 'entry') && /^\d+$/.test(parts[i + 1] ?? '')) {
      out.push(parts[i + 1]!, p);
      i++;
    } else out.push(/^\d+$/.test(p) ? p : p.charAt(0).toLowerCase() + p.slice(1));
  }
  return out.join('.');
}

export class QueryDecoder {
  constructor(private readonly model: ServiceModel) {}

  private wireName(name: string, m: Member): string {
    if (this.model.protocol === 'ec2') return m.q ?? (m.x ? cap(m.x) : cap(name));
    return m.x ?? name;
  }

  /** Decodes the form parameters into the operation's input object (SDK member names). */
  decode(operation: string, params: Iterable<[string, string]>): Record<string, unknown> {
    const op = this.model.ops[operation];
    const tree = buildTree(params);
    if (!op?.i) {
      this.rejectUnknown(tree, '');
      return {};
    }
    const shape = this.model.shapes[op.i]!;
    const out = this.struct(shape, tree, '');
    return out;
  }

  private rejectUnknown(node: Node, prefix: string): void {
    if (this.model.protocol !== 'ec2' || !node.children) return;
    for (const key of node.children.keys()) {
      throw new ApiError('UnknownParameter', `The parameter ${prefix}${key} is not recognized`);
    }
  }

  private struct(shape: StructShape, node: Node, path: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    for (const [name, m] of Object.entries(shape.m)) {
      const wire = this.wireName(name, m);
      const child = node.children?.get(wire);
      if (!child) continue;
      seen.add(wire);
      const v = this.value(m.s, child, path + wire, m);
      if (v !== undefined) out[name] = v;
    }
    if (node.children && this.model.protocol === 'ec2') {
      for (const key of node.children.keys()) {
        if (!seen.has(key)) throw new ApiError('UnknownParameter', `The parameter ${path}${key} is not recognized`);
      }
    }
    const missing = (shape.r ?? []).filter((name) => out[name] === undefined);
    if (missing.length) {
      if (this.model.protocol === 'ec2') throw err.missing(path + this.wireName(missing[0]!, shape.m[missing[0]!]!));
      // IAM and STS validate like every Coral service: all at once, with the member's path.
      const at = (name: string) => coralPath(path + this.wireName(name, shape.m[name]!));
      const list = missing.map((name) => `Value null at '${at(name)}' failed to satisfy constraint: Member must not be null`);
      throw new ApiError('ValidationError', `${list.length} validation error${list.length > 1 ? 's' : ''} detected: ${list.join('; ')}`);
    }
    return out;
  }

  private indexed(node: Node, path: string): Node[] {
    if (!node.children) return [];
    const entries: [number, Node][] = [];
    for (const [k, v] of node.children) {
      if (!/^\d+$/.test(k) || Number(k) < 1) {
        throw new ApiError('UnknownParameter', `The parameter ${path}.${k} is not recognized`);
      }
      entries.push([Number(k), v]);
    }
    return entries.sort((a, b) => a[0] - b[0]).map((e) => e[1]);
  }

  private value(ref: ShapeRef, node: Node, path: string, member?: Member): unknown {
    const shape = resolve(this.model, ref);
    if (typeof shape === 'string') {
      // A scalar has no members: `GroupId.1.Foo` is unknown even when `GroupId.1` is given too.
      if (node.children) throw new ApiError('UnknownParameter', `The parameter ${path}.${[...node.children.keys()][0]} is not recognized`);
      if (node.value === undefined) return undefined;
      return scalar(shape, node.value, path);
    }
    // EC2 lists and structures exist on the wire only through their members (`GroupId.1`):
    // a value given to the name itself (`GroupId=sg-1`) would otherwise be dropped unseen.
    // (An empty one, the query protocol's empty-list marker, is harmless.)
    if (this.model.protocol === 'ec2' && node.value) throw new ApiError('UnknownParameter', `The parameter ${path} is not recognized`);
    if (shape.k === 'struct') return this.struct(shape, node, path + '.');
    if (shape.k === 'list') {
      let items = node;
      if (this.model.protocol === 'query' && !member?.f) {
        const wrapper = node.children?.get(shape.x ?? 'member');
        if (!wrapper) return node.value === '' ? [] : [];
        items = wrapper;
        path = `${path}.${shape.x ?? 'member'}`;
      }
      return this.indexed(items, path).map((n, i) => this.value(shape.v, n, `${path}.${i + 1}`));
    }
    // map
    let entries = node;
    if (this.model.protocol === 'query' && !member?.f) {
      const wrapper = node.children?.get('entry');
      if (!wrapper) return {};
      entries = wrapper;
      path = `${path}.entry`;
    }
    // fromEntries defines each key (an assignment to `__proto__` would set the prototype instead).
    const out: [string, unknown][] = [];
    for (const e of this.indexed(entries, path)) {
      const k = e.children?.get(shape.kx ?? 'key')?.value;
      const v = e.children?.get(shape.vx ?? 'value');
      if (k !== undefined && v) out.push([k, this.value(shape.v, v, `${path}.value`)]);
    }
    return Object.fromEntries(out);
  }
}

function scalar(kind: string, raw: string, path: string): unknown {
  switch (kind) {
    case '#integer': {
      if (!/^[-+]?\d+$/.test(raw.trim())) throw err.invalidValue(`Invalid value '${raw}' for ${path}: expected an integer`);
      const n = Number(raw);
      if (!Number.isSafeInteger(n)) throw err.invalidValue(`Invalid value '${raw}' for ${path}: integer out of range`);
      return n;
    }
    case '#double': {
      const n = Number(raw);
      if (raw.trim() === '' || Number.isNaN(n)) throw err.invalidValue(`Invalid value '${raw}' for ${path}: expected a number`);
      return n;
    }
    case '#boolean': {
      const v = raw.toLowerCase();
      if (v !== 'true' && v !== 'false') throw err.invalidValue(`Invalid value '${raw}' for ${path}: expected true or false`);
      return v === 'true';
    }
    case '#timestamp': {
      const d = /^\d+(\.\d+)?$/.test(raw) ? new Date(Number(raw) * 1000) : new Date(raw);
      if (Number.isNaN(d.getTime())) throw err.invalidValue(`Invalid value '${raw}' for ${path}: expected a timestamp`);
      return d;
    }
    default:
      return raw;
  }
}
