/**
 * Reading settings from an environment object, one way everywhere: an unset or blank variable
 * takes the default; any other value must parse or `InvalidSettingError` names the variable, the
 * value and what was expected. Pure: callers at the edge pass `process.env` (or a test's object);
 * core modules never read `process.env` themselves.
 *
 * @example
 *   const concurrency = readWholeNumber(process.env, 'FANOUT_CONCURRENCY', { fallback: 50, min: 1, max: 1000 });
 */

/** The environment as handlers see it (`process.env`), or any object of the same shape. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * A setting's variable holds a value that does not parse; thrown at cold start or first use.
 * A `RangeError`: the value is outside what the setting accepts.
 */
export class InvalidSettingError extends RangeError {
  override readonly name: string = 'InvalidSettingError';
  constructor(
    readonly variable: string,
    readonly value: string,
    readonly expected: string,
    message = `${variable}="${value}" is not valid: expected ${expected}`,
  ) {
    super(message);
  }
}

/** The variable's value, trimmed; undefined when unset or blank. */
export function readString(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === '' ? undefined : raw;
}

export interface WholeNumberRule {
  readonly fallback: number;
  readonly min: number;
  /** @default Number.MAX_SAFE_INTEGER */
  readonly max?: number;
  /** Unit for the error sentence ("seconds", "events"). */
  readonly unit?: string;
}

function rangeText({ min, max, unit }: WholeNumberRule): string {
  const range = max === undefined ? `≥ ${min}` : `from ${min} to ${max}`;
  return `a whole number ${range}${unit ? ` (${unit})` : ''}`;
}

/** An integer within [min, max]. */
export function readWholeNumber(env: Env, name: string, rule: WholeNumberRule): number {
  const raw = readString(env, name);
  if (raw === undefined) return rule.fallback;
  return parseWholeNumber(name, raw, raw, rule);
}

function parseWholeNumber(name: string, part: string, raw: string, rule: WholeNumberRule): number {
  const value = Number(part);
  if (!Number.isInteger(value) || value < rule.min || value > (rule.max ?? Number.POSITIVE_INFINITY))
    throw new InvalidSettingError(name, raw, rangeText(rule));
  return value;
}

/** Comma-separated integers, each within [min, max] (`50,250`). */
export function readWholeNumberList(
  env: Env,
  name: string,
  rule: Omit<WholeNumberRule, 'fallback'> & { readonly fallback: readonly number[] },
): readonly number[] {
  const raw = readString(env, name);
  if (raw === undefined) return rule.fallback;
  return raw.split(',').map((part) => {
    const trimmed = part.trim();
    const value = Number(trimmed);
    if (
      trimmed === '' ||
      !Number.isInteger(value) ||
      value < rule.min ||
      value > (rule.max ?? Number.POSITIVE_INFINITY)
    )
      throw new InvalidSettingError(name, raw, `comma-separated ${rangeText({ ...rule, fallback: 0 })}`);
    return value;
  });
}

const TRUE = ['true', '1', 'on'];
const FALSE = ['false', '0', 'off'];

/** `true`/`1`/`on` or `false`/`0`/`off`, any case. */
export function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  const lower = raw.toLowerCase();
  if (TRUE.includes(lower)) return true;
  if (FALSE.includes(lower)) return false;
  throw new InvalidSettingError(name, raw, 'true or false');
}
