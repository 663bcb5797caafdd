/** Run `task(i)` for i = 0..count-1 at a steady rate (not waiting for each to finish), with a cap on tasks in flight. */
export interface PacedResult {
  readonly started: number;
  readonly failed: number;
  readonly seconds: number;
  /** Tasks started per second (below the target when the cap on tasks in flight held them back). */
  readonly achievedRate: number;
  readonly errors: readonly string[];
}

export async function paced(
  count: number,
  ratePerSecond: number,
  task: (index: number) => Promise<unknown>,
  options: { maxInFlight?: number; onProgress?: (done: number) => void; progressEvery?: number } = {},
): Promise<PacedResult> {
  const maxInFlight = options.maxInFlight ?? 64;
  const every = options.progressEvery ?? Math.max(1, Math.round(ratePerSecond * 5));
  const intervalMs = 1000 / ratePerSecond;
  const t0 = performance.now();
  let inFlight = 0;
  let failed = 0;
  const errors = new Set<string>();
  const running = new Set<Promise<void>>();
  for (let i = 0; i < count; i++) {
    const due = t0 + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    while (inFlight >= maxInFlight) await Promise.race(running);
    inFlight += 1;
    const p: Promise<void> = task(i)
      .then(
        () => undefined,
        (error: unknown) => {
          failed += 1;
          errors.add(error instanceof Error ? error.message : String(error));
        },
      )
      .finally(() => {
        inFlight -= 1;
        running.delete(p);
      });
    running.add(p);
    if ((i + 1) % every === 0) options.onProgress?.(i + 1);
  }
  const startedSeconds = (performance.now() - t0) / 1000;
  await Promise.all(running);
  return {
    started: count,
    failed,
    seconds: startedSeconds,
    achievedRate: count / Math.max(startedSeconds, 1e-9),
    errors: [...errors].slice(0, 5),
  };
}
