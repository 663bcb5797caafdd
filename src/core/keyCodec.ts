/**
 * The one key codec: every DynamoDB key (and index key) built from several parts is
 * `encodeKey([...parts])`, never a hand-written template. Pure module.
 *
 * Parts are joined with `#`; inside a part `%` is written `%25` and `#` is written `%23`, so an
 * encoded part never contains the separator and the join is injective: two different part lists
 * never give the same key, whatever the parts hold (separators, escapes, NUL, any Unicode). A
 * part without `%` or `#` (every valid name, see `names.ts`) is stored as itself, so keys stay
 * readable: `encodeKey(['t1', 'orders'])` is `t1#orders`.
 *
 * ```ts
 * encodeKey(['kv', 'x#c']);   // 'kv#x%23c' — not the key of tenant 'kv#x', channel 'c' ('kv%23x#c')
 * decodeKey('kv#x%23c');      // ['kv', 'x#c']
 * ```
 *
 * Keys of different kinds that share an attribute start with a constant tag part (`SUB`, `CONN`,
 * `EVT`, ...), so a user-chosen first part can never make one kind look like another.
 */

export const KEY_SEPARATOR = '#';
const ESCAPE = '%';

/** A stored key that `decodeKey` cannot read (not produced by `encodeKey`). */
export class KeyDecodeError extends Error {
  override readonly name = 'KeyDecodeError';
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`Not an encoded key (${reason}): ${JSON.stringify(key)}`);
  }
}

/** One part, escaped: the result never contains `#`. */
export function encodeKeyPart(part: string): string {
  // Fast path: valid names hold neither character.
  if (!part.includes(ESCAPE) && !part.includes(KEY_SEPARATOR)) return part;
  return part.replaceAll(ESCAPE, '%25').replaceAll(KEY_SEPARATOR, '%23');
}

export function decodeKeyPart(encoded: string): string {
  if (encoded.includes(KEY_SEPARATOR)) throw new KeyDecodeError(encoded, 'a part holds the separator');
  if (!encoded.includes(ESCAPE)) return encoded;
  return encoded.replace(/%(..)?/g, (match, code: string | undefined) => {
    if (code === '25') return ESCAPE;
    if (code === '23') return KEY_SEPARATOR;
    throw new KeyDecodeError(encoded, `unknown escape ${JSON.stringify(match)}`);
  });
}

/** Join one or more parts into a key (numbers are written in decimal). */
export function encodeKey(parts: readonly [string | number, ...(string | number)[]]): string {
  return parts
    .map((part) => encodeKeyPart(typeof part === 'number' ? String(part) : part))
    .join(KEY_SEPARATOR);
}

/** Split a key made by `encodeKey` back into its parts; throws `KeyDecodeError` on anything else. */
export function decodeKey(key: string): [string, ...string[]] {
  const [first = '', ...rest] = key.split(KEY_SEPARATOR);
  return [decodeKeyPart(first), ...rest.map(decodeKeyPart)];
}

/**
 * The prefix shared by every key whose first parts are `parts` (for `begins_with`): the encoded
 * parts plus a trailing separator, so `['SUB']` does not also match a part `SUBX`.
 */
export function keyPrefix(parts: readonly [string | number, ...(string | number)[]]): string {
  return `${encodeKey(parts)}${KEY_SEPARATOR}`;
}
