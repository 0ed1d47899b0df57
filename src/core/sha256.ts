// node:crypto in the shape @smithy/signature-v4 expects of its `sha256` constructor (HMAC when
// given a secret): the server verifies signatures with it, the CLI signs with it.
import type { Hash, Hmac } from 'node:crypto';
import { crypto } from './lazy.ts';

export class Sha256 {
  private h: Hash | Hmac;
  constructor(private readonly secret?: string | Uint8Array) {
    this.h = this.make();
  }
  private make(): Hash | Hmac {
    return this.secret === undefined
      ? crypto().createHash('sha256')
      : crypto().createHmac('sha256', Buffer.from(this.secret as Uint8Array));
  }
  update(data: string | Uint8Array): void {
    this.h.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {
    this.h = this.make();
  }
}
