/**
 * Runs one scenario in its own process (forked by bench/run.ts): handler modules cache their SDK
 * clients per process, so each offline runtime gets a fresh process, and whatever a scenario
 * leaves behind ends with it. Reports over IPC: `{ type: 'result', output }` or `{ type: 'skipped' | 'failed', reason }`.
 */
import { ScenarioSkipped } from './lib/results.js';
import { SCENARIOS } from './scenarios/index.js';

const [name, budgetArg, quickArg] = process.argv.slice(2);
const scenario = SCENARIOS.find((s) => s.name === name);

async function main(): Promise<void> {
  if (!scenario) throw new Error(`unknown scenario ${name}`);
  const started = Date.now();
  const output = await scenario.run({
    budgetMs: Number(budgetArg),
    quick: quickArg === 'quick',
    progress: (message) => {
      const elapsed = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
      console.log(`[${scenario.name} ${elapsed}s] ${message}`);
    },
  });
  process.send?.({ type: 'result', output });
}

main().then(
  () => setTimeout(() => process.exit(0), 100),
  (error: unknown) => {
    const skipped = error instanceof ScenarioSkipped;
    const reason = error instanceof Error ? error.message : String(error);
    if (!skipped && error instanceof Error) console.error(error.stack);
    process.send?.({ type: skipped ? 'skipped' : 'failed', reason });
    setTimeout(() => process.exit(skipped ? 0 : 1), 100);
  },
);
