import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Runs a local script the way its npm script does; none of these cases gets as far as starting anything. */
function run(script: string, args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, script), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, JWT_SECRET: 'usage-test-secret-usage-test-secret' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm start / npm run token usage errors: one line and exit 2, never a stack trace', () => {
  it.each([
    ['local/main.ts', ['--bogus'], /^npm start: Unknown option '--bogus'\nUsage: npm start/],
    ['local/main.ts', ['--data-dir'], /^npm start: Option '--data-dir <value>' argument missing\nUsage:/],
    [
      'local/token.ts',
      ['--tenant', 't1', '--sub', 'me', '--bogus'],
      /^token: Unknown option '--bogus'\nUsage:/,
    ],
  ])('%s %j', (script, args, message) => {
    const result = run(script, args);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('npm start -- --help prints the options and starts nothing', () => {
    const result = run('local/main.ts', ['--help']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('--data-dir <dir>');
    expect(result.stdout).not.toContain('starting the offline runtime');
  });
});
