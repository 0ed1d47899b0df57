// `palisade exec INSTANCE-ID -- CMD [ARGS…]`: runs a command as that instance — the SDK's default
// credential chain finds the instance's role credentials at its own metadata service.
import { loadPackage } from '../core/lazy.ts';
import { adminCall } from './signed-fetch.ts';

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

export async function runExec(endpoint: string, instanceId: string, command: string[]): Promise<number> {
  const body = await adminCall<{ endpoint: string; region: string }>(endpoint, 'POST', `/_palisade/imds/${encodeURIComponent(instanceId)}`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of REMOVED) delete env[k];
  env.AWS_EC2_METADATA_SERVICE_ENDPOINT = body.endpoint;
  env.AWS_ENDPOINT_URL = endpoint;
  env.AWS_REGION = body.region;
  env.AWS_DEFAULT_REGION = body.region;
  // No shared config or credential files: the instance has only its metadata service.
  env.AWS_CONFIG_FILE = '/dev/null';
  env.AWS_SHARED_CREDENTIALS_FILE = '/dev/null';
  const { spawn } = loadPackage<typeof import('node:child_process')>('node:child_process');
  const [cmd, ...cmdArgs] = command;
  return new Promise((resolveExit, reject) => {
    const child = spawn(cmd!, cmdArgs, { env, stdio: 'inherit' });
    child.once('error', (e: Error & { code?: string }) =>
      reject(e.code === 'ENOENT' ? Object.assign(new Error(`${cmd}: command not found`), { exitCode: 127 }) : e),
    );
    child.once('exit', (code, signal) => resolveExit(code ?? (signal ? 128 : 1)));
  });
}
