// One model, no contradictions (issue #14): on seeded random estates with routes, gateways,
// NAT, peering and network ACLs, built through the EC2 API, every sampled flow gets the same
// answer from the traffic API (what `palisade probe` asks), `reach` (can A reach B), Network
// Insights (StartNetworkInsightsAnalysis) and, for the internet to an instance on SSH, the audit's
// `instance-exposed-sensitive-port` finding. A mismatch prints the seed, the flow and each answer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { CREDS, ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import { fetchLiveSnapshot } from '../src/analysis/fetch-live.ts';
import { audit } from '../src/analysis/audit.ts';
import { buildEstate, PORTS, rng } from './helpers/random-estate.ts';
import { analysePath, evaluate, reach as reachAt } from './helpers/estate.ts';

let server: Palisade;
let client: EC2Client;

interface Answers {
  probe: string;
  decidedBy: string;
  reason?: string;
  reach: boolean;
  insights: boolean;
}

async function ask(from: string, to: string, port: number): Promise<Answers> {
  const probe = await evaluate(server.url, { from, to, protocol: 'tcp', port });
  const reach = await reachAt(server.url, { from, to, protocol: 'tcp', port });
  // Network Insights: from an internet gateway for internet sources (its documented source kind).
  const source = from.startsWith('internet:') ? undefined : from;
  const insights = source
    ? !!(await analysePath(client, { Source: source, Destination: to, DestinationPort: port })).NetworkPathFound
    : false;
  return { probe: probe.verdict, decidedBy: probe.decidedBy, reason: probe.explanation, reach: !!reach.reachable, insights };
}

before(async () => {
  server = await start();
  client = ec2(server.url);
});
after(() => server.close());

const SEEDS = [11, 23, 37, 41, 59, 61, 73, 89, 97, 101, 127, 131];
/** One region per estate: each has its own quotas (five Elastic IPs a region, as on AWS). */
const REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'ap-south-1',
  'ap-northeast-1',
  'ap-southeast-1',
];

describe('probe, reach, Network Insights and the audit agree on every sampled flow', () => {
  for (const [n, seed] of SEEDS.entries()) {
    it(`estate seed ${seed}`, async () => {
      const region = REGIONS[n]!;
      client = ec2(server.url, { region });
      const hosts = await buildEstate(client, seed, 100 + n * 2, region);
      const r = rng(seed * 7919);
      const internetSsh = new Map<string, boolean>();
      const mismatches: string[] = [];
      const flows: [string, string, number][] = [];
      const tally = { accept: 0, route: 0, acl: 0 };
      for (const h of hosts) {
        flows.push(['internet:198.51.100.77', h.id, 22]);
        for (let k = 0; k < 3; k++) {
          const other = r.pick(hosts);
          if (other.id !== h.id) flows.push([h.id, other.id, r.pick(PORTS)]);
        }
      }
      for (const [from, to, port] of flows) {
        const a = await ask(from, to, port);
        const accepted = a.probe === 'ACCEPT';
        tally.accept += accepted ? 1 : 0;
        tally.route += a.decidedBy === 'route' ? 1 : 0;
        tally.acl += a.decidedBy === 'acl' ? 1 : 0;
        if (from.startsWith('internet:')) internetSsh.set(to, accepted);
        if (process.env.AGREE_DEBUG && from.startsWith('internet:')) process.stderr.write(`${to} ${a.probe} ${a.decidedBy} ${a.reason}\n`);
        const agree = a.reach === accepted && (from.startsWith('internet:') || a.insights === accepted);
        if (!agree) mismatches.push(`${from} → ${to} tcp ${port}: probe ${a.probe}, reach ${a.reach}, insights ${a.insights}`);
      }
      // The audit: an instance is exposed on SSH exactly when the internet gets through to it on 22.
      const findings = audit(await fetchLiveSnapshot(server.url, { credentials: CREDS, region })).findings.filter(
        (f) => f.checkId === 'instance-exposed-sensitive-port',
      );
      for (const [id, open] of internetSsh) {
        const finding = findings.find((f) => f.resourceId === id);
        const saysSsh = !!finding && /SSH|\b22\b/.test(JSON.stringify(finding));
        if (saysSsh !== open)
          mismatches.push(`internet → ${id} tcp 22: probe ${open ? 'ACCEPT' : 'REJECT'}, audit ${saysSsh ? 'exposed' : 'not exposed'}`);
      }
      const accepted = [...internetSsh.values()].filter(Boolean).length;
      process.stderr.write(
        `seed ${seed}: ${flows.length} flows, ${tally.accept} accepted (${accepted} from the internet), ${tally.route} by route, ${tally.acl} by ACL\n`,
      );
      assert.deepEqual(mismatches, [], `seed ${seed}: ${flows.length} flows`);
    });
  }
});
