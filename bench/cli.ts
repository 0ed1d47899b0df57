// The command line's round trip: spawn `palisade probe` / `palisade reach` (the built
// bin/palisade.js) against a running server → exit, wall time, median of several runs. What a
// user waits for at each command; Node's own start (`node -e 0`) is given for reference.
import { execFile, execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { auth, post, spawnServer } from './lib.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'palisade.js');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timed(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [bin, ...args], { env }, (e) => {
      // probe exits 1 on REJECT: a verdict, not a failure
      if (e && typeof e.code !== 'number') reject(e);
      else if (e && e.code !== 1) reject(e);
      else resolve(performance.now() - t0);
    });
  });
}

export async function benchCli(print: (line: string) => void = console.log, runs = 7): Promise<void> {
  const server = await spawnServer();
  try {
    const launched = await post(`${server.url}/`, 'Action=RunInstances&ImageId=ami-12345678&MinCount=1&MaxCount=1&Version=2016-11-15', {
      authorization: auth('ec2'),
    });
    const instance = /<instanceId>(i-[0-9a-f]+)<\/instanceId>/.exec(launched.body)?.[1];
    if (!instance) throw new Error(`RunInstances failed: ${launched.body.slice(0, 200)}`);
    const clean: NodeJS.ProcessEnv = { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' };
    delete clean.NODE_EXTRA_CA_CERTS;
    const envs: [string, NodeJS.ProcessEnv][] = process.env.NODE_EXTRA_CA_CERTS
      ? [
          ['', clean],
          [' (NODE_EXTRA_CA_CERTS set, as in this environment)', { ...clean, NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS }],
        ]
      : [['', clean]];
    const commands: [string, string[]][] = [
      ['probe', ['probe', '--endpoint', server.url, '--from', 'internet:198.51.100.7', '--to', instance, '--port', '22']],
      ['reach', ['reach', '--endpoint', server.url, '--to', instance, '--port', '22']],
    ];
    for (const [label, env] of envs) {
      const bare: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        execFileSync(process.execPath, ['-e', '0'], { env });
        bare.push(performance.now() - t);
      }
      for (const [name, args] of commands) {
        await timed(args, env); // warm the page cache
        const xs: number[] = [];
        for (let i = 0; i < runs; i++) xs.push(await timed(args, env));
        const m = median(xs);
        print(
          `cli${label}: palisade ${name} against a running server, spawn → exit: ${m.toFixed(1)} ms  (median of ${runs}: ${xs.map((x) => x.toFixed(0)).join(', ')})  [target ≤ 150 ms] ${m <= 150 ? '✓' : '✗'}`,
        );
      }
      print(`cli${label}: for reference, \`node -e 0\` takes ${median(bare).toFixed(1)} ms here`);
    }
  } finally {
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchCli();
