/**
 * Wires a fault injector into a running offline runtime: the invoker's interceptor (handler
 * throws and latency), the bus's entry interceptor (PutEvents entry failures), the gateway's
 * `@connections` hook, and the `/control/faults` route. Hooks are installed only while a fault is
 * configured and removed when it is cleared, so a runtime without faults pays nothing.
 *
 * ```ts
 * const runtime = await startRuntime({ dataDir: '.local' });
 * installFaults(runtime, new FaultInjector(faultConfigAtStart(process.argv, process.env)));
 * ```
 */
import type { FunctionName } from '../../src/contract/topology.js';
import type { Runtime } from '../runtime.js';
import { FUNCTION_NAMES } from './config.js';
import { handleFaultsControl } from './controlRoute.js';
import type { FaultInjector } from './injector.js';

const functionNames: ReadonlySet<string> = new Set(FUNCTION_NAMES);

function isFunctionName(name: string): name is FunctionName {
  return functionNames.has(name);
}

export function installFaults(
  runtime: Pick<Runtime, 'invoker' | 'bus' | 'gateway' | 'control'>,
  faults: FaultInjector,
): () => void {
  const apply = (active: boolean) => {
    if (!active) {
      runtime.invoker.setInterceptor(undefined);
      runtime.bus.setInterceptor(undefined);
      runtime.gateway.setFaults(undefined);
      return;
    }
    runtime.invoker.setInterceptor(async (functionName) => {
      if (isFunctionName(functionName)) await faults.beforeInvoke(functionName);
    });
    runtime.bus.setInterceptor(() => {
      const error = faults.putEventsEntryError();
      return error ? { code: error.ErrorCode, message: error.ErrorMessage } : undefined;
    });
    runtime.gateway.setFaults(faults);
  };
  faults.onChange(apply);
  apply(faults.active);
  return runtime.control.addRoute((req, res) => handleFaultsControl(faults, req, res));
}
