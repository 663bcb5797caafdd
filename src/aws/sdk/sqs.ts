/** SQS, loaded on first send (see `sender.ts`); `sqsSender(client)` wraps an existing `SQSClient`. */
import type {
  ChangeMessageVisibilityCommandInput,
  ChangeMessageVisibilityCommandOutput,
  SendMessageBatchCommandInput,
  SendMessageBatchCommandOutput,
  SendMessageCommandInput,
  SendMessageCommandOutput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { SQS_CLIENT_OPTIONS } from './clientOptions.js';
import { commandShim, type Sender, sdkPackage } from './sender.js';

export const ChangeMessageVisibilityCommand = commandShim<
  ChangeMessageVisibilityCommandInput,
  ChangeMessageVisibilityCommandOutput
>('ChangeMessageVisibilityCommand');
export const SendMessageBatchCommand = commandShim<
  SendMessageBatchCommandInput,
  SendMessageBatchCommandOutput
>('SendMessageBatchCommand');
export const SendMessageCommand = commandShim<SendMessageCommandInput, SendMessageCommandOutput>(
  'SendMessageCommand',
);

/** Every SQS shim, by the name of the `@aws-sdk/client-sqs` class it stands for. */
export const sqsCommands = { ChangeMessageVisibilityCommand, SendMessageBatchCommand, SendMessageCommand };

export type SqsCommand = InstanceType<(typeof sqsCommands)[keyof typeof sqsCommands]>;
export type SqsSender = Sender<SqsCommand>;
export type SqsClientLike = SqsSender | SQSClient;

const sqs = sdkPackage<typeof import('@aws-sdk/client-sqs'), SqsCommand, SQSClient>(
  '@aws-sdk/client-sqs',
  () => import('@aws-sdk/client-sqs'),
);

let shared: SqsSender | undefined;

/** The process's SQS client (`useQueueUrlAsEndpoint: false`, endpoint and credentials from the environment). */
export function getSqsSender(): SqsSender {
  shared ??= sqs.lazy((module) => new module.SQSClient(SQS_CLIENT_OPTIONS));
  return shared;
}

export const sqsSender = (client: SqsClientLike): SqsSender => sqs.wrap(client);
