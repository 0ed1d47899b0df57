// `reach --to` on a synthetic estate of 10,000 interfaces, 2,000 groups and 50,000 rules.
import { syntheticEstate } from './engine.ts';
import { whoCanReach, type EstateView } from '../src/analysis/reach.ts';

export async function benchReach(print: (line: string) => void = console.log): Promise<void> {
  const e = syntheticEstate(10_000, 2_000, 50_000, 3);
  const view: EstateView = { policy: e.policy, instanceOf: () => undefined, primaryOf: () => undefined };
  whoCanReach(view, e.interfaces[0]!, 'tcp', 22); // warm up
  const times: number[] = [];
  let sources = 0;
  for (let i = 0; i < 40; i++) {
    // ask about a port the target's groups do open, so the answer has sources to find
    const target = e.interfaces[(i * 7919) % e.interfaces.length]!;
    const groups = e.policy.getInterface(target)!.groups;
    const open = groups.flatMap((g) => e.policy.groupRules(g)).find((r) => !r.egress && r.protocol === 'tcp');
    const t0 = performance.now();
    const a = whoCanReach(view, target, 'tcp', open?.from ?? 22);
    times.push(performance.now() - t0);
    sources += a.sources.length;
  }
  times.sort((a, b) => a - b);
  const p50 = times[20]!;
  const max = times[times.length - 1]!;
  print(
    `reach: who can reach one interface's port (10,000 interfaces, 2,000 groups, 50,000 rules): p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms over 40 queries (${(sources / 40).toFixed(0)} sources on average)  [target ≤ 100 ms] ${max <= 100 ? '✓' : '✗'}`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await benchReach();
