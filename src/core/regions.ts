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

/** Every known region. */
export function knownRegions(): string[] {
  return [...(regions ??= load())];
}
