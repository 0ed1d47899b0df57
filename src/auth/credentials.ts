// Minting STS temporary credentials: ASIA… keys with a secret and a session token, stored as
// session documents so every Palisade API recognises them.
import { crypto } from '../core/lazy.ts';
import type { Tx } from '../store/store.ts';
import { GLOBAL } from '../core/documents/iam.ts';
import { SESSION_KIND, type SessionDoc } from './principals.ts';

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export function randomKeyId(prefix: 'AKIA' | 'ASIA' | 'AROA' | 'AIDA' | 'AIPA' | 'ANPA'): string {
  const b = crypto().randomBytes(16);
  let s = prefix;
  for (let i = 0; i < 16; i++) s += UPPER[b[i]! % 32];
  return s;
}

export function randomSecret(): string {
  return crypto()
    .randomBytes(30)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, 'x')
    .slice(0, 40);
}

function newSessionToken(): string {
  return 'IQoJb3JpZ2luX2Vj' + crypto().randomBytes(180).toString('base64');
}

type SessionInit = Omit<SessionDoc, 'id' | 'secret' | 'token' | 'seq'>;

export function mintSession(tx: Tx, init: SessionInit): SessionDoc {
  const doc: SessionDoc = { id: randomKeyId('ASIA'), secret: randomSecret(), token: newSessionToken(), ...init };
  return tx.put(SESSION_KIND, GLOBAL, doc);
}

/** Drops sessions that expired more than a day ago (called when new ones are minted). */
export function pruneSessions(tx: Tx, now: number): void {
  const table = tx.store.table(SESSION_KIND, GLOBAL);
  if (table.size < 1000) return;
  for (const s of table.values() as Iterable<SessionDoc>) if (s.expiration < now - 86_400_000) tx.delete(SESSION_KIND, GLOBAL, s.id);
}
