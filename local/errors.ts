/** Errors of the offline runtime. */

/** `waitForIdle` ran out of time; the message says what was still busy. */
export class RuntimeNotIdleError extends Error {
  override readonly name = 'RuntimeNotIdleError';
  constructor(
    readonly timeoutMs: number,
    readonly busy: readonly string[],
  ) {
    super(`The local runtime was not idle after ${timeoutMs} ms: ${busy.join('; ')}`);
  }
}

export class TrackedTableError extends Error {
  override readonly name = 'TrackedTableError';
}

/** DynamoDB Local's JVM died and could not be brought back; the runtime cannot keep its promise. */
export class DynamoLocalDiedError extends Error {
  override readonly name = 'DynamoLocalDiedError';
}
