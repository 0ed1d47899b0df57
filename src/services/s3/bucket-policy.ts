// Bucket policies: S3's validation of a policy document (PutBucketPolicy), whether a policy is
// public (GetBucketPolicyStatus, Block Public Access), and what AWS services delivering logs into
// a bucket check before they write (CloudTrail, VPC Flow Logs): the bucket's policy evaluated by
// Palisade's IAM policy engine (auth/iam-policy.ts) for the service's principal.
import type Database from 'better-sqlite3';
import { evaluateTrust, parsePolicy, PolicyParseError, type ContextValue, type ParsedPolicy } from '../../auth/iam-policy.ts';
import { compileWildcard } from '../../core/wildcard.ts';
import { S3Error } from './errors.ts';
import { bucketConfig, type BucketRow } from './storage.ts';

/** "Bucket policies are limited to 20 KB in size" (S3 User Guide, "Bucket policies for Amazon S3"). */
export const MAX_POLICY_BYTES = 20 * 1024;

const malformed = (message: string) => new S3Error('MalformedPolicy', message, 400);

/**
 * Object-level actions: what applies to `arn:…:s3:::bucket/key` and not to the bucket itself (the
 * IAM Service Authorization Reference's "object" resource type for S3); the others are taken as
 * the bucket's.
 */
const OBJECT_ACTION =
  /^s3:((get|put|delete|restore|replicate)object|abortmultipartupload|listmultipartuploadparts|replicate(delete|tags))/i;

/** An AWS principal a bucket policy may name: everyone, an account, or an IAM/STS ARN (CloudFront's OAIs too). */
const AWS_PRINCIPAL = /^(\*|\d{12}|arn:aws[a-z-]*:(iam|sts)::(\d{12}|cloudfront):[^\s]+)$/;
/** A service principal (`cloudtrail.amazonaws.com`, `delivery.logs.amazonaws.com`, …). */
const SERVICE_PRINCIPAL = /^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/;

/** A glob of a policy (`*`, `?`) as a test of text (case-sensitive, as ARNs are; in linear time: the glob is the caller's). */
const globMatches = (glob: string, text: string): boolean => compileWildcard(glob, { question: true })(text);

/**
 * Does a policy's Resource name this bucket or its objects: `arn:PARTITION:s3:::NAME` or
 * `arn:PARTITION:s3:::NAME/…`, wildcards allowed in the name (`*` alone names everything)?
 */
function resourceOfBucket(resource: string, bucket: string, partition: string): 'bucket' | 'object' | 'both' | undefined {
  if (resource === '*') return 'both';
  const prefix = `arn:${partition}:s3:::`;
  if (!resource.startsWith(prefix)) return undefined;
  const rest = resource.slice(prefix.length);
  const slash = rest.indexOf('/');
  const name = slash < 0 ? rest : rest.slice(0, slash);
  if (slash < 0) {
    // `arn:aws:s3:::name*` may also reach the objects: `*` crosses the slash.
    if (!globMatches(name, bucket) && !(name.includes('*') && globMatches(name, `${bucket}/x`))) return undefined;
    return name.includes('*') ? 'both' : 'bucket';
  }
  return globMatches(name, bucket) || (name.includes('*') && globMatches(rest, `${bucket}/x`)) ? 'object' : undefined;
}

/**
 * A bucket policy as S3 takes it (PutBucketPolicy), or MalformedPolicy with S3's message: valid
 * JSON whose first byte is `{`, at most 20 KB, IAM's grammar (parsePolicy), then S3's own rules —
 * every statement names a principal and resources, its actions are S3's, its resources are this
 * bucket or its objects, some action applies to some resource, principals are of forms AWS
 * accepts. (Whether an IAM user or role ARN exists is not checked.)
 */
export function checkBucketPolicy(text: string, bucket: string, partition: string): ParsedPolicy {
  if (Buffer.byteLength(text) > MAX_POLICY_BYTES) throw malformed('Policy exceeds the maximum allowed document size.');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    doc = undefined;
  }
  if (!text.trimStart().startsWith('{') || doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw malformed(`Policies must be valid JSON and the first byte must be '{'`);
  let policy: ParsedPolicy;
  try {
    policy = parsePolicy(doc);
  } catch (e) {
    if (e instanceof PolicyParseError) throw malformed(e.message);
    throw e;
  }
  for (const s of policy.statements) {
    if (!s.Principal && !s.NotPrincipal) throw malformed('Missing required field Principal');
    if (!s.Resource && !s.NotResource) throw malformed('Missing required field Resource');
    for (const block of [s.Principal, s.NotPrincipal]) {
      if (!block || block === '*') continue;
      if (block.Federated) throw malformed('Invalid principal in policy');
      for (const a of block.AWS ?? []) if (!AWS_PRINCIPAL.test(a)) throw malformed('Invalid principal in policy');
      for (const svc of block.Service ?? []) if (!SERVICE_PRINCIPAL.test(svc)) throw malformed('Invalid principal in policy');
      for (const c of block.CanonicalUser ?? []) if (!/^[0-9a-f]{64}$/.test(c)) throw malformed('Invalid principal in policy');
    }
    const actions = s.Action ?? s.NotAction ?? [];
    for (const a of actions) if (a !== '*' && !/^s3:[A-Za-z0-9*?]+$/i.test(a)) throw malformed('Policy has invalid action');
    const kinds = new Set<string>();
    for (const r of s.Resource ?? s.NotResource ?? []) {
      const kind = resourceOfBucket(r, bucket, partition);
      if (!kind) throw malformed('Policy has invalid resource');
      kinds.add(kind);
    }
    // "Action does not apply to any resource(s) in statement": only object actions on the bucket, or only bucket actions on objects.
    if (s.Action && s.Resource && !kinds.has('both')) {
      const fits = s.Action.some((a) => /[*?]/.test(a) || kinds.has(OBJECT_ACTION.test(a) ? 'object' : 'bucket'));
      if (!fits) throw malformed('Action does not apply to any resource(s) in statement');
    }
  }
  return policy;
}

/**
 * Condition keys that limit a statement to known callers, so that a grant to `*` with one of them
 * is not public (S3 User Guide, "The meaning of 'public'"): with a value that is not a wildcard.
 */
const NARROWING_KEYS = new Set([
  'aws:sourceip',
  'aws:sourcearn',
  'aws:sourcevpc',
  'aws:sourcevpce',
  'aws:sourceowner',
  'aws:sourceaccount',
  'aws:principalorgid',
  'aws:principalaccount',
  'aws:principalarn',
  'aws:userid',
  's3:dataaccesspointarn',
  's3:dataaccesspointaccount',
]);

/**
 * Is the policy public: does an Allow statement grant to everyone (`*`, `{"AWS":"*"}`, or a
 * NotPrincipal) without a condition fixing the caller (NARROWING_KEYS with values that are not
 * wildcards, or an IP range narrower than the whole internet)?
 */
export function isPublicPolicy(policy: ParsedPolicy): boolean {
  return policy.statements.some((s) => {
    if (s.Effect !== 'Allow') return false;
    const everyone = s.NotPrincipal !== undefined || s.Principal === '*' || (s.Principal?.AWS ?? []).includes('*');
    if (!everyone) return false;
    for (const [op, block] of Object.entries(s.Condition ?? {})) {
      // Negated, optional or any-value operators fix no caller.
      if (/Not|IfExists$|^Null$|^ForAnyValue:/i.test(op)) continue;
      for (const [key, values] of Object.entries(block)) {
        if (
          NARROWING_KEYS.has(key.toLowerCase()) &&
          values.length &&
          values.every((v) => !/[*?]/.test(v) && v !== '0.0.0.0/0' && v !== '::/0')
        )
          return false;
      }
    }
    return true;
  });
}

/** A stored bucket policy, parsed (never throws: a policy that no longer parses grants nothing). */
export function storedPolicy(db: Database.Database, bucket: string): ParsedPolicy | undefined {
  const text = bucketConfig<string>(db, bucket, 'policy');
  if (typeof text !== 'string') return undefined;
  try {
    return parsePolicy(text);
  } catch {
    return undefined;
  }
}

/** What an AWS service delivering log files into a bucket is, and writes. */
export interface Delivery {
  /** the service principal: `cloudtrail.amazonaws.com`, `delivery.logs.amazonaws.com` */
  service: string;
  /** the account the logs are delivered for (aws:SourceAccount) */
  account: string;
  /** the resource the logs come from (aws:SourceArn): a trail's ARN, … */
  sourceArn: string;
  partition: string;
  /** a key the service writes: the policy must let it PutObject there */
  key: string;
}

/**
 * Does the bucket's policy let the service deliver: `s3:GetBucketAcl` on the bucket and
 * `s3:PutObject` on the key, with the context the service's requests carry (aws:SourceAccount,
 * aws:SourceArn, s3:x-amz-acl bucket-owner-full-control, a TLS connection)? Evaluated as a
 * resource policy: an explicit Deny wins, a statement applies only to the principals it names. A
 * bucket without a policy lets no service in.
 */
export function deliveryAllowed(db: Database.Database, bucket: BucketRow, d: Delivery): boolean {
  const policy = storedPolicy(db, bucket.name);
  if (!policy) return false;
  const context: Record<string, ContextValue> = {
    'aws:SourceAccount': d.account,
    'aws:SourceArn': d.sourceArn,
    'aws:SourceOwner': d.account,
    'aws:SecureTransport': true,
    'aws:PrincipalServiceName': d.service,
    'aws:PrincipalIsAWSService': true,
    's3:x-amz-acl': 'bucket-owner-full-control',
    'aws:ResourceAccount': bucket.account,
  };
  const allows = (action: string, resource: string) =>
    evaluateTrust(policy, { action, resource, principal: { service: d.service }, context }).decision === 'Allow';
  return (
    allows('s3:GetBucketAcl', `arn:${d.partition}:s3:::${bucket.name}`) &&
    allows('s3:PutObject', `arn:${d.partition}:s3:::${bucket.name}/${d.key}`)
  );
}
