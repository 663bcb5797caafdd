/**
 * How every Lambda entry is bundled, in one place for the stack (lib/TopologyFunction.ts), the
 * bundle-size construct test and the cold-start bench, so what is measured is what is deployed.
 *
 * esbuild, ESM for Node 22, minified, module-first main fields, a `require` shim for CommonJS
 * dependencies, `@aws-sdk/*` external (the Lambda runtime provides SDK v3). Two switches:
 * - `xraySdk`: the Powertools tracer (and with it the X-Ray SDK, semver and cls-hooked, ~107 KB) is
 *   a dynamic import in src/aws/telemetry.ts; without it the define below turns its guard into a
 *   constant and esbuild drops the import, so the bundle does not carry it at all.
 * - `sourceMap`: a source map doubles the zip; only when asked for.
 */

/** Every deployed bundle stays under this (a construct test holds it). */
export const MAX_BUNDLE_BYTES = 150 * 1024;

/** Replaced at bundle time by `"true"` or `"false"`; read by src/aws/telemetry.ts. */
export const XRAY_SDK_DEFINE = 'process.env.OUTBOX_RELAY_XRAY_SDK';

export const ESM_REQUIRE_BANNER =
  "import { createRequire as __outboxRelayCreateRequire } from 'node:module'; const require = __outboxRelayCreateRequire(import.meta.url);";

export interface BundleSettings {
  /** Bundle the Powertools tracer / X-Ray SDK (handler and call subsegments). @default false */
  readonly xraySdk?: boolean;
  /** Ship a source map (and `--enable-source-maps`). @default false */
  readonly sourceMap?: boolean;
}

/** The esbuild settings shared by every bundle (esbuild's own option names). */
export function esbuildSettings(settings: BundleSettings = {}) {
  return {
    format: 'esm' as const,
    platform: 'node' as const,
    target: 'node22',
    minify: true,
    sourcemap: settings.sourceMap === true,
    sourcesContent: false,
    mainFields: ['module', 'main'],
    banner: ESM_REQUIRE_BANNER,
    external: ['@aws-sdk/*'],
    define: { [XRAY_SDK_DEFINE]: JSON.stringify(settings.xraySdk === true ? 'true' : 'false') },
  };
}
