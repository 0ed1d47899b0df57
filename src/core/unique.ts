// Identifiers that must be unique but are not secrets — request ids, CloudTrail event ids,
// resource ids — drawn from V8's generator (Math.random: xorshift128+, seeded per process by the
// OS), which needs no node:crypto: loading that is ~5 ms of a cold start, before a first answer
// that needs ids and nothing else of it. Keys, secrets and tokens still come from node:crypto.

const HEX = '0123456789abcdef';

/** `n` lower-case hex digits. */
export function hexDigits(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += HEX[(Math.random() * 16) | 0];
  return s;
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
