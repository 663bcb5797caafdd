/**
 * EventBridge event-pattern matching, as documented for rules: every field named by the pattern
 * must match (AND), each array lists alternatives (OR), nested objects descend into the event
 * (e.g. `detail`), and an event field that is an array matches when any element does.
 * Supported: exact values (string, number, boolean, null), `prefix`, `suffix`,
 * `equals-ignore-case`, `wildcard`, `anything-but` (value, list, `prefix`, `suffix`), `exists`,
 * `numeric` ranges and `$or`. Pure module, used by the local bus and checked in unit tests.
 */

export class InvalidEventPatternError extends Error {
  override readonly name = 'InvalidEventPatternError';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when the event matches the pattern. Throws InvalidEventPatternError on a malformed pattern. */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  if (!isObject(pattern)) throw new InvalidEventPatternError('An event pattern must be a JSON object');
  return matchObject(pattern, event);
}

function matchObject(pattern: Record<string, unknown>, event: unknown): boolean {
  for (const [key, rule] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!Array.isArray(rule) || rule.length === 0)
        throw new InvalidEventPatternError('$or must be a non-empty array');
      const matched = rule.some((alternative) => {
        if (!isObject(alternative))
          throw new InvalidEventPatternError('Each $or alternative must be an object');
        return matchObject(alternative, event);
      });
      if (!matched) return false;
      continue;
    }
    const value = isObject(event) ? event[key] : undefined;
    if (Array.isArray(rule)) {
      if (!matchField(rule, value)) return false;
    } else if (isObject(rule)) {
      if (!matchObject(rule, value)) return false;
    } else {
      throw new InvalidEventPatternError(`Pattern field "${key}" must be an array or an object`);
    }
  }
  return true;
}

/** A leaf: the event value (absent, a scalar, or an array of scalars) against a list of alternatives. */
function matchField(alternatives: readonly unknown[], value: unknown): boolean {
  if (alternatives.length === 0) throw new InvalidEventPatternError('A pattern array must not be empty');
  const present = value !== undefined;
  const values: unknown[] = Array.isArray(value) ? value : [value];
  return alternatives.some((alternative) => {
    if (isObject(alternative)) {
      if ('exists' in alternative) {
        if (typeof alternative.exists !== 'boolean')
          throw new InvalidEventPatternError('exists takes true or false');
        // `exists` is about the field's presence (an empty array counts as absent, as in AWS).
        const exists = present && !(Array.isArray(value) && value.length === 0) && !isObject(value);
        return alternative.exists === exists;
      }
      if (!present) return false;
      return values.some((v) => matchOperator(alternative, v));
    }
    if (!present) return false;
    return values.some((v) => isScalar(v) && v === alternative);
  });
}

function isScalar(value: unknown): value is string | number | boolean | null {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function matchOperator(operator: Record<string, unknown>, value: unknown): boolean {
  const entries = Object.entries(operator);
  if (entries.length !== 1)
    throw new InvalidEventPatternError(`Unsupported matcher ${JSON.stringify(operator)}`);
  const [name, argument] = entries[0] as [string, unknown];
  switch (name) {
    case 'prefix':
      return matchAffix(argument, value, (v, a) => v.startsWith(a), 'prefix');
    case 'suffix':
      return matchAffix(argument, value, (v, a) => v.endsWith(a), 'suffix');
    case 'equals-ignore-case':
      if (typeof argument !== 'string')
        throw new InvalidEventPatternError('equals-ignore-case takes a string');
      return typeof value === 'string' && value.toLowerCase() === argument.toLowerCase();
    case 'wildcard':
      if (typeof argument !== 'string') throw new InvalidEventPatternError('wildcard takes a string');
      return typeof value === 'string' && wildcardRegExp(argument).test(value);
    case 'anything-but':
      return matchAnythingBut(argument, value);
    case 'numeric':
      return matchNumeric(argument, value);
    default:
      throw new InvalidEventPatternError(`Unsupported matcher "${name}"`);
  }
}

function matchAffix(
  argument: unknown,
  value: unknown,
  test: (value: string, affix: string) => boolean,
  name: string,
): boolean {
  if (typeof value !== 'string') return false;
  if (typeof argument === 'string') return test(value, argument);
  if (isObject(argument) && typeof argument['equals-ignore-case'] === 'string') {
    return test(value.toLowerCase(), argument['equals-ignore-case'].toLowerCase());
  }
  throw new InvalidEventPatternError(`${name} takes a string or {"equals-ignore-case": string}`);
}

function matchAnythingBut(argument: unknown, value: unknown): boolean {
  if (isObject(argument)) {
    const [name, inner] = Object.entries(argument)[0] ?? [];
    if (name === 'prefix' || name === 'suffix') {
      if (typeof value !== 'string') return true;
      return !matchAffix(
        inner,
        value,
        name === 'prefix' ? (v, a) => v.startsWith(a) : (v, a) => v.endsWith(a),
        name,
      );
    }
    if (name === 'equals-ignore-case') {
      const list = Array.isArray(inner) ? inner : [inner];
      if (typeof value !== 'string') return true;
      return !list.some((item) => typeof item === 'string' && item.toLowerCase() === value.toLowerCase());
    }
    throw new InvalidEventPatternError(`Unsupported anything-but matcher ${JSON.stringify(argument)}`);
  }
  const excluded: unknown[] = Array.isArray(argument) ? argument : [argument];
  if (!excluded.every(isScalar))
    throw new InvalidEventPatternError('anything-but takes values, a list or prefix/suffix');
  return !excluded.some((item) => item === value);
}

const NUMERIC_OPERATORS = new Set(['<', '<=', '=', '>', '>=']);

function matchNumeric(argument: unknown, value: unknown): boolean {
  if (!Array.isArray(argument) || argument.length === 0 || argument.length % 2 !== 0) {
    throw new InvalidEventPatternError('numeric takes operator/number pairs, e.g. [">", 0, "<=", 5]');
  }
  if (typeof value !== 'number') return false;
  for (let i = 0; i < argument.length; i += 2) {
    const operator = argument[i];
    const bound = argument[i + 1];
    if (typeof operator !== 'string' || !NUMERIC_OPERATORS.has(operator) || typeof bound !== 'number') {
      throw new InvalidEventPatternError(`Bad numeric condition ${JSON.stringify([operator, bound])}`);
    }
    const ok =
      operator === '<'
        ? value < bound
        : operator === '<='
          ? value <= bound
          : operator === '='
            ? value === bound
            : operator === '>'
              ? value > bound
              : value >= bound;
    if (!ok) return false;
  }
  return true;
}

function wildcardRegExp(pattern: string): RegExp {
  const escaped = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${escaped}$`, 's');
}
