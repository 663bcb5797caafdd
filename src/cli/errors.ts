/** An error the CLI reports as one clear line and a non-zero exit code (no stack trace). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

const UNREACHABLE_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'name not found',
  EAI_AGAIN: 'name lookup failed',
  ETIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_SOCKET: 'socket closed',
};

function read(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? Reflect.get(value, key) : undefined;
}

/**
 * One line for an error that means "the target is not there" (a dead port from a stale
 * endpoints.json, a wrong endpoint, no network), or undefined for any other error. Looks through
 * `cause` chains and AggregateErrors, where fetch and the SDK put the socket error.
 */
export function describeUnreachable(error: unknown, target: string | undefined): string | undefined {
  const queue: unknown[] = [error];
  for (let depth = 0; queue.length > 0 && depth < 20; depth += 1) {
    const current = queue.shift();
    const code = read(current, 'code');
    if (typeof code === 'string' && UNREACHABLE_CODES[code] !== undefined) {
      const address = read(current, 'address');
      const port = read(current, 'port');
      const where =
        typeof address === 'string' ? ` at ${address}${typeof port === 'number' ? `:${port}` : ''}` : '';
      const hint =
        target?.startsWith('local') === true
          ? '; is the local runtime still running? Start it with "npm start" (a stale .local/endpoints.json names ports nobody listens on)'
          : '';
      return `cannot reach ${target ?? 'the target'}${where}: ${UNREACHABLE_CODES[code]}${hint}`;
    }
    const cause = read(current, 'cause');
    if (cause !== undefined) queue.push(cause);
    const errors = read(current, 'errors');
    if (Array.isArray(errors)) queue.push(...errors);
  }
  return undefined;
}
