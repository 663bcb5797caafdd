/** Argument parsing shared by the operator commands: node's `parseArgs` with clear one-line errors. */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { assertName, InvalidNameError, type NameKind } from '../../core/names.js';
import { CliError } from '../errors.js';

/** Options every command accepts: where to act (`--stack/--region/--profile`) and `--json`. */
export const TARGET_OPTIONS = {
  stack: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

export function parseCommandArgs<const O extends NonNullable<ParseArgsConfig['options']>>(
  args: readonly string[],
  options: O,
) {
  try {
    return parseArgs({
      args: [...args],
      options: { ...TARGET_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error), 2);
  }
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
