// A lean HTTP/1.1 load generator for the API benchmarks: N raw keep-alive TCP connections to
// 127.0.0.1, requests pre-serialised into Buffers, responses parsed just enough (status line,
// content-length or chunked framing) to know where each ends. Closed loop: every connection
// keeps `depth` requests in flight (depth 1 = one request, wait for its answer, send the next),
// so the figures are those of the server, not of node's http client.
import { connect, type Socket } from 'node:net';
import { Agent, request } from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout whose built server is measured (PALISADE_BENCH_ROOT: another build, to compare). */
export const root = process.env.PALISADE_BENCH_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..');

export const AUTH_EC2 =
  'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=00';

/** A signed-looking EC2 query request (the server does not verify signatures in `open` mode). */
export function ec2Request(port: number, body: string): Buffer {
  const b = Buffer.from(body);
  return Buffer.from(
    'POST / HTTP/1.1\r\n' +
      `Host: 127.0.0.1:${port}\r\n` +
      'Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n' +
      `Content-Length: ${b.length}\r\n` +
      'X-Amz-Date: 20260101T000000Z\r\n' +
      `Authorization: ${AUTH_EC2}\r\n` +
      'Connection: keep-alive\r\n\r\n' +
      body,
  );
}

export interface Reply {
  status: number;
  body: Buffer;
}

const EMPTY = Buffer.alloc(0);

/** One keep-alive connection answering requests in order (HTTP/1.1 pipelining when several are queued). */
export class Conn {
  private readonly socket: Socket;
  /** the part of a response head (or chunked body) received so far */
  private head: Buffer | undefined;
  private status = 0;
  /** bytes of the current body still to come; -1 between responses */
  private bodyLeft = -1;
  private chunked = false;
  private bodyParts: Buffer[] = [];
  private readonly waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private readonly ready: Promise<void>;
  /** When false, the bodies of 200 answers are not kept (the load loop only needs the status). */
  keepBodies = true;

  constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port, noDelay: true });
    this.ready = new Promise((res, rej) => {
      this.socket.once('connect', () => res());
      this.socket.once('error', rej);
    });
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', (e) => {
      for (const w of this.waiting.splice(0)) w.reject(e);
    });
    this.socket.on('close', () => {
      for (const w of this.waiting.splice(0)) w.reject(new Error('connection closed'));
    });
  }

  async open(): Promise<this> {
    await this.ready;
    return this;
  }

  send(req: Buffer): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(req);
    });
  }

  private onData(d: Buffer): void {
    // A body is counted through, not joined (unless kept): a large answer arrives in many reads.
    let off = 0;
    while (off < d.length) {
      if (this.bodyLeft >= 0) {
        const take = Math.min(this.bodyLeft, d.length - off);
        if (this.keepBodies || this.status !== 200) this.bodyParts.push(d.subarray(off, off + take));
        off += take;
        this.bodyLeft -= take;
        if (this.bodyLeft === 0) this.finish();
        continue;
      }
      const prev = this.head?.length ?? 0;
      const buf = this.head ? Buffer.concat([this.head, d.subarray(off)]) : d.subarray(off);
      if (this.chunked) {
        const done = this.chunkedEnd(buf);
        if (done < 0) {
          this.head = Buffer.from(buf);
          return;
        }
        this.head = undefined;
        this.chunked = false;
        this.finish();
        off += done - prev;
        continue;
      }
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        this.head = Buffer.from(buf);
        return;
      }
      this.head = undefined;
      const head = buf.toString('latin1', 0, end).toLowerCase();
      this.status = Number(head.slice(9, 12));
      off += end + 4 - prev;
      const cl = /\r\ncontent-length:\s*(\d+)/.exec(head);
      if (cl) {
        this.bodyLeft = Number(cl[1]);
        if (this.bodyLeft === 0) this.finish();
      } else if (head.includes('\r\ntransfer-encoding: chunked')) {
        this.chunked = true;
      } else this.finish();
    }
  }

  /** Where a chunked body that starts `buf` ends (its parts kept), or -1 if it has not all arrived. */
  private chunkedEnd(buf: Buffer): number {
    const parts: Buffer[] = [];
    let p = 0;
    for (;;) {
      const le = buf.indexOf('\r\n', p);
      if (le < 0) return -1;
      const size = parseInt(buf.toString('latin1', p, le), 16);
      if (buf.length < le + 2 + size + 2) return -1;
      if (size === 0) {
        this.bodyParts = parts;
        return le + 4;
      }
      parts.push(buf.subarray(le + 2, le + 2 + size));
      p = le + 2 + size + 2;
    }
  }

  private finish(): void {
    const body = this.bodyParts.length ? Buffer.concat(this.bodyParts) : EMPTY;
    this.bodyParts = [];
    this.bodyLeft = -1;
    this.waiting.shift()?.resolve({ status: this.status, body });
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface LoadResult {
  ops: number;
  secs: number;
  rate: number;
  p50: number;
  p99: number;
  errors: number;
  firstError?: string;
  serverCpuUs?: number;
}

/**
 * Drives `conns` connections for `total` operations (or until `maxSecs` elapse, whichever first).
 * `next(c, i)` gives the request(s) of the i-th step on connection c; a step of several requests
 * is sent in order on that connection and counts as that many operations, each timed on its own.
 */
export async function drive(
  conns: Conn[],
  total: number,
  next: (c: number, i: number) => Buffer,
  opts: { maxSecs?: number; depth?: number } = {},
): Promise<LoadResult> {
  const maxMs = (opts.maxSecs ?? 5) * 1000;
  const depth = opts.depth ?? 1;
  const lat: number[] = [];
  let n = 0;
  let issued = 0;
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  for (const c of conns) c.keepBodies = false;
  await Promise.all(
    conns.map(async (conn, c) => {
      let i = 0;
      const lane = async () => {
        for (;;) {
          if (issued >= total || performance.now() - t0 > maxMs) return;
          issued++;
          const s = performance.now();
          const r = await conn.send(next(c, i++));
          lat.push(performance.now() - s);
          n++;
          if (r.status !== 200) {
            errors++;
            firstError ??= `HTTP ${r.status}: ${r.body.toString('utf8', 0, Math.min(r.body.length, 300))}`;
          }
        }
      };
      await Promise.all(Array.from({ length: depth }, lane));
    }),
  );
  for (const c of conns) c.keepBodies = true;
  const secs = (performance.now() - t0) / 1000;
  const sorted = Float64Array.from(lat).sort();
  return {
    ops: n,
    secs,
    rate: n / secs,
    p50: sorted[Math.floor(n * 0.5)] ?? NaN,
    p99: sorted[Math.min(n - 1, Math.floor(n * 0.99))] ?? NaN,
    errors,
    firstError,
  };
}

export async function openConns(port: number, n: number): Promise<Conn[]> {
  return Promise.all(Array.from({ length: n }, () => new Conn(port).open()));
}

// ---------------------------------------------------------------------------------------------
// The server as a child process

export interface Child {
  port: number;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export function spawnPalisade(args: string[], extraNodeArgs: string[] = []): Promise<Child> {
  const child = spawn(
    process.execPath,
    [...extraNodeArgs, join(root, 'bin', 'palisade.js'), 'start', '--port', '0', '--log-level', 'error', ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const onExit = (code: number | null) => reject(new Error(`palisade exited (${code}) before listening: ${out}`));
    child.once('exit', onExit);
    child.stdout!.on('data', (d) => {
      out += String(d);
      const m = /export AWS_ENDPOINT_URL=http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        child.off('exit', onExit);
        const port = Number(m[1]);
        resolve({
          port,
          url: `http://127.0.0.1:${port}`,
          child,
          stop: () =>
            new Promise<void>((r) => {
              if (child.exitCode !== null || child.signalCode !== null) return r();
              child.once('exit', () => r());
              child.kill('SIGTERM');
            }),
        });
      }
    });
  });
}

/** node:http with a keep-alive agent (8 sockets): the "ordinary client" for comparison. */
export function agentPost(agent: Agent, port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
          'content-length': Buffer.byteLength(body),
          'x-amz-date': '20260101T000000Z',
          authorization: AUTH_EC2,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export const num = (n: number) => Math.round(n).toLocaleString('en-US');
export const msf = (n: number) => `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms`;
export const mark = (ok: boolean) => (ok ? '✓' : '✗');
