// STS's checks of a request before it acts: the model's constraints, reported as Coral (AWS's
// service framework) reports them — every failing member at once, in the order the input shape
// lists its members, in one ValidationError; then session tags (InvalidParameterValue) and the
// packed size of session policies and tags (PackedPolicySize, PackedPolicyTooLarge).
import { zlib } from '../../core/lazy.ts';
import { ApiError } from '../../core/errors.ts';

/** One member's constraints, from the STS model (botocore sts/2011-06-15 service-2.json). */
interface Constraint {
  /** the member as Coral names it: `roleSessionName`, `tags.1.member.key` */
  at: string;
  value: string | number | undefined;
  min?: number;
  max?: number;
  pattern?: { re: RegExp; text: string };
  /** a sensitive member: its value is left out of the message */
  sensitive?: boolean;
  /** a list's length (its value is then the list as Coral prints it) */
  length?: number;
}

const pattern = (text: string, re: RegExp) => ({ re, text });
export const P = {
  name: pattern('[\\w+=,.@-]*', /^[\w+=,.@-]*$/),
  externalId: pattern('[\\w+=,.@:\\/-]*', /^[\w+=,.@:/-]*$/),
  serial: pattern('[\\w+=/:,.@-]*', /^[\w+=/:,.@-]*$/),
  token: pattern('[\\d]*', /^\d*$/),
  tagKey: pattern('[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+', /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u),
  tagValue: pattern('[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*', /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u),
  policy: pattern('[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+', /^[\u0009\u000A\u000D\u0020-\u00FF]+$/),
};

function failures(c: Constraint): string[] {
  const v = c.value;
  if (v === undefined) return [];
  const head = c.sensitive ? `Value at '${c.at}'` : `Value '${v}' at '${c.at}'`;
  const out: string[] = [];
  const say = (what: string) => out.push(`${head} failed to satisfy constraint: Member must ${what}`);
  if (typeof v === 'number') {
    if (c.min !== undefined && v < c.min) say(`have value greater than or equal to ${c.min}`);
    if (c.max !== undefined && v > c.max) say(`have value less than or equal to ${c.max}`);
    return out;
  }
  // Coral reports the pattern before the length (a real answer: "Value '' at 'roleArn' failed to
  // satisfy constraint: Member must satisfy regular expression pattern: …; Value '' at 'roleArn'
  // failed to satisfy constraint: Member must have length greater than or equal to 20").
  if (c.pattern && !c.pattern.re.test(v)) say(`satisfy regular expression pattern: ${c.pattern.text}`);
  const length = c.length ?? v.length;
  if (c.min !== undefined && length < c.min) say(`have length greater than or equal to ${c.min}`);
  if (c.max !== undefined && length > c.max) say(`have length less than or equal to ${c.max}`);
  return out;
}

/** Throws one ValidationError naming every failing member, in the order given (the shape's). */
export function checkConstraints(constraints: Constraint[]): void {
  const list = constraints.flatMap(failures);
  if (list.length)
    throw new ApiError('ValidationError', `${list.length} validation error${list.length > 1 ? 's' : ''} detected: ${list.join('; ')}`, 400);
}

export const arnConstraint = (at: string, value: string | undefined): Constraint => ({ at, value, min: 20, max: 2048 });

export interface TagInput {
  Key?: string;
  Value?: string;
}

/** The constraints of `Tags` (at most 50; keys 1–128, values 0–256 of the tag character set). */
export function tagConstraints(tags: TagInput[] | undefined): Constraint[] {
  const list = tags ?? [];
  const out: Constraint[] = [];
  const shown = `[${list.map((t) => `Tag(key=${t.Key}, value=${t.Value})`).join(', ')}]`;
  if (list.length > 50) out.push({ at: 'tags', value: shown, length: list.length, max: 50 });
  list.forEach((t, i) => {
    out.push({ at: `tags.${i + 1}.member.key`, value: t.Key, min: 1, max: 128, pattern: P.tagKey });
    out.push({ at: `tags.${i + 1}.member.value`, value: t.Value, min: 0, max: 256, pattern: P.tagValue });
  });
  return out;
}

export function policyArnConstraints(arns: { arn?: string }[] | undefined): Constraint[] {
  return (arns ?? []).map((p, i) => arnConstraint(`policyArns.${i + 1}.member.arn`, p.arn));
}

const invalidValue = (message: string) => new ApiError('InvalidParameterValue', message, 400);

/**
 * Session tags of AssumeRole / GetFederationToken: keys are case-insensitive, so two keys that
 * differ only in case are duplicates; every transitive key must be one of the tags (compared
 * case-insensitively too). Messages as AWS answers them (recorded in localstack's AWS-validated
 * snapshot tests/aws/services/sts/test_sts.snapshot.json, test_assume_role_tag_validation).
 */
export function checkSessionTags(tags: TagInput[] | undefined, transitive: string[] | undefined): void {
  const list = tags ?? [];
  const keys = new Set<string>();
  for (const t of list) {
    const k = (t.Key ?? '').toLowerCase();
    if (keys.has(k)) throw invalidValue('Duplicate tag keys found. Please note that Tag keys are case insensitive.');
    keys.add(k);
  }
  for (const k of transitive ?? [])
    if (!keys.has(k.toLowerCase())) throw invalidValue('The specified transitive tag key must be included in the requested tags.');
}

/**
 * Role chaining: the calling session's transitive tags pass to the new session and cannot be
 * set again by the request (not even in another case) — InvalidParameterValue as recorded in
 * localstack's AWS-validated snapshot (test_iam_role_chaining_override_transitive_tags).
 */
export function checkTransitiveOverride(inherited: Record<string, string>, tags: TagInput[] | undefined): void {
  const taken = new Set(Object.keys(inherited).map((k) => k.toLowerCase()));
  for (const t of tags ?? [])
    if (taken.has((t.Key ?? '').toLowerCase()))
      throw invalidValue(
        "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the calling session.",
      );
}

/**
 * PackedPolicySize: "A percentage value that indicates the packed size of the session policies
 * and session tags combined passed in the request" (STS API reference, AssumeRole /
 * GetFederationToken). AWS compresses them into a binary form whose algorithm it does not
 * publish; this model compresses the policy document (and the policy ARNs) with DEFLATE and counts
 * the tags' characters as they are, each against its share of the allotted space, calibrated on
 * answers recorded from AWS: the policy of localstack's test_assume_role_with_policy (163
 * characters) packs to 16%; nine tags of 2 + 250 characters "consume 498% of allotted space"
 * (aws-actions/configure-aws-credentials#1898); nothing passed is 0 (GetFederationToken snapshot).
 */
const POLICY_SPACE = 850;

/** The policy without its insignificant whitespace (a packed form does not keep it). */
function minified(policy: string | undefined): string {
  if (policy === undefined) return '';
  try {
    return JSON.stringify(JSON.parse(policy));
  } catch {
    return policy;
  }
}
const TAG_SPACE = 456;

export function packedPercent(
  policy: string | undefined,
  policyArns: { arn?: string }[] | undefined,
  tags: TagInput[] | undefined,
): {
  total: number;
  tags: number;
} {
  const text = minified(policy) + (policyArns ?? []).map((p) => p.arn ?? '').join('');
  const packedPolicy = text ? zlib().deflateRawSync(Buffer.from(text, 'latin1'), { level: 9 }).length : 0;
  const tagChars = (tags ?? []).reduce((n, t) => n + Buffer.byteLength(t.Key ?? '') + Buffer.byteLength(t.Value ?? ''), 0);
  const tagShare = (tagChars / TAG_SPACE) * 100;
  return { total: Math.ceil((packedPolicy / POLICY_SPACE) * 100 + tagShare - 1e-9), tags: Math.ceil(tagShare - 1e-9) };
}
