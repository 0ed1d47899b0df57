// The regions AWS has, by partition, as the AWS SDK's own partition table lists them (extracted at
// build time into dist/models/regions.json by scripts/gen-models.mjs). A request signed for a
// region outside it is refused as AWS refuses it (see gateway), so a crafted scope (`..`, 300
// characters) never becomes an account's region.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelsDir } from './models-dir.ts';

let regions: Set<string> | undefined;

function load(): Set<string> {
  const byPartition = JSON.parse(readFileSync(join(modelsDir(), 'regions.json'), 'utf8')) as Record<string, string[]>;
  return new Set(Object.values(byPartition).flat());
}

/** True for a region AWS has (us-east-1, eu-central-2, us-gov-west-1, cn-north-1, …). */
export function isKnownRegion(region: string): boolean {
  return (regions ??= load()).has(region);
}

// ---------------------------------------------------------------------------------------------
// Availability zones per region. AWS maps zone names to ids per account; Palisade uses a fixed
// mapping (a → az1, b → az2, …).

const ZONE_COUNT: Record<string, number> = {
  'us-east-1': 6,
  'us-west-2': 4,
  'ap-northeast-1': 3,
  'us-west-1': 2,
  'ap-northeast-2': 4,
};

const REGION_ABBR: Record<string, string> = {
  east: 'e',
  west: 'w',
  north: 'n',
  south: 's',
  central: 'c',
  northeast: 'ne',
  southeast: 'se',
  northwest: 'nw',
  southwest: 'sw',
};

export interface Zone {
  name: string;
  id: string;
}

export function zonesOf(region: string): Zone[] {
  const count = ZONE_COUNT[region] ?? 3;
  const m = /^([a-z]+)-([a-z]+)-(\d+)$/.exec(region);
  const short = m ? `${m[1]}${REGION_ABBR[m[2]!] ?? m[2]!.charAt(0)}${m[3]}` : region.replace(/-/g, '');
  return Array.from({ length: count }, (_, i) => ({ name: `${region}${String.fromCharCode(97 + i)}`, id: `${short}-az${i + 1}` }));
}

/** The partition of a region (aws, aws-cn, aws-us-gov, the ISO partitions). */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('eu-isoe-')) return 'aws-iso-e';
  if (region.startsWith('us-isof-')) return 'aws-iso-f';
  return 'aws';
}

/** EC2's DNS names of an instance's addresses in a region. */
const dnsSuffix = (region: string) => (region === 'us-east-1' ? 'ec2.internal' : `${region}.compute.internal`);
export const privateDns = (region: string, ip: string) => `ip-${ip.replace(/\./g, '-')}.${dnsSuffix(region)}`;
export const publicDns = (region: string, ip: string) =>
  `ec2-${ip.replace(/\./g, '-')}.${region === 'us-east-1' ? 'compute-1' : `${region}.compute`}.amazonaws.com`;
