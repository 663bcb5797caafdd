/**
 * The live console page, served by the offline runtime's HTTP server at `/` and `/console/**`:
 * mint a dev token, connect with the client SDK, watch events and the connection state, write
 * demo events, inspect an event's audit trail, drop the connection to watch the SDK resume.
 *
 * @example
 * const handle = createConsoleHandler({ env: runtime.env, endpoints: runtime.endpoints });
 * http.createServer(async (req, res) => { if (!(await handle(req, res))) res.writeHead(404).end(); });
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import { browserBundle } from './bundle.js';
import type { ConsoleContext } from './context.js';
import { ConsoleRequestError, readJson, sendError, sendJson, sendText } from './http.js';
import { createConsoleRoutes } from './routes.js';

export type { ConsoleContext } from './context.js';

export type ConsoleHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

const PAGE = new URL('./page.html', import.meta.url);
// Event ids are unique per tenant: `/console/api/events/<tenant>/<event id>`.
const EVENT_DETAILS_PATH = /^\/console\/api\/events\/([^/]+)\/([^/]+)$/;

export function createConsoleHandler(ctx: ConsoleContext): ConsoleHandler {
  const routes = createConsoleRoutes(ctx);
  let page: Promise<string> | undefined;

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://console.local');
    const path = url.pathname;
    if (path !== '/' && path !== '/console' && !path.startsWith('/console/')) return false;
    const method = req.method ?? 'GET';
    try {
      if (method === 'GET' && (path === '/' || path === '/console' || path === '/console/')) {
        page ??= readFile(PAGE, 'utf8');
        sendText(res, 200, 'text/html', await page);
      } else if (method === 'GET' && path === '/console/app.js') {
        sendText(res, 200, 'text/javascript', await browserBundle());
      } else if (method === 'GET' && path === '/console/api/config') {
        sendJson(res, 200, routes.config());
      } else if (method === 'POST' && path === '/console/api/token') {
        sendJson(res, 200, await routes.mintToken(await readJson(req, jsonBody)));
      } else if (method === 'POST' && path === '/console/api/events') {
        sendJson(res, 200, await routes.writeEvents(await readJson(req, jsonBody)));
      } else if (method === 'POST' && path === '/console/api/drop-connections') {
        sendJson(res, 200, await routes.dropConnections());
      } else {
        const details = method === 'GET' ? EVENT_DETAILS_PATH.exec(path) : null;
        if (!details?.[1] || !details[2])
          throw new ConsoleRequestError(404, 'NOT_FOUND', `No console route for ${method} ${path}`);
        sendJson(
          res,
          200,
          await routes.eventDetails(decodeURIComponent(details[1]), decodeURIComponent(details[2])),
        );
      }
    } catch (error) {
      sendError(res, toRequestError(error));
    }
    return true;
  };
}

/** The routes parse their own bodies; here a body only has to be JSON. */
const jsonBody = z.unknown();

function toRequestError(error: unknown): ConsoleRequestError {
  if (error instanceof ConsoleRequestError) return error;
  // The core class: errors of zod/mini schemas (src/core) are not classic ZodErrors.
  if (error instanceof z.core.$ZodError) {
    const detail = error.issues
      .map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`)
      .join('; ');
    return new ConsoleRequestError(400, 'BAD_REQUEST', `Invalid request: ${detail}`);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ConsoleRequestError(500, 'INTERNAL', message);
}
