/**
 * Tracked tables: existing application tables whose DynamoDB stream also feeds the publisher.
 * A mapping says how a stream record of that table becomes an event. The stack validates the
 * mappings at synth (`lib/config.ts`) and hands them to the publisher as JSON in the
 * `TRACKED_TABLES` environment variable; the publisher parses that variable with the same schema.
 * Pure module: no AWS imports.
 */
import * as z from 'zod/mini';
import { channelSchema } from './names.js';

/** Environment variable holding `JSON.stringify(TrackedTableMapping[])`. */
export const TRACKED_TABLES_ENV = 'TRACKED_TABLES';

/** DynamoDB table names: 3–255 of `[a-zA-Z0-9_.-]`. */
const tableNamePattern = /^[a-zA-Z0-9_.-]{3,255}$/;
/** `arn:<partition>:dynamodb:<region>:<account>:table/<name>/stream/<label>`. */
export const STREAM_ARN_PATTERN =
  /^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/([a-zA-Z0-9_.-]{3,255})\/stream\/.+$/;
const attributeName = z.string().check(z.minLength(1), z.maxLength(255));
const eventType = z.string().check(z.minLength(1), z.maxLength(256));

export const trackedTableMappingSchema = z
  .strictObject({
    /** The application table's name (must match the stream ARN's table). */
    tableName: z
      .string()
      .check(
        z.regex(tableNamePattern, { error: 'must be a DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -)' }),
      ),
    /** Its stream ARN; the stream must include new images (NEW_IMAGE or NEW_AND_OLD_IMAGES). */
    streamArn: z.string().check(
      z.regex(STREAM_ARN_PATTERN, {
        error:
          'must be a DynamoDB stream ARN (arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>)',
      }),
    ),
    /** Attribute holding the tenant id (a string). */
    tenantAttribute: attributeName,
    /** The channel of every event from this table, e.g. `patch_operations`... */
    channel: z.optional(channelSchema),
    /** ...or the attribute holding the channel (one of the two). */
    channelAttribute: z.optional(attributeName),
    /** Attribute holding the resource id; absent = the table's partition key value. */
    resourceIdAttribute: z.optional(attributeName),
    /** Event type prefix: INSERT → `<prefix>.created`, MODIFY → `.updated`, REMOVE → `.deleted`. */
    typePrefix: eventType,
    /** Per-change overrides of the derived types; a change whose type is `null` is not published. */
    eventTypes: z.optional(
      z.partial(
        z.strictObject({
          INSERT: z.nullable(eventType),
          MODIFY: z.nullable(eventType),
          REMOVE: z.nullable(eventType),
        }),
      ),
    ),
  })
  .check(
    z.refine((m) => (m.channel === undefined) !== (m.channelAttribute === undefined), {
      error: 'needs exactly one of channel or channelAttribute',
    }),
    z.refine((m) => STREAM_ARN_PATTERN.exec(m.streamArn)?.[1] === m.tableName, {
      error: 'must belong to the table named by tableName',
      path: ['streamArn'],
    }),
  );

export type TrackedTableMapping = z.infer<typeof trackedTableMappingSchema>;

export const trackedTablesSchema = z.array(trackedTableMappingSchema).check(z.maxLength(20));

export type StreamChange = 'INSERT' | 'MODIFY' | 'REMOVE';

const SUFFIX: Record<StreamChange, string> = { INSERT: 'created', MODIFY: 'updated', REMOVE: 'deleted' };

/** The event type of a change, or `null` when the mapping says not to publish that change. */
export function trackedEventType(mapping: TrackedTableMapping, change: StreamChange): string | null {
  const override = mapping.eventTypes?.[change];
  if (override !== undefined) return override;
  return `${mapping.typePrefix}.${SUFFIX[change]}`;
}
