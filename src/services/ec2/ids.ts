import { hexDigits } from '../../core/unique.ts';

/** AWS-style resource id: prefix + 17 lower-case hex digits (`sg-0123456789abcdef0`); unique, not secret (src/core/unique.ts). */
export function newId(prefix: string, digits = 17): string {
  return `${prefix}-${hexDigits(digits)}`;
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
