/**
 * Fault injection for the offline runtime (docs/reliability.md): a configuration, the injector
 * the local bus / invoker / `@connections` API consult, and the `/control/faults` route.
 */
export {
  FAULTS_ENV,
  type FaultConfig,
  type FaultConfigInput,
  faultConfigAtStart,
  InvalidFaultConfigError,
  parseFaultConfig,
} from './faults/config.js';
export { FAULTS_CONTROL_PATH, handleFaultsControl } from './faults/controlRoute.js';
export {
  type FaultCounts,
  FaultInjector,
  type InjectedConnectionFault,
  type InjectedEntryError,
  InjectedHandlerFaultError,
} from './faults/injector.js';
export { installFaults } from './faults/install.js';
