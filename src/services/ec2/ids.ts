import { hexDigits } from '../../core/unique.ts';

/** AWS-style resource id: prefix + 17 lower-case hex digits (`sg-0123456789abcdef0`); unique, not secret (src/core/unique.ts). */
export function newId(prefix: string, digits = 17): string {
  return `${prefix}-${hexDigits(digits)}`;
}

// AWS's id grammar differs by resource. Documented forms ("Error codes for the Amazon EC2 API",
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html) are the short
// (8 hex digits) and long (17) ids; recorded answers show where AWS is looser:
// - security groups: any hex digits after `sg-` are well-formed — `sg-123abc` and `sg-bbfe0e` answer
//   InvalidGroup.NotFound (motdotla/node-lambda#162, getmoto/moto#5484), while `sg-xxxxxxxxxxxxxxxxx`
//   and ids without the prefix answer InvalidGroupId.Malformed;
// - VPCs: `vpc-012345678` (9 digits) answers InvalidVpcId.Malformed (ansible-collections/community.aws#1475),
//   so the 8-or-17 rule holds there; subnets, interfaces and instances keep the documented forms.
const LOOSE = new Set(['sg']);

const patterns = new Map<string, RegExp>();
/** The id syntax of a prefix (the RegExp is built once per prefix). */
export const ID_PATTERN = (prefix: string): RegExp => {
  let re = patterns.get(prefix);
  if (!re) {
    re = LOOSE.has(prefix) ? new RegExp(`^${prefix}-[0-9a-f]+$`) : new RegExp(`^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`);
    patterns.set(prefix, re);
  }
  return re;
};

export function arn(partition: string, service: string, region: string, account: string, resource: string): string {
  return `arn:${partition}:${service}:${region}:${account}:${resource}`;
}
