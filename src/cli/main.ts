/**
 * `npx outbox-relay <command>`: one operator CLI. Each command lives in `src/cli/commands/<name>.ts`
 * and exports `run(args: string[]): Promise<number>` (the exit code) and a one-line `summary`.
 */
import { CliError } from './errors.js';
import { LOCAL_DIR_ENV, takeDataDirFlag } from './target.js';

const COMMANDS = ['webhooks', 'audit', 'dlq', 'replay', 'connections', 'send-close'] as const;
type CommandName = (typeof COMMANDS)[number];

interface CommandModule {
  readonly summary: string;
  run(args: string[]): Promise<number>;
}

const loaders: Record<CommandName, () => Promise<CommandModule>> = {
  webhooks: () => import('./commands/webhooks.js'),
  audit: () => import('./commands/audit.js'),
  dlq: () => import('./commands/dlq.js'),
  replay: () => import('./commands/replay.js'),
  connections: () => import('./commands/connections.js'),
  'send-close': () => import('./commands/sendClose.js'),
};

function isCommand(name: string | undefined): name is CommandName {
  return name !== undefined && (COMMANDS as readonly string[]).includes(name);
}

async function usage(): Promise<string> {
  const lines = ['Usage: outbox-relay <command> [options]', '', 'Commands:'];
  for (const name of COMMANDS) {
    const summary = await loaders[name]()
      .then((m) => m.summary)
      .catch(() => '(not available)');
    lines.push(`  ${name.padEnd(13)} ${summary}`);
  }
  lines.push(
    '',
    'Global options: --stack <name> --region <r> --profile <p> (deployed stack), --data-dir <dir> (local runtime), --json',
  );
  return lines.join('\n');
}

export async function main(rawArgs: string[]): Promise<number> {
  let argv: string[];
  try {
    const taken = takeDataDirFlag(rawArgs);
    argv = taken.args;
    // Every lookup of the local runtime reads this variable.
    if (taken.dataDir !== undefined) process.env[LOCAL_DIR_ENV] = taken.dataDir;
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    console.error(`outbox-relay: ${error.message}`);
    return error.exitCode;
  }
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(await usage());
    return name === undefined ? 1 : 0;
  }
  if (!isCommand(name)) {
    console.error(`outbox-relay: unknown command "${name}"\n\n${await usage()}`);
    return 2;
  }
  try {
    const command = await loaders[name]();
    return await command.run(rest);
  } catch (error) {
    if (error instanceof CliError) {
      console.error(`outbox-relay ${name}: ${error.message}`);
      return error.exitCode;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  },
);
