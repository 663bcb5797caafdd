/**
 * `npx outbox-relay <command>`: one operator CLI. Each command lives in `src/cli/commands/<name>.ts`
 * and exports `run(args)` (resolving to the exit code), a one-line `summary`, its `usage` text and
 * the words and options shell completion offers.
 *
 * Conventions: global options (`--stack`, `--region`, `--profile`, `--output`, `--json`, `--help`)
 * go anywhere on the line; `help <command>`, `<command> --help` and `--version`; "did you mean";
 * one-line errors (exit 1 for failures, 2 for usage errors); a closed stdout (`| head`) ends quietly.
 */
import { readFileSync } from 'node:fs';
import { CliError, describeUnreachable } from './errors.js';
import { currentTargetDescription } from './ops/context.js';
import { endProgress } from './ops/output.js';
import { COMMANDS, type CommandName, loaders } from './registry.js';
import { didYouMean } from './suggest.js';
import { LOCAL_DIR_ENV, takeDataDirFlag } from './target.js';

/** Global options that take a value (the others are flags). */
const GLOBAL_WITH_VALUE = new Set(['--stack', '--region', '--profile', '--output']);
const GLOBAL_FLAGS = new Set(['--json', '--help', '-h', '--version', '-V']);
const ALL_GLOBALS = [...GLOBAL_WITH_VALUE, ...GLOBAL_FLAGS].filter((o) => o.startsWith('--'));

function isCommand(name: string | undefined): name is CommandName {
  return name !== undefined && (COMMANDS as readonly string[]).includes(name);
}

export function version(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const value = typeof pkg === 'object' && pkg !== null ? Reflect.get(pkg, 'version') : undefined;
  return typeof value === 'string' ? value : 'unknown';
}

async function usage(): Promise<string> {
  const lines = ['Usage: outbox-relay <command> [options]', '', 'Commands:'];
  for (const name of COMMANDS) {
    const summary = await loaders[name]()
      .then((m) => m.summary)
      .catch(() => '(not available)');
    lines.push(`  ${name.padEnd(12)} ${summary}`);
  }
  lines.push(
    '',
    'Global options (anywhere on the line):',
    '  --stack <name>   act on a deployed stack (default: $OUTBOX_RELAY_STACK, else the local runtime)',
    '  --region <r>, --profile <p>   AWS region and profile for --stack',
    '  --data-dir <dir> the local runtime whose endpoints.json is in <dir> (default: .local/)',
    '  --output table|json|jsonl     (--json is --output json)',
    '  --help, -h       help for a command (also: outbox-relay help <command>)',
    '  --version        the CLI version',
    '',
    'The local runtime is found through .local/endpoints.json here or in a parent up to the package root',
    '(or $OUTBOX_RELAY_LOCAL_DIR). Exit codes: 0 ok, 1 failure or attention needed, 2 usage error.',
  );
  return lines.join('\n');
}

/** Splits argv into the command name and everything else (global options stay, in place). */
export function findCommand(argv: readonly string[]): { name: string | undefined; rest: string[] } {
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--') break;
    if (GLOBAL_WITH_VALUE.has(arg)) {
      i += 1;
      continue;
    }
    if (arg.startsWith('-')) {
      const bare = arg.split('=')[0] ?? arg;
      if (GLOBAL_FLAGS.has(bare) || GLOBAL_WITH_VALUE.has(bare)) continue;
      throw new CliError(`unknown option ${bare} before the command${didYouMean(bare, ALL_GLOBALS)}`, 2);
    }
    return { name: arg, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { name: undefined, rest: [...argv] };
}

const wantsHelp = (args: readonly string[]) => args.some((a) => a === '--help' || a === '-h');

export async function main(rawArgs: string[]): Promise<number> {
  let name: string | undefined;
  try {
    const taken = takeDataDirFlag(rawArgs);
    const argv = taken.args;
    // Every lookup of the local runtime reads this variable.
    if (taken.dataDir !== undefined) process.env[LOCAL_DIR_ENV] = taken.dataDir;
    const found = findCommand(argv);
    name = found.name;
    const rest = found.rest;
    if (name === undefined) {
      if (rest.includes('--version') || rest.includes('-V')) {
        console.log(version());
        return 0;
      }
      if (wantsHelp(rest)) {
        console.log(await usage());
        return 0;
      }
      console.error(await usage());
      return 2;
    }
    if (name === 'help') {
      const topic = rest.find((a) => !a.startsWith('-'));
      if (topic === undefined) {
        console.log(await usage());
        return 0;
      }
      if (!isCommand(topic))
        throw new CliError(`no command "${topic}"${didYouMean(topic, COMMANDS)}; see "outbox-relay help"`, 2);
      console.log((await loaders[topic]()).usage);
      return 0;
    }
    if (!isCommand(name)) {
      throw new CliError(
        `unknown command "${name}"${didYouMean(name, COMMANDS)}; see "outbox-relay help"`,
        2,
      );
    }
    const command = await loaders[name]();
    if (wantsHelp(rest)) {
      console.log(command.usage);
      return 0;
    }
    if (rest.includes('--version')) {
      console.log(version());
      return 0;
    }
    return await command.run(rest);
  } catch (error) {
    const prefix = `outbox-relay${name && isCommand(name) ? ` ${name}` : ''}`;
    if (error instanceof CliError) {
      console.error(`${prefix}: ${error.message}`);
      return error.exitCode;
    }
    const unreachable = describeUnreachable(error, currentTargetDescription());
    if (unreachable) {
      console.error(`${prefix}: ${unreachable}`);
      return 1;
    }
    if (process.env.OUTBOX_RELAY_DEBUG) console.error(error);
    else
      console.error(
        `${prefix}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)} (OUTBOX_RELAY_DEBUG=1 shows the stack)`,
      );
    return 1;
  } finally {
    endProgress();
  }
}

// `outbox-relay … | head`: the reader went away; stop quietly instead of an EPIPE stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  },
);
