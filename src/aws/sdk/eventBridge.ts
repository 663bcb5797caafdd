/** EventBridge, loaded on first send (see `sender.ts`); `eventBridgeSender(client)` wraps an existing client. */
import type {
  EventBridgeClient,
  PutEventsCommandInput,
  PutEventsCommandOutput,
} from '@aws-sdk/client-eventbridge';
import { commandShim, type Sender, sdkPackage } from './sender.js';

export const PutEventsCommand = commandShim<PutEventsCommandInput, PutEventsCommandOutput>(
  'PutEventsCommand',
);

/** Every EventBridge shim, by the name of the `@aws-sdk/client-eventbridge` class it stands for. */
export const eventBridgeCommands = { PutEventsCommand };

export type EventBridgeCommand = InstanceType<typeof PutEventsCommand>;
export type EventBridgeSender = Sender<EventBridgeCommand>;
export type EventBridgeClientLike = EventBridgeSender | EventBridgeClient;

const eventBridge = sdkPackage<
  typeof import('@aws-sdk/client-eventbridge'),
  EventBridgeCommand,
  EventBridgeClient
>('@aws-sdk/client-eventbridge', () => import('@aws-sdk/client-eventbridge'));

let shared: EventBridgeSender | undefined;

export function getEventBridgeSender(): EventBridgeSender {
  shared ??= eventBridge.lazy((module) => new module.EventBridgeClient({}));
  return shared;
}

export const eventBridgeSender = (client: EventBridgeClientLike): EventBridgeSender =>
  eventBridge.wrap(client);
