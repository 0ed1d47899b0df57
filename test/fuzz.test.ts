// Seeded fuzzing of every protocol Palisade serves: EC2 query, IAM and STS query, JSON 1.1 (Logs,
// CloudTrail), S3 REST and the admin API. A few thousand requests are generated with fast-check
// from the real wire models (each operation's input shape walked member by member, values drawn
// from hostile pools and from the ids of resources made first), sent with plain fetch to two
// in-process servers — one `--clock virtual`, one `--auth verify` whose requests are signed
// (well, or with a fault) — and every answer must:
//   - come (AbortSignal.timeout is a hang detector, never a timing assertion);
//   - be below 500 (S3's own 501 NotImplemented aside);
//   - be in the caller's protocol: EC2's <Response><Errors>, the query protocol's <ErrorResponse>,
//     JSON with __type, S3's <Error>, the admin API's {"error"} — with the matching content type,
//     and every XML body well-formed (read by the strict reader of S3 request bodies);
//   - when it succeeds (EC2, IAM, STS, Logs, CloudTrail), give each member of the operation's
//     output the type its shape says, as an SDK reading it would require.
// The seed is fixed (CI is reproducible); PALISADE_FUZZ_SEED=N explores others,
// PALISADE_FUZZ_SCALE=K multiplies the request counts. A failure prints the seed and the request
// (the first few; PALISADE_FUZZ_REPORT=FILE appends every failing request to FILE).
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateManagedPrefixListCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  AddRoleToInstanceProfileCommand,
  CreateAccessKeyCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutBucketPolicyCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CloudTrailClient, CreateTrailCommand } from '@aws-sdk/client-cloudtrail';
import { Sha256 } from '../src/core/sha256.ts';
import { start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import type { ServiceDef } from '../src/core/context.ts';
import { loadModel, resolve, type Member, type ServiceModel, type ShapeRef, type StructShape } from '../src/protocol/model.ts';
import { decodeAwsChunked, readXml, type XmlElement } from '../src/services/s3/index.ts';

const SEED = process.env.PALISADE_FUZZ_SEED ? Number(process.env.PALISADE_FUZZ_SEED) : 20260101;
const SCALE = Number(process.env.PALISADE_FUZZ_SCALE ?? 1);
assert.ok(Number.isInteger(SEED), 'PALISADE_FUZZ_SEED must be an integer');
/** Requests in flight at once (the servers run in this process: this only hides latency). */
const CONCURRENCY = 4;
/** Requests generated at a time (a chunk has a seed of its own, so memory stays bounded). */
const CHUNK = 100;
const HANG = 15_000;
const ROOT = { accessKeyId: 'AKIAPALISADEFUZZ0001', secretAccessKey: 'fuzz-root-secret-for-tests-only' };
const OPEN_CREDS = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x' };

// ---------------------------------------------------------------------------------------------
// Resources made before each phase, named in generated requests by placeholders (`__REF_vpc_3__`)
// that are bound when the request is sent: generation stays a pure function of the seed.

const REF_KINDS = [
  'vpc',
  'subnet',
  'sg',
  'sgName',
  'instance',
  'eni',
  'ip',
  'prefixList',
  'role',
  'roleArn',
  'user',
  'policyArn',
  'profile',
  'accessKey',
  'bucket',
  'objectKey',
  'logGroup',
  'logStream',
  'trail',
  'conn',
] as const;
type RefKind = (typeof REF_KINDS)[number];
type Pool = Record<RefKind, string[]>;
const REF = /__REF_([A-Za-z]+)_(\d)__/g;
const ref = (...kinds: RefKind[]) => fc.tuple(fc.constantFrom(...kinds), fc.nat(7)).map(([k, n]) => `__REF_${k}_${n}__`);
const bind = (s: string, pool: Pool) =>
  s.replace(REF, (_, k: RefKind, n: string) => {
    const xs = pool[k] ?? [];
    return xs.length ? xs[Number(n) % xs.length]! : `missing-${k}`;
  });

// ---------------------------------------------------------------------------------------------
// Value pools

const W = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });
const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);

const SPECIAL = [
  '',
  ' ',
  '\u0000',
  '\u0001\u0002\u001f',
  '\r\n',
  '\t',
  '\u007f',
  '\u0085',
  '\u2028',
  '\uFEFF',
  '\uD800',
  '\uDFFF',
  'a\uD83D',
  '\uDE00b',
  '\u{1F600}',
  'é',
  'İ',
  'ß',
  '<',
  '>',
  '&',
  '"',
  "'",
  '&amp;',
  '&#0;',
  '&#x1F600;',
  ']]>',
  '<![CDATA[x]]>',
  '<?xml version="1.0"?>',
  '<a>',
  '</Error>',
  '{',
  '}',
  '{"a":1}',
  '[]',
  'null',
  '\\',
  '\\u0000',
  '%',
  '%00',
  '%ZZ',
  '%E0%A4%A',
  '%s%n%x',
  '${jndi:x}',
  '*',
  '?',
  '**',
  '*?',
  '***?*?*?*?*?*?*?*?*?*?*?*?x',
  '?'.repeat(64),
  '*a'.repeat(40),
  '%.*%',
  '(a+)+$',
  '[',
  '[a-',
  '\\d+',
  '.*',
  '^$',
  '/',
  '//',
  '/../..',
  '..',
  '.',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
];
const NUMERIC = [
  '-1',
  '0',
  '-0',
  '1',
  '7',
  '22',
  '443',
  '65535',
  '65536',
  '1000',
  '2147483647',
  '2147483648',
  '-2147483649',
  '4294967296',
  '9007199254740993',
  '9223372036854775807',
  '9223372036854775808',
  '1e3',
  '1e308',
  '-1e308',
  '1e309',
  'NaN',
  'Infinity',
  '0x10',
  '1.5',
  '010',
  ' 7',
  '+1',
  '',
];
const IDS = [
  'sg-0123456789abcdef0',
  'sg-12345678',
  'sg-',
  'sg-*',
  'vpc-0123456789abcdef0',
  'vpc-12345678',
  'subnet-0123456789abcdef0',
  'i-0123456789abcdef0',
  'i-ffffffffffffffffff',
  'eni-0123456789abcdef0',
  'pl-0123456789abcdef0',
  'sgr-0123456789abcdef0',
  'nip-0123456789abcdef0',
  'nia-0123456789abcdef0',
  'fl-0123456789abcdef0',
  'ami-12345678',
  'iip-assoc-0123456789abcdef0',
  'igw-1',
  'AKIAIOSFODNN7EXAMPLE',
  'ASIAIOSFODNN7EXAMPLE',
  '000000000000',
  '111122223333',
  'arn:aws:iam::000000000000:role/x',
  'arn:aws:iam::aws:policy/AdministratorAccess',
  'arn:aws:iam::000000000000:policy/*',
  'arn:aws:s3:::bucket/*',
  'arn:',
  'arn::::::',
  'arn:aws:logs:us-east-1:000000000000:log-group:*',
  `arn:aws:iam::000000000000:role/${'a'.repeat(200)}`,
  'arn:aws:sts::000000000000:assumed-role/r/s',
];
const CIDRS = [
  '0.0.0.0/0',
  '10.0.0.0/16',
  '10.0.0.0/28',
  '10.0.0.0/8',
  '172.31.0.0/20',
  '10.0.1.0/24',
  '192.168.0.0/33',
  '256.0.0.0/8',
  '10.0.0.1/16',
  '1.2.3.4',
  '1.2.3.4/32',
  '::/0',
  '2001:db8::/56',
  '2001:db8::/64',
  'fe80::/129',
  '::ffff:1.2.3.4/128',
  '10.0.0.0/-1',
  '10.0.0.0/',
  '/0',
  '0/0',
  '10.0.0.0/08',
  '010.0.0.0/8',
];
const IPS = [
  '10.0.0.5',
  '10.0.1.4',
  '172.31.0.10',
  '127.0.0.1',
  '169.254.169.254',
  '255.255.255.255',
  '0.0.0.0',
  '::1',
  '2001:db8::1',
  '1.2.3.4',
  '999.1.1.1',
  '10.0.0',
  '',
];
const PROTOCOLS = ['tcp', 'udp', 'icmp', 'icmpv6', '-1', 'all', '6', '17', '1', '58', '50', '256', 'TCP', 'esp', '-2', ''];
const FILTER_NAMES = [
  'vpc-id',
  'group-id',
  'group-name',
  'tag:Name',
  'tag-key',
  'tag-value',
  'ip-permission.cidr',
  'ip-permission.from-port',
  'ip-permission.protocol',
  'egress.ip-permission.cidr',
  'ip-permission.group-id',
  'owner-id',
  'description',
  'instance-state-name',
  'private-ip-address',
  'network-interface.addresses.private-ip-address',
  'cidr-block',
  'cidr',
  'state',
  'subnet-id',
  'availability-zone',
  'instance-id',
  'attachment.instance-id',
  'resource-type',
  'resource-id',
  'key',
  'value',
  'is-default',
  'tag:*',
  '',
  '*',
  'unknown-filter',
  'tag:',
  'prefix-list-id',
  'security-group-rule-id',
  'is-egress',
  'ip-protocol',
  'from-port',
];
const POLICIES = [
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
  '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}',
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":["sts:AssumeRole","sts:TagSession"]}]}',
  '{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Deny","NotAction":["s3:*"],"NotResource":"arn:aws:s3:::x/*","Condition":{"StringLike":{"aws:username":["*?*"]},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"DateGreaterThan":{"aws:CurrentTime":"9999-12-31T23:59:59Z"},"NumericLessThan":{"x":"1e308"},"Bool":{"aws:SecureTransport":"maybe"},"ForAnyValue:StringEquals":{"aws:TagKeys":[]},"Null":{"x":"true"}}}]}',
  '{',
  '',
  'null',
  '[]',
  '"x"',
  '{"Statement":null}',
  '{"Version":"2012-10-17","Statement":[null]}',
  '{"Version":"2012-10-17","Statement":[]}',
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[],"Resource":[]}]}',
  '{"Version":1,"Statement":1}',
  '{"__proto__":{"Effect":"Allow"},"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","__proto__":{}}]}',
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:x":"' +
    'a*'.repeat(500) +
    'b"}}}]}',
  '{"a":'.repeat(3000) + '1' + '}'.repeat(3000),
  '['.repeat(5000) + ']'.repeat(5000),
  '{"Version":"2012-10-17","Statement":[' +
    Array.from({ length: 2000 }, (_, i) => `{"Effect":"Allow","Action":"ec2:Describe${i}*","Resource":"*"}`).join(',') +
    ']}',
  '%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D',
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}],"Version":"2008-10-17"}',
];
const FILTER_PATTERNS = [
  '',
  'ERROR',
  '"quoted"',
  '?ERROR ?WARN',
  '-x',
  '{ $.a = 1 }',
  '{ $.a.b[0] = "x*" }',
  '{ ($.a = 1) && ($.b > 2) || $.c NOT EXISTS }',
  '[ip, user, ...]',
  '[a=1, b!=*x*, c>5]',
  '%ERR.*%',
  '%(a+)+$%',
  '{ $.x = %a% }',
  '{',
  '[',
  '{ $.a = }',
  '"unterminated',
  '?a '.repeat(3000),
  `{ ${'($.a = 1) && '.repeat(1000)}$.b = 1 }`,
  `%${'(a|aa)*'.repeat(100)}%`,
  '{ $.a = 1e400 }',
  '{ $.a = -9223372036854775809 }',
  `[${'a,'.repeat(2000)}b]`,
  '{ $.* = 1 }',
  '{ $[0] = 1 }',
  '{ $.a IS TRUE }',
  '{ $.a = NULL }',
];
const TOKENS = [
  '',
  'x',
  'AAAA',
  'null',
  'eyJ9',
  Buffer.from('v2\u0000zzz').toString('base64'),
  Buffer.from('{"offset":-1}').toString('base64'),
  Buffer.from('{"offset":1e308}').toString('base64'),
  Buffer.from('{"after":"__proto__"}').toString('base64'),
  '====',
  '%',
  'a'.repeat(5000),
];
const TAG_KEYS = [
  'Name',
  'env',
  'aws:cloudformation:stack',
  'AWS:x',
  '',
  ' ',
  '__proto__',
  'constructor',
  'a'.repeat(128),
  'a'.repeat(129),
  'tag:x',
  '*',
];
const DATES = [
  '2026-01-01T00:00:00Z',
  '2026-01-01',
  '1970-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '+275760-09-13T00:00:00Z',
  '0',
  '1767225600',
  '-1',
  '99999999999999',
  '1e308',
  '2026-13-45T99:99:99Z',
  'yesterday',
  'Wed, 21 Oct 2015 07:28:00 GMT',
];
const LOG_FORMATS = [
  '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}',
  '${srcaddr}',
  '',
  '${',
  '${unknown-field}',
  '${constructor}',
  '$ {srcaddr}',
  '${srcaddr}  ${dstaddr}',
  '${tcp-flags} ${pkt-srcaddr} ${flow-direction}',
  '${version} '.repeat(500),
];
const PATHS = ['/', '/a/', '//', 'a', '/a', '/a//b/', `/${'x/'.repeat(300)}`, '/\u0000/', '/*/', '/é/'];

/** 10 to 100 KB of one repeated piece. */
const long = fc
  .tuple(fc.integer({ min: 10_000, max: 100_000 }), pick('A', '*', '?', '%', 'é', '\u{1F600}', '<', '\u0000', 'a*', '%a', ' ', '\uD800'))
  .map(([n, c]) => c.repeat(Math.ceil(n / c.length)));

const general: fc.Arbitrary<string> = fc.oneof(
  W(25, pick(...SPECIAL)),
  W(10, pick(...IDS)),
  W(15, ref(...REF_KINDS)),
  W(12, fc.string({ maxLength: 24 })),
  W(6, fc.string({ unit: 'binary', maxLength: 16 })),
  W(4, fc.string({ unit: 'grapheme', maxLength: 12 })),
  W(10, pick(...NUMERIC)),
  W(5, pick(...CIDRS)),
  W(2, pick(...PROTOCOLS)),
  W(2, long),
);

/** A member's values, from what its name says it holds (then some general ones). */
function hinted(name: string, service: string, parent: string): fc.Arbitrary<string> | undefined {
  const l = name.toLowerCase();
  const mix = (a: fc.Arbitrary<string>) => fc.oneof(W(7, a), W(3, general));
  const refs = (kinds: RefKind[], fixed: string[] = []) =>
    mix(fixed.length ? fc.oneof(W(3, ref(...kinds)), W(1, pick(...fixed))) : ref(...kinds));
  if (parent === 'Filter' && l === 'name') return mix(pick(...FILTER_NAMES));
  if (/document$|^policy$|policyjson/.test(l)) return mix(pick(...POLICIES));
  if (l.includes('filterpattern')) return mix(pick(...FILTER_PATTERNS));
  if (l === 'logformat') return mix(pick(...LOG_FORMATS));
  if (l.includes('cidr')) return mix(pick(...CIDRS));
  if (/ipaddress|^ip$|privateip|publicip|sourceip/.test(l)) return fc.oneof(W(3, ref('ip')), W(3, pick(...IPS)), W(1, general));
  if (l.includes('protocol')) return mix(pick(...PROTOCOLS));
  if (l.includes('vpc') && l.includes('id')) return refs(['vpc'], IDS);
  if (l.includes('subnet') && l.includes('id')) return refs(['subnet'], IDS);
  if (l.includes('networkinterfaceid')) return refs(['eni'], IDS);
  if (l.includes('instanceid')) return refs(['instance'], IDS);
  if (l.includes('prefixlist')) return refs(['prefixList'], IDS);
  if (l.includes('group') && l.includes('id') && !l.includes('log')) return refs(['sg'], IDS);
  if (l.includes('groupname') && !l.includes('log')) return refs(['sgName']);
  if (l.includes('rolearn')) return refs(['roleArn'], IDS);
  if (l.includes('rolename')) return refs(['role']);
  if (l.includes('username')) return refs(['user']);
  if (l.includes('policyarn')) return refs(['policyArn'], IDS);
  if (l.includes('instanceprofile')) return refs(['profile']);
  if (l.includes('accesskey')) return refs(['accessKey'], IDS);
  if (l.includes('bucket')) return refs(['bucket']);
  if (l.includes('loggroup')) return refs(['logGroup']);
  if (l.includes('logstream')) return refs(['logStream']);
  if (service === 'cloudtrail' && /^(name|trailname|traillist)$/.test(l)) return refs(['trail']);
  if (/resources?$|resourceid/.test(l)) return refs(['vpc', 'sg', 'instance', 'subnet', 'eni', 'prefixList'], IDS);
  if (l === 'key' || l.endsWith('tagkeys') || l === 'tagkey') return mix(pick(...TAG_KEYS));
  if (/nexttoken|marker|token$/.test(l)) return mix(pick(...TOKENS));
  if (/arn$/.test(l)) return refs(['roleArn', 'policyArn'], IDS);
  if (l === 'path' || l.endsWith('pathprefix')) return mix(pick(...PATHS));
  if (/time$|date$/.test(l)) return mix(pick(...DATES));
  return undefined;
}

const INTS = [
  -1,
  0,
  1,
  5,
  22,
  443,
  1000,
  3600,
  65535,
  65536,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 53 + 2,
  -(2 ** 63),
  2 ** 63,
  1e308,
  0.5,
  -0,
  1767225600000,
  253402300800000,
  8.64e15 + 1,
];
/** Numbers JSON cannot give exactly, written into the body as they are (JSON.stringify cannot). */
const RAW_NUMBERS = ['1e400', '-1e400', '123456789012345678901234567890', '-0', '1E2', '0.0000000000000000000000001', '9007199254740993'];
const rawNumber = pick(...RAW_NUMBERS).map((n) => `__RAWNUM_${n}__`);
const unraw = (json: string) => json.replace(/"__RAWNUM_([^"]+?)__"/g, '$1');

// ---------------------------------------------------------------------------------------------
// Requests

type Proto = 'ec2' | 'iam' | 'sts' | 'logs' | 'cloudtrail' | 's3' | 'admin';
/** How a request to the --auth verify server is (mis)signed. */
const FAULTS = [
  'unsigned',
  'bad-signature',
  'stale',
  'future',
  'swapped-body',
  'unknown-key',
  'junk-header',
  'presigned',
  'presigned-junk',
  'token-junk',
] as const;
type Signing = 'good' | (typeof FAULTS)[number];

interface FuzzRequest {
  proto: Proto;
  /** 'open': the --clock virtual server, requests routed by an unsigned scope; otherwise signed for the --auth verify server. */
  signing: 'open' | Signing;
  method: string;
  /** Path and query string (placeholders bound when sent). */
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** The SigV4 service a signed request is signed for. */
  service: string;
  /** S3 headers computed from the body when sent. */
  computed?: { md5?: boolean; checksum?: 'crc32' | 'sha1' | 'sha256'; decodedLength?: boolean; sha256?: boolean };
}

const hex64 = '0'.repeat(64);
const scopeArb = (service: string) =>
  fc.oneof(
    W(
      30,
      fc.constant(
        `AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=${hex64}`,
      ),
    ),
    W(
      2,
      fc
        .tuple(
          pick('111122223333', '999999999999', 'ASIAIOSFODNN7EXAMPLE', 'AKIAEXAMPLE', 'x'),
          pick('us-west-2', 'eu-central-1', 'cn-north-1', 'us-gov-west-1', 'moon-1', 'US-EAST-1', 'us-east-1 '),
        )
        .map(
          ([key, region]) =>
            `AWS4-HMAC-SHA256 Credential=${key}/20260101/${region}/${service}/aws4_request, SignedHeaders=host, Signature=${hex64}`,
        ),
    ),
    W(
      1,
      pick(
        `AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/${service}/aws4_request`,
        `AWS4-HMAC-SHA256 Credential=//////aws4_request`,
        'AWS4-HMAC-SHA256',
        `AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/${service === 'iam' ? 'ec2' : 'iam'}/aws4_request, SignedHeaders=host, Signature=00`,
      ),
    ),
    W(1, fc.constant('')),
  );
const signingArb: fc.Arbitrary<FuzzRequest['signing']> = fc.oneof(
  W(75, fc.constant('open' as const)),
  W(18, fc.constant('good' as const)),
  W(7, pick(...FAULTS)),
);

type Pair = [string, string];
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
/** How a list's items are numbered: mostly 1, 2, 3; sometimes as no client would. */
const indexStyle = fc.oneof(
  W(30, fc.constant('seq')),
  W(1, pick('0', '-1', '2147483648', '99999999999999999999', 'x', '', '01', '1e3', '1.0')),
);
const indexOf = (style: string, i: number) => (style === 'seq' ? String(i + 1) : i === 0 ? style : String(i + 1));

/** Parameters of an operation of a form-encoded protocol (ec2, query), walked from its input shape. */
class QueryGen {
  private readonly memo = new Map<string, fc.Arbitrary<Pair[]>>();
  constructor(
    readonly model: ServiceModel,
    readonly service: string,
  ) {}

  private wire(name: string, m: Member): string {
    if (this.model.protocol === 'ec2') return m.q ?? (m.x ? cap(m.x) : cap(name));
    return m.x ?? name;
  }

  input(op: string): fc.Arbitrary<Pair[]> {
    const i = this.model.ops[op]?.i;
    return i ? this.struct(i, 0) : fc.constant([]);
  }

  private struct(shapeName: string, depth: number): fc.Arbitrary<Pair[]> {
    const key = `${shapeName}@${depth}`;
    let a = this.memo.get(key);
    if (a) return a;
    const shape = this.model.shapes[shapeName]!;
    if (depth > 4 || shape.k !== 'struct') return fc.constant([]);
    const required = new Set(shape.r ?? []);
    const members = Object.entries(shape.m).map(([name, m]) => {
      const wire = this.wire(name, m);
      const present = this.value(m.s, name, shapeName, depth + 1, m).map((ps) => ps.map(([p, v]): Pair => [p ? `${wire}.${p}` : wire, v]));
      const r = required.has(name);
      return fc.oneof(W(r ? 1 : 7, fc.constant<Pair[]>([])), W(r ? 9 : 3, present));
    });
    a = fc.tuple(...members).map((xs) => xs.flat());
    this.memo.set(key, a);
    return a;
  }

  private value(ref: ShapeRef, name: string, parent: string, depth: number, member?: Member): fc.Arbitrary<Pair[]> {
    const shape = resolve(this.model, ref);
    if (typeof shape === 'string') return scalarQuery(shape, name, this.service, parent).map((v): Pair[] => [['', v]]);
    if (shape.k === 'struct') return this.struct(ref as string, depth);
    const flat = this.model.protocol !== 'query' || member?.f;
    if (shape.k === 'list') {
      const wrap = flat ? '' : `${shape.x ?? 'member'}.`;
      const item = this.value(shape.v, name, parent, depth + 1);
      return fc.oneof(
        W(
          12,
          fc
            .tuple(fc.array(item, { maxLength: 3 }), indexStyle)
            .map(([items, style]) =>
              items.flatMap((ps, i) => ps.map(([p, v]): Pair => [`${wrap}${indexOf(style, i)}${p ? `.${p}` : ''}`, v])),
            ),
        ),
        W(1, fc.constant<Pair[]>([['', '']])), // the query protocol's empty list
      );
    }
    const wrap = flat ? '' : 'entry.';
    const v = this.value(shape.v, name, parent, depth + 1);
    return fc
      .array(fc.tuple(fc.oneof(W(3, pick(...TAG_KEYS)), W(1, general)), v), { maxLength: 3 })
      .map((es) =>
        es.flatMap(([k, ps], i): Pair[] => [
          [`${wrap}${i + 1}.${shape.kx ?? 'key'}`, k],
          ...ps.map(([p, x]): Pair => [`${wrap}${i + 1}.${shape.vx ?? 'value'}${p ? `.${p}` : ''}`, x]),
        ]),
      );
  }
}

function scalarQuery(kind: string, name: string, service: string, parent: string): fc.Arbitrary<string> {
  switch (kind) {
    case '#integer':
    case '#double':
      return fc.oneof(
        W(8, pick('-1', '0', '1', '5', '22', '443', '1000', '65535', '65536', '2147483647', '2147483648')),
        W(6, fc.integer({ min: -5, max: 70000 }).map(String)),
        W(3, pick(...NUMERIC)),
        W(1, general),
      );
    case '#boolean':
      return fc.oneof(W(20, pick('true', 'false')), W(1, pick('TRUE', 'False', '1', '0', 'yes', '', ' true')), W(1, general));
    case '#timestamp':
      return fc.oneof(W(4, pick(...DATES)), W(1, general));
    default:
      return hinted(name, service, parent) ?? general;
  }
}

/** Keys no client sends: unknown members, odd nesting, envelope names. */
const junkKey = fc.oneof(
  W(
    3,
    pick(
      'Foo',
      'Filter.1.Name',
      'Filter.1.Value.1',
      'GroupId.1',
      'GroupId',
      'Filter..Name',
      'Filter.0.Name',
      '.',
      '..',
      'a.b.c.d.e.f.g.h',
      'Tag.1.Key',
      'DryRun',
      'Action',
      'Version',
      'X-Amz-Date',
      'MaxResults',
      'NextToken',
      '',
      ' ',
      '__proto__',
      'constructor.prototype',
      'Filter.1.__proto__',
      'GroupId.99999999999999999999',
      'Filter.1.Value.4294967296',
      'Tags.member.1.Key',
      'Tags.member.0.Key',
      'Tags.member.1.__proto__',
      `Filter.1.${'x.'.repeat(3000)}`,
      'RoleName',
      'PolicyDocument',
      'member.1',
      'entry.1.key',
    ),
  ),
  W(1, fc.string({ maxLength: 12 })),
);

/** Form bodies written by hand: escapes no encoder makes. */
const rawForm = pick(
  '&',
  '&&&',
  '=',
  '==',
  'a=%ZZ',
  '%FF%FE=1',
  'x=%C0%80',
  'x=%ED%A0%80',
  '%=%',
  'Action',
  'Action=',
  '+=+',
  'a=b=c',
  '%00=%00',
  `x=${'%25'.repeat(3000)}`,
);

function queryRequest(proto: 'ec2' | 'iam' | 'sts', ops: string[], unimplemented: string[]): fc.Arbitrary<FuzzRequest> {
  const model = loadModel(proto);
  const gen = new QueryGen(model, proto);
  const version = model.version!;
  const op = fc.oneof(
    W(90, pick(...ops)),
    W(5, pick(...unimplemented)),
    W(
      5,
      pick(
        '',
        'describevpcs',
        'DescribeVpcs ',
        '__proto__',
        'constructor',
        'toString',
        'hasOwnProperty',
        'A'.repeat(3000),
        'GetCallerIdentity',
        'ListRoles',
        'DescribeLogGroups',
      ),
    ),
  );
  return fc
    .record({
      op,
      signing: signingArb,
      pairs: fc.constant(null), // filled in below (chain: the pairs depend on the operation)
      action: fc.oneof(W(97, fc.constant('as-is')), W(2, fc.constant('missing')), W(1, fc.constant('twice'))),
      version: fc.oneof(W(92, fc.constant(version)), W(8, pick('', '2010-05-08', '2011-06-15', '2016-11-15', '1.0', 'x'))),
      extra: fc.oneof(W(12, fc.constant<Pair[]>([])), W(1, fc.array(fc.tuple(junkKey, general), { minLength: 1, maxLength: 3 }))),
      encoding: fc.oneof(W(88, fc.constant('form')), W(6, fc.constant('raw')), W(6, fc.constant('get'))),
      raw: rawForm,
      contentType: fc.oneof(
        W(95, fc.constant('application/x-www-form-urlencoded; charset=utf-8')),
        W(
          5,
          pick(
            '',
            'text/plain',
            'application/json',
            'application/x-www-form-urlencoded;charset=ISO-8859-1',
            'multipart/form-data; boundary=x',
          ),
        ),
      ),
      path: fc.oneof(W(95, fc.constant('/')), W(5, pick('/%ZZ', '/%E0%A4%A', '/a/b', '/?', '/%2F', '/..%2F', '/%00', '/é'))),
      auth: scopeArb(proto),
    })
    .chain((r) => gen.input(r.op).map((pairs) => ({ ...r, pairs })))
    .map((r): FuzzRequest => {
      const params: Pair[] = [];
      if (r.action !== 'missing') params.push(['Action', r.op]);
      if (r.action === 'twice') params.push(['Action', 'DescribeVpcs']);
      if (r.version) params.push(['Version', r.version]);
      params.push(...r.pairs, ...r.extra);
      let form = new URLSearchParams(params).toString();
      if (r.encoding === 'raw') form += `&${r.raw}`;
      const headers: Record<string, string> = {};
      if (r.signing === 'open' && r.auth) headers.authorization = r.auth;
      if (r.encoding === 'get') {
        return { proto, signing: r.signing, service: proto, method: 'GET', path: `${r.path}?${form.slice(0, 6000)}`, headers };
      }
      if (r.contentType) headers['content-type'] = r.contentType;
      return { proto, signing: r.signing, service: proto, method: 'POST', path: r.path, headers, body: form };
    });
}

/** Values of the wrong type for any member, and nested nulls. */
const wrongJson: fc.Arbitrary<unknown> = fc.oneof(
  W(
    4,
    pick<unknown>(null, true, false, 0, -1, 2 ** 31, 2 ** 63, 1e308, -1e308, 0.5, '', 'x', [], {}, [null], { a: null }, [[[]]], {
      __proto__: null,
    }),
  ),
  W(2, rawNumber),
  W(1, long),
  W(1, fc.jsonValue({ maxDepth: 3 })),
);

/** Input of an operation of a JSON protocol (logs, cloudtrail), walked from its input shape. */
class JsonGen {
  private readonly memo = new Map<string, fc.Arbitrary<Record<string, unknown>>>();
  constructor(
    readonly model: ServiceModel,
    readonly service: string,
  ) {}

  input(op: string): fc.Arbitrary<Record<string, unknown>> {
    const i = this.model.ops[op]?.i;
    return i ? this.struct(i, 0) : fc.constant({});
  }

  private struct(shapeName: string, depth: number): fc.Arbitrary<Record<string, unknown>> {
    const key = `${shapeName}@${depth}`;
    let a = this.memo.get(key);
    if (a) return a;
    const shape = this.model.shapes[shapeName]!;
    if (depth > 4 || shape.k !== 'struct') return fc.constant({});
    const required = new Set(shape.r ?? []);
    const members = Object.entries(shape.m).map(([name, m]) => {
      const r = required.has(name);
      return fc
        .oneof(W(r ? 1 : 7, fc.constant(undefined)), W(r ? 9 : 3, this.value(m.s, name, shapeName, depth + 1)), W(1, fc.constant(null)))
        .map((v) => [m.j ?? name, v] as const);
    });
    a = fc.tuple(...members).map((kvs) => {
      const o: Record<string, unknown> = {};
      for (const [k, v] of kvs) if (v !== undefined) o[k] = v;
      return o;
    });
    this.memo.set(key, a);
    return a;
  }

  private value(ref: ShapeRef, name: string, parent: string, depth: number): fc.Arbitrary<unknown> {
    const shape = resolve(this.model, ref);
    let right: fc.Arbitrary<unknown>;
    if (typeof shape === 'string') {
      switch (shape) {
        case '#integer':
        case '#double':
          right = fc.oneof(W(6, pick(...INTS)), W(3, fc.integer({ min: -5, max: 70000 })), W(1, rawNumber));
          break;
        case '#boolean':
          right = fc.boolean();
          break;
        case '#timestamp':
          right = fc.oneof(
            W(3, pick<unknown>(0, -1, 1767225600, 1767225600.5, 1e308, 253402300800, 8.64e12, -8.64e12 - 1)),
            W(2, pick(...DATES)),
            W(1, rawNumber),
          );
          break;
        case '#blob':
          right = fc.oneof(
            fc.uint8Array({ maxLength: 32 }).map((b) => Buffer.from(b).toString('base64')),
            general,
          );
          break;
        case '#document':
          right = fc.jsonValue({ maxDepth: 3 });
          break;
        default:
          right = hinted(name, this.service, parent) ?? general;
      }
    } else if (shape.k === 'struct') {
      right = this.struct(ref as string, depth);
    } else if (shape.k === 'list') {
      right = fc.array(this.value(shape.v, name, parent, depth + 1), { maxLength: 4 });
    } else {
      right = fc.dictionary(
        fc.oneof(W(3, pick(...TAG_KEYS)), W(1, fc.string({ maxLength: 8 }))),
        this.value(shape.v, name, parent, depth + 1),
        { maxKeys: 3 },
      );
    }
    return fc.oneof(W(12, right), W(1, wrongJson));
  }
}

/** Bodies that are not the JSON of an object, or not JSON. */
const badJson = fc.oneof(
  W(
    6,
    pick(
      '',
      ' ',
      'null',
      '[]',
      '"str"',
      '1',
      'true',
      '{',
      '}',
      '{"a":1,}',
      '{"a"::1}',
      '{"a":NaN}',
      '{"a":Infinity}',
      '{"a":-}',
      '\uFEFF{}',
      '{"a":1}{"b":2}',
      '{"__proto__":{"logGroupName":"x"}}',
      '{"constructor":{"prototype":{"x":1}}}',
      '{"a":"\\ud800"}',
      '{"a":"\\u0000"}',
      '['.repeat(100_000),
      '{"a":'.repeat(50_000),
      `{"a":[${'1,'.repeat(100_000)}1]}`,
      `{${Array.from({ length: 2000 }, (_, i) => `"k${i}":${i}`).join(',')}}`,
    ),
  ),
  W(1, fc.uint8Array({ maxLength: 64 })),
  W(1, fc.string({ maxLength: 32 })),
);

function jsonRequest(proto: 'logs' | 'cloudtrail', ops: string[], unimplemented: string[]): fc.Arbitrary<FuzzRequest> {
  const model = loadModel(proto);
  const gen = new JsonGen(model, proto);
  const full = model.target!;
  const short = full.slice(full.lastIndexOf('.') + 1);
  const op = fc.oneof(
    W(92, pick(...ops)),
    W(4, pick(...unimplemented)),
    W(4, pick('', 'Nope', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'DescribeVpcs', 'a.b')),
  );
  return fc
    .record({
      op,
      signing: signingArb,
      prefix: fc.oneof(
        W(90, pick(full, short)),
        W(
          10,
          pick(
            '',
            'Logs_20140328',
            'CloudTrail_20131101',
            'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101',
            'x.y',
            `${short}.`,
            '.',
          ),
        ),
      ),
      body: fc.constant<string | Uint8Array>(''), // filled in below
      bad: fc.oneof(W(9, fc.constant(null)), W(1, badJson)),
      extra: fc.oneof(W(19, fc.constant(null)), W(1, fc.tuple(fc.string({ maxLength: 10 }), wrongJson))),
      contentType: fc.oneof(
        W(92, fc.constant('application/x-amz-json-1.1')),
        W(8, pick('', 'application/json', 'text/plain', 'application/x-amz-json-1.0', 'application/x-www-form-urlencoded')),
      ),
      auth: scopeArb(proto),
      method: fc.oneof(W(97, fc.constant('POST')), W(3, pick('PUT', 'DELETE', 'PATCH'))),
    })
    .chain((r) => gen.input(r.op).map((input) => ({ ...r, input })))
    .map((r): FuzzRequest => {
      let body: string | Uint8Array;
      if (r.bad !== null) body = r.bad;
      else {
        const input: Record<string, unknown> = { ...r.input };
        if (r.extra) input[r.extra[0]] = r.extra[1];
        body = unraw(JSON.stringify(input));
      }
      const headers: Record<string, string> = { 'x-amz-target': `${r.prefix}.${r.op}` };
      if (r.contentType) headers['content-type'] = r.contentType;
      if (r.signing === 'open' && r.auth) headers.authorization = r.auth;
      return { proto, signing: r.signing, service: proto, method: r.method, path: '/', headers, body };
    });
}

// ---- S3 ----

const BUCKET_NAMES = [
  '',
  'A',
  'ab',
  'a..b',
  '192.168.0.1',
  'xn--abc',
  'x-s3alias',
  'a'.repeat(64),
  'a'.repeat(63),
  '%ZZ',
  '%2F',
  'b%00',
  '..',
  '.',
  'fuzz-new-bucket',
  'fuzz.dots.bucket',
  'UPPER',
  'a-',
  '-a',
  'a_b',
  '_palisade',
  'moto-api',
  'localhost',
  '%E2%82%AC',
];
const KEYS = [
  'a',
  'a/b/c',
  'a//b',
  '/leading',
  'trailing/',
  '.',
  '..',
  'a/../b',
  '%',
  '%25',
  '%2F',
  '%ZZ',
  '%E0%A4%A',
  'a+b',
  'a%20b',
  '%C3%BC',
  '%F0%9F%98%80',
  'a?b',
  'a%3Fb',
  ';',
  '%01',
  '%00',
  '%0D%0A',
  '%ED%A0%80',
  '%C0%AF',
  'x'.repeat(1025),
  'x'.repeat(1024),
  '*',
  '?',
  'a%23b',
  '%7F',
  '%C2%85',
  '%EF%BF%BE',
];
/**
 * A path segment or query value as an SDK escapes it, cut to 1,500 characters: a request line past
 * Node's 16 KB header limit is answered by Node's HTTP parser (431, no body), never by Palisade.
 */
const segment = (s: string) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '\uFFFD')).slice(0, 1500);
const S3_QUERY = fc.oneof(
  W(
    1,
    pick(
      'tagging',
      'acl',
      'uploads',
      'delete',
      'location',
      'versioning',
      'policy',
      'cors',
      'versions',
      'list-type=2',
      'list-type=1',
      'list-type=x',
      'encoding-type=url',
      'encoding-type=xml',
      'encoding-type=',
      'fetch-owner=true',
      'versionId=null',
      'partNumber=1',
      'uploadId=x',
      'x-id=PutObject',
      'x-id=GetObject',
      'select&select-type=2',
      'attributes',
      'torrent',
      'restore',
      'legal-hold',
      '',
      '&',
      '=',
      'delete=',
      'location=x',
      'tagging&list-type=2',
    ),
  ),
  W(
    3,
    fc
      .tuple(
        pick(
          'max-keys',
          'prefix',
          'delimiter',
          'start-after',
          'marker',
          'continuation-token',
          'response-content-type',
          'response-content-disposition',
          'response-expires',
          'response-cache-control',
          'response-content-encoding',
          'response-content-language',
        ),
        fc.oneof(
          W(3, pick(...NUMERIC, ...TOKENS, '%0D%0A', '%00', '%C4%80', '%E2%82%AC', 'a%2Fb', '/', 'text/html', '%ZZ')),
          W(2, general.map(segment)),
        ),
      )
      .map(([k, v]) => `${k}=${v}`),
  ),
);
const RANGES = [
  'bytes=0-0',
  'bytes=0-',
  'bytes=-1',
  'bytes=-0',
  'bytes=5-2',
  'bytes=99999999999999999999-',
  'bytes=0-99999999999999999999',
  'bytes=0-1,2-3',
  'items=0-1',
  'bytes=',
  'bytes=-',
  'bytes=1e3-',
  ' bytes=0-1 ',
  'bytes=9007199254740993-9007199254740995',
  'bytes=3-3',
];
const CONDITIONS = [
  '*',
  '"0"',
  'W/"x"',
  '',
  'Wed, 21 Oct 2015 07:28:00 GMT',
  'Fri, 31 Dec 9999 23:59:59 GMT',
  'junk',
  '0',
  '"a", "b"',
  ',,,',
];

/** An aws-chunked body: well framed, or framed wrong in one of the ways a client could. */
const chunked = fc
  .record({
    pieces: fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 4 }),
    sig: fc.boolean(),
    trailer: pick(
      '',
      'x-amz-checksum-crc32:AAAAAA==\r\n',
      'x-amz-checksum-crc32:junk\r\n',
      'no-colon\r\n',
      ':empty-name\r\n',
      'x-amz-checksum-sha256:\r\n',
    ),
    fault: fc.oneof(
      W(6, fc.constant('none')),
      W(
        1,
        pick('size+1', 'size-1', 'non-hex', 'huge', 'no-final', 'trailing-bytes', 'no-crlf', 'long-line', 'no-end', 'spaces', '17-digits'),
      ),
    ),
  })
  .map(({ pieces, sig, trailer, fault }) => {
    const parts: Buffer[] = [];
    const s = sig ? `;chunk-signature=${'a'.repeat(64)}` : '';
    for (const p of pieces) {
      let size = p.length.toString(16);
      if (fault === 'size+1') size = (p.length + 1).toString(16);
      if (fault === 'size-1' && p.length > 0) size = (p.length - 1).toString(16);
      if (fault === 'non-hex') size = 'zz';
      if (fault === 'huge') size = 'FFFFFFFFFFFFFFFF';
      if (fault === 'spaces') size = ` ${size} `;
      if (fault === '17-digits') size = `0${'0'.repeat(15)}${size}`;
      parts.push(Buffer.from(`${size}${s}\r\n`), Buffer.from(p), Buffer.from(fault === 'no-crlf' ? '' : '\r\n'));
    }
    if (fault === 'long-line') parts.push(Buffer.from(`${'0'.repeat(5000)}\r\n`));
    if (fault !== 'no-final') parts.push(Buffer.from(`0${s}\r\n${trailer}${fault === 'no-end' ? '' : '\r\n'}`));
    if (fault === 'trailing-bytes') parts.push(Buffer.from('junk'));
    return Uint8Array.from(Buffer.concat(parts));
  });

const xmlText = fc.oneof(
  W(3, ref('objectKey')),
  W(2, pick(...KEYS.map((k) => k.replace(/[&<>]/g, '')))),
  W(
    2,
    general.map((s) => s.replace(/[&<]/g, '&amp;')),
  ),
  W(1, general),
);
const xmlBody = fc.oneof(
  W(
    4,
    fc
      .tuple(
        fc.array(xmlText, { maxLength: 5 }),
        pick('', '<Quiet>true</Quiet>', '<Quiet>1</Quiet>', '<Quiet>maybe</Quiet>', '<Quiet>true</Quiet><Quiet>false</Quiet>'),
        pick('', ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"', ' xmlns:x="y"'),
      )
      .map(
        ([keys, quiet, ns]) =>
          `<?xml version="1.0" encoding="UTF-8"?><Delete${ns}>${keys.map((k) => `<Object><Key>${k}</Key></Object>`).join('')}${quiet}</Delete>`,
      ),
  ),
  W(
    2,
    pick('', 'EU', 'us-east-1', 'eu-west-1', 'us-west-2', 'moon-1', ' eu-west-1 ', 'US-WEST-2').map(
      (lc) =>
        `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${lc}</LocationConstraint></CreateBucketConfiguration>`,
    ),
  ),
  W(
    3,
    pick(
      '<Delete>',
      '<Delete><Object><Key>a</Key></Object>',
      '<Delete><Object></Object></Delete>',
      '<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>',
      '<x:Delete xmlns:x="y"><x:Object><x:Key>k</x:Key></x:Object></x:Delete>',
      '<a>'.repeat(10_000),
      `<a>${'<b/>'.repeat(20_000)}</a>`,
      '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><Delete><Object><Key>&lol2;</Key></Object></Delete>',
      '<?xml version="1.0" encoding="UTF-16"?><Delete/>',
      '<Delete a="1" a="2"/>',
      '<Delete><Object><Key>&#0;</Key></Object></Delete>',
      '<Delete><Object><Key>&#xD800;</Key></Object></Delete>',
      '<Delete><Object><Key>&#99999999999;</Key></Object></Delete>',
      '<Delete><Object><Key><![CDATA[<k>]]></Key></Object></Delete>',
      '<Delete><!-- c --><Object><Key>k</Key></Object></Delete><!-- tail -->',
      '\uFEFF<Delete/>',
      '<Delete></delete>',
      '<Delete/><Delete/>',
      'not xml',
      '<',
      '<Delete attr=novalue/>',
      `<Delete>${'<Object><Key>k</Key></Object>'.repeat(1001)}</Delete>`,
      '<CreateBucketConfiguration><LocationConstraint>a</LocationConstraint><LocationConstraint>b</LocationConstraint></CreateBucketConfiguration>',
    ),
  ),
  W(
    1,
    fc
      .uint8Array({ maxLength: 64 })
      .map((b) =>
        Uint8Array.from(Buffer.concat([Buffer.from('<Delete><Object><Key>'), Buffer.from(b), Buffer.from('</Key></Object></Delete>')])),
      ),
  ),
);

const headerName = pick(
  'range',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'x-amz-meta-a',
  'x-amz-meta-__proto__',
  'x-amz-meta-',
  'content-type',
  'content-disposition',
  'content-language',
  'cache-control',
  'expires',
  'x-amz-checksum-mode',
  'x-amz-copy-source',
  'x-amz-acl',
  'x-amz-server-side-encryption',
  'x-amz-storage-class',
  'x-amz-tagging',
  'x-amz-website-redirect-location',
  'x-amz-object-lock-mode',
  'x-amz-expected-bucket-owner',
  'x-amz-request-payer',
  'x-amz-trailer',
  'x-amz-sdk-checksum-algorithm',
);
/** What fetch can send as a header value (Latin-1, no CR, LF or NUL). */
const headerSafe = (s: string) => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, '').slice(0, 4000);

const s3Request: fc.Arbitrary<FuzzRequest> = fc
  .record({
    signing: signingArb,
    method: fc.oneof(
      W(30, fc.constant('GET')),
      W(25, fc.constant('PUT')),
      W(10, fc.constant('HEAD')),
      W(10, fc.constant('DELETE')),
      W(10, fc.constant('POST')),
      W(3, pick('OPTIONS', 'PATCH', 'PROPFIND', 'COPY', 'get')),
    ),
    bucket: fc.oneof(W(8, ref('bucket')), W(2, pick(...BUCKET_NAMES)), W(1, general.map(segment))),
    key: fc.oneof(
      W(4, fc.constant('')),
      W(5, ref('objectKey').map(segment)),
      W(4, pick(...KEYS)),
      W(2, general.map(segment)),
      W(
        1,
        general.map((s) => headerSafe(s).replace(/[?#]/g, '').slice(0, 1000)),
      ),
    ),
    query: fc.oneof(W(1, fc.constant([])), W(1, fc.array(S3_QUERY, { minLength: 1, maxLength: 3 }))),
    headers: fc.array(fc.tuple(headerName, fc.oneof(W(2, pick(...RANGES, ...CONDITIONS)), W(1, general.map(headerSafe)))), {
      maxLength: 3,
    }),
    encoding: fc.oneof(
      W(8, fc.constant('')),
      W(3, fc.constant('aws-chunked')),
      W(1, pick('aws-chunked,gzip', 'gzip', 'identity', 'gzip, aws-chunked')),
    ),
    sha: fc.oneof(
      W(6, fc.constant('')),
      W(
        2,
        pick(
          'UNSIGNED-PAYLOAD',
          'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
          'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
          'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
          'junk',
          hex64,
        ),
      ),
    ),
    decodedLength: fc.oneof(
      W(5, fc.constant('')),
      W(3, fc.constant('right')),
      W(2, pick('0', '-1', '99999999999999999999', 'x', '1e3', '12345678901234567')),
    ),
    md5: fc.oneof(
      W(8, fc.constant('')),
      W(1, fc.constant('right')),
      W(1, pick('junk', '1B2M2Y8AsgTpgAmY7PhCfg==', 'AAAAAAAAAAAAAAAAAAAAAA==')),
    ),
    checksum: fc.oneof(
      W(8, fc.constant(null)),
      W(
        2,
        fc.tuple(
          pick('crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'),
          pick('right', 'AAAAAA==', 'junk', '', 'AAAAAAAAAAA=', `${'A'.repeat(43)}=`),
        ),
      ),
    ),
    body: fc.oneof(
      W(3, fc.constant<string | Uint8Array>('')),
      W(4, fc.string({ maxLength: 200 })),
      W(2, fc.uint8Array({ maxLength: 2048 })),
      W(4, xmlBody),
      W(1, long),
    ),
    chunks: chunked,
    routing: fc.oneof(W(92, fc.constant('scope')), W(4, fc.constant('sigv2')), W(4, fc.constant('presigned-query'))),
    auth: scopeArb('s3'),
  })
  .map((r): FuzzRequest => {
    const headers: Record<string, string> = {};
    const computed: NonNullable<FuzzRequest['computed']> = {};
    for (const [k, v] of r.headers) headers[k] = v;
    const query = [...r.query];
    if (r.signing === 'open') {
      if (r.routing === 'scope' && r.auth) headers.authorization = r.auth;
      else if (r.routing === 'sigv2') headers.authorization = 'AWS AKIAEXAMPLE:c2lnbmF0dXJl';
      else
        query.push(
          'X-Amz-Credential=AKIAEXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request',
          'X-Amz-Expires=300',
          'X-Amz-Date=20260101T000000Z',
        );
    }
    const method = r.method;
    let body: string | Uint8Array | undefined;
    if (method !== 'GET' && method !== 'HEAD' && method !== 'get') {
      if (r.encoding.includes('aws-chunked')) body = r.chunks;
      else body = r.body;
      if (r.encoding) headers['content-encoding'] = r.encoding;
      if (r.sha) headers['x-amz-content-sha256'] = r.sha;
      if (r.decodedLength === 'right') computed.decodedLength = true;
      else if (r.decodedLength) headers['x-amz-decoded-content-length'] = r.decodedLength;
      if (r.md5 === 'right') computed.md5 = true;
      else if (r.md5) headers['content-md5'] = r.md5;
      if (r.checksum) {
        const [alg, v] = r.checksum;
        if (v === 'right' && (alg === 'crc32' || alg === 'sha1' || alg === 'sha256')) computed.checksum = alg;
        else headers[`x-amz-checksum-${alg}`] = v === 'right' ? 'AAAAAAAAAAA=' : v;
      }
    }
    const path = `/${r.bucket}${r.key !== '' || r.method === 'PUT' ? `/${r.key}` : ''}${query.length ? `?${query.join('&')}` : ''}`;
    return { proto: 's3', signing: r.signing, service: 's3', method, path, headers, ...(body !== undefined ? { body } : {}), computed };
  });

// ---- the admin API ----

const endpoint = fc.oneof(
  W(4, ref('instance', 'eni', 'ip')),
  W(
    2,
    pick(
      'internet:1.2.3.4',
      'internet:10.0.0.1',
      'internet:',
      'internet:::1',
      'internet:999.0.0.1',
      'internet:0.0.0.0/0',
      '10.0.0.5',
      '172.31.0.10',
      'i-0123456789abcdef0',
      'eni-0123456789abcdef0',
      '',
      'a'.repeat(257),
    ),
  ),
  W(2, general),
);
const num = fc.oneof(
  W(4, fc.integer({ min: -2, max: 70000 })),
  W(3, pick<unknown>(-1, 0, 22, 443, 65535, 65536, 2 ** 31, 2 ** 53, 1e308, -1e308, 0.5, -0, 2 ** 40, 2 ** 40 + 1)),
  W(1, rawNumber),
);
/** An admin API member: its right kind of value mostly, any JSON sometimes. */
const am = (a: fc.Arbitrary<unknown>) => fc.oneof(W(10, a), W(1, wrongJson));
const opt = (a: fc.Arbitrary<unknown>) => fc.oneof(W(2, fc.constant(undefined)), W(3, am(a)));
const flags = fc.oneof(
  W(3, fc.subarray(['SYN', 'ACK', 'FIN', 'RST', 'PSH', 'syn', 'URG', 'SYN'])),
  W(1, fc.integer({ min: -1, max: 300 })),
);
const scopeMembers = {
  account: opt(pick('000000000000', '111122223333', '1', 'x'.repeat(12), '')),
  region: opt(pick('us-east-1', 'us-west-2', 'moon-1', '', 'US-EAST-1')),
};
const flowSpec = fc.record(
  {
    from: opt(endpoint),
    to: opt(endpoint),
    protocol: opt(fc.oneof(pick(...PROTOCOLS), fc.integer({ min: -1, max: 300 }))),
    port: opt(num),
    srcPort: opt(num),
    icmpType: opt(num),
    icmpCode: opt(num),
    flags: opt(flags),
    bytes: opt(num),
  },
  { requiredKeys: [] },
);
const clean = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const ADMIN_ROUTES: { path: fc.Arbitrary<string>; methods: string[]; body?: fc.Arbitrary<unknown> }[] = [
  { path: pick('/_palisade/health'), methods: ['GET', 'HEAD'] },
  {
    path: pick('/_palisade/clock'),
    methods: ['GET', 'POST'],
    body: fc.oneof(
      fc.record({
        advanceSeconds: am(fc.oneof(fc.integer({ min: 0, max: 86400 }), pick<unknown>(-1, 0.001, 1e308, 253402300800, 2 ** 53))),
      }),
      fc.record({
        epochMillis: am(fc.oneof(fc.integer({ min: 0, max: 2 ** 42 }), pick<unknown>(-1, 253402300799999, 253402300800000, 8.64e15, 0.5))),
      }),
      fc.record({ advanceSeconds: num, epochMillis: num }),
    ),
  },
  {
    path: fc
      .oneof(
        ref('instance'),
        pick('i-0123456789abcdef0', 'i-1', 'x', '..', '%2e%2e', '%ZZ', 'i-' + 'f'.repeat(200), '', 'i-0123456789abcdef0%00'),
      )
      .map((id) => `/_palisade/imds/${id}`),
    methods: ['POST', 'GET'],
  },
  {
    path: pick('/_palisade/network/evaluate'),
    methods: ['POST'],
    body: fc
      .record({
        flows: am(
          fc.oneof(
            W(12, fc.array(flowSpec.map(clean), { maxLength: 5 })),
            W(1, fc.array(flowSpec.map(clean), { minLength: 100, maxLength: 400 })),
          ),
        ),
        record: opt(fc.boolean()),
        explain: opt(fc.boolean()),
        ...scopeMembers,
      })
      .map(clean),
  },
  {
    path: pick('/_palisade/network/reach'),
    methods: ['POST'],
    body: fc
      .record({ to: opt(endpoint), from: opt(endpoint), port: opt(num), protocol: opt(fc.oneof(pick(...PROTOCOLS), num)), ...scopeMembers })
      .map(clean),
  },
  {
    path: pick('/_palisade/network/connections'),
    methods: ['POST'],
    body: fc.tuple(flowSpec, fc.record(scopeMembers)).map(([f, s]) => clean({ ...f, ...s })),
  },
  {
    path: fc
      .oneof(ref('conn'), pick('conn-x', '..', '%ZZ', 'a'.repeat(129), '__proto__', 'constructor'))
      .map((id) => `/_palisade/network/connections/${id}/send`),
    methods: ['POST'],
    body: fc
      .record({ direction: opt(pick('forward', 'reply', 'sideways', '')), flags: opt(flags), bytes: opt(num), ...scopeMembers })
      .map(clean),
  },
  {
    path: fc
      .oneof(ref('conn'), pick('conn-x', '__proto__', 'constructor', 'toString', '%ZZ'))
      .map((id) => `/_palisade/network/connections/${id}`),
    methods: ['GET', 'DELETE'],
  },
  // Paths that are not routes (and the reset routes, under methods that do not reset).
  {
    path: pick(
      '/_palisade/',
      '/_palisade',
      '/_palisade/nothing',
      '/_palisade/health/',
      '/_palisade//health',
      '/moto-api/',
      '/moto-api/data.json',
      '/_palisade/network/connections/a/b/c',
      '/_palisade/%2e%2e/health',
      '/_palisade/imds/i-1/x',
      '/_palisade/RESET',
      '/_palisade/reset/x',
      '/_palisade/network',
      '/_palisade/network/connections/',
      '/_palisade/reset',
      '/moto-api/reset',
      '/_palisade/%00',
      `/_palisade/${'a'.repeat(5000)}`,
    ),
    methods: ['GET', 'DELETE', 'HEAD', 'PUT'],
  },
];
const badAdminBody = pick(
  '',
  'null',
  '[]',
  '1',
  '"s"',
  '{',
  'NaN',
  '{"flows": NaN}',
  '{"flows":[{"from":"a","to":"b","port":1e400}]}',
  '\uFEFF{}',
  '['.repeat(100_000),
  '{"__proto__":{"flows":[]}}',
  '{"flows":[],"flows":null}',
  `{"flows":[${'{"from":"a","to":"b"},'.repeat(10_000)}{"from":"a","to":"b"}]}`,
);

const adminRequest: fc.Arbitrary<FuzzRequest> = fc
  .integer({ min: 0, max: ADMIN_ROUTES.length - 1 })
  .chain((i) => {
    const route = ADMIN_ROUTES[i]!;
    return fc.record({
      signing: signingArb,
      path: route.path,
      method: fc.oneof(W(17, pick(...route.methods)), W(3, pick('GET', 'POST', 'DELETE', 'HEAD', 'PUT', 'PATCH', 'OPTIONS'))),
      body: route.body
        ? fc.oneof(W(8, route.body), W(1, wrongJson), W(1, badAdminBody))
        : fc.oneof(W(8, fc.constant(undefined)), W(1, badAdminBody), W(1, wrongJson)),
      query: fc.oneof(
        W(8, fc.constant('')),
        W(
          2,
          fc
            .tuple(
              pick('account', 'region', 'x', ''),
              fc.oneof(pick('000000000000', 'us-west-2', 'moon-1', '%ZZ', ''), general.map(segment)),
            )
            .map(([k, v]) => `?${k}=${v}`),
        ),
      ),
      contentType: fc.oneof(W(9, fc.constant('application/json')), W(1, pick('', 'text/plain', 'application/x-www-form-urlencoded'))),
    });
  })
  .map((r): FuzzRequest => {
    // POST to a reset route wipes the state: not fuzzed here (see the last test).
    const method = /reset/i.test(r.path) && r.method === 'POST' ? 'GET' : r.method;
    const headers: Record<string, string> = {};
    let body: string | undefined;
    if (method !== 'GET' && method !== 'HEAD' && r.body !== undefined) {
      body = typeof r.body === 'string' && !r.body.startsWith('__RAWNUM_') ? r.body : unraw(JSON.stringify(r.body) ?? 'null');
      if (r.contentType) headers['content-type'] = r.contentType;
    }
    return {
      proto: 'admin',
      signing: r.signing,
      service: 'palisade',
      method,
      path: r.path + r.query,
      headers,
      ...(body !== undefined ? { body } : {}),
    };
  });

// ---------------------------------------------------------------------------------------------
// Sending and judging

interface Target {
  server: Palisade;
  url: URL;
  pool: Pool;
  creds: { accessKeyId: string; secretAccessKey: string };
}

const safeDecode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

async function sign(
  r: FuzzRequest,
  url: URL,
  headers: Record<string, string>,
  body: Buffer | undefined,
): Promise<{ url: URL; headers: Record<string, string>; body: Buffer | undefined }> {
  const fault = r.signing as Signing;
  if (fault === 'unsigned') return { url, headers, body };
  if (fault === 'junk-header') {
    const junk = [
      `AWS4-HMAC-SHA256 Credential=${ROOT.accessKeyId}/20260101/us-east-1/${r.service}/aws4_request, SignedHeaders=host;x-amz-date;;;, Signature=${hex64}`,
      `AWS4-HMAC-SHA256 Credential=${ROOT.accessKeyId}/20260101/us-east-1/${r.service}/aws4_request, SignedHeaders=, Signature=${'f'.repeat(64)}`,
      `AWS ${ROOT.accessKeyId}:c2ln`,
      'Bearer x',
      `AWS4-HMAC-SHA256 Credential=${ROOT.accessKeyId}/20260101/us-east-1/${r.service}/aws4_request, SignedHeaders=host, Signature=${'g'.repeat(64)}`,
    ];
    return {
      url,
      headers: { ...headers, authorization: junk[body?.length ? body.length % junk.length : 0]!, 'x-amz-date': '20260101T000000Z' },
      body,
    };
  }
  const creds = fault === 'unknown-key' ? { accessKeyId: 'AKIANOTAKEYWEKNOW001', secretAccessKey: 'x' } : ROOT;
  const s3 = r.service === 's3';
  const signer = new SignatureV4({
    service: r.service,
    region: 'us-east-1',
    credentials: creds,
    sha256: Sha256 as never,
    uriEscapePath: !s3,
  });
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const now = Date.now();
  const signingDate = new Date(fault === 'stale' ? now - 3_600_000 : fault === 'future' ? now + 3_600_000 : now);
  const toSign = {
    method: r.method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: s3 ? url.pathname : safeDecode(url.pathname),
    query,
    headers: {
      ...headers,
      host: url.host,
      ...(s3 && !headers['x-amz-content-sha256'] ? { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } : {}),
    },
    ...(body !== undefined ? { body } : {}),
  };
  if (fault === 'presigned' || fault === 'presigned-junk') {
    const out = await signer.presign(toSign, { expiresIn: 300, signingDate });
    const u = new URL(url);
    u.search = '';
    for (const [k, v] of Object.entries(out.query ?? {})) for (const x of Array.isArray(v) ? v : [v]) u.searchParams.append(k, String(x));
    if (fault === 'presigned-junk') {
      const which = (body?.length ?? url.pathname.length) % 5;
      if (which === 0) u.searchParams.set('X-Amz-Expires', ['NaN', '-1', '0', '604801', '1e3', '99999999999999'][url.pathname.length % 6]!);
      if (which === 1) u.searchParams.set('X-Amz-Credential', `${ROOT.accessKeyId}/20260101/us-east-1`);
      if (which === 2) u.searchParams.set('X-Amz-Date', '20261301T999999Z');
      if (which === 3) u.searchParams.set('X-Amz-Signature', 'zz');
      if (which === 4) u.searchParams.set('X-Amz-SignedHeaders', ';;host;;');
    }
    const hs = { ...(out.headers as Record<string, string>) };
    delete hs.host;
    return { url: u, headers: hs, body };
  }
  const out = await signer.sign(toSign, { signingDate });
  const hs = { ...(out.headers as Record<string, string>) };
  delete hs.host;
  if (fault === 'bad-signature')
    hs.authorization = hs.authorization!.replace(/Signature=(.)/, (_, c: string) => `Signature=${c === '0' ? '1' : '0'}`);
  if (fault === 'token-junk') hs['x-amz-security-token'] = 'junk-token';
  if (fault === 'swapped-body') {
    if (body !== undefined) return { url, headers: hs, body: Buffer.concat([body, Buffer.from('&Foo=1')]) };
    const u = new URL(url);
    u.searchParams.append('Foo', '1'); // no body to swap: the query then
    return { url: u, headers: hs, body };
  }
  return { url, headers: hs, body };
}

type Shape = 'ec2' | 'query' | 'json' | 's3' | 'admin' | 'xml';
const SCOPE = /Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/;

/** The shape of the answer and, for the AWS protocols, the service whose model it follows. */
function routeOf(url: URL, headers: Record<string, string>): { shape: Shape; service?: string } {
  const shape = routeShape(url, headers);
  if (shape === 'json') {
    const prefix = headers['x-amz-target']!.slice(0, headers['x-amz-target']!.lastIndexOf('.'));
    const service = (['logs', 'cloudtrail'] as const).find((n) => {
      const t = loadModel(n).target!;
      return t === prefix || t.endsWith(`.${prefix}`);
    });
    return { shape, ...(service ? { service } : {}) };
  }
  if (shape === 'ec2' || shape === 'query') {
    const service = headers.authorization
      ? SCOPE.exec(headers.authorization)?.[4]
      : new URLSearchParams(url.search.slice(1)).get('X-Amz-Credential')?.split('/')[3];
    return { shape, ...(service === 'ec2' || service === 'iam' || service === 'sts' ? { service } : {}) };
  }
  return { shape };
}

/** The protocol the server must answer in, read from the request as the gateway reads it. */
function routeShape(url: URL, headers: Record<string, string>): Shape {
  const p = url.pathname;
  if (p.startsWith('/_palisade/') || p.startsWith('/moto-api/')) return 'admin';
  const auth = headers.authorization;
  // As the gateway reads the query: URLSearchParams drops a leading `?` (so `/b??X-Amz-Credential=…` has one).
  const q = new URLSearchParams(url.search.slice(1));
  let service = auth ? SCOPE.exec(auth)?.[4] : undefined;
  if (service === undefined) {
    const cred = (q.get('X-Amz-Credential') ?? '').split('/');
    if (cred.length === 5) service = cred[3];
  }
  const sigv2 =
    service === undefined &&
    ((auth !== undefined && /^AWS ([^:\s]+):\S+$/.test(auth)) ||
      (q.has('AWSAccessKeyId') && q.has('Signature') && q.has('Expires') && !q.has('Action')));
  if (service === 's3' || sigv2) return 's3';
  if (headers['x-amz-target']?.includes('.')) return 'json';
  if (service !== undefined) return service === 'iam' || service === 'sts' ? 'query' : 'ec2';
  return 'xml';
}

const XML_TYPE = /^text\/xml/;
const SHAPES: Record<Shape, { type: RegExp; body: (text: string) => boolean }> = {
  ec2: {
    type: XML_TYPE,
    body: (t) => /^<\?xml version="1\.0" encoding="UTF-8"\?>\s*<Response><Errors><Error><Code>[^<]+<\/Code><Message>/.test(t),
  },
  query: { type: XML_TYPE, body: (t) => /^<ErrorResponse[^>]*><Error><Type>(Sender|Receiver)<\/Type><Code>[^<]+<\/Code><Message>/.test(t) },
  xml: { type: XML_TYPE, body: (t) => SHAPES.ec2.body(t) || SHAPES.query.body(t) },
  json: { type: /^application\/x-amz-json-1\.1$/, body: (t) => typeof jsonObject(t)?.__type === 'string' },
  s3: { type: /^application\/xml$/, body: (t) => /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Error><Code>[^<]+<\/Code>/.test(t) },
  admin: { type: /^application\/json$/, body: (t) => typeof jsonObject(t)?.error === 'string' },
};

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A reference to a character XML 1.0 forbids: how S3 (and Palisade, for stored values) writes them. */
const FORBIDDEN_REF = /&#(?:x([0-9a-fA-F]+)|([0-9]+));/g;
const forbidden = (cp: number) => (cp < 0x20 && cp !== 0x9 && cp !== 0xa && cp !== 0xd) || cp === 0xfffe || cp === 0xffff;

/**
 * An XML body read (undefined when not well-formed). `refs`: references to the characters XML 1.0
 * forbids are let through (stored values and S3's answers hold them, as S3 writes them); an error
 * message never holds them (they are written as visible \u escapes, readable by every XML reader).
 */
function readAnswerXml(body: Buffer, refs: boolean): XmlElement | null | undefined {
  let text = body;
  if (refs) {
    const s = body
      .toString('utf8')
      .replace(FORBIDDEN_REF, (m, hex?: string, dec?: string) => (forbidden(hex !== undefined ? parseInt(hex, 16) : Number(dec)) ? '' : m));
    text = Buffer.from(s, 'utf8');
  }
  try {
    return readXml(text);
  } catch {
    return undefined;
  }
}

/**
 * What in an answer does not have the type its operation's output shape gives it, as an SDK
 * would find on reading it (a string where a number is due, `NaN`, a timestamp that is no date).
 */
class OutputCheck {
  readonly problems: string[] = [];
  constructor(private readonly model: ServiceModel) {}

  private bad(path: string, v: unknown, what: string): void {
    if (this.problems.length < 4) this.problems.push(`${path}: ${JSON.stringify(v)?.slice(0, 80)} is not ${what}`);
  }

  json(ref: ShapeRef, v: unknown, path: string): void {
    const s = resolve(this.model, ref);
    if (typeof s === 'string') {
      switch (s) {
        case '#string':
        case '#blob':
          if (typeof v !== 'string') this.bad(path, v, 'a string');
          return;
        case '#integer':
          if (!Number.isInteger(v)) this.bad(path, v, 'an integer');
          return;
        case '#double':
        case '#timestamp':
          if (typeof v !== 'number' || !Number.isFinite(v)) this.bad(path, v, 'a number');
          return;
        case '#boolean':
          if (typeof v !== 'boolean') this.bad(path, v, 'a boolean');
          return;
        default:
          return;
      }
    }
    const isObject = typeof v === 'object' && v !== null && !Array.isArray(v);
    if (s.k === 'list') {
      if (!Array.isArray(v)) return this.bad(path, v, 'a list');
      v.forEach((x, i) => this.json(s.v, x, `${path}[${i}]`));
    } else if (!isObject) {
      this.bad(path, v, s.k === 'map' ? 'a map' : 'an object');
    } else if (s.k === 'struct') {
      for (const [n, m] of Object.entries(s.m)) {
        const x = (v as Record<string, unknown>)[m.j ?? n];
        if (Object.hasOwn(v, m.j ?? n) && x !== undefined) this.json(m.s, x, `${path}.${m.j ?? n}`);
      }
    } else {
      for (const [k, x] of Object.entries(v)) this.json(s.v, x, `${path}.${k}`);
    }
  }

  /** The members of a structure: each a child element named by the member (a flattened list's items all are). */
  xmlMembers(shape: StructShape, el: XmlElement, path: string): void {
    for (const [n, m] of Object.entries(shape.m)) {
      const tag = m.x ?? n;
      const r = resolve(this.model, m.s);
      const flat = typeof r !== 'string' && r.k === 'list' && m.f;
      for (const c of el.children) if (c.name === tag) this.xml(flat ? (r as { v: ShapeRef }).v : m.s, c, `${path}.${tag}`);
    }
  }

  xml(ref: ShapeRef, el: XmlElement, path: string): void {
    const s = resolve(this.model, ref);
    if (typeof s === 'string') {
      const t = el.text;
      if (el.children.length) this.bad(path, el.children[0]!.name, 'text (a scalar has no elements)');
      else if (s === '#integer' && !/^-?\d+$/.test(t)) this.bad(path, t, 'an integer');
      else if (s === '#double' && (t.trim() === '' || !Number.isFinite(Number(t)))) this.bad(path, t, 'a number');
      else if (s === '#boolean' && t !== 'true' && t !== 'false') this.bad(path, t, 'a boolean');
      else if (s === '#timestamp' && Number.isNaN(Date.parse(t))) this.bad(path, t, 'a timestamp');
      return;
    }
    if (s.k === 'struct') return this.xmlMembers(s, el, path);
    if (s.k === 'list') {
      const item = s.x ?? (this.model.protocol === 'ec2' ? 'item' : 'member');
      el.children.forEach((c, i) => (c.name === item ? this.xml(s.v, c, `${path}[${i}]`) : this.bad(path, c.name, `a <${item}>`)));
      return;
    }
    for (const e of el.children) {
      const value = e.children.find((c) => c.name === (s.vx ?? 'value'));
      if (value) this.xml(s.v, value, `${path}.entry`);
    }
  }
}

/** The output problems of a successful answer of an AWS protocol (the operation read from the answer or the target). */
function outputProblems(
  route: { shape: Shape; service?: string },
  headers: Record<string, string>,
  text: string,
  xml: XmlElement | null | undefined,
): string[] {
  if (!route.service) return [];
  const model = loadModel(route.service);
  const check = new OutputCheck(model);
  if (route.shape === 'json') {
    const target = headers['x-amz-target']!;
    const out = model.ops[target.slice(target.lastIndexOf('.') + 1)]?.o;
    if (out) check.json(out, jsonObject(text), 'output');
    return check.problems;
  }
  if (!xml || !xml.name.endsWith('Response')) return [`the answer's root is <${xml?.name}>, not <…Response>`];
  const op = xml.name.slice(0, -'Response'.length);
  const out = model.ops[op]?.o;
  if (!out) return [];
  const result = route.shape === 'query' ? xml.children.find((c) => c.name === `${op}Result`) : xml;
  if (result) check.xmlMembers(model.shapes[out]!, result, op);
  return check.problems;
}

/** What is wrong with an answer (empty when nothing is). */
function judge(
  route: { shape: Shape; service?: string },
  method: string,
  status: number,
  type: string,
  body: Buffer,
  headers: Record<string, string>,
): string[] {
  const { shape } = route;
  const problems: string[] = [];
  const text = body.toString('utf8');
  const s3NotImplemented = shape === 's3' && status === 501 && (method === 'HEAD' || /<Code>NotImplemented<\/Code>/.test(text));
  if (status >= 500 && !s3NotImplemented) problems.push(`status ${status}`);
  const head = method === 'HEAD';
  if (status >= 400 && !head) {
    const expect = SHAPES[shape];
    if (!expect.type.test(type)) problems.push(`content-type '${type}' is not ${shape}'s (${expect.type})`);
    if (!expect.body(text)) problems.push(`the error body is not in ${shape}'s shape`);
  }
  const xml = !head && body.length > 0 && /xml/.test(type) ? readAnswerXml(body, status < 300 || shape === 's3') : null;
  if (xml === undefined) problems.push('the XML body is not well-formed');
  if (!head && status < 300 && /json/.test(type) && jsonObject(text) === undefined) problems.push('the JSON body is not an object');
  if (!head && status < 300 && (shape === 'ec2' || shape === 'query' || shape === 'xml') && !XML_TYPE.test(type))
    problems.push(`content-type '${type}' on a ${shape} answer`);
  if (!head && status === 200 && !problems.length && (shape === 'ec2' || shape === 'query' || shape === 'json'))
    problems.push(...outputProblems(route, headers, text, xml));
  return problems;
}

const show = (s: string, max: number) =>
  s.length > max ? `${JSON.stringify(s.slice(0, max))}…(+${s.length - max} chars)` : JSON.stringify(s);

interface Outcome {
  status: number;
  code: string;
  problems: string[];
  report?: string;
}

interface Sent {
  url: URL;
  headers: Record<string, string>;
  body: Buffer | undefined;
  /** The answer, or why there is none. */
  status: number;
  type: string;
  answer?: Buffer;
  failure?: string;
}

/** Binds the request's placeholders, computes and signs what it asks for, and sends it. */
async function send(r: FuzzRequest, target: Target): Promise<Sent> {
  const path = bind(r.path, target.pool);
  let url = new URL(`${target.url.origin}${path}`); // not new URL(path, base): `//x` would name a host
  let headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) headers[k] = headerSafe(bind(v, target.pool));
  let body: Buffer | undefined =
    r.body === undefined ? undefined : typeof r.body === 'string' ? Buffer.from(bind(r.body, target.pool), 'utf8') : Buffer.from(r.body);
  if (r.computed && body) {
    const c = r.computed;
    let decoded: Buffer = body;
    if (c.decodedLength || c.md5 || c.checksum) {
      try {
        if (headers['content-encoding']?.includes('aws-chunked')) decoded = decodeAwsChunked(body).body;
      } catch {
        decoded = body;
      }
    }
    if (c.decodedLength) headers['x-amz-decoded-content-length'] = String(decoded.length);
    if (c.md5) headers['content-md5'] = createHash('md5').update(decoded).digest('base64');
    if (c.checksum === 'crc32') {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(crc32(decoded) >>> 0);
      headers['x-amz-checksum-crc32'] = b.toString('base64');
    } else if (c.checksum) headers[`x-amz-checksum-${c.checksum}`] = createHash(c.checksum).update(decoded).digest('base64');
  }
  if (r.signing !== 'open') ({ url, headers, body } = await sign(r, url, headers, body));
  try {
    const res = await fetch(url, {
      method: r.method,
      headers,
      ...(body !== undefined ? { body: Uint8Array.from(body) } : {}),
      signal: AbortSignal.timeout(HANG),
    });
    const type = res.headers.get('content-type') ?? '';
    let answer: Buffer;
    try {
      answer = Buffer.from(await res.arrayBuffer());
    } catch (e) {
      // fetch decodes by Content-Encoding: an S3 object stored with `gzip` whose bytes are not
      // gzip comes back as it was stored (as S3 does), and only the client cannot read it.
      if (!res.headers.get('content-encoding') || (e as Error).name === 'TimeoutError') throw e;
      answer = Buffer.alloc(0);
    }
    return { url, headers, body, status: res.status, type, answer };
  } catch (e) {
    const failure =
      (e as Error).name === 'TimeoutError'
        ? `no answer within ${HANG / 1000} s`
        : `the request failed: ${(e as Error).message} ${String((e as { cause?: unknown }).cause ?? '')}`;
    return { url, headers, body, status: 0, type: '', failure };
  }
}

/** Sends a request to its server and judges the answer. */
async function exercise(r: FuzzRequest, open: Target, verify: Target): Promise<Outcome> {
  const { url, headers, body, status, type, answer, failure } = await send(r, r.signing === 'open' ? open : verify);
  const describeRequest = () =>
    [
      `${r.method} ${show(url.pathname + url.search, 600)}  (${r.proto}, ${r.signing === 'open' ? '--clock virtual server' : `--auth verify server, signing: ${r.signing}`})`,
      `headers: ${JSON.stringify(headers).slice(0, 1500)}`,
      body === undefined ? 'no body' : `body (${body.length} bytes): ${show(body.toString('utf8'), 1500)}`,
    ].join('\n');
  if (!answer) return { status: 0, code: 'none', problems: [failure!], report: `${describeRequest()}\n→ ${failure}` };
  const text = answer.toString('utf8');
  const code =
    /<Code>([^<]{1,80})<\/Code>/.exec(text)?.[1] ??
    (jsonObject(text)?.__type as string | undefined) ??
    (jsonObject(text)?.code as string | undefined) ??
    '-';
  const problems = judge(routeOf(url, headers), r.method, status, type, answer, headers);
  return {
    status,
    code,
    problems,
    ...(problems.length
      ? {
          report: `${describeRequest()}\n→ ${status} ${type} ${show(text, process.env.PALISADE_FUZZ_REPORT ? 20_000 : 800)}\nproblems: ${problems.join('; ')}`,
        }
      : {}),
  };
}

async function runAll<T>(items: T[], n: number, fn: (x: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

const chunkSeed = (phase: number, chunk: number) => (SEED ^ Math.imul(phase + 1, 0x9e3779b1) ^ Math.imul(chunk + 1, 0x85ebca6b)) | 0;

async function fuzz(
  t: TestContext,
  phase: number,
  label: string,
  arb: fc.Arbitrary<FuzzRequest>,
  count: number,
  open: Target,
  verify: Target,
): Promise<void> {
  const failures: string[] = [];
  const statuses = new Map<string, number>();
  let signed = 0;
  const total = Math.max(1, Math.round(count * SCALE));
  for (let chunk = 0; chunk * CHUNK < total; chunk++) {
    const reqs = fc.sample(arb, { seed: chunkSeed(phase, chunk), numRuns: Math.min(CHUNK, total - chunk * CHUNK) });
    await runAll(reqs, CONCURRENCY, async (r, i) => {
      if (r.signing !== 'open') signed++;
      const o = await exercise(r, open, verify);
      const k = `${o.status} ${o.code}`;
      statuses.set(k, (statuses.get(k) ?? 0) + 1);
      if (o.report) failures.push(`#${chunk * CHUNK + i} of phase ${phase} (${label}):\n${o.report}`);
    });
  }
  const top = [...statuses]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([k, n]) => `${k}×${n}`)
    .join(', ');
  t.diagnostic(`${label}: ${total} requests (${signed} to the --auth verify server); answers: ${top}`);
  if (failures.length) {
    if (process.env.PALISADE_FUZZ_REPORT) appendFileSync(process.env.PALISADE_FUZZ_REPORT, `${failures.join('\n\n')}\n\n`);
    assert.fail(
      `${failures.length} of ${total} ${label} requests failed (PALISADE_FUZZ_SEED=${SEED}):\n\n${failures.slice(0, 6).join('\n\n')}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Resources to aim at

let round = 0;
/**
 * Makes a few resources of every kind on a server and adds them to its pool. The fuzzing before
 * may have used up quotas or taken names: a step AWS refuses (4xx) is skipped, anything else fails.
 */
async function setup(t: Target): Promise<void> {
  const k = round++;
  const cfg = { endpoint: t.url.origin, region: 'us-east-1', credentials: t.creds, maxAttempts: 1 };
  const ec2 = new EC2Client(cfg);
  const iam = new IAMClient(cfg);
  const s3 = new S3Client({ ...cfg, forcePathStyle: true });
  const logs = new CloudWatchLogsClient(cfg);
  const trail = new CloudTrailClient(cfg);
  const add = (kind: RefKind, ...xs: (string | undefined)[]) => {
    for (const x of xs) if (x && !t.pool[kind].includes(x)) t.pool[kind].unshift(x);
    t.pool[kind].length = Math.min(t.pool[kind].length, 8);
  };
  const attempt = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
      if (status >= 400 && status < 500) return undefined;
      throw e;
    }
  };
  const vpc = (await attempt(() => ec2.send(new CreateVpcCommand({ CidrBlock: `10.${k % 250}.0.0/16` }))))?.Vpc?.VpcId;
  const subnet =
    vpc && (await attempt(() => ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: `10.${k % 250}.1.0/24` }))))?.Subnet?.SubnetId;
  const web = (
    await attempt(() => ec2.send(new CreateSecurityGroupCommand({ GroupName: `fuzz-web-${k}`, Description: 'web', VpcId: vpc })))
  )?.GroupId;
  const db = (await attempt(() => ec2.send(new CreateSecurityGroupCommand({ GroupName: `fuzz-db-${k}`, Description: 'db', VpcId: vpc }))))
    ?.GroupId;
  if (web)
    await attempt(() =>
      ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: web,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        }),
      ),
    );
  if (web && db)
    await attempt(() =>
      ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: db,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: web }] }],
        }),
      ),
    );
  const defaultVpc = (await attempt(() => ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))))
    ?.Vpcs?.[0]?.VpcId;
  const defaultSubnet = (await attempt(() => ec2.send(new DescribeSubnetsCommand({}))))?.Subnets?.[0]?.SubnetId;
  const defaultSg = (await attempt(() => ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: ['default'] }))))?.SecurityGroups?.[0]
    ?.GroupId;
  const groups = [web, db].filter((g): g is string => g !== undefined);
  const run = await attempt(() =>
    ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12345678',
        MinCount: 2,
        MaxCount: 2,
        SubnetId: subnet,
        ...(groups.length ? { SecurityGroupIds: groups } : {}),
      }),
    ),
  );
  const pl = (
    await attempt(() =>
      ec2.send(
        new CreateManagedPrefixListCommand({
          PrefixListName: `fuzz-pl-${k}`,
          MaxEntries: 5,
          AddressFamily: 'IPv4',
          Entries: [{ Cidr: '10.0.0.0/8' }],
        }),
      ),
    )
  )?.PrefixList?.PrefixListId;
  add('vpc', vpc, defaultVpc);
  add('subnet', subnet, defaultSubnet);
  add('sg', web, db, defaultSg);
  add('sgName', web && `fuzz-web-${k}`, 'default');
  add('prefixList', pl);
  for (const i of run?.Instances ?? []) {
    add('instance', i.InstanceId);
    add('ip', i.PrivateIpAddress);
    for (const n of i.NetworkInterfaces ?? []) add('eni', n.NetworkInterfaceId);
  }
  const trust =
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}';
  const role = (await attempt(() => iam.send(new CreateRoleCommand({ RoleName: `fuzz-role-${k}`, AssumeRolePolicyDocument: trust }))))
    ?.Role;
  const user = (await attempt(() => iam.send(new CreateUserCommand({ UserName: `fuzz-user-${k}` }))))?.User?.UserName;
  const policy = (await attempt(() => iam.send(new CreatePolicyCommand({ PolicyName: `fuzz-policy-${k}`, PolicyDocument: POLICIES[0]! }))))
    ?.Policy;
  const profile = (await attempt(() => iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: `fuzz-profile-${k}` }))))
    ?.InstanceProfile?.InstanceProfileName;
  if (profile && role)
    await attempt(() => iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: profile, RoleName: role.RoleName! })));
  const key = user && (await attempt(() => iam.send(new CreateAccessKeyCommand({ UserName: user }))))?.AccessKey?.AccessKeyId;
  add('role', role?.RoleName);
  add('roleArn', role?.Arn);
  add('user', user);
  add('policyArn', policy?.Arn);
  add('profile', profile);
  add('accessKey', key);
  const bucket = `fuzz-bucket-${k}`;
  if (await attempt(() => s3.send(new CreateBucketCommand({ Bucket: bucket })))) {
    add('bucket', bucket);
    for (const objectKey of ['plain.txt', 'dir/a b+c.txt', 'ü/%41', 'dir/sub/', 'x']) {
      if (await attempt(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: objectKey, Body: `body of ${objectKey}` }))))
        add('objectKey', objectKey);
    }
    // The bucket policy CloudTrail requires of a trail's bucket.
    const statement = (Action: string, Resource: string) => ({
      Effect: 'Allow',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action,
      Resource,
    });
    const Policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [statement('s3:GetBucketAcl', `arn:aws:s3:::${bucket}`), statement('s3:PutObject', `arn:aws:s3:::${bucket}/*`)],
    });
    await attempt(() => s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy })));
    if (await attempt(() => trail.send(new CreateTrailCommand({ Name: `fuzz-trail-${k}`, S3BucketName: bucket }))))
      add('trail', `fuzz-trail-${k}`);
  }
  const group = `fuzz-group-${k}`;
  if (await attempt(() => logs.send(new CreateLogGroupCommand({ logGroupName: group })))) {
    add('logGroup', group);
    if (await attempt(() => logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 'stream' }))))
      add('logStream', 'stream');
    await attempt(() =>
      logs.send(
        new PutLogEventsCommand({
          logGroupName: group,
          logStreamName: 'stream',
          logEvents: [{ timestamp: t.server.clock.now(), message: 'ERROR {"a":1}' }],
        }),
      ),
    );
  }
  for (const c of [ec2, iam, s3, logs, trail]) c.destroy();
  // An open connection of the data plane, between the two instances (db lets web in on 5432).
  const [a, b] = run?.Instances ?? [];
  if (a?.InstanceId && b?.InstanceId) {
    const r: FuzzRequest = {
      proto: 'admin',
      signing: t.creds === ROOT ? 'good' : 'open',
      service: 'palisade',
      method: 'POST',
      path: '/_palisade/network/connections',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: a.InstanceId, to: b.InstanceId, protocol: 'tcp', port: 5432 }),
    };
    const answer = await send(r, t);
    const id = (jsonObject(answer.answer?.toString('utf8') ?? '') as { connectionId?: string } | undefined)?.connectionId;
    add('conn', id);
  }
}

// ---------------------------------------------------------------------------------------------

const emptyPool = (): Pool => Object.fromEntries(REF_KINDS.map((k) => [k, [] as string[]])) as unknown as Pool;

describe(`fuzz: every protocol and the admin API (PALISADE_FUZZ_SEED=${SEED})`, () => {
  let open: Target;
  let verify: Target;
  // The operations each service implements, as the gateway holds them (a private field: the services are made with the server's parts).
  const services = (s: Palisade) => (s.gateway as unknown as { services: Map<string, ServiceDef> }).services;
  const ops = (proto: string) => Object.keys(services(open.server).get(proto)!.handlers);
  const unimplemented = (proto: string) => {
    const implemented = new Set(ops(proto));
    const rest = Object.keys(loadModel(proto).ops).filter((o) => !implemented.has(o));
    return rest.filter((_, i) => i % Math.ceil(rest.length / 50) === 0); // 50 at most, across the model
  };

  before(async () => {
    process.env.PALISADE_ROOT_ACCESS_KEY_ID = ROOT.accessKeyId;
    process.env.PALISADE_ROOT_SECRET_ACCESS_KEY = ROOT.secretAccessKey;
    const a = await start({ clock: 'virtual' });
    const b = await start({ auth: 'verify' });
    open = { server: a, url: new URL(a.url), pool: emptyPool(), creds: OPEN_CREDS };
    verify = { server: b, url: new URL(b.url), pool: emptyPool(), creds: ROOT };
  });
  after(async () => {
    await open?.server.close();
    await verify?.server.close();
    delete process.env.PALISADE_ROOT_ACCESS_KEY_ID;
    delete process.env.PALISADE_ROOT_SECRET_ACCESS_KEY;
  });

  const phases: [string, () => fc.Arbitrary<FuzzRequest>, number][] = [
    ['EC2 query', () => queryRequest('ec2', ops('ec2'), unimplemented('ec2')), 1100],
    ['IAM query', () => queryRequest('iam', ops('iam'), unimplemented('iam')), 500],
    ['STS query', () => queryRequest('sts', ops('sts'), unimplemented('sts')), 250],
    ['CloudWatch Logs JSON 1.1', () => jsonRequest('logs', ops('logs'), unimplemented('logs')), 450],
    ['CloudTrail JSON 1.1', () => jsonRequest('cloudtrail', ops('cloudtrail'), unimplemented('cloudtrail')), 250],
    ['S3 REST', () => s3Request, 800],
    ['admin API', () => adminRequest, 450],
  ];
  phases.forEach(([label, arb, count], phase) => {
    it(`${label}: ${Math.round(count * SCALE)} requests answered, below 500, in the caller's protocol (seed ${SEED})`, async (t) => {
      await setup(open);
      await setup(verify);
      await fuzz(t, phase, label, arb(), count, open, verify);
    });
  });

  it('reset once on each server, then a mixed round against the fresh state, and health answers', async (t) => {
    const reset = async (target: Target, path: string) => {
      const r: FuzzRequest = {
        proto: 'admin',
        signing: target === open ? 'open' : 'good',
        service: 'palisade',
        method: 'POST',
        path,
        headers: {},
      };
      const o = await exercise(r, open, verify);
      assert.equal(o.status, 200, o.report);
      target.pool = emptyPool();
    };
    await reset(open, '/_palisade/reset');
    await reset(verify, '/moto-api/reset');
    await setup(open);
    await setup(verify);
    const mixed = fc.oneof(
      queryRequest('ec2', ops('ec2'), unimplemented('ec2')),
      queryRequest('iam', ops('iam'), unimplemented('iam')),
      jsonRequest('logs', ops('logs'), unimplemented('logs')),
      s3Request,
      adminRequest,
    );
    await fuzz(t, phases.length, 'mixed after reset', mixed, 200, open, verify);
    for (const target of [open, verify]) {
      const res = await fetch(new URL('/_palisade/health', target.url), { signal: AbortSignal.timeout(HANG) });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { status: string }).status, 'ok');
    }
  });
});

// Regressions the fuzzer found: caller data named like a member of Object.prototype (`toString`,
// `constructor`, `__proto__`) was looked up in, or assigned into, plain objects.
describe('names of Object.prototype members are data, not the prototype', () => {
  let server: Palisade;
  const auth = (svc: string) =>
    `AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/${svc}/aws4_request, SignedHeaders=host, Signature=${hex64}`;
  const query = async (svc: string, params: Record<string, string>) => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { authorization: auth(svc), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(HANG),
    });
    return { status: res.status, text: await res.text() };
  };
  const admin = async (path: string, body: unknown) => {
    const res = await fetch(new URL(path, server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(HANG),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  before(async () => {
    server = await start();
  });
  after(async () => server.close());

  it('EC2 DescribeAccountAttributes: an attribute named toString or hasOwnProperty is invalid (was a 500)', async () => {
    for (const name of ['toString', 'hasOwnProperty', '__proto__', 'constructor']) {
      const a = await query('ec2', { Action: 'DescribeAccountAttributes', Version: '2016-11-15', 'AttributeName.1': name });
      assert.equal(a.status, 400, a.text);
      assert.match(a.text, /<Code>InvalidParameter<\/Code>/);
    }
  });

  it('CreateFlowLogs: ${constructor} is an unknown field of a LogFormat (it was taken)', async () => {
    const vpc = /<vpcId>([^<]+)<\/vpcId>/.exec((await query('ec2', { Action: 'DescribeVpcs', Version: '2016-11-15' })).text)![1]!;
    const a = await query('ec2', {
      Action: 'CreateFlowLogs',
      Version: '2016-11-15',
      'ResourceId.1': vpc,
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 's3',
      LogDestination: 'arn:aws:s3:::flow-bucket',
      LogFormat: '${version} ${constructor}',
    });
    assert.equal(a.status, 400, a.text);
    assert.match(a.text, /Unknown fields provided: constructor/);
  });

  it('the admin API: protocols named constructor or __proto__ are unknown (one answered "protocol": {})', async () => {
    const run = await query('ec2', {
      Action: 'RunInstances',
      Version: '2016-11-15',
      ImageId: 'ami-12345678',
      MinCount: '2',
      MaxCount: '2',
    });
    const [a, b] = [...run.text.matchAll(/<instanceId>([^<]+)<\/instanceId>/g)].map((m) => m[1]!);
    for (const protocol of ['constructor', '__proto__', 'CONSTRUCTOR']) {
      const opened = await admin('/_palisade/network/connections', { from: a, to: b, protocol, port: 22 });
      assert.equal(opened.status, 400, JSON.stringify(opened.body));
      assert.match(String(opened.body.error), /unknown protocol/);
      const judged = await admin('/_palisade/network/evaluate', { flows: [{ from: a, to: b, protocol, port: 22 }] });
      assert.equal(judged.status, 200);
      assert.match(String((judged.body.results as { error?: string }[])[0]!.error), /unknown protocol/);
    }
  });

  it('IAM: an inline policy named __proto__ is kept (it was answered 200 and lost), also when the role is edited again', async () => {
    const doc = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}';
    const trust =
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}';
    const v = { Version: '2010-05-08' };
    assert.equal((await query('iam', { ...v, Action: 'CreateRole', RoleName: 'proto', AssumeRolePolicyDocument: trust })).status, 200);
    for (const name of ['__proto__', 'constructor', 'other']) {
      const put = await query('iam', { ...v, Action: 'PutRolePolicy', RoleName: 'proto', PolicyName: name, PolicyDocument: doc });
      assert.equal(put.status, 200, put.text);
    }
    const listed = await query('iam', { ...v, Action: 'ListRolePolicies', RoleName: 'proto' });
    assert.deepEqual(
      [...listed.text.matchAll(/<member>([^<]+)<\/member>/g)].map((m) => m[1]),
      ['__proto__', 'constructor', 'other'],
    );
    const got = await query('iam', { ...v, Action: 'GetRolePolicy', RoleName: 'proto', PolicyName: '__proto__' });
    assert.equal(got.status, 200, got.text);
    assert.equal(decodeURIComponent(/<PolicyDocument>([^<]+)<\/PolicyDocument>/.exec(got.text)![1]!), doc);
    const deleted = await query('iam', { ...v, Action: 'DeleteRolePolicy', RoleName: 'proto', PolicyName: '__proto__' });
    assert.equal(deleted.status, 200, deleted.text);
    const left = await query('iam', { ...v, Action: 'ListRolePolicies', RoleName: 'proto' });
    assert.deepEqual(
      [...left.text.matchAll(/<member>([^<]+)<\/member>/g)].map((m) => m[1]),
      ['constructor', 'other'],
    );
  });
});
