// Where the build's extracted data lives (scripts/gen-models.mjs writes dist/models/): the wire
// models of each service and the region list. Found beside the bundle or the sources.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let foundDir: string | undefined;
export function modelsDir(): string {
  if (process.env.PALISADE_MODELS_DIR) return process.env.PALISADE_MODELS_DIR;
  return (foundDir ??= findModelsDir());
}

function findModelsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    for (const candidate of [join(dir, 'models'), join(dir, 'dist', 'models')]) {
      if (existsSync(join(candidate, 'ec2.json'))) return candidate;
    }
    dir = dirname(dir);
  }
  throw new Error('Palisade wire models not found: run `npm run build` (scripts/gen-models.mjs) first');
}
