import { readFileSync } from 'node:fs';
import { loadPackage } from './lazy.ts';

type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export function createLogger(level: Level, write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const at = (l: Level) => (msg: string) => {
    if (order[l] >= order[level]) write(`[palisade] ${l}: ${msg.includes('.cjs:') ? sourcePositions(msg) : msg}`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

type SourceMapLike = {
  findEntry(
    line: number,
    column: number,
  ): { generatedLine?: number; originalSource?: string; originalLine?: number; originalColumn?: number };
};
const maps = new Map<string, SourceMapLike | null>();

/**
 * Stack frames in the bundle (`…/dist/palisade.cjs:LINE:COL`, whose names are minified) as
 * positions in the TypeScript sources (`src/server.ts:LINE:COL`), through the bundle's source map
 * beside it; read on the first error logged, never at start. Frames it cannot map stay as they are.
 */
export function sourcePositions(text: string): string {
  return text.replace(/(\/[^\s():]*\.cjs):(\d+):(\d+)/g, (frame, file: string, line: string, column: string) => {
    let map = maps.get(file);
    if (map === undefined) {
      try {
        const { SourceMap } = loadPackage<{ SourceMap: new (payload: unknown) => SourceMapLike }>('node:module');
        map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
      } catch {
        map = null;
      }
      maps.set(file, map);
    }
    const e = map?.findEntry(Number(line) - 1, Number(column) - 1);
    if (!e?.originalSource || e.originalLine === undefined || e.generatedLine !== Number(line) - 1) return frame;
    return `${e.originalSource.replace(/^(\.\.\/)+/, '')}:${e.originalLine + 1}:${(e.originalColumn ?? 0) + 1}`;
  });
}
