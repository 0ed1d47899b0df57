// The compact wire model extracted at build time from the AWS SDK v3 schemas
// (scripts/gen-models.mjs). Codecs walk these shapes; no operation has hand-written XML.
import { existsSync, readFileSync } from 'node:fs';
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
    if (ref.startsWith('#')) return ref as ScalarRef;
    const s = model.shapes[ref];
    if (!s) throw new Error(`model ${model.service}: unknown shape ${ref}`);
    return s;
  }
  return ref;
}

function modelsDir(): string {
  if (process.env.PALISADE_MODELS_DIR) return process.env.PALISADE_MODELS_DIR;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    for (const candidate of [join(dir, 'models'), join(dir, 'dist', 'models')]) {
      if (existsSync(join(candidate, 'ec2.json'))) return candidate;
    }
    dir = dirname(dir);
  }
  throw new Error('Palisade wire models not found: run `npm run build` (scripts/gen-models.mjs) first');
}

const cache = new Map<string, ServiceModel>();
export function loadModel(service: string): ServiceModel {
  let m = cache.get(service);
  if (!m) {
    m = JSON.parse(readFileSync(join(modelsDir(), `${service}.json`), 'utf8')) as ServiceModel;
    cache.set(service, m);
  }
  return m;
}
