// Builds the web console into dist/console/ (scripts/build.mjs calls it; so does
// test/console.test.ts when the folder is missing). `node console/build.mjs` runs it alone.
import { build } from 'vite';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export async function buildConsole() {
  const t0 = performance.now();
  await build({ configFile: join(here, 'vite.config.mjs'), logLevel: 'warn' });
  return Math.round(performance.now() - t0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const ms = await buildConsole();
  console.log(`built dist/console/ (${ms} ms)`);
}
