import { parseArgs } from 'node:util';
import { loadPackage } from '../core/lazy.ts';
import { DEFAULTS, startServer } from '../server.ts';
import type { ServerConfig } from '../core/context.ts';

const USAGE = `Usage: palisade <command> [options]

Commands:
  start     run the server
    --host HOST             address to listen on (PALISADE_HOST, default 127.0.0.1)
    --port PORT             port to listen on; 0 picks a free one (PALISADE_PORT, default 4566)
    --state-dir DIR         where state lives (PALISADE_STATE_DIR, default ./.palisade)
    --in-memory             keep state in memory only (PALISADE_IN_MEMORY=1)
    --region REGION         region of unsigned requests (PALISADE_REGION, default us-east-1)
    --default-account ID    account of non-numeric access keys (PALISADE_DEFAULT_ACCOUNT, default 000000000000)
    --log-level LEVEL       debug|info|warn|error (PALISADE_LOG_LEVEL, default info)
    --clock system|virtual  virtual: time moves only by POST /_palisade/clock (PALISADE_CLOCK)
    --auth open|verify|enforce  signature checking and IAM enforcement (PALISADE_AUTH, default open)
  exec INSTANCE-ID [--endpoint URL] -- CMD [ARGS…]
            run CMD as that instance: AWS_EC2_METADATA_SERVICE_ENDPOINT points at the
            instance's metadata service, AWS_ENDPOINT_URL at Palisade, static keys removed;
            exits with CMD's exit code
  probe --from A --to B [--port P] [--protocol tcp|udp|icmp|icmpv6|N] [--endpoint URL] [--json]
            asks the data plane whether A can open a connection to B, and why (A and B: instance id,
            interface id, IP, or internet:IP); exit code 0 when accepted, 1 when rejected
  trail [--endpoint URL] [--since DURATION|ISO] [--event-name NAME] [--user NAME] [--json] [--region R] [--max N]
            recent CloudTrail events of the server, newest first (--since 15m, 2h, 7d or an ISO time)
  audit [--endpoint URL | --state PATH] [--format table|json|sarif] [--fail-on SEVERITY] [--config FILE]
            security-group, instance and instance-role findings with Security Hub / CIS control ids;
            exit code 2 when a finding at or above --fail-on exists, 1 on bad input (audit --help)
  import DIR|FILE [--out PATH]
            aws CLI describe-* exports → one state file for audit --state (import --help)
  reach --to TARGET [--from SOURCE] [--port P] [--protocol P] [--endpoint URL | --state PATH] [--json]
            without --from: every source (internet ranges, interfaces) that can open that connection,
            with the rules; with --from: yes/no, the rules or the blocking gate and the fix
            (exit 0 reachable, 1 not)
  help      show this text

The endpoint of a running server: --endpoint, else AWS_ENDPOINT_URL, else http://127.0.0.1:4566.
`;

function env(name: string): string | undefined {
  const v = process.env[`PALISADE_${name}`];
  return v === undefined || v === '' ? undefined : v;
}

export async function runCli(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return start(rest);
    case 'exec':
      return exec(rest);
    case 'probe':
      return probe(rest);
    case 'reach':
      return (await import('./reach.ts')).reach(rest, endpointOf);
    case 'audit':
      return (await import('./audit.ts')).runAudit(rest);
    case 'import':
      return (await import('./import.ts')).runImport(rest);
    case 'trail':
      return (await import('./trail.ts')).trail(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`palisade: unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}

async function start(args: string[]): Promise<undefined> {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'state-dir': { type: 'string' },
      'in-memory': { type: 'boolean' },
      region: { type: 'string' },
      'default-account': { type: 'string' },
      'log-level': { type: 'string' },
      clock: { type: 'string' },
      auth: { type: 'string' },
    },
  });
  const inMemory = values['in-memory'] ?? ['1', 'true'].includes(env('IN_MEMORY') ?? '');
  const port = Number(values.port ?? env('PORT') ?? DEFAULTS.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port '${values.port ?? env('PORT')}'`);
  const logLevel = (values['log-level'] ?? env('LOG_LEVEL') ?? DEFAULTS.logLevel) as ServerConfig['logLevel'];
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new Error(`invalid log level '${logLevel}'`);
  const account = values['default-account'] ?? env('DEFAULT_ACCOUNT') ?? DEFAULTS.defaultAccount;
  if (!/^\d{12}$/.test(account)) throw new Error(`invalid account id '${account}': 12 digits expected`);
  const config: ServerConfig = {
    host: values.host ?? env('HOST') ?? DEFAULTS.host,
    port,
    stateDir: inMemory ? null : (values['state-dir'] ?? env('STATE_DIR') ?? DEFAULTS.stateDir),
    region: values.region ?? env('REGION') ?? DEFAULTS.region,
    defaultAccount: account,
    logLevel,
    clock: (values.clock ?? env('CLOCK') ?? 'system') as ServerConfig['clock'],
    auth: (values.auth ?? env('AUTH') ?? 'open') as ServerConfig['auth'],
  };
  if (!['open', 'verify', 'enforce'].includes(config.auth!)) throw new Error(`invalid auth mode '${config.auth}': open, verify or enforce`);
  if (config.clock !== 'system' && config.clock !== 'virtual') throw new Error(`invalid clock '${config.clock}': system or virtual`);
  const server = await startServer(config);
  let banner = `Palisade listening on ${server.url} (state: ${config.stateDir ?? 'in memory'}, auth: ${config.auth})\n`;
  if (config.auth !== 'open') {
    const root = server.gateway.rootKey();
    if (root.generated) {
      banner +=
        `Root credentials of account ${config.defaultAccount} (shown once, kept in the state):\n` +
        `export AWS_ACCESS_KEY_ID=${root.accessKeyId} AWS_SECRET_ACCESS_KEY=${root.secretAccessKey}\n`;
    }
  }
  process.stdout.write(`${banner}export AWS_ENDPOINT_URL=${server.url}\n`);
  const stop = () => {
    server.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return undefined;
}

export function endpointOf(flag: string | undefined): string {
  return (flag ?? process.env.AWS_ENDPOINT_URL ?? `http://127.0.0.1:${DEFAULTS.port}`).replace(/\/$/, '');
}

async function exec(args: string[]): Promise<number> {
  const dash = args.indexOf('--');
  if (dash < 0 || dash === args.length - 1) throw new Error('usage: palisade exec INSTANCE-ID [--endpoint URL] -- CMD [ARGS...]');
  const { values, positionals } = parseArgs({
    args: args.slice(0, dash),
    options: { endpoint: { type: 'string' } },
    allowPositionals: true,
  });
  const instanceId = positionals[0];
  if (!instanceId) throw new Error('an instance id is required');
  const endpoint = endpointOf(values.endpoint);
  const { adminCall } = await import('./signed-fetch.ts');
  const body = await adminCall<{ endpoint: string; region: string }>(endpoint, 'POST', `/_palisade/imds/${encodeURIComponent(instanceId)}`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of [
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
  ])
    delete env[k];
  env.AWS_EC2_METADATA_SERVICE_ENDPOINT = body.endpoint;
  env.AWS_ENDPOINT_URL = endpoint;
  env.AWS_REGION = body.region;
  env.AWS_DEFAULT_REGION = body.region;
  // No shared config or credential files: the instance has only its metadata service.
  env.AWS_CONFIG_FILE = '/dev/null';
  env.AWS_SHARED_CREDENTIALS_FILE = '/dev/null';
  const { spawn } = loadPackage<typeof import('node:child_process')>('node:child_process');
  const [cmd, ...cmdArgs] = args.slice(dash + 1);
  return new Promise((resolveExit, reject) => {
    const child = spawn(cmd!, cmdArgs, { env, stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolveExit(code ?? (signal ? 128 : 1)));
  });
}

async function probe(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      port: { type: 'string' },
      protocol: { type: 'string' },
      'icmp-type': { type: 'string' },
      'icmp-code': { type: 'string' },
      endpoint: { type: 'string' },
      json: { type: 'boolean' },
      account: { type: 'string' },
      region: { type: 'string' },
    },
  });
  if (!values.from || !values.to) throw new Error('usage: palisade probe --from A --to B [--port P] [--protocol tcp|udp|icmp|N]');
  const protocol = values.protocol ?? 'tcp';
  const flow: Record<string, unknown> = { from: values.from, to: values.to, protocol };
  if (values.port !== undefined) flow.port = Number(values.port);
  if (values['icmp-type'] !== undefined) flow.icmpType = Number(values['icmp-type']);
  if (values['icmp-code'] !== undefined) flow.icmpCode = Number(values['icmp-code']);
  const { adminCall } = await import('./signed-fetch.ts');
  const body = await adminCall<{ results: Record<string, unknown>[] }>(endpointOf(values.endpoint), 'POST', '/_palisade/network/evaluate', {
    flows: [flow],
    ...(values.account ? { account: values.account } : {}),
    ...(values.region ? { region: values.region } : {}),
  });
  const r = body.results[0];
  if (!r) throw new Error('the server answered no verdict');
  if (r.error) throw new Error(String(r.error));
  if (values.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  else {
    process.stdout.write(`${r.verdict}  ${values.from} → ${values.to} ${protocol}${values.port !== undefined ? '/' + values.port : ''}\n`);
    process.stdout.write(`  ${r.explanation ?? r.reason ?? ''}\n`);
  }
  return r.verdict === 'ACCEPT' ? 0 : 1;
}
