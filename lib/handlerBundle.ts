/**
 * How a handler is bundled for Lambda, shared by NodejsFunction (`./TopologyFunction.ts`, inside
 * this repository) and the package build (`scripts/build.ts`, the prebuilt `dist/assets/<name>/`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

/** ESM bundles use `require` for CommonJS dependencies: give them one. */
export const REQUIRE_SHIM_BANNER =
  "import { createRequire as __outboxRelayCreateRequire } from 'node:module'; const require = __outboxRelayCreateRequire(import.meta.url);";

/** File name of a prebuilt bundle; Lambda's handler is then `index.handler`. */
export const HANDLER_BUNDLE_FILE = 'index.mjs';

/** esbuild options equal to NodejsFunction's with `TopologyFunction`'s bundling settings. */
export const handlerBundleOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  banner: { js: REQUIRE_SHIM_BANNER },
  // The Lambda Node.js runtime provides the AWS SDK v3.
  external: ['@aws-sdk/*'],
  logLevel: 'warning',
} as const satisfies BuildOptions;

/**
 * The prebuilt bundle directory of a function when this module runs from the built package
 * (`dist/lib/` beside `dist/assets/`); undefined inside the repository, where NodejsFunction
 * bundles from source.
 */
export function prebuiltHandlerDir(name: string): string | undefined {
  const dir = fileURLToPath(new URL(`../assets/${name}`, import.meta.url));
  return existsSync(join(dir, HANDLER_BUNDLE_FILE)) ? dir : undefined;
}
