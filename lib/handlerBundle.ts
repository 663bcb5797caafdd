/**
 * Prebuilt handler bundles: the package build (`scripts/build.ts`) bundles every topology function
 * with the same esbuild settings NodejsFunction gets inside this repository (`./bundling.ts`), once
 * per bundle variant (X-Ray SDK in or out, source map in or out), into
 * `dist/assets/<variant>/<function>/`. An installed package deploys those as assets.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import { type BundleSettings, esbuildSettings } from './bundling.js';

/** File name of a prebuilt bundle; Lambda's handler is then `index.handler`. */
export const HANDLER_BUNDLE_FILE = 'index.mjs';

/** Every bundle variant the build makes, by directory name. */
export const BUNDLE_VARIANTS = {
  default: {},
  xray: { xraySdk: true },
  'source-map': { sourceMap: true },
  'xray-source-map': { xraySdk: true, sourceMap: true },
} as const satisfies Record<string, BundleSettings>;

export type BundleVariant = keyof typeof BUNDLE_VARIANTS;

export function bundleVariant(settings: BundleSettings): BundleVariant {
  const xray = settings.xraySdk === true;
  const map = settings.sourceMap === true;
  if (xray) return map ? 'xray-source-map' : 'xray';
  return map ? 'source-map' : 'default';
}

/** esbuild options equal to NodejsFunction's with `./bundling.ts`'s settings. */
export function handlerBundleOptions(settings: BundleSettings): BuildOptions {
  const esbuild = esbuildSettings(settings);
  return {
    bundle: true,
    platform: esbuild.platform,
    format: esbuild.format,
    target: esbuild.target,
    minify: esbuild.minify,
    sourcemap: esbuild.sourcemap,
    sourcesContent: esbuild.sourcesContent,
    mainFields: esbuild.mainFields,
    banner: { js: esbuild.banner },
    external: esbuild.external,
    define: esbuild.define,
    logLevel: 'warning',
  };
}

/**
 * The prebuilt bundle directory of a function when this module runs from the built package
 * (`dist/lib/` beside `dist/assets/`); undefined inside the repository, where NodejsFunction
 * bundles from source.
 */
export function prebuiltHandlerDir(name: string, settings: BundleSettings): string | undefined {
  const dir = fileURLToPath(new URL(`../assets/${bundleVariant(settings)}/${name}`, import.meta.url));
  return existsSync(join(dir, HANDLER_BUNDLE_FILE)) ? dir : undefined;
}
