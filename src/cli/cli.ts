// The `palisade` command line: the parser (parser.ts, from the table in commands.ts) and each
// subcommand's handler. Handlers load what they need when they run (the server only for
// `start`), so a client command starts quickly.
import { CommanderError, type Command } from 'commander';
import type { CommandDef } from './commands.ts';
import { EXIT, UsageError, exitCodeOf } from './errors.ts';
import { FINE, buildProgram, processIo, switchesFromEnv, type Io, type Opts } from './parser.ts';
import { endpointOf } from './signed-fetch.ts';

export { endpointOf };

/** What a subcommand gets: its flags' values and its arguments. */
type Handler = (opts: Opts, args: string[]) => Promise<number | undefined>;

const str = (v: unknown) => (v === undefined ? undefined : String(v));

const HANDLERS: Record<string, Handler> = {
  async start(o) {
    const { start } = await import('./start.ts');
    await start(o);
    return undefined;
  },
  async probe(o) {
    const { runProbe } = await import('./traffic.ts');
    return runProbe(endpointOf(str(o.endpoint)), {
      from: String(o.from),
      to: String(o.to),
      protocol: String(o.protocol),
      port: o.port as number | undefined,
      srcPort: o.srcPort as number | undefined,
      icmpType: o.icmpType as number | undefined,
      icmpCode: o.icmpCode as number | undefined,
      account: str(o.account),
      region: str(o.region),
      json: !!o.json,
    });
  },
  async send(o) {
    const { runSend } = await import('./traffic.ts');
    return runSend(endpointOf(str(o.endpoint)), {
      from: String(o.from),
      to: String(o.to),
      protocol: String(o.protocol),
      port: o.port as number | undefined,
      srcPort: o.srcPort as number | undefined,
      packets: o.packets as number,
      bytes: o.bytes as number,
      reply: !!o.reply,
      close: !!o.close,
      account: str(o.account),
      region: str(o.region),
      json: !!o.json,
    });
  },
  async reach(o) {
    if (o.endpoint !== undefined && o.state !== undefined) throw new UsageError('give --endpoint or --state, not both');
    return (await import('./reach.ts')).reach({
      to: String(o.to),
      ...(o.from !== undefined ? { from: String(o.from) } : {}),
      ...(o.port !== undefined ? { port: o.port as number } : {}),
      protocol: str(o.protocol) ?? 'tcp',
      endpoint: endpointOf(str(o.endpoint)),
      ...(o.state !== undefined ? { state: String(o.state) } : {}),
      json: !!o.json,
    });
  },
  async audit(o) {
    if (o.endpoint !== undefined && o.state !== undefined) throw new UsageError('give --endpoint or --state, not both');
    return (await import('./audit.ts')).runAudit({
      ...(o.endpoint !== undefined ? { endpoint: endpointOf(str(o.endpoint)) } : {}),
      ...(o.state !== undefined ? { state: String(o.state) } : {}),
      format: (str(o.format) ?? 'table') as 'table' | 'json' | 'sarif',
      ...(o.output !== undefined ? { output: String(o.output) } : {}),
      ...(o.failOn !== undefined ? { failOn: String(o.failOn) } : {}),
      ...(o.config !== undefined ? { config: String(o.config) } : {}),
      ...(o.region !== undefined ? { region: String(o.region) } : {}),
      showSuppressed: !!o.showSuppressed,
    });
  },
  async exec(o, args) {
    const [instanceId, ...command] = args;
    if (!command.length) throw new UsageError('the command to run is missing: palisade exec INSTANCE-ID -- CMD [ARGS...]');
    const { runExec } = await import('./exec.ts');
    return runExec(endpointOf(str(o.endpoint)), instanceId!, command);
  },
  async trail(o) {
    const { runTrail } = await import('./trail.ts');
    return runTrail({
      endpoint: endpointOf(str(o.endpoint)),
      since: str(o.since),
      eventName: str(o.eventName),
      user: str(o.user),
      json: !!o.json,
      region: str(o.region),
      max: o.max as number,
    });
  },
  // a property, not a method: the minified `import(` of a method named import would read as a
  // dynamic import() to the build's check
  import: async (o, args) => {
    const { runImport } = await import('./import.ts');
    return runImport(args[0]!, String(o.out));
  },
};

export async function runCli(argv: string[], io: Io = processIo): Promise<number | undefined> {
  // An empty PALISADE_* variable means "not set" (commander would take '' as the value).
  for (const k of Object.keys(process.env)) if (k.startsWith('PALISADE_') && process.env[k] === '') delete process.env[k];
  if (argv.length === 0) argv = ['--help'];
  let result: number | undefined = EXIT.ok;
  let current: { def: CommandDef; cmd: Command } | undefined;
  const program = buildProgram(io, async (def, cmd, args) => {
    current = { def, cmd };
    const opts: Opts = cmd.opts();
    switchesFromEnv(def, opts);
    result = await HANDLERS[def.name]!(opts, args);
  });
  if (argv[0] === 'audit' && argv.some((a) => a === '--help' || a === '-h')) await auditChecksHelp(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return result;
  } catch (e) {
    if (e instanceof CommanderError) return FINE.has(e.code) ? EXIT.ok : EXIT.usage;
    if (e instanceof UsageError && current) io.err(`palisade ${current.def.name}: ${e.message}\n\n${current.cmd.helpInformation()}`);
    else io.err(`palisade: ${(e as Error).message}\n`);
    return exitCodeOf(e);
  }
}

/** `palisade audit --help` also lists the checks (loaded only for that). */
async function auditChecksHelp(program: Command): Promise<void> {
  const { CHECKS } = await import('../analysis/findings/index.ts');
  const width = Math.max(...CHECKS.map((c) => c.id.length));
  const list = CHECKS.map(
    (c) => `  ${c.id.padEnd(width)}  ${c.severity.padEnd(8)}  ${c.title}${c.controls.length ? ` (${c.controls.join(', ')})` : ''}`,
  ).join('\n');
  program.commands
    .find((c) => c.name() === 'audit')!
    .addHelpText('after', `\nChecks (id, severity, what; Security Hub / CIS controls):\n${list}\n`);
}
