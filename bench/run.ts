// `npm run bench`: every benchmark, printing its figures next to its target (✓/✗). Nothing here
// asserts on time. Each benchmark bounds itself (fixed counts or a few seconds) and talks only to
// 127.0.0.1; servers run as child processes so the load generator does not share their CPU.
// Run a subset with `npm run bench -- startup sg` (names: startup, sg, engine, auth, instances, batch, reach, lookup, audit).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { benchStartup, benchSecurityGroups } from './api.ts';

const here = dirname(fileURLToPath(import.meta.url));
const print = (line: string) => console.log(line);

type Bench = { name: string; run: () => Promise<void> };

/** Benchmarks that live in their own modules, each exporting `bench<Name>(print)`. */
function moduleBench(name: string, file: string, fn: string): Bench | undefined {
  if (!existsSync(join(here, file))) return undefined;
  return {
    name,
    run: async () => {
      const mod = (await import(`./${file}`)) as Record<string, (p: typeof print) => Promise<void> | void>;
      await mod[fn]!(print);
    },
  };
}

const benches: Bench[] = [
  { name: 'startup', run: async () => { await benchStartup(print); } },
  { name: 'sg', run: async () => { await benchSecurityGroups(print); } },
  moduleBench('engine', 'engine.ts', 'benchEngine'),
  moduleBench('auth', 'auth.ts', 'benchAuth'),
  moduleBench('instances', 'instances.ts', 'benchInstances'),
  moduleBench('batch', 'batch.ts', 'benchBatch'),
  moduleBench('reach', 'reach.ts', 'benchReach'),
  moduleBench('lookup', 'lookup-events.ts', 'benchLookupEvents'),
  moduleBench('audit', 'audit.ts', 'benchAudit'),
].filter((b): b is Bench => b !== undefined);

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !benches.some((b) => b.name === w));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')} (known: ${benches.map((b) => b.name).join(', ')})`);
  process.exit(2);
}

console.log(`Palisade benchmarks — node ${process.version}, ${cpus().length} CPU(s) (${cpus()[0]?.model.trim() ?? '?'}); targets are for a 2-core machine`);
let failed = 0;
for (const b of benches) {
  if (wanted.length && !wanted.includes(b.name)) continue;
  console.log('');
  try {
    await b.run();
  } catch (e) {
    failed++;
    console.log(`${b.name}: FAILED — ${(e as Error).stack ?? e}`);
  }
}
process.exit(failed ? 1 : 0);
