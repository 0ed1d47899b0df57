// Trails: CreateTrail, GetTrail, DescribeTrails, ListTrails, DeleteTrail, StartLogging,
// StopLogging, GetTrailStatus. A trail lives in its home region; a multi-region trail shows up
// as a "shadow" trail in the account's other regions (readable there, changeable only at home).
// Logging on/off is recorded as event-id ranges the delivery engine turns into log files.
import type {
  CreateTrailRequest,
  CreateTrailResponse,
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
import { TRAIL_KIND, type TrailDoc } from '../../cloudtrail/engine.ts';
import type { EventStore } from '../../cloudtrail/events.ts';
import { isoSeconds } from '../../cloudtrail/format.ts';

const MAX_TRAILS_PER_REGION = 5;

const trailArn = (ctx: Ctx, region: string, name: string) => `arn:${ctx.partition}:cloudtrail:${region}:${ctx.account}:trail/${name}`;

const notFound = (ctx: Ctx, nameOrArn: string) =>
  new ApiError(
    'TrailNotFoundException',
    `Unknown trail: ${nameOrArn.startsWith('arn:') ? nameOrArn : trailArn(ctx, ctx.region, nameOrArn)} for the user: ${ctx.account}`,
  );

function checkName(name: string): void {
  const bad = (why: string) => new ApiError('InvalidTrailNameException', why);
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

function required(ctx: Ctx, name: string | undefined): Found {
  if (!name)
    throw new ApiError(
      'InvalidTrailNameException',
      'Trail name or ARN can only contain ASCII letters, numbers, periods, underscores and dashes, and must not be empty.',
    );
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
    HasCustomEventSelectors: false,
    HasInsightSelectors: false,
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
      // At most 200 characters; no `.`/`..` segments and no control characters (NUL cannot be in a file name).
      if (
        input.S3KeyPrefix !== undefined &&
        (input.S3KeyPrefix.length > 200 || /(^|\/)\.\.?(\/|$)/.test(input.S3KeyPrefix) || /[\u0000-\u001f\u007f]/.test(input.S3KeyPrefix))
      ) {
        throw new ApiError('InvalidS3PrefixException', `The S3 key prefix ${input.S3KeyPrefix} is not valid.`);
      }
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
        tags: (input.TagsList ?? []).map((t) => ({ Key: t.Key!, Value: t.Value })),
        logging: false,
        pending: [],
        created: ctx.clock.now(),
      };
      ctx.tx.put(TRAIL_KIND, ctx.scope, doc);
      const t = toTrail(ctx, doc);
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
