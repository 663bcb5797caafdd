/**
 * Waiting for a condition instead of sleeping: polls until `condition` returns a truthy value
 * (which is returned) or the deadline passes (then it throws, saying what it waited for and what
 * it saw last). Deadlines are generous: a slow machine must not fail a test.
 */
export interface WaitForOptions {
  /** @default 60_000 */
  readonly timeoutMs?: number;
  /** @default 100 */
  readonly intervalMs?: number;
  /** What is awaited, for the timeout message. */
  readonly description?: string;
}

export class WaitForTimeoutError extends Error {
  override readonly name = 'WaitForTimeoutError';
}

export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      const seen = last instanceof Error ? `${last.name}: ${last.message}` : JSON.stringify(last);
      throw new WaitForTimeoutError(
        `Timed out after ${timeoutMs} ms waiting for ${options.description ?? 'a condition'}; last saw ${seen}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
