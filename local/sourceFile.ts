/**
 * A module path that works both from the repository (TypeScript sources run by tsx) and from the
 * built package (`dist/`, compiled JavaScript): the `.ts` file when it exists, else its `.js` twin.
 */
import { existsSync } from 'node:fs';

export function sourceOrCompiled(path: string): string {
  if (!path.endsWith('.ts') || existsSync(path)) return path;
  const compiled = `${path.slice(0, -'.ts'.length)}.js`;
  return existsSync(compiled) ? compiled : path;
}
