/** The scenarios of `npm run bench`, in the order they run (cheapest and most independent first). */
import type { Scenario } from '../lib/results.js';
import { coalescingScenario } from './coalescing.js';
import { coldStartScenario } from './coldStart.js';
import { fanoutScenario } from './fanout.js';
import { latencyScenario } from './latency.js';
import { latencyWindow0Scenario, latencyWindow1sScenario } from './latencyDefaults.js';
import { publisherScenario } from './publisher.js';
import { receiptsScenario } from './receipts.js';
import { sustainedScenario } from './sustained.js';
import { webhooksScenario } from './webhooks.js';

export const SCENARIOS: readonly Scenario[] = [
  coldStartScenario,
  receiptsScenario,
  publisherScenario,
  latencyScenario,
  webhooksScenario,
  coalescingScenario,
  fanoutScenario,
  sustainedScenario,
  latencyWindow0Scenario,
  latencyWindow1sScenario,
];
