// Writing out answers. A large answer (a Describe over many resources) is encoded straight from
// its pieces into a reused buffer as they are made: joining it into one string and then encoding
// that string would allocate two fresh large blocks per answer (fresh memory costs a page fault per
// page), and keeping every piece until the end makes the garbage collector copy them all.
import type { ServerResponse } from 'node:http';

/** Below this many characters an answer is simply written as a string. */
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

/**
 * An answer's body, written as its pieces come (UTF-8): small pieces gather into runs of a few
 * KB, each run encoded straight into a reused buffer that grows as needed. The pieces of a large
 * answer (a Describe over many resources) thus die young instead of being kept until the end,
 * where the garbage collector would copy them all, twice, before they were written.
 */
export class AnswerWriter {
  /** Until the answer passes SMALL characters: its pieces, to be joined and written as a string. */
  private pending: string[] | undefined = [];
  private chars = 0;
  private buf: Buffer | undefined;
  private n = 0;
  private run = '';

  push(piece: string): void {
    if (this.pending) {
      this.pending.push(piece);
      if ((this.chars += piece.length) < SMALL) return;
      const pieces = this.pending;
      this.pending = undefined;
      for (const p of pieces) this.push(p);
      return;
    }
    if (piece.length >= 2048) {
      // a large piece (e.g. a resource's XML kept from an earlier answer) is written as it is
      if (this.run) this.write(this.run);
      this.write(piece);
    } else if ((this.run += piece).length >= 4096) {
      this.write(this.run);
    }
  }

  private write(text: string): void {
    this.run = '';
    // UTF-8 needs at most 3 bytes per UTF-16 unit, so the write below completes.
    const need = this.n + text.length * 3;
    if (!this.buf || need > this.buf.length) {
      const bigger = acquire(Math.max(need, (this.buf?.length ?? 0) * 2));
      if (this.buf) {
        this.buf.copy(bigger, 0, 0, this.n);
        release(this.buf);
      }
      this.buf = bigger;
    }
    this.n += this.buf.write(text, this.n);
  }

  /** Answers with what was written, with a content-length. */
  end(res: ServerResponse, status: number, contentType: string): void {
    if (this.pending) {
      const text = this.pending.length === 1 ? this.pending[0]! : this.pending.join('');
      res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    if (this.run) this.write(this.run);
    const buf = this.buf!;
    res.writeHead(status, { 'content-type': contentType, 'content-length': this.n });
    // Back to the pool once the socket has taken the bytes (never, if the connection dies first).
    res.once('finish', () => release(buf));
    res.end(buf.subarray(0, this.n));
  }
}
