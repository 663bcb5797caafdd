/**
 * DynamoDB AttributeValue (wire JSON) → plain JSON values. Pure, and total over untrusted input:
 * it reports what it cannot read instead of guessing. Unlike the SDK's `unmarshall`, the result
 * is JSON-ready: sets become arrays, binary becomes base64 text, and numbers beyond JavaScript's
 * safe range stay strings (no silent rounding).
 */

export class UnreadableAttributeError extends Error {
  override readonly name = 'UnreadableAttributeError';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`Attribute ${path || '(root)'}: ${detail}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numberFrom(text: unknown, path: string): number | string {
  if (typeof text !== 'string' || text.trim() === '')
    throw new UnreadableAttributeError(path, 'N is not a numeric string');
  const value = Number(text);
  if (!Number.isFinite(value)) throw new UnreadableAttributeError(path, `N "${text}" is not a number`);
  return Number.isInteger(value) && !Number.isSafeInteger(value) ? text : value;
}

function binaryFrom(value: unknown, path: string): string {
  if (typeof value === 'string') return value; // Lambda events carry binary as base64 already
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  throw new UnreadableAttributeError(path, 'B is neither base64 text nor bytes');
}

function listOf(value: unknown, path: string, kind: string): unknown[] {
  if (!Array.isArray(value)) throw new UnreadableAttributeError(path, `${kind} is not a list`);
  return value;
}

/** One AttributeValue (`{ "S": "x" }`, `{ "M": {...} }`, ...) → its JSON value. */
export function attributeToJson(attribute: unknown, path = ''): unknown {
  if (!isRecord(attribute)) throw new UnreadableAttributeError(path, 'is not an AttributeValue object');
  const [type, ...others] = Object.keys(attribute);
  if (type === undefined || others.length > 0) {
    throw new UnreadableAttributeError(path, 'must have exactly one type key');
  }
  const value = attribute[type];
  switch (type) {
    case 'S':
      if (typeof value !== 'string') throw new UnreadableAttributeError(path, 'S is not a string');
      return value;
    case 'N':
      return numberFrom(value, path);
    case 'BOOL':
      if (typeof value !== 'boolean') throw new UnreadableAttributeError(path, 'BOOL is not a boolean');
      return value;
    case 'NULL':
      return null;
    case 'B':
      return binaryFrom(value, path);
    case 'SS':
      return listOf(value, path, 'SS').map((item, i) => {
        if (typeof item !== 'string')
          throw new UnreadableAttributeError(`${path}[${i}]`, 'SS member is not a string');
        return item;
      });
    case 'NS':
      return listOf(value, path, 'NS').map((item, i) => numberFrom(item, `${path}[${i}]`));
    case 'BS':
      return listOf(value, path, 'BS').map((item, i) => binaryFrom(item, `${path}[${i}]`));
    case 'L':
      return listOf(value, path, 'L').map((item, i) => attributeToJson(item, `${path}[${i}]`));
    case 'M':
      if (!isRecord(value)) throw new UnreadableAttributeError(path, 'M is not a map');
      return imageToJson(value, path);
    default:
      throw new UnreadableAttributeError(path, `unknown type "${type}"`);
  }
}

/** An item image (`{ name: AttributeValue }`) → a plain object. */
export function imageToJson(image: Readonly<Record<string, unknown>>, path = ''): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [name, attribute] of Object.entries(image)) {
    result[name] = attributeToJson(attribute, path ? `${path}.${name}` : name);
  }
  return result;
}
