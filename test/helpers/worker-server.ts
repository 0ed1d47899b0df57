// A real Palisade server (in memory, free port) on a worker thread, for tests of requests that
// could block the server's thread: the test's own event loop (and its timers) keep running while
// the server works, so a hang is detected and reported instead of freezing the test, and
// terminating the worker stops the server even mid-computation.
import { Worker, isMainThread, parentPort } from 'node:worker_threads';

export interface WorkerServer {
  url: string;
  close(): Promise<void>;
}

export async function startInWorker(): Promise<WorkerServer> {
  // tsx's loader is per thread: the worker registers it before loading this file as TypeScript
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(boot, { eval: true });
  const url = await new Promise<string>((resolve, reject) => {
    worker.once('message', (m: { url?: string; error?: string }) => (m.url ? resolve(m.url) : reject(new Error(m.error))));
    worker.once('error', reject);
  });
  return { url, close: async () => void (await worker.terminate()) };
}

/** Resolves with `work`'s outcome, or rejects if it is not settled within `ms` (a hang detector, not a benchmark). */
export async function withinTime<T>(work: Promise<T>, ms = 10_000, what = 'the request'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} was not answered within ${ms / 1000} s: the server thread is blocked`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const { start } = await import('./server.ts');
  start().then(
    (p) => port.postMessage({ url: p.url }),
    (e: unknown) => port.postMessage({ error: String(e) }),
  );
}
