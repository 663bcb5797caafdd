import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { e2eFiles } from './test/e2e/targets/markers.js';

// The machines run Node 20 (Lambda runs Node 22): silence the SDK's Node-version notice in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// Against a deployed stack (E2E_TARGET=stack) only the files declaring `// e2e-target: stack` run.
const e2eInclude =
  process.env.E2E_TARGET === 'stack'
    ? e2eFiles('test/e2e')
        .filter((f) => f.target?.kind === 'stack')
        .map((f) => f.file)
    : ['test/e2e/**/*.test.ts'];

// Unit tests run in parallel; construct and consumer tests (heavy synths) one file at a time;
// end-to-end tests each start a whole offline runtime (a JVM for DynamoDB Local among it), one per core.
export default defineConfig({
  test: {
    // Vitest's default is one worker less than the cores: a single worker on a 2-core machine,
    // which left one core idle while end-to-end files waited on their runtimes.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 } },
      {
        test: {
          name: 'constructs',
          include: ['test/constructs/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        // The packed package installed into a temporary app: builds dist/, installs from the npm cache.
        test: {
          name: 'consumers',
          include: ['test/consumers/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: e2eInclude,
          testTimeout: 180_000,
          hookTimeout: 120_000,
          // In parallel like the unit tests (one file per core): each waits on its runtime far more
          // than it computes (one by one, the whole suite used under one core of two); ports come
          // from the OS and data directories are per runtime, so two files never share anything.
        },
      },
    ],
  },
});
