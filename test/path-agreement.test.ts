// One model, no contradictions (issue #14): on seeded random estates with routes, gateways,
// NAT, peering and network ACLs, built through the EC2 API, every sampled flow gets the same
// answer from the traffic API (what `palisade probe` asks), `reach` (can A reach B), Network
// Insights (StartNetworkInsightsAnalysis) and, for the internet to an instance on SSH, the audit's
// `instance-exposed-sensitive-port` finding. A mismatch prints the seed, the flow and each answer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AcceptVpcPeeringConnectionCommand,
  AllocateAddressCommand,
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  CreateNetworkInsightsPathCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcPeeringConnectionCommand,
  DescribeNetworkAclsCommand,
  DescribeNetworkInsightsAnalysesCommand,
  DescribeRouteTablesCommand,
  ReplaceNetworkAclAssociationCommand,
  RunInstancesCommand,
  StartNetworkInsightsAnalysisCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { CREDS, ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import { fetchLiveSnapshot } from '../src/analysis/fetch-live.ts';
import { audit } from '../src/analysis/audit.ts';

let server: Palisade;
let client: EC2Client;

/** mulberry32: a small seeded generator, so a failing estate can be rebuilt from its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, bool: (p = 0.5) => next() < p, pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}

async function post(path: string, body: unknown) {
  const res = await fetch(server.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as Record<string, any>;
}

interface Host {
  id: string;
  vpc: number;
  privateIp: string;
  publicIp?: string;
}

const PORTS = [22, 80, 443, 5432] as const;

/** Builds one random estate: two VPCs (maybe peered), public/private subnets, gateways, ACLs, groups, instances. */
async function buildEstate(seed: number, base: number, region: string): Promise<Host[]> {
  const r = rng(seed);
  const vpcs: { id: string; cidr: string; main: string; igw?: string }[] = [];
  for (let k = 0; k < 2; k++) {
    const cidr = `10.${base + k}.0.0/16`;
    const id = (await client.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc!.VpcId!;
    const main = (await client.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [id] }] }))).RouteTables![0]!
      .RouteTableId!;
    let igw: string | undefined;
    if (r.bool(0.8)) {
      igw = (await client.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
      await client.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: id }));
    }
    vpcs.push({ id, cidr, main, igw });
  }
  // Peering, with routes on none, one or both sides.
  let pcx: string | undefined;
  const peerRoutes = [r.bool(0.7), r.bool(0.7)];
  if (r.bool(0.7)) {
    pcx = (await client.send(new CreateVpcPeeringConnectionCommand({ VpcId: vpcs[0]!.id, PeerVpcId: vpcs[1]!.id }))).VpcPeeringConnection!
      .VpcPeeringConnectionId!;
    await client.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
  }
  const hosts: Host[] = [];
  for (const [k, v] of vpcs.entries()) {
    // The main table: to the internet (if a gateway) and to the peer (if routed on this side).
    if (v.igw && r.bool(0.85))
      await client.send(new CreateRouteCommand({ RouteTableId: v.main, DestinationCidrBlock: '0.0.0.0/0', GatewayId: v.igw }));
    if (pcx && peerRoutes[k])
      await client.send(
        new CreateRouteCommand({ RouteTableId: v.main, DestinationCidrBlock: vpcs[1 - k]!.cidr, VpcPeeringConnectionId: pcx }),
      );
    let nat: string | undefined;
    for (let s = 0; s < 2; s++) {
      const subnetId = (
        await client.send(
          new CreateSubnetCommand({ VpcId: v.id, CidrBlock: `10.${base + k}.${s + 1}.0/24`, AvailabilityZone: `${region}a` }),
        )
      ).Subnet!.SubnetId!;
      const group = (
        await client.send(new CreateSecurityGroupCommand({ GroupName: `agree-${seed}-${k}-${s}`, Description: 'random', VpcId: v.id }))
      ).GroupId!;
      const perms = [];
      for (const port of PORTS) {
        const source = r.pick(
          port === 22 ? (['world', 'world', 'vpc', 'none'] as const) : (['none', 'world', 'vpc', 'peer', 'self'] as const),
        );
        if (source === 'none') continue;
        perms.push({
          IpProtocol: 'tcp',
          FromPort: port,
          ToPort: port,
          ...(source === 'world' ? { IpRanges: [{ CidrIp: '0.0.0.0/0' }] } : {}),
          ...(source === 'vpc' ? { IpRanges: [{ CidrIp: v.cidr }] } : {}),
          ...(source === 'peer' ? { IpRanges: [{ CidrIp: vpcs[1 - k]!.cidr }] } : {}),
          ...(source === 'self' ? { UserIdGroupPairs: [{ GroupId: group }] } : {}),
        });
      }
      if (perms.length) await client.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group, IpPermissions: perms }));
      // The second subnet: maybe private behind a NAT gateway in the first.
      if (s === 1 && r.bool(0.5)) {
        const rt = (await client.send(new CreateRouteTableCommand({ VpcId: v.id }))).RouteTable!.RouteTableId!;
        if (nat) await client.send(new CreateRouteCommand({ RouteTableId: rt, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: nat }));
        if (pcx && peerRoutes[k])
          await client.send(
            new CreateRouteCommand({ RouteTableId: rt, DestinationCidrBlock: vpcs[1 - k]!.cidr, VpcPeeringConnectionId: pcx }),
          );
        await client.send(new AssociateRouteTableCommand({ RouteTableId: rt, SubnetId: subnetId }));
      }
      if (s === 0 && v.igw && r.bool(0.5)) {
        const alloc = (await client.send(new AllocateAddressCommand({ Domain: 'vpc' }))).AllocationId!;
        nat = (await client.send(new CreateNatGatewayCommand({ SubnetId: subnetId, AllocationId: alloc }))).NatGateway!.NatGatewayId!;
      }
      // A custom ACL, sometimes: entries over the whole internet or the VPCs only, in random order.
      if (r.bool(0.5)) {
        const acl = (await client.send(new CreateNetworkAclCommand({ VpcId: v.id }))).NetworkAcl!.NetworkAclId!;
        let n = 10;
        for (const egress of [false, true]) {
          for (let e = 0; e < 3; e++) {
            const ports = r.pick([
              { From: 22, To: 22 },
              { From: 80, To: 443 },
              { From: 1024, To: 65535 },
              { From: 0, To: 65535 },
            ]);
            await client.send(
              new CreateNetworkAclEntryCommand({
                NetworkAclId: acl,
                RuleNumber: (n += 10),
                Protocol: r.pick(['6', '-1']),
                RuleAction: r.bool(0.75) ? 'allow' : 'deny',
                Egress: egress,
                CidrBlock: r.pick(['0.0.0.0/0', '10.0.0.0/8']),
                PortRange: ports,
              }),
            );
          }
        }
        const assoc = (
          await client.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [subnetId] }] }))
        ).NetworkAcls![0]!.Associations!.find((a) => a.SubnetId === subnetId)!.NetworkAclAssociationId!;
        await client.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: assoc, NetworkAclId: acl }));
      }
      const count = r.bool() ? 2 : 1;
      for (let h = 0; h < count; h++) {
        const i = (
          await client.send(
            new RunInstancesCommand({
              ImageId: 'ami-12345678',
              InstanceType: 't3.micro',
              MinCount: 1,
              MaxCount: 1,
              NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetId, Groups: [group], AssociatePublicIpAddress: r.bool(0.85) }],
            }),
          )
        ).Instances![0]!;
        hosts.push({
          id: i.InstanceId!,
          vpc: k,
          privateIp: i.PrivateIpAddress!,
          ...(i.PublicIpAddress ? { publicIp: i.PublicIpAddress } : {}),
        });
      }
    }
  }
  return hosts;
}

interface Answers {
  probe: string;
  decidedBy: string;
  reason?: string;
  reach: boolean;
  insights: boolean;
}

async function ask(from: string, to: string, port: number): Promise<Answers> {
  const probe = (await post('/_palisade/network/evaluate', { flows: [{ from, to, protocol: 'tcp', port }] })).results[0];
  const reach = await post('/_palisade/network/reach', { from, to, protocol: 'tcp', port });
  // Network Insights: from an internet gateway for internet sources (its documented source kind).
  const source = from.startsWith('internet:') ? undefined : from;
  let insights = false;
  if (source) {
    const path = await client.send(
      new CreateNetworkInsightsPathCommand({ Source: source, Destination: to, Protocol: 'tcp', DestinationPort: port }),
    );
    const started = await client.send(
      new StartNetworkInsightsAnalysisCommand({ NetworkInsightsPathId: path.NetworkInsightsPath!.NetworkInsightsPathId }),
    );
    const a = (
      await client.send(
        new DescribeNetworkInsightsAnalysesCommand({
          NetworkInsightsAnalysisIds: [started.NetworkInsightsAnalysis!.NetworkInsightsAnalysisId!],
        }),
      )
    ).NetworkInsightsAnalyses![0]!;
    insights = !!a.NetworkPathFound;
  }
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
      const hosts = await buildEstate(seed, 100 + n * 2, region);
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
