// `palisade import DIR|FILE [--out PATH]`: aws CLI exports → one Palisade state file. Also the
// progress bar the import and audit commands share.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { ImportError, importExports, saveSnapshot } from '../analysis/import.ts';
import type { AuditSnapshot } from '../analysis/findings/estate.ts';

const IMPORT_USAGE = `Usage: palisade import DIR|FILE [--out PATH]
  Reads the JSON printed by the aws CLI — describe-security-groups, describe-network-interfaces,
  describe-instances, describe-vpcs, describe-subnets, describe-managed-prefix-lists (with
  get-managed-prefix-list-entries as prefix-list-entries/pl-ID.json), optionally
  describe-security-group-rules, and iam get-account-authorization-details — one file per call,
  named after the call without its verb (security-groups.json, instances.json, …) or recognised
  by its top-level key, checks all of it, and saves one state file for \`palisade audit --state\`.
  --out PATH   the state file to write (default palisade-state.json)
`;

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

export async function runImport(args: string[]): Promise<number> {
  let values: { out?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: { out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    }));
  } catch (e) {
    process.stderr.write(`palisade import: ${(e as Error).message}\n${IMPORT_USAGE}`);
    return 1;
  }
  if (values.help) {
    process.stdout.write(IMPORT_USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    process.stderr.write(`palisade import: give one folder or file of exports\n${IMPORT_USAGE}`);
    return 1;
  }
  const progress = new Progress('importing');
  try {
    const snapshot = await importExports(positionals[0]!, { onProgress: progress.update });
    progress.end();
    const out = resolve(values.out ?? 'palisade-state.json');
    await saveSnapshot(snapshot, out);
    process.stdout.write(`Imported ${describeSnapshot(snapshot)} from ${positionals[0]}\nWrote ${out}\n`);
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
      return 1;
    }
    process.stderr.write(`palisade import: ${(e as Error).message}\n`);
    return 1;
  }
}
