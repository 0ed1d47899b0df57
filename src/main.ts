#!/usr/bin/env node
// The `palisade` command line.
import { runCli } from './cli/cli.ts';

// Output piped into a program that stops reading (`palisade --help | head`): end quietly.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });

runCli(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`palisade: ${(e as Error).message}\n`);
    process.exitCode = 2;
  },
);
