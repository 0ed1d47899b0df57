// LookupEvents: the last 90 days of management events of the caller's account and region,
// newest first, filtered by at most one lookup attribute and a time range, in pages of
// MaxResults (1–50, default 50) chained by NextToken.
import { crypto } from '../../core/lazy.ts';
import type { Event, LookupEventsRequest, LookupEventsResponse } from '@aws-sdk/client-cloudtrail';
import type { Ctx } from '../../core/context.ts';
import { ApiError } from '../../core/errors.ts';
import { LOOKUP_KEYS, RETENTION_MS, type EventStore, type LookupKey } from '../../cloudtrail/events.ts';

const DEFAULT_MAX = 50;

const invalidAttributes = (message: string) => new ApiError('InvalidLookupAttributesException', message);

interface Token {
  t: number;
  i: number;
  h: string;
}

function paramsHash(ctx: Ctx, input: LookupEventsRequest): string {
  const a = input.LookupAttributes?.[0];
  const canonical = JSON.stringify([
    ctx.account,
    ctx.region,
    a?.AttributeKey ?? null,
    a?.AttributeValue ?? null,
    input.StartTime ? new Date(input.StartTime).getTime() : null,
    input.EndTime ? new Date(input.EndTime).getTime() : null,
    input.EventCategory ?? null,
  ]);
  return crypto().createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

function encodeToken(tok: Token): string {
  return Buffer.from(JSON.stringify(tok)).toString('base64url');
}

function decodeToken(s: string): Token | undefined {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Token;
    if (Number.isInteger(t.t) && Number.isInteger(t.i) && typeof t.h === 'string') return t;
  } catch {
    // fall through
  }
  return undefined;
}

export function lookupEvents(events: EventStore) {
  return (ctx: Ctx, input: LookupEventsRequest): LookupEventsResponse => {
    const attrs = input.LookupAttributes ?? [];
    if (attrs.length > 1) throw invalidAttributes('You cannot specify more than one lookup attribute.');
    let attribute: { key: LookupKey; value: string } | undefined;
    if (attrs.length === 1) {
      const { AttributeKey: key, AttributeValue: value } = attrs[0]!;
      if (!key || !(LOOKUP_KEYS as readonly string[]).includes(key)) {
        throw invalidAttributes(`The attribute key '${key ?? ''}' is not valid. Valid attribute keys are: ${LOOKUP_KEYS.join(', ')}.`);
      }
      if (value === undefined || value.length < 1 || value.length > 2000) {
        throw invalidAttributes('The attribute value must be between 1 and 2000 characters long.');
      }
      if (key === 'ReadOnly' && value !== 'true' && value !== 'false') {
        throw invalidAttributes(`The value '${value}' of the ReadOnly attribute is not valid: use true or false.`);
      }
      attribute = { key: key as LookupKey, value };
    }
    if (input.MaxResults !== undefined && (input.MaxResults < 1 || input.MaxResults > 50)) {
      throw new ApiError(
        'InvalidMaxResultsException',
        `Value ${input.MaxResults} for parameter MaxResults is not valid. It must be between 1 and 50.`,
      );
    }
    const start = input.StartTime ? new Date(input.StartTime).getTime() : undefined;
    const end = input.EndTime ? new Date(input.EndTime).getTime() : undefined;
    if (start !== undefined && end !== undefined && start > end) {
      throw new ApiError('InvalidTimeRangeException', 'Start time must be before end time.');
    }
    if (input.EventCategory !== undefined && input.EventCategory !== 'insight') {
      throw new ApiError(
        'InvalidEventCategoryException',
        `The event category '${input.EventCategory}' is not valid. The only valid value is insight.`,
      );
    }
    const hash = paramsHash(ctx, input);
    let before: { t: number; id: number } | undefined;
    if (input.NextToken !== undefined) {
      const tok = decodeToken(input.NextToken);
      if (!tok || tok.h !== hash) {
        throw new ApiError(
          'InvalidNextTokenException',
          'Invalid NextToken: it is not valid, or was issued for a request with different parameters.',
        );
      }
      before = { t: tok.t, id: tok.i };
    }
    // No management events are Insights events.
    if (input.EventCategory === 'insight') return { Events: [] };
    const retention = Math.ceil((ctx.clock.now() - RETENTION_MS) / 1000);
    const from = Math.max(retention, start === undefined ? -Infinity : Math.ceil(start / 1000));
    const to = end === undefined ? Number.MAX_SAFE_INTEGER : Math.floor(end / 1000);
    const limit = input.MaxResults ?? DEFAULT_MAX;
    const rows =
      from > to ? [] : events.lookup({ account: ctx.account, region: ctx.region, attribute, from, to, before, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const out: LookupEventsResponse = {
      Events: page.map((r): Event => ({
        EventId: r.eventId,
        EventName: r.eventName,
        ReadOnly: r.readOnly ? 'true' : 'false',
        ...(r.accessKeyId ? { AccessKeyId: r.accessKeyId } : {}),
        EventTime: new Date(r.t * 1000),
        EventSource: r.eventSource,
        ...(r.username ? { Username: r.username } : {}),
        Resources: r.resources,
        CloudTrailEvent: r.record,
      })),
    };
    if (rows.length > limit) {
      const last = page[page.length - 1]!;
      out.NextToken = encodeToken({ t: last.t, i: last.id, h: hash });
    }
    return out;
  };
}
