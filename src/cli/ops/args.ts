/** Argument parsing shared by the operator commands: node's `parseArgs` with clear one-line errors. */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { assertName, InvalidNameError, type NameKind } from '../../core/names.js';
import { CliError } from '../errors.js';
import { didYouMean } from '../suggest.js';
import { OUTPUT_FORMATS, type OutputFormat } from './output.js';

/**
 * Options every command accepts, in any position: where to act (`--stack/--region/--profile`),
 * the output format (`--output`, `--json`) and `--help`.
 */
export const TARGET_OPTIONS = {
  stack: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  json: { type: 'boolean', default: false },
  output: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

/** Names of the global options (for completion and "did you mean"). */
export const GLOBAL_OPTION_NAMES: readonly string[] = Object.keys(TARGET_OPTIONS);

export function parseCommandArgs<const O extends NonNullable<ParseArgsConfig['options']>>(
  args: readonly string[],
  options: O,
) {
  const all = { ...TARGET_OPTIONS, ...options };
  try {
    return parseArgs({ args: [...args], options: all, allowPositionals: true, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // node: "Unknown option '--limt'. To specify a positional argument starting with a '-', …"
    const unknown = /Unknown option '(-{1,2})([^']+)'/.exec(message);
    if (unknown) {
      throw new CliError(
        `unknown option ${unknown[1]}${unknown[2]}${didYouMean(unknown[2] ?? '', Object.keys(all), '--')}`,
        2,
      );
    }
    throw new CliError(message.split('. ')[0] ?? message, 2);
  }
}

/**
 * Refuse options the chosen subcommand does not use (parseArgs accepts every option of the
 * command), so `webhooks list --url x` is an error rather than silently ignored.
 */
export function refuseInapplicable(
  values: Readonly<Record<string, unknown>>,
  allowed: readonly string[],
  what: string,
): void {
  const defaults = new Set(['json', 'help', 'reveal', 'dry-run', 'yes', 'follow']);
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || (value === false && defaults.has(name))) continue;
    if (GLOBAL_OPTION_NAMES.includes(name) || allowed.includes(name)) continue;
    throw new CliError(
      `--${name} does not apply to ${what}${allowed.length > 0 ? ` (it takes ${allowed.map((a) => `--${a}`).join(', ')})` : ''}`,
      2,
    );
  }
}

/** `--output table|json|jsonl`, with `--json` as a short form of `--output json`. */
export function outputFormat(values: {
  json?: boolean | undefined;
  output?: string | undefined;
}): OutputFormat {
  if (values.output === undefined) return values.json ? 'json' : 'table';
  const format = OUTPUT_FORMATS.find((f) => f === values.output);
  if (!format)
    throw new CliError(
      `--output must be ${OUTPUT_FORMATS.join(', ')}; got "${values.output}"${didYouMean(values.output, OUTPUT_FORMATS)}`,
      2,
    );
  if (values.json && format !== 'json') throw new CliError(`--json contradicts --output ${format}`, 2);
  return format;
}

/** A positive integer option, or the default. */
export function positiveInt(value: string | undefined, name: string, fallback: number, max = 10_000): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new CliError(`--${name} must be a whole number from 1 to ${max}, got "${value}"`, 2);
  return n;
}

const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A time option (ISO-8601, or relative like `15m`, `2h`, `1d` meaning that long ago). */
export function timeOption(value: string | undefined, name: string, now = Date.now()): Date | undefined {
  if (value === undefined) return undefined;
  const relative = /^(\d+)(s|m|h|d)$/.exec(value);
  if (relative) {
    const unit = UNIT_MS[relative[2] ?? ''] ?? 0;
    return new Date(now - Number(relative[1]) * unit);
  }
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) {
    throw new CliError(
      `--${name} must be an ISO-8601 time or a duration like 15m, 2h, 1d; got "${value}"`,
      2,
    );
  }
  return time;
}

/**
 * A tenant id, channel, subject or event id given on the command line, checked against the one
 * definition of names (src/core/names.ts); a bad one is a usage error (exit 2), never a lookup.
 */
export function nameArg(kind: NameKind, value: string, label: string): string;
export function nameArg(kind: NameKind, value: string | undefined, label: string): string | undefined;
export function nameArg(kind: NameKind, value: string | undefined, label: string): string | undefined {
  if (value === undefined) return undefined;
  try {
    return assertName(kind, value);
  } catch (error) {
    if (error instanceof InvalidNameError) throw new CliError(`${label}: ${error.message}`, 2);
    throw error;
  }
}
