import { describe, expect, it } from 'vitest';
import { CLIENT_GZIP_BUDGET_BYTES, clientSize, producerSize } from '../../bench/packageSizes.js';

describe('package entry sizes', () => {
  it('the producer bundles no zod locale besides English', async () => {
    const size = await producerSize();
    expect(size.zodLocales).toEqual([]);
    expect(size.gzipBytes).toBeGreaterThan(0);
  });

  it('the browser client stays within its budget of 6 KB gzipped, with no dependency bundled', async () => {
    const size = await clientSize();
    expect(size.gzipBytes).toBeGreaterThan(1000);
    expect(size.gzipBytes, `${size.gzipBytes} B gzipped`).toBeLessThanOrEqual(CLIENT_GZIP_BUDGET_BYTES);
    expect(size.packages).toEqual([]);
  });
});
