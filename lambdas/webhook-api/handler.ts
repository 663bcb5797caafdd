/**
 * The tenant webhook API (docs/webhooks-api.yaml) behind API Gateway's HTTP API (payload format
 * 2.0, one `ANY /webhooks/{proxy+}` route), and behind the offline runtime's local route. Thin:
 * parse the event → `handleWebhookApi` (src/core/webhookApi.ts: token, route, operation) → map
 * the response. The token is the WebSocket's JWT, verified the same way (src/aws/jwtSecret.ts).
 */
import * as z from 'zod/mini';
import { getTokenVerifier } from '../../src/aws/jwtSecret.js';
import { getTelemetry, instrumentHandler } from '../../src/aws/telemetry.js';
import { getWebhookAdmin } from '../../src/aws/webhookAdmin.js';
import { METRIC_SERVICE } from '../../src/core/metricNames.js';
import { handleWebhookApi } from '../../src/core/webhookApi.js';

const telemetry = getTelemetry(METRIC_SERVICE.webhookApi);
const verify = getTokenVerifier();

const httpApiEventSchema = z.object({
  rawPath: z.string(),
  headers: z.nullish(z.record(z.string(), z.optional(z.string()))),
  queryStringParameters: z.nullish(z.record(z.string(), z.optional(z.string()))),
  body: z.nullish(z.string()),
  isBase64Encoded: z.optional(z.boolean()),
  requestContext: z.looseObject({ http: z.looseObject({ method: z.string() }) }),
});

export interface HttpApiResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

function respond(statusCode: number, payload: unknown): HttpApiResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(payload),
  };
}

export const handler = instrumentHandler(telemetry, async (event: unknown): Promise<HttpApiResult> => {
  const parsed = httpApiEventSchema.safeParse(event);
  if (!parsed.success) return respond(400, { error: 'INVALID_REQUEST', message: 'not an HTTP API request' });
  const { rawPath, headers, queryStringParameters, body, isBase64Encoded, requestContext } = parsed.data;
  // HTTP API lower-cases header names.
  const lower = Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const response = await handleWebhookApi(
    {
      method: requestContext.http.method,
      path: rawPath,
      query: queryStringParameters ?? {},
      headers: lower,
      body: body == null ? undefined : isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body,
    },
    {
      verify,
      admin: getWebhookAdmin(),
      logError: (message, error) => telemetry.logger.error(message, { error }),
    },
  );
  return respond(response.status, response.body);
});
