// `palisade trail`: the recent management events of a running server (CloudTrail LookupEvents
// over HTTP, SigV4-signed), as a table or JSON. Loaded only when the command runs.
import { endpointOf, signedFetch } from './signed-fetch.ts';
import { UsageError } from './errors.ts';

const TARGET = 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents';
const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `15m`, `2h`, `7d`, `90s`, `1w` before now, or an ISO 8601 time. */
export function parseSince(v: string, now = Date.now()): Date {
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw])$/.exec(v.trim());
  if (m) return new Date(now - Number(m[1]) * UNITS[m[2]!]!);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new UsageError(`invalid --since '${v}': a duration like 15m, 2h, 7d, or an ISO time`);
  return new Date(t);
}

interface LookupEvent {
  EventId: string;
  EventName: string;
  ReadOnly?: string;
  AccessKeyId?: string;
  EventTime: number;
  EventSource: string;
  Username?: string;
  Resources?: { ResourceType?: string; ResourceName?: string }[];
  CloudTrailEvent: string;
}

async function lookup(
  endpoint: string,
  region: string,
  body: Record<string, unknown>,
): Promise<{ Events?: LookupEvent[]; NextToken?: string }> {
  const text = JSON.stringify(body);
  const res = await signedFetch(endpoint, {
    method: 'POST',
    path: '/',
    service: 'cloudtrail',
    region,
    body: text,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': TARGET },
  });
  const reply = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(reply) as Record<string, unknown>;
  } catch {
    throw new Error(`unexpected answer from ${endpoint} (HTTP ${res.status}): ${reply.slice(0, 200)}`);
  }
  if (!res.ok)
    throw new Error(
      `${String(parsed.__type ?? `HTTP ${res.status}`)
        .split('#')
        .pop()}: ${parsed.message ?? parsed.Message ?? ''}`,
    );
  return parsed as { Events?: LookupEvent[]; NextToken?: string };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

export interface TrailOptions {
  endpoint: string;
  since?: string;
  eventName?: string;
  user?: string;
  json?: boolean;
  region?: string;
  max?: number;
}

/** The command line's form (`palisade trail --since 15m …`), parsed as the command line parses it. */
export async function trail(args: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const { parseCommand } = await import('./parser.ts');
  const o = await parseCommand('trail', args);
  return runTrail(
    {
      endpoint: endpointOf(o.endpoint as string | undefined),
      since: o.since as string | undefined,
      eventName: o.eventName as string | undefined,
      user: o.user as string | undefined,
      json: !!o.json,
      region: o.region as string | undefined,
      max: o.max as number,
    },
    out,
  );
}

export async function runTrail(o: TrailOptions, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const endpoint = o.endpoint;
  const region = o.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const max = o.max ?? 50;
  if (!Number.isInteger(max) || max < 1) throw new UsageError(`invalid --max '${max}': a positive integer`);
  // LookupEvents takes one attribute: the event name goes to the server, the user is then filtered here.
  const attribute =
    o.eventName !== undefined
      ? { AttributeKey: 'EventName', AttributeValue: o.eventName }
      : o.user !== undefined
        ? { AttributeKey: 'Username', AttributeValue: o.user }
        : undefined;
  const clientUser = o.eventName !== undefined ? o.user : undefined;
  const base: Record<string, unknown> = {};
  if (attribute) base.LookupAttributes = [attribute];
  if (o.since !== undefined) base.StartTime = parseSince(o.since).getTime() / 1000;
  const events: LookupEvent[] = [];
  let token: string | undefined;
  do {
    const page = await lookup(endpoint, region, { ...base, MaxResults: 50, ...(token ? { NextToken: token } : {}) });
    for (const e of page.Events ?? []) {
      if (clientUser !== undefined && e.Username !== clientUser) continue;
      if (events.length < max) events.push(e);
    }
    token = page.NextToken;
  } while (token && events.length < max);

  if (o.json) {
    out(
      JSON.stringify(
        events.map((e) => ({
          ...e,
          EventTime: new Date(e.EventTime * 1000).toISOString().replace('.000Z', 'Z'),
          CloudTrailEvent: JSON.parse(e.CloudTrailEvent) as unknown,
        })),
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  if (!events.length) {
    out('no events\n');
    return 0;
  }
  const rows = [['TIME', 'EVENT', 'SOURCE', 'USER', 'RESULT', 'RESOURCES']];
  for (const e of events) {
    const rec = JSON.parse(e.CloudTrailEvent) as { errorCode?: string };
    rows.push([
      new Date(e.EventTime * 1000).toISOString().replace('.000Z', 'Z'),
      e.EventName,
      e.EventSource.replace('.amazonaws.com', ''),
      e.Username ?? '-',
      rec.errorCode ?? 'ok',
      (e.Resources ?? []).map((r) => r.ResourceName).join(',') || '-',
    ]);
  }
  out(table(rows));
  return 0;
}
