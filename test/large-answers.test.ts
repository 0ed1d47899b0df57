// Large answers: written from their pieces into reused buffers (src/gateway/body.ts), with the
// XML of unchanged groups rendered once and reused (reusableOutput). The SDK must read them back
// exactly, non-ASCII text included, and a change to a group must show in the next answer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupIngressCommand,
  type EC2Client,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';

let server: Palisade;
let client: EC2Client;
const ids: string[] = [];
const tagValue = (i: number) => `grüße ${i} — ✓ 漢字 😀 ${'x'.repeat(i % 7)}`;

before(async () => {
  server = await start();
  client = ec2(server.url);
  for (let i = 0; i < 40; i++) {
    const { GroupId } = await client.send(new CreateSecurityGroupCommand({ GroupName: `big-${i}`, Description: `group ${i}` }));
    ids.push(GroupId!);
    await client.send(
      new CreateTagsCommand({
        Resources: [GroupId!],
        Tags: [
          { Key: 'Name', Value: tagValue(i) },
          { Key: 'k', Value: 'v'.repeat(200) },
        ],
      }),
    );
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId,
        IpPermissions: Array.from({ length: 5 }, (_, k) => ({
          IpProtocol: 'tcp',
          FromPort: 1000 + k,
          ToPort: 1000 + k,
          IpRanges: [{ CidrIp: `10.${i}.${k}.0/24`, Description: `rule ${k}` }],
        })),
      }),
    );
  }
});
after(async () => server.close());

const byId = (groups: SecurityGroup[]) => new Map(groups.map((g) => [g.GroupId!, g]));

describe('large DescribeSecurityGroups answers', () => {
  it('round-trip exactly, non-ASCII text included, and again from the reused renderings', async () => {
    for (let round = 0; round < 3; round++) {
      const { SecurityGroups } = await client.send(new DescribeSecurityGroupsCommand({}));
      const groups = byId(SecurityGroups!);
      assert.equal(groups.size, 41);
      ids.forEach((id, i) => {
        const g = groups.get(id)!;
        assert.equal(g.GroupName, `big-${i}`);
        assert.equal(g.Tags!.find((t) => t.Key === 'Name')!.Value, tagValue(i));
        assert.deepEqual(
          g.IpPermissions!.map((p) => p.IpRanges![0]!.CidrIp),
          Array.from({ length: 5 }, (_, k) => `10.${i}.${k}.0/24`),
        );
      });
    }
  });

  it('shows a changed group at once (a new version of the document is rendered anew)', async () => {
    const id = ids[7]!;
    const perm = { IpProtocol: 'udp', FromPort: 53, ToPort: 53, IpRanges: [{ CidrIp: '192.0.2.0/24' }] };
    await client.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [perm] }));
    let g = byId((await client.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!).get(id)!;
    assert.ok(g.IpPermissions!.some((p) => p.IpProtocol === 'udp' && p.IpRanges![0]!.CidrIp === '192.0.2.0/24'));
    await client.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'Name', Value: 'renamed ✓' }] }));
    await client.send(new RevokeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [perm] }));
    g = byId((await client.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!).get(id)!;
    assert.ok(!g.IpPermissions!.some((p) => p.IpProtocol === 'udp'));
    assert.equal(g.Tags!.find((t) => t.Key === 'Name')!.Value, 'renamed ✓');
    // the single-group answer (small: written as one string) agrees
    const one = (await client.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }))).SecurityGroups![0]!;
    assert.deepEqual(one, g);
  });

  it('serves several large answers at once', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, () => client.send(new DescribeSecurityGroupsCommand({}))));
    const first = JSON.stringify(answers[0]!.SecurityGroups);
    for (const a of answers) assert.equal(JSON.stringify(a.SecurityGroups), first);
  });
});

describe('AnswerWriter (the body of an answer, written as its pieces come)', () => {
  it('writes exactly the concatenation of any sequence of pieces, with its UTF-8 length', async () => {
    const { AnswerWriter } = await import('../src/gateway/body.ts');
    let seed = 1;
    const rnd = () => (seed = (seed * 48271) % 2147483647);
    for (let t = 0; t < 300; t++) {
      // pieces of every size class: tiny, just under and at the large-piece bound, past the small-answer bound
      const pieces: string[] = [];
      for (let i = rnd() % 400; i > 0; i--) {
        const len = [1, 10, 100, 1000, 2047, 2048, 5000, 20000][rnd() % 8]!;
        pieces.push(`é<&😀${'abc'.repeat(len)}`.slice(0, len));
      }
      let head: Record<string, string | number> = {};
      let body = '';
      const res = {
        once() {
          return res;
        },
        writeHead(_status: number, h: Record<string, string | number>) {
          head = h;
          return res;
        },
        end(b: string | Buffer) {
          body = typeof b === 'string' ? b : Buffer.from(b).toString('utf8');
          return res;
        },
      };
      const w = new AnswerWriter();
      for (const p of pieces) w.push(p);
      w.end(res as never, 200, 'text/xml');
      const want = pieces.join('');
      assert.equal(body, want, `case ${t}`);
      assert.equal(Number(head['content-length']), Buffer.byteLength(want), `case ${t}`);
    }
  });
});
