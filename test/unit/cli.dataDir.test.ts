import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/errors.js';
import { takeDataDirFlag } from '../../src/cli/target.js';

describe('--data-dir', () => {
  it('is taken from anywhere in the arguments, in both spellings', () => {
    expect(takeDataDirFlag(['audit', '--data-dir', '/tmp/a', 'get', 'x'])).toEqual({
      args: ['audit', 'get', 'x'],
      dataDir: '/tmp/a',
    });
    expect(takeDataDirFlag(['--data-dir=/tmp/b', 'dlq', '--json'])).toEqual({
      args: ['dlq', '--json'],
      dataDir: '/tmp/b',
    });
  });

  it('leaves the arguments alone when absent', () => {
    expect(takeDataDirFlag(['webhooks', 'list', '--stack', 's'])).toEqual({
      args: ['webhooks', 'list', '--stack', 's'],
    });
  });

  it('refuses a missing directory', () => {
    expect(() => takeDataDirFlag(['audit', '--data-dir'])).toThrow(CliError);
    expect(() => takeDataDirFlag(['audit', '--data-dir', '--json'])).toThrow(CliError);
    expect(() => takeDataDirFlag(['audit', '--data-dir='])).toThrow(CliError);
  });
});
