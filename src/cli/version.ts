// The package's version, read from its package.json: beside dist/ (the bundle) or src/ (sources).
import { readFileSync } from 'node:fs';

let version: string | undefined;
export function packageVersion(): string {
  if (version) return version;
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'palisade' && pkg.version) return (version = pkg.version);
    } catch {
      /* the next place */
    }
  }
  return (version = 'unknown');
}
