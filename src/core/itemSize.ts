/**
 * DynamoDB item size, as AWS documents it: attribute names and string values count their UTF-8
 * bytes, a number up to 21 bytes (1 + one per two significant digits), binary its bytes, a boolean
 * or null 1 byte, and a map or list 3 bytes plus 1 per element on top of its contents. Pure.
 * Used before writing, so an item over `DYNAMODB_MAX_ITEM_BYTES` is refused with a typed error
 * instead of DynamoDB's raw `ValidationException`.
 */

/** UTF-8 bytes of a string (what DynamoDB, SQS and EventBridge count). */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function numberBytes(value: number | bigint): number {
  const digits = String(value)
    .replace(/^-/, '')
    .replace(/[.e].*$/i, '')
    .replace(/^0+/, '');
  return Math.min(21, 1 + Math.ceil(Math.max(1, digits.length) / 2));
}

/** Size of one attribute value (native JavaScript values, as the document client writes them). */
export function attributeValueBytes(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return utf8Bytes(value);
  if (typeof value === 'number' || typeof value === 'bigint') return numberBytes(value);
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) {
    let total = 0;
    for (const element of value) total += attributeValueBytes(element);
    return total;
  }
  if (Array.isArray(value)) {
    return 3 + value.reduce((sum: number, element: unknown) => sum + 1 + attributeValueBytes(element), 0);
  }
  if (typeof value === 'object') {
    let total = 3;
    for (const [name, element] of Object.entries(value)) {
      if (element === undefined) continue;
      total += 1 + utf8Bytes(name) + attributeValueBytes(element);
    }
    return total;
  }
  return utf8Bytes(String(value));
}

/** Size of a whole item: each attribute's name plus its value. */
export function itemSizeBytes(item: Readonly<Record<string, unknown>>): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    total += utf8Bytes(name) + attributeValueBytes(value);
  }
  return total;
}

/**
 * The longest prefix of `text` within `maxBytes` UTF-8 bytes that does not split a character
 * (a surrogate pair counts as one character).
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (utf8Bytes(text) <= maxBytes) return text;
  const encoded = Buffer.from(text, 'utf8');
  let end = Math.max(0, maxBytes);
  // Back off continuation bytes (10xxxxxx) so the cut falls on a character boundary.
  while (end > 0 && ((encoded[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return encoded.subarray(0, end).toString('utf8');
}
