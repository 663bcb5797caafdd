/**
 * How core modules report a failure they survive (a best-effort step that did not happen): the
 * handler passes its logger, so the line carries the invocation's correlation id and the error
 * keeps its stack and `cause`. Callers that pass none (scripts, some tests) get a JSON line on stderr.
 */
export interface LogPort {
  warn(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
}

/** An error as plain data for a JSON line: name, message, stack and its `cause` chain. */
export function errorFields(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error)) return error;
  return {
    name: error.name,
    message: error.message,
    stack: error.stack,
    ...(error.cause !== undefined && depth < 5 ? { cause: errorFields(error.cause, depth + 1) } : {}),
  };
}

function line(level: string, message: string, fields: Record<string, unknown>): string {
  const data = Object.fromEntries(
    Object.entries(fields).map(([key, value]) => [key, value instanceof Error ? errorFields(value) : value]),
  );
  return JSON.stringify({ level, msg: message, ...data });
}

export const consoleLog: LogPort = {
  warn: (message, fields) => console.warn(line('WARN', message, fields)),
  error: (message, fields) => console.error(line('ERROR', message, fields)),
};
