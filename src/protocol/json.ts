// The AWS JSON 1.0/1.1 protocol (CloudTrail, CloudWatch Logs): X-Amz-Target routing, input
// checked against the SDK model's shapes, output with epoch-second timestamps, errors as
// {"__type": …, "message": …}.
import { ApiError } from '../core/errors.ts';
import { resolve, type ServiceModel, type ShapeRef, type StructShape } from './model.ts';

export class JsonCodec {
  constructor(
    private readonly model: ServiceModel,
    private readonly validationCode = 'ValidationException',
  ) {}

  decode(operation: string, body: string): Record<string, unknown> {
    let parsed: unknown = {};
    if (body.trim() !== '') {
      try {
        parsed = JSON.parse(body);
      } catch {
        throw new ApiError('SerializationException', 'Unable to parse the request body as JSON', 400);
      }
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new ApiError('SerializationException', 'The request body must be a JSON object', 400);
    const op = this.model.ops[operation];
    if (!op?.i) return {};
    return this.struct(this.model.shapes[op.i]!, parsed as Record<string, unknown>, '') as Record<string, unknown>;
  }

  private struct(shape: StructShape, v: Record<string, unknown>, path: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, m] of Object.entries(shape.m)) {
      const key = m.j ?? name;
      if (v[key] === undefined || v[key] === null) continue;
      out[name] = this.value(m.s, v[key], path + key);
    }
    for (const name of shape.r ?? []) {
      if (out[name] === undefined)
        throw new ApiError(
          this.validationCode,
          `1 validation error detected: Value null at '${path}${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`,
          400,
        );
    }
    return out;
  }

  private value(ref: ShapeRef, v: unknown, path: string): unknown {
    const shape = resolve(this.model, ref);
    const bad = (what: string) => new ApiError('SerializationException', `Expected ${what} at ${path}`, 400);
    if (typeof shape === 'string') {
      switch (shape) {
        case '#string':
          if (typeof v !== 'string') throw bad('a string');
          return v;
        case '#integer':
          if (typeof v !== 'number' || !Number.isInteger(v)) throw bad('an integer');
          return v;
        case '#double':
          if (typeof v !== 'number') throw bad('a number');
          return v;
        case '#boolean':
          if (typeof v !== 'boolean') throw bad('a boolean');
          return v;
        case '#timestamp': {
          const d =
            typeof v === 'number'
              ? new Date(v * 1000)
              : typeof v === 'string'
                ? new Date(/^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : v)
                : null;
          if (!d || Number.isNaN(d.getTime())) throw bad('a timestamp');
          return d;
        }
        default:
          return v;
      }
    }
    if (shape.k === 'struct') {
      if (typeof v !== 'object' || Array.isArray(v) || !v) throw bad('an object');
      return this.struct(shape, v as Record<string, unknown>, path + '.');
    }
    if (shape.k === 'list') {
      if (!Array.isArray(v)) throw bad('a list');
      return v.map((x, i) => this.value(shape.v, x, `${path}[${i}]`));
    }
    if (typeof v !== 'object' || Array.isArray(v) || !v) throw bad('a map');
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, this.value(shape.v, x, `${path}.${k}`)]));
  }

  encode(operation: string, output: Record<string, unknown> | undefined): string {
    const op = this.model.ops[operation];
    if (!op?.o || !output) return '{}';
    return JSON.stringify(this.out(op.o, output));
  }

  private out(ref: ShapeRef, v: unknown): unknown {
    const shape = resolve(this.model, ref);
    if (typeof shape === 'string') {
      if (shape === '#timestamp') {
        const ms = v instanceof Date ? v.getTime() : typeof v === 'number' ? v * 1000 : Date.parse(String(v));
        return ms / 1000;
      }
      return v;
    }
    if (shape.k === 'struct') {
      const o: Record<string, unknown> = {};
      for (const [name, m] of Object.entries(shape.m)) {
        const x = (v as Record<string, unknown>)[name];
        if (x !== undefined && x !== null) o[m.j ?? name] = this.out(m.s, x);
      }
      return o;
    }
    if (shape.k === 'list') return (v as unknown[]).map((x) => this.out(shape.v, x));
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, this.out(shape.v, x)]));
  }

  error(code: string, message: string): string {
    return JSON.stringify({ __type: code, message });
  }
}
