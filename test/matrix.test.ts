// The all-pairs reachability matrix (POST /_palisade/network/matrix) equals pair-by-pair `reach`
// on seeded random estates (routes, gateways, NAT, peering, custom ACLs, group references), and
// the change feed (GET /_palisade/events) tells a page what changed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { ec2, start } from './helpers/server.ts';
import { buildEstate } from './helpers/random-estate.ts';
import { adminPost } from './helpers/estate.ts';
import type { Palisade } from '../src/server.ts';

let server: Palisade;

const post = (path: string, body: unknown) => adminPost(server.url, path, body);

type Ranges = [number, number][];
const text = (r: Ranges | undefined) => (r && r.length ? r.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',') : 'none');

before(async () => {
  server = await start();
});
after(() => server.close());

describe('the matrix equals pair-by-pair reach', () => {
  const REGIONS = ['us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-south-1'];
  for (const [n, seed] of [5, 17, 29, 43, 71, 83].entries()) {
    it(`random estate seed ${seed}: every ordered pair's open TCP ports, and the internet's`, async () => {
      const region = REGIONS[n]!;
      const client: EC2Client = ec2(server.url, { region });
      const hosts = await buildEstate(client, seed, 160 + n * 2, region);
      const m = await post('/_palisade/network/matrix', { protocol: 'tcp', region });
      assert.equal(m.status, 200, JSON.stringify(m.body));
      const edges = new Map<string, Ranges>();
      for (const e of m.body.edges as { from: string; to: string; ports: Ranges }[]) edges.set(`${e.from}>${e.to}`, e.ports);
      const mismatches: string[] = [];
      for (const a of hosts) {
        const fromInternet = await post('/_palisade/network/reach', { from: 'internet:198.51.100.10', to: a.id, protocol: 'tcp' });
        const want = text(fromInternet.body.openPorts);
        const got = text(edges.get(`internet>${a.eni}`));
        if (want !== got) mismatches.push(`internet → ${a.id}: reach ${want}, matrix ${got}`);
        for (const b of hosts) {
          if (a === b) continue;
          const r = await post('/_palisade/network/reach', { from: a.id, to: b.id, protocol: 'tcp' });
          const w = text(r.body.openPorts);
          const g = text(edges.get(`${a.eni}>${b.eni}`));
          if (w !== g) mismatches.push(`${a.id} → ${b.id}: reach ${w}, matrix ${g}`);
        }
      }
      assert.deepEqual(mismatches, [], `seed ${seed} (${hosts.length} instances, ${m.body.classes} classes)`);
    });
  }
});

describe('the matrix API', () => {
  it('answers nodes with their classes, class edges, and refuses bad input with 400', async () => {
    const m = await post('/_palisade/network/matrix', { protocol: 'icmp', region: 'us-east-1' });
    assert.equal(m.status, 200);
    assert.ok(m.body.nodes.some((n: { id: string }) => n.id === 'internet'));
    assert.equal(typeof m.body.classes, 'number');
    assert.ok(Array.isArray(m.body.classEdges));
    for (const e of m.body.edges) assert.deepEqual(e.ports, [], 'icmp has no ports');
    for (const bad of [{ protocol: 'nope' }, { protocol: 'icmp', port: 22 }, { port: 70000 }, { region: 'mars-1' }, { extra: 1 }]) {
      const r = await post('/_palisade/network/matrix', bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
    }
  });
});

describe('the change feed', () => {
  it('streams one change event per committed change, only of the scope asked for', async () => {
    const controller = new AbortController();
    const res = await fetch(`${server.url}/_palisade/events?account=000000000000&region=us-east-1`, { signal: controller.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const client = ec2(server.url);
    const other = ec2(server.url, { region: 'eu-west-1' });
    await other.send(new CreateSecurityGroupCommand({ GroupName: 'elsewhere', Description: 'not streamed' }));
    const g = (await client.send(new CreateSecurityGroupCommand({ GroupName: 'feed-web', Description: 'web' }))).GroupId!;
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: g,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    let seen = '';
    const events: { kind: string; id: string; scope: string; op: string }[] = [];
    while (!events.some((e) => e.id === g && e.op === 'update')) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value, { stream: true });
      let k: number;
      while ((k = seen.indexOf('\n\n')) >= 0) {
        const block = seen.slice(0, k);
        seen = seen.slice(k + 2);
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (block.startsWith('event: change') && data) events.push(JSON.parse(data));
      }
    }
    controller.abort();
    assert.ok(events.some((e) => e.id === g && e.op === 'create'));
    assert.ok(
      events.every((e) => e.scope === '000000000000/us-east-1'),
      'only the scope asked for',
    );
    assert.ok(
      events.every((e) => !('after' in e)),
      'no document content',
    );
  });

  it('refuses a malformed scope', async () => {
    const res = await fetch(`${server.url}/_palisade/events?account=12&region=us-east-1`);
    assert.equal(res.status, 400);
  });
});
