/**
 * The tenant webhook API on the offline runtime: requests under `/webhooks/` on the runtime's HTTP
 * server become API Gateway HTTP API events (payload 2.0) for the same `webhookApi` handler that
 * is deployed, invoked through the local Lambda invoker.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import type { RouteHandler } from './controlServer.js';
import type { Invoker } from './lambda/invoker.js';

const resultSchema = z.object({
  statusCode: z.number().int(),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.string().optional(),
});

/** API Gateway's HTTP API payload limit (10 MB); our handler refuses far smaller bodies itself. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

export function webhooksApiRoute(invoker: Pick<Invoker, 'invoke'>): RouteHandler {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (url.pathname !== '/webhooks' && !url.pathname.startsWith('/webhooks/')) return false;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += buffer.length;
      if (size > MAX_BODY_BYTES) {
        res
          .writeHead(413, { 'content-type': 'application/json' })
          .end('{"message":"Request Entity Too Large"}');
        return true;
      }
      chunks.push(buffer);
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
    }
    const body = Buffer.concat(chunks).toString('utf8');
    const method = req.method ?? 'GET';
    const event = {
      version: '2.0',
      routeKey: 'ANY /webhooks/{proxy+}',
      rawPath: url.pathname,
      rawQueryString: url.search.replace(/^\?/, ''),
      headers,
      queryStringParameters: url.search === '' ? undefined : Object.fromEntries(url.searchParams),
      requestContext: {
        http: {
          method,
          path: url.pathname,
          protocol: 'HTTP/1.1',
          sourceIp: req.socket.remoteAddress ?? '',
          userAgent: headers['user-agent'] ?? '',
        },
        requestId: `local-${Date.now().toString(36)}`,
        routeKey: 'ANY /webhooks/{proxy+}',
        stage: '$default',
        timeEpoch: Date.now(),
      },
      pathParameters: { proxy: url.pathname.replace(/^\/webhooks\/?/, '') },
      body: body === '' ? undefined : body,
      isBase64Encoded: false,
    };
    let result: z.infer<typeof resultSchema>;
    try {
      result = resultSchema.parse(await invoker.invoke('webhookApi', event));
    } catch {
      // What API Gateway answers when the integration fails.
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"Internal Server Error"}');
      return true;
    }
    res.writeHead(result.statusCode, result.headers ?? {}).end(result.body ?? '');
    return true;
  };
}
