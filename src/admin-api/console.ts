// The web console's static files (`GET /_palisade/console/*`), built by `npm run build` into
// dist/console/ (console/ holds the sources). Served from disk on request — nothing is read at
// start — without credentials: the files hold no state, and the APIs the console calls are
// guarded as for any other caller. Also the redirect of a browser's `GET /` to the console.
import { existsSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingHttpHeaders } from 'node:http';
import { moduleRequire } from '../core/lazy.ts';

export const CONSOLE_PATH = '/_palisade/console/';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The page's own code only: the console talks to this server alone and embeds nothing. Inline
 * styles are what Svelte's style: directives and Cytoscape's container write.
 */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export interface FileAnswer {
  etag: string;
  headers: Record<string, string | number>;
  bytes: Buffer;
}

/** A refusal: the admin API answers it as its JSON errors. */
export interface FileRefusal {
  status: number;
  error: string;
}

let foundDir: string | null | undefined;

/**
 * dist/console/ beside the bundle (dist/palisade.cjs) or, run from source, under the package root.
 * The built folder is told from the sources (console/ at the root) by its assets/ folder.
 */
export function consoleDir(): string | null {
  if (process.env.PALISADE_CONSOLE_DIR) return process.env.PALISADE_CONSOLE_DIR;
  if (foundDir !== undefined) return foundDir;
  const here = dirname(fileURLToPath(import.meta.url));
  for (const c of [join(here, 'console'), join(here, '..', '..', 'dist', 'console')]) {
    if (existsSync(join(c, 'index.html')) && existsSync(join(c, 'assets'))) return (foundDir = c);
  }
  // Not cached: a build made while the server runs is found at the next request.
  return null;
}

type Fs = typeof import('node:fs/promises');
const fsp = (): Fs => moduleRequire('node:fs/promises') as Fs;

/**
 * The file for `rest` (the path after /_palisade/console/, still URL-encoded). A path without an
 * extension that names no file is a page of the console's own routing: index.html answers it.
 */
export async function consoleFile(rest: string): Promise<FileAnswer | FileRefusal> {
  const root = consoleDir();
  if (!root) return { status: 404, error: 'the web console is not built: run `npm run build`' };
  let rel: string;
  try {
    rel = decodeURIComponent(rest);
  } catch {
    return { status: 400, error: 'the path is not valid URL encoding' };
  }
  if (rel.includes('\0')) return { status: 400, error: 'the path is not valid' };
  const base = resolve(root);
  let file = resolve(base, `.${sep}${rel}`);
  // No way out of the folder: `..`, encoded or not, and absolute paths resolve outside it.
  if (file !== base && !file.startsWith(base + sep)) return { status: 404, error: `no such file: ${rest}` };
  const fs = fsp();
  let info = await fs.stat(file).catch(() => undefined);
  if (!info?.isFile()) {
    if (rel !== '' && !rel.endsWith('/') && extname(rel) !== '') return { status: 404, error: `no such file: ${rest}` };
    file = join(base, 'index.html');
    info = await fs.stat(file).catch(() => undefined);
    if (!info?.isFile()) return { status: 404, error: 'the web console is not built: run `npm run build`' };
  }
  const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const hashed = file.startsWith(join(base, 'assets') + sep);
  const out: Record<string, string | number> = {
    'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    etag,
    // Vite names assets by their content hash: they never change. index.html is checked each time.
    'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  if (out['content-type'] === 'text/html; charset=utf-8') {
    out['content-security-policy'] = CSP;
    out['x-frame-options'] = 'DENY';
  }
  return { etag, headers: out, bytes: await fs.readFile(file) };
}

/**
 * A browser opening the server's address (`GET /` asking for HTML, unsigned) goes to the
 * console; every other `GET /` (S3's ListBuckets, a health probe) is answered as before.
 */
export function wantsConsole(method: string | undefined, url: string, headers: IncomingHttpHeaders): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (url !== '/') return false;
  if (headers.authorization) return false;
  const accept = headers.accept;
  return typeof accept === 'string' && /\btext\/html\b/i.test(accept);
}
