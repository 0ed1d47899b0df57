// `palisade probe` (asks the data plane, sends nothing) and `palisade send` (real packets through
// the admin API's connections, which flow logs record).
import { adminCall } from './signed-fetch.ts';
import { InputError } from './errors.ts';

export interface FlowOptions {
  from: string;
  to: string;
  port?: number;
  protocol: string;
  srcPort?: number;
  account?: string;
  region?: string;
  json?: boolean;
}

type Out = (s: string) => void;
const stdout: Out = (s) => process.stdout.write(s);

/** TCP and UDP have ports; the data plane ignores them for other protocols. */
function ported(protocol: string): boolean {
  return ['tcp', 'udp', '6', '17'].includes(protocol.toLowerCase());
}

/**
 * A fresh ephemeral source port (49152-65535, the IANA range): each probe or connection is a new
 * 5-tuple, so an earlier connection's tracking entry (kept for minutes after it closes) does not
 * answer for it.
 */
export function ephemeralPort(): number {
  return 49152 + Math.floor(Math.random() * 16384);
}

function scope(o: FlowOptions): Record<string, string> {
  return { ...(o.account ? { account: o.account } : {}), ...(o.region ? { region: o.region } : {}) };
}

function flowOf(o: FlowOptions): Record<string, unknown> {
  const flow: Record<string, unknown> = { from: o.from, to: o.to, protocol: o.protocol };
  if (ported(o.protocol)) {
    if (o.port === undefined) throw new InputError(`--port is required for ${o.protocol}`);
    flow.port = o.port;
    flow.srcPort = o.srcPort ?? ephemeralPort();
  }
  return flow;
}

export async function runProbe(
  endpoint: string,
  o: FlowOptions & { icmpType?: number; icmpCode?: number },
  out: Out = stdout,
): Promise<number> {
  const flow = flowOf(o);
  if (o.icmpType !== undefined) flow.icmpType = o.icmpType;
  if (o.icmpCode !== undefined) flow.icmpCode = o.icmpCode;
  const body = await adminCall<{ results: Record<string, unknown>[] }>(endpoint, 'POST', '/_palisade/network/evaluate', {
    flows: [flow],
    ...scope(o),
  });
  const r = body.results[0];
  if (!r) throw new Error('the server answered no verdict');
  if (r.error) throw new InputError(String(r.error));
  if (o.json) out(JSON.stringify({ ...r, ...(flow.srcPort !== undefined ? { srcPort: flow.srcPort } : {}) }, null, 2) + '\n');
  else {
    const ports = flow.srcPort !== undefined ? ` (source port ${flow.srcPort})` : '';
    out(`${r.verdict}  ${o.from} → ${o.to} ${o.protocol}${o.port !== undefined && ported(o.protocol) ? '/' + o.port : ''}${ports}\n`);
    out(`  ${r.explanation ?? r.reason ?? ''}\n`);
  }
  return r.verdict === 'ACCEPT' ? 0 : 1;
}

export interface SendOptions extends FlowOptions {
  packets: number;
  bytes: number;
  reply?: boolean;
  close?: boolean;
}

interface Verdict {
  verdict: 'ACCEPT' | 'REJECT';
  decidedBy?: string;
  explanation?: string;
  reason?: string;
}

/** One packet the command sent and the data plane's verdict on it. */
export interface SentPacket {
  packet: number;
  connectionId: string;
  direction: 'forward' | 'reply';
  flags: string[];
  bytes: number;
  verdict: 'ACCEPT' | 'REJECT';
  decidedBy?: string;
  explanation?: string;
}

/** A packet without data (SYN, SYN-ACK, ACK, FIN): the data plane counts its bare headers (40 bytes for TCP over IPv4). */
const HEADERS_ONLY = 0;

export async function runSend(endpoint: string, o: SendOptions, out: Out = stdout): Promise<number> {
  const tcp = ['tcp', '6'].includes(o.protocol.toLowerCase());
  const flow = flowOf(o);
  const sent: SentPacket[] = [];
  let from = o.from;
  let to = o.to;
  const print = (p: SentPacket) => {
    sent.push(p);
    if (o.json) return;
    const [a, b] = p.direction === 'forward' ? [from, to] : [to, from];
    out(
      `#${p.packet} ${p.verdict.padEnd(6)} ${a} → ${b} ${(p.flags.join(',') || '-').padEnd(7)} ${p.bytes ? `${String(p.bytes).padStart(5)} B` : 'headers'}  ${p.explanation ?? ''}\n`,
    );
  };
  const record = (id: string, direction: 'forward' | 'reply', flags: string[], bytes: number, v: Verdict) =>
    print({
      packet: sent.length + 1,
      connectionId: id,
      direction,
      flags,
      bytes,
      verdict: v.verdict,
      ...(v.decidedBy ? { decidedBy: v.decidedBy } : {}),
      explanation: v.explanation ?? v.reason,
    });

  // The first packet opens the connection: a SYN for TCP, else the first data packet.
  const firstFlags = tcp ? ['SYN'] : [];
  const firstBytes = tcp ? HEADERS_ONLY : o.bytes;
  const opened = await adminCall<Verdict & { connectionId: string; from: string; to: string; srcPort: number; dstPort: number }>(
    endpoint,
    'POST',
    '/_palisade/network/connections',
    { ...flow, ...(tcp ? { flags: firstFlags } : {}), ...(firstBytes ? { bytes: firstBytes } : {}), ...scope(o) },
  );
  const id = opened.connectionId;
  if (ported(o.protocol)) {
    from = `${opened.from}:${opened.srcPort}`;
    to = `${opened.to}:${opened.dstPort}`;
  } else {
    from = opened.from;
    to = opened.to;
  }
  if (!o.json) out(`${id} ${o.protocol} ${from} → ${to}\n`);
  record(id, 'forward', firstFlags, firstBytes, opened);

  const packet = async (direction: 'forward' | 'reply', flags: string[], bytes: number) => {
    const v = await adminCall<Verdict>(endpoint, 'POST', `/_palisade/network/connections/${encodeURIComponent(id)}/send`, {
      direction,
      ...(tcp ? { flags } : {}),
      ...(bytes ? { bytes } : {}),
      ...scope(o),
    });
    record(id, direction, tcp ? flags : [], bytes, v);
  };
  if (tcp) {
    if (o.reply) {
      await packet('reply', ['SYN', 'ACK'], HEADERS_ONLY);
      await packet('forward', ['ACK'], HEADERS_ONLY);
    }
    for (let i = 0; i < o.packets; i++) {
      await packet('forward', ['ACK', 'PSH'], o.bytes);
      if (o.reply) await packet('reply', ['ACK'], o.bytes);
    }
  } else {
    // the opening packet was the first data packet
    if (o.reply) await packet('reply', [], o.bytes);
    for (let i = 1; i < o.packets; i++) {
      await packet('forward', [], o.bytes);
      if (o.reply) await packet('reply', [], o.bytes);
    }
  }
  if (o.close) {
    const query = new URLSearchParams(scope(o)).toString();
    const closed = await adminCall<{ forward: Verdict; reply: Verdict }>(
      endpoint,
      'DELETE',
      `/_palisade/network/connections/${encodeURIComponent(id)}${query ? `?${query}` : ''}`,
    );
    const fin = tcp ? ['FIN', 'ACK'] : [];
    record(id, 'forward', fin, 0, closed.forward);
    record(id, 'reply', fin, 0, closed.reply);
  }
  if (o.json) out(JSON.stringify(sent, null, 2) + '\n');
  return sent.every((p) => p.verdict === 'ACCEPT') ? 0 : 1;
}
