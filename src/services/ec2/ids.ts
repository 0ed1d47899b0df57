import { fillRandom } from '../../unique.ts';

// Random bytes drawn 4 KB at a time (ids are unique, not secret: see src/unique.ts).
const pool = Buffer.alloc(4096);
let used = pool.length;
function random(n: number): string {
  if (used + n > pool.length) {
    fillRandom(pool);
    used = 0;
  }
  used += n;
  return pool.toString('hex', used - n, used);
}

/** AWS-style resource id: prefix + 17 lower-case hex digits (`sg-0123456789abcdef0`). */
export function newId(prefix: string, hexDigits = 17): string {
  return `${prefix}-${random(Math.ceil(hexDigits / 2)).slice(0, hexDigits)}`;
}

const patterns = new Map<string, RegExp>();
/** The id syntax of a prefix (the RegExp is built once per prefix). */
export const ID_PATTERN = (prefix: string): RegExp => {
  let re = patterns.get(prefix);
  if (!re) patterns.set(prefix, (re = new RegExp(`^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`)));
  return re;
};

export function arn(partition: string, service: string, region: string, account: string, resource: string): string {
  return `arn:${partition}:${service}:${region}:${account}:${resource}`;
}
