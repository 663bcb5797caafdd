/**
 * The page's script, bundled for the browser with esbuild on first request and kept in memory:
 * no build step, and the page always runs the repository's current client SDK.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { sourceOrCompiled } from '../sourceFile.js';

const ENTRY = sourceOrCompiled(fileURLToPath(new URL('./browser/app.ts', import.meta.url)));

let bundled: Promise<string> | undefined;

export function browserBundle(): Promise<string> {
  bundled ??= build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    logLevel: 'silent',
  }).then((result) => {
    const output = result.outputFiles[0];
    if (!output) throw new Error('esbuild produced no output for the console script');
    return output.text;
  });
  // A failed build is not cached: the next request tries again (e.g. after fixing a syntax error).
  bundled.catch(() => {
    bundled = undefined;
  });
  return bundled;
}
