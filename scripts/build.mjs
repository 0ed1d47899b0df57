// Build: the wire models from the AWS SDK schemas, then one bundled ESM file for a fast start.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
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
console.log('built dist/palisade.js');
