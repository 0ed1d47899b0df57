// Programs inside the kernel data plane's namespaces, for tests and benchmarks: an agent (a Python
// process in one namespace that opens connections on request and keeps them open), an echo
// server, and the bookkeeping that removes all of it — processes, namespaces (with their veths
// and nftables tables) — after the test, even when it fails or the process exits early.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

// A kernel test file must end when its tests have: a helper process or socket left open would keep
// it running until CI's limit (and node:test runs root-level after() hooks only once the event loop
// empties, so a hook cannot catch this). A kernel test file takes well under a minute; ten minutes
// after it started (the suite's per-test timeout too), an unref'd watchdog — which keeps nothing
// alive itself — says what still holds the process and ends it with the tests' exit status.
const WATCHDOG_MS = 600_000;
setTimeout(() => {
  process.stderr.write(
    `kernel test: still running ${WATCHDOG_MS / 1000} s after it started; open: ${JSON.stringify(process.getActiveResourcesInfo())}\n`,
  );
  process.exit(process.exitCode ?? 0);
}, WATCHDOG_MS).unref();

/** Why kernel tests cannot run here (undefined: they can). They FAIL with this, never skip. */
export function kernelTestsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `kernel data plane tests need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'kernel data plane tests need root (network namespaces, nftables): run them as root';
  for (const [cmd, args, pkg] of [
    ['ip', ['-V'], 'iproute2'],
    ['nft', ['--version'], 'nftables'],
    ['conntrack', ['--version'], 'conntrack'],
    ['python3', ['--version'], 'python3'],
    ['curl', ['--version'], 'curl'],
  ] as const) {
    try {
      execFileSync(cmd, args, { stdio: 'ignore' });
    } catch {
      return `kernel data plane tests need '${cmd}' (apt-get install ${pkg})`;
    }
  }
  return undefined;
}

const AGENT = String.raw`
import sys, json, socket, time
conns = {}
def recv_line(s):
    data = b''
    while not data.endswith(b'\n'):
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError('closed by peer')
        data += chunk
    return data.decode().strip()
for line in sys.stdin:
    req = json.loads(line)
    op = req['op']
    try:
        if op == 'connect':
            s = socket.create_connection((req['host'], req['port']), timeout=req.get('timeout', 0.5))
            s.close()
            out = {'ok': True}
        elif op == 'poll':
            # connects until one succeeds or the bound passes: how long it took
            t0 = time.monotonic(); n = 0
            while True:
                n += 1
                try:
                    s = socket.create_connection((req['host'], req['port']), timeout=req.get('timeout', 0.05))
                    s.close()
                    out = {'ok': True, 'ms': (time.monotonic() - t0) * 1000, 'attempts': n}
                    break
                except OSError:
                    if time.monotonic() - t0 > req.get('bound', 5):
                        out = {'ok': False, 'error': 'no connection within the bound', 'attempts': n}
                        break
        elif op == 'open':
            s = socket.create_connection((req['host'], req['port']), timeout=req.get('timeout', 1))
            conns[req['id']] = s
            out = {'ok': True, 'port': s.getsockname()[1]}
        elif op == 'echo':
            s = conns[req['id']]
            s.settimeout(req.get('timeout', 1))
            s.sendall(req['data'].encode() + b'\n')
            out = {'ok': True, 'data': recv_line(s)}
        elif op == 'close':
            conns.pop(req['id']).close()
            out = {'ok': True}
        elif op == 'burst':
            t0 = time.monotonic(); done = 0
            try:
                for _ in range(req['n']):
                    s = socket.create_connection((req['host'], req['port']), timeout=3)
                    s.close()
                    done += 1
                out = {'ok': True, 'ms': (time.monotonic() - t0) * 1000}
            except OSError as e:
                out = {'ok': False, 'error': repr(e) + ' after %d connections' % done}
        else:
            out = {'ok': False, 'error': 'unknown op ' + op}
    except Exception as e:
        out = {'ok': False, 'error': repr(e)}
    print(json.dumps(out), flush=True)
`;

const ECHO = String.raw`
import asyncio, sys
async def serve(r, w):
    try:
        while True:
            line = await r.readline()
            if not line:
                break
            w.write(line)
            await w.drain()
    except Exception:
        pass
    finally:
        w.close()
async def main():
    srv = await asyncio.start_server(serve, sys.argv[1], int(sys.argv[2]), backlog=4096, reuse_address=True)
    print('listening', flush=True)
    async with srv:
        await srv.serve_forever()
asyncio.run(main())
`;

export interface AgentAnswer {
  ok: boolean;
  error?: string;
  data?: string;
  port?: number;
  ms?: number;
  attempts?: number;
}

/** A Python process inside a namespace answering one JSON request per line. */
export class Agent {
  private readonly waiting: ((a: AgentAnswer) => void)[] = [];
  private chain: Promise<unknown> = Promise.resolve();

  constructor(readonly child: ChildProcess) {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (l) => this.waiting.shift()?.(JSON.parse(l) as AgentAnswer));
    child.on('exit', () => {
      for (const w of this.waiting.splice(0)) w({ ok: false, error: 'agent exited' });
    });
  }

  /** One request (requests are answered in order). */
  ask(req: Record<string, unknown>): Promise<AgentAnswer> {
    const p = this.chain.then(
      () =>
        new Promise<AgentAnswer>((resolve) => {
          this.waiting.push(resolve);
          this.child.stdin!.write(JSON.stringify(req) + '\n');
        }),
    );
    this.chain = p;
    return p;
  }
}

/** What a test made: removed by `cleanup` (after()) and, synchronously, on process exit. */
export class KernelFixture {
  private readonly children: ChildProcess[] = [];
  readonly dir = mkdtempSync(join(tmpdir(), 'palisade-kernel-'));
  /** the server's namespace prefix, once known */
  prefix: string | undefined;
  private readonly onExit = () => this.cleanupSync();

  constructor() {
    writeFileSync(join(this.dir, 'agent.py'), AGENT);
    writeFileSync(join(this.dir, 'echo.py'), ECHO);
    process.on('exit', this.onExit);
  }

  /** A program in a namespace, killed at cleanup. */
  spawnIn(ns: string, cmd: string, args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.on('error', () => undefined);
    this.children.push(child);
    return child;
  }

  agent(ns: string): Agent {
    return new Agent(this.spawnIn(ns, 'python3', ['-u', join(this.dir, 'agent.py')]));
  }

  /** An echo server on addr:port in the namespace, once it listens. */
  async echoServer(ns: string, addr: string, port: number): Promise<ChildProcess> {
    const child = this.spawnIn(ns, 'python3', ['-u', join(this.dir, 'echo.py'), addr, String(port)]);
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr!.on('data', (d) => (err += d));
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`echo server exited (${code}): ${err}`)));
    });
    return child;
  }

  /** Kills the test's programs. */
  stopPrograms(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }

  /** Waits until the test's programs are gone. */
  async programsGone(): Promise<void> {
    await Promise.all(
      this.children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))),
    );
  }

  /** The namespaces of the machine with the server's prefix. */
  leftovers(): string[] {
    if (!this.prefix) return [];
    const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    return out
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0] ?? '')
      .filter((n) => n.startsWith(`${this.prefix}-`));
  }

  /** Host devices named with the prefix (a veth end left in the host's namespace would show here). */
  hostLeftovers(): string[] {
    if (!this.prefix) return [];
    const out = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
    return out
      .split('\n')
      .map((l) => /^\d+:\s+([^@:\s]+)/.exec(l)?.[1] ?? '')
      .filter((n) => n.startsWith(this.prefix!));
  }

  /** The safety net: kills the programs, removes the prefix's namespaces and the scripts. */
  cleanupSync(): void {
    this.stopPrograms();
    for (const ns of this.leftovers()) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        /* gone */
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
    process.off('exit', this.onExit);
  }
}

/** Runs a command and resolves with its exit code and output (never rejects). */
export function runIn(
  ns: string,
  cmd: string,
  args: string[],
  timeoutMs = 10_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns, cmd, ...args], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code as number) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Polls `fn` until it returns true or `boundMs` passes (then fails with `what`). */
export async function until(what: string, fn: () => Promise<boolean>, boundMs = 10_000, everyMs = 0): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await fn()) return performance.now() - t0;
    if (performance.now() - t0 > boundMs) throw new Error(`not within ${boundMs} ms: ${what}`);
    // (a slow condition — one that waits for a kernel timer — is asked at this pace)
    await new Promise((r) => (everyMs ? setTimeout(r, everyMs) : setImmediate(r)));
  }
}

/** The conntrack entries of a namespace (`conntrack -L` lines), filtered by `args`. */
export async function conntrackList(ns: string, args: string[] = []): Promise<string[]> {
  const r = await runIn(ns, 'conntrack', ['-L', ...args]);
  return r.stdout.split('\n').filter((l) => l.trim() && !l.startsWith('conntrack'));
}

/** The remaining seconds of a conntrack line (its third field). */
export const ctRemaining = (line: string) => Number(line.trim().split(/\s+/)[2]);
