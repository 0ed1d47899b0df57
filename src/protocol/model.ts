// The compact wire model extracted at build time from the AWS SDK v3 schemas
// (scripts/gen-models.mjs). Codecs walk these shapes; no operation has hand-written XML.
import { existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ScalarRef = '#string' | '#integer' | '#double' | '#boolean' | '#timestamp' | '#blob' | '#document';
export interface ListShape { k: 'list'; v: ShapeRef; x?: string }
export interface MapShape { k: 'map'; key: ShapeRef; v: ShapeRef; kx?: string; vx?: string }
export type ShapeRef = ScalarRef | string | ListShape | MapShape;
export interface Member {
  s: ShapeRef;
  /** ec2QueryName */ q?: string;
  /** xmlName */ x?: string;
  /** xmlFlattened */ f?: 1;
  /** jsonName */ j?: string;
  /** timestampFormat */ tf?: number;
  /** idempotencyToken */ it?: 1;
}
export interface StructShape { k: 'struct'; m: Record<string, Member>; r?: string[] }
export interface ErrorInfo { status?: number; code: string; type?: string }
export interface ServiceModel {
  service: string;
  protocol: 'ec2' | 'query' | 'json';
  version?: string;
  xmlns?: string;
  target?: string;
  ops: Record<string, { i: string | null; o: string | null }>;
  shapes: Record<string, StructShape>;
  errors: Record<string, ErrorInfo>;
}

export type Shape = StructShape | ListShape | MapShape | ScalarRef;

export function resolve(model: ServiceModel, ref: ShapeRef): Shape {
  if (typeof ref === 'string') {
    if (ref.charCodeAt(0) === 35 /* # */) return ref as ScalarRef;
    const s = model.shapes[ref];
    if (!s) throw new Error(`model ${model.service}: unknown shape ${ref}`);
    return s;
  }
  return ref;
}

let foundDir: string | undefined;
function modelsDir(): string {
  if (process.env.PALISADE_MODELS_DIR) return process.env.PALISADE_MODELS_DIR;
  return (foundDir ??= findModelsDir());
}

function findModelsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    for (const candidate of [join(dir, 'models'), join(dir, 'dist', 'models')]) {
      if (existsSync(join(candidate, 'ec2.json'))) return candidate;
    }
    dir = dirname(dir);
  }
  throw new Error('Palisade wire models not found: run `npm run build` (scripts/gen-models.mjs) first');
}

const SHAPES_MARK = Buffer.from('"shapes":{\n');

/**
 * `shapes` parsed one shape at a time, on first use. scripts/gen-models.mjs writes them last,
 * one per line (`"Name":{...}`), so starting the server parses only the head (operations,
 * errors) and a shape is found by searching the bytes for its line: the whole EC2 model is ~1 MB
 * of JSON, tens of milliseconds of a cold start. Reads through the proxy behave as on a plain
 * object (get, in, keys, entries).
 */
function lazyShapes(buf: Buffer, from: number): Record<string, StructShape> {
  const parsed: Record<string, StructShape> = Object.create(null);
  const absent = new Set<string>();
  let all: string[] | undefined;
  const get = (name: string): StructShape | undefined => {
    let s = parsed[name];
    if (s === undefined && !absent.has(name)) {
      // `from` is just past the newline that ends the `"shapes":{` line
      const at = buf.indexOf(`\n${JSON.stringify(name)}:`, from - 1);
      if (at < 0) {
        absent.add(name);
        return undefined;
      }
      const start = buf.indexOf(58 /* : */, at + 2) + 1;
      let end = buf.indexOf(10, start);
      if (end < 0) end = buf.length;
      if (buf[end - 1] === 44 /* , */) end--;
      s = parsed[name] = JSON.parse(buf.toString('utf8', start, end)) as StructShape;
    }
    return s;
  };
  const names = (): string[] => {
    if (!all) {
      all = [];
      for (let p = from; p < buf.length;) {
        let nl = buf.indexOf(10, p);
        if (nl < 0) nl = buf.length;
        if (buf[p] === 34 /* " */) all.push(JSON.parse(buf.toString('utf8', p, buf.indexOf(34, p + 1) + 1)) as string);
        p = nl + 1;
      }
    }
    return [...new Set([...all, ...Object.keys(parsed)])];
  };
  return shapesProxy(parsed, get, names, (name) => absent.delete(name));
}

const OPS_MARK = '"ops":{\n';

/**
 * The operations of a model head whose `"ops":{` section has one `"Name":{...}` per line from
 * `from` (a newline): each is found and parsed when first looked up (absent ones remembered too).
 */
function lazyOps(text: string, from: number): ServiceModel['ops'] {
  const end = text.indexOf('\n}', from);
  const found = new Map<string, { i: string | null; o: string | null } | undefined>();
  const get = (name: string) => {
    if (found.has(name)) return found.get(name);
    let op: { i: string | null; o: string | null } | undefined;
    const at = text.indexOf(`\n${JSON.stringify(name)}:`, from);
    if (at >= 0 && at < end) {
      const start = text.indexOf(':', at + name.length + 2) + 1;
      let stop = text.indexOf('\n', start);
      if (text.charCodeAt(stop - 1) === 44 /* , */) stop--;
      op = JSON.parse(text.slice(start, stop)) as { i: string | null; o: string | null };
    }
    found.set(name, op);
    return op;
  };
  const names = () => {
    const out: string[] = [];
    for (let p = from; p < end; p = text.indexOf('\n', p + 1)) out.push(JSON.parse(text.slice(p + 1, text.indexOf('":', p + 2) + 1)) as string);
    return out;
  };
  return new Proxy(Object.create(null) as ServiceModel['ops'], {
    get: (_t, name) => (typeof name === 'string' ? get(name) : undefined),
    has: (_t, name) => typeof name === 'string' && get(name) !== undefined,
    ownKeys: () => names(),
    getOwnPropertyDescriptor: (_t, name) => {
      const value = typeof name === 'string' ? get(name) : undefined;
      return value === undefined ? undefined : { value, writable: false, enumerable: true, configurable: true };
    },
  });
}

/** Reads through the proxy behave as on a plain object (get, in, keys, entries). */
function shapesProxy(
  parsed: Record<string, StructShape>, get: (name: string) => StructShape | undefined, names: () => string[], onSet?: (name: string) => void,
): Record<string, StructShape> {
  return new Proxy(parsed, {
    get: (_t, name) => (typeof name === 'string' ? get(name) : undefined),
    has: (_t, name) => typeof name === 'string' && get(name) !== undefined,
    ownKeys: () => {
      const keys = names();
      for (const k of keys) get(k);
      return keys;
    },
    getOwnPropertyDescriptor: (_t, name) => {
      const value = typeof name === 'string' ? get(name) : undefined;
      return value === undefined ? undefined : { value, writable: true, enumerable: true, configurable: true };
    },
    set: (_t, name, value) => {
      if (typeof name !== 'string') return false;
      parsed[name] = value as StructShape;
      onSet?.(name);
      return true;
    },
  }) as Record<string, StructShape>;
}

function parseModel(buf: Buffer): ServiceModel {
  const at = buf.indexOf(SHAPES_MARK);
  if (at < 0) return JSON.parse(buf.toString('utf8')) as ServiceModel;
  const head = JSON.parse(`${buf.toString('utf8', 0, at)}"shapes":{}}`) as ServiceModel;
  head.shapes = lazyShapes(buf, at + SHAPES_MARK.length);
  return head;
}

/**
 * With the build's byte index (<service>.index, see scripts/gen-models.mjs): the head is read and
 * parsed, and each shape is read from the file (its own bytes only) and parsed when first used.
 * A start then reads ~90 KB of the 930 KB EC2 model instead of all of it, and finding a shape is
 * a lookup, not a search.
 */
function indexedModel(file: string, index: Buffer): ServiceModel {
  const fd = openSync(file, 'r');
  const read = (start: number, end: number) => {
    const b = Buffer.allocUnsafe(end - start);
    readSync(fd, b, 0, b.length, start);
    return b.toString('utf8');
  };
  const count = index.readUInt32LE(4);
  const names = index.toString('utf8', 8 + count * 8).split('\n');
  let position: Map<string, number> | undefined;
  // The head ends with the operations, one per line (scripts/gen-models.mjs): the rest of it is
  // parsed now, each operation when first asked for (a start needs a few of EC2's 800).
  const headText = read(0, index.readUInt32LE(0));
  const opsAt = headText.lastIndexOf(OPS_MARK);
  const head = JSON.parse(`${opsAt < 0 ? headText : headText.slice(0, opsAt)}"shapes":{}}`) as ServiceModel;
  if (opsAt >= 0) head.ops = lazyOps(headText, opsAt + OPS_MARK.length - 1);
  const parsed: Record<string, StructShape> = Object.create(null);
  const get = (name: string): StructShape | undefined => {
    let s = parsed[name];
    if (s === undefined) {
      if (!position) {
        position = new Map();
        for (let i = 0; i < names.length; i++) position.set(names[i]!, i);
      }
      const i = position.get(name);
      if (i === undefined) return undefined;
      s = parsed[name] = JSON.parse(read(index.readUInt32LE(8 + i * 8), index.readUInt32LE(12 + i * 8))) as StructShape;
    }
    return s;
  };
  head.shapes = shapesProxy(parsed, get, () => [...new Set([...names, ...Object.keys(parsed)])]);
  return head;
}

const cache = new Map<string, ServiceModel>();
export function loadModel(service: string): ServiceModel {
  let m = cache.get(service);
  if (!m) {
    const dir = modelsDir();
    let index: Buffer | undefined;
    try {
      index = readFileSync(join(dir, `${service}.index`));
    } catch {
      index = undefined; // a models directory without the index (PALISADE_MODELS_DIR): search it
    }
    m = index ? indexedModel(join(dir, `${service}.json`), index) : parseModel(readFileSync(join(dir, `${service}.json`)));
    cache.set(service, m);
  }
  return m;
}
