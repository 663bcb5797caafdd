/** The prebuilt handler bundles: one directory per bundle variant, built with lib/bundling.ts's settings. */
import { describe, expect, it } from 'vitest';
import { esbuildSettings } from '../../lib/bundling.js';
import {
  BUNDLE_VARIANTS,
  type BundleVariant,
  bundleVariant,
  handlerBundleOptions,
} from '../../lib/handlerBundle.js';

describe('handler bundle variants', () => {
  it('every xraySdk/sourceMap combination has its own variant, and each variant names its settings', () => {
    const chosen = [false, true].flatMap((xraySdk) =>
      [false, true].map((sourceMap) => bundleVariant({ xraySdk, sourceMap })),
    );
    expect(new Set(chosen).size).toBe(4);
    expect(chosen.sort()).toEqual(Object.keys(BUNDLE_VARIANTS).sort());
    for (const [variant, settings] of Object.entries(BUNDLE_VARIANTS))
      expect(bundleVariant(settings)).toBe(variant as BundleVariant);
    expect(bundleVariant({})).toBe('default');
  });

  it('the build uses the settings NodejsFunction gets in this repository', () => {
    for (const settings of Object.values(BUNDLE_VARIANTS)) {
      const shared = esbuildSettings(settings);
      expect(handlerBundleOptions(settings)).toMatchObject({
        bundle: true,
        format: shared.format,
        platform: shared.platform,
        target: shared.target,
        minify: shared.minify,
        sourcemap: shared.sourcemap,
        sourcesContent: shared.sourcesContent,
        mainFields: shared.mainFields,
        banner: { js: shared.banner },
        external: shared.external,
        define: shared.define,
      });
    }
  });
});
