// Key pairs: CreateKeyPair (real RSA or ED25519 keys, PEM or PuTTY's PPK), ImportKeyPair (OpenSSH,
// RFC 4716 or base64 DER public keys), DescribeKeyPairs and DeleteKeyPair, with AWS's
// fingerprints: a created RSA key is known by the SHA-1 of its PKCS#8 private key, an imported
// one by the MD5 of its DER public key (SubjectPublicKeyInfo), an ED25519 key by the padded
// base64 SHA-256 of its OpenSSH public key blob (EC2 User Guide, "Verify the fingerprint").
import type {
  CreateKeyPairRequest,
  DeleteKeyPairRequest,
  DeleteKeyPairResult,
  DescribeKeyPairsRequest,
  DescribeKeyPairsResult,
  ImportKeyPairRequest,
  ImportKeyPairResult,
  KeyPair,
  KeyPairInfo,
} from '@aws-sdk/client-ec2';
import type { KeyObject } from 'node:crypto';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { crypto } from '../../core/lazy.ts';
import { KIND, type KeyPairDoc } from '../../core/documents/ec2.ts';
import { newId } from './ids.ts';
import { compileFilters, tagList } from './filters.ts';
import { tagsFromSpecs } from './tags.ts';
import { findKeyPair, keyPairNotFound } from './lookups.ts';

// ---------------------------------------------------------------------------------------------
// SSH wire encoding (RFC 4251): strings and mpints with a 32-bit length

function sshString(b: Buffer | string): Buffer {
  const body = typeof b === 'string' ? Buffer.from(b) : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/** An unsigned big-endian integer as an mpint: no leading zeros, one added when the high bit is set. */
function sshMpint(unsigned: Buffer): Buffer {
  let i = 0;
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++;
  let v = unsigned.subarray(i);
  if (v.length && (v[0]! & 0x80) !== 0) v = Buffer.concat([Buffer.from([0]), v]);
  return sshString(v);
}

/** Reads SSH strings one after another; undefined past the end. */
function sshReader(buf: Buffer) {
  let at = 0;
  return {
    next(): Buffer | undefined {
      if (at + 4 > buf.length) return undefined;
      const len = buf.readUInt32BE(at);
      if (at + 4 + len > buf.length) return undefined;
      const v = buf.subarray(at + 4, at + 4 + len);
      at += 4 + len;
      return v;
    },
    done: () => at === buf.length,
  };
}

const b64url = (s: string) => Buffer.from(s, 'base64url');
const colonHex = (digest: Buffer) => [...digest].map((b) => b.toString(16).padStart(2, '0')).join(':');
const wrap = (text: string, width: number) => text.match(new RegExp(`.{1,${width}}`, 'g'))?.join('\n') ?? '';

function rsaBlob(pub: KeyObject): Buffer {
  const jwk = pub.export({ format: 'jwk' });
  return Buffer.concat([sshString('ssh-rsa'), sshMpint(b64url(jwk.e!)), sshMpint(b64url(jwk.n!))]);
}

function ed25519Blob(pub: KeyObject): Buffer {
  return Buffer.concat([sshString('ssh-ed25519'), sshString(b64url(pub.export({ format: 'jwk' }).x!))]);
}

const ed25519Fingerprint = (blob: Buffer) => crypto().createHash('sha256').update(blob).digest('base64');

// ---------------------------------------------------------------------------------------------
// Private key files: PEM (PKCS#1 for RSA, OpenSSH's own format for ED25519) and PuTTY's PPK v2

/** `-----BEGIN OPENSSH PRIVATE KEY-----`, unencrypted, one key (OpenSSH's PROTOCOL.key). */
function opensshPrivateKey(blob: Buffer, seed: Buffer, pub: Buffer, comment: string): string {
  const check = crypto().randomBytes(4);
  let priv = Buffer.concat([
    check,
    check,
    sshString('ssh-ed25519'),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const pad: number[] = [];
  for (let i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i);
  priv = Buffer.concat([priv, Buffer.from(pad)]);
  const nkeys = Buffer.alloc(4);
  nkeys.writeUInt32BE(1);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    nkeys,
    sshString(blob),
    sshString(priv),
  ]);
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${wrap(body.toString('base64'), 70)}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

/** PuTTY-User-Key-File-2, unencrypted: the MAC is HMAC-SHA-1 keyed with SHA-1 of PuTTY's constant and an empty passphrase. */
function ppk(algorithm: string, publicBlob: Buffer, privateBlob: Buffer, comment: string): string {
  const macKey = crypto().createHash('sha1').update('putty-private-key-file-mac-key').digest();
  const mac = crypto()
    .createHmac('sha1', macKey)
    .update(Buffer.concat([sshString(algorithm), sshString('none'), sshString(comment), sshString(publicBlob), sshString(privateBlob)]))
    .digest('hex');
  const lines = (b: Buffer) => wrap(b.toString('base64'), 64).split('\n');
  const pub = lines(publicBlob);
  const priv = lines(privateBlob);
  return [
    `PuTTY-User-Key-File-2: ${algorithm}`,
    'Encryption: none',
    `Comment: ${comment}`,
    `Public-Lines: ${pub.length}`,
    ...pub,
    `Private-Lines: ${priv.length}`,
    ...priv,
    `Private-MAC: ${mac}`,
    '',
  ].join('\r\n');
}

interface NewKey {
  fingerprint: string;
  publicKey: string;
  material: string;
}

function createRsa(name: string, format: 'pem' | 'ppk'): NewKey {
  const { privateKey, publicKey } = crypto().generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  const blob = rsaBlob(publicKey);
  const fingerprint = colonHex(
    crypto()
      .createHash('sha1')
      .update(privateKey.export({ type: 'pkcs8', format: 'der' }))
      .digest(),
  );
  let material: string;
  if (format === 'pem') material = String(privateKey.export({ type: 'pkcs1', format: 'pem' })).trimEnd();
  else {
    const j = privateKey.export({ format: 'jwk' });
    const priv = Buffer.concat([sshMpint(b64url(j.d!)), sshMpint(b64url(j.p!)), sshMpint(b64url(j.q!)), sshMpint(b64url(j.qi!))]);
    material = ppk('ssh-rsa', blob, priv, name);
  }
  return { fingerprint, publicKey: `ssh-rsa ${blob.toString('base64')} ${name}`, material };
}

function createEd25519(name: string, format: 'pem' | 'ppk'): NewKey {
  const { privateKey, publicKey } = crypto().generateKeyPairSync('ed25519');
  const blob = ed25519Blob(publicKey);
  const seed = b64url(privateKey.export({ format: 'jwk' }).d!);
  const pub = b64url(publicKey.export({ format: 'jwk' }).x!);
  const material = format === 'pem' ? opensshPrivateKey(blob, seed, pub, name) : ppk('ssh-ed25519', blob, sshString(seed), name);
  return { fingerprint: ed25519Fingerprint(blob), publicKey: `ssh-ed25519 ${blob.toString('base64')} ${name}`, material };
}

// ---------------------------------------------------------------------------------------------
// Imported public keys

const badFormat = () => new ApiError('InvalidKey.Format', 'Key is not in valid OpenSSH public key format');

/** RSA sizes EC2 imports (the User Guide names 1024, 2048 and 4096; 3072, ssh-keygen's default, is accepted too). */
const RSA_BITS = { min: 1024, max: 16384 };

function bitLength(b: Buffer): number {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  return i === b.length ? 0 : (b.length - i - 1) * 8 + (32 - Math.clz32(b[i]!));
}

interface ParsedKey {
  keyType: 'rsa' | 'ed25519';
  blob: Buffer;
  comment?: string;
}

/** An OpenSSH public key blob (`ssh-rsa`: e, n; `ssh-ed25519`: 32 bytes), or undefined. */
function parseBlob(blob: Buffer): Omit<ParsedKey, 'comment'> | undefined {
  const r = sshReader(blob);
  const type = r.next()?.toString('latin1');
  if (type === 'ssh-ed25519') {
    const key = r.next();
    return key && key.length === 32 && r.done() ? { keyType: 'ed25519', blob } : undefined;
  }
  if (type === 'ssh-rsa') {
    const e = r.next();
    const n = r.next();
    if (!e || !n || !r.done() || !e.length || !n.length || (n[0]! & 0x80) !== 0 || (e[0]! & 0x80) !== 0) return undefined;
    const bits = bitLength(n);
    if (bits < RSA_BITS.min || bits > RSA_BITS.max) return undefined;
    return { keyType: 'rsa', blob };
  }
  return undefined;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** OpenSSH (`ssh-rsa AAAA… comment`), RFC 4716 (`---- BEGIN SSH2 PUBLIC KEY ----`) or base64 DER (RSA SubjectPublicKeyInfo). */
function parsePublicKey(text: string): ParsedKey {
  const t = text.trim();
  const openssh = /^(ssh-rsa|ssh-ed25519)\s+([A-Za-z0-9+/]+={0,2})(?:\s+(.*))?$/s.exec(t);
  if (openssh) {
    const k = parseBlob(Buffer.from(openssh[2]!, 'base64'));
    if (!k || openssh[1] !== (k.keyType === 'rsa' ? 'ssh-rsa' : 'ssh-ed25519')) throw badFormat();
    return { ...k, ...(openssh[3]?.trim() ? { comment: openssh[3].trim() } : {}) };
  }
  if (t.startsWith('---- BEGIN SSH2 PUBLIC KEY ----')) {
    const lines = t.split(/\r?\n/).map((l) => l.trim());
    if (lines[lines.length - 1] !== '---- END SSH2 PUBLIC KEY ----') throw badFormat();
    const body: string[] = [];
    let comment: string | undefined;
    for (let i = 1; i < lines.length - 1; i++) {
      let line = lines[i]!;
      if (line.includes(':')) {
        // A header, continued by a trailing backslash.
        while (line.endsWith('\\') && i + 1 < lines.length - 1) line = line.slice(0, -1) + lines[++i]!;
        const m = /^([^:]+):\s*(.*)$/.exec(line)!;
        if (m[1]!.toLowerCase() === 'comment') comment = m[2]!.replace(/^"(.*)"$/, '$1');
        continue;
      }
      body.push(line);
    }
    const b64 = body.join('');
    if (!BASE64.test(b64)) throw badFormat();
    const k = parseBlob(Buffer.from(b64, 'base64'));
    if (!k) throw badFormat();
    return { ...k, ...(comment ? { comment } : {}) };
  }
  const compact = t.replace(/\s+/g, '');
  if (BASE64.test(compact)) {
    try {
      const key = crypto().createPublicKey({ key: Buffer.from(compact, 'base64'), format: 'der', type: 'spki' });
      if (key.asymmetricKeyType === 'rsa') {
        const k = parseBlob(rsaBlob(key));
        if (k) return k;
      }
    } catch {
      // not DER
    }
  }
  throw badFormat();
}

/** The key as imported: its AWS fingerprint (MD5 of the DER public key for RSA). */
function importedFingerprint(k: ParsedKey): string {
  if (k.keyType === 'ed25519') return ed25519Fingerprint(k.blob);
  const r = sshReader(k.blob);
  r.next();
  const e = r.next()!;
  const n = r.next()!;
  const strip = (b: Buffer) => (b[0] === 0 ? b.subarray(1) : b);
  const key = crypto().createPublicKey({
    key: { kty: 'RSA', n: strip(n).toString('base64url'), e: strip(e).toString('base64url') },
    format: 'jwk',
  });
  return colonHex(
    crypto()
      .createHash('md5')
      .update(key.export({ type: 'spki', format: 'der' }))
      .digest(),
  );
}

/** The blob as the API carries it: base64 text on the wire (the SDKs encode it), bytes when called directly. */
function materialText(material: unknown): string {
  if (material === undefined || material === null || material === '') throw err.missing('PublicKeyMaterial');
  if (typeof material === 'string') {
    const compact = material.replace(/\s+/g, '');
    if (!BASE64.test(compact)) throw badFormat();
    return Buffer.from(compact, 'base64').toString('utf8');
  }
  if (material instanceof Uint8Array) return Buffer.from(material).toString('utf8');
  throw badFormat();
}

// ---------------------------------------------------------------------------------------------
// Names and the wire form

function checkName(name: string | undefined): string {
  if (name === undefined || name === '') throw err.missing('KeyName');
  if (name.length > 255) throw err.invalidValue(`Value (${name}) for parameter KeyName is invalid. Length exceeds maximum of 255.`);
  if (!/^[\x20-\x7e]+$/.test(name))
    throw err.invalidValue(`Value (${name}) for parameter KeyName is invalid. Character sets beyond ASCII are not supported.`);
  if (name !== name.trim())
    throw err.invalidValue(`Value (${name}) for parameter KeyName is invalid. Leading and trailing spaces are not supported.`);
  return name;
}

function checkUnique(ctx: Ctx, name: string): void {
  if (findKeyPair(ctx, name)) throw new ApiError('InvalidKeyPair.Duplicate', `The keypair '${name}' already exists.`);
}

function info(k: KeyPairDoc, includePublicKey: boolean): KeyPairInfo {
  return {
    KeyPairId: k.id,
    KeyType: k.keyType,
    Tags: tagList(k.tags),
    ...(includePublicKey ? { PublicKey: k.publicKey } : {}),
    CreateTime: new Date(k.created),
    KeyName: k.name,
    KeyFingerprint: k.fingerprint,
  };
}

function store(
  ctx: Ctx,
  name: string,
  keyType: KeyPairDoc['keyType'],
  fingerprint: string,
  publicKey: string,
  input: { TagSpecifications?: CreateKeyPairRequest['TagSpecifications'] },
): KeyPairDoc {
  const tags = tagsFromSpecs(input.TagSpecifications, 'key-pair');
  return ctx.tx.put<KeyPairDoc>(KIND.keyPair, ctx.scope, {
    id: newId('key'),
    name,
    keyType,
    fingerprint,
    publicKey,
    created: new Date(ctx.clock.now()).toISOString(),
    tags,
  });
}

// ---------------------------------------------------------------------------------------------
// Handlers

export const keyPairHandlers = {
  CreateKeyPair(ctx: Ctx, input: CreateKeyPairRequest): KeyPair {
    const name = checkName(input.KeyName);
    const keyType = input.KeyType ?? 'rsa';
    if (keyType !== 'rsa' && keyType !== 'ed25519')
      throw err.invalidValue(`Value (${keyType}) for parameter keyType is invalid. Valid values: rsa, ed25519.`);
    const format = input.KeyFormat ?? 'pem';
    if (format !== 'pem' && format !== 'ppk')
      throw err.invalidValue(`Value (${format}) for parameter keyFormat is invalid. Valid values: pem, ppk.`);
    checkUnique(ctx, name);
    tagsFromSpecs(input.TagSpecifications, 'key-pair'); // refuse bad tags before generating a key
    const key = keyType === 'rsa' ? createRsa(name, format) : createEd25519(name, format);
    const doc = store(ctx, name, keyType, key.fingerprint, key.publicKey, input);
    return { KeyPairId: doc.id, Tags: tagList(doc.tags), KeyName: name, KeyFingerprint: key.fingerprint, KeyMaterial: key.material };
  },

  ImportKeyPair(ctx: Ctx, input: ImportKeyPairRequest): ImportKeyPairResult {
    const name = checkName(input.KeyName);
    const parsed = parsePublicKey(materialText(input.PublicKeyMaterial as unknown));
    checkUnique(ctx, name);
    const fingerprint = importedFingerprint(parsed);
    const type = parsed.keyType === 'rsa' ? 'ssh-rsa' : 'ssh-ed25519';
    const publicKey = `${type} ${parsed.blob.toString('base64')}${parsed.comment ? ` ${parsed.comment}` : ''}`;
    const doc = store(ctx, name, parsed.keyType, fingerprint, publicKey, input);
    return { KeyFingerprint: fingerprint, KeyName: name, KeyPairId: doc.id, Tags: tagList(doc.tags) };
  },

  DescribeKeyPairs(ctx: Ctx, input: DescribeKeyPairsRequest): DescribeKeyPairsResult {
    let list = ctx.tx.all<KeyPairDoc>(KIND.keyPair, ctx.scope);
    if (input.KeyNames?.length) {
      const missing = input.KeyNames.filter((n) => !list.some((k) => k.name === n));
      if (missing.length) throw keyPairNotFound(missing[0]!);
      list = list.filter((k) => input.KeyNames!.includes(k.name));
    }
    if (input.KeyPairIds?.length) {
      const missing = input.KeyPairIds.filter((id) => !list.some((k) => k.id === id));
      if (missing.length) throw new ApiError('InvalidKeyPair.NotFound', `The key pair ID '${missing[0]}' does not exist`);
      list = list.filter((k) => input.KeyPairIds!.includes(k.id));
    }
    const match = compileFilters<KeyPairDoc>(input.Filters, {
      'key-name': (k) => k.name,
      'key-pair-id': (k) => k.id,
      fingerprint: (k) => k.fingerprint,
      'key-type': (k) => k.keyType,
    });
    return { KeyPairs: list.filter(match).map((k) => info(k, input.IncludePublicKey === true)) };
  },

  /** AWS answers success for a name or id it does not know. */
  DeleteKeyPair(ctx: Ctx, input: DeleteKeyPairRequest): DeleteKeyPairResult {
    if (input.KeyName === undefined && input.KeyPairId === undefined) throw err.missing('KeyName');
    const all = ctx.tx.all<KeyPairDoc>(KIND.keyPair, ctx.scope);
    const k = input.KeyPairId !== undefined ? all.find((x) => x.id === input.KeyPairId) : findKeyPair(ctx, input.KeyName!);
    if (k && input.KeyName !== undefined && input.KeyPairId !== undefined && k.name !== input.KeyName)
      throw err.combination('The parameters KeyName and KeyPairId name different key pairs.');
    if (k) ctx.tx.delete(KIND.keyPair, ctx.scope, k.id);
    return { Return: true, ...(k ? { KeyPairId: k.id } : {}) };
  },
};
