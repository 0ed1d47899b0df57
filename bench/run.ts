// `npm run bench`: every benchmark, printing its figures next to its target (✓/✗). Nothing here
// asserts on time. Each benchmark bounds itself (fixed counts or a few seconds) and talks only to
// 127.0.0.1; servers run as child processes so the load generator does not share their CPU.
// `npm run bench -- startup sg` runs some of them (by name; `npm run bench -- --list` lists them).
// Besides startup and sg (bench/api.ts), every bench/<name>.ts exporting `bench<Name>(print)` is run.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpus } from 'node:os';
import { benchStartup, benchSecurityGroups } from './api.ts';

// The SDK's notice about future Node versions is not a benchmark figure (as in the tests).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const here = dirname(fileURLToPath(import.meta.url));
const print = (line: string) => console.log(line);

type Bench = { name: string; run: () => Promise<void> };

/** Modules with their own benchmark: the export is found by name, the module loaded only to run it. */
function moduleBenches(): Bench[] {
  const out: Bench[] = [];
  for (const file of readdirSync(here).sort()) {
    if (!file.endsWith('.ts') || ['run.ts', 'api.ts', 'wire.ts', 'lib.ts'].includes(file)) continue;
    const fn = /export\s+async\s+function\s+(bench[A-Z]\w*)\s*\(/.exec(readFileSync(join(here, file), 'utf8'))?.[1];
    if (!fn) continue;
    out.push({
      name: basename(file, '.ts'),
      run: async () => {
        const mod = (await import(pathToFileURL(join(here, file)).href)) as Record<string, (p: typeof print) => Promise<void> | void>;
        await mod[fn]!(print);
      },
    });
  }
  return out;
}

const benches: Bench[] = [
  {
    name: 'startup',
    run: async () => {
      await benchStartup(print);
    },
  },
  {
    name: 'sg',
    run: async () => {
      await benchSecurityGroups(print);
    },
  },
  ...moduleBenches(),
];

const args = process.argv.slice(2);
if (args.includes('--list')) {
  console.log(benches.map((b) => b.name).join('\n'));
  process.exit(0);
}
const wanted = args.filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !benches.some((b) => b.name === w));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')} (known: ${benches.map((b) => b.name).join(', ')})`);
  process.exit(2);
}

console.log(
  `Palisade benchmarks: node ${process.version}, ${cpus().length} CPU(s) (${cpus()[0]?.model.trim() ?? '?'}); targets are for a 2-core machine`,
);
let failed = 0;
for (const b of benches) {
  if (wanted.length && !wanted.includes(b.name)) continue;
  console.log('');
  try {
    await b.run();
  } catch (e) {
    failed++;
    console.log(`${b.name}: FAILED: ${(e as Error).stack ?? e}`);
  }
}
process.exit(failed ? 1 : 0);
