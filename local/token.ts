/**
 * Dev token minting: `npm run token -- --tenant t1 --sub agent-7 [--channels orders,billing] [--ttl 3600]`
 * prints an HS256 token signed with `JWT_SECRET`, or with the running offline runtime's secret
 * (from `.local/endpoints.json`'s env, i.e. `npm start`'s `.local/jwt-secret`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as z from 'zod';
import {
  JWT_ENV,
  MAX_TOKEN_LIFETIME_ENV,
  maxTokenLifetimeFromEnv,
  mintConnectionToken,
  secretKey,
  tokenClaimsSchema,
} from '../src/core/token.js';

const endpointsFileSchema = z.object({ env: z.record(z.string(), z.string()).optional() }).loose();

function resolveSecret(): string | undefined {
  if (process.env[JWT_ENV.secret]) return process.env[JWT_ENV.secret];
  for (const file of ['.local/endpoints.json']) {
    if (!existsSync(file)) continue;
    const parsed = endpointsFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    const secret = parsed.success ? parsed.data.env?.[JWT_ENV.secret] : undefined;
    if (secret) return secret;
  }
  if (existsSync('.local/jwt-secret')) return readFileSync('.local/jwt-secret', 'utf8').trim() || undefined;
  return undefined;
}

async function main(): Promise<number> {
  const usage =
    'Usage: npm run token -- --tenant <tenantId> --sub <subject> [--channels a,b] [--ttl seconds]';
  let values: { tenant?: string; sub?: string; channels?: string; ttl: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        tenant: { type: 'string' },
        sub: { type: 'string' },
        channels: { type: 'string' },
        ttl: { type: 'string', default: '3600' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    // An unknown option or a missing value is a usage error (exit 2), like every other one here.
    console.error(`token: ${error instanceof Error ? error.message : String(error)}\n${usage}`);
    return 2;
  }
  if (values.help || !values.tenant || !values.sub) {
    console.error(usage);
    return values.help ? 0 : 2;
  }
  const secret = resolveSecret();
  if (!secret) {
    console.error(
      'token: no JWT_SECRET in the environment and no .local/ runtime state; start `npm start` first or set JWT_SECRET',
    );
    return 1;
  }
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0) {
    console.error(`token: --ttl must be a positive number of seconds, got "${values.ttl}"`);
    return 2;
  }
  // The authorizer refuses longer-lived tokens (lifetime_too_long): do not mint one that cannot connect.
  const maxTtl = maxTokenLifetimeFromEnv(process.env);
  if (ttl > maxTtl) {
    console.error(
      `token: --ttl ${ttl} is above the accepted maximum of ${maxTtl} s (${MAX_TOKEN_LIFETIME_ENV})`,
    );
    return 2;
  }
  const channels = values.channels
    ?.split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  // The same claim rules the authorizer applies (names: docs/names.md): refuse here, not at $connect.
  const claims = tokenClaimsSchema.safeParse({ sub: values.sub, tenant: values.tenant, channels });
  if (!claims.success) {
    for (const issue of claims.error.issues)
      console.error(`token: --${String(issue.path[0])}: ${issue.message}`);
    return 2;
  }
  const token = await mintConnectionToken(
    {
      tenantId: values.tenant,
      subject: values.sub,
      ...(channels ? { channels } : {}),
      expiresInSeconds: ttl,
    },
    secretKey(secret),
  );
  console.log(token);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
