/**
 * What the runtime's HTTP server (console and `/control/**`) accepts, checked before any route
 * runs. The server binds 127.0.0.1, but a web page the developer visits can still reach it
 * through the browser: by DNS rebinding (a foreign `Host`), by a cross-site request (a foreign
 * `Origin`), or by a form post that needs no CORS preflight (a non-JSON body). So:
 * - `Host` must name this machine's loopback (`127.0.0.1`, `localhost`, `[::1]`);
 * - an `Origin`, when sent, must be this server's own;
 * - a request with a body must say `content-type: application/json`;
 * - each documented path answers only its documented methods (405 with `Allow` otherwise).
 * Pure: no I/O.
 */

export type LocalRefusalCode =
  | 'FORBIDDEN_HOST'
  | 'FORBIDDEN_ORIGIN'
  | 'METHOD_NOT_ALLOWED'
  | 'UNSUPPORTED_MEDIA_TYPE';

export interface LocalRefusal {
  readonly status: 403 | 405 | 415;
  readonly code: LocalRefusalCode;
  readonly message: string;
  /** For 405: the methods the path answers. */
  readonly allow?: readonly string[];
}

export interface LocalRoute {
  readonly path: string | RegExp;
  readonly methods: readonly string[];
}

/** Every documented route of the console and the control API, with its methods. */
export const LOCAL_ROUTES: readonly LocalRoute[] = [
  { path: '/health', methods: ['GET'] },
  { path: '/', methods: ['GET'] },
  { path: '/console', methods: ['GET'] },
  { path: '/console/', methods: ['GET'] },
  { path: '/console/app.js', methods: ['GET'] },
  { path: '/console/api/config', methods: ['GET'] },
  { path: '/console/api/token', methods: ['POST'] },
  { path: '/console/api/events', methods: ['POST'] },
  { path: /^\/console\/api\/events\/[^/]+$/, methods: ['GET'] },
  { path: '/console/api/drop-connections', methods: ['POST'] },
  { path: '/control/bus/archive', methods: ['GET'] },
  { path: '/control/bus/replay', methods: ['POST'] },
  { path: '/control/faults', methods: ['GET', 'PUT'] },
];

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface LocalRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

function header(request: LocalRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `host[:port]` → its hostname and port, or undefined when it does not parse. */
function hostAndPort(authority: string): { hostname: string; port: string } | undefined {
  try {
    const url = new URL(`http://${authority}`);
    if (url.username !== '' || url.password !== '' || url.pathname !== '/') return undefined;
    return { hostname: url.hostname.toLowerCase(), port: url.port };
  } catch {
    return undefined;
  }
}

/** The refusal for a request to the server listening on `port`, or undefined when it may proceed. */
export function localRequestRefusal(
  request: LocalRequest,
  port: number,
  routes: readonly LocalRoute[] = LOCAL_ROUTES,
): LocalRefusal | undefined {
  const host = header(request, 'host');
  const parsedHost = host === undefined ? undefined : hostAndPort(host);
  if (parsedHost === undefined || !LOOPBACK_HOSTS.has(parsedHost.hostname)) {
    return {
      status: 403,
      code: 'FORBIDDEN_HOST',
      message: `Host ${JSON.stringify(host ?? '')} is not this machine; use http://127.0.0.1:${port}`,
    };
  }

  const origin = header(request, 'origin');
  if (origin !== undefined && !isOwnOrigin(origin, port)) {
    return {
      status: 403,
      code: 'FORBIDDEN_ORIGIN',
      message: `Requests from ${JSON.stringify(origin)} are refused; only pages of http://127.0.0.1:${port} may call this server`,
    };
  }

  const method = (request.method ?? 'GET').toUpperCase();
  const path = new URL(request.url ?? '/', 'http://local').pathname;
  const route = routes.find((r) => (typeof r.path === 'string' ? r.path === path : r.path.test(path)));
  if (route !== undefined && !route.methods.includes(method)) {
    return {
      status: 405,
      code: 'METHOD_NOT_ALLOWED',
      message: `${path} answers ${route.methods.join(', ')}, not ${method}`,
      allow: route.methods,
    };
  }

  if (hasBody(request, method) && !isJson(header(request, 'content-type'))) {
    return {
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: 'Request bodies must be JSON, sent with content-type: application/json',
    };
  }
  return undefined;
}

function isOwnOrigin(origin: string, port: number): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return (
    url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname.toLowerCase()) && url.port === String(port)
  );
}

function hasBody(request: LocalRequest, method: string): boolean {
  if (method === 'POST' || method === 'PUT' || method === 'PATCH') return true;
  const length = header(request, 'content-length');
  return header(request, 'transfer-encoding') !== undefined || (length !== undefined && length !== '0');
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase();
  return mediaType === 'application/json';
}
