// The one door from the kernel data plane to the machine: every `ip`, `nft`, `sysctl` and
// `conntrack` Palisade runs goes through `run` — node:child_process execFile, never a shell — with
// a time limit, an output limit, and an error that names the command and carries its stderr.
// Commands inside a namespace go through `ip -n NS …` (iproute2's own commands) or
// `ip netns exec NS …` (anything else: nft, sysctl, conntrack).
import { execFile, spawn, type ChildProcess } from 'node:child_process';

/** A command that failed: its words, its exit code (or signal) and what it wrote to stderr. */
export class KernelCommandError extends Error {
  constructor(
    readonly command: readonly string[],
    readonly code: number | string | undefined,
    readonly stderr: string,
  ) {
    super(`${command.join(' ')} failed${code === undefined ? '' : ` (${code})`}: ${stderr.trim().slice(0, 2000) || 'no output'}`);
    this.name = 'KernelCommandError';
  }
}

export interface RunOptions {
  /** written to the command's stdin (then closed) */
  input?: string;
  /** ms before the command is killed (default 10 s) */
  timeoutMs?: number;
  /** bytes of stdout/stderr kept (default 8 MiB) */
  maxBuffer?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_BUFFER = 8 * 1024 * 1024;

/** Commands run so far (benchmarks and tests read it). */
export const execStats = { commands: 0 };

/** Runs `file args…` and resolves with its stdout; rejects with a KernelCommandError. */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  execStats.commands++;
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args as string[],
      {
        timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        maxBuffer: opts.maxBuffer ?? DEFAULT_MAX_BUFFER,
        encoding: 'utf8',
        killSignal: 'SIGKILL',
      },
      (err, stdout, stderr) => {
        if (err) {
          const e = err as NodeJS.ErrnoException & { code?: number | string; signal?: string };
          reject(new KernelCommandError([file, ...args], e.signal ?? e.code, String(stderr || e.message)));
        } else resolve(String(stdout));
      },
    );
    // (a command that exits before reading its input must not crash the server with EPIPE)
    child.stdin?.on('error', () => undefined);
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** `ip ARGS` in the host's namespace (only for what names other namespaces: netns add/del, veth pairs across them). */
export const ip = (args: readonly string[], opts?: RunOptions) => run('ip', args, opts);

/** `ip -n NS ARGS`: iproute2 inside a namespace. */
export const ipIn = (ns: string, args: readonly string[], opts?: RunOptions) => run('ip', ['-n', ns, ...args], opts);

/** `ip -n NS -batch -`: several iproute2 commands in one process (one per line). */
export const ipBatch = (ns: string, lines: readonly string[], opts?: RunOptions) =>
  lines.length ? run('ip', ['-n', ns, '-batch', '-'], { ...opts, input: lines.join('\n') + '\n' }) : Promise.resolve('');

/** `ip netns exec NS CMD ARGS`: any program inside a namespace. */
export const inNs = (ns: string, cmd: string, args: readonly string[], opts?: RunOptions) =>
  run('ip', ['netns', 'exec', ns, cmd, ...args], opts);

/** Applies an nftables script in a namespace in one transaction (`nft -f -`: all of it or none). */
export const nft = (ns: string, script: string, opts?: RunOptions) => inNs(ns, 'nft', ['-f', '-'], { ...opts, input: script });

/** Sets sysctls (`key=value`) inside a namespace. */
export const sysctl = (ns: string, settings: readonly string[], opts?: RunOptions) =>
  settings.length ? inNs(ns, 'sysctl', ['-q', '-w', ...settings], opts) : Promise.resolve('');

/** The namespaces of the machine (`ip netns list`), by name. */
export async function listNamespaces(): Promise<string[]> {
  const out = await ip(['netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

/** Whether a program is on the PATH (`command -v`, without a shell: tries to run it with --version). */
export async function hasProgram(file: string, args: readonly string[] = ['--version']): Promise<boolean> {
  try {
    await run(file, args, { timeoutMs: 5000 });
    return true;
  } catch (e) {
    return !(e instanceof KernelCommandError && e.code === 'ENOENT');
  }
}

// ---- nftables through libnftables, in one long-lived helper ---------------------------------
//
// `nft -f -` costs a process, a namespace switch, a cache load and — after any deletion — a wait
// on the netlink socket's close of about a grace period (10–20 ms), every time. The helper keeps
// one libnftables context (nftables' own library, libnftables.so.1, through Python's ctypes) per
// namespace with its netlink socket open: a transaction is then a fraction of a millisecond, so a
// rule change is enforced within milliseconds of its commit. Each request is one script, run as
// one transaction by `nft_run_cmd_from_buffer` (all or nothing, as `nft -f`).

const NFT_HELPER = String.raw`
import ctypes, json, os, sys
lib = ctypes.CDLL('libnftables.so.1')
lib.nft_ctx_new.restype = ctypes.c_void_p
lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
lib.nft_ctx_buffer_output.argtypes = [ctypes.c_void_p]
lib.nft_ctx_buffer_error.argtypes = [ctypes.c_void_p]
lib.nft_ctx_get_output_buffer.restype = ctypes.c_char_p
lib.nft_ctx_get_output_buffer.argtypes = [ctypes.c_void_p]
lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
home = os.open('/proc/self/ns/net', os.O_RDONLY)
ctxs = {}
def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
def ctx_for(ns):
    fd = os.open('/run/netns/' + ns, os.O_RDONLY)
    try:
        ino = os.fstat(fd).st_ino
        setns(fd)
    finally:
        os.close(fd)
    have = ctxs.get(ns)
    if have and have[0] == ino:
        return have[1]
    if have:
        lib.nft_ctx_free(have[1])
    c = lib.nft_ctx_new(0)
    lib.nft_ctx_buffer_output(c)
    lib.nft_ctx_buffer_error(c)
    ctxs[ns] = (ino, c)
    return c
sys.stdout.write('{"ready": true}\n')
sys.stdout.flush()
for line in sys.stdin:
    req = json.loads(line)
    try:
        if req.get('op') == 'forget':
            have = ctxs.pop(req['ns'], None)
            if have:
                lib.nft_ctx_free(have[1])
            setns(home)
            out = {'id': req['id'], 'ok': True}
        else:
            c = ctx_for(req['ns'])
            rc = lib.nft_run_cmd_from_buffer(c, req['script'].encode())
            err = lib.nft_ctx_get_error_buffer(c) or b''
            lib.nft_ctx_get_output_buffer(c)
            out = {'id': req['id'], 'ok': rc == 0, 'error': err.decode(errors='replace')[:4000]}
    except Exception as e:
        out = {'id': req['id'], 'ok': False, 'error': repr(e)}
    sys.stdout.write(json.dumps(out) + '\n')
    sys.stdout.flush()
`;

/** Applies nftables scripts in namespaces, one transaction each. */
export interface NftDriver {
  readonly kind: 'libnftables' | 'nft';
  apply(ns: string, script: string): Promise<void>;
  /** Drops what the driver holds for a namespace (before it is removed). */
  forget(ns: string): Promise<void>;
  close(): Promise<void>;
}

/** `nft -f -` per transaction (where the helper cannot run). */
export const nftCommand: NftDriver = {
  kind: 'nft',
  apply: async (ns, script) => {
    await nft(ns, script);
  },
  forget: async () => undefined,
  close: async () => undefined,
};

/** The libnftables helper (one Python process for every namespace). */
export class NftLibrary implements NftDriver {
  readonly kind = 'libnftables';
  private child: ChildProcess | undefined;
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (a: { ok: boolean; error?: string }) => void; timer: NodeJS.Timeout }>();
  private buffer = '';

  private constructor() {}

  /** Starts the helper; undefined when it cannot run here (no python3, no libnftables). */
  static async open(python = 'python3'): Promise<NftLibrary | undefined> {
    const lib = new NftLibrary();
    try {
      await lib.start(python);
      return lib;
    } catch {
      await lib.close();
      return undefined;
    }
  }

  private start(python: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(python, ['-u', '-c', NFT_HELPER], { stdio: ['pipe', 'pipe', 'pipe'] });
      this.child = child;
      let ready = false;
      let stderr = '';
      const timer = setTimeout(() => reject(new Error('the libnftables helper did not start')), 10_000);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.stderr!.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4000);
      });
      child.stdin!.on('error', () => undefined);
      child.stdout!.on('data', (d: Buffer) => {
        this.buffer += d.toString();
        for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
          const line = this.buffer.slice(0, nl);
          this.buffer = this.buffer.slice(nl + 1);
          const msg = JSON.parse(line) as { ready?: boolean; id?: number; ok: boolean; error?: string };
          if (msg.ready) {
            ready = true;
            clearTimeout(timer);
            resolve();
            continue;
          }
          const w = this.waiting.get(msg.id!);
          if (w) {
            clearTimeout(w.timer);
            this.waiting.delete(msg.id!);
            w.resolve(msg);
          }
        }
      });
      child.on('exit', (code) => {
        if (this.child === child) this.child = undefined;
        if (!ready) {
          clearTimeout(timer);
          reject(new Error(`the libnftables helper exited (${code}): ${stderr}`));
        }
        for (const [id, w] of this.waiting) {
          clearTimeout(w.timer);
          this.waiting.delete(id);
          w.resolve({ ok: false, error: `the libnftables helper exited (${code}): ${stderr}` });
        }
      });
    });
  }

  private request(req: Record<string, unknown>, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<{ ok: boolean; error?: string }> {
    const child = this.child;
    if (!child) return Promise.resolve({ ok: false, error: 'the libnftables helper is not running' });
    execStats.commands++;
    const id = this.next++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve({ ok: false, error: `no answer within ${timeoutMs} ms` });
        child.kill('SIGKILL'); // a helper that hangs is of no use: the next start makes another
      }, timeoutMs);
      this.waiting.set(id, { resolve, timer });
      child.stdin!.write(JSON.stringify({ id, ...req }) + '\n');
    });
  }

  async apply(ns: string, script: string): Promise<void> {
    if (!this.child) await this.start('python3');
    const r = await this.request({ ns, script });
    if (!r.ok) throw new KernelCommandError(['libnftables', ns], 1, r.error ?? '');
  }

  async forget(ns: string): Promise<void> {
    if (this.child) await this.request({ op: 'forget', ns });
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.stdin!.end();
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    });
  }
}
