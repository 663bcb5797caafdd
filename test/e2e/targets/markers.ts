/**
 * Every end-to-end file declares, on its first line, what it can run against:
 *
 * - `// e2e-target: stack` — it reads a deployed stack's outputs when `E2E_TARGET=stack`
 *   (through `openStackTarget()`), and the offline runtime otherwise;
 * - `// e2e-target: offline-only — <why>` — it needs the offline runtime (fault injection, the
 *   local gateway, 127.0.0.1 receivers, ...) and is left out when `E2E_TARGET=stack`.
 *
 * vitest.config.ts picks the files by this line; test/unit/e2eTargetMarkers.test.ts checks it.
 * Plain Node (no vitest imports): the vitest configuration loads this module.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type E2eTarget =
  | { readonly kind: 'stack' }
  | { readonly kind: 'offline-only'; readonly reason: string };

const MARKER = /^\/\/ e2e-target: (?:(stack)|offline-only — (\S.*))$/;

/** The declared target of a test file's source, or undefined when its first line declares none. */
export function declaredTarget(source: string): E2eTarget | undefined {
  const firstLine = source.split('\n', 1)[0] ?? '';
  const match = MARKER.exec(firstLine.trimEnd());
  if (!match) return undefined;
  return match[1] ? { kind: 'stack' } : { kind: 'offline-only', reason: match[2] ?? '' };
}

/** Every `*.test.ts` directly under `directory` with its declared target. */
export function e2eFiles(
  directory: string,
): { file: string; source: string; target: E2eTarget | undefined }[] {
  return readdirSync(directory)
    .filter((name) => name.endsWith('.test.ts'))
    .sort()
    .map((name) => {
      const source = readFileSync(join(directory, name), 'utf8');
      return { file: join(directory, name), source, target: declaredTarget(source) };
    });
}
