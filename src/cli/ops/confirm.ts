/**
 * Asking before something wide and irreversible. `--yes` answers for scripts; without a terminal
 * to ask on and without `--yes`, the command refuses (a pipeline must not hang on a prompt, nor
 * close every tenant's connections because nobody was there to say no).
 */
import { createInterface } from 'node:readline/promises';
import { CliError } from '../errors.js';

export async function confirm(question: string, options: { yes: boolean; what: string }): Promise<void> {
  if (options.yes) return;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new CliError(
      `${options.what}: not confirmed. There is no terminal to ask on; pass --yes to confirm (or --dry-run to see what it would do)`,
      2,
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${question} [y/N] `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes')
      throw new CliError(`${options.what}: not confirmed; nothing done`, 1);
  } finally {
    rl.close();
  }
}
