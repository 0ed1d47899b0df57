// Raw HTTP against the gateway: malformed, incomplete, mistyped, unknown and oversized requests
// are answered 4xx in EC2's error shape (never 5xx, never a dropped connection) and change
// nothing; Palisade's own endpoints; a request id on every answer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import { loadModel, resolve, type Member, type ShapeRef } from '../src/protocol/model.ts';
import { QueryDecoder } from '../src/protocol/query.ts';
import { vpcHandlers } from '../src/services/ec2/vpcs.ts';
import { subnetHandlers } from '../src/services/ec2/subnets.ts';
import { securityGroupHandlers } from '../src/services/ec2/security-groups.ts';
import { prefixListHandlers } from '../src/services/ec2/prefix-lists.ts';
import { tagHandlers } from '../src/services/ec2/tags.ts';

const AUTH = 'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00';
const V = 'Version=2016-11-15';
const ERROR_SHAPE =
  /^<\?xml version="1\.0" encoding="UTF-8"\?>\s*<Response><Errors><Error><Code>([^<]+)<\/Code><Message>([^<]*)<\/Message><\/Error><\/Errors><RequestID>([^<]+)<\/RequestID><\/Response>$/;

let server: Palisade;
let client: EC2Client;
before(async () => {
  server = await start();
  client = ec2(server.url);
});
after(async () => server.close());

interface Answer {
  status: number;
  text: string;
  requestId: string | null;
  contentType: string | null;
}

async function raw(
  body: string | Uint8Array<ArrayBuffer>,
  opts: { path?: string; method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const res = await fetch(server.url + (opts.path ?? '/'), {
    method: opts.method ?? 'POST',
    headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', ...opts.headers },
    body: opts.method === 'GET' ? undefined : typeof body === 'string' ? body : new Blob([body]),
  });
  return {
    status: res.status,
    text: await res.text(),
    requestId: res.headers.get('x-amzn-requestid'),
    contentType: res.headers.get('content-type'),
  };
}

/** Asserts the answer is a 4xx EC2 error; returns its code and message. */
function ec2Error(a: Answer, what: string): { code: string; message: string } {
  assert.ok(a.status >= 400 && a.status < 500, `${what}: HTTP ${a.status} ${a.text.slice(0, 200)}`);
  const m = ERROR_SHAPE.exec(a.text);
  assert.ok(m, `${what}: not EC2's error shape: ${a.text.slice(0, 300)}`);
  assert.ok(a.requestId, `${what}: no request id header`);
  assert.equal(m[3], a.requestId, `${what}: RequestID in the body and the header differ`);
  assert.match(a.contentType ?? '', /xml/);
  return { code: m[1]!, message: m[2]! };
}

/** Everything a bad request could have changed, as the SDK sees it. */
async function snapshot(): Promise<string> {
  const groups = (await client.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!;
  const vpcs = (await client.send(new DescribeVpcsCommand({}))).Vpcs!;
  return JSON.stringify({ groups, vpcs });
}

describe('bad requests are 4xx EC2 errors and change nothing', () => {
  let before0: string;
  let sg: string;
  before(async () => {
    sg = (await client.send(new CreateSecurityGroupCommand({ GroupName: 'target', Description: 'target' }))).GroupId!;
    before0 = await snapshot();
  });

  it('unknown and missing actions', async () => {
    let e = ec2Error(await raw(`Action=DescribeUnicorns&${V}`), 'unknown action');
    assert.equal(e.code, 'InvalidAction');
    assert.match(e.message, /DescribeUnicorns/);
    e = ec2Error(await raw(`Action=CreateTransitGateway&${V}`), 'action of the model Palisade does not implement');
    assert.equal(e.code, 'InvalidAction');
    e = ec2Error(await raw(V), 'no Action');
    assert.equal(e.code, 'MissingAction');
    e = ec2Error(await raw(`Action=&${V}`), 'empty Action');
    assert.equal(e.code, 'MissingAction');
    // Unsigned and without a Version the action alone still finds EC2.
    e = ec2Error(await raw('Action=DescribeUnicorns', { headers: { authorization: '' } }), 'unsigned unknown action');
    assert.equal(e.code, 'InvalidAction');
  });

  it('missing required parameters name the wire parameter', async () => {
    const cases: [string, string][] = [
      [`Action=CreateSecurityGroup&GroupName=x&${V}`, 'GroupDescription'],
      [`Action=CreateSecurityGroup&GroupDescription=x&${V}`, 'GroupName'],
      [`Action=DeleteVpc&${V}`, 'VpcId'],
      [`Action=CreateSubnet&CidrBlock=10.0.0.0/24&${V}`, 'VpcId'],
      [`Action=CreateTags&Tag.1.Key=a&Tag.1.Value=b&${V}`, 'ResourceId'],
      [`Action=AuthorizeSecurityGroupEgress&IpPermissions.1.IpProtocol=-1&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0&${V}`, 'GroupId'],
      [`Action=CreateManagedPrefixList&PrefixListName=x&AddressFamily=IPv4&${V}`, 'MaxEntries'],
      [
        `Action=ModifySecurityGroupRules&GroupId=${'sg-12345678'}&SecurityGroupRule.1.SecurityGroupRule.IpProtocol=tcp&${V}`,
        'SecurityGroupRule.1.SecurityGroupRuleId',
      ],
    ];
    for (const [body, param] of cases) {
      const e = ec2Error(await raw(body), body);
      assert.equal(e.code, 'MissingParameter', body);
      assert.equal(e.message, `The request must contain the parameter ${param}`, body);
    }
  });

  it('values of the wrong type: InvalidParameterValue', async () => {
    const cases = [
      `Action=AuthorizeSecurityGroupIngress&GroupId=${'{sg}'}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=abc&IpPermissions.1.ToPort=22&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0&${V}`,
      `Action=DescribeSecurityGroups&MaxResults=ten&${V}`,
      `Action=DescribeSecurityGroups&MaxResults=&${V}`,
      `Action=DescribeSecurityGroups&MaxResults=1e3&${V}`,
      `Action=DescribeSecurityGroups&MaxResults=99999999999999999999&${V}`,
      `Action=DescribeSecurityGroups&DryRun=maybe&${V}`,
      `Action=CreateManagedPrefixList&PrefixListName=x&AddressFamily=IPv4&MaxEntries=1.5&${V}`,
      `Action=CreateVpc&CidrBlock=10.0.0.0/16&AmazonProvidedIpv6CidrBlock=yes&${V}`,
    ];
    for (const body0 of cases) {
      const body = body0.replace('{sg}', sg);
      const e = ec2Error(await raw(body), body);
      assert.equal(e.code, 'InvalidParameterValue', body);
    }
    // The offending parameter is named.
    const e = ec2Error(await raw(cases[0]!.replace('{sg}', sg)), 'FromPort=abc');
    assert.match(e.message, /abc/);
    assert.match(e.message, /FromPort/);
  });

  it('unknown parameters: UnknownParameter', async () => {
    const cases: [string, RegExp][] = [
      [`Action=DescribeSecurityGroups&Bogus=1&${V}`, /Bogus/],
      [`Action=DescribeSecurityGroups&IpPermissions.1.IpProtocol=tcp&${V}`, /IpPermissions/],
      [`Action=DescribeSecurityGroups&Filter.1.Nmae=group-name&${V}`, /Filter\.1\.Nmae/],
      [`Action=DescribeSecurityGroups&GroupId.1=${'{sg}'}&GroupId.1.Foo=y&${V}`, /GroupId\.1\.Foo/],
      [`Action=CreateTags&ResourceId.1=${'{sg}'}&Tag.1.Key=a&Tag.1.Value.x=b&${V}`, /Tag\.1\.Value\.x/],
      [`Action=CreateSecurityGroup&GroupName=x&GroupDescription=x&Description=x&${V}`, /Description/],
      [`Action=DescribeSecurityGroups&__proto__=x&${V}`, /__proto__/],
      [`Action=DescribeSecurityGroups&constructor.prototype=x&${V}`, /constructor/],
    ];
    for (const [body0, msg] of cases) {
      const body = body0.replace('{sg}', sg);
      const e = ec2Error(await raw(body), body);
      assert.equal(e.code, 'UnknownParameter', body);
      assert.match(e.message, msg, body);
    }
  });

  it('malformed query strings', async () => {
    const bodies = [
      `Action=AuthorizeSecurityGroupIngress&GroupId=${sg}&IpPermissions.x.IpProtocol=tcp&${V}`,
      `Action=AuthorizeSecurityGroupIngress&GroupId=${sg}&IpPermissions.0.IpProtocol=tcp&${V}`,
      `Action=AuthorizeSecurityGroupIngress&GroupId=${sg}&IpPermissions.-1.IpProtocol=tcp&${V}`,
      `Action=AuthorizeSecurityGroupIngress&GroupId=${sg}&IpPermissions..IpProtocol=tcp&${V}`,
      `Action=DescribeSecurityGroups&GroupName.1=%ZZ&${V}`,
      `Action=DescribeSecurityGroups&Gr%ZZoupId.1=x&${V}`,
      `Action=DescribeSecurityGroups&GroupId=%&${V}`,
      `Action=DescribeSecurityGroups&&&==&a&${V}`,
      `Action=DescribeSecurityGroups&.=x&${V}`,
      `Action=DescribeSecurityGroups&GroupId..1=x&${V}`,
      `Action=DescribeSecurityGroups&GroupId.1=%00&${V}`,
      `Action=CreateSecurityGroup&GroupName=a%00b&GroupDescription=x&${V}`,
      `Action=CreateSecurityGroup&GroupName=%E0%A4%A&GroupDescription=x&${V}`,
      `Action=CreateSecurityGroup&GroupName=<x>&GroupDescription=]]>&${V}`,
    ];
    for (const body of bodies) ec2Error(await raw(body), body);
    let e = ec2Error(await raw(bodies[0]!), 'IpPermissions.x');
    assert.equal(e.code, 'UnknownParameter');
    assert.match(e.message, /IpPermissions\.x/);
    // A list or structure given a value of its own is not silently dropped.
    for (const body of [
      `Action=DescribeSecurityGroups&GroupId=${sg}&${V}`,
      `Action=DescribeSecurityGroups&Filter.1=x&Filter.1.Name=group-id&Filter.1.Value.1=${sg}&${V}`,
    ]) {
      e = ec2Error(await raw(body), body);
      assert.equal(e.code, 'UnknownParameter', body);
    }
    // Non-form bodies carry no parameters.
    ec2Error(await raw(`Action=DescribeSecurityGroups&${V}`, { headers: { 'content-type': 'application/json' } }), 'JSON content type');
    ec2Error(await raw('{"Action":"DescribeSecurityGroups"}', { headers: { 'content-type': 'application/json' } }), 'JSON body');
    ec2Error(await raw(new Uint8Array([0xff, 0xfe, 0x00, 0x41, 0x3d, 0x26])), 'binary body');
  });

  it('oversized values: InvalidParameterValue', async () => {
    const long = 'a'.repeat(300);
    let e = ec2Error(await raw(`Action=CreateSecurityGroup&GroupName=${long}&GroupDescription=x&${V}`), '300-char GroupName');
    assert.equal(e.code, 'InvalidParameterValue');
    e = ec2Error(await raw(`Action=CreateSecurityGroup&GroupName=ok-name&GroupDescription=${long}&${V}`), '300-char description');
    assert.equal(e.code, 'InvalidParameterValue');
    e = ec2Error(await raw(`Action=CreateTags&ResourceId.1=${sg}&Tag.1.Key=${long}&Tag.1.Value=v&${V}`), '300-char tag key');
    assert.equal(e.code, 'InvalidParameterValue');
    e = ec2Error(await raw(`Action=CreateTags&ResourceId.1=${sg}&Tag.1.Key=k&Tag.1.Value=${'v'.repeat(257)}&${V}`), '257-char tag value');
    assert.equal(e.code, 'InvalidParameterValue');
    e = ec2Error(
      await raw(
        `Action=AuthorizeSecurityGroupIngress&GroupId=${sg}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=1&IpPermissions.1.ToPort=1&IpPermissions.1.IpRanges.1.CidrIp=1.2.3.4/32&IpPermissions.1.IpRanges.1.Description=${long}&${V}`,
      ),
      '300-char rule description',
    );
    assert.equal(e.code, 'InvalidParameterValue');
    e = ec2Error(
      await raw(
        `Action=AuthorizeSecurityGroupIngress&GroupId=${sg}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=99999999999&IpPermissions.1.ToPort=1&IpPermissions.1.IpRanges.1.CidrIp=1.2.3.4/32&${V}`,
      ),
      'huge port',
    );
    assert.equal(e.code, 'InvalidParameterValue');
    // A long filter value is merely something that matches nothing.
    const ok = await raw(`Action=DescribeSecurityGroups&Filter.1.Name=group-name&Filter.1.Value.1=${'x'.repeat(100_000)}&${V}`);
    assert.equal(ok.status, 200);
    assert.match(ok.text, /<securityGroupInfo\/>/);
  });

  it('a huge body: 413 in the EC2 shape, and the connection stays usable', async () => {
    const body = `Action=CreateSecurityGroup&GroupName=huge&GroupDescription=x&${V}&Pad=${'x'.repeat(11 * 1024 * 1024)}`;
    const e = ec2Error(await raw(body), 'huge body');
    assert.equal(e.code, 'RequestEntityTooLarge');
    const next = await raw(`Action=DescribeSecurityGroups&GroupId.1=${sg}&${V}`);
    assert.equal(next.status, 200);
  });

  it('half-valid requests change nothing: one bad permission, one unknown id', async () => {
    let e = ec2Error(
      await raw(
        `Action=AuthorizeSecurityGroupIngress&GroupId=${sg}` +
          '&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=22&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0/8' +
          `&IpPermissions.2.IpProtocol=tcp&IpPermissions.2.FromPort=23&IpPermissions.2.ToPort=23&IpPermissions.2.IpRanges.1.CidrIp=10.0.0.300/8&${V}`,
      ),
      'bad second permission',
    );
    assert.equal(e.code, 'InvalidParameterValue');
    e = ec2Error(
      await raw(`Action=CreateTags&ResourceId.1=${sg}&ResourceId.2=sg-0123456789abcdef0&Tag.1.Key=half&Tag.1.Value=done&${V}`),
      'unknown second id',
    );
    assert.equal(e.code, 'InvalidGroup.NotFound');
    e = ec2Error(
      await raw(
        `Action=CreateVpc&CidrBlock=10.0.0.0/16&TagSpecification.1.ResourceType=security-group&TagSpecification.1.Tag.1.Key=a&TagSpecification.1.Tag.1.Value=b&${V}`,
      ),
      'wrong tag resource type',
    );
    assert.equal(e.code, 'InvalidParameterValue');
  });

  it('after all that, DescribeSecurityGroups and DescribeVpcs show nothing changed', async () => {
    assert.equal(await snapshot(), before0);
  });

  it('no foundation operation answers 5xx to empty or junk parameters', async () => {
    const model = loadModel('ec2');
    const ops = Object.keys({ ...vpcHandlers, ...subnetHandlers, ...securityGroupHandlers, ...prefixListHandlers, ...tagHandlers });
    assert.ok(ops.length > 20);
    const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
    const wire = (name: string, m: Member) => m.q ?? (m.x ? cap(m.x) : cap(name));
    const fill = (ref: ShapeRef, prefix: string, junk: string, depth: number, out: [string, string][]): void => {
      const shape = resolve(model, ref);
      if (typeof shape === 'string') {
        out.push([prefix, shape === '#integer' ? (junk === '' ? '-1' : String(junk.length)) : shape === '#boolean' ? 'true' : junk]);
        return;
      }
      if (depth > 3) return;
      if (shape.k === 'struct') {
        for (const [n, m] of Object.entries(shape.m))
          if (n !== 'DryRun') fill(m.s, (prefix ? `${prefix}.` : '') + wire(n, m), junk, depth + 1, out);
      } else if (shape.k === 'list') fill(shape.v, `${prefix}.1`, junk, depth + 1, out);
    };
    const junks = ['', 'x', sg, 'vpc-12345678', '-1', '0.0.0.0/0', 'a'.repeat(300)];
    const requests: string[] = [];
    for (const op of ops) {
      const input = model.ops[op]!.i;
      requests.push(
        new URLSearchParams([
          ['Action', op],
          ['Version', '2016-11-15'],
        ]).toString(),
      );
      if (!input) continue;
      for (const junk of junks) {
        const p: [string, string][] = [];
        fill(input, '', junk, 0, p);
        requests.push(new URLSearchParams([['Action', op], ['Version', '2016-11-15'], ...p]).toString());
      }
    }
    for (let i = 0; i < requests.length; i += 16) {
      await Promise.all(
        requests.slice(i, i + 16).map(async (body) => {
          const a = await raw(body);
          assert.ok(a.status < 500, `${body.slice(0, 200)} → ${a.status} ${a.text.slice(0, 200)}`);
          assert.ok(a.requestId);
          if (a.status >= 400) ec2Error(a, body.slice(0, 200));
        }),
      );
    }
  });
});

describe('a request id on every answer', () => {
  it('success, EC2 error, admin endpoints, unknown paths', async () => {
    const answers = [
      await raw(`Action=DescribeVpcs&${V}`),
      await raw(`Action=DescribeVpcs&VpcId.1=vpc-0123456789abcdef0&${V}`),
      await raw('', { method: 'GET', path: '/_palisade/health' }),
      await raw('', { method: 'GET', path: '/moto-api/nothing-here' }),
      await raw('', { method: 'GET', path: `/?Action=DescribeVpcs&${V}` }),
      await raw('', { method: 'DELETE', path: '/' }),
    ];
    const ids = answers.map((a) => a.requestId);
    for (const [i, id] of ids.entries()) assert.match(id ?? '', /^[0-9a-f-]{36}$/, `answer ${i} (${answers[i]!.status})`);
    assert.equal(new Set(ids).size, ids.length, 'a new id per request');
    assert.equal(answers[0]!.status, 200);
    assert.match(answers[0]!.text, new RegExp(`<requestId>${ids[0]}</requestId>`));
    assert.equal(answers[4]!.status, 200, 'GET with the query string works too');
    ec2Error(answers[5]!, 'DELETE /');
  });
});

describe('Palisade endpoints', () => {
  it('GET /_palisade/health', async () => {
    const res = await fetch(`${server.url}/_palisade/health`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /json/);
    const body = (await res.json()) as { status: string; services: Record<string, string> };
    assert.equal(body.status, 'ok');
    assert.deepEqual(
      Object.keys(body.services).sort(),
      ['cloudtrail', 'ec2', 'iam', 'logs', 's3', 'sts'],
      'every service offered on the port',
    );
    assert.equal(body.services.ec2, 'running');
    const head = await fetch(`${server.url}/_palisade/health`, { method: 'HEAD' });
    assert.equal(head.status, 200);
  });

  it('every answer carries a Date header in IMF-fixdate, one per answer (SDKs correct clock skew from it)', async () => {
    const before = Date.now();
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=NoSuchAction&Version=2016-11-15',
    });
    await res.arrayBuffer();
    const dates = res.headers.get('date')!;
    assert.match(
      dates,
      /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/,
    );
    const t = Date.parse(dates);
    assert.ok(t >= Math.floor(before / 1000) * 1000 && t <= Date.now(), `${dates} is now`);
    assert.equal(new Date(t).toUTCString(), dates);
  });

  for (const path of ['/_palisade/reset', '/moto-api/reset']) {
    it(`POST ${path} wipes every account and region; the default VPC comes back, new`, async () => {
      const other = ec2(server.url, { accessKeyId: '123456789012', region: 'eu-west-1' });
      const oldDefault = (await client.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs![0]!
        .VpcId!;
      const vpc = (await client.send(new CreateVpcCommand({ CidrBlock: '10.77.0.0/16' }))).Vpc!.VpcId!;
      const g = (await client.send(new CreateSecurityGroupCommand({ GroupName: `before-reset-${path.length}`, Description: 'x' })))
        .GroupId!;
      const otherVpc = (await other.send(new CreateVpcCommand({ CidrBlock: '10.78.0.0/16' }))).Vpc!.VpcId!;
      // Not by GET.
      const get = await fetch(server.url + path);
      assert.ok(get.status >= 400 && get.status < 500);
      assert.ok(
        (await client.send(new DescribeVpcsCommand({}))).Vpcs!.some((v) => v.VpcId === vpc),
        'GET does not reset',
      );
      const res = await fetch(server.url + path, { method: 'POST' });
      assert.equal(res.status, 200);
      assert.ok(res.headers.get('x-amzn-requestid'));
      assert.equal(((await res.json()) as { status: string }).status, 'reset');
      const { Vpcs } = await client.send(new DescribeVpcsCommand({}));
      assert.equal(Vpcs!.length, 1, 'only the recreated default VPC');
      assert.equal(Vpcs![0]!.IsDefault, true);
      assert.equal(Vpcs![0]!.CidrBlock, '172.31.0.0/16');
      assert.notEqual(Vpcs![0]!.VpcId, oldDefault);
      const groups = (await client.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!;
      assert.deepEqual(
        groups.map((x) => x.GroupName),
        ['default'],
      );
      assert.ok(!groups.some((x) => x.GroupId === g));
      const otherVpcs = (await other.send(new DescribeVpcsCommand({}))).Vpcs!;
      assert.ok(!otherVpcs.some((v) => v.VpcId === otherVpc));
      assert.equal(otherVpcs.length, 1);
      other.destroy();
    });
  }
});

// Found by test/fuzz.test.ts: error messages echo input, and a control character in it went out
// raw, so the error body was not XML any reader takes (boto3's stops at it, and at `&#x1;`); an
// EC2 tag value may hold any character and went out raw in every Describe of its resource.
describe('XML answers stay XML whatever the input holds', () => {
  const IAM_AUTH = AUTH.replace('/ec2/', '/iam/');
  /** Characters XML 1.0 forbids, raw; `&#x…;` references to them are counted apart. */
  const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

  it('an error message echoing control characters, U+FFFF or a lone surrogate writes them as visible \\u escapes (EC2, IAM, STS)', async () => {
    const ec2a = await raw(`Action=DescribeVpcs&${V}&MaxResults=%01%00%EF%BF%BF`);
    const { code, message } = ec2Error(ec2a, 'MaxResults with controls');
    assert.equal(code, 'InvalidParameterValue');
    assert.match(message, /Invalid value &apos;\\u0001\\u0000\\uffff&apos; for MaxResults/);
    const unknown = ec2Error(await raw(`Action=DescribeVpcs&${V}&%00=1`), 'a NUL parameter name');
    assert.equal(unknown.message, 'The parameter \\u0000 is not recognized');
    for (const [authorization, body] of [
      [IAM_AUTH, 'Action=CreateUser&Version=2010-05-08&UserName=%00%0B'],
      [AUTH.replace('/ec2/', '/sts/'), 'Action=AssumeRole&Version=2011-06-15&RoleSessionName=s&RoleArn=r&DurationSeconds=%01'],
    ] as const) {
      const a = await raw(body, { headers: { authorization } });
      assert.equal(a.status, 400, a.text);
      assert.match(
        a.text,
        /^<ErrorResponse[^>]*><Error><Type>Sender<\/Type><Code>(ValidationError|InvalidParameterValue)<\/Code><Message>[^<]*\\u000[01]/,
        a.text,
      );
      assert.doesNotMatch(a.text, FORBIDDEN);
      assert.doesNotMatch(a.text, /&#x/);
    }
  });

  it('a tag value with control characters and CR is written as character references and read back whole by the SDK', async () => {
    const vpc = (await client.send(new CreateVpcCommand({ CidrBlock: '10.88.0.0/16' }))).Vpc!.VpcId!;
    const value = 'a\u0001b\u0000c\rd\ne\tf\uffff';
    const created = await raw(`Action=CreateTags&${V}&ResourceId.1=${vpc}&Tag.1.Key=k%1F&Tag.1.Value=${encodeURIComponent(value)}`);
    assert.equal(created.status, 200, created.text);
    const described = await raw(`Action=DescribeVpcs&${V}&VpcId.1=${vpc}`);
    assert.equal(described.status, 200);
    assert.doesNotMatch(described.text, FORBIDDEN);
    assert.match(described.text, /<key>k&#x1f;<\/key><value>a&#x1;b&#x0;c&#xd;d\ne\tf&#xffff;<\/value>/);
    const tags = (await client.send(new DescribeVpcsCommand({ VpcIds: [vpc] }))).Vpcs![0]!.Tags!;
    assert.deepEqual(tags, [{ Key: 'k\u001f', Value: value }]);
  });
});

describe('the query decoder', () => {
  // Found with test/fuzz.test.ts (the same fault as CloudTrail's formatter): a map key assigned
  // with `out[k] = v` is lost, and `__proto__` sets the prototype instead.
  it('defines every map key, `__proto__` and `constructor` included', () => {
    const input = new QueryDecoder(loadModel('iam')).decode('PutAccountProperties', [
      ['Properties.entry.1.key', '__proto__'],
      ['Properties.entry.1.value', '{"polluted":1}'],
      ['Properties.entry.2.key', 'constructor'],
      ['Properties.entry.2.value', 'c'],
    ]);
    const props = input.Properties as Record<string, unknown>;
    assert.deepEqual(Object.keys(props), ['__proto__', 'constructor']);
    assert.equal(Object.getPrototypeOf(props), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(props, '__proto__')?.value, '{"polluted":1}');
  });
});
