// Trails: CreateTrail, UpdateTrail, GetTrail, DescribeTrails, ListTrails, DeleteTrail,
// StartLogging, StopLogging, GetTrailStatus; their event selectors (Put/GetEventSelectors), Insights
// selectors (Put/GetInsightSelectors) and tags (AddTags, RemoveTags, ListTags). A trail lives in
// its home region; a multi-region trail shows up as a "shadow" trail in the account's other
// regions (readable there, changeable only at home). Logging on/off is recorded as event-id ranges
// the delivery engine turns into log files. CreateTrail and UpdateTrail check the bucket as
// CloudTrail does: it must exist (S3BucketDoesNotExistException) and its policy must let
// cloudtrail.amazonaws.com read its ACL and write the trail's log files
// (InsufficientS3BucketPolicyException), evaluated by the IAM policy engine.
import type {
  AddTagsRequest,
  AddTagsResponse,
  CreateTrailRequest,
  CreateTrailResponse,
  GetEventSelectorsRequest,
  GetEventSelectorsResponse,
  GetInsightSelectorsRequest,
  GetInsightSelectorsResponse,
  ListTagsRequest,
  ListTagsResponse,
  PutEventSelectorsRequest,
  PutEventSelectorsResponse,
  PutInsightSelectorsRequest,
  PutInsightSelectorsResponse,
  RemoveTagsRequest,
  RemoveTagsResponse,
  Tag,
  UpdateTrailRequest,
  UpdateTrailResponse,
  DeleteTrailRequest,
  DescribeTrailsRequest,
  DescribeTrailsResponse,
  GetTrailRequest,
  GetTrailResponse,
  GetTrailStatusRequest,
  GetTrailStatusResponse,
  ListTrailsRequest,
  ListTrailsResponse,
  StartLoggingRequest,
  StopLoggingRequest,
  Trail,
} from '@aws-sdk/client-cloudtrail';
import type { Ctx } from '../../core/context.ts';
import { ApiError } from '../../core/errors.ts';
import { TRAIL_KIND, trailDelivery, type TrailDoc } from '../../cloudtrail/engine.ts';
import { DEFAULT_EVENT_SELECTORS } from '../../cloudtrail/selectors.ts';
import { findBucket } from '../s3/storage.ts';
import { deliveryAllowed } from '../s3/bucket-policy.ts';
import { checkEventSelectors, checkInsightSelectors } from './selectors.ts';
import type { EventStore } from '../../cloudtrail/events.ts';
import { isoSeconds } from '../../cloudtrail/format.ts';

const MAX_TRAILS_PER_REGION = 5;

const trailArn = (ctx: Ctx, region: string, name: string) => `arn:${ctx.partition}:cloudtrail:${region}:${ctx.account}:trail/${name}`;

/**
 * The trail as the caller named it — a bare name stays bare, an ARN stays the ARN (real answers:
 * GetTrail "Unknown trail: residentcare-hipaa-audit-trail for the user: 955719295925"; UpdateTrail
 * "Unknown trail: myTrail2 for the user: 111122223333" in the CloudTrail User Guide's event
 * example; GetTrailStatus with an ARN quotes the ARN, elastic/cloudbeat#1750).
 */
const notFound = (ctx: Ctx, nameOrArn: string) =>
  new ApiError('TrailNotFoundException', `Unknown trail: ${nameOrArn} for the user: ${ctx.account}`);

function checkName(name: string): void {
  const bad = (why: string) => new ApiError('InvalidTrailNameException', why);
  // an empty name (AWS's answer quoted in clouddrove/terraform-aws-cloudtrail#14)
  if (name.length === 0) throw bad('Trail name cannot be blank!');
  if (name.length < 3)
    throw bad(`Trail name too short. Minimum allowed length: 3 characters. Specified name length: ${name.length} characters.`);
  if (name.length > 128)
    throw bad(`Trail name too long. Maximum allowed length: 128 characters. Specified name length: ${name.length} characters.`);
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw bad('Trail name can only contain ASCII letters, numbers, periods, underscores and dashes.');
  if (!/^[A-Za-z0-9]/.test(name) || !/[A-Za-z0-9]$/.test(name)) throw bad('Trail name must start and end with a letter or number.');
  if (/[._-]{2}/.test(name)) throw bad('Trail name cannot have adjacent periods, underscores or dashes.');
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) throw bad('Trail name cannot be in an IP address format.');
}

function checkBucket(name: string): void {
  const ok =
    name.length >= 3 &&
    name.length <= 63 &&
    /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name) &&
    !/\.\./.test(name) &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name);
  if (!ok) throw new ApiError('InvalidS3BucketNameException', `Bucket name is not valid: ${name}`);
}

/** At most 200 characters; no `.`/`..` segments and no control characters (NUL cannot be in a file name). */
function checkPrefix(prefix: string | undefined): void {
  if (prefix !== undefined && (prefix.length > 200 || /(^|\/)\.\.?(\/|$)/.test(prefix) || /[\u0000-\u001f\u007f]/.test(prefix))) {
    throw new ApiError('InvalidS3PrefixException', `The S3 key prefix ${prefix} is not valid.`);
  }
}

/**
 * CloudTrail's check of the trail's bucket: it exists (S3BucketDoesNotExistException, with the
 * message moto records), and its policy lets cloudtrail.amazonaws.com GetBucketAcl on it and
 * PutObject the trail's log files (with aws:SourceArn the trail, aws:SourceAccount the account,
 * s3:x-amz-acl bucket-owner-full-control) — a bucket without a policy does not.
 */
function checkDelivery(ctx: Ctx, trail: Pick<TrailDoc, 'bucket' | 'prefix' | 'arn' | 'account' | 'homeRegion'>): void {
  const bucket = findBucket(ctx.store.db, trail.bucket);
  if (!bucket) throw new ApiError('S3BucketDoesNotExistException', `S3 bucket ${trail.bucket} does not exist!`);
  if (!deliveryAllowed(ctx.store.db, bucket, trailDelivery(trail, ctx.partition, ctx.clock.now())))
    throw new ApiError('InsufficientS3BucketPolicyException', `Incorrect S3 bucket policy is detected for bucket: ${trail.bucket}`);
}

/** A trail's tags: keys 1–128 and values 0–256 characters, at most 50 (AddTags). */
const MAX_TAGS = 50;
function checkTags(tags: Tag[]): { Key: string; Value?: string }[] {
  for (const t of tags) {
    if (!t.Key || t.Key.length > 128 || (t.Value !== undefined && t.Value.length > 256) || t.Key.toLowerCase().startsWith('aws:'))
      throw new ApiError('InvalidTagParameterException', 'Tag key or value is invalid.');
  }
  return tags.map((t) => ({ Key: t.Key!, ...(t.Value !== undefined ? { Value: t.Value } : {}) }));
}
const tooManyTags = () =>
  new ApiError(
    'TagsLimitExceededException',
    `The number of tags per trail has exceeded the permitted amount. Currently, the limit is ${MAX_TAGS}.`,
  );

/** Tags added to a trail's: a key already there takes the new value. */
function mergeTags(old: { Key: string; Value?: string }[], added: { Key: string; Value?: string }[]): { Key: string; Value?: string }[] {
  const byKey = new Map(old.map((t) => [t.Key, t]));
  for (const t of added) byKey.set(t.Key, t);
  if (byKey.size > MAX_TAGS) throw tooManyTags();
  return [...byKey.values()];
}

/** The trail a tagging call names by ARN (CloudTrailARNInvalidException for anything else). */
function taggedTrail(ctx: Ctx, resourceId: string | undefined): Found {
  if (!resourceId || !resourceId.startsWith('arn:'))
    throw new ApiError('CloudTrailARNInvalidException', `The ARN ${resourceId ?? ''} is not valid.`);
  const f = find(ctx, resourceId);
  if (!f) throw new ApiError('ResourceNotFoundException', `Resource not found: ${resourceId}`);
  return f;
}

/** The account's trail scopes: `ACCOUNT/REGION`. */
function scopesOf(ctx: Ctx): string[] {
  return ctx.store.scopes(TRAIL_KIND).filter((s) => s.startsWith(`${ctx.account}/`));
}

interface Found {
  doc: TrailDoc;
  scope: string;
  home: boolean;
}

/** A trail by name or ARN: in this region, else a multi-region trail of another region (shadow). */
function find(ctx: Ctx, nameOrArn: string): Found | undefined {
  if (nameOrArn.startsWith('arn:')) {
    const m = /^arn:[^:]+:cloudtrail:([a-z0-9-]+):(\d{12}):trail\/(.+)$/.exec(nameOrArn);
    if (!m) throw new ApiError('CloudTrailARNInvalidException', `The ARN ${nameOrArn} is not valid.`);
    if (m[2] !== ctx.account) return undefined;
    const scope = `${ctx.account}/${m[1]}`;
    const doc = ctx.tx.get<TrailDoc>(TRAIL_KIND, scope, m[3]!);
    if (!doc || (m[1] !== ctx.region && !doc.multiRegion)) return undefined;
    return { doc, scope, home: m[1] === ctx.region };
  }
  const here = ctx.tx.get<TrailDoc>(TRAIL_KIND, ctx.scope, nameOrArn);
  if (here) return { doc: here, scope: ctx.scope, home: true };
  for (const scope of scopesOf(ctx)) {
    if (scope === ctx.scope) continue;
    const doc = ctx.tx.get<TrailDoc>(TRAIL_KIND, scope, nameOrArn);
    if (doc?.multiRegion) return { doc, scope, home: false };
  }
  return undefined;
}

/**
 * The trail a call names: a name (not an ARN) is validated as CreateTrail validates it before it
 * is looked up, so `?` is InvalidTrailNameException (too short), not TrailNotFoundException.
 */
function required(ctx: Ctx, name: string | undefined): Found {
  if (!name) throw new ApiError('InvalidTrailNameException', 'Trail name cannot be blank!');
  if (!name.startsWith('arn:')) checkName(name);
  const f = find(ctx, name);
  if (!f) throw notFound(ctx, name);
  return f;
}

function atHome(ctx: Ctx, f: Found): void {
  if (!f.home) {
    throw new ApiError('InvalidHomeRegionException', `This operation must be called from the trail's home region (${f.doc.homeRegion}).`);
  }
}

function snsArn(ctx: Ctx, region: string, topic: string | undefined): string | undefined {
  if (!topic) return undefined;
  return topic.startsWith('arn:') ? topic : `arn:${ctx.partition}:sns:${region}:${ctx.account}:${topic}`;
}

function toTrail(ctx: Ctx, d: TrailDoc): Trail {
  return {
    Name: d.name,
    S3BucketName: d.bucket,
    S3KeyPrefix: d.prefix,
    SnsTopicName: d.snsTopicName,
    SnsTopicARN: snsArn(ctx, d.homeRegion, d.snsTopicName),
    IncludeGlobalServiceEvents: d.includeGlobal,
    IsMultiRegionTrail: d.multiRegion,
    HomeRegion: d.homeRegion,
    TrailARN: d.arn,
    LogFileValidationEnabled: d.validation,
    CloudWatchLogsLogGroupArn: d.cwLogGroupArn,
    CloudWatchLogsRoleArn: d.cwRoleArn,
    KmsKeyId: d.kmsKeyId,
    HasCustomEventSelectors: d.eventSelectors !== undefined || d.advancedEventSelectors !== undefined,
    HasInsightSelectors: (d.insightSelectors?.length ?? 0) > 0,
    IsOrganizationTrail: false,
  };
}

/** CreateTrail's and UpdateTrail's answer: the trail's settings. */
function trailResponse(ctx: Ctx, d: TrailDoc): CreateTrailResponse & UpdateTrailResponse {
  const t = toTrail(ctx, d);
  return {
    Name: t.Name,
    S3BucketName: t.S3BucketName,
    S3KeyPrefix: t.S3KeyPrefix,
    SnsTopicName: t.SnsTopicName,
    SnsTopicARN: t.SnsTopicARN,
    IncludeGlobalServiceEvents: t.IncludeGlobalServiceEvents,
    IsMultiRegionTrail: t.IsMultiRegionTrail,
    TrailARN: t.TrailARN,
    LogFileValidationEnabled: t.LogFileValidationEnabled,
    CloudWatchLogsLogGroupArn: t.CloudWatchLogsLogGroupArn,
    CloudWatchLogsRoleArn: t.CloudWatchLogsRoleArn,
    KmsKeyId: t.KmsKeyId,
    IsOrganizationTrail: false,
  };
}

export function trailHandlers(events: EventStore) {
  return {
    CreateTrail(ctx: Ctx, input: CreateTrailRequest): CreateTrailResponse {
      const name = input.Name!;
      checkName(name);
      checkBucket(input.S3BucketName!);
      if (input.IsOrganizationTrail)
        throw new ApiError('OrganizationsNotInUseException', 'This account is not part of an organization in AWS Organizations.');
      const multiRegion = input.IsMultiRegionTrail ?? false;
      const includeGlobal = input.IncludeGlobalServiceEvents ?? true;
      if (multiRegion && !includeGlobal) {
        throw new ApiError('InvalidParameterCombinationException', 'Multi-Region trail must include global service events.');
      }
      checkPrefix(input.S3KeyPrefix);
      const tags = checkTags(input.TagsList ?? []);
      if (new Set(tags.map((t) => t.Key)).size > MAX_TAGS) throw tooManyTags();
      const taken =
        ctx.tx.get<TrailDoc>(TRAIL_KIND, ctx.scope, name) ??
        scopesOf(ctx)
          .map((s) => ctx.tx.get<TrailDoc>(TRAIL_KIND, s, name))
          .find((d) => d && (d.multiRegion || multiRegion));
      if (taken) throw new ApiError('TrailAlreadyExistsException', `Trail ${name} already exists for customer: ${ctx.account}`);
      if (ctx.tx.all<TrailDoc>(TRAIL_KIND, ctx.scope).length >= MAX_TRAILS_PER_REGION) {
        throw new ApiError(
          'MaximumNumberOfTrailsExceededException',
          `User: ${ctx.account} already has ${MAX_TRAILS_PER_REGION} trails in ${ctx.region}.`,
        );
      }
      const doc: TrailDoc = {
        id: name,
        name,
        arn: trailArn(ctx, ctx.region, name),
        account: ctx.account,
        homeRegion: ctx.region,
        bucket: input.S3BucketName!,
        prefix: input.S3KeyPrefix,
        snsTopicName: input.SnsTopicName,
        includeGlobal,
        multiRegion,
        validation: input.EnableLogFileValidation ?? false,
        cwLogGroupArn: input.CloudWatchLogsLogGroupArn,
        cwRoleArn: input.CloudWatchLogsRoleArn,
        kmsKeyId: input.KmsKeyId,
        tags: mergeTags([], tags),
        logging: false,
        pending: [],
        created: ctx.clock.now(),
      };
      checkDelivery(ctx, doc);
      ctx.tx.put(TRAIL_KIND, ctx.scope, doc);
      return trailResponse(ctx, doc);
    },

    /**
     * Every setting CreateTrail takes, each validated as there; an empty string removes an
     * optional one (prefix, SNS topic, KMS key, CloudWatch Logs). A new bucket or prefix is
     * checked as CreateTrail checks it.
     */
    UpdateTrail(ctx: Ctx, input: UpdateTrailRequest): UpdateTrailResponse {
      const f = required(ctx, input.Name);
      atHome(ctx, f);
      if (input.IsOrganizationTrail)
        throw new ApiError('OrganizationsNotInUseException', 'This account is not part of an organization in AWS Organizations.');
      if (input.S3BucketName !== undefined) checkBucket(input.S3BucketName);
      checkPrefix(input.S3KeyPrefix);
      const next: TrailDoc = { ...f.doc };
      const optional = <K extends 'prefix' | 'snsTopicName' | 'kmsKeyId' | 'cwLogGroupArn' | 'cwRoleArn'>(
        key: K,
        v: string | undefined,
      ) => {
        if (v === undefined) return;
        if (v === '') delete next[key];
        else next[key] = v;
      };
      if (input.S3BucketName !== undefined) next.bucket = input.S3BucketName;
      optional('prefix', input.S3KeyPrefix);
      optional('snsTopicName', input.SnsTopicName);
      optional('kmsKeyId', input.KmsKeyId);
      optional('cwLogGroupArn', input.CloudWatchLogsLogGroupArn);
      optional('cwRoleArn', input.CloudWatchLogsRoleArn);
      if (input.IncludeGlobalServiceEvents !== undefined) next.includeGlobal = input.IncludeGlobalServiceEvents;
      if (input.IsMultiRegionTrail !== undefined) next.multiRegion = input.IsMultiRegionTrail;
      if (input.EnableLogFileValidation !== undefined) next.validation = input.EnableLogFileValidation;
      if (next.multiRegion && !next.includeGlobal) {
        throw new ApiError('InvalidParameterCombinationException', 'Multi-Region trail must include global service events.');
      }
      if (next.multiRegion && !f.doc.multiRegion) {
        const clash = scopesOf(ctx).some((sc) => sc !== f.scope && ctx.tx.get<TrailDoc>(TRAIL_KIND, sc, next.name));
        if (clash) throw new ApiError('TrailAlreadyExistsException', `Trail ${next.name} already exists for customer: ${ctx.account}`);
      }
      if (input.S3BucketName !== undefined || input.S3KeyPrefix !== undefined) checkDelivery(ctx, next);
      ctx.tx.put(TRAIL_KIND, f.scope, next);
      return trailResponse(ctx, next);
    },

    PutEventSelectors(ctx: Ctx, input: PutEventSelectorsRequest): PutEventSelectorsResponse {
      const f = required(ctx, input.TrailName);
      atHome(ctx, f);
      const selectors = checkEventSelectors(input);
      const d = ctx.tx.edit<TrailDoc>(TRAIL_KIND, f.scope, f.doc.id)!;
      delete d.eventSelectors;
      delete d.advancedEventSelectors;
      Object.assign(d, selectors);
      return {
        TrailARN: d.arn,
        ...(selectors.advancedEventSelectors
          ? { AdvancedEventSelectors: selectors.advancedEventSelectors }
          : { EventSelectors: selectors.eventSelectors }),
      };
    },

    GetEventSelectors(ctx: Ctx, input: GetEventSelectorsRequest): GetEventSelectorsResponse {
      const d = required(ctx, input.TrailName).doc;
      if (d.advancedEventSelectors) return { TrailARN: d.arn, AdvancedEventSelectors: d.advancedEventSelectors };
      return { TrailARN: d.arn, EventSelectors: d.eventSelectors ?? DEFAULT_EVENT_SELECTORS };
    },

    PutInsightSelectors(ctx: Ctx, input: PutInsightSelectorsRequest): PutInsightSelectorsResponse {
      if (input.EventDataStore !== undefined || input.InsightsDestination !== undefined)
        throw new ApiError('InvalidParameterCombinationException', 'Event data stores are not supported by Palisade: name a trail.');
      const f = required(ctx, input.TrailName);
      atHome(ctx, f);
      const selectors = checkInsightSelectors(input.InsightSelectors);
      const d = ctx.tx.edit<TrailDoc>(TRAIL_KIND, f.scope, f.doc.id)!;
      if (selectors.length) d.insightSelectors = selectors;
      else delete d.insightSelectors;
      return { TrailARN: d.arn, InsightSelectors: selectors };
    },

    GetInsightSelectors(ctx: Ctx, input: GetInsightSelectorsRequest): GetInsightSelectorsResponse {
      if (input.EventDataStore !== undefined)
        throw new ApiError('InvalidParameterCombinationException', 'Event data stores are not supported by Palisade: name a trail.');
      const d = required(ctx, input.TrailName).doc;
      if (!d.insightSelectors?.length) throw new ApiError('InsightNotEnabledException', `Trail ${d.arn} does not have Insights enabled.`);
      return { TrailARN: d.arn, InsightSelectors: d.insightSelectors };
    },

    AddTags(ctx: Ctx, input: AddTagsRequest): AddTagsResponse {
      const f = taggedTrail(ctx, input.ResourceId);
      atHome(ctx, f);
      const tags = checkTags(input.TagsList ?? []);
      const d = ctx.tx.edit<TrailDoc>(TRAIL_KIND, f.scope, f.doc.id)!;
      d.tags = mergeTags(d.tags, tags);
      return {};
    },

    RemoveTags(ctx: Ctx, input: RemoveTagsRequest): RemoveTagsResponse {
      const f = taggedTrail(ctx, input.ResourceId);
      atHome(ctx, f);
      const keys = new Set(checkTags(input.TagsList ?? []).map((t) => t.Key));
      const d = ctx.tx.edit<TrailDoc>(TRAIL_KIND, f.scope, f.doc.id)!;
      d.tags = d.tags.filter((t) => !keys.has(t.Key));
      return {};
    },

    ListTags(ctx: Ctx, input: ListTagsRequest): ListTagsResponse {
      const ids = input.ResourceIdList ?? [];
      if (ids.length > 20) throw new ApiError('InvalidParameterException', 'ResourceIdList can contain at most 20 ARNs.');
      return {
        ResourceTagList: ids.map((id) => ({
          ResourceId: id,
          TagsList: taggedTrail(ctx, id).doc.tags.map((t) => ({ Key: t.Key, ...(t.Value !== undefined ? { Value: t.Value } : {}) })),
        })),
      };
    },

    GetTrail(ctx: Ctx, input: GetTrailRequest): GetTrailResponse {
      return { Trail: toTrail(ctx, required(ctx, input.Name).doc) };
    },

    DescribeTrails(ctx: Ctx, input: DescribeTrailsRequest): DescribeTrailsResponse {
      const shadows = input.includeShadowTrails ?? true;
      const names = input.trailNameList ?? [];
      if (names.length) {
        const out: Trail[] = [];
        for (const n of names) {
          const f = find(ctx, n);
          if (f && (f.home || shadows)) out.push(toTrail(ctx, f.doc));
        }
        return { trailList: out };
      }
      const out = ctx.tx.all<TrailDoc>(TRAIL_KIND, ctx.scope).map((d) => toTrail(ctx, d));
      if (shadows) {
        for (const scope of scopesOf(ctx)) {
          if (scope === ctx.scope) continue;
          for (const d of ctx.tx.all<TrailDoc>(TRAIL_KIND, scope)) if (d.multiRegion) out.push(toTrail(ctx, d));
        }
      }
      return { trailList: out };
    },

    ListTrails(ctx: Ctx, _input: ListTrailsRequest): ListTrailsResponse {
      const out = [];
      for (const scope of scopesOf(ctx)) {
        for (const d of ctx.tx.all<TrailDoc>(TRAIL_KIND, scope)) out.push({ TrailARN: d.arn, Name: d.name, HomeRegion: d.homeRegion });
      }
      return { Trails: out };
    },

    DeleteTrail(ctx: Ctx, input: DeleteTrailRequest): Record<string, never> {
      const f = required(ctx, input.Name);
      atHome(ctx, f);
      ctx.tx.delete(TRAIL_KIND, f.scope, f.doc.id);
      return {};
    },

    StartLogging(ctx: Ctx, input: StartLoggingRequest): Record<string, never> {
      const f = required(ctx, input.Name);
      atHome(ctx, f);
      if (!f.doc.logging) {
        const d = ctx.tx.edit<TrailDoc>(TRAIL_KIND, f.scope, f.doc.id)!;
        d.logging = true;
        d.startTime = ctx.clock.now();
        // Everything recorded from now on (this call included) is the trail's to deliver.
        d.pending.push([events.lastEventId(), null]);
      }
      return {};
    },

    StopLogging(ctx: Ctx, input: StopLoggingRequest): Record<string, never> {
      const f = required(ctx, input.Name);
      atHome(ctx, f);
      if (f.doc.logging) {
        const d = ctx.tx.edit<TrailDoc>(TRAIL_KIND, f.scope, f.doc.id)!;
        d.logging = false;
        d.stopTime = ctx.clock.now();
        const last = events.lastEventId();
        d.pending = d.pending.map(([a, b]) => [a, b ?? last]);
      }
      return {};
    },

    GetTrailStatus(ctx: Ctx, input: GetTrailStatusRequest): GetTrailStatusResponse {
      const d = required(ctx, input.Name).doc;
      const iso = (ms: number | undefined) => (ms === undefined ? '' : isoSeconds(ms));
      return {
        IsLogging: d.logging,
        ...(d.latestDeliveryTime !== undefined ? { LatestDeliveryTime: new Date(d.latestDeliveryTime) } : {}),
        ...(d.latestDeliveryError ? { LatestDeliveryError: d.latestDeliveryError } : {}),
        ...(d.startTime !== undefined ? { StartLoggingTime: new Date(d.startTime) } : {}),
        ...(d.stopTime !== undefined ? { StopLoggingTime: new Date(d.stopTime) } : {}),
        LatestDeliveryAttemptTime: iso(d.latestDeliveryAttempt),
        LatestDeliveryAttemptSucceeded: d.latestDeliveryError ? '' : iso(d.latestDeliveryTime),
        LatestNotificationAttemptTime: '',
        LatestNotificationAttemptSucceeded: '',
        TimeLoggingStarted: iso(d.startTime),
        TimeLoggingStopped: iso(d.stopTime),
      };
    },
  };
}
