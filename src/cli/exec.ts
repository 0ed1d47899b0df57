// `palisade exec INSTANCE-ID -- CMD [ARGS…]`: runs a command as that instance — the SDK's default
// credential chain finds the instance's role credentials at its own metadata service.
//
// Against a server on the simulated data plane the command runs here, with
// AWS_EC2_METADATA_SERVICE_ENDPOINT pointing at the instance's metadata listener on 127.0.0.1.
// Against `--dataplane kernel` (the server answers `GET /_palisade/kernel`) it runs inside the
// instance's network namespace (`ip netns exec NS`, so as root): the metadata service is at
// 169.254.169.254 there, as on EC2, so no metadata variable is set at all, and Palisade's API is at
// http://169.254.169.253:4566 (src/kernel/imds-namespaces.ts). `palisade exec internet -- CMD`
// runs in the internet's namespace. The command's exit code is passed through either way.
import { loadPackage } from '../core/lazy.ts';
import { adminCall, signedFetch } from './signed-fetch.ts';
import { InputError } from './errors.ts';

/** Credentials and settings of the caller's environment the command must not see. */
const REMOVED = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE',
];

/** What `GET /_palisade/kernel/exec/TARGET` answers (src/admin-api/kernel-exec-routes.ts). */
interface KernelTarget {
  namespace: string;
  endpoint: string;
  account: string;
  region: string;
}

export async function runExec(endpoint: string, instanceId: string, command: string[]): Promise<number> {
  if (await kernelDataplane(endpoint)) return runInNamespace(endpoint, instanceId, command);
  if (instanceId === 'internet')
    throw new InputError(`palisade exec internet needs a server on the kernel data plane (palisade start --dataplane kernel)`);
  const body = await adminCall<{ endpoint: string; region: string }>(endpoint, 'POST', `/_palisade/imds/${encodeURIComponent(instanceId)}`);
  const env = instanceEnv(body.region);
  env.AWS_EC2_METADATA_SERVICE_ENDPOINT = body.endpoint;
  env.AWS_ENDPOINT_URL = endpoint;
  const [cmd, ...cmdArgs] = command;
  return spawnPassing(cmd!, cmdArgs, env, cmd!);
}

/** Whether the server runs the kernel data plane (`GET /_palisade/kernel` answers; 404 otherwise). */
async function kernelDataplane(endpoint: string): Promise<boolean> {
  const res = await signedFetch(endpoint, { method: 'GET', path: '/_palisade/kernel' });
  await res.text();
  return res.ok;
}

async function runInNamespace(endpoint: string, target: string, command: string[]): Promise<number> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0)
    throw new InputError(
      `the server runs the kernel data plane: palisade exec runs ${target === 'internet' ? 'in the internet' : 'in the instance'}'s ` +
        'network namespace (ip netns exec), which needs root on the server’s machine: run it as root',
    );
  const t = await adminCall<KernelTarget>(endpoint, 'GET', `/_palisade/kernel/exec/${encodeURIComponent(target)}`);
  // An instance has only its metadata service; "the internet" is the caller's own machine, keys and all.
  const env = target === 'internet' ? { AWS_REGION: t.region, AWS_DEFAULT_REGION: t.region, ...process.env } : instanceEnv(t.region);
  // The metadata service is where EC2 has it (169.254.169.254 inside the namespace): no variable.
  delete env.AWS_EC2_METADATA_SERVICE_ENDPOINT;
  // Palisade's API as the namespace reaches it (the host's address is not routed there).
  env.AWS_ENDPOINT_URL = t.endpoint;
  const [cmd, ...cmdArgs] = command;
  // (ip netns exec answers a missing command with its own exit code 1: say it as a shell does)
  if (!onPath(cmd!, env.PATH)) throw Object.assign(new Error(`${cmd}: command not found`), { exitCode: 127 });
  return spawnPassing('ip', ['netns', 'exec', t.namespace, cmd!, ...cmdArgs], env, cmd!);
}

/** Whether `cmd` names an executable file (a path, or a name found on PATH). */
function onPath(cmd: string, path: string | undefined): boolean {
  const { accessSync, statSync, constants } = loadPackage<typeof import('node:fs')>('node:fs');
  const ok = (f: string) => {
    try {
      accessSync(f, constants.X_OK);
      return statSync(f).isFile();
    } catch {
      return false;
    }
  };
  if (cmd.includes('/')) return ok(cmd);
  return (path ?? '').split(':').some((d) => d && ok(`${d}/${cmd}`));
}

/** The caller's environment without its credentials, with the instance's region. */
function instanceEnv(region: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of REMOVED) delete env[k];
  env.AWS_REGION = region;
  env.AWS_DEFAULT_REGION = region;
  // No shared config or credential files: the instance has only its metadata service.
  env.AWS_CONFIG_FILE = '/dev/null';
  env.AWS_SHARED_CREDENTIALS_FILE = '/dev/null';
  return env;
}

/** Runs the command with the terminal, resolving with its exit code (128 + n for a signal). */
function spawnPassing(file: string, args: string[], env: NodeJS.ProcessEnv, name: string): Promise<number> {
  const { spawn } = loadPackage<typeof import('node:child_process')>('node:child_process');
  const { constants } = loadPackage<typeof import('node:os')>('node:os');
  return new Promise((resolveExit, reject) => {
    const child = spawn(file, args, { env, stdio: 'inherit' });
    child.once('error', (e: Error & { code?: string }) =>
      reject(e.code === 'ENOENT' ? Object.assign(new Error(`${name}: command not found`), { exitCode: 127 }) : e),
    );
    child.once('exit', (code, signal) => resolveExit(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1)));
  });
}
