/**
 * `npm run build`: the installable package in `dist/`. TypeScript compiles to ESM JavaScript with
 * declarations; the console page is copied beside its server; each topology function is bundled
 * here with the settings NodejsFunction gets in this repository (`lib/bundling.ts`), once per
 * variant (`xraySdk`, `sourceMaps`), into `dist/assets/<variant>/<name>/`, so an app that installs
 * the package deploys prebuilt handlers and needs neither esbuild nor the sources.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BUNDLE_VARIANTS, HANDLER_BUNDLE_FILE, handlerBundleOptions } from '../lib/handlerBundle.js';
import { topology } from '../src/contract/topology.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const DIST = join(ROOT, 'dist');

rmSync(DIST, { recursive: true, force: true });

const tsc = spawnSync(
  process.execPath,
  [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: ROOT,
    stdio: 'inherit',
  },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

copyFileSync(join(ROOT, 'local/console/page.html'), join(DIST, 'local/console/page.html'));

const bundles = Object.entries(BUNDLE_VARIANTS).flatMap(([variant, settings]) =>
  Object.entries(topology.functions).map(([name, def]) => ({ variant, settings, name, entry: def.entry })),
);
for (const { variant, settings, name, entry } of bundles) {
  const outdir = join(DIST, 'assets', variant, name);
  mkdirSync(outdir, { recursive: true });
  await build({
    ...handlerBundleOptions(settings),
    entryPoints: [join(ROOT, entry)],
    outfile: join(outdir, HANDLER_BUNDLE_FILE),
  });
}
console.log(`dist/ built: ${bundles.length} handler bundles in dist/assets`);
