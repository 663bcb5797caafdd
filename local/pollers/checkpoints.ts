/**
 * Stream checkpoints: the last sequence number processed per shard, per mapping, with the record's
 * event id. Persisted beside the database they describe (`<dataDir>/dynamodb/checkpoints.json`,
 * so a copy or a restore of the database carries its own checkpoints) with an atomic write (temp file + rename) after each completed
 * batch, so a killed runtime resumes AFTER the last checkpoint and re-delivers what was in flight
 * (at least once), as Lambda does.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as z from 'zod';

const shardCheckpointSchema = z.object({
  sequenceNumber: z.string().optional(),
  /** The checkpointed record's event id: proves the checkpoint belongs to this database's shard. */
  eventId: z.string().optional(),
  /** The shard is closed and every record of it was handled. */
  finished: z.boolean().optional(),
});
export type ShardCheckpoint = z.infer<typeof shardCheckpointSchema>;

const fileSchema = z.object({
  version: z.literal(1),
  mappings: z.record(
    z.string(),
    z.object({ streamArn: z.string(), shards: z.record(z.string(), shardCheckpointSchema) }),
  ),
});
type CheckpointFile = z.infer<typeof fileSchema>;

export interface CheckpointStore {
  /** Checkpoints of a mapping's shards; empty when the stream changed (e.g. the table was recreated). */
  shards(mappingId: string, streamArn: string): Readonly<Record<string, ShardCheckpoint>>;
  save(mappingId: string, streamArn: string, shardId: string, checkpoint: ShardCheckpoint): void;
  /** Resolves once everything saved so far is on disk. */
  flush(): Promise<void>;
}

/** Checkpoints kept in memory only (in-memory runtimes, unit tests). */
export function createMemoryCheckpointStore(): CheckpointStore {
  return createStore(undefined);
}

export function createFileCheckpointStore(path: string): CheckpointStore {
  return createStore(path);
}

function createStore(path: string | undefined): CheckpointStore {
  const state: CheckpointFile = path ? load(path) : { version: 1, mappings: {} };
  let dirty = false;
  let writing: Promise<void> = Promise.resolve();

  const persist = () => {
    if (!path || dirty) return;
    dirty = true;
    // Coalesce: one write per tick carries every checkpoint saved meanwhile.
    writing = writing.then(
      () =>
        new Promise<void>((resolve) => {
          setImmediate(() => {
            dirty = false;
            writeAtomically(path, `${JSON.stringify(state, null, 2)}\n`);
            resolve();
          });
        }),
    );
  };

  return {
    shards(mappingId, streamArn) {
      const mapping = state.mappings[mappingId];
      return mapping && mapping.streamArn === streamArn ? mapping.shards : {};
    },
    save(mappingId, streamArn, shardId, checkpoint) {
      let mapping = state.mappings[mappingId];
      if (!mapping || mapping.streamArn !== streamArn) {
        mapping = { streamArn, shards: {} };
        state.mappings[mappingId] = mapping;
      }
      mapping.shards[shardId] = { ...mapping.shards[shardId], ...checkpoint };
      persist();
    },
    flush: () => writing,
  };
}

function load(path: string): CheckpointFile {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch {
    return { version: 1, mappings: {} };
  }
  const parsed = fileSchema.safeParse(JSON.parse(raw));
  if (!parsed.success)
    throw new Error(`${path} is not a checkpoint file of this runtime: ${parsed.error.message}`);
  return parsed.data;
}

function writeAtomically(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, content);
  renameSync(temp, path);
}

/** Where a data directory's checkpoints live: inside DynamoDB Local's directory, with the database. */
export function checkpointFilePath(dataDir: string): string {
  return join(dataDir, 'dynamodb', 'checkpoints.json');
}

/** Before checkpoints moved in with the database they lived at `<dataDir>/checkpoints.json`: move them. */
export function migrateCheckpointFile(dataDir: string): void {
  const legacy = join(dataDir, 'checkpoints.json');
  const current = checkpointFilePath(dataDir);
  if (existsSync(legacy) && !existsSync(current)) {
    mkdirSync(dirname(current), { recursive: true });
    renameSync(legacy, current);
  }
}
