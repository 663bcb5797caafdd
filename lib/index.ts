/** `outbox-relay`: the CDK constructs. */
export type { OutboxRelayConfig, OutboxRelayOptions } from './config.js';
export { OutboxRelay, type OutboxRelayProps } from './OutboxRelay.js';
export { OutboxRelayStack, type OutboxRelayStackProps } from './OutboxRelayStack.js';
export { ExistingResourceError } from './OutboxTable.js';
