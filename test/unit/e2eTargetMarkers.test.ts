/**
 * Every end-to-end file either reads a deployed stack's outputs (and says so on its first line)
 * or declares itself offline-only with a reason, so `E2E_TARGET=stack` runs exactly the files that
 * can verify a real deployment (see test/e2e/targets/markers.ts and docs/deploy.md).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { declaredTarget, e2eFiles } from '../e2e/targets/markers.js';

const E2E_DIRECTORY = fileURLToPath(new URL('../e2e', import.meta.url));
const files = e2eFiles(E2E_DIRECTORY);

describe('end-to-end target markers', () => {
  it('finds the end-to-end files', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it.each(files.map((f) => [f.file.slice(E2E_DIRECTORY.length + 1), f] as const))(
    '%s declares its target on its first line',
    (_name, file) => {
      expect(
        file.target,
        'first line: `// e2e-target: stack` or `// e2e-target: offline-only — <why>`',
      ).toBeDefined();
      if (file.target?.kind === 'stack') {
        // It reads the stack's outputs, and branches on the target.
        expect(file.source).toMatch(/\bopenStackTarget\(\)/);
        expect(file.source).toMatch(/\bisStackTarget\(\)/);
      } else {
        expect(file.target?.reason.length ?? 0).toBeGreaterThan(10);
      }
    },
  );

  it('has at least one file that verifies a deployed stack', () => {
    expect(files.filter((f) => f.target?.kind === 'stack').length).toBeGreaterThanOrEqual(1);
  });

  it('reads only a well-formed first line as a declaration', () => {
    expect(declaredTarget('// e2e-target: stack\nimport x')).toEqual({ kind: 'stack' });
    expect(declaredTarget('// e2e-target: offline-only — needs the local gateway\n')).toEqual({
      kind: 'offline-only',
      reason: 'needs the local gateway',
    });
    expect(declaredTarget('/**\n// e2e-target: stack')).toBeUndefined();
    expect(declaredTarget('// e2e-target: offline-only\n')).toBeUndefined();
    expect(declaredTarget('// e2e-target: anywhere\n')).toBeUndefined();
  });
});
