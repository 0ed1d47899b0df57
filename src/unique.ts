// Identifiers that must be unique but are not secrets — request ids, CloudTrail event ids,
// resource ids — drawn from V8's generator (Math.random: xorshift128+, seeded per process by the
// OS), which needs no node:crypto: loading that is ~5 ms of a cold start, before a first answer
// that needs ids and nothing else of it. Keys, secrets and tokens still come from node:crypto.

const HEX = '0123456789abcdef';

/** Fills `buf` with pseudo-random bytes. */
export function fillRandom(buf: Uint8Array): Uint8Array {
  for (let i = 0; i < buf.length; i += 4) {
    let r = (Math.random() * 0x1_0000_0000) >>> 0;
    for (let k = 0; k < 4 && i + k < buf.length; k++, r >>>= 8) buf[i + k] = r & 0xff;
  }
  return buf;
}

/** A version-4 UUID (RFC 9562 layout: version nibble 4, variant bits 10). */
export function uuid(): string {
  let s = '';
  for (let i = 0; i < 36; i++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) s += '-';
    else if (i === 14) s += '4';
    else if (i === 19) s += HEX[8 + ((Math.random() * 4) | 0)];
    else s += HEX[(Math.random() * 16) | 0];
  }
  return s;
}
