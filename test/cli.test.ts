// The `palisade` command line as a user runs it: the built bin/palisade.js (`node scripts/build.mjs`)
// as a child process. Every subcommand's --help names all its flags (walked from the table the
// parser is built from), --version, unknown flags and commands, exit codes; `send` drives real
// packets that flow logs deliver to CloudWatch Logs and S3; `probe` after a closed connection is
// judged by the rules; an unreachable server is named; the server's log lines; and the packed
// tarball installs globally and runs from another folder.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateFlowLogsCommand,
  CreateSecurityGroupCommand,
  DescribeInstancesCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { COMMANDS, SERVER_DEFAULTS } from '../src/cli/commands.ts';
import { DEFAULTS, type Palisade } from '../src/server.ts';
import { CREDS, ec2, start } from './helpers/server.ts';
import { CHILD_DEADLINE_MS } from './helpers/run.ts';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'palisade.js');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end: exit code and output, whatever the code. */
function run(file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        cwd: opts.cwd ?? ROOT,
        env: opts.env ?? { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_ENDPOINT_URL: '' },
        timeout: opts.timeout ?? CHILD_DEADLINE_MS,
        killSignal: 'SIGKILL',
        maxBuffer: 16 << 20,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
const palisade = (...args: string[]) => run(process.execPath, [BIN, ...args]);

/** `--state-dir <dir>` → `--state-dir` */
const longFlag = (flags: string) => /--[\w-]+/.exec(flags)![0];

describe('palisade --help, --version and usage errors', () => {
  it('every subcommand answers --help with exit 0, naming each of its flags, their environment variables and its examples', async () => {
    const answers = await Promise.all(COMMANDS.map((c) => palisade(c.name, '--help')));
    COMMANDS.forEach((c, i) => {
      const r = answers[i]!;
      assert.equal(r.code, 0, `${c.name} --help: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: palisade ${c.name} `), c.name);
      for (const f of c.flags) {
        assert.ok(f.help.trim().length > 10, `${c.name} ${f.flags} has help text`);
        assert.ok(r.stdout.includes(longFlag(f.flags)), `${c.name} --help names ${longFlag(f.flags)}`);
        if (f.env) assert.ok(r.stdout.includes(f.env), `${c.name} --help names ${f.env}`);
      }
      for (const e of c.env ?? []) assert.ok(r.stdout.includes(e.name), `${c.name} --help names ${e.name}`);
      assert.ok(c.examples.length > 0 && c.examples.every((x) => r.stdout.includes(x)), `${c.name} --help has its examples`);
      assert.match(r.stdout, /Exit codes:/);
    });
    const short = await palisade('send', '-h');
    assert.equal(short.code, 0);
    assert.match(short.stdout, /^Usage: palisade send /);
    const main = await palisade('--help');
    assert.equal(main.code, 0);
    for (const c of COMMANDS) assert.match(main.stdout, new RegExp(`^  ${c.name} `, 'm'), `palisade --help lists ${c.name}`);
    const help = await palisade('help', 'probe');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--src-port <port>/);
  });

  it('the table says what the server does by default', () => {
    assert.deepEqual(
      { ...SERVER_DEFAULTS },
      {
        host: DEFAULTS.host,
        port: DEFAULTS.port,
        stateDir: DEFAULTS.stateDir,
        region: DEFAULTS.region,
        defaultAccount: DEFAULTS.defaultAccount,
        logLevel: DEFAULTS.logLevel,
      },
    );
  });

  it('--version prints the package version', async () => {
    for (const flag of ['--version', '-v']) {
      const r = await palisade(flag);
      assert.equal(r.code, 0);
      assert.equal(r.stdout.trim(), VERSION);
    }
  });

  it('an unknown flag or command: exit 2, "did you mean" and the usage', async () => {
    const flag = await palisade('start', '--prot', '4567');
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /unknown option '--prot'/);
    assert.match(flag.stderr, /Did you mean --port\?/);
    assert.match(flag.stderr, /Usage: palisade start \[options\]/);
    assert.match(flag.stderr, /--state-dir <dir>/);
    const cmd = await palisade('strat');
    assert.equal(cmd.code, 2);
    assert.match(cmd.stderr, /unknown command 'strat'/);
    assert.match(cmd.stderr, /Did you mean start\?/);
    const value = await palisade('probe', '--from', 'a', '--to', 'b', '--port', 'http');
    assert.equal(value.code, 2);
    assert.match(value.stderr, /invalid --port 'http': A port number \(0-65535\) expected/);
    const missing = await palisade('send', '--to', 'i-0123456789abcdef0');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /required option '--from <endpoint>' not specified/);
    const choice = await palisade('start', '--log-format', 'yaml');
    assert.equal(choice.code, 2);
    assert.match(choice.stderr, /Allowed choices are text, json/);
    // reach and audit parse their own arguments, but their flags are the table's
    const reach = await palisade('reach', '--to', 'i-0123456789abcdef0', '--protocl', 'tcp');
    assert.equal(reach.code, 2);
    assert.match(reach.stderr, /Did you mean --protocol\?/);
  });

  it('an unreachable server: exit 3 and a message naming the URL', async () => {
    const url = 'http://127.0.0.1:9';
    for (const args of [
      ['probe', '--endpoint', url, '--from', 'internet:198.51.100.7', '--to', 'i-0123456789abcdef0', '--port', '22'],
      ['send', '--endpoint', url, '--from', 'internet:198.51.100.7', '--to', 'i-0123456789abcdef0', '--port', '22'],
      ['trail', '--endpoint', url],
      ['reach', '--endpoint', url, '--to', 'i-0123456789abcdef0'],
      ['audit', '--endpoint', url],
    ]) {
      const r = await palisade(...args);
      assert.equal(r.code, 3, `${args[0]}: ${r.stderr}`);
      assert.match(
        r.stderr,
        /^palisade: cannot reach the Palisade server at http:\/\/127\.0\.0\.1:9: is the server running\? \(`palisade start`\)/,
      );
    }
    const env = await run(process.execPath, [BIN, 'trail'], {
      env: { ...process.env, AWS_ENDPOINT_URL: url, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' },
    });
    assert.equal(env.code, 3);
    assert.match(env.stderr, /at http:\/\/127\.0\.0\.1:9:/, 'AWS_ENDPOINT_URL is the server');
  });
});

/** Resolves once the stream has printed a line matching re. */
function waitFor(stream: NodeJS.ReadableStream, re: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer) => {
      seen += d.toString();
      const m = re.exec(seen);
      if (m) {
        stream.off('data', onData);
        resolve(m);
      }
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`ended without ${re}: ${seen}`)));
  });
}

describe('palisade send: real traffic that flow logs record; probe after it is judged by the rules', () => {
  let server: Palisade;
  let client: EC2Client;
  let sgB: string;
  let sgA: string;
  const hosts: { id: string; eni: string; ip: string }[] = [];
  const T0 = 1_700_000_400_000 + 30_000; // 30 s into a 10-minute window
  const clock = (body: unknown) =>
    fetch(`${server.url}/_palisade/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  before(async () => {
    server = await start({ clock: 'virtual' });
    assert.equal((await clock({ epochMillis: T0 })).status, 200);
    client = ec2(server.url);
    sgA = (await client.send(new CreateSecurityGroupCommand({ GroupName: 'client', Description: 'client' }))).GroupId!;
    sgB = (await client.send(new CreateSecurityGroupCommand({ GroupName: 'ssh', Description: 'ssh from client' }))).GroupId!;
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: sgB,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, UserIdGroupPairs: [{ GroupId: sgA }] }],
      }),
    );
    for (const sg of [sgA, sgB]) {
      const id = (await client.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1, SecurityGroupIds: [sg] })))
        .Instances![0]!.InstanceId!;
      const n = (await client.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!
        .NetworkInterfaces![0]!;
      hosts.push({ id, eni: n.NetworkInterfaceId!, ip: n.PrivateIpAddress! });
    }
    const vpcId = (await client.send(new DescribeInstancesCommand({ InstanceIds: [hosts[0]!.id] }))).Reservations![0]!.Instances![0]!
      .VpcId!;
    await new S3Client({ endpoint: server.url, region: 'us-east-1', credentials: CREDS, forcePathStyle: true, maxAttempts: 1 }).send(
      new CreateBucketCommand({ Bucket: 'cli-flows' }),
    );
    for (const dest of [
      { LogGroupName: '/cli/flows', DeliverLogsPermissionArn: 'arn:aws:iam::000000000000:role/flow-logs' },
      { LogDestinationType: 's3' as const, LogDestination: 'arn:aws:s3:::cli-flows' },
    ]) {
      const r = await client.send(new CreateFlowLogsCommand({ ResourceType: 'VPC', ResourceIds: [vpcId], TrafficType: 'ALL', ...dest }));
      assert.deepEqual(r.Unsuccessful, []);
    }
  });
  after(async () => server.close());

  it('sends SSH from A to B (handshake, data, close), one verdict per packet; flow logs deliver it to CloudWatch Logs and S3', async () => {
    const [a, b] = hosts as [(typeof hosts)[0], (typeof hosts)[0]];
    const sent = await palisade(
      'send',
      '--endpoint',
      server.url,
      '--from',
      a.id,
      '--to',
      b.id,
      '--port',
      '22',
      '--reply',
      '--close',
      '--packets',
      '2',
      '--bytes',
      '500',
      '--src-port',
      '49152',
      '--json',
    );
    assert.equal(sent.code, 0, sent.stderr);
    const packets = JSON.parse(sent.stdout) as { direction: string; flags: string[]; bytes: number; verdict: string }[];
    assert.deepEqual(
      packets.map((p) => `${p.direction} ${p.flags.join(',')} ${p.bytes} ${p.verdict}`),
      [
        'forward SYN 0 ACCEPT',
        'reply SYN,ACK 0 ACCEPT',
        'forward ACK 0 ACCEPT',
        'forward ACK,PSH 500 ACCEPT',
        'reply ACK 500 ACCEPT',
        'forward ACK,PSH 500 ACCEPT',
        'reply ACK 500 ACCEPT',
        'forward FIN,ACK 0 ACCEPT',
        'reply FIN,ACK 0 ACCEPT',
      ],
    );
    const text = await palisade('send', '--endpoint', server.url, '--from', a.id, '--to', b.id, '--port', '23');
    assert.equal(text.code, 1, 'a rejected packet: exit 1');
    assert.match(
      text.stdout,
      new RegExp(`^#1 REJECT ${a.id}:\\d+ → ${b.id}:23 SYN +headers  rejected by the ingress gate of ${b.eni}`, 'm'),
    );

    // The window closes on the server's clock: both destinations get the records.
    assert.equal((await clock({ advanceSeconds: 600 })).status, 200);
    const logs = new CloudWatchLogsClient({ endpoint: server.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
    const events = (await logs.send(new FilterLogEventsCommand({ logGroupName: '/cli/flows', logStreamNames: [b.eni] }))).events!;
    const forward = events.find((e) => e.message!.includes(` ${a.ip} ${b.ip} 49152 22 6 `));
    assert.ok(forward, events.map((e) => e.message).join('\n'));
    // SYN, ACK, 2 data, FIN: 5 packets, 40+40+500+500+40 bytes (a packet without data: its bare headers)
    assert.match(forward.message!, / 49152 22 6 5 1120 \d+ \d+ ACCEPT OK$/);
    assert.ok(
      events.some((e) => / 23 6 2 140 \d+ \d+ REJECT OK$/.test(e.message!)),
      'the rejected SYN and data packet',
    );
    const s3 = new S3Client({ endpoint: server.url, region: 'us-east-1', credentials: CREDS, forcePathStyle: true, maxAttempts: 1 });
    const keys = (await s3.send(new ListObjectsV2Command({ Bucket: 'cli-flows', Prefix: 'AWSLogs/' }))).Contents!.map((o) => o.Key!);
    assert.ok(keys.length > 0);
    let records = '';
    for (const Key of keys) {
      const o = await s3.send(new GetObjectCommand({ Bucket: 'cli-flows', Key }));
      records += gunzipSync(Buffer.from(await o.Body!.transformToByteArray())).toString();
    }
    assert.match(
      records,
      new RegExp(`${b.eni} ${a.ip.replace(/\./g, '\\.')} ${b.ip.replace(/\./g, '\\.')} 49152 22 6 5 1120 \\d+ \\d+ ACCEPT OK`),
    );
  });

  it('probe right after a closed connection is judged by the rules (a fresh source port), not the old tracking entry', async () => {
    const [a, b] = hosts as [(typeof hosts)[0], (typeof hosts)[0]];
    await clock({ epochMillis: T0 + 3_600_000 });
    const sent = await palisade(
      'send',
      '--endpoint',
      server.url,
      '--from',
      a.id,
      '--to',
      b.id,
      '--port',
      '22',
      '--reply',
      '--close',
      '--src-port',
      '50000',
    );
    assert.equal(sent.code, 0, sent.stdout + sent.stderr);
    await client.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: sgB,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, UserIdGroupPairs: [{ GroupId: sgA }] }],
      }),
    );
    const probe = await palisade('probe', '--endpoint', server.url, '--from', a.id, '--to', b.id, '--port', '22');
    assert.equal(probe.code, 1, probe.stdout + probe.stderr);
    assert.match(probe.stdout, /^REJECT .*\(source port (\d+)\)/);
    assert.match(probe.stdout, new RegExp(`rejected by the ingress gate of ${b.eni}: no rule of its security groups matches`));
    // the closing connection's 5-tuple is still tracked: that is what probe used to ask about
    const old = await palisade(
      'probe',
      '--endpoint',
      server.url,
      '--from',
      a.id,
      '--to',
      b.id,
      '--port',
      '22',
      '--src-port',
      '50000',
      '--json',
    );
    assert.equal(old.code, 0, old.stdout + old.stderr);
    assert.match(JSON.parse(old.stdout).explanation, /a tracked connection/);
  });

  it('a missing resource is named', async () => {
    const r = await palisade('probe', '--endpoint', server.url, '--from', hosts[0]!.id, '--to', 'i-0000000000000000f', '--port', '22');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^palisade: The instance ID 'i-0000000000000000f' does not exist/);
  });
});

describe('the server log', () => {
  it('one info line per call, a warn for an operation Palisade does not implement; JSON with --log-format json', async () => {
    const child = spawn(process.execPath, [BIN, 'start', '--port', '0', '--in-memory', '--log-format', 'json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const [, url] = await waitFor(child.stdout, /export AWS_ENDPOINT_URL=(\S+)/);
      const lines = waitFor(child.stderr, /(.*\n){2}/);
      const call = (action: string) =>
        fetch(`${url}/`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `AWS4-HMAC-SHA256 Credential=111122223333/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00`,
          },
          body: `Action=${action}&Version=2016-11-15`,
        });
      assert.equal((await call('DescribeVpcs')).status, 200);
      assert.equal((await call('DescribeFleets')).status, 400);
      const [first, second] = (await lines)[0]
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(
        { ...first, time: undefined, durationMs: undefined, requestId: undefined },
        {
          level: 'info',
          time: undefined,
          msg: first!.msg,
          service: 'ec2',
          operation: 'DescribeVpcs',
          status: 200,
          durationMs: undefined,
          account: '111122223333',
          requestId: undefined,
        },
      );
      assert.equal(typeof first!.durationMs, 'number');
      assert.match(String(first!.time), /^\d{4}-\d\d-\d\dT/);
      assert.equal(second!.level, 'warn');
      assert.equal(second!.operation, 'DescribeFleets');
      assert.equal(second!.code, 'InvalidAction');
      assert.match(String(second!.msg), /ec2\.DescribeFleets is not implemented by Palisade/);
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe('npm pack → a global install that runs from any folder', () => {
  // The tarball is packed without its lifecycle scripts (the build already made dist/, and
  // rebuilding it here would race other test files reading it) and installed with --ignore-scripts
  // plus the checkout's compiled better-sqlite3 binding (same Node, same machine): building it
  // from source takes 1-2 minutes of both CPUs. Everything else is what a user's install gets:
  // the files the package ships, the dependencies it declares (no devDependencies), its bin link.
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-install-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(
    'installs with npm install -g --prefix and answers palisade --version and start from another folder',
    { timeout: 300_000 },
    async () => {
      const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
      const env = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
      const packed = await run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { env });
      assert.equal(packed.code, 0, packed.stderr);
      const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
      const files = info!.files.map((f) => f.path);
      for (const f of ['bin/palisade.js', 'dist/palisade.cjs', 'dist/models/ec2.json', 'package.json']) assert.ok(files.includes(f), f);
      assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('test/')), 'sources and tests stay out');
      const prefix = join(dir, 'prefix');
      const installed = await run(
        npm,
        ['install', '-g', join(dir, info!.filename), '--prefix', prefix, '--prefer-offline', '--ignore-scripts', '--omit=dev'],
        { env },
      );
      assert.equal(installed.code, 0, installed.stderr);
      const pkg = join(prefix, 'lib', 'node_modules', 'palisade');
      assert.ok(!existsSync(join(pkg, 'node_modules', 'typescript')), 'no devDependencies');
      const binding = join('build', 'Release', 'better_sqlite3.node');
      mkdirSync(join(pkg, 'node_modules', 'better-sqlite3', 'build', 'Release'), { recursive: true });
      cpSync(join(ROOT, 'node_modules', 'better-sqlite3', binding), join(pkg, 'node_modules', 'better-sqlite3', binding));

      const elsewhere = join(dir, 'elsewhere');
      mkdirSync(elsewhere);
      const palisadeBin = join(prefix, 'bin', 'palisade');
      const version = await run(palisadeBin, ['--version'], { cwd: elsewhere });
      assert.equal(version.code, 0, version.stderr);
      assert.equal(version.stdout.trim(), VERSION);

      for (const args of [
        ['start', '--port', '0', '--in-memory'],
        ['start', '--port', '0'],
      ]) {
        const child = spawn(palisadeBin, args, { cwd: elsewhere, stdio: ['ignore', 'pipe', 'pipe'] });
        try {
          const [, url] = await waitFor(child.stdout, /export AWS_ENDPOINT_URL=(\S+)/);
          const logged = waitFor(child.stderr, /info: ec2\.DescribeSecurityGroups 200/);
          const res = await fetch(`${url}/`, {
            method: 'POST',
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              authorization: `AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00`,
            },
            body: 'Action=DescribeSecurityGroups&Version=2016-11-15',
          });
          assert.equal(res.status, 200);
          await logged; // pino, a runtime dependency, was found in the install
        } finally {
          child.kill('SIGTERM');
          await new Promise((r) => child.once('exit', r));
        }
      }
      assert.ok(readdirSync(join(elsewhere, '.palisade')).includes('state.db'), 'the state is in ./.palisade of the folder it ran in');
    },
  );
});
