/**
 * Which browser origins may open a WebSocket (`allowedOrigins`, `WEBSOCKET_ALLOWED_ORIGINS`).
 * An empty list allows any origin. A request without `Origin` is not from a browser page (Node,
 * mobile and server clients send none) and is allowed: the check stops other sites' pages from
 * using a visitor's token, it is not authentication (the token is).
 */

import { InvalidSettingError } from './envSettings.js';

/** The variable the stack's `allowedOrigins` reaches the authorizer in. */
export const ALLOWED_ORIGINS_ENV = 'WEBSOCKET_ALLOWED_ORIGINS';

export class InvalidAllowedOriginsError extends InvalidSettingError {
  override readonly name = 'InvalidAllowedOriginsError';
  constructor(value: string) {
    super(
      ALLOWED_ORIGINS_ENV,
      value,
      'origins like https://app.example.com',
      `${ALLOWED_ORIGINS_ENV} contains "${value}", which is not an origin like https://app.example.com`,
    );
  }
}

/** Normalise `https://App.Example.com:443/` to `https://app.example.com`; undefined if not an http(s) origin. */
export function normalizeOrigin(value: string): string | undefined {
  try {
    const url = new URL(value.trim());
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

/** The comma-separated list from the environment, normalised; throws on an entry that is not an origin. */
export function parseAllowedOrigins(raw: string | undefined): readonly string[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const origin = normalizeOrigin(entry);
      if (!origin) throw new InvalidAllowedOriginsError(entry);
      return origin;
    });
}

/** Whether a connection attempt with this `Origin` header (if any) may proceed. */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (allowed.length === 0 || origin === undefined) return true;
  const normalized = normalizeOrigin(origin);
  return normalized !== undefined && allowed.includes(normalized);
}

/** The `Origin` header of an API Gateway event's `headers` (names in any case). */
export function originHeader(
  headers: Readonly<Record<string, string | undefined>> | null | undefined,
): string | undefined {
  if (!headers) return undefined;
  for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() === 'origin') return value;
  return undefined;
}
