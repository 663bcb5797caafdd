import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT } from '../../lib/TopologyFunction.js';

const map = readFileSync(path.join(REPOSITORY_ROOT, 'ARCHITECTURE.md'), 'utf8');
/** Every `code span` that looks like a repository path (a known top-level folder, or a root file). */
const paths = [...map.matchAll(/`([^`\s]+)`/g)]
  .map((m) => m[1] ?? '')
  .filter((text) => /^(src|lib|lambdas|local|bench|bin|test|docs)\//.test(text) && !text.includes('*'))
  .map((text) => text.replace(/\/$/, ''));

describe('ARCHITECTURE.md', () => {
  it('names only paths that exist', () => {
    expect(paths.length).toBeGreaterThan(40);
    expect(paths.filter((p) => !existsSync(path.join(REPOSITORY_ROOT, p)))).toEqual([]);
  });

  it('maps every handler', () => {
    const handlers = [
      'audit',
      'fanout',
      'publisher',
      'webhook-api',
      'webhook-delivery',
      'webhook-dispatcher',
    ];
    const more = ['ws-authorizer', 'ws-connect', 'ws-disconnect', 'ws-message'];
    expect([...handlers, ...more].filter((h) => !paths.includes(`lambdas/${h}/handler.ts`))).toEqual([]);
  });
});
