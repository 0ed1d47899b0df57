// Node built-ins that only some calls need, loaded on first use rather than at start: each one
// costs a cold start a few milliseconds (see `npm run bench -- startup`).

/**
 * `require` of this module: in the bundle (CommonJS, bin/palisade.js) the module's own, so that a
 * start does not load node:module; run from source as an ES module (tests), one made for it.
 */
export const moduleRequire: NodeRequire =
  typeof require === 'function'
    ? require
    : (process.getBuiltinModule('node:module') as typeof import('node:module')).createRequire(import.meta.url);

export const zlib = (): typeof import('node:zlib') => moduleRequire('node:zlib') as typeof import('node:zlib');
export const workerThreads = (): typeof import('node:worker_threads') =>
  moduleRequire('node:worker_threads') as typeof import('node:worker_threads');

/**
 * A package loaded on first use through require (its CommonJS build), not import(): the bundle
 * runs from a V8 code cache (bin/palisade.js), and Node 20 loses a cached script's dynamic-import
 * callback. Also keeps the package out of the bundle (the specifier is not a literal there).
 */
export const SIGNER_PACKAGE = '@smithy/signature-v4';

export function loadPackage<T>(specifier: string): T {
  return moduleRequire(specifier) as T;
}

/** node:crypto, on first use: loading it is ~5 ms of a cold start, and a first call needs none of it. */
export const crypto = (): typeof import('node:crypto') => moduleRequire('node:crypto') as typeof import('node:crypto');
