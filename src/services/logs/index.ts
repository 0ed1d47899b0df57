// Amazon CloudWatch Logs (JSON 1.1, `Logs_20140328`): log groups (with retention and tags, by
// name or by ARN), log streams and log events — enough to receive VPC flow logs, to read them with
// the aws CLI, boto3 or the SDK, and for Terraform's aws_cloudwatch_log_group. Groups and streams
// are store documents; events live in their own SQLite table, written in the call's transaction.
import type {
  CreateLogGroupRequest,
  CreateLogStreamRequest,
  DeleteLogGroupRequest,
  DeleteRetentionPolicyRequest,
  DescribeLogGroupsRequest,
  DescribeLogGroupsResponse,
  DescribeLogStreamsRequest,
  DescribeLogStreamsResponse,
  FilterLogEventsRequest,
  FilterLogEventsResponse,
  GetLogEventsRequest,
  GetLogEventsResponse,
  InputLogEvent,
  LogGroup,
  LogStream,
  PutLogEventsRequest,
  PutLogEventsResponse,
  PutLogGroupDeletionProtectionRequest,
  PutRetentionPolicyRequest,
  RejectedLogEventsInfo,
  DeleteLogStreamRequest,
  ListTagsForResourceRequest,
  ListTagsForResourceResponse,
  ListTagsLogGroupRequest,
  ListTagsLogGroupResponse,
  TagLogGroupRequest,
  TagResourceRequest,
  UntagLogGroupRequest,
  UntagResourceRequest,
} from '@aws-sdk/client-cloudwatch-logs';
import type Database from 'better-sqlite3';
import type { Ctx, Handler, ServiceDef } from '../../core/context.ts';
import { ApiError } from '../../core/errors.ts';
import { loadModel } from '../../protocol/model.ts';
import type { Doc, Store } from '../../store/store.ts';
import { compileFilterPattern, FilterPatternError } from './filter-pattern.ts';

const LOGS_KIND = { group: 'logs-group', stream: 'logs-stream' } as const;

interface LogGroupDoc extends Doc {
  /** id = the log group name */
  created: number;
  retentionInDays?: number;
  kmsKeyId?: string;
  logGroupClass: string;
  tags: Record<string, string>;
  deletionProtection?: boolean;
}

interface LogStreamDoc extends Doc {
  /** id = the log stream name */
  created: number;
  firstEventTimestamp?: number;
  lastEventTimestamp?: number;
  lastIngestionTime?: number;
  storedBytes: number;
  sequence: number;
}

const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
const DAY = 86_400_000;
const MAX_BATCH_BYTES = 1_048_576;
const EVENT_OVERHEAD = 26;

const invalid = (message: string) => new ApiError('InvalidParameterException', message);
const groupNotFound = () => new ApiError('ResourceNotFoundException', 'The specified log group does not exist.');
const streamNotFound = () => new ApiError('ResourceNotFoundException', 'The specified log stream does not exist.');
const validation = (value: string, member: string, constraint: string) =>
  invalid(`1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${constraint}`);

const ready = new WeakSet<Database.Database>();
function logsTables(db: Database.Database): void {
  if (ready.has(db)) return;
  db.exec(`CREATE TABLE IF NOT EXISTS logs_events (id INTEGER PRIMARY KEY AUTOINCREMENT, scope TEXT NOT NULL, grp TEXT NOT NULL,
      stream TEXT NOT NULL, ts INTEGER NOT NULL, ingest INTEGER NOT NULL, message TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS logs_events_stream ON logs_events (scope, grp, stream, ts, id);
    CREATE INDEX IF NOT EXISTS logs_events_group ON logs_events (scope, grp, ts, id);`);
  ready.add(db);
}

/** Tables and their reset, once per store. */
function attachLogs(store: Store): void {
  logsTables(store.db);
  store.onReset((db) => db.exec('DELETE FROM logs_events'));
}

const streamScope = (ctx: Ctx, group: string) => `${ctx.scope}\u0000${group}`;
const groupArn = (ctx: Ctx, name: string) => `arn:${ctx.partition}:logs:${ctx.region}:${ctx.account}:log-group:${name}`;

/**
 * A group or stream name over 512 characters: AWS answers with this sentence rather than the
 * model's constraint (CreateLogGroup with 513 characters, localstack's AWS-validated snapshot
 * tests/aws/services/logs/test_logs_groups.snapshot.json, test_create_log_group_invalid_name_length).
 */
const tooLong = () => invalid('Invalid LogGroup or LogStream, both must have length less than or equal to 512.');

function checkGroupName(name: string | undefined, member = 'logGroupName'): string {
  if (name === undefined) throw validation('null', member, 'Member must not be null');
  if (name.length > 512) throw tooLong();
  if (name.length < 1) throw validation(name, member, 'Member must have length greater than or equal to 1');
  if (!/^[.\-_/#A-Za-z0-9]+$/.test(name))
    throw validation(name, member, 'Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+');
  return name;
}

function checkStreamName(name: string): string {
  if (name.length > 512) throw tooLong();
  if (name.length < 1) throw validation(name, 'logStreamName', 'Member must have length greater than or equal to 1');
  if (/[:*]/.test(name)) throw validation(name, 'logStreamName', 'Member must satisfy regular expression pattern: [^:*]*');
  return name;
}

/**
 * A logGroupIdentifier: a name or an ARN without the trailing `:*` ("If you specify the ARN of a
 * log group, don't include the trailing :*", API reference) — the model's pattern
 * `[\w#+=/:,.@-]*` has no `*`, so one ending in `:*` fails it (InvalidParameterException).
 */
function identifierName(id: string, member = 'logGroupIdentifier'): string {
  if (id.length < 1 || id.length > 2048)
    throw validation(id, member, `Member must have length ${id.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 2048'}`);
  if (!/^[\w#+=/:,.@-]*$/.test(id)) throw validation(id, member, 'Member must satisfy regular expression pattern: [\\w#+=/:,.@-]*');
  const m = /^arn:[^:]+:logs:[^:]*:[^:]*:log-group:([^:]+)$/.exec(id);
  return checkGroupName(m ? m[1]! : id, member);
}

/** The group named by logGroupName or logGroupIdentifier (a name or an ARN). */
function groupName(input: { logGroupName?: string; logGroupIdentifier?: string }): string {
  if (input.logGroupName !== undefined && input.logGroupIdentifier !== undefined) {
    // ValidationException, not InvalidParameterException (localstack's AWS-validated snapshot
    // test_logs_streams.snapshot.json, error-both-name-and-identifier)
    throw new ApiError('ValidationException', 'LogGroup name and LogGroup ARN are mutually exclusive parameters.');
  }
  const id = input.logGroupIdentifier;
  if (id !== undefined) return identifierName(id);
  if (input.logGroupName === undefined) throw invalid('Should provide either name or identifier.');
  return checkGroupName(input.logGroupName);
}

/** "You can assign up to 50 tags to a log group" (TagResource); keys 1–128, values 0–256 characters of these. */
const MAX_TAGS = 50;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;
const showTags = (tags: Record<string, string>) =>
  `{${Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')}}`;

/** Tags a request sets, checked as the service's model constrains them (InvalidParameterException with its text). */
function checkTags(tags: Record<string, string> | undefined, member = 'tags'): Record<string, string> {
  const t = tags ?? {};
  const keys = Object.keys(t);
  if (keys.length > MAX_TAGS) throw validation(showTags(t), member, `Member must have length less than or equal to ${MAX_TAGS}`);
  for (const [k, v] of Object.entries(t)) {
    if (!TAG_KEY.test(k))
      throw validation(
        showTags(t),
        member,
        'Map key must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$]',
      );
    if (typeof v !== 'string' || !TAG_VALUE.test(v))
      throw validation(
        showTags(t),
        member,
        'Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0, Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$]',
      );
    if (k.toLowerCase().startsWith('aws:')) throw invalid('Tag keys beginning with aws: are reserved for AWS use.');
  }
  return { ...t };
}

/** Tag keys a request removes (UntagResource, UntagLogGroup). */
function checkTagKeys(keys: string[] | undefined, member: string): string[] {
  const list = keys ?? [];
  if (list.length < 1 || list.length > MAX_TAGS)
    throw validation(
      `[${list.join(', ')}]`,
      member,
      `Member must have length ${list.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_TAGS}`}`,
    );
  for (const k of list)
    if (!TAG_KEY.test(k))
      throw validation(
        `[${list.join(', ')}]`,
        member,
        'Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]',
      );
  return list;
}

/** Adds tags to a group's; more than 50 in all is TooManyTagsException, and nothing changes. */
function addTags(ctx: Ctx, name: string, tags: Record<string, string>): void {
  const g = getGroup(ctx, name);
  const merged = { ...g.tags, ...tags };
  if (Object.keys(merged).length > MAX_TAGS)
    throw new ApiError('TooManyTagsException', `A resource can have no more than ${MAX_TAGS} tags.`);
  ctx.tx.edit<LogGroupDoc>(LOGS_KIND.group, ctx.scope, name)!.tags = merged;
}

function removeTags(ctx: Ctx, name: string, keys: string[]): void {
  getGroup(ctx, name);
  const g = ctx.tx.edit<LogGroupDoc>(LOGS_KIND.group, ctx.scope, name)!;
  const tags = { ...g.tags };
  for (const k of keys) delete tags[k];
  g.tags = tags;
}

/**
 * The log group a resource ARN names (`arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME`, with or
 * without the `:*` DescribeLogGroups' `arn` ends with): one of the caller's groups here, or
 * ResourceNotFoundException; an ARN of another form is InvalidParameterException.
 */
function groupOfArn(ctx: Ctx, arn: string | undefined): string {
  if (arn === undefined) throw validation('null', 'resourceArn', 'Member must not be null');
  const m = /^arn:([^:]+):logs:([^:]*):(\d{12}):log-group:([^:]+)(:\*)?$/.exec(arn);
  if (!m) {
    if (/^arn:[^:]+:logs:[^:]*:\d{12}:[a-z-]+:/.test(arn))
      throw new ApiError('ResourceNotFoundException', 'The specified resource does not exist.');
    throw invalid(`Invalid resource ARN: ${arn}`);
  }
  if (m[1] !== ctx.partition || m[2] !== ctx.region || m[3] !== ctx.account) throw groupNotFound();
  const name = checkGroupName(m[4], 'resourceArn');
  getGroup(ctx, name);
  return name;
}

function getGroup(ctx: Ctx, name: string): LogGroupDoc {
  const g = ctx.tx.get<LogGroupDoc>(LOGS_KIND.group, ctx.scope, name);
  if (!g) throw groupNotFound();
  return g;
}

function limitOf(v: number | undefined, max: number, def: number): number {
  if (v === undefined) return def;
  if (v < 1) throw validation(String(v), 'limit', 'Member must have value greater than or equal to 1');
  if (v > max) throw validation(String(v), 'limit', `Member must have value less than or equal to ${max}`);
  return v;
}

const token = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64');
function untoken<T>(t: string | undefined, check: (x: unknown) => boolean): T | undefined {
  if (t === undefined) return undefined;
  try {
    const v = JSON.parse(Buffer.from(t, 'base64').toString('utf8')) as unknown;
    if (check(v)) return v as T;
  } catch {
    // fall through
  }
  throw invalid('The specified nextToken is invalid.');
}

function createGroup(
  ctx: Ctx,
  name: string,
  opts: { kmsKeyId?: string; tags?: Record<string, string>; logGroupClass?: string; deletionProtection?: boolean } = {},
): LogGroupDoc {
  return ctx.tx.put<LogGroupDoc>(LOGS_KIND.group, ctx.scope, {
    id: name,
    created: ctx.clock.now(),
    logGroupClass: opts.logGroupClass ?? 'STANDARD',
    tags: opts.tags ?? {},
    ...(opts.kmsKeyId ? { kmsKeyId: opts.kmsKeyId } : {}),
    ...(opts.deletionProtection ? { deletionProtection: true } : {}),
  });
}

function createStream(ctx: Ctx, group: string, name: string): LogStreamDoc {
  return ctx.tx.put<LogStreamDoc>(LOGS_KIND.stream, streamScope(ctx, group), {
    id: name,
    created: ctx.clock.now(),
    storedBytes: 0,
    sequence: 1,
  });
}

const sequenceToken = (n: number) => String(n).padStart(56, '0');

/** Stores accepted events (in chronological order) and updates the stream's counters. */
function appendEvents(ctx: Ctx, group: string, streamName: string, events: { timestamp: number; message: string }[]): string {
  const s = ctx.tx.edit<LogStreamDoc>(LOGS_KIND.stream, streamScope(ctx, group), streamName)!;
  const now = ctx.clock.now();
  s.sequence += 1;
  if (events.length) {
    const first = events[0]!.timestamp;
    const last = events[events.length - 1]!.timestamp;
    s.firstEventTimestamp = s.firstEventTimestamp === undefined ? first : Math.min(s.firstEventTimestamp, first);
    s.lastEventTimestamp = s.lastEventTimestamp === undefined ? last : Math.max(s.lastEventTimestamp, last);
    s.lastIngestionTime = now;
    s.storedBytes += events.reduce((n, e) => n + Buffer.byteLength(e.message), 0);
    const scope = ctx.scope;
    const rows = events.map((e) => [scope, group, streamName, e.timestamp, now, e.message] as const);
    ctx.tx.write((db) => {
      const ins = db.prepare('INSERT INTO logs_events (scope, grp, stream, ts, ingest, message) VALUES (?, ?, ?, ?, ?, ?)');
      for (const r of rows) ins.run(...r);
    });
  }
  return sequenceToken(s.sequence);
}

/**
 * Delivery by an AWS service (VPC Flow Logs): the group and stream are created if missing, as
 * the flow logs service does with its role's permissions; events are sorted, never rejected.
 */
export function deliverLogEvents(ctx: Ctx, group: string, stream: string, events: { timestamp: number; message: string }[]): void {
  logsTables(ctx.store.db);
  if (!ctx.tx.get<LogGroupDoc>(LOGS_KIND.group, ctx.scope, group)) createGroup(ctx, group);
  if (!ctx.tx.get<LogStreamDoc>(LOGS_KIND.stream, streamScope(ctx, group), stream)) createStream(ctx, group, stream);
  appendEvents(
    ctx,
    group,
    stream,
    [...events].sort((a, b) => a.timestamp - b.timestamp),
  );
}

interface EventRow {
  id: number;
  stream: string;
  ts: number;
  ingest: number;
  message: string;
}

function retentionCutoff(ctx: Ctx, g: LogGroupDoc): number {
  return g.retentionInDays ? ctx.clock.now() - g.retentionInDays * DAY : -Infinity;
}

function toGroup(ctx: Ctx, g: LogGroupDoc): LogGroup {
  const streams = ctx.tx.all<LogStreamDoc>(LOGS_KIND.stream, streamScope(ctx, g.id));
  const arn = groupArn(ctx, g.id);
  return {
    logGroupName: g.id,
    creationTime: g.created,
    retentionInDays: g.retentionInDays,
    metricFilterCount: 0,
    arn: `${arn}:*`,
    logGroupArn: arn,
    // the group's bytes (log groups still report them; streams do not, below)
    storedBytes: streams.reduce((n, s) => n + s.storedBytes, 0),
    kmsKeyId: g.kmsKeyId,
    logGroupClass: g.logGroupClass as never,
    dataProtectionStatus: undefined,
    deletionProtectionEnabled: g.deletionProtection ?? false,
  };
}

function toStream(ctx: Ctx, group: string, s: LogStreamDoc): LogStream {
  return {
    logStreamName: s.id,
    creationTime: s.created,
    firstEventTimestamp: s.firstEventTimestamp,
    lastEventTimestamp: s.lastEventTimestamp,
    lastIngestionTime: s.lastIngestionTime,
    // No uploadSequenceToken (PutLogEvents ignores sequence tokens; AWS's DescribeLogStreams
    // answers have none: localstack's AWS-validated snapshot test_logs_streams.snapshot.json), and
    // storedBytes always 0: "As of June 17, 2019, this parameter is no longer supported for log
    // streams, and is always reported as zero" (API reference, LogStream).
    arn: `${groupArn(ctx, group)}:log-stream:${s.id}`,
    storedBytes: 0,
  };
}

const eventId = (r: EventRow) => `${String(r.ts).padStart(20, '0')}${String(r.id).padStart(36, '0')}`;

const logsHandlers = {
  CreateLogGroup(ctx: Ctx, input: CreateLogGroupRequest): Record<string, never> {
    const name = checkGroupName(input.logGroupName);
    if (name.toLowerCase().startsWith('aws/')) throw invalid(`Log group names starting with 'aws/' are reserved for AWS services.`);
    if (input.logGroupClass !== undefined && !['STANDARD', 'INFREQUENT_ACCESS', 'DELIVERY'].includes(input.logGroupClass)) {
      throw validation(input.logGroupClass, 'logGroupClass', 'Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]');
    }
    const tags = checkTags(input.tags);
    if (ctx.tx.get<LogGroupDoc>(LOGS_KIND.group, ctx.scope, name))
      throw new ApiError('ResourceAlreadyExistsException', 'The specified log group already exists');
    createGroup(ctx, name, {
      kmsKeyId: input.kmsKeyId,
      tags,
      logGroupClass: input.logGroupClass,
      deletionProtection: input.deletionProtectionEnabled,
    });
    return {};
  },

  PutLogGroupDeletionProtection(ctx: Ctx, input: PutLogGroupDeletionProtectionRequest): Record<string, never> {
    const name = identifierName(input.logGroupIdentifier ?? '');
    getGroup(ctx, name);
    const g = ctx.tx.edit<LogGroupDoc>(LOGS_KIND.group, ctx.scope, name)!;
    if (input.deletionProtectionEnabled) g.deletionProtection = true;
    else delete g.deletionProtection;
    return {};
  },

  DeleteLogGroup(ctx: Ctx, input: DeleteLogGroupRequest): Record<string, never> {
    const name = checkGroupName(input.logGroupName);
    // "you receive a ValidationException with the message: …" (CloudWatch Logs User Guide,
    // protecting-log-groups-from-deletion)
    if (getGroup(ctx, name).deletionProtection)
      throw new ApiError(
        'ValidationException',
        'Cannot delete log group with deletion protection enabled. Disable deletion protection first.',
      );
    ctx.tx.delete(LOGS_KIND.group, ctx.scope, name);
    for (const s of ctx.tx.all<LogStreamDoc>(LOGS_KIND.stream, streamScope(ctx, name)))
      ctx.tx.delete(LOGS_KIND.stream, streamScope(ctx, name), s.id);
    const scope = ctx.scope;
    ctx.tx.write((db) => db.prepare('DELETE FROM logs_events WHERE scope = ? AND grp = ?').run(scope, name));
    return {};
  },

  DescribeLogGroups(ctx: Ctx, input: DescribeLogGroupsRequest): DescribeLogGroupsResponse {
    if (input.logGroupNamePrefix !== undefined && input.logGroupNamePattern !== undefined) {
      throw invalid('LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.');
    }
    const limit = limitOf(input.limit, 50, 50);
    const after = untoken<{ a: string }>(input.nextToken, (v) => typeof (v as { a?: unknown })?.a === 'string');
    const pattern = input.logGroupNamePattern?.toLowerCase();
    const ids = input.logGroupIdentifiers
      ? new Set(input.logGroupIdentifiers.map((i) => identifierName(i, 'logGroupIdentifiers')))
      : undefined;
    const all = ctx.tx
      .all<LogGroupDoc>(LOGS_KIND.group, ctx.scope)
      .filter(
        (g) =>
          (input.logGroupNamePrefix === undefined || g.id.startsWith(input.logGroupNamePrefix)) &&
          (pattern === undefined || g.id.toLowerCase().includes(pattern)) &&
          (ids === undefined || ids.has(g.id)) &&
          (input.logGroupClass === undefined || g.logGroupClass === input.logGroupClass),
      )
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .filter((g) => after === undefined || g.id > after.a);
    const page = all.slice(0, limit);
    return {
      logGroups: page.map((g) => toGroup(ctx, g)),
      nextToken: all.length > limit ? token({ a: page[page.length - 1]!.id }) : undefined,
    };
  },

  CreateLogStream(ctx: Ctx, input: CreateLogStreamRequest): Record<string, never> {
    const group = checkGroupName(input.logGroupName);
    const name = checkStreamName(input.logStreamName!);
    getGroup(ctx, group);
    if (ctx.tx.get<LogStreamDoc>(LOGS_KIND.stream, streamScope(ctx, group), name))
      throw new ApiError('ResourceAlreadyExistsException', 'The specified log stream already exists');
    createStream(ctx, group, name);
    return {};
  },

  DeleteLogStream(ctx: Ctx, input: DeleteLogStreamRequest): Record<string, never> {
    const group = checkGroupName(input.logGroupName);
    getGroup(ctx, group);
    if (!ctx.tx.get<LogStreamDoc>(LOGS_KIND.stream, streamScope(ctx, group), input.logStreamName!)) throw streamNotFound();
    ctx.tx.delete(LOGS_KIND.stream, streamScope(ctx, group), input.logStreamName!);
    const scope = ctx.scope;
    ctx.tx.write((db) =>
      db.prepare('DELETE FROM logs_events WHERE scope = ? AND grp = ? AND stream = ?').run(scope, group, input.logStreamName),
    );
    return {};
  },

  DescribeLogStreams(ctx: Ctx, input: DescribeLogStreamsRequest): DescribeLogStreamsResponse {
    const group = groupName(input);
    getGroup(ctx, group);
    const orderBy = input.orderBy ?? 'LogStreamName';
    if (orderBy !== 'LogStreamName' && orderBy !== 'LastEventTime')
      throw validation(orderBy, 'orderBy', 'Member must satisfy enum value set: [LogStreamName, LastEventTime]');
    if (orderBy === 'LastEventTime' && input.logStreamNamePrefix !== undefined)
      throw invalid('Cannot order by LastEventTime with a logStreamNamePrefix.');
    const limit = limitOf(input.limit, 50, 50);
    const start = untoken<{ o: number }>(input.nextToken, (v) => Number.isInteger((v as { o?: unknown })?.o))?.o ?? 0;
    let streams = ctx.tx
      .all<LogStreamDoc>(LOGS_KIND.stream, streamScope(ctx, group))
      .filter((s) => input.logStreamNamePrefix === undefined || s.id.startsWith(input.logStreamNamePrefix));
    streams =
      orderBy === 'LogStreamName'
        ? streams.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        : streams.sort((a, b) => (a.lastEventTimestamp ?? 0) - (b.lastEventTimestamp ?? 0) || (a.id < b.id ? -1 : 1));
    if (input.descending) streams.reverse();
    const page = streams.slice(start, start + limit);
    return {
      logStreams: page.map((s) => toStream(ctx, group, s)),
      nextToken: start + limit < streams.length ? token({ o: start + limit }) : undefined,
    };
  },

  PutLogEvents(ctx: Ctx, input: PutLogEventsRequest): PutLogEventsResponse {
    const group = checkGroupName(input.logGroupName);
    const events = input.logEvents ?? [];
    if (events.length < 1) throw validation('[]', 'logEvents', 'Member must have length greater than or equal to 1');
    if (events.length > 10_000)
      throw validation(`[${events.length} events]`, 'logEvents', 'Member must have length less than or equal to 10000');
    const g = getGroup(ctx, group);
    if (!ctx.tx.get<LogStreamDoc>(LOGS_KIND.stream, streamScope(ctx, group), input.logStreamName!)) throw streamNotFound();
    let bytes = 0;
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as InputLogEvent;
      if (i > 0 && e.timestamp! < events[i - 1]!.timestamp!)
        throw invalid('Log events in a single PutLogEvents request must be in chronological order.');
      const size = Buffer.byteLength(e.message ?? '') + EVENT_OVERHEAD;
      if (size > 1_048_576) throw invalid(`Log event too large: ${size} bytes exceeds limit of 1048576`);
      bytes += size;
    }
    if (bytes > MAX_BATCH_BYTES) throw invalid(`Upload too large: ${bytes} bytes exceeds limit of ${MAX_BATCH_BYTES}`);
    if (events[events.length - 1]!.timestamp! - events[0]!.timestamp! > DAY) {
      throw invalid('The batch of log events in a single PutLogEvents request cannot span more than 24 hours.');
    }
    const now = ctx.clock.now();
    const cutoffExpired = retentionCutoff(ctx, g);
    const tooOld = now - 14 * DAY;
    const tooNew = now + 2 * 3_600_000;
    const rejected: RejectedLogEventsInfo = {};
    const accepted: { timestamp: number; message: string }[] = [];
    events.forEach((e, i) => {
      const ts = e.timestamp!;
      if (ts > tooNew) {
        rejected.tooNewLogEventStartIndex ??= i;
      } else if (ts < cutoffExpired) {
        rejected.expiredLogEventEndIndex = i;
      } else if (ts < tooOld) {
        rejected.tooOldLogEventEndIndex = i;
      } else accepted.push({ timestamp: ts, message: e.message! });
    });
    const next = appendEvents(ctx, group, input.logStreamName!, accepted);
    return { nextSequenceToken: next, ...(Object.keys(rejected).length ? { rejectedLogEventsInfo: rejected } : {}) };
  },

  GetLogEvents(ctx: Ctx, input: GetLogEventsRequest): GetLogEventsResponse {
    const group = groupName(input);
    const g = getGroup(ctx, group);
    if (!ctx.tx.get<LogStreamDoc>(LOGS_KIND.stream, streamScope(ctx, group), input.logStreamName!)) throw streamNotFound();
    const limit = limitOf(input.limit, 10_000, 10_000);
    // Tokens name a position between events: f/… reads forward after it, b/… backward before it.
    let dir: 'f' | 'b' = input.startFromHead ? 'f' : 'b';
    let pos: [number, number] | undefined;
    if (input.nextToken !== undefined) {
      const m = /^([fb])\/(\d{20})(\d{36})\/s$/.exec(input.nextToken);
      if (!m) throw invalid('The specified nextToken is invalid.');
      dir = m[1] as 'f' | 'b';
      pos = [Number(m[2]), Number(m[3])];
    }
    const lo = Math.max(input.startTime ?? -Infinity, retentionCutoff(ctx, g));
    const hi = input.endTime ?? Infinity;
    const db = ctx.store.db;
    logsTables(db);
    const base =
      'SELECT id, stream, ts, ingest, message FROM logs_events WHERE scope = ? AND grp = ? AND stream = ? AND ts >= ? AND ts < ?';
    const args = [ctx.scope, group, input.logStreamName, Number.isFinite(lo) ? lo : -8.64e15, Number.isFinite(hi) ? hi : 8.64e15];
    let rows: EventRow[];
    if (dir === 'f') {
      rows = pos
        ? (db
            .prepare(`${base} AND (ts > ? OR (ts = ? AND id > ?)) ORDER BY ts, id LIMIT ?`)
            .all(...args, pos[0], pos[0], pos[1], limit) as EventRow[])
        : (db.prepare(`${base} ORDER BY ts, id LIMIT ?`).all(...args, limit) as EventRow[]);
    } else {
      rows = (
        pos
          ? (db
              .prepare(`${base} AND (ts < ? OR (ts = ? AND id < ?)) ORDER BY ts DESC, id DESC LIMIT ?`)
              .all(...args, pos[0], pos[0], pos[1], limit) as EventRow[])
          : (db.prepare(`${base} ORDER BY ts DESC, id DESC LIMIT ?`).all(...args, limit) as EventRow[])
      ).reverse();
    }
    const tok = (d: 'f' | 'b', ts: number, id: number) => `${d}/${String(ts).padStart(20, '0')}${String(id).padStart(36, '0')}/s`;
    const first = rows[0];
    const last = rows[rows.length - 1];
    // With nothing read, the tokens stay where they were (so paginators stop).
    const here = pos ?? (dir === 'f' ? [0, 0] : [99_999_999_999_999, 0]);
    return {
      events: rows.map((r) => ({ timestamp: r.ts, message: r.message, ingestionTime: r.ingest })),
      nextForwardToken: last ? tok('f', last.ts, last.id) : tok('f', here[0]!, here[1]!),
      nextBackwardToken: first ? tok('b', first.ts, first.id) : tok('b', here[0]!, here[1]!),
    };
  },

  FilterLogEvents(ctx: Ctx, input: FilterLogEventsRequest): FilterLogEventsResponse {
    const group = groupName(input);
    const g = getGroup(ctx, group);
    if (input.logStreamNames !== undefined && input.logStreamNamePrefix !== undefined) {
      throw invalid('You cannot specify both LogStreamNames and LogStreamNamePrefix.');
    }
    if (input.logStreamNames !== undefined && (input.logStreamNames.length < 1 || input.logStreamNames.length > 100)) {
      throw validation(`[${input.logStreamNames.join(', ')}]`, 'logStreamNames', 'Member must have length between 1 and 100');
    }
    const limit = limitOf(input.limit, 10_000, 10_000);
    let match: (m: string) => boolean;
    try {
      match = compileFilterPattern(input.filterPattern);
    } catch (e) {
      if (e instanceof FilterPatternError) throw invalid(e.message);
      throw e;
    }
    const after = untoken<{ t: number; i: number }>(
      input.nextToken,
      (v) => Number.isFinite((v as { t?: unknown })?.t) && Number.isInteger((v as { i?: unknown })?.i),
    );
    const lo = Math.max(input.startTime ?? -8.64e15, retentionCutoff(ctx, g));
    const hi = input.endTime ?? 8.64e15;
    const streams = input.logStreamNames ? new Set(input.logStreamNames) : undefined;
    const prefix = input.logStreamNamePrefix;
    const db = ctx.store.db;
    logsTables(db);
    const stmt = after
      ? db.prepare(
          'SELECT id, stream, ts, ingest, message FROM logs_events WHERE scope = ? AND grp = ? AND ts >= ? AND ts <= ? AND (ts > ? OR (ts = ? AND id > ?)) ORDER BY ts, id',
        )
      : db.prepare(
          'SELECT id, stream, ts, ingest, message FROM logs_events WHERE scope = ? AND grp = ? AND ts >= ? AND ts <= ? ORDER BY ts, id',
        );
    const rows = (
      after ? stmt.iterate(ctx.scope, group, lo, hi, after.t, after.t, after.i) : stmt.iterate(ctx.scope, group, lo, hi)
    ) as Iterable<EventRow>;
    const out: EventRow[] = [];
    let more = false;
    for (const r of rows) {
      if (streams && !streams.has(r.stream)) continue;
      if (prefix !== undefined && !r.stream.startsWith(prefix)) continue;
      if (!match(r.message)) continue;
      if (out.length === limit) {
        more = true;
        break;
      }
      out.push(r);
    }
    const last = out[out.length - 1];
    return {
      events: out.map((r) => ({
        logStreamName: r.stream,
        timestamp: r.ts,
        message: r.message,
        ingestionTime: r.ingest,
        eventId: eventId(r),
      })),
      ...(more && last ? { nextToken: token({ t: last.ts, i: last.id }) } : {}),
    };
  },

  PutRetentionPolicy(ctx: Ctx, input: PutRetentionPolicyRequest): Record<string, never> {
    const name = checkGroupName(input.logGroupName);
    const days = input.retentionInDays!;
    if (!RETENTION_DAYS.includes(days)) {
      throw validation(String(days), 'retentionInDays', `Member must satisfy enum value set: [${RETENTION_DAYS.join(', ')}]`);
    }
    getGroup(ctx, name);
    ctx.tx.edit<LogGroupDoc>(LOGS_KIND.group, ctx.scope, name)!.retentionInDays = days;
    return {};
  },

  DeleteRetentionPolicy(ctx: Ctx, input: DeleteRetentionPolicyRequest): Record<string, never> {
    const name = checkGroupName(input.logGroupName);
    getGroup(ctx, name);
    delete ctx.tx.edit<LogGroupDoc>(LOGS_KIND.group, ctx.scope, name)!.retentionInDays;
    return {};
  },

  // ---- tags: by ARN (TagResource…), and the older calls by name (TagLogGroup…) ----

  TagResource(ctx: Ctx, input: TagResourceRequest): Record<string, never> {
    const tags = checkTags(input.tags);
    const name = groupOfArn(ctx, input.resourceArn);
    addTags(ctx, name, tags);
    return {};
  },

  UntagResource(ctx: Ctx, input: UntagResourceRequest): Record<string, never> {
    const keys = checkTagKeys(input.tagKeys, 'tagKeys');
    removeTags(ctx, groupOfArn(ctx, input.resourceArn), keys);
    return {};
  },

  ListTagsForResource(ctx: Ctx, input: ListTagsForResourceRequest): ListTagsForResourceResponse {
    return { tags: { ...getGroup(ctx, groupOfArn(ctx, input.resourceArn)).tags } };
  },

  TagLogGroup(ctx: Ctx, input: TagLogGroupRequest): Record<string, never> {
    const name = checkGroupName(input.logGroupName);
    const tags = checkTags(input.tags);
    if (Object.keys(tags).length < 1) throw validation('{}', 'tags', 'Member must have length greater than or equal to 1');
    addTags(ctx, name, tags);
    return {};
  },

  UntagLogGroup(ctx: Ctx, input: UntagLogGroupRequest): Record<string, never> {
    const name = checkGroupName(input.logGroupName);
    removeTags(ctx, name, checkTagKeys(input.tags, 'tags'));
    return {};
  },

  ListTagsLogGroup(ctx: Ctx, input: ListTagsLogGroupRequest): ListTagsLogGroupResponse {
    return { tags: { ...getGroup(ctx, checkGroupName(input.logGroupName)).tags } };
  },
};

export function logsService(store: Store): ServiceDef {
  attachLogs(store);
  return {
    name: 'logs',
    get model() {
      return loadModel('logs');
    },
    handlers: logsHandlers as unknown as Record<string, Handler>,
    validationErrorCode: 'InvalidParameterException',
  };
}
