// The one door from the kernel data plane to the machine: every `ip`, `nft`, `sysctl` and
// `conntrack` Palisade runs goes through `run` — node:child_process execFile, never a shell — with
// a time limit, an output limit, and an error that names the command and carries its stderr.
// Commands inside a namespace go through `ip -n NS …` (iproute2's own commands) or
// `ip netns exec NS …` (anything else: nft, sysctl, conntrack).
import { execFile } from 'node:child_process';

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
