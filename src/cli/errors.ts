// What a `palisade` subcommand can fail with, and the exit code each one means:
//   0 done / the answer is yes, 1 the answer is no (a REJECT, not reachable), 2 a usage or input
//   error (or an error answer from the server), 3 the server could not be reached.
export const EXIT = { ok: 0, negative: 1, usage: 2, unreachable: 3 } as const;

/** The command line or an input file is wrong: the subcommand's usage follows the message. */
export class UsageError extends Error {
  readonly exitCode = EXIT.usage;
}

/** An input (file, argument) is wrong in a way its usage does not explain: exit 2 without the usage. */
export class InputError extends Error {
  readonly exitCode = EXIT.usage;
}

/** No Palisade server answers at the endpoint. */
export class UnreachableError extends Error {
  readonly exitCode = EXIT.unreachable;
  constructor(
    readonly endpoint: string,
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(
      `cannot reach the Palisade server at ${endpoint}: is the server running? (\`palisade start\`)\n` +
        `  (${detail}; the server is found with --endpoint, else AWS_ENDPOINT_URL, else http://127.0.0.1:4566)`,
      options,
    );
  }
}

/** The exit code of an error thrown by a subcommand. */
export function exitCodeOf(e: unknown): number {
  const code = (e as { exitCode?: unknown } | undefined)?.exitCode;
  return typeof code === 'number' ? code : EXIT.usage;
}
