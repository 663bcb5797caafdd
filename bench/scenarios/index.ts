/** The scenarios of `npm run bench`, in the order they run (cheapest and most independent first). */
import type { Scenario } from '../lib/results.js';
import { coldStartScenario } from './coldStart.js';
import { fanoutScenario } from './fanout.js';
import { publisherScenario } from './publisher.js';

export const SCENARIOS: readonly Scenario[] = [coldStartScenario, publisherScenario, fanoutScenario];
