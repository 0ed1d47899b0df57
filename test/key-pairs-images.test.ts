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
  AssignIpv6AddressesCommand,
  AssignPrivateIpAddressesCommand,
  AttachNetworkInterfaceCommand,
  AttachVolumeCommand,
  CreateKeyPairCommand,
  CreateNetworkInterfaceCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  CreateVpcCommand,
  DeleteKeyPairCommand,
  DeleteVolumeCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstanceCreditSpecificationsCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  DescribeKeyPairsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeTagsCommand,
  DescribeVolumesCommand,
  DescribeVpcsCommand,
  DetachVolumeCommand,
  ImportKeyPairCommand,
  ModifyInstanceAttributeCommand,
  ModifyInstanceCreditSpecificationCommand,
  ModifyInstanceMaintenanceOptionsCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type RunInstancesCommandInput,
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

const launch = async (input: Partial<RunInstancesCommandInput>) =>
  (await client.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, ...input } as RunInstancesCommandInput))).Instances![0]!;
const instanceCount = async () => (await client.send(new DescribeInstancesCommand({}))).Reservations!.flatMap((r) => r.Instances!).length;
async function imageId(name: string, owner = 'amazon'): Promise<string> {
  const images = (await client.send(new DescribeImagesCommand({ Owners: [owner], Filters: [{ Name: 'name', Values: [name] }] }))).Images!;
  return images.sort((a, b) => b.CreationDate!.localeCompare(a.CreationDate!))[0]!.ImageId!;
}

describe('images', () => {
  it('DescribeImages: the newest Amazon Linux 2023 by owner alias and name wildcard, as data "aws_ami" searches', async () => {
    const r = await client.send(
      new DescribeImagesCommand({
        Owners: ['amazon'],
        Filters: [
          { Name: 'name', Values: ['al2023-ami-2023.*-x86_64'] },
          { Name: 'virtualization-type', Values: ['hvm'] },
          { Name: 'root-device-type', Values: ['ebs'] },
          { Name: 'state', Values: ['available'] },
        ],
      }),
    );
    assert.equal(r.Images!.length, 3, 'three dated releases');
    const newest = r.Images!.sort((a, b) => b.CreationDate!.localeCompare(a.CreationDate!))[0]!;
    assert.match(newest.Name!, /^al2023-ami-2023\.6\.20241212\.0-kernel-6\.1-x86_64$/);
    assert.match(newest.ImageId!, /^ami-[0-9a-f]{17}$/);
    assert.equal(newest.OwnerId, '137112412989');
    assert.equal(newest.ImageOwnerAlias, 'amazon');
    assert.equal(newest.Architecture, 'x86_64');
    assert.equal(newest.Public, true);
    assert.equal(newest.RootDeviceName, '/dev/xvda');
    const root = newest.BlockDeviceMappings![0]!;
    assert.equal(root.DeviceName, '/dev/xvda');
    assert.match(root.Ebs!.SnapshotId!, /^snap-[0-9a-f]{17}$/);
    assert.equal(root.Ebs!.VolumeSize, 8);
    assert.equal(root.Ebs!.VolumeType, 'gp3');
    assert.equal(root.Ebs!.DeleteOnTermination, true);
    // The same id on every call; another region has other ids for the same names.
    assert.equal(await imageId('al2023-ami-2023.*-x86_64'), newest.ImageId);
    const west = ec2(server.url, { region: 'eu-west-1' });
    const there = (await west.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: [newest.Name!] }] })))
      .Images!;
    assert.equal(there.length, 1);
    assert.notEqual(there[0]!.ImageId, newest.ImageId);
  });

  it('owners by account id (Canonical, Debian), owner-alias, platform and architecture filters; ExecutableUsers; self owns none', async () => {
    const ubuntu = await client.send(
      new DescribeImagesCommand({
        Owners: ['099720109477'],
        Filters: [{ Name: 'name', Values: ['ubuntu/images/*ubuntu-noble-24.04-*-server-*'] }],
      }),
    );
    assert.equal(ubuntu.Images!.length, 6, 'amd64 and arm64, three each');
    assert.ok(ubuntu.Images!.every((i) => i.ImageOwnerAlias === undefined && i.RootDeviceName === '/dev/sda1'));
    const debian = await client.send(
      new DescribeImagesCommand({
        Owners: ['136693071363'],
        Filters: [
          { Name: 'name', Values: ['debian-12-*'] },
          { Name: 'architecture', Values: ['arm64'] },
        ],
      }),
    );
    assert.equal(debian.Images!.length, 3);
    const windows = await client.send(new DescribeImagesCommand({ Filters: [{ Name: 'platform', Values: ['windows'] }] }));
    assert.equal(windows.Images!.length, 3);
    assert.ok(
      windows.Images!.every(
        (i) => (i.Platform as string) === 'windows' && i.PlatformDetails === 'Windows' && i.ImageOwnerAlias === 'amazon',
      ),
    );
    const byAlias = await client.send(new DescribeImagesCommand({ Filters: [{ Name: 'owner-alias', Values: ['amazon'] }] }));
    assert.ok(byAlias.Images!.every((i) => i.ImageOwnerAlias === 'amazon'));
    assert.deepEqual((await client.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images, []);
    assert.deepEqual((await client.send(new DescribeImagesCommand({ Owners: ['aws-marketplace'] }))).Images, []);
    assert.deepEqual((await client.send(new DescribeImagesCommand({ ExecutableUsers: ['self'] }))).Images, []);
    const all = (await client.send(new DescribeImagesCommand({ ExecutableUsers: ['all'] }))).Images!;
    assert.equal(all.length, 35, 'every public image: 2 example ids, 15 Linux releases in two architectures, 3 Windows');
    // Pages
    const first = await client.send(new DescribeImagesCommand({ MaxResults: 5 }));
    assert.equal(first.Images!.length, 5);
    const second = await client.send(new DescribeImagesCommand({ MaxResults: 5, NextToken: first.NextToken }));
    assert.notEqual(second.Images![0]!.ImageId, first.Images![0]!.ImageId);
    const e = await awsError(() => client.send(new DescribeImagesCommand({ Owners: ['nobody'] })));
    assert.equal(e.name, 'InvalidUserID.Malformed');
  });

  it('unknown and malformed image ids: DescribeImages and RunInstances refuse them, nothing is launched', async () => {
    let e = await awsError(() => client.send(new DescribeImagesCommand({ ImageIds: ['ami-0123456789abcdef0'] })));
    assert.equal(e.name, 'InvalidAMIID.NotFound');
    assert.equal(e.message, "The image id '[ami-0123456789abcdef0]' does not exist");
    e = await awsError(() => client.send(new DescribeImagesCommand({ ImageIds: ['bogus'] })));
    assert.equal(e.name, 'InvalidAMIID.Malformed');
    const before = await instanceCount();
    e = await awsError(() => launch({ ImageId: 'ami-0123456789abcdef0' }));
    assert.equal(e.name, 'InvalidAMIID.NotFound');
    assert.equal(e.message, "The image id '[ami-0123456789abcdef0]' does not exist");
    e = await awsError(() => launch({ ImageId: 'ami-xyz' }));
    assert.equal(e.name, 'InvalidAMIID.Malformed');
    assert.equal(await instanceCount(), before);
    // The example ids of AWS's documentation are kept.
    const ex = (await client.send(new DescribeImagesCommand({ ImageIds: ['ami-12345678', 'ami-0abcdef1234567890'] }))).Images!;
    assert.equal(ex.length, 2);
  });

  it('DescribeImageAttribute: description, block devices, launch permission; an unknown attribute is invalid', async () => {
    const id = await imageId('Windows_Server-2022-English-Full-Base-*');
    const d = await client.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: 'description' }));
    assert.match(d.Description!.Value!, /Windows Server 2022/);
    const b = await client.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: 'blockDeviceMapping' }));
    assert.equal(b.BlockDeviceMappings![0]!.Ebs!.VolumeSize, 30);
    const l = await client.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: 'launchPermission' }));
    assert.deepEqual(l.LaunchPermissions, [{ Group: 'all' }]);
    const e = await awsError(() => client.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: 'bogus' as never })));
    assert.equal(e.name, 'InvalidParameterValue');
  });

  it('an instance takes its image: architecture, platform, root device; the type must run the architecture', async () => {
    const arm = await imageId('al2023-ami-2023.*-arm64');
    const before = await instanceCount();
    const e = await awsError(() => launch({ ImageId: arm, InstanceType: 't3.micro' }));
    assert.equal(e.name, 'InvalidParameterValue');
    assert.match(
      e.message,
      /^The architecture 'x86_64' of the specified instance type does not match the architecture 'arm64' of the specified AMI/,
    );
    assert.equal(await instanceCount(), before);
    const i = await launch({ ImageId: arm, InstanceType: 't4g.micro' });
    assert.equal(i.Architecture, 'arm64');
    assert.equal(i.RootDeviceName, '/dev/xvda');
    assert.equal(i.CpuOptions!.CoreCount, 2);
    const w = await launch({ ImageId: await imageId('Windows_Server-2022-English-Full-Base-*'), InstanceType: 'm5.large' });
    assert.equal(w.Platform, 'windows');
    assert.equal(w.PlatformDetails, 'Windows');
    assert.equal(w.RootDeviceName, '/dev/sda1');
  });
});

describe('instance types', () => {
  it('DescribeInstanceTypes: vCPUs, memory, architecture, network limits, burstable; filters and pages', async () => {
    const [t] = (await client.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['t3.micro'] }))).InstanceTypes!;
    assert.equal(t!.VCpuInfo!.DefaultVCpus, 2);
    assert.equal(t!.MemoryInfo!.SizeInMiB, 1024);
    assert.deepEqual(t!.ProcessorInfo!.SupportedArchitectures, ['x86_64']);
    assert.equal(t!.BurstablePerformanceSupported, true);
    assert.equal(t!.NetworkInfo!.MaximumNetworkInterfaces, 2);
    assert.equal(t!.NetworkInfo!.Ipv4AddressesPerInterface, 2);
    assert.equal(t!.NetworkInfo!.Ipv6AddressesPerInterface, 2);
    assert.equal(t!.NetworkInfo!.Ipv6Supported, true);
    const m5 = (await client.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['m5.large', 'c6i.xlarge', 'r5.2xlarge'] })))
      .InstanceTypes!;
    assert.deepEqual(m5.map((x) => x.InstanceType).sort(), ['c6i.xlarge', 'm5.large', 'r5.2xlarge']);
    const graviton = await client.send(
      new DescribeInstanceTypesCommand({
        Filters: [
          { Name: 'processor-info.supported-architecture', Values: ['arm64'] },
          { Name: 'instance-type', Values: ['t4g.*'] },
        ],
      }),
    );
    assert.equal(graviton.InstanceTypes!.length, 7);
    assert.ok(graviton.InstanceTypes!.every((x) => x.InstanceType!.startsWith('t4g.')));
    const page = await client.send(new DescribeInstanceTypesCommand({ MaxResults: 5 }));
    assert.equal(page.InstanceTypes!.length, 5);
    assert.ok(page.NextToken);
    const e = await awsError(() => client.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['t3.superlarge' as never] })));
    assert.equal(e.name, 'InvalidInstanceType');
    assert.equal(e.message, 'The following supplied instance types do not exist: [t3.superlarge]');
    const off = await client.send(
      new DescribeInstanceTypeOfferingsCommand({
        LocationType: 'availability-zone',
        Filters: [{ Name: 'instance-type', Values: ['t3.micro'] }],
      }),
    );
    assert.equal(off.InstanceTypeOfferings!.length, 6);
    assert.ok(off.InstanceTypeOfferings!.every((o) => o.LocationType === 'availability-zone' && o.Location!.startsWith('us-east-1')));
  });

  it('RunInstances refuses a type AWS does not have', async () => {
    const before = await instanceCount();
    const e = await awsError(() => launch({ ImageId: 'ami-12345678', InstanceType: 't3.superlarge' as never }));
    assert.equal(e.name, 'InvalidParameterValue');
    assert.equal(e.message, "Invalid value 't3.superlarge' for InstanceType.");
    assert.equal(await instanceCount(), before);
  });

  it("the type's limits govern the instance's interfaces: how many, and how many IPv4 and IPv6 addresses each", async () => {
    const { Vpc } = await client.send(new CreateVpcCommand({ CidrBlock: '10.50.0.0/16', AmazonProvidedIpv6CidrBlock: true }));
    const v6 = (await client.send(new DescribeVpcsCommand({ VpcIds: [Vpc!.VpcId!] }))).Vpcs![0]!.Ipv6CidrBlockAssociationSet![0]!
      .Ipv6CidrBlock!;
    const { Subnet } = await client.send(
      new CreateSubnetCommand({
        VpcId: Vpc!.VpcId,
        CidrBlock: '10.50.1.0/24',
        Ipv6CidrBlock: v6.replace('/56', '/64'),
        AvailabilityZone: 'us-east-1a',
      }),
    );
    const subnetId = Subnet!.SubnetId!;
    // t3.micro: 2 interfaces, 2 IPv4 and 2 IPv6 addresses per interface.
    let e = await awsError(() =>
      launch({
        ImageId: 'ami-12345678',
        InstanceType: 't3.micro',
        NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetId, SecondaryPrivateIpAddressCount: 2 }],
      }),
    );
    assert.equal(e.name, 'PrivateIpAddressLimitExceeded');
    assert.equal(e.message, 'Number of private addresses will exceed limit.');
    e = await awsError(() =>
      launch({
        ImageId: 'ami-12345678',
        InstanceType: 't3.micro',
        NetworkInterfaces: [0, 1, 2].map((i) => ({ DeviceIndex: i, SubnetId: subnetId })),
      }),
    );
    assert.equal(e.name, 'AttachmentLimitExceeded');
    assert.equal(e.message, 'Interface count 3 exceeds the limit for t3.micro');
    const inst = await launch({ ImageId: 'ami-12345678', InstanceType: 't3.micro', SubnetId: subnetId });
    const id = inst.InstanceId!;
    const primary = inst.NetworkInterfaces![0]!.NetworkInterfaceId!;
    await client.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: primary, SecondaryPrivateIpAddressCount: 1 }));
    e = await awsError(() =>
      client.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: primary, SecondaryPrivateIpAddressCount: 1 })),
    );
    assert.equal(e.name, 'PrivateIpAddressLimitExceeded');
    await client.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: primary, Ipv6AddressCount: 2 }));
    e = await awsError(() => client.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: primary, Ipv6AddressCount: 1 })));
    assert.equal(e.name, 'PrivateIpAddressLimitExceeded');
    const now = (await client.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [primary] }))).NetworkInterfaces![0]!;
    assert.equal(now.PrivateIpAddresses!.length, 2, 'the refused calls changed nothing');
    assert.equal(now.Ipv6Addresses!.length, 2);
    const eni = async () =>
      (await client.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId }))).NetworkInterface!.NetworkInterfaceId!;
    await client.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: await eni(), InstanceId: id, DeviceIndex: 1 }));
    e = await awsError(async () =>
      client.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: await eni(), InstanceId: id, DeviceIndex: 2 })),
    );
    assert.equal(e.name, 'AttachmentLimitExceeded');
    assert.equal(e.message, 'Interface count 3 exceeds the limit for t3.micro');
  });
});

describe('root volumes and instance attributes', () => {
  it('each instance gets a root volume from its image: DescribeVolumes, BlockDeviceMappings, tags', async () => {
    const ami = await imageId('al2023-ami-2023.*-x86_64');
    const [image] = (await client.send(new DescribeImagesCommand({ ImageIds: [ami] }))).Images!;
    const i = await launch({
      ImageId: ami,
      InstanceType: 't3.micro',
      TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'Name', Value: 'root' }] }],
    });
    const [bdm] = i.BlockDeviceMappings!;
    assert.equal(bdm!.DeviceName, '/dev/xvda');
    assert.equal(bdm!.Ebs!.DeleteOnTermination, true);
    assert.match(bdm!.Ebs!.VolumeId!, /^vol-[0-9a-f]{17}$/);
    const [v] = (await client.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [i.InstanceId!] }] })))
      .Volumes!;
    assert.equal(v!.VolumeId, bdm!.Ebs!.VolumeId);
    assert.equal(v!.Size, 8);
    assert.equal(v!.VolumeType, 'gp3');
    assert.equal(v!.Iops, 3000);
    assert.equal(v!.Throughput, 125);
    assert.equal(v!.SnapshotId, image!.BlockDeviceMappings![0]!.Ebs!.SnapshotId);
    assert.equal(v!.State, 'in-use');
    assert.equal(v!.AvailabilityZone, i.Placement!.AvailabilityZone);
    assert.deepEqual(
      v!.Attachments!.map((a) => [a.InstanceId, a.Device, a.State, a.DeleteOnTermination]),
      [[i.InstanceId, '/dev/xvda', 'attached', true]],
    );
    assert.deepEqual(v!.Tags, [{ Key: 'Name', Value: 'root' }]);
    const r = await client.send(new DescribeInstanceAttributeCommand({ InstanceId: i.InstanceId, Attribute: 'blockDeviceMapping' }));
    assert.equal(r.BlockDeviceMappings![0]!.Ebs!.VolumeId, v!.VolumeId);
    const root = await client.send(new DescribeInstanceAttributeCommand({ InstanceId: i.InstanceId, Attribute: 'rootDeviceName' }));
    assert.equal(root.RootDeviceName!.Value, '/dev/xvda');
  });

  it('BlockDeviceMappings override the root device and add volumes; terminating deletes those marked DeleteOnTermination', async () => {
    const ami = await imageId('al2023-ami-2023.*-x86_64');
    const before = (await client.send(new DescribeVolumesCommand({}))).Volumes!.length;
    let e = await awsError(() => launch({ ImageId: ami, BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 4 } }] }));
    assert.equal(e.name, 'InvalidBlockDeviceMapping');
    assert.match(e.message, /^Volume of size 4GB is smaller than {2}snapshot 'snap-[0-9a-f]{17}', expect size >= 8GB$/);
    e = await awsError(() =>
      launch({ ImageId: ami, BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 10, VolumeType: 'io1' } }] }),
    );
    assert.equal(e.name, 'MissingParameter');
    e = await awsError(() => launch({ ImageId: ami, BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeType: 'gp3' } }] }));
    assert.equal(e.name, 'InvalidBlockDeviceMapping');
    assert.equal((await client.send(new DescribeVolumesCommand({}))).Volumes!.length, before, 'refused launches made no volume');
    const i = await launch({
      ImageId: ami,
      InstanceType: 't3.small',
      BlockDeviceMappings: [
        { DeviceName: '/dev/xvda', Ebs: { VolumeSize: 20, VolumeType: 'gp2', DeleteOnTermination: false } },
        { DeviceName: '/dev/sdf', Ebs: { VolumeSize: 10, VolumeType: 'io1', Iops: 500 } },
      ],
    });
    const vols = (await client.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [i.InstanceId!] }] })))
      .Volumes!;
    const root = vols.find((v) => v.Attachments![0]!.Device === '/dev/xvda')!;
    const data = vols.find((v) => v.Attachments![0]!.Device === '/dev/sdf')!;
    assert.deepEqual([root.Size, root.VolumeType, root.Iops, root.Attachments![0]!.DeleteOnTermination], [20, 'gp2', 100, false]);
    assert.deepEqual([data.Size, data.VolumeType, data.Iops, data.SnapshotId], [10, 'io1', 500, '']);
    e = await awsError(() => client.send(new DeleteVolumeCommand({ VolumeId: root.VolumeId })));
    assert.equal(e.name, 'VolumeInUse');
    await client.send(new TerminateInstancesCommand({ InstanceIds: [i.InstanceId!] }));
    const left = (await client.send(new DescribeVolumesCommand({ VolumeIds: [root.VolumeId!] }))).Volumes![0]!;
    assert.equal(left.State, 'available');
    assert.deepEqual(left.Attachments, []);
    e = await awsError(() => client.send(new DescribeVolumesCommand({ VolumeIds: [data.VolumeId!] })));
    assert.equal(e.name, 'InvalidVolume.NotFound');
    assert.equal(e.message, `The volume '${data.VolumeId}' does not exist.`);
    await client.send(new DeleteVolumeCommand({ VolumeId: root.VolumeId }));
  });

  it('CreateVolume, AttachVolume, DetachVolume, DeleteVolume', async () => {
    const i = await launch({ ImageId: 'ami-12345678', InstanceType: 't3.micro' });
    const v = await client.send(
      new CreateVolumeCommand({ AvailabilityZone: i.Placement!.AvailabilityZone, Size: 5, VolumeType: 'gp3', Throughput: 250 }),
    );
    assert.equal(v.State, 'creating');
    assert.deepEqual([v.Iops, v.Throughput], [3000, 250]);
    let e = await awsError(() =>
      client.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 5, VolumeType: 'gp2', Throughput: 250 })),
    );
    assert.equal(e.name, 'InvalidParameterCombination');
    const a = await client.send(new AttachVolumeCommand({ VolumeId: v.VolumeId, InstanceId: i.InstanceId, Device: '/dev/sdh' }));
    assert.equal(a.State, 'attaching');
    e = await awsError(() => client.send(new AttachVolumeCommand({ VolumeId: v.VolumeId, InstanceId: i.InstanceId, Device: '/dev/sdi' })));
    assert.equal(e.name, 'VolumeInUse');
    const d = await client.send(new DescribeInstancesCommand({ InstanceIds: [i.InstanceId!] }));
    assert.deepEqual(
      d.Reservations![0]!.Instances![0]!.BlockDeviceMappings!.map((b) => b.DeviceName),
      ['/dev/xvda', '/dev/sdh'],
    );
    const rootId = d.Reservations![0]!.Instances![0]!.BlockDeviceMappings![0]!.Ebs!.VolumeId;
    e = await awsError(() => client.send(new DetachVolumeCommand({ VolumeId: rootId })));
    assert.equal(e.name, 'IncorrectState');
    await client.send(new DetachVolumeCommand({ VolumeId: v.VolumeId }));
    await client.send(new DeleteVolumeCommand({ VolumeId: v.VolumeId }));
    e = await awsError(() => client.send(new DeleteVolumeCommand({ VolumeId: v.VolumeId })));
    assert.equal(e.name, 'InvalidVolume.NotFound');
  });

  it('DescribeInstanceAttribute answers every attribute Terraform reads; ModifyInstanceAttribute changes them', async () => {
    const userData = Buffer.from('#!/bin/sh\necho hi\n').toString('base64');
    const i = await launch({
      ImageId: 'ami-12345678',
      InstanceType: 't3.micro',
      UserData: userData,
      InstanceInitiatedShutdownBehavior: 'terminate',
    });
    const id = i.InstanceId!;
    const attr = (a: string) => client.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: a as never }));
    assert.equal((await attr('userData')).UserData!.Value, userData);
    assert.equal((await attr('instanceInitiatedShutdownBehavior')).InstanceInitiatedShutdownBehavior!.Value, 'terminate');
    assert.equal((await attr('disableApiStop')).DisableApiStop!.Value, false);
    assert.equal((await attr('disableApiTermination')).DisableApiTermination!.Value, false);
    assert.equal((await attr('instanceType')).InstanceType!.Value, 't3.micro');
    assert.equal((await attr('ebsOptimized')).EbsOptimized!.Value, false);
    assert.equal((await attr('enaSupport')).EnaSupport!.Value, true);
    assert.equal((await attr('sriovNetSupport')).SriovNetSupport!.Value, 'simple');
    assert.equal((await attr('sourceDestCheck')).SourceDestCheck!.Value, true);
    assert.equal((await attr('groupSet')).Groups!.length, 1);
    assert.equal((await attr('kernel')).KernelId?.Value, undefined);
    assert.equal((await attr('ramdisk')).RamdiskId?.Value, undefined);
    let e = await awsError(() => attr('bogus'));
    assert.equal(e.name, 'InvalidParameterValue');
    // Root volume kept at termination once DeleteOnTermination is off.
    await client.send(
      new ModifyInstanceAttributeCommand({
        InstanceId: id,
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { DeleteOnTermination: false } }],
      }),
    );
    assert.equal((await attr('blockDeviceMapping')).BlockDeviceMappings![0]!.Ebs!.DeleteOnTermination, false);
    // A new type and new user data need the instance stopped; the type must exist.
    e = await awsError(() => client.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: 't3.small' } })));
    assert.equal(e.name, 'IncorrectInstanceState');
    await client.send(new StopInstancesCommand({ InstanceIds: [id] }));
    e = await awsError(() => client.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: 'x9.huge' } })));
    assert.equal(e.name, 'InvalidParameterValue');
    e = await awsError(() => client.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: 't4g.small' } })));
    assert.equal(e.name, 'InvalidParameterValue', 'an arm64 type cannot run an x86_64 image');
    await client.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: 't3.small' } }));
    await client.send(new ModifyInstanceAttributeCommand({ InstanceId: id, UserData: { Value: bytes('echo bye') } }));
    assert.equal((await attr('instanceType')).InstanceType!.Value, 't3.small');
    assert.equal((await attr('userData')).UserData!.Value, Buffer.from('echo bye').toString('base64'));
    const rootId = (await attr('blockDeviceMapping')).BlockDeviceMappings![0]!.Ebs!.VolumeId!;
    await client.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    assert.equal((await client.send(new DescribeVolumesCommand({ VolumeIds: [rootId] }))).Volumes![0]!.State, 'available');
  });

  it('CPU credits: T2 standard, later T families unlimited, as launched or modified; other types have none', async () => {
    const t3 = await launch({ ImageId: 'ami-12345678', InstanceType: 't3.micro' });
    const t2 = await launch({ ImageId: 'ami-12345678', InstanceType: 't2.micro' });
    const t3s = await launch({ ImageId: 'ami-12345678', InstanceType: 't3.nano', CreditSpecification: { CpuCredits: 'standard' } });
    const m5 = await launch({ ImageId: 'ami-12345678', InstanceType: 'm5.large' });
    const credits = async (ids: string[]) =>
      Object.fromEntries(
        (await client.send(new DescribeInstanceCreditSpecificationsCommand({ InstanceIds: ids }))).InstanceCreditSpecifications!.map(
          (c) => [c.InstanceId, c.CpuCredits],
        ),
      );
    assert.deepEqual(await credits([t3.InstanceId!, t2.InstanceId!, t3s.InstanceId!, m5.InstanceId!]), {
      [t3.InstanceId!]: 'unlimited',
      [t2.InstanceId!]: 'standard',
      [t3s.InstanceId!]: 'standard',
      [m5.InstanceId!]: 'standard',
    });
    const unlimited = (await client.send(new DescribeInstanceCreditSpecificationsCommand({}))).InstanceCreditSpecifications!;
    assert.ok(unlimited.some((c) => c.InstanceId === t3.InstanceId) && !unlimited.some((c) => c.InstanceId === t2.InstanceId));
    const e = await awsError(() =>
      launch({ ImageId: 'ami-12345678', InstanceType: 'm5.large', CreditSpecification: { CpuCredits: 'unlimited' } }),
    );
    assert.equal(e.name, 'InstanceCreditSpecification.NotSupported');
    const m = await client.send(
      new ModifyInstanceCreditSpecificationCommand({
        InstanceCreditSpecifications: [
          { InstanceId: t2.InstanceId, CpuCredits: 'unlimited' },
          { InstanceId: m5.InstanceId, CpuCredits: 'unlimited' },
        ],
      }),
    );
    assert.deepEqual(m.SuccessfulInstanceCreditSpecifications, [{ InstanceId: t2.InstanceId }]);
    assert.equal(m.UnsuccessfulInstanceCreditSpecifications![0]!.InstanceId, m5.InstanceId);
    assert.equal((await credits([t2.InstanceId!]))[t2.InstanceId!], 'unlimited');
    const mo = await client.send(new ModifyInstanceMaintenanceOptionsCommand({ InstanceId: m5.InstanceId, AutoRecovery: 'disabled' }));
    assert.equal(mo.AutoRecovery, 'disabled');
    const d = (await client.send(new DescribeInstancesCommand({ InstanceIds: [m5.InstanceId!] }))).Reservations![0]!.Instances![0]!;
    assert.equal(d.MaintenanceOptions!.AutoRecovery, 'disabled');
  });
});
