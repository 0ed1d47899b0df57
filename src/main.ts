#!/usr/bin/env node
// The `palisade` command line.
import { runCli } from './cli/cli.ts';

runCli(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`palisade: ${(e as Error).message}\n`);
    process.exitCode = 2;
  },
);
