#!/usr/bin/env node
// Palisade's command line. Loads the bundle (dist/palisade.cjs, built by `npm run build`) with
// V8's code cache (dist/palisade.cjs.cache, written by the same build) so that a start does not
// compile the whole bundle from source; without a usable cache it compiles as usual.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const vm = require('node:vm');
const { wrap } = require('node:module');

const file = join(__dirname, '..', 'dist', 'palisade.cjs');
const cacheFile = `${file}.cache`;
let source;
try {
  // The build keeps the bundle ASCII: read as latin1, it becomes a one-byte string with no UTF-8 decoding.
  source = readFileSync(file, 'latin1');
} catch {
  process.stderr.write('palisade: dist/palisade.cjs is missing: run `npm run build` first\n');
  process.exit(1);
}
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
// No importModuleDynamically: the bundle has no import() (the build checks), and offering one
// would start Node's ESM loader at every start for nothing.
// The bundle runs as a CommonJS module would (Module.wrap), with this file's `require`: it
// requires Node's built-ins and the package's own dependencies, which resolve from bin/ as from dist/.
const script = new vm.Script(wrap(source), { filename: file, cachedData });
const mod = { exports: {} };
script.runInThisContext()(mod.exports, require, mod, file, dirname(file));

if (process.env.PALISADE_CODE_CACHE === 'write') {
  // The build's warm-up run: once it has made its calls, write what V8 compiled.
  process.once('SIGUSR2', () => {
    writeFileSync(cacheFile, script.createCachedData());
    process.exit(0);
  });
}
