// The `palisade` subcommands and their flags, as data: cli.ts builds the parser (commander) from
// this table, `--help` is generated from it, and test/cli.test.ts walks it (a flag without help
// text, or missing from `--help`, fails). Nothing here runs anything; importing it is free.

/** How a flag's value is read (and checked) once the command line and the environment are merged. */
export type ValueKind = 'string' | 'int' | 'port' | 'positive';

export interface FlagDef {
  /** commander's syntax: `--port <port>`, `-o, --out <path>`, `--json` (a switch) */
  flags: string;
  help: string;
  /** the environment variable read when the flag is not given */
  env?: string;
  default?: string | number;
  choices?: readonly string[];
  kind?: ValueKind;
  required?: boolean;
}

export interface CommandDef {
  name: string;
  /** commander's argument syntax: `<instance-id>`, `[command...]` */
  args?: { syntax: string; help: string }[];
  /** one line for `palisade --help` */
  summary: string;
  /** what `palisade NAME --help` says before the flags */
  description: string;
  flags: FlagDef[];
  /** other environment variables the command reads */
  env?: { name: string; help: string }[];
  examples: string[];
  exitCodes: { code: number; meaning: string }[];
}

/** The server's defaults (src/server.ts DEFAULTS; test/cli.test.ts checks they agree). */
export const SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 4566,
  stateDir: './.palisade',
  region: 'us-east-1',
  defaultAccount: '000000000000',
  logLevel: 'info',
} as const;

export const DEFAULT_ENDPOINT = `http://127.0.0.1:${SERVER_DEFAULTS.port}`;

const endpoint: FlagDef = {
  flags: '--endpoint <url>',
  help: `the running server (else AWS_ENDPOINT_URL, else ${DEFAULT_ENDPOINT})`,
};
const json: FlagDef = { flags: '--json', help: 'print JSON instead of text' };
const account: FlagDef = { flags: '--account <id>', help: "the account whose estate is meant (default: the server's default account)" };
const scopeRegion: FlagDef = { flags: '--region <region>', help: "the region whose estate is meant (default: the server's region)" };
const protocol: FlagDef = {
  flags: '--protocol <protocol>',
  help: 'tcp, udp, icmp, icmpv6 or a protocol number',
  default: 'tcp',
};
const from: FlagDef = {
  flags: '--from <endpoint>',
  help: 'the sender: an instance id, an interface id, an IP address, or internet:IP',
  required: true,
};
const to: FlagDef = { flags: '--to <endpoint>', help: 'the receiver (same forms as --from)', required: true };
const port: FlagDef = { flags: '--port <port>', help: 'destination port (tcp and udp)', kind: 'port' };
const srcPort: FlagDef = {
  flags: '--src-port <port>',
  help: 'source port (tcp and udp; default: a fresh ephemeral port, random in 49152-65535)',
  kind: 'port',
};

/** Signing: the client subcommands sign their calls with these when they are set (`--auth verify|enforce`). */
const signing = [
  { name: 'AWS_ENDPOINT_URL', help: `the server when --endpoint is not given (default ${DEFAULT_ENDPOINT})` },
  {
    name: 'AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN',
    help: 'sign the calls (SigV4); under --auth verify|enforce the admin API answers only the root key pair',
  },
];

const clientExits = (yes: string, no: string) => [
  { code: 0, meaning: yes },
  { code: 1, meaning: no },
  { code: 2, meaning: 'usage or input error, or an error answer from the server' },
  { code: 3, meaning: 'the server could not be reached' },
];

export const COMMANDS: readonly CommandDef[] = [
  {
    name: 'start',
    summary: 'run the server',
    description: 'Runs Palisade: the AWS APIs, the admin API (/_palisade/) and the data plane on one port.',
    flags: [
      { flags: '--host <host>', help: 'address to listen on', env: 'PALISADE_HOST', default: SERVER_DEFAULTS.host },
      {
        flags: '--port <port>',
        help: 'port to listen on (0 picks a free one)',
        env: 'PALISADE_PORT',
        default: SERVER_DEFAULTS.port,
        kind: 'port',
      },
      { flags: '--state-dir <dir>', help: 'where the SQLite state lives', env: 'PALISADE_STATE_DIR', default: SERVER_DEFAULTS.stateDir },
      { flags: '--in-memory', help: 'keep state in memory only', env: 'PALISADE_IN_MEMORY' },
      {
        flags: '--region <region>',
        help: 'region of requests that carry no SigV4 scope',
        env: 'PALISADE_REGION',
        default: SERVER_DEFAULTS.region,
      },
      {
        flags: '--default-account <id>',
        help: 'account of non-numeric access keys (12 digits)',
        env: 'PALISADE_DEFAULT_ACCOUNT',
        default: SERVER_DEFAULTS.defaultAccount,
      },
      {
        flags: '--log-level <level>',
        help: 'info: one line per call; warn: operations Palisade does not implement, and problems',
        env: 'PALISADE_LOG_LEVEL',
        default: SERVER_DEFAULTS.logLevel,
        choices: ['debug', 'info', 'warn', 'error'],
      },
      {
        flags: '--log-format <format>',
        help: 'text lines, or one JSON object per line',
        env: 'PALISADE_LOG_FORMAT',
        default: 'text',
        choices: ['text', 'json'],
      },
      {
        flags: '--clock <clock>',
        help: 'virtual: time stands still until POST /_palisade/clock moves it',
        env: 'PALISADE_CLOCK',
        default: 'system',
        choices: ['system', 'virtual'],
      },
      {
        flags: '--auth <mode>',
        help: 'verify: SigV4 signatures must verify; enforce: also IAM policies',
        env: 'PALISADE_AUTH',
        default: 'open',
        choices: ['open', 'verify', 'enforce'],
      },
      {
        flags: '--dataplane <plane>',
        help: 'kernel: instances as network namespaces, security groups as nftables (Linux, root)',
        env: 'PALISADE_DATAPLANE',
        default: 'simulated',
        choices: ['simulated', 'kernel'],
      },
    ],
    env: [
      {
        name: 'PALISADE_ROOT_ACCESS_KEY_ID, PALISADE_ROOT_SECRET_ACCESS_KEY',
        help: 'the root key pair (--auth verify|enforce; else generated once)',
      },
    ],
    examples: [
      'palisade start',
      'palisade start --port 0 --in-memory --clock virtual',
      'PALISADE_LOG_FORMAT=json palisade start --log-level warn',
    ],
    exitCodes: [
      { code: 0, meaning: 'stopped by SIGINT or SIGTERM' },
      { code: 2, meaning: 'a bad flag, or the server could not start (port taken, state locked)' },
    ],
  },
  {
    name: 'probe',
    summary: 'ask whether A can open a connection to B, and why (sends nothing)',
    description:
      'Asks the data plane whether A can open a connection to B: the verdict, the hop that decided and the ' +
      'rules. Nothing is sent and no connection state changes (see `palisade send` for traffic).',
    flags: [
      from,
      to,
      port,
      protocol,
      srcPort,
      { flags: '--icmp-type <type>', help: 'ICMP type (default 8, echo request; icmpv6: 128)', kind: 'int' },
      { flags: '--icmp-code <code>', help: 'ICMP code (default 0)', kind: 'int' },
      account,
      scopeRegion,
      endpoint,
      json,
    ],
    env: signing,
    examples: [
      'palisade probe --from i-0123456789abcdef0 --to i-0fedcba9876543210 --port 5432',
      'palisade probe --from internet:198.51.100.7 --to i-0123456789abcdef0 --port 22 --json',
    ],
    exitCodes: clientExits('ACCEPT', 'REJECT'),
  },
  {
    name: 'send',
    summary: 'send real traffic from A to B through the data plane (recorded by flow logs)',
    description:
      'Opens a connection from A to B and sends packets through the data plane, one verdict per packet; ' +
      'flow logs record them. TCP: SYN, then (with --reply) SYN-ACK and ACK, then --packets data packets ' +
      'of --bytes each (each answered by B with --reply); --close ends it with FIN both ways. UDP and ' +
      'ICMP: --packets packets, the first opening the connection.',
    flags: [
      from,
      to,
      port,
      protocol,
      { flags: '--packets <n>', help: 'data packets from A to B', default: 1, kind: 'positive' },
      {
        flags: '--bytes <n>',
        help: 'bytes of each data packet as flow logs count them (packets without data count their bare headers)',
        default: 100,
        kind: 'int',
      },
      { flags: '--reply', help: 'B answers: the SYN-ACK (tcp) and one packet back per data packet' },
      { flags: '--close', help: 'close the connection at the end (FIN both ways for tcp)' },
      srcPort,
      account,
      scopeRegion,
      endpoint,
      json,
    ],
    env: signing,
    examples: [
      'palisade send --from i-0123456789abcdef0 --to i-0fedcba9876543210 --port 22 --reply --close',
      'palisade send --from internet:198.51.100.7 --to i-0123456789abcdef0 --port 443 --packets 10 --bytes 1400 --json',
    ],
    exitCodes: clientExits('every packet was accepted', 'a packet was rejected'),
  },
  {
    name: 'reach',
    summary: 'who can reach this port of TARGET, and why; or can A reach B',
    description:
      'Without --from: every source that can open that connection to TARGET (internet ranges, interfaces), ' +
      'with the rules that let it through. With --from: yes or no, the rules on the path or the gate that ' +
      'blocks and the change that would open it; without --port, the open TCP/UDP port ranges.',
    flags: [
      { flags: '--to <target>', help: 'the instance or interface to reach', required: true },
      { flags: '--from <source>', help: 'the source (instance, interface, IP, internet:IP)' },
      { flags: '--port <port>', help: 'destination port', kind: 'port' },
      protocol,
      endpoint,
      { flags: '--state <path>', help: 'an imported estate (palisade import) instead of a server' },
      json,
    ],
    env: signing,
    examples: [
      'palisade reach --to i-0123456789abcdef0 --port 22',
      'palisade reach --from i-0123456789abcdef0 --to i-0fedcba9876543210',
      'palisade reach --state estate.json --to i-0123456789abcdef0 --port 443 --json',
    ],
    exitCodes: clientExits('reachable (and every answer without --from)', 'not reachable'),
  },
  {
    name: 'exec',
    args: [
      { syntax: '<instance-id>', help: "the instance to run as ('internet': the internet's namespace, kernel data plane)" },
      { syntax: '<command...>', help: 'the command and its arguments (after --)' },
    ],
    summary: "run a command as an instance (its role's credentials from its metadata service)",
    description:
      "Runs CMD as that instance: AWS_EC2_METADATA_SERVICE_ENDPOINT points at the instance's own metadata " +
      "service, AWS_ENDPOINT_URL at Palisade, AWS_REGION at the instance's region, and static keys, " +
      "profiles and credential files are removed from its environment. CMD's exit code is passed through. " +
      "Against a server started with --dataplane kernel (run as root) CMD runs inside the instance's network " +
      'namespace instead: the metadata service is at 169.254.169.254 there (no metadata variable is set) and ' +
      "AWS_ENDPOINT_URL is Palisade's API inside the namespace, http://169.254.169.253:4566; " +
      "'palisade exec internet -- CMD' runs in the internet's namespace.",
    flags: [endpoint],
    env: signing,
    examples: [
      'palisade exec i-0123456789abcdef0 -- aws sts get-caller-identity',
      'palisade exec internet -- curl -s http://198.51.100.7/',
    ],
    exitCodes: [
      { code: 0, meaning: "the command's own exit code is passed through" },
      { code: 2, meaning: 'usage error, or the server refused (no such instance)' },
      { code: 3, meaning: 'the server could not be reached' },
    ],
  },
  {
    name: 'trail',
    summary: 'recent CloudTrail events of the server, newest first',
    description: 'Recent CloudTrail management events of the server (LookupEvents), newest first, as a table or JSON.',
    flags: [
      endpoint,
      { flags: '--since <time>', help: 'events after this: a duration (90s, 15m, 2h, 7d, 1w) or an ISO time' },
      { flags: '--event-name <name>', help: 'only this event (e.g. AuthorizeSecurityGroupIngress)' },
      { flags: '--user <name>', help: 'only the calls of this user name' },
      json,
      { flags: '--region <region>', help: 'the region whose events are meant (default AWS_REGION, AWS_DEFAULT_REGION, else us-east-1)' },
      { flags: '--max <n>', help: 'at most this many events', default: 50, kind: 'positive' },
    ],
    env: [...signing, { name: 'AWS_REGION, AWS_DEFAULT_REGION', help: 'the region when --region is not given' }],
    examples: ['palisade trail --since 15m', 'palisade trail --event-name RevokeSecurityGroupIngress --json'],
    exitCodes: clientExits('done', '(not used)').filter((e) => e.code !== 1),
  },
  {
    name: 'audit',
    summary: 'best-practice findings over a server or an exported estate (table, JSON, SARIF)',
    description:
      "Checks an estate's security groups, instances and instance roles (SSH/RDP and sensitive ports open to " +
      'the internet, default groups with rules, unused and stale groups, redundant rules, IMDSv2, wildcard ' +
      'roles…) with Security Hub / CIS control ids.',
    flags: [
      { flags: '--endpoint <url>', help: `audit a running server through its API (else AWS_ENDPOINT_URL, else ${DEFAULT_ENDPOINT})` },
      { flags: '--state <path>', help: 'audit a state file from `palisade import`, a folder of aws CLI exports, or one export' },
      {
        flags: '--format <format>',
        help: 'table, json or sarif (SARIF 2.1.0 for GitHub code scanning)',
        default: 'table',
        choices: ['table', 'json', 'sarif'],
      },
      { flags: '-o, --output <file>', help: 'write the report to this file instead of standard output' },
      {
        flags: '--fail-on <severity>',
        help: 'exit 1 when a finding of this severity or worse exists',
        choices: ['critical', 'high', 'medium', 'low', 'informational'],
      },
      { flags: '--config <file>', help: 'suppressions, naming convention, thresholds (JSON)' },
      { flags: '--region <region>', help: 'region of the live estate (default AWS_REGION, else us-east-1)' },
      { flags: '--show-suppressed', help: 'list suppressed findings too (table and json)' },
    ],
    env: [...signing, { name: 'AWS_REGION', help: 'the region of the live estate when --region is not given' }],
    examples: [
      'palisade audit',
      'palisade audit --state estate.json --format sarif --output palisade.sarif',
      'palisade audit --fail-on high',
    ],
    exitCodes: [
      { code: 0, meaning: 'no finding at or above --fail-on' },
      { code: 1, meaning: 'a finding at or above --fail-on exists' },
      { code: 2, meaning: 'usage or input error (a bad export or configuration, named with its file and field)' },
      { code: 3, meaning: 'the server could not be reached' },
    ],
  },
  {
    name: 'import',
    args: [{ syntax: '<path>', help: 'a folder of aws CLI exports, or one export file' }],
    summary: 'aws CLI describe-* exports → one state file for audit/reach --state',
    description:
      'Reads the JSON printed by the aws CLI (describe-security-groups, describe-network-interfaces, ' +
      'describe-instances, describe-vpcs, describe-subnets, describe-managed-prefix-lists with ' +
      'get-managed-prefix-list-entries as prefix-list-entries/pl-ID.json, optionally ' +
      'describe-security-group-rules, the routing exports and iam get-account-authorization-details), ' +
      'one file per call, named after the call without its verb or recognised by its top-level key, ' +
      'checks all of it, and saves one state file. Bad exports are refused with the file and field named.',
    flags: [{ flags: '-o, --out <path>', help: 'the state file to write', default: 'palisade-state.json' }],
    examples: ['palisade import estate --out estate.json'],
    // 1 on bad exports, as audit (test/audit.test.ts); to become 2 when audit is converted
    exitCodes: [
      { code: 0, meaning: 'imported' },
      { code: 2, meaning: 'usage error, or the exports have problems (each named with its file and field); nothing is written' },
    ],
  },
];

export function commandDef(name: string): CommandDef {
  const c = COMMANDS.find((x) => x.name === name);
  if (!c) throw new Error(`no command ${name}`);
  return c;
}

/** `--state-dir <dir>` → `stateDir` (commander's attribute name for a flag). */
export function attributeOf(flags: string): string {
  const long = /--([\w-]+)/.exec(flags)![1]!;
  return long.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
}
