// Writing out answers. A large answer (a Describe over many resources) is encoded straight from
// its pieces into a reused buffer: joining it into one string and then encoding that string
// would allocate two fresh large blocks per answer, and fresh memory costs a page fault per page.
import type { ServerResponse } from 'node:http';

/** Below this many characters an answer is simply joined and written. */
const SMALL = 16 * 1024;
/** Buffers kept for reuse: at most 8, of at most 4 MB each (pages never written stay unbacked). */
const KEEP = 8;
const KEEP_MAX_BYTES = 4 * 1024 * 1024;
const free: Buffer[] = [];

function acquire(bytes: number): Buffer {
  let best = -1;
  for (let i = 0; i < free.length; i++) {
    if (free[i]!.length >= bytes && (best < 0 || free[i]!.length < free[best]!.length)) best = i;
  }
  if (best >= 0) return free.splice(best, 1)[0]!;
  let size = 64 * 1024;
  while (size < bytes) size *= 2;
  return Buffer.allocUnsafeSlow(size);
}

function release(buf: Buffer): void {
  if (buf.length > KEEP_MAX_BYTES) return;
  if (free.length >= KEEP) {
    // keep the larger buffers: they are the expensive ones to make
    let smallest = 0;
    for (let i = 1; i < free.length; i++) if (free[i]!.length < free[smallest]!.length) smallest = i;
    if (free[smallest]!.length >= buf.length) return;
    free.splice(smallest, 1);
  }
  free.push(buf);
}

/** Answers with the concatenation of `parts` (UTF-8) and a content-length. */
export function endWithParts(res: ServerResponse, status: number, contentType: string, parts: string[]): void {
  let chars = 0;
  for (let i = 0; i < parts.length; i++) chars += parts[i]!.length;
  if (chars < SMALL) {
    const text = parts.length === 1 ? parts[0]! : parts.join('');
    res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
    res.end(text);
    return;
  }
  // UTF-8 needs at most 3 bytes per UTF-16 unit, so every write below completes.
  const buf = acquire(chars * 3);
  let n = 0;
  let run = ''; // small pieces are written a few KB at a time (one call per piece costs more)
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.length >= 2048) {
      if (run) n += buf.write(run, n);
      run = '';
      n += buf.write(p, n);
    } else if ((run += p).length >= 4096) {
      n += buf.write(run, n);
      run = '';
    }
  }
  if (run) n += buf.write(run, n);
  res.writeHead(status, { 'content-type': contentType, 'content-length': n });
  // Back to the pool once the socket has taken the bytes (never, if the connection dies first).
  res.once('finish', () => release(buf));
  res.end(buf.subarray(0, n));
}
