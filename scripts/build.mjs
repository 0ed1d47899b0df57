// Build: the wire models from the AWS SDK schemas, then one bundled ESM file for a fast start.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
execFileSync(process.execPath, [join(root, 'scripts', 'gen-models.mjs')], { stdio: 'inherit' });
await build({
  entryPoints: [join(root, 'src', 'main.ts')],
  outfile: join(root, 'dist', 'palisade.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Native, and loaded only for signature checks (src/auth/sigv4.ts): both stay out of the bundle.
  external: ['better-sqlite3', '@smithy/signature-v4'],
  sourcemap: true,
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
// esbuild escapes non-ASCII text in code but copies the comments it keeps as they are; one such
// character makes node read the whole bundle as a two-byte string (twice the memory and a slower
// decode at every start). \uXXXX means the same thing wherever it could appear.
const out = join(root, 'dist', 'palisade.js');
const text = readFileSync(out, 'utf8');
if (/[^\x00-\x7f]/.test(text)) writeFileSync(out, text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
console.log('built dist/palisade.js');
