/**
 * `npm run bench:sizes`: what an application pays for the package's entry points, minified and
 * gzipped as a bundler would ship them. The client (browser) has a budget of 6 KB gzipped; the
 * producer (Node, the AWS SDK external as on Lambda) is reported with the zod locales it pulls in
 * (it should pull in none besides English).
 */
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export const CLIENT_GZIP_BUDGET_BYTES = 6 * 1024;

export interface EntrySize {
  readonly entry: string;
  readonly minifiedBytes: number;
  readonly gzipBytes: number;
  /** zod locale modules in the bundle (other than `en`). */
  readonly zodLocales: readonly string[];
  /** npm packages that contributed bytes (the client's must be none). */
  readonly packages: readonly string[];
}

async function measure(entry: string, platform: 'browser' | 'node'): Promise<EntrySize> {
  const result = await build({
    entryPoints: [new URL(entry, import.meta.url).pathname],
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    platform,
    target: platform === 'browser' ? 'es2022' : 'node20',
    metafile: true,
    logLevel: 'silent',
    ...(platform === 'node' ? { external: ['@aws-sdk/*'] } : {}),
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error(`esbuild produced no output for ${entry}`);
  // Inputs that contributed bytes (a module esbuild read but tree-shook away does not count).
  const included = Object.values(result.metafile.outputs).flatMap((out) =>
    Object.entries(out.inputs)
      .filter(([, use]) => use.bytesInOutput > 0)
      .map(([input]) => input),
  );
  const zodLocales = included
    .filter((input) => /zod\/.*locales\/(?!en\.|index\.)/.test(input))
    .map((input) => input.replace(/.*locales\//, ''));
  const packages = [
    ...new Set(
      included
        .map((input) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1])
        .filter((name): name is string => name !== undefined),
    ),
  ].sort();
  return {
    entry,
    minifiedBytes: output.contents.byteLength,
    gzipBytes: gzipSync(output.contents).byteLength,
    zodLocales,
    packages,
  };
}

export function clientSize(): Promise<EntrySize> {
  return measure('../src/client/index.ts', 'browser');
}

export function producerSize(): Promise<EntrySize> {
  return measure('../src/producer/index.ts', 'node');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const size of [await clientSize(), await producerSize()]) {
    console.log(
      `${size.entry}: ${size.minifiedBytes} B minified, ${size.gzipBytes} B gzipped, zod locales: ${size.zodLocales.length === 0 ? 'none' : size.zodLocales.join(' ')}`,
    );
  }
  const client = await clientSize();
  console.log(
    `client budget: ${client.gzipBytes} of ${CLIENT_GZIP_BUDGET_BYTES} B gzipped (${CLIENT_GZIP_BUDGET_BYTES - client.gzipBytes} B left)`,
  );
}
