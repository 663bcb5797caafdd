/** The parent's side of a client fleet (bench/lib/clientFleet.ts runs in a child process). */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { type FleetCommand, type FleetReport, fleetReportSchema } from './clientFleet.js';

interface Reply {
  readonly type: 'reply';
  readonly cmd: string;
  readonly [key: string]: unknown;
}

function isReply(message: unknown): message is Reply {
  return typeof message === 'object' && message !== null && Reflect.get(message, 'type') === 'reply';
}

export class FleetHandle {
  private readonly waiting = new Map<string, (reply: Reply) => void>();

  private constructor(
    private readonly child: ChildProcess,
    onProgress: (message: string) => void,
  ) {
    child.on('message', (message: unknown) => {
      if (isReply(message)) {
        this.waiting.get(message.cmd)?.(message);
        this.waiting.delete(message.cmd);
      } else if (
        typeof message === 'object' &&
        message !== null &&
        Reflect.get(message, 'type') === 'progress'
      ) {
        onProgress(
          `clients connected: ${String(Reflect.get(message, 'connected'))}, failed: ${String(Reflect.get(message, 'failed'))}`,
        );
      }
    });
  }

  static async start(onProgress: (message: string) => void): Promise<FleetHandle> {
    const child = fork(join(import.meta.dirname, 'clientFleet.ts'), [], {
      execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('client fleet did not start within 60 s')), 60_000);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => reject(new Error(`client fleet exited ${code}`)));
    });
    return new FleetHandle(child, onProgress);
  }

  private send(command: FleetCommand, timeoutMs = 600_000): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fleet command ${command.cmd} timed out`)), timeoutMs);
      this.waiting.set(command.cmd, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.child.send(command);
    });
  }

  /** Opens `count` more clients; `connected` in the answer is the fleet's total. */
  async connect(
    url: string,
    token: string,
    channel: string,
    count: number,
    concurrency = 100,
  ): Promise<{ connected: number; failed: number; errors: string[] }> {
    const reply = await this.send({ cmd: 'connect', url, token, channel, count, concurrency });
    if (typeof reply.error === 'string') throw new Error(reply.error);
    return {
      connected: Number(reply.connected),
      failed: Number(reply.failed),
      errors: Array.isArray(reply.errors) ? reply.errors.map(String) : [],
    };
  }

  async reset(): Promise<void> {
    await this.send({ cmd: 'reset' });
  }

  /** Resolves true once every client received at least `perClient` events since the last reset. */
  async waitForEvents(perClient: number, timeoutMs: number): Promise<boolean> {
    const reply = await this.send({ cmd: 'waitForEvents', perClient, timeoutMs }, timeoutMs + 10_000);
    return reply.reached === true;
  }

  async report(): Promise<FleetReport> {
    const reply = await this.send({ cmd: 'report' });
    return fleetReportSchema.parse(reply.report);
  }

  /** The child's peak RSS is not the runtime's; reported separately if needed. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    await this.send({ cmd: 'close' }, 30_000).catch(() => undefined);
    await new Promise<void>((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      const timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolve();
      }, 5_000);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
