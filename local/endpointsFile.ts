/**
 * `<dataDir>/endpoints.json`: what `npm start` is running and where, so the CLI, `npm run demo`
 * and people can reach it. `env` is exactly what the handlers see.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
  // Write then rename: a reader never sees half a file.
  writeFileSync(`${path}.tmp`, `${JSON.stringify(file, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
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

export function removeEndpointsFile(dataDir: string): void {
  rmSync(endpointsFilePath(dataDir), { force: true });
}
