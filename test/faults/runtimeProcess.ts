/**
 * The offline runtime as a child process (`npm start`'s `local/main.ts`), so the checker can
 * SIGKILL it — the whole process group, DynamoDB Local's JVM included, as a crashed machine would
 * — and start it again on the same data directory.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

const endpointsSchema = z.object({
  endpoints: z
    .object({ webSocket: z.string(), control: z.string(), dynamodb: z.string(), sqs: z.string() })
    .loose(),
  env: z.record(z.string(), z.string()),
  pid: z.number().int(),
});
export type RuntimeEndpointsFile = z.infer<typeof endpointsSchema>;

export interface RuntimeProcessOptions {
  readonly dataDir: string;
  /** The fault configuration (`--faults`). */
  readonly faults?: unknown;
  readonly env?: Readonly<Record<string, string>>;
  readonly logFile: string;
  readonly startTimeoutMs?: number;
}

export interface RuntimeProcess {
  /** The current `endpoints.json` (changes after a restart). */
  readonly current: RuntimeEndpointsFile;
  start(): Promise<RuntimeEndpointsFile>;
  /** SIGKILL the whole process group: no clean stop, nothing flushed. */
  kill(): Promise<void>;
  /** SIGTERM (a clean stop), waiting for the exit. */
  stop(): Promise<void>;
  /** Ctrl-C: SIGINT to the runtime process only, as a terminal sends it; resolves with its exit code. */
  interrupt(): Promise<number | null>;
  /** The DynamoDB Local JVM's pid (from `<dataDir>/dynamodb/java.pid`). */
  jvmPid(): number | undefined;
}

function readEndpoints(dataDir: string): RuntimeEndpointsFile | undefined {
  const path = join(dataDir, 'endpoints.json');
  if (!existsSync(path)) return undefined;
  try {
    const parsed = endpointsSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Direct children of a process (DynamoDB Local's JVM runs in a process group of its own). */
function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return []; // no children, or no `ps`
  }
}

function killHard(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // Already gone, or not a group leader.
    }
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => child.once('exit', () => done()));
}

export function createRuntimeProcess(options: RuntimeProcessOptions): RuntimeProcess {
  let child: ChildProcess | undefined;
  let current: RuntimeEndpointsFile | undefined;
  const log = createWriteStream(options.logFile, { flags: 'a' });

  return {
    get current() {
      if (!current) throw new Error('the runtime is not started');
      return current;
    },
    async start() {
      const args = ['--import', 'tsx', 'local/main.ts', '--data-dir', options.dataDir, '--quiet'];
      if (options.faults !== undefined) args.push('--faults', JSON.stringify(options.faults));
      // `node --import tsx` keeps main.ts in this very process, so endpoints.json's pid is the child's.
      const spawned = spawn(process.execPath, args, {
        cwd: ROOT,
        env: { ...process.env, ...options.env },
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = spawned;
      spawned.stdout?.pipe(log, { end: false });
      spawned.stderr?.pipe(log, { end: false });
      const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
      while (Date.now() < deadline) {
        const file = readEndpoints(options.dataDir);
        if (file && file.pid === spawned.pid) {
          current = file;
          return file;
        }
        if (spawned.exitCode !== null)
          throw new Error(`the runtime exited with ${spawned.exitCode}; see ${options.logFile}`);
        await new Promise((done) => setTimeout(done, 200));
      }
      throw new Error(
        `the runtime did not start within ${options.startTimeoutMs ?? 120_000} ms; see ${options.logFile}`,
      );
    },
    async kill() {
      if (!child?.pid) return;
      const done = exited(child);
      // The JVM and anything else the runtime started die with it, as on a crashed machine.
      const children = childPids(child.pid);
      killHard(child.pid);
      for (const pid of children) killHard(pid);
      await done;
      // The JVM is in the group too; give the OS a moment to release its port and files.
      await new Promise((resolveWait) => setTimeout(resolveWait, 500));
    },
    async interrupt() {
      const running = child;
      if (!running?.pid) return null;
      const done = exited(running);
      process.kill(running.pid, 'SIGINT');
      await done;
      return running.exitCode;
    },
    jvmPid() {
      try {
        const pid = Number(readFileSync(join(options.dataDir, 'dynamodb', 'java.pid'), 'utf8').trim());
        return Number.isInteger(pid) && pid > 1 ? pid : undefined;
      } catch {
        return undefined;
      }
    },
    async stop() {
      if (!child?.pid) return;
      const done = exited(child);
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        if (child?.pid) process.kill(-child.pid, 'SIGKILL');
      }, 20_000);
      await done;
      clearTimeout(timer);
      log.end();
    },
  };
}
