// The web console's build (scripts/build.mjs runs it): Svelte 5 compiled by Vite into
// dist/console/, which the server serves at /_palisade/console/ (src/admin-api/console.ts).
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: '/_palisade/console/',
  plugins: [svelte()],
  logLevel: 'warn',
  build: {
    outDir: join(here, '..', 'dist', 'console'),
    emptyOutDir: true,
    // Cytoscape alone is ~400 KB: the network view loads it in a chunk of its own.
    chunkSizeWarningLimit: 600,
    reportCompressedSize: false,
    sourcemap: false,
  },
});
