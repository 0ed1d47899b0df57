// The compact wire model extracted at build time from the AWS SDK v3 schemas
// (scripts/gen-models.mjs). Codecs walk these shapes; no operation has hand-written XML.
import { openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { modelsDir } from '../core/models-dir.ts';

type ScalarRef = '#string' | '#integer' | '#double' | '#boolean' | '#timestamp' | '#blob' | '#document';
interface ListShape {
  k: 'list';
  v: ShapeRef;
  x?: string;
}
interface MapShape {
  k: 'map';
  key: ShapeRef;
  v: ShapeRef;
  kx?: string;
  vx?: string;
}
export type ShapeRef = ScalarRef | string | ListShape | MapShape;
export interface Member {
  s: ShapeRef;
  /** ec2QueryName */ q?: string;
  /** xmlName */ x?: string;
  /** xmlFlattened */ f?: 1;
  /** jsonName */ j?: string;
  /**
   * timestampFormat, when not the protocol's default for where the value goes: Smithy's
   * timestamp schemas, 5 date-time, 6 http-date, 7 epoch-seconds (see TIMESTAMP_FORMAT).
   */
  tf?: number;
  /** idempotencyToken */ it?: 1;
  /** sensitive */ sn?: 1;
  // REST-XML (protocol `rest`): where the member travels and how its XML is written.
  /** httpLabel: a `{Name}` or `{Name+}` of the operation's URI */ l?: 1;
  /** httpQuery: the query parameter's name */ hq?: string;
  /** httpQueryParams: every query parameter not bound otherwise (a map) */ hqp?: 1;
  /** httpHeader: the header's name */ h?: string;
  /** httpPrefixHeaders: the prefix of the headers gathered in this map */ hp?: string;
  /** httpPayload: the body is this member */ p?: 1;
  /** httpResponseCode: the answer's status */ rc?: 1;
  /** xmlAttribute */ xa?: 1;
  /** xmlNamespace: [prefix, uri] */ xn?: [string, string] | [string];
  /** streaming (a blob payload sent or answered as a stream) */ st?: 1;
}
/** Smithy's timestamp formats as `tf` writes them. */
export const TIMESTAMP_FORMAT = { dateTime: 5, httpDate: 6, epochSeconds: 7 } as const;
export interface StructShape {
  k: 'struct';
  m: Record<string, Member>;
  r?: string[];
  /** rest: the structure's own xmlName (the root element of an input or output) */ x?: string;
  /** rest: the structure's own xmlNamespace [prefix, uri] */ xn?: [string, string] | [string];
}
/** A REST operation's `http` trait: method, URI pattern (`/{Bucket}/{Key+}?tagging`), status code. */
type HttpTrait = [method: string, uri: string, code: number];
interface OperationShapes {
  i: string | null;
  o: string | null;
  /** rest: the operation's http trait */ h?: HttpTrait;
}
interface ErrorInfo {
  status?: number;
  code: string;
  type?: string;
}
export interface ServiceModel {
  service: string;
  /** `rest`: S3's REST-XML (the name auth/authenticate.ts gives it too). */
  protocol: 'ec2' | 'query' | 'json' | 'rest';
  version?: string;
  xmlns?: string;
  target?: string;
  ops: Record<string, OperationShapes>;
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

/** Reads through the proxy behave as on a plain object (get, in, keys, entries). */
function lazyRecord<T = StructShape>(
  parsed: Record<string, T>,
  get: (name: string) => T | undefined,
  names: () => string[],
  onSet?: (name: string) => void,
): Record<string, T> {
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
      parsed[name] = value as T;
      onSet?.(name);
      return true;
    },
  }) as Record<string, T>;
}

/**
 * With the build's byte index (<service>.index, see scripts/gen-models.mjs): the small head
 * (service, protocol, errors) is read and parsed, and each operation and shape is read from the
 * file (its own bytes only) and parsed when first used, found by binary search in the index. A
 * first EC2 call reads a few KB of the 930 KB model, and builds no table of its 3,400 names.
 */
function indexedModel(file: string, index: Buffer): ServiceModel {
  const fd = openSync(file, 'r');
  const read = (start: number, end: number) => {
    const b = Buffer.allocUnsafe(end - start);
    readSync(fd, b, 0, b.length, start);
    return b.toString('utf8');
  };
  const head = JSON.parse(`${read(0, index.readUInt32LE(0))}"ops":{},"shapes":{}}`) as ServiceModel;
  const ops = byteTable(index, 8);
  const shapes = byteTable(index, index.readUInt32LE(4));
  const lazy = <T>(t: ReturnType<typeof byteTable>) => {
    const parsed: Record<string, T> = Object.create(null);
    const get = (name: string): T | undefined => {
      let v = parsed[name];
      if (v === undefined) {
        const at = t.find(name);
        if (at < 0) return undefined;
        v = parsed[name] = JSON.parse(read(index.readUInt32LE(at), index.readUInt32LE(at + 4))) as T;
      }
      return v;
    };
    return { parsed, get };
  };
  const o = lazy<ServiceModel['ops'][string]>(ops);
  head.ops = lazyRecord(o.parsed, o.get, () => ops.names());
  const sh = lazy<StructShape>(shapes);
  head.shapes = lazyRecord(sh.parsed, sh.get, () => [...new Set([...shapes.names(), ...Object.keys(sh.parsed)])]);
  return head;
}

/**
 * A name table of a model index (scripts/gen-models.mjs `table`) at byte `base`: `find` gives the
 * byte offset of a name's entry (its value's [start, end) in the model file) or -1, by binary
 * search over the names sorted by their bytes.
 */
function byteTable(index: Buffer, base: number): { find: (name: string) => number; names: () => string[] } {
  const count = index.readUInt32LE(base);
  const entry = (i: number) => base + 4 + i * 16;
  return {
    find(name) {
      const key = Buffer.from(name, 'utf8');
      let lo = 0;
      let hi = count - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const at = entry(mid);
        const c = index.compare(key, 0, key.length, base + index.readUInt32LE(at + 8), base + index.readUInt32LE(at + 12));
        if (c === 0) return at;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
      }
      return -1;
    },
    names() {
      const out: string[] = [];
      for (let i = 0; i < count; i++)
        out.push(index.toString('utf8', base + index.readUInt32LE(entry(i) + 8), base + index.readUInt32LE(entry(i) + 12)));
      return out;
    },
  };
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
    m = index
      ? indexedModel(join(dir, `${service}.json`), index)
      : (JSON.parse(readFileSync(join(dir, `${service}.json`), 'utf8')) as ServiceModel);
    cache.set(service, m);
  }
  return m;
}
