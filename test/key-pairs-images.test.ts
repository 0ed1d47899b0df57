// Key pairs and images with @aws-sdk/client-ec2: real keys whose fingerprints ssh-keygen and
// openssl agree with, AWS's errors (refused calls change nothing), launching with a key pair,
// and the built-in image catalogue that `data "aws_ami"` searches.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash, createHmac } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateKeyPairCommand,
  CreateTagsCommand,
  DeleteKeyPairCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeTagsCommand,
  ImportKeyPairCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { awsError, ec2, start } from './helpers/server.ts';
import { timed } from './helpers/run.ts';
import type { Palisade } from '../src/server.ts';

const run = timed(promisify(execFile));
let server: Palisade;
let client: EC2Client;
const dir = mkdtempSync(join(tmpdir(), 'palisade-keys-'));
let n = 0;

before(async () => {
  server = await start();
  client = ec2(server.url);
});
after(async () => server.close());

/** Runs a shell pipeline; undefined when the tools are not installed. */
async function sh(script: string): Promise<string | undefined> {
  try {
    const { stdout } = (await run('sh', ['-c', script])) as { stdout: string };
    return stdout.trim();
  } catch (e) {
    if (/not found|No such file/.test(String((e as { stderr?: string }).stderr))) return undefined;
    throw e;
  }
}
const hasTools = async () => (await sh('command -v ssh-keygen && command -v openssl')) !== undefined;

function file(text: string, mode = 0o600): string {
  const f = join(dir, `f${++n}`);
  writeFileSync(f, text);
  chmodSync(f, mode);
  return f;
}

/** An OpenSSH key pair made by ssh-keygen: [public key line, private key file]. */
async function sshKeygen(type: 'rsa' | 'ed25519' | 'ecdsa', bits?: number): Promise<[string, string]> {
  const f = join(dir, `k${++n}`);
  await run('ssh-keygen', [
    '-q',
    '-t',
    type,
    ...(type === 'rsa' ? ['-m', 'PEM'] : []),
    ...(bits ? ['-b', String(bits)] : []),
    '-N',
    '',
    '-C',
    'me@host',
    '-f',
    f,
  ]);
  const { stdout } = (await run('cat', [`${f}.pub`])) as { stdout: string };
  return [stdout.trim(), f];
}

const describeKeys = async () => (await client.send(new DescribeKeyPairsCommand({}))).KeyPairs!;
const bytes = (s: string) => new TextEncoder().encode(s);

/** The SSH wire strings of a PPK blob, for checking its fields. */
function sshStrings(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < b.length;) {
    const len = b.readUInt32BE(at);
    out.push(b.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}
function ppkFields(text: string) {
  const lines = text.split('\r\n');
  const get = (k: string) => lines.find((l) => l.startsWith(`${k}: `))!.slice(k.length + 2);
  const at = (k: string) => lines.findIndex((l) => l.startsWith(`${k}: `));
  const pubCount = Number(get('Public-Lines'));
  const privCount = Number(get('Private-Lines'));
  const pub = Buffer.from(lines.slice(at('Public-Lines') + 1, at('Public-Lines') + 1 + pubCount).join(''), 'base64');
  const priv = Buffer.from(lines.slice(at('Private-Lines') + 1, at('Private-Lines') + 1 + privCount).join(''), 'base64');
  return { header: lines[0], algorithm: get('PuTTY-User-Key-File-2'), comment: get('Comment'), mac: get('Private-MAC'), pub, priv };
}
function ppkMacOk(p: ReturnType<typeof ppkFields>): boolean {
  const str = (b: Buffer | string) => {
    const v = Buffer.from(b);
    const l = Buffer.alloc(4);
    l.writeUInt32BE(v.length);
    return Buffer.concat([l, v]);
  };
  const key = createHash('sha1').update('putty-private-key-file-mac-key').digest();
  const mac = createHmac('sha1', key)
    .update(Buffer.concat([str(p.algorithm), str('none'), str(p.comment), str(p.pub), str(p.priv)]))
    .digest('hex');
  return mac === p.mac;
}

describe('key pairs', () => {
  it('CreateKeyPair (RSA, PEM): a real 2048-bit key whose SHA-1 PKCS#8 fingerprint openssl computes too', async () => {
    const k = await client.send(
      new CreateKeyPairCommand({
        KeyName: 'rsa-pem',
        TagSpecifications: [{ ResourceType: 'key-pair', Tags: [{ Key: 'env', Value: 'dev' }] }],
      }),
    );
    assert.match(k.KeyPairId!, /^key-[0-9a-f]{17}$/);
    assert.match(k.KeyMaterial!, /^-----BEGIN RSA PRIVATE KEY-----\n/);
    assert.match(k.KeyFingerprint!, /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
    assert.deepEqual(k.Tags, [{ Key: 'env', Value: 'dev' }]);
    const [info] = (await client.send(new DescribeKeyPairsCommand({ KeyNames: ['rsa-pem'], IncludePublicKey: true }))).KeyPairs!;
    assert.equal(info!.KeyType, 'rsa');
    assert.equal(info!.KeyFingerprint, k.KeyFingerprint);
    assert.match(info!.PublicKey!, /^ssh-rsa AAAA\S+ rsa-pem$/);
    assert.ok(info!.CreateTime instanceof Date);
    if (!(await hasTools())) return;
    const f = file(`${k.KeyMaterial}\n`);
    assert.equal(
      await sh(`openssl pkcs8 -in ${f} -inform PEM -outform DER -topk8 -nocrypt | openssl sha1 -c | sed 's/.*= //'`),
      k.KeyFingerprint,
    );
    const derived = await sh(`ssh-keygen -y -f ${f}`);
    assert.equal(derived!.split(' ').slice(0, 2).join(' '), info!.PublicKey!.split(' ').slice(0, 2).join(' '));
    assert.match((await sh(`ssh-keygen -l -f ${f}`))!, /^2048 /);
  });

  it('CreateKeyPair (ED25519, PEM): an OpenSSH private key; fingerprint is the padded base64 SHA-256 ssh-keygen prints', async () => {
    const k = await client.send(new CreateKeyPairCommand({ KeyName: 'ed-pem', KeyType: 'ed25519' }));
    assert.match(k.KeyMaterial!, /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    assert.match(k.KeyFingerprint!, /^[A-Za-z0-9+/]{43}=$/);
    const [info] = (await client.send(new DescribeKeyPairsCommand({ KeyPairIds: [k.KeyPairId!], IncludePublicKey: true }))).KeyPairs!;
    assert.equal(info!.KeyType, 'ed25519');
    assert.match(info!.PublicKey!, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\S+ ed-pem$/);
    if (!(await hasTools())) return;
    const f = file(k.KeyMaterial!);
    const derived = await sh(`ssh-keygen -y -f ${f}`);
    assert.equal(derived!.split(' ').slice(0, 2).join(' '), info!.PublicKey!.split(' ').slice(0, 2).join(' '));
    const printed = await sh(`ssh-keygen -l -E sha256 -f ${f}`);
    assert.match(printed!, /^256 SHA256:/);
    assert.equal(`${printed!.split(' ')[1]!.slice('SHA256:'.length)}=`, k.KeyFingerprint);
  });

  it('CreateKeyPair with KeyFormat ppk: PuTTY key files whose MAC verifies, for RSA and ED25519', async () => {
    const rsa = await client.send(new CreateKeyPairCommand({ KeyName: 'rsa-ppk', KeyFormat: 'ppk' }));
    const p = ppkFields(rsa.KeyMaterial!);
    assert.equal(p.header, 'PuTTY-User-Key-File-2: ssh-rsa');
    assert.equal(p.comment, 'rsa-ppk');
    assert.ok(ppkMacOk(p), 'the PPK MAC matches');
    assert.equal(sshStrings(p.pub)[0]!.toString(), 'ssh-rsa');
    assert.equal(sshStrings(p.priv).length, 4, 'd, p, q, iqmp');
    assert.match(rsa.KeyFingerprint!, /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
    const ed = await client.send(new CreateKeyPairCommand({ KeyName: 'ed-ppk', KeyType: 'ed25519', KeyFormat: 'ppk' }));
    const q = ppkFields(ed.KeyMaterial!);
    assert.equal(q.algorithm, 'ssh-ed25519');
    assert.ok(ppkMacOk(q));
    assert.equal(sshStrings(q.priv)[0]!.length, 32);
    assert.equal(createHash('sha256').update(q.pub).digest('base64'), ed.KeyFingerprint);
  });

  it('ImportKeyPair (RSA): MD5 of the DER public key, as openssl computes it; OpenSSH, RFC 4716 and base64 DER forms', async () => {
    if (!(await hasTools())) return;
    const [pub, priv] = await sshKeygen('rsa', 3072);
    const k = await client.send(new ImportKeyPairCommand({ KeyName: 'imported-rsa', PublicKeyMaterial: bytes(pub) }));
    const expected = await sh(`ssh-keygen -e -m PKCS8 -f ${priv}.pub | openssl pkey -pubin -outform DER | openssl md5 -c | sed 's/.*= //'`);
    assert.equal(k.KeyFingerprint, expected);
    assert.equal(await sh(`openssl pkey -in ${priv} -pubout -outform DER | openssl md5 -c | sed 's/.*= //'`), expected);
    const [info] = (await client.send(new DescribeKeyPairsCommand({ KeyNames: ['imported-rsa'], IncludePublicKey: true }))).KeyPairs!;
    assert.equal(info!.KeyType, 'rsa');
    assert.equal(info!.PublicKey, pub);
    // The same key in RFC 4716 form and as base64 DER: the same fingerprint.
    const rfc4716 = (await sh(`ssh-keygen -e -f ${priv}.pub`))!;
    const a = await client.send(new ImportKeyPairCommand({ KeyName: 'imported-rfc4716', PublicKeyMaterial: bytes(rfc4716) }));
    assert.equal(a.KeyFingerprint, expected);
    const der = (await sh(`openssl pkey -in ${priv} -pubout -outform DER | base64 -w0`))!;
    const b = await client.send(new ImportKeyPairCommand({ KeyName: 'imported-der', PublicKeyMaterial: bytes(der) }));
    assert.equal(b.KeyFingerprint, expected);
  });

  it('ImportKeyPair (ED25519): the SHA-256 ssh-keygen prints, padded', async () => {
    if (!(await hasTools())) return;
    const [pub, priv] = await sshKeygen('ed25519');
    const k = await client.send(
      new ImportKeyPairCommand({
        KeyName: 'imported-ed',
        PublicKeyMaterial: bytes(pub),
        TagSpecifications: [{ ResourceType: 'key-pair', Tags: [{ Key: 'Name', Value: 'ed' }] }],
      }),
    );
    const printed = (await sh(`ssh-keygen -l -E sha256 -f ${priv}.pub`))!.split(' ')[1]!.slice('SHA256:'.length);
    assert.equal(k.KeyFingerprint, `${printed}=`);
    assert.deepEqual(k.Tags, [{ Key: 'Name', Value: 'ed' }]);
    const md5 = await sh(`ssh-keygen -l -E md5 -f ${priv}.pub`);
    assert.ok(md5 && !md5.includes(k.KeyFingerprint!), 'ED25519 keys are not known by MD5');
  });

  it('refuses a duplicate name, keys EC2 does not take, and bad parameters — changing nothing', async () => {
    const before = (await describeKeys()).length;
    let e = await awsError(() => client.send(new CreateKeyPairCommand({ KeyName: 'rsa-pem' })));
    assert.equal(e.name, 'InvalidKeyPair.Duplicate');
    assert.equal(e.message, "The keypair 'rsa-pem' already exists.");
    const ed = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIImv2SB05uBF88J5NsfbfZ+XiMUpvMMhMfgC4qPC00K0 fake-key';
    e = await awsError(() => client.send(new ImportKeyPairCommand({ KeyName: 'rsa-pem', PublicKeyMaterial: bytes(ed) })));
    assert.equal(e.name, 'InvalidKeyPair.Duplicate');
    for (const material of [
      'not a key',
      'ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIImv2SB05uBF88J5NsfbfZ+XiMUpvMMhMfgC4qPC00K0', // an ED25519 blob labelled RSA
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIImv2SB05uBF88J5', // truncated
      'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=',
    ]) {
      e = await awsError(() => client.send(new ImportKeyPairCommand({ KeyName: 'bad', PublicKeyMaterial: bytes(material) })));
      assert.equal(e.name, 'InvalidKey.Format', material);
      assert.equal(e.message, 'Key is not in valid OpenSSH public key format');
    }
    e = await awsError(() => client.send(new CreateKeyPairCommand({ KeyName: 'x', KeyType: 'dsa' as never })));
    assert.equal(e.name, 'InvalidParameterValue');
    e = await awsError(() => client.send(new CreateKeyPairCommand({ KeyName: 'x', KeyFormat: 'der' as never })));
    assert.equal(e.name, 'InvalidParameterValue');
    e = await awsError(() => client.send(new CreateKeyPairCommand({ KeyName: 'x'.repeat(256) })));
    assert.equal(e.name, 'InvalidParameterValue');
    e = await awsError(() =>
      client.send(
        new CreateKeyPairCommand({ KeyName: 'x', TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'a', Value: 'b' }] }] }),
      ),
    );
    assert.equal(e.name, 'InvalidParameterValue');
    assert.equal((await describeKeys()).length, before);
  });

  it('DescribeKeyPairs by names, ids and filters; NotFound for an unknown name or id; no public key unless asked', async () => {
    const all = await describeKeys();
    assert.ok(all.every((k) => k.PublicKey === undefined));
    const ed = all.find((k) => k.KeyName === 'ed-pem')!;
    let r = await client.send(new DescribeKeyPairsCommand({ Filters: [{ Name: 'key-name', Values: ['rsa-*'] }] }));
    assert.deepEqual(r.KeyPairs!.map((k) => k.KeyName).sort(), ['rsa-pem', 'rsa-ppk']);
    r = await client.send(new DescribeKeyPairsCommand({ Filters: [{ Name: 'fingerprint', Values: [ed.KeyFingerprint!] }] }));
    assert.deepEqual(
      r.KeyPairs!.map((k) => k.KeyPairId),
      [ed.KeyPairId],
    );
    r = await client.send(new DescribeKeyPairsCommand({ Filters: [{ Name: 'tag:env', Values: ['dev'] }] }));
    assert.deepEqual(
      r.KeyPairs!.map((k) => k.KeyName),
      ['rsa-pem'],
    );
    let e = await awsError(() => client.send(new DescribeKeyPairsCommand({ KeyNames: ['rsa-pem', 'nope'] })));
    assert.equal(e.name, 'InvalidKeyPair.NotFound');
    assert.equal(e.message, "The key pair 'nope' does not exist");
    e = await awsError(() => client.send(new DescribeKeyPairsCommand({ KeyPairIds: ['key-0123456789abcdef0'] })));
    assert.equal(e.name, 'InvalidKeyPair.NotFound');
    e = await awsError(() => client.send(new DescribeKeyPairsCommand({ Filters: [{ Name: 'bogus', Values: ['x'] }] })));
    assert.equal(e.name, 'InvalidParameterValue');
  });

  it('tags by key pair id; DescribeTags names the type key-pair', async () => {
    const ed = (await describeKeys()).find((k) => k.KeyName === 'ed-pem')!;
    await client.send(new CreateTagsCommand({ Resources: [ed.KeyPairId!], Tags: [{ Key: 'team', Value: 'ops' }] }));
    const t = await client.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [ed.KeyPairId!] }] }));
    assert.deepEqual(t.Tags, [{ Key: 'team', Value: 'ops', ResourceId: ed.KeyPairId, ResourceType: 'key-pair' }]);
    const e = await awsError(() =>
      client.send(new CreateTagsCommand({ Resources: ['key-0123456789abcdef0'], Tags: [{ Key: 'a', Value: 'b' }] })),
    );
    assert.equal(e.name, 'InvalidKeyPair.NotFound');
  });

  it('RunInstances with KeyName: the instance keeps its key name (and the metadata service its public key) after the key pair is deleted', async () => {
    const before = (await client.send(new DescribeInstancesCommand({}))).Reservations!.length;
    const e = await awsError(() =>
      client.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1, KeyName: 'missing' })),
    );
    assert.equal(e.name, 'InvalidKeyPair.NotFound');
    assert.equal(e.message, "The key pair 'missing' does not exist");
    assert.equal((await client.send(new DescribeInstancesCommand({}))).Reservations!.length, before, 'no instance launched');
    const [info] = (await client.send(new DescribeKeyPairsCommand({ KeyNames: ['ed-pem'], IncludePublicKey: true }))).KeyPairs!;
    const r = await client.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1, KeyName: 'ed-pem' }));
    const id = r.Instances![0]!.InstanceId!;
    assert.equal(r.Instances![0]!.KeyName, 'ed-pem');
    const del = await client.send(new DeleteKeyPairCommand({ KeyName: 'ed-pem' }));
    assert.equal(del.Return, true);
    assert.equal(del.KeyPairId, info!.KeyPairId);
    const d = await client.send(new DescribeInstancesCommand({ Filters: [{ Name: 'key-name', Values: ['ed-pem'] }] }));
    assert.deepEqual(
      d.Reservations!.flatMap((x) => x.Instances!.map((i) => i.InstanceId)),
      [id],
    );
    const endpoint = ((await (await fetch(`${server.url}/_palisade/imds/${id}`, { method: 'POST' })).json()) as { endpoint: string })
      .endpoint;
    assert.equal(await (await fetch(`${endpoint}/latest/meta-data/public-keys/`)).text(), '0=ed-pem');
    assert.equal(await (await fetch(`${endpoint}/latest/meta-data/public-keys/0/`)).text(), 'openssh-key');
    assert.equal(await (await fetch(`${endpoint}/latest/meta-data/public-keys/0/openssh-key`)).text(), info!.PublicKey);
  });

  it('DeleteKeyPair by id; an unknown name or id answers success', async () => {
    const rsa = (await describeKeys()).find((k) => k.KeyName === 'rsa-ppk')!;
    const del = await client.send(new DeleteKeyPairCommand({ KeyPairId: rsa.KeyPairId }));
    assert.equal(del.KeyPairId, rsa.KeyPairId);
    assert.ok(!(await describeKeys()).some((k) => k.KeyName === 'rsa-ppk'));
    assert.equal((await client.send(new DeleteKeyPairCommand({ KeyName: 'never-existed' }))).Return, true);
    assert.equal((await client.send(new DeleteKeyPairCommand({ KeyPairId: 'key-0123456789abcdef0' }))).Return, true);
    // The name is free again.
    await client.send(new CreateKeyPairCommand({ KeyName: 'rsa-ppk', KeyType: 'ed25519' }));
  });
});
