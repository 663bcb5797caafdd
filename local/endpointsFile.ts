/**
 * `<dataDir>/endpoints.json`: what `npm start` is running and where, so the CLI, `npm run demo`
 * and people can reach it. `env` is exactly what the handlers see, the dev JWT secret included,
 * so the file is written readable by its owner only (0600).
 */
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { LOCAL_REGION } from './constants.js';
import type { Runtime } from './runtime.js';

export const endpointsFileSchema = z.object({
  region: z.string(),
  endpoints: z.record(z.string(), z.string()),
  env: z.record(z.string(), z.string()),
  pid: z.number().int(),
  startedAt: z.string(),
});
export type EndpointsFile = z.infer<typeof endpointsFileSchema>;

/** Owner read/write only: the file holds the dev JWT secret. */
export const ENDPOINTS_FILE_MODE = 0o600;

export function endpointsFilePath(dataDir: string): string {
  return join(dataDir, 'endpoints.json');
}

export function writeEndpointsFile(
  dataDir: string,
  runtime: Pick<Runtime, 'endpoints' | 'env'>,
): EndpointsFile {
  const file: EndpointsFile = {
    region: LOCAL_REGION,
    endpoints: { ...runtime.endpoints },
    env: { ...runtime.env },
    pid: process.pid,
    startedAt: new Date().toISOString(),
  };
  const path = endpointsFilePath(dataDir);
  const tmp = `${path}.tmp`;
  // Write then rename: a reader never sees half a file. A leftover temp file keeps its old mode
  // through writeFileSync, so remove it first and set the mode again before the rename.
  rmSync(tmp, { force: true });
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: ENDPOINTS_FILE_MODE });
  chmodSync(tmp, ENDPOINTS_FILE_MODE);
  renameSync(tmp, path);
  return file;
}

/** The file of a previous or running runtime, or undefined when missing or unreadable. */
export function readEndpointsFile(dataDir: string): EndpointsFile | undefined {
  try {
    const parsed = endpointsFileSchema.safeParse(
      JSON.parse(readFileSync(endpointsFilePath(dataDir), 'utf8')),
    );
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A clean stop removes the endpoints file (no runtime runs) but keeps its endpoints, without the
 * secret, as `last-endpoints.json`: the next start reuses those ports, so clients, a CLI shell or a
 * browser tab reconnect to the same address after a Ctrl-C as they do after a crash.
 */
export function removeEndpointsFile(dataDir: string): void {
  const previous = readEndpointsFile(dataDir);
  if (previous) {
    writeFileSync(
      lastEndpointsPath(dataDir),
      `${JSON.stringify({ endpoints: previous.endpoints }, null, 2)}\n`,
    );
  }
  rmSync(endpointsFilePath(dataDir), { force: true });
}

function lastEndpointsPath(dataDir: string): string {
  return join(dataDir, 'last-endpoints.json');
}

/** The endpoints of the running or the last run (crashed or stopped cleanly), for reusing its ports. */
export function readLastEndpoints(dataDir: string): Readonly<Record<string, string>> | undefined {
  const running = readEndpointsFile(dataDir);
  if (running) return running.endpoints;
  try {
    const parsed = z
      .object({ endpoints: z.record(z.string(), z.string()) })
      .safeParse(JSON.parse(readFileSync(lastEndpointsPath(dataDir), 'utf8')));
    return parsed.success ? parsed.data.endpoints : undefined;
  } catch {
    return undefined;
  }
}
