/** Errors of in-process Lambda invocation. */

export class UnknownFunctionError extends Error {
  override readonly name = 'UnknownFunctionError';
  constructor(readonly functionName: string) {
    super(`No function named "${functionName}" in topology.functions`);
  }
}

export class HandlerNotFoundError extends Error {
  override readonly name = 'HandlerNotFoundError';
  constructor(
    readonly functionName: string,
    readonly entry: string,
  ) {
    super(`Function "${functionName}": module ${entry} does not export a function named "handler"`);
  }
}

/** Lambda ends an invocation at its timeout; in-process we stop waiting and report it the same way. */
export class FunctionTimeoutError extends Error {
  override readonly name = 'FunctionTimeoutError';
  constructor(
    readonly functionName: string,
    readonly timeoutSeconds: number,
  ) {
    super(`Task timed out after ${timeoutSeconds.toFixed(2)} seconds (function "${functionName}")`);
  }
}
