// The server's log: pino, loaded on the first line written (not at start: a start writes none,
// and loading pino is ~10-30 ms of a cold start), writing synchronously to stderr — text lines
// (`[palisade] info: ec2.DescribeVpcs 200 1.4 ms 000000000000`) or, with `--log-format json`,
// pino's JSON objects with the fields of each line (service, operation, status, durationMs…).
import { readFileSync } from 'node:fs';
import { loadPackage } from './lazy.ts';

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';
const order: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Structured fields of a line (JSON format); the text format prints the message only. */
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Whether a line at this level is written: lets a caller skip building it. */
  enabled(level: Level): boolean;
}

type PinoLogger = Record<Level, (fields: object, msg: string) => void>;
type Pino = {
  (options: object, stream: { write(s: string): void }): PinoLogger;
  destination(o: { dest: number; sync: boolean }): { write(s: string): void };
  stdTimeFunctions: { isoTime: () => string };
};

/**
 * A logger at `level`. `write` receives each line without its newline (tests collect them);
 * by default lines go to stderr.
 */
export function createLogger(level: Level, write?: (line: string) => void, format: LogFormat = 'text'): Logger {
  let pino: PinoLogger | undefined;
  const stream = (): { write(s: string): void } => {
    if (format === 'json') {
      if (write) return { write: (s) => write(s.endsWith('\n') ? s.slice(0, -1) : s) };
      return loadPackage<Pino>('pino').destination({ dest: 2, sync: true });
    }
    const out = write ?? ((line: string) => process.stderr.write(line + '\n'));
    return {
      write(s) {
        const o = JSON.parse(s) as { level: Level; msg: string };
        out(`[palisade] ${o.level}: ${o.msg}`);
      },
    };
  };
  const logger = (): PinoLogger => {
    if (pino) return pino;
    const p = loadPackage<Pino>('pino');
    pino = p(
      {
        level,
        base: undefined, // no pid and hostname on every line
        timestamp: p.stdTimeFunctions.isoTime,
        formatters: { level: (label: string) => ({ level: label }) },
      },
      stream(),
    );
    return pino;
  };
  const at = (l: Level) => (msg: string, fields?: LogFields) => {
    if (order[l] < order[level]) return;
    logger()[l](fields ?? {}, msg.includes('.cjs:') ? sourcePositions(msg) : msg);
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    enabled: (l) => order[l] >= order[level],
  };
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
