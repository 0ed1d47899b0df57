// Terraform against a real Palisade: the AWS provider from the local filesystem mirror (no
// internet), a CLI config pointing at it, and apply / plan / destroy of a configuration in a
// working directory of its own. The provider's plugin cache is shared between runs (init is the
// slow part). Fails — does not skip — when terraform or the mirror is missing: CI has both.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** A whole apply of a module-sized configuration takes seconds; this only stops a hang. */
const DEADLINE_MS = 300_000;

/** The folder holding `registry.terraform.io/hashicorp/aws` (PALISADE_TF_MIRROR, else the usual places). */
export function providerMirror(): string {
  const candidates = [
    process.env.PALISADE_TF_MIRROR,
    '/opt/tf-plugins',
    '/usr/share/terraform/plugins',
    join(process.env.HOME ?? '/root', '.terraform.d', 'plugins'),
  ];
  for (const c of candidates) if (c && existsSync(join(c, 'registry.terraform.io', 'hashicorp', 'aws'))) return c;
  throw new Error(
    `the Terraform AWS provider mirror was not found (looked in ${candidates.filter(Boolean).join(', ')}; set PALISADE_TF_MIRROR)`,
  );
}

/** The provider version the mirror holds (5.100.0 on CI). */
export function providerVersion(mirror = providerMirror()): string {
  const versions = readdirSync(join(mirror, 'registry.terraform.io', 'hashicorp', 'aws')).sort();
  if (!versions.length) throw new Error(`no version of the AWS provider in ${mirror}`);
  return versions[versions.length - 1]!;
}

let shared: { cliConfig: string; pluginCache: string } | undefined;
function cliConfig(): { cliConfig: string; pluginCache: string } {
  if (shared) return shared;
  const dir = mkdtempSync(join(tmpdir(), 'palisade-tf-'));
  const pluginCache = join(dir, 'plugin-cache');
  mkdirSync(pluginCache);
  const file = join(dir, 'cli.tfrc');
  writeFileSync(
    file,
    `plugin_cache_dir = "${pluginCache}"
provider_installation {
  filesystem_mirror {
    path    = "${providerMirror()}"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct { exclude = ["registry.terraform.io/hashicorp/aws"] }
}
`,
  );
  return (shared = { cliConfig: file, pluginCache });
}

/** The provider block of a configuration aimed at Palisade at `url` (as the README documents it). */
export function providerBlock(url: string, region = 'us-east-1'): string {
  const services = ['ec2', 'iam', 'sts', 's3', 'cloudwatchlogs', 'cloudtrail'];
  return `terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "${providerVersion()}" }
  }
}

provider "aws" {
  region                      = "${region}"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
  endpoints {
${services.map((s) => `    ${s} = "${url}"`).join('\n')}
  }
}
`;
}

export interface TerraformResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A working directory with one configuration, and the terraform commands over it. */
export class TerraformDir {
  readonly dir: string;

  constructor(
    name: string,
    hcl: string,
    private readonly env: NodeJS.ProcessEnv = {},
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `palisade-tf-${name}-`));
    writeFileSync(join(this.dir, 'main.tf'), hcl);
  }

  async tf(...args: string[]): Promise<TerraformResult> {
    const { cliConfig: file, pluginCache } = cliConfig();
    try {
      const { stdout, stderr } = await run('terraform', [...args, '-no-color'], {
        cwd: this.dir,
        timeout: DEADLINE_MS,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
        env: {
          ...process.env,
          TF_CLI_CONFIG_FILE: file,
          TF_PLUGIN_CACHE_DIR: pluginCache,
          TF_IN_AUTOMATION: '1',
          CHECKPOINT_DISABLE: '1',
          ...this.env,
        },
      });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const x = e as { code?: number | string; stdout?: string; stderr?: string; message: string };
      if (typeof x.code !== 'number') throw new Error(`terraform ${args[0]} did not finish: ${x.message}`, { cause: e });
      return { code: x.code, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
    }
  }

  /** init, then apply; throws with terraform's error text when either fails. */
  async apply(): Promise<TerraformResult> {
    await this.ok('init', '-input=false');
    return this.ok('apply', '-auto-approve', '-input=false');
  }

  /** plan -detailed-exitcode: 0 no changes, 2 drift (with the plan's text), 1 error. */
  plan(): Promise<TerraformResult> {
    return this.tf('plan', '-detailed-exitcode', '-input=false');
  }

  destroy(): Promise<TerraformResult> {
    return this.ok('destroy', '-auto-approve', '-input=false');
  }

  async output(): Promise<Record<string, { value: unknown }>> {
    const r = await this.ok('output', '-json');
    return JSON.parse(r.stdout) as Record<string, { value: unknown }>;
  }

  private async ok(...args: string[]): Promise<TerraformResult> {
    const r = await this.tf(...args);
    if (r.code !== 0) throw new Error(`terraform ${args[0]} failed (exit ${r.code}):\n${r.stderr || r.stdout}`);
    return r;
  }
}
