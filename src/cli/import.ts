// `palisade import DIR|FILE [--out PATH]`: aws CLI exports → one Palisade state file. Also the
// progress bar the import and audit commands share.
import { resolve } from 'node:path';
import { ImportError, importExports, saveSnapshot } from '../analysis/import.ts';
import type { AuditSnapshot } from '../analysis/findings/estate.ts';

/** A progress bar on stderr: only on a terminal, and only once the work has taken a second. */
export class Progress {
  private readonly start = Date.now();
  private last = 0;
  private shown = false;
  constructor(
    private readonly what: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  readonly update = (done: number, total: number, label: string): void => {
    if (!this.stream.isTTY) return;
    const now = Date.now();
    if (now - this.start < 1000 || now - this.last < 100) return;
    this.last = now;
    this.shown = true;
    const width = 30;
    const share = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(share * width);
    const cols = this.width();
    const line = `${this.what} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}% ${label}`;
    this.stream.write(`\r${line.slice(0, cols - 1).padEnd(Math.min(cols - 1, line.length + 10))}`);
  };

  end(): void {
    if (this.shown) this.stream.write(`\r${' '.repeat(this.width() - 1)}\r`);
    this.shown = false;
  }

  private width(): number {
    const c = this.stream.columns;
    return c && c > 20 ? c : 80;
  }
}

export function describeSnapshot(s: AuditSnapshot): string {
  let rules = 0;
  for (const g of s.securityGroups) {
    for (const p of [...(g.IpPermissions ?? []), ...(g.IpPermissionsEgress ?? [])]) {
      rules += (p.IpRanges?.length ?? 0) + (p.Ipv6Ranges?.length ?? 0) + (p.PrefixListIds?.length ?? 0) + (p.UserIdGroupPairs?.length ?? 0);
    }
  }
  const parts = [
    `${s.securityGroups.length} security groups (${rules} rules)`,
    `${s.networkInterfaces.length} network interfaces`,
    `${s.instances.length} instances`,
    `${s.vpcs.length} VPCs`,
    `${s.subnets.length} subnets`,
    `${s.prefixLists.length} prefix lists`,
  ];
  if (s.iam) parts.push(`${s.iam.roles.length} IAM roles`, `${s.iam.policies.length} managed policies`);
  return parts.join(', ');
}

/** Imports the exports at `path` into the state file `outFile`. Exit 2 when the exports have problems (nothing written). */
export async function runImport(path: string, outFile: string): Promise<number> {
  const progress = new Progress('importing');
  try {
    const snapshot = await importExports(path, { onProgress: progress.update });
    progress.end();
    const out = resolve(outFile);
    await saveSnapshot(snapshot, out);
    process.stdout.write(`Imported ${describeSnapshot(snapshot)} from ${path}\nWrote ${out}\n`);
    return 0;
  } catch (e) {
    progress.end();
    if (e instanceof ImportError) {
      process.stderr.write(
        `palisade import: the exports have problems; nothing was imported:\n${e.message
          .split('\n')
          .map((l) => `  ${l}`)
          .join('\n')}\n`,
      );
      return 2;
    }
    process.stderr.write(`palisade import: ${(e as Error).message}\n`);
    return 2;
  }
}
