import { describe, expect, it } from 'vitest';
import { producerSize } from '../../bench/packageSizes.js';

describe('package entry sizes', () => {
  it('the producer bundles no zod locale besides English', async () => {
    const size = await producerSize();
    expect(size.zodLocales).toEqual([]);
    expect(size.gzipBytes).toBeGreaterThan(0);
  });
});
