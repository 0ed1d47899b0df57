// Audit benchmark: a synthetic estate of 10,000 interfaces (one per instance), 2,000 groups and
// 50,000 rules, generated in memory as a Snapshot and audited (target ≤ 2 s); the same estate
// written as aws CLI exports to a temporary folder and imported (target ≤ 3 s).
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import type { Instance, IpPermission, NetworkInterface, SecurityGroup, SecurityGroupRule, Subnet, Vpc } from '@aws-sdk/client-ec2';
import { audit } from '../src/analysis/audit.ts';
import { loadSnapshot } from '../src/analysis/import.ts';
import type { AuditSnapshot } from '../src/analysis/findings/estate.ts';
import type { IamRoleDetail } from '../src/analysis/snapshot.ts';
import { rng } from './engine.ts';

const hex = (prefix: string, n: number) => `${prefix}-0${n.toString(16).padStart(16, '0')}`;

export interface SyntheticSizes {
  interfaces: number;
  groups: number;
  rules: number;
  vpcs: number;
}

/** A deterministic estate in the shapes of the Describe* outputs. */
export function syntheticSnapshot(
  size: SyntheticSizes = { interfaces: 10_000, groups: 2_000, rules: 50_000, vpcs: 10 },
  seed = 1,
): AuditSnapshot {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]) => a[Math.floor(r() * a.length)]!;
  const account = '123456789012';
  const vpcs: Vpc[] = [];
  const subnets: Subnet[] = [];
  for (let v = 0; v < size.vpcs; v++) {
    vpcs.push({
      VpcId: hex('vpc', v),
      CidrBlock: `10.${v}.0.0/16`,
      OwnerId: account,
      State: 'available',
      Tags: [{ Key: 'Name', Value: `vpc-${v}` }],
    });
    for (let s = 0; s < 4; s++)
      subnets.push({
        SubnetId: hex('subnet', v * 4 + s),
        VpcId: hex('vpc', v),
        CidrBlock: `10.${v}.${s * 64}.0/18`,
        AvailabilityZone: `us-east-1${'abcd'[s]}`,
      });
  }
  const prefixLists = Array.from({ length: 20 }, (_, k) => ({
    PrefixListId: hex('pl', k),
    PrefixListName: `pl-${k}`,
    AddressFamily: 'IPv4',
    MaxEntries: 10,
    OwnerId: account,
    Entries: Array.from({ length: 5 }, (_, e) => ({ Cidr: `172.${16 + k}.${e}.0/24` })),
  }));
  const groupIds = Array.from({ length: size.groups }, (_, g) => hex('sg', g));
  const vpcOfGroup = (g: number) => hex('vpc', g % size.vpcs);
  const groups: SecurityGroup[] = [];
  const rules: SecurityGroupRule[] = [];
  const perGroup = Math.floor(size.rules / size.groups);
  let ruleN = 0;
  for (let g = 0; g < size.groups; g++) {
    const vpc = vpcOfGroup(g);
    const ingress: IpPermission[] = [];
    const egress: IpPermission[] = [
      { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [] },
    ];
    rules.push({
      SecurityGroupRuleId: hex('sgr', ruleN++),
      GroupId: groupIds[g],
      GroupOwnerId: account,
      IsEgress: true,
      IpProtocol: '-1',
      FromPort: -1,
      ToPort: -1,
      CidrIpv4: '0.0.0.0/0',
    });
    for (let k = 1; k < perGroup; k++) {
      const kind = r();
      const proto = pick(['tcp', 'tcp', 'tcp', 'udp', 'icmp'] as const);
      const from = proto === 'icmp' ? 8 : pick([22, 80, 443, 3306, 5432, 6379, 8080, 9200]) + Math.floor(r() * 3) * 1000;
      const to = proto === 'icmp' ? -1 : from + (r() < 0.05 ? 2000 : Math.floor(r() * 4));
      const isEgress = r() < 0.2;
      const base = { IpProtocol: proto, FromPort: from, ToPort: to };
      const id = hex('sgr', ruleN++);
      const row: SecurityGroupRule = {
        SecurityGroupRuleId: id,
        GroupId: groupIds[g],
        GroupOwnerId: account,
        IsEgress: isEgress,
        ...base,
        Description: r() < 0.9 ? `rule ${k}` : undefined,
      };
      let perm: IpPermission;
      const desc = row.Description ? { Description: row.Description } : {};
      if (kind < 0.65) {
        const cidr = r() < 0.03 ? '0.0.0.0/0' : `10.${g % size.vpcs}.${Math.floor(r() * 256)}.0/${pick([16, 20, 24, 28, 32])}`;
        const c = cidr.endsWith('/0') ? cidr : canonical(cidr);
        perm = { ...base, IpRanges: [{ CidrIp: c, ...desc }] };
        row.CidrIpv4 = c;
      } else if (kind < 0.85) {
        // references stay inside the VPC (groups of the same VPC share g % vpcs)
        const ref = groupIds[(Math.floor(r() * (size.groups / size.vpcs)) * size.vpcs + (g % size.vpcs)) % size.groups]!;
        perm = { ...base, UserIdGroupPairs: [{ GroupId: ref, UserId: account, ...desc }] };
        row.ReferencedGroupInfo = { GroupId: ref, UserId: account };
      } else if (kind < 0.95) {
        const c = `2001:db8:${Math.floor(r() * 65535).toString(16)}::/48`;
        perm = { ...base, Ipv6Ranges: [{ CidrIpv6: c, ...desc }] };
        row.CidrIpv6 = c;
      } else {
        const pl = pick(prefixLists).PrefixListId;
        perm = { ...base, PrefixListIds: [{ PrefixListId: pl, ...desc }] };
        row.PrefixListId = pl;
      }
      (isEgress ? egress : ingress).push(perm);
      rules.push(row);
    }
    groups.push({
      GroupId: groupIds[g],
      GroupName: g < size.vpcs ? 'default' : `group-${g}`,
      Description: g % 17 === 0 ? `group-${g}` : `Synthetic group ${g}`,
      OwnerId: account,
      VpcId: vpc,
      IpPermissions: ingress,
      IpPermissionsEgress: egress,
      Tags: [],
    });
  }
  const networkInterfaces: NetworkInterface[] = [];
  const instances: Instance[] = [];
  for (let i = 0; i < size.interfaces; i++) {
    const v = i % size.vpcs;
    const subnet = hex('subnet', v * 4 + (i % 4));
    const ip = `10.${v}.${(i % 4) * 64 + ((i >> 8) & 63)}.${i & 255}`;
    const sameVpc = (n: number) => groupIds[(n * size.vpcs + v) % size.groups]!;
    const held = [
      ...new Set(Array.from({ length: 1 + Math.floor(r() * 3) }, () => sameVpc(1 + Math.floor(r() * (size.groups / size.vpcs - 1))))),
    ];
    const eni = hex('eni', i);
    const inst = hex('i', i);
    const publicIp = r() < 0.3 ? `54.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` : undefined;
    const ni: NetworkInterface = {
      NetworkInterfaceId: eni,
      VpcId: hex('vpc', v),
      SubnetId: subnet,
      OwnerId: account,
      Status: 'in-use',
      PrivateIpAddress: ip,
      PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: ip }],
      Ipv6Addresses: [],
      Groups: held.map((GroupId) => ({ GroupId })),
      Attachment: { InstanceId: inst, DeviceIndex: 0, Status: 'attached' },
      TagSet: [],
      ...(publicIp ? { Association: { PublicIp: publicIp, IpOwnerId: 'amazon' } } : {}),
    };
    networkInterfaces.push(ni);
    instances.push({
      InstanceId: inst,
      VpcId: hex('vpc', v),
      SubnetId: subnet,
      PrivateIpAddress: ip,
      PublicIpAddress: publicIp,
      State: { Code: 16, Name: 'running' },
      MetadataOptions: { HttpTokens: r() < 0.5 ? 'required' : 'optional', HttpEndpoint: 'enabled' },
      SecurityGroups: held.map((GroupId) => ({ GroupId })),
      Tags: [{ Key: 'Name', Value: `instance-${i}` }],
      ...(i % 10 === 0 ? { IamInstanceProfile: { Arn: `arn:aws:iam::${account}:instance-profile/role-${i % 50}` } } : {}),
      NetworkInterfaces: [
        { NetworkInterfaceId: eni, Groups: ni.Groups, PrivateIpAddress: ip, Attachment: { DeviceIndex: 0, Status: 'attached' } },
      ],
    });
  }
  const roles: IamRoleDetail[] = Array.from({ length: 50 }, (_, k) => ({
    RoleName: `role-${k}`,
    Arn: `arn:aws:iam::${account}:role/role-${k}`,
    InstanceProfileList: [{ InstanceProfileName: `role-${k}`, Arn: `arn:aws:iam::${account}:instance-profile/role-${k}` }],
    RolePolicyList: [
      {
        PolicyName: 'p',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: k % 7 === 0 ? '*' : 's3:GetObject', Resource: k % 7 === 0 ? '*' : 'arn:aws:s3:::b/*' }],
        },
      },
    ],
    AttachedManagedPolicies: [],
  }));
  return {
    account,
    region: 'us-east-1',
    securityGroups: groups,
    securityGroupRules: rules,
    networkInterfaces,
    instances,
    vpcs,
    subnets,
    prefixLists,
    iam: { roles, policies: [] },
  };
}

function canonical(cidr: string): string {
  const [a, p] = cidr.split('/');
  const n = a!.split('.').reduce((x, o) => x * 256 + Number(o), 0);
  const bits = Number(p);
  const masked = bits === 0 ? 0 : (n >>> (32 - bits)) * 2 ** (32 - bits);
  return `${[24, 16, 8, 0].map((s) => Math.floor(masked / 2 ** s) % 256).join('.')}/${bits}`;
}

/** The snapshot as the files the aws CLI would have printed. */
export async function writeExports(s: AuditSnapshot, dir: string): Promise<void> {
  const w = (name: string, v: unknown) => writeFile(join(dir, name), JSON.stringify(v, null, 4));
  await mkdir(join(dir, 'prefix-list-entries'), { recursive: true });
  await Promise.all([
    w('security-groups.json', { SecurityGroups: s.securityGroups }),
    w('security-group-rules.json', { SecurityGroupRules: s.securityGroupRules }),
    w('network-interfaces.json', { NetworkInterfaces: s.networkInterfaces }),
    w('instances.json', {
      Reservations: s.instances.map((i, k) => ({
        ReservationId: hex('r', k),
        OwnerId: s.account,
        Groups: [],
        Instances: [{ ...i, NetworkInterfaces: undefined }],
      })),
    }),
    w('vpcs.json', { Vpcs: s.vpcs }),
    w('subnets.json', { Subnets: s.subnets }),
    w('managed-prefix-lists.json', { PrefixLists: s.prefixLists.map(({ Entries: _e, ...p }) => p) }),
    ...s.prefixLists.map((p) => w(`prefix-list-entries/${p.PrefixListId}.json`, { Entries: p.Entries })),
    w('account-authorization-details.json', {
      UserDetailList: [],
      GroupDetailList: [],
      RoleDetailList: s.iam!.roles,
      Policies: s.iam!.policies,
    }),
  ]);
}

const mark = (ok: boolean) => (ok ? '✓' : '✗');

/** A full collection before each timed step, so that one step's garbage is not billed to the next. */
function collect(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** Wall time and CPU time (user + system, all threads) of fn. */
async function timed<T>(fn: () => T | Promise<T>): Promise<{ value: T; ms: number; cpu: number }> {
  collect();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { value, ms, cpu: (c.user + c.system) / 1000 };
}

export async function benchAudit(print: (line: string) => void = console.log): Promise<void> {
  const size = { interfaces: 10_000, groups: 2_000, rules: 50_000, vpcs: 10 };
  const t = performance.now();
  const snapshot = syntheticSnapshot(size);
  const gen = performance.now() - t;
  const ruleCount = snapshot.securityGroupRules!.length;
  print(
    `audit: synthetic estate of ${snapshot.networkInterfaces.length} interfaces, ${snapshot.securityGroups.length} groups, ${ruleCount} rules (generated in ${gen.toFixed(0)} ms)`,
  );

  audit(syntheticSnapshot({ interfaces: 200, groups: 40, rules: 1000, vpcs: 2 }, 9)); // warm-up
  const a = await timed(() => audit(snapshot));
  const by = Object.entries(a.value.summary.bySeverity)
    .filter(([, n]) => n)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  print(
    `  audit (every check, in memory):  ${a.ms.toFixed(0).padStart(6)} ms (cpu ${a.cpu.toFixed(0)} ms)   target ≤ 2000 ms ${mark(a.ms <= 2000)}   (${a.value.summary.total} findings: ${by})`,
  );

  const dir = await mkdtemp(join(tmpdir(), 'palisade-audit-bench-'));
  try {
    await writeExports(snapshot, dir);
    const i = await timed(() => loadSnapshot(dir));
    const imported = i.value;
    print(
      `  import (aws CLI exports folder): ${i.ms.toFixed(0).padStart(6)} ms (cpu ${i.cpu.toFixed(0)} ms)   target ≤ 3000 ms ${mark(i.ms <= 3000)}   (${imported.securityGroups.length} groups, ${imported.securityGroupRules?.length ?? 0} rule rows, ${imported.networkInterfaces.length} interfaces)`,
    );
    const again = await timed(() => audit(imported));
    print(`  import + audit:                  ${(i.ms + again.ms).toFixed(0).padStart(6)} ms   (${again.value.summary.total} findings)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchAudit();
