/**
 * Finds a Chromium for browser tests without root: `CHROMIUM_PATH` if set, else a system Chromium or
 * Chrome, else the Chromium shipped inside the `@sparticuz/chromium` npm package (unpacked to the
 * temp directory on first use). So `npm ci && npm test` works on a fresh machine with no browser.
 */
import { existsSync } from 'node:fs';

const SYSTEM_BROWSERS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

/** Flags every launch needs here: without the networking ones Chromium floods a closed network with connection attempts. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface ChromiumLaunch {
  readonly executablePath: string;
  readonly args: readonly string[];
  /** Where it came from, for the test's log. */
  readonly source: 'env' | 'system' | 'npm';
}

export async function findChromium(): Promise<ChromiumLaunch> {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return { executablePath: fromEnv, args: CHROMIUM_FLAGS, source: 'env' };
  const system = SYSTEM_BROWSERS.find((path) => existsSync(path));
  if (system) return { executablePath: system, args: CHROMIUM_FLAGS, source: 'system' };
  const { default: packaged } = await import('@sparticuz/chromium');
  const executablePath = await packaged.executablePath();
  return { executablePath, args: [...new Set([...packaged.args, ...CHROMIUM_FLAGS])], source: 'npm' };
}
