// Availability zones per region. AWS maps zone names to ids per account; Palisade uses a fixed
// mapping (a → az1, b → az2, …).
const ZONE_COUNT: Record<string, number> = {
  'us-east-1': 6, 'us-west-2': 4, 'ap-northeast-1': 3, 'us-west-1': 2, 'ap-northeast-2': 4,
};

const REGION_ABBR: Record<string, string> = {
  east: 'e', west: 'w', north: 'n', south: 's', central: 'c', northeast: 'ne', southeast: 'se', northwest: 'nw', southwest: 'sw',
};

export interface Zone { name: string; id: string }

export function zonesOf(region: string): Zone[] {
  const count = ZONE_COUNT[region] ?? 3;
  const m = /^([a-z]+)-([a-z]+)-(\d+)$/.exec(region);
  const short = m ? `${m[1]}${REGION_ABBR[m[2]!] ?? m[2]!.charAt(0)}${m[3]}` : region.replace(/-/g, '');
  return Array.from({ length: count }, (_, i) => ({ name: `${region}${String.fromCharCode(97 + i)}`, id: `${short}-az${i + 1}` }));
}

export function isValidRegion(region: string): boolean {
  return /^[a-z]{2}(-[a-z]+)+-\d+$/.test(region);
}
