/**
 * REQUEST authorizer of the WebSocket API's `$connect` route: verifies the `token` query-string
 * parameter (browsers cannot set headers on a WebSocket). A missing, malformed, expired, not yet
 * valid or badly signed token, one without `exp`, one living longer than `JWT_MAX_LIFETIME_SECONDS`
 * or with malformed claims throws `Unauthorized` (API Gateway answers 401); a verified token of
 * another issuer or audience, or a browser page from an origin outside `WEBSOCKET_ALLOWED_ORIGINS`,
 * gets a Deny policy (403). Either way `$connect` never runs, so no record.
 */
import * as z from 'zod';
import { getTokenVerifier } from '../../src/aws/jwtSecret.js';
import { getTelemetry, instrumentHandler } from '../../src/aws/telemetry.js';
import { toAuthorizerContext } from '../../src/core/authorizerContext.js';
import { METRIC_SERVICE } from '../../src/core/metricNames.js';
import {
  ALLOWED_ORIGINS_ENV,
  originAllowed,
  originHeader,
  parseAllowedOrigins,
} from '../../src/core/originPolicy.js';
import { type TokenRefusal, TokenRejectedError } from '../../src/core/websocketErrors.js';

const telemetry = getTelemetry(METRIC_SERVICE.wsAuthorizer);
const verify = getTokenVerifier();

const requestAuthorizerEventSchema = z.object({
  methodArn: z.string(),
  queryStringParameters: z.record(z.string(), z.string().optional()).nullish(),
  headers: z.record(z.string(), z.string().optional()).nullish(),
  requestContext: z.object({ connectionId: z.string().optional() }).loose().optional(),
});

export interface AuthorizerResult {
  principalId: string;
  policyDocument: {
    Version: '2012-10-17';
    Statement: { Action: 'execute-api:Invoke'; Effect: 'Allow' | 'Deny'; Resource: string }[];
  };
  context?: Record<string, string>;
}

function policy(
  principalId: string,
  effect: 'Allow' | 'Deny',
  resource: string,
  context?: Record<string, string>,
): AuthorizerResult {
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }],
    },
    ...(context ? { context } : {}),
  };
}

const UNAUTHORIZED: readonly TokenRefusal[] = [
  'missing',
  'malformed',
  'expired',
  'bad_signature',
  'bad_claims',
  'missing_exp',
  'lifetime_too_long',
  'not_yet_valid',
];

export const handler = instrumentHandler(telemetry, async (event: unknown): Promise<AuthorizerResult> => {
  const parsed = requestAuthorizerEventSchema.safeParse(event);
  if (!parsed.success) throw new Error('Unauthorized');
  const { methodArn, queryStringParameters, headers } = parsed.data;
  const origin = originHeader(headers);
  // Read per call (the offline runtime may change it); a bad value throws, refusing rather than allowing all.
  if (!originAllowed(origin, parseAllowedOrigins(process.env[ALLOWED_ORIGINS_ENV]))) {
    telemetry.logger.info('origin refused', { origin });
    return policy('anonymous', 'Deny', methodArn);
  }
  try {
    const identity = await verify(queryStringParameters?.token ?? undefined);
    return policy(`${identity.tenantId}|${identity.subject}`, 'Allow', methodArn, {
      ...toAuthorizerContext(identity),
    });
  } catch (error) {
    if (error instanceof TokenRejectedError) {
      telemetry.logger.info('token refused', { refusal: error.refusal });
      // The exact message `Unauthorized` is what makes API Gateway answer 401.
      if (UNAUTHORIZED.includes(error.refusal)) throw new Error('Unauthorized');
      return policy('anonymous', 'Deny', methodArn);
    }
    throw error;
  }
});
