/**
 * The environment the handlers see in the offline runtime: region, fake credentials, the SDK's
 * service endpoint variables, every topology env var (table names, queue URLs, bus name), the
 * dev webhook setting and the JWT secret.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { topology } from '../src/contract/topology.js';
import { ALLOW_PRIVATE_WEBHOOKS_ENV } from '../src/core/addressPolicy.js';
import { JWT_ENV } from '../src/core/token.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './constants.js';
import type { LocalQueue } from './queues.js';
import type { LocalTable } from './tables.js';

/** Keeps the SDK quiet about Node 20 (Lambda runs 22; the local runtime runs on 20): its documented switch. */
export const SDK_WARNING_ENV = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } as const;

export function baseAwsEnv(): Record<string, string> {
  return {
    ...SDK_WARNING_ENV,
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  };
}

export function runtimeEnv(input: {
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  eventBridgeEndpoint: string;
  managementEndpoint: string;
  busName: string;
  tables: Readonly<Record<string, LocalTable>>;
  queues: Readonly<Record<string, LocalQueue>>;
  jwtSecret: string;
  /** The secret before the last rotation, still accepted (see devJwtPreviousSecret). */
  jwtPreviousSecret?: string;
}): Record<string, string> {
  const env: Record<string, string> = {
    ...baseAwsEnv(),
    AWS_ENDPOINT_URL_DYNAMODB: input.dynamodbEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: input.dynamodbEndpoint,
    AWS_ENDPOINT_URL_SQS: input.sqsEndpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: input.eventBridgeEndpoint,
    [topology.bus.env]: input.busName,
    [topology.webSocket.managementEndpointEnv]: input.managementEndpoint,
    [ALLOW_PRIVATE_WEBHOOKS_ENV]: 'true',
    [JWT_ENV.secret]: input.jwtSecret,
    ...(input.jwtPreviousSecret ? { [JWT_ENV.previousSecret]: input.jwtPreviousSecret } : {}),
  };
  for (const [key, def] of Object.entries(topology.tables)) {
    const table = input.tables[key];
    if (table) env[def.env] = table.name;
  }
  for (const [key, def] of Object.entries(topology.queues)) {
    const queue = input.queues[key];
    if (queue) env[def.env] = queue.url;
  }
  return env;
}

/** A dev secret: kept in `<dataDir>/jwt-secret` so tokens survive restarts; random per in-memory run. */
export function devJwtSecret(dataDir: string | undefined): string {
  if (dataDir === undefined) return randomBytes(32).toString('base64url');
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) {
    const saved = readFileSync(file, 'utf8').trim();
    if (saved !== '') return saved;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/**
 * The dev secret before the last rotation, from `<dataDir>/jwt-secret.previous`: tokens it signed
 * keep verifying. To rotate locally, move `jwt-secret` to `jwt-secret.previous` and restart.
 */
export function devJwtPreviousSecret(dataDir: string | undefined): string | undefined {
  if (dataDir === undefined) return undefined;
  const file = join(dataDir, 'jwt-secret.previous');
  if (!existsSync(file)) return undefined;
  const saved = readFileSync(file, 'utf8').trim();
  return saved === '' ? undefined : saved;
}
