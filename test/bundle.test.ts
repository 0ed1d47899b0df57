// The built bundle (dist/palisade.cjs, what `palisade start` runs): strict like its ES module
// sources, minified, and stack traces the server logs point back at src/ through its source map.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, sourcePositions } from '../src/core/log.ts';

const root = join(import.meta.dirname, '..');
const bundle = join(root, 'dist', 'palisade.cjs');
const text = readFileSync(bundle, 'latin1');

/** 1-based line and column of the first occurrence of `needle` in `haystack`. */
function position(haystack: string, needle: string): { line: number; column: number } {
  const at = haystack.indexOf(needle);
  assert.ok(at >= 0, `${needle} is there`);
  const before = haystack.slice(0, at);
  const line = before.split('\n').length;
  return { line, column: at - before.lastIndexOf('\n') };
}

describe('the bundle', () => {
  it('runs in strict mode: "use strict" is its first statement (a directive), before the banner', () => {
    assert.ok(text.startsWith('"use strict";\n'));
  });

  it('maps a frame in the bundle to the TypeScript line it came from; other text stays as it is', () => {
    const literal = 'Could not determine the service: sign the request with SigV4';
    const generated = position(text, literal);
    const source = position(readFileSync(join(root, 'src', 'gateway', 'protocols.ts'), 'utf8'), literal);
    const frame = `Error: x\n    at Xe (${bundle}:${generated.line}:${generated.column})\n    at node:internal/process/task_queues:95:5`;
    const mapped = sourcePositions(frame);
    assert.match(mapped, new RegExp(`at Xe \\(src/gateway/protocols\\.ts:${source.line}:\\d+\\)`));
    assert.match(mapped, /node:internal\/process\/task_queues:95:5$/);
    assert.equal(sourcePositions(`at y (${bundle}:999999:1)`), `at y (${bundle}:999999:1)`, 'a position the map does not know stays');
    assert.equal(sourcePositions('at z (/nowhere/else.cjs:3:4)'), 'at z (/nowhere/else.cjs:3:4)', 'no map beside it: stays');
  });

  it('the logger writes error lines with mapped positions', () => {
    const lines: string[] = [];
    const log = createLogger('error', (l) => lines.push(l));
    const { line, column } = position(text, 'Could not determine the service');
    log.error(`unhandled: Error: boom\n    at ${bundle}:${line}:${column}`);
    assert.match(lines[0]!, /^\[palisade\] error: unhandled: Error: boom\n {4}at src\/gateway\/protocols\.ts:\d+:\d+$/);
  });
});
