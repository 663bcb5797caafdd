/**
 * What a tenant id, a channel, a subject and an event id may be. They come from tokens, clients
 * and producers — hostile input — and become parts of DynamoDB keys, so there is one definition,
 * enforced at every entry (token claims, `subscribe`/`resume`, outbox rows, tracked-table
 * mappings, webhook endpoints, CLI arguments). Pure module. Documented in docs/names.md.
 *
 * A name is 1 to `NAME_MAX_BYTES[kind]` bytes of UTF-8 and holds none of:
 * - `#`, the key separator (the key codec would escape it, but a name never needs it);
 * - control characters (Unicode Cc: NUL, C0, DEL, C1), format characters (Cf: zero-width and
 *   bidirectional marks, which make two different names print alike), lone surrogates (Cs: no
 *   UTF-8 form), and separators/whitespace (Z, so CLI arguments and logs show the whole name);
 * - in a channel, `*` (a token's `channels` entry ending in `*` is a prefix pattern).
 *
 * Byte limits keep every key well inside DynamoDB's limits (partition key 2048 bytes, sort key
 * 1024 bytes): the longest key, a subscription's `SUB#<tenant>#<channel>#<shard>`, is at most
 * 4 + 128 + 1 + 256 + 2 bytes; `test/unit/names.test.ts` checks every key builder at the limits.
 */
import * as z from 'zod/mini';
import './zodLocale.js';

export const NAME_KINDS = ['tenantId', 'channel', 'subject', 'eventId'] as const;
export type NameKind = (typeof NAME_KINDS)[number];

/** UTF-8 bytes per name kind. */
export const NAME_MAX_BYTES = {
  tenantId: 128,
  channel: 256,
  subject: 256,
  eventId: 128,
} as const satisfies Record<NameKind, number>;

/** A resource id is a key part too (audit `byResource`), though it may hold any printable text. */
export const RESOURCE_ID_MAX_BYTES = 1024;

/** DynamoDB's key limits, in UTF-8 bytes. */
export const DYNAMODB_PARTITION_KEY_MAX_BYTES = 2048;
export const DYNAMODB_SORT_KEY_MAX_BYTES = 1024;

/** Why a name was refused. */
export const NAME_REFUSALS = [
  'not_a_string',
  'empty',
  'too_long',
  'separator',
  'control_character',
  'format_character',
  'lone_surrogate',
  'whitespace',
  'wildcard',
] as const;
export type NameRefusal = (typeof NAME_REFUSALS)[number];

const REFUSAL_TEXT: Record<NameRefusal, string> = {
  not_a_string: 'is not a string',
  empty: 'is empty',
  too_long: 'is longer than its byte limit',
  separator: 'holds "#", the key separator',
  control_character: 'holds a control character (NUL, C0, DEL or C1)',
  format_character: 'holds an invisible format character',
  lone_surrogate: 'holds a lone UTF-16 surrogate',
  whitespace: 'holds whitespace',
  wildcard: 'holds "*" (reserved for token channel patterns)',
};

const LABEL: Record<NameKind, string> = {
  tenantId: 'tenant id',
  channel: 'channel',
  subject: 'subject',
  eventId: 'event id',
};

// One pass over the code points; the first offending class wins (order = NAME_REFUSALS order).
const CONTROL = /\p{Cc}/u;
const FORMAT = /\p{Cf}/u;
const SURROGATE = /\p{Cs}/u;
const WHITESPACE = /[\p{Z}\s]/u;

/**
 * UTF-8 length of a string (a lone surrogate counts 3 bytes, as TextEncoder writes U+FFFD).
 * Counted by hand: this module also runs in browsers (the client SDK parses frames with it).
 */
export function utf8Bytes(value: string): number {
  let bytes = 0;
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/** Why `value` is not a valid name of `kind`, or `undefined` when it is. Never throws. */
export function nameRefusal(kind: NameKind, value: unknown): NameRefusal | undefined {
  if (typeof value !== 'string') return 'not_a_string';
  if (value.length === 0) return 'empty';
  if (value.includes('#')) return 'separator';
  if (CONTROL.test(value)) return 'control_character';
  if (FORMAT.test(value)) return 'format_character';
  if (SURROGATE.test(value)) return 'lone_surrogate';
  if (WHITESPACE.test(value)) return 'whitespace';
  if (kind === 'channel' && value.includes('*')) return 'wildcard';
  if (utf8Bytes(value) > NAME_MAX_BYTES[kind]) return 'too_long';
  return undefined;
}

export function isValidName(kind: NameKind, value: unknown): value is string {
  return nameRefusal(kind, value) === undefined;
}

/** One sentence for a refusal: `the channel "a#b" holds "#", the key separator`. */
export function describeNameRefusal(kind: NameKind, refusal: NameRefusal, value?: unknown): string {
  const shown =
    typeof value === 'string'
      ? ` ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)}`
      : '';
  const limit = refusal === 'too_long' ? ` (${NAME_MAX_BYTES[kind]} bytes of UTF-8)` : '';
  return `The ${LABEL[kind]}${shown} ${REFUSAL_TEXT[refusal]}${limit}`;
}

/** A name was refused; nothing was written or sent. Branch on `kind` and `refusal`. */
export class InvalidNameError extends Error {
  override readonly name = 'InvalidNameError';
  constructor(
    readonly kind: NameKind,
    readonly refusal: NameRefusal,
    readonly value: unknown,
  ) {
    super(describeNameRefusal(kind, refusal, value));
  }
}

/** Throw `InvalidNameError` unless `value` is a valid name of `kind`; returns it typed. */
export function assertName(kind: NameKind, value: unknown): string {
  const refusal = nameRefusal(kind, value);
  if (refusal !== undefined) throw new InvalidNameError(kind, refusal, value);
  return value as string;
}

/**
 * The zod schema of a name kind. An issue carries `params: { nameKind, refusal }` so callers
 * (the publisher's quarantine, the WebSocket error frame) can say exactly what was wrong.
 */
export function nameSchema(kind: NameKind) {
  return z.string().check(
    z.superRefine((value, ctx) => {
      const refusal = nameRefusal(kind, value);
      if (refusal !== undefined) {
        ctx.addIssue({
          code: 'custom',
          message: describeNameRefusal(kind, refusal),
          params: { nameKind: kind, refusal },
        });
      }
    }),
  );
}

export const tenantIdSchema = nameSchema('tenantId');
export const channelSchema = nameSchema('channel');
export const subjectSchema = nameSchema('subject');
export const eventIdSchema = nameSchema('eventId');

/** A resource id: 1–1024 bytes, no control characters (it is a key part, escaped by the codec). */
export const resourceIdSchema = z.string().check(
  z.superRefine((value, ctx) => {
    if (
      value.length === 0 ||
      utf8Bytes(value) > RESOURCE_ID_MAX_BYTES ||
      CONTROL.test(value) ||
      SURROGATE.test(value)
    ) {
      ctx.addIssue({
        code: 'custom',
        message: `The resource id must be 1–${RESOURCE_ID_MAX_BYTES} bytes of UTF-8 without control characters`,
      });
    }
  }),
);

/** The first name refusal among zod issues (from `nameSchema`), if any. */
export function nameRefusalOfIssues(
  issues: readonly {
    readonly code: string;
    readonly params?: unknown;
    readonly path: readonly PropertyKey[];
  }[],
): { kind: NameKind; refusal: NameRefusal; path: string } | undefined {
  for (const issue of issues) {
    const params = issue.params as { nameKind?: unknown; refusal?: unknown } | undefined;
    if (
      issue.code === 'custom' &&
      typeof params?.nameKind === 'string' &&
      (NAME_KINDS as readonly string[]).includes(params.nameKind) &&
      typeof params.refusal === 'string' &&
      (NAME_REFUSALS as readonly string[]).includes(params.refusal)
    ) {
      return {
        kind: params.nameKind as NameKind,
        refusal: params.refusal as NameRefusal,
        path: issue.path.map(String).join('.'),
      };
    }
  }
  return undefined;
}
