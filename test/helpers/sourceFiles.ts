/** The repository's TypeScript sources, for tests that check a rule across the code base. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { REPOSITORY_ROOT } from '../../lib/TopologyFunction.js';

export interface SourceFile {
  /** Relative to the repository root. */
  readonly file: string;
  readonly text: string;
}

/** Every `.ts`/`.tsx` file below the given top-level folders (no `node_modules`, no dot folders). */
export function sourceFiles(...directories: string[]): SourceFile[] {
  const walk = (directory: string): string[] =>
    readdirSync(directory).flatMap((entry) => {
      const full = path.join(directory, entry);
      if (entry === 'node_modules' || entry.startsWith('.')) return [];
      if (statSync(full).isDirectory()) return walk(full);
      return /\.tsx?$/.test(entry) ? [full] : [];
    });
  return directories
    .flatMap((d) => walk(path.join(REPOSITORY_ROOT, d)))
    .map((full) => ({ file: path.relative(REPOSITORY_ROOT, full), text: readFileSync(full, 'utf8') }));
}
