// The encoded authorization-failure message of EC2's UnauthorizedOperation: a JSON document
// sealed with a per-state key, which only sts:DecodeAuthorizationMessage opens.
import { crypto } from '../core/lazy.ts';
import type { Store } from '../store/store.ts';

function key(store: Store): Buffer {
  let k = store.getMeta('authz-message-key');
  if (!k) {
    k = crypto().randomBytes(32).toString('base64');
    store.setMeta('authz-message-key', k);
  }
  return Buffer.from(k, 'base64');
}

export function encodeAuthorizationMessage(store: Store, message: object): string {
  const iv = crypto().randomBytes(12);
  const c = crypto().createCipheriv('aes-256-gcm', key(store), iv);
  const body = Buffer.concat([c.update(JSON.stringify(message), 'utf8'), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url');
}

export function decodeAuthorizationMessage(store: Store, encoded: string): string | undefined {
  try {
    const raw = Buffer.from(encoded, 'base64url');
    if (raw.length < 29) return undefined;
    const d = crypto().createDecipheriv('aes-256-gcm', key(store), raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
