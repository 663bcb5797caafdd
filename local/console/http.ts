/** Small HTTP helpers for the console routes: JSON bodies in and out, refusals with a code and a sentence. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type * as z from 'zod';
import type { ConsoleErrorCode } from './apiSchemas.js';

/** Console API bodies are tiny; anything larger is a mistake. */
const MAX_BODY_BYTES = 64 * 1024;

export class ConsoleRequestError extends Error {
  override readonly name = 'ConsoleRequestError';
  constructor(
    readonly status: number,
    readonly code: ConsoleErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, contentType: string, text: string): void {
  res.writeHead(status, { 'content-type': `${contentType}; charset=utf-8`, 'cache-control': 'no-store' });
  res.end(text);
}

export function sendError(res: ServerResponse, error: ConsoleRequestError): void {
  sendJson(res, error.status, { error: { code: error.code, message: error.message } });
}

export async function readJson<TSchema extends z.ZodType>(
  req: IncomingMessage,
  schema: TSchema,
): Promise<z.output<TSchema>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES)
      throw new ConsoleRequestError(413, 'BAD_REQUEST', 'The request body is too large');
    chunks.push(buffer);
  }
  let value: unknown;
  try {
    value = chunks.length === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ConsoleRequestError(400, 'BAD_REQUEST', 'The request body is not JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`)
      .join('; ');
    throw new ConsoleRequestError(400, 'BAD_REQUEST', `Invalid request: ${detail}`);
  }
  return parsed.data;
}
