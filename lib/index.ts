/** `outbox-relay`: the CDK constructs. */
export type { OutboxRelayConfig, OutboxRelayOptions } from './config.js';
export { OutboxRelayStack, type OutboxRelayStackProps } from './OutboxRelayStack.js';
