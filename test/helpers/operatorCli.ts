/**
 * The operator CLI run as users run it (`node cli/outbox-relay.mjs …`), finding an offline
 * runtime through the endpoints.json in its data folder.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `dataDir` is asked at each run, since test files make their data folder in beforeAll (and
 * have none against a deployed stack, where the commands name `--stack`).
 */
export function operatorCli(dataDir: () => string | undefined) {
  function cli(...args: string[]): Promise<CliResult> {
    return new Promise((done, fail) => {
      const child = spawn(process.execPath, [join(ROOT, 'cli/outbox-relay.mjs'), ...args], {
        cwd: ROOT,
        env: { ...process.env, OUTBOX_RELAY_LOCAL_DIR: dataDir() },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
      });
      child.on('error', fail);
      child.on('close', (code) => done({ code: code ?? 1, stdout, stderr }));
    });
  }

  /** Runs a command with `--json` and parses its output; a non-zero exit throws with its stderr. */
  async function cliJson(...args: string[]): Promise<unknown> {
    const result = await cli(...args, '--json');
    if (result.code !== 0)
      throw new Error(`outbox-relay ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  }

  return { cli, cliJson };
}
