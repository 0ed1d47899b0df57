// The parser of the `palisade` command line: a commander program built from the table of
// subcommands (commands.ts) — usage, `--help`, `--version`, unknown flags and commands with
// "did you mean", values from flags, environment or defaults, all checked the same way.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { COMMANDS, DEFAULT_ENDPOINT, attributeOf, type CommandDef, type FlagDef, type ValueKind } from './commands.ts';
import { UsageError } from './errors.ts';
import { packageVersion } from './version.ts';

export type Opts = Record<string, unknown>;

/** Checks (and converts) a flag's value: from the command line and from the environment alike. */
function parserOf(kind: ValueKind | undefined): ((v: string) => unknown) | undefined {
  const int = (v: string, what: string, ok: (n: number) => boolean) => {
    const n = /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || !ok(n)) throw new InvalidArgumentError(`${what} expected.`);
    return n;
  };
  switch (kind) {
    case 'int':
      return (v) => int(v, 'A whole number ≥ 0', (n) => n >= 0);
    case 'positive':
      return (v) => int(v, 'A whole number ≥ 1', (n) => n >= 1);
    case 'port':
      return (v) => int(v, 'A port number (0-65535)', (n) => n <= 65535);
    default:
      return undefined;
  }
}

/** A switch read from the environment: 1/true/yes turn it on, 0/false/no/empty leave it off. */
export function envSwitch(name: string): boolean | undefined {
  const v = process.env[name]?.trim().toLowerCase();
  if (v === undefined || v === '') return undefined;
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new UsageError(`${name}='${process.env[name]}': 1 or 0 expected`);
}

function optionOf(f: FlagDef): Option {
  const o = new Option(f.flags, f.help);
  const isSwitch = !/[<[]/.test(f.flags);
  if (f.env && !isSwitch) o.env(f.env);
  if (f.env && isSwitch) o.description = `${f.help} (env: ${f.env}=1)`;
  if (f.choices) o.choices(f.choices);
  const parse = parserOf(f.kind);
  if (parse) o.argParser(parse);
  if (f.default !== undefined) o.default(f.default);
  if (f.required) o.makeOptionMandatory();
  return o;
}

function helpAfter(def: CommandDef): string {
  const lines: string[] = [];
  const env = def.env ?? [];
  if (env.length) lines.push('', 'Environment:', ...env.map((e) => `  ${e.name}\n      ${e.help}`));
  lines.push('', 'Exit codes:', ...def.exitCodes.map((e) => `  ${e.code}  ${e.meaning}`));
  lines.push('', 'Examples:', ...def.examples.map((e) => `  $ ${e}`));
  return lines.join('\n') + '\n';
}

const MAIN_HELP = `
Exit codes: 0 done (ACCEPT, reachable), 1 the answer is no (REJECT, not reachable), 2 usage or
input error, 3 the server could not be reached. \`palisade COMMAND --help\` for a command's flags.
The server of the client commands: --endpoint, else AWS_ENDPOINT_URL, else ${DEFAULT_ENDPOINT}.
`;

export interface Io {
  out(s: string): void;
  err(s: string): void;
}
export const processIo: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

/** The parser, with every subcommand of the table; `run` receives the chosen one. */
export function buildProgram(
  io: Io = processIo,
  run: (def: CommandDef, cmd: Command, args: string[]) => Promise<void> = async () => {},
): Command {
  const program = new Command('palisade')
    .description('A local cloud for EC2 security groups and networking that really enforces the rules.')
    .version(packageVersion(), '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .exitOverride()
    .showHelpAfterError()
    .showSuggestionAfterError()
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: (text, write) => write(plainError(text)) })
    .addHelpText('after', MAIN_HELP);
  for (const def of COMMANDS) {
    const cmd = program.command(def.name).summary(def.summary).description(def.description);
    for (const a of def.args ?? []) cmd.argument(a.syntax, a.help);
    for (const f of def.flags) cmd.addOption(optionOf(f));
    cmd.addHelpText('after', helpAfter(def));
    cmd.action(async (...params: unknown[]) => {
      const c = params[params.length - 1] as Command;
      await run(def, c, c.args);
    });
  }
  return program;
}

/** commander's "option '--max <n>' argument '0' is invalid. A whole number ≥ 1 expected." as "invalid --max '0': …" */
function plainError(text: string): string {
  return text.replace(/option '(-[\w-]+(?:, )?)*?(--[\w-]+)[^']*' argument '([^']*)' is invalid\. /, "invalid $2 '$3': ");
}

/**
 * A subcommand's arguments parsed as the command line parses them, for callers of a subcommand's
 * function (tests): its flags' values, or a UsageError with the parser's message.
 */
export async function parseCommand(name: string, args: string[]): Promise<Opts> {
  let opts: Opts | undefined;
  let message = '';
  const program = buildProgram({ out: () => {}, err: (s) => (message ||= s) }, async (def, cmd) => {
    if (def.name === name) opts = cmd.opts();
  });
  try {
    await program.parseAsync([name, ...args], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError)
      throw new UsageError(
        plainError(message || e.message)
          .replace(/^error: /, '')
          .trim(),
      );
    throw e;
  }
  if (!opts) throw new UsageError(`no command ${name}`);
  return opts;
}

/** Commander's own outcomes that are not errors. */
export const FINE = new Set(['commander.helpDisplayed', 'commander.version', 'commander.help']);

/** A switch's value from its environment variable, where the command line did not set it. */
export function switchesFromEnv(def: CommandDef, opts: Opts): void {
  for (const f of def.flags) {
    const key = attributeOf(f.flags);
    if (f.env && !/[<[]/.test(f.flags) && opts[key] === undefined) {
      const on = envSwitch(f.env);
      if (on !== undefined) opts[key] = on;
    }
  }
}
