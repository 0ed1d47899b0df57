// Child processes in tests (the aws CLI, python3, palisade itself) are killed after a deadline:
// a CLI that hangs fails its test instead of stalling the whole suite (and CI) until its limit.
import type { ExecFileOptions } from 'node:child_process';

export const CHILD_DEADLINE_MS = 120_000;

/** `promisify(execFile)` with a default `timeout` (SIGKILL at the deadline) unless one is given. */
export function timed<F extends (file: string, args: readonly string[], opts?: never) => Promise<unknown>>(run: F): F {
  return ((file: string, args: readonly string[], opts: ExecFileOptions = {}) =>
    (run as unknown as (f: string, a: readonly string[], o: ExecFileOptions) => Promise<unknown>)(file, args, {
      timeout: CHILD_DEADLINE_MS,
      killSignal: 'SIGKILL',
      ...opts,
    })) as unknown as F;
}
