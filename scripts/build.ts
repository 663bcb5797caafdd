/**
 * `npm run build`: the installable package in `dist/`. TypeScript compiles to ESM JavaScript with
 * declarations; the console page is copied beside its server; each topology function is bundled
 * here with the settings NodejsFunction gets in this repository (`lib/bundling.ts`), once per
 * variant (`xraySdk`, `sourceMaps`), into `dist/assets/<variant>/<name>/`, so an app that installs
 * the package deploys prebuilt handlers and needs neither esbuild nor the sources.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import {
  BUNDLE_VARIANTS,
  bundleVariant,
  HANDLER_BUNDLE_FILE,
  handlerBundleOptions,
} from '../lib/handlerBundle.js';
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

// Each function is bundled once per `xraySdk` setting with an external source map: the variant
// without a map is that code; the one with a map is the same code with esbuild's linking comment
// (what `sourcemap: true` writes) and the map beside it. Half the esbuild runs of four builds.
let written = 0;
for (const xraySdk of [false, true]) {
  for (const [name, def] of Object.entries(topology.functions)) {
    const result = await build({
      ...handlerBundleOptions({ xraySdk, sourceMap: true }),
      sourcemap: 'external',
      entryPoints: [join(ROOT, def.entry)],
      // Where the mapped variant lives: the map's source paths are relative to it.
      outfile: join(DIST, 'assets', bundleVariant({ xraySdk, sourceMap: true }), name, HANDLER_BUNDLE_FILE),
      write: false,
    });
    const code = result.outputFiles.find((file) => file.path.endsWith(HANDLER_BUNDLE_FILE));
    const map = result.outputFiles.find((file) => file.path.endsWith(`${HANDLER_BUNDLE_FILE}.map`));
    if (!code || !map) throw new Error(`esbuild gave no bundle or no source map for ${name}`);
    for (const sourceMap of [false, true]) {
      const outdir = join(DIST, 'assets', bundleVariant({ xraySdk, sourceMap }), name);
      mkdirSync(outdir, { recursive: true });
      if (!sourceMap) {
        writeFileSync(join(outdir, HANDLER_BUNDLE_FILE), code.contents);
        continue;
      }
      writeFileSync(
        join(outdir, HANDLER_BUNDLE_FILE),
        `${code.text}//# sourceMappingURL=${HANDLER_BUNDLE_FILE}.map\n`,
      );
      writeFileSync(join(outdir, `${HANDLER_BUNDLE_FILE}.map`), map.contents);
    }
    written += 2;
  }
}
console.log(
  `dist/ built: ${written} handler bundles in dist/assets (${Object.keys(BUNDLE_VARIANTS).length} variants)`,
);
