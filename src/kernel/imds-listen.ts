// Listening sockets inside another network namespace, served by this process.
//
// Node cannot enter a network namespace (no setns), but a socket keeps the namespace it was
// created in for its whole life, wherever its descriptor goes. So a short-lived helper — `ip netns
// exec NS node -e …` (plain JavaScript passed on the command line: no file to ship, the same in
// the checkout and in the bundle) — binds the sockets inside NS and hands them to this process over
// Node's IPC channel (`process.send(msg, server)`: the descriptor travels as SCM_RIGHTS), then
// exits. This process accepts the connections itself: no relay, no long-running forwarder to
// supervise, the peer addresses are the real ones, and the sockets go away when this process
// closes them (or dies). The helper is bounded: a time limit, killed when it is exceeded.
import { spawn } from 'node:child_process';
import type { Server } from 'node:net';

export interface ListenSpec {
  host: string;
  port: number;
}

/** The helper: binds every spec, sends each listening server up the IPC channel, exits. */
const HELPER = `
const net = require('net');
const specs = JSON.parse(process.argv[1]);
let left = specs.length;
const fail = (i, e) => { process.send({ i, error: String(e && e.message || e) }, () => process.exit(1)); };
specs.forEach((s, i) => {
  const srv = net.createServer();
  srv.once('error', (e) => fail(i, e));
  srv.listen({ host: s.host, port: s.port, exclusive: true, backlog: 511 }, () =>
    process.send({ i }, srv, () => { srv.close(); if (--left === 0) process.disconnect(); }));
});
`;

const HELPER_TIMEOUT_MS = 10_000;

/**
 * Listening servers bound inside `ns`, one per spec, in order. They are ordinary net.Servers of this
 * process ('connection' events); closing them releases the sockets (and the namespace's reference).
 */
export function listenInNamespace(ns: string, specs: ListenSpec[]): Promise<Server[]> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // (a loader such as tsx is not needed by the helper)
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', HELPER, JSON.stringify(specs)], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env,
    });
    const servers: (Server | undefined)[] = specs.map(() => undefined);
    let stderr = '';
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (err) {
        for (const s of servers) s?.close();
        reject(err);
      } else resolve(servers as Server[]);
    };
    const timer = setTimeout(
      () => finish(new Error(`binding ${describe(specs)} in ${ns}: no answer within ${HELPER_TIMEOUT_MS} ms`)),
      HELPER_TIMEOUT_MS,
    );
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 4000) stderr += d.toString();
    });
    child.on('message', (m: { i: number; error?: string }, handle: unknown) => {
      // a handle that arrives after the answer (a failure, the time limit) is nobody's: close it,
      // or its listening socket would hold this process open
      if (done) return void (handle as Server | undefined)?.close();
      if (m.error !== undefined) return finish(new Error(`binding ${describe([specs[m.i]!])} in ${ns}: ${m.error}`));
      servers[m.i] = handle as Server;
      if (servers.every(Boolean)) finish();
    });
    child.once('error', (e) => finish(e));
    child.once('close', (code, signal) => {
      // ('close', not 'exit': it comes after the IPC channel has delivered every message and handle)
      if (!servers.every(Boolean))
        finish(new Error(`binding ${describe(specs)} in ${ns}: the helper exited (${signal ?? code}) ${stderr.trim()}`.trim()));
    });
  });
}

const describe = (specs: ListenSpec[]) =>
  specs.map((s) => (s.host.includes(':') ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`)).join(', ');
