// Starts a real Palisade server on a free port (in memory unless a state dir is given) and
// builds real AWS SDK clients pointed at it.
import { EC2Client } from '@aws-sdk/client-ec2';
import { startServer, type Palisade } from '../../src/server.ts';
import type { ServerConfig } from '../../src/core/context.ts';
import { createLogger } from '../../src/core/log.ts';

// The AWS SDK v3 warns (process.emitWarning, once per copy of @aws-sdk/core, and the clients
// carry several) that its releases after January 2027 need Node 22: not the tests' business.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const CREDS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

export async function start(config: Partial<ServerConfig> = {}): Promise<Palisade> {
  return startServer({ port: 0, stateDir: null, logLevel: 'error', ...config }, { logger: createLogger('error') });
}

export function ec2(url: string, opts: { region?: string; accessKeyId?: string } = {}): EC2Client {
  return new EC2Client({
    endpoint: url,
    region: opts.region ?? 'us-east-1',
    credentials: { ...CREDS, accessKeyId: opts.accessKeyId ?? CREDS.accessKeyId },
    maxAttempts: 1,
  });
}

/** Runs fn and returns the AWS error it throws (fails if it does not throw). */
export async function awsError(fn: () => Promise<unknown>): Promise<{ name: string; message: string; status: number }> {
  try {
    await fn();
  } catch (e) {
    const x = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: x.name, message: x.message, status: x.$metadata?.httpStatusCode ?? 0 };
  }
  throw new Error('expected an AWS error, but the call succeeded');
}
