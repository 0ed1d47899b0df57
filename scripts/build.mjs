// Build: the wire models from the AWS SDK schemas, one bundled CommonJS file, and V8's code
// cache for it, for a fast start (bin/palisade.js loads the bundle with the cache: compiling
// 700 KB of JavaScript from source is a third of a cold start).
import { build } from 'esbuild';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'palisade.cjs');
execFileSync(process.execPath, [join(root, 'scripts', 'gen-models.mjs')], { stdio: 'inherit' });
// A cache is only valid for the exact bundle it was made from: never leave an old one behind.
rmSync(`${out}.cache`, { force: true });
rmSync(join(root, 'dist', 'palisade.js'), { force: true });
rmSync(join(root, 'dist', 'palisade.js.map'), { force: true });
await build({
  entryPoints: [join(root, 'src', 'main.ts')],
  outfile: out,
  bundle: true,
  platform: 'node',
  // CommonJS: V8 can load it with a code cache (vm.Script cachedData); ESM has no such door in Node 20.
  format: 'cjs',
  target: 'node20',
  // Native, and loaded only for signature checks (src/auth/sigv4.ts): both stay out of the bundle.
  external: ['@smithy/signature-v4'],
  define: { 'import.meta.url': '__palisade_module_url' },
  // import.meta.url of the bundle, without loading node:url at start (each path segment escaped).
  banner: { js: "var __palisade_module_url = 'file://' + __filename.split('/').map(encodeURIComponent).join('/');" },
  // Minified, names too: a third of the bytes to read and a smaller code cache to load at every
  // start (~4 ms). Stack traces the server logs are mapped back to src/ positions through the
  // source map (src/core/log.ts sourcePositions); profiles read with dist/palisade.cjs.map.
  minifyWhitespace: true,
  minifySyntax: true,
  minifyIdentifiers: true,
  sourcemap: true,
  logLevel: 'warning',
});
// esbuild escapes non-ASCII text in code but copies the comments it keeps as they are; one such
// character would make the bundle unreadable as latin1 (bin/palisade.js reads it so: a one-byte
// string, no UTF-8 decoding). \uXXXX means the same thing wherever it could appear. The loader
// wraps the text in a function, so the entry's #! line goes: it becomes "use strict" (the sources
// are ES modules, strict; esbuild's directive comes after the banner, where it is no directive),
// on its own line so that line numbers stay those of the source map.
let text = readFileSync(out, 'utf8').replace(/^#!.*\n/, '"use strict";\n');
if (!text.startsWith('"use strict";\n')) throw new Error("dist/palisade.cjs: expected the entry's #! line first");
if (/[^\x00-\x7f]/.test(text)) text = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
// bin/palisade.js runs the bundle as a vm.Script without an ESM loader: a dynamic import() left
// in it (an external package imported lazily) would fail when reached. src/core/lazy.ts loadPackage
// is the way to load a package on first use.
const dynamicImport = /[^.\w$]import\(/.exec(text);
if (dynamicImport)
  throw new Error(
    `dist/palisade.cjs has a dynamic import() (near "${text.slice(dynamicImport.index - 60, dynamicImport.index + 40)}"): use loadPackage from src/core/lazy.ts`,
  );
writeFileSync(out, text);
console.log('built dist/palisade.cjs');

// The web console (console/, Svelte + Vite): static files in dist/console/, which the server
// serves from disk at /_palisade/console/ (src/admin-api/console.ts).
{
  const { buildConsole } = await import('../console/build.mjs');
  console.log(`built dist/console/ (${await buildConsole()} ms)`);
}

// The code cache: start the server once, make the calls a first user makes (so the functions
// they run are compiled and cached too: a cache of the bare start is smaller but leaves more to
// compile, ~30 ms slower to a first answer), then ask it to write V8's cache.
await new Promise((resolve) => {
  const child = spawn(process.execPath, [join(root, 'bin', 'palisade.js'), 'start', '--in-memory', '--port', '0', '--log-level', 'error'], {
    env: { ...process.env, PALISADE_CODE_CACHE: 'write' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let seen = '';
  let asked = false;
  const done = (msg) => {
    console.log(msg);
    resolve();
  };
  const timer = setTimeout(() => {
    child.kill('SIGKILL');
    done('code cache: the server did not start in 20 s; none written (starts are slower, nothing else changes)');
  }, 20_000);
  child.on('exit', (code) => {
    clearTimeout(timer);
    done(code === 0 ? 'built dist/palisade.cjs.cache' : `code cache: not written (exit ${code})`);
  });
  child.stdout.on('data', async (d) => {
    seen += d;
    const m = /export AWS_ENDPOINT_URL=(\S+)/.exec(seen);
    if (!m || asked) return;
    asked = true;
    const auth = 'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00';
    try {
      await fetch(`${m[1]}/_palisade/health`);
      for (const body of ['Action=DescribeSecurityGroups&Version=2016-11-15', 'Action=DescribeVpcs&Version=2016-11-15']) {
        await fetch(`${m[1]}/`, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
          body,
        });
      }
    } finally {
      child.kill('SIGUSR2');
    }
  });
});
