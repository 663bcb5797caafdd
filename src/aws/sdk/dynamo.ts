/**
 * DynamoDB through the document client, loaded on first send. Call sites read as with the SDK
 * (`client.send(new PutCommand(input))`) with the shims below; `getDocumentSender()` is the shared
 * sender of deployed code, `documentSender(client)` wraps an existing `DynamoDBDocumentClient`.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type {
  BatchGetCommandInput,
  BatchGetCommandOutput,
  BatchWriteCommandInput,
  BatchWriteCommandOutput,
  DeleteCommandInput,
  DeleteCommandOutput,
  DynamoDBDocumentClient,
  GetCommandInput,
  GetCommandOutput,
  PutCommandInput,
  PutCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  ScanCommandInput,
  ScanCommandOutput,
  TransactWriteCommandInput,
  TransactWriteCommandOutput,
  UpdateCommandInput,
  UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { DOCUMENT_CLIENT_TRANSLATION } from './clientOptions.js';
import { commandShim, type Sender, sdkService } from './sender.js';

export const BatchGetCommand = commandShim<BatchGetCommandInput, BatchGetCommandOutput>('BatchGetCommand');
export type BatchGetCommand = InstanceType<typeof BatchGetCommand>;
export const BatchWriteCommand = commandShim<BatchWriteCommandInput, BatchWriteCommandOutput>(
  'BatchWriteCommand',
);
export type BatchWriteCommand = InstanceType<typeof BatchWriteCommand>;
export const DeleteCommand = commandShim<DeleteCommandInput, DeleteCommandOutput>('DeleteCommand');
export type DeleteCommand = InstanceType<typeof DeleteCommand>;
export const GetCommand = commandShim<GetCommandInput, GetCommandOutput>('GetCommand');
export type GetCommand = InstanceType<typeof GetCommand>;
export const PutCommand = commandShim<PutCommandInput, PutCommandOutput>('PutCommand');
export type PutCommand = InstanceType<typeof PutCommand>;
export const QueryCommand = commandShim<QueryCommandInput, QueryCommandOutput>('QueryCommand');
export type QueryCommand = InstanceType<typeof QueryCommand>;
export const ScanCommand = commandShim<ScanCommandInput, ScanCommandOutput>('ScanCommand');
export type ScanCommand = InstanceType<typeof ScanCommand>;
export const TransactWriteCommand = commandShim<TransactWriteCommandInput, TransactWriteCommandOutput>(
  'TransactWriteCommand',
);
export type TransactWriteCommand = InstanceType<typeof TransactWriteCommand>;
export const UpdateCommand = commandShim<UpdateCommandInput, UpdateCommandOutput>('UpdateCommand');
export type UpdateCommand = InstanceType<typeof UpdateCommand>;

/** Every DynamoDB shim, by the name of the `@aws-sdk/lib-dynamodb` class it stands for. */
export const dynamoCommands = {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
};

export type DocumentCommand = InstanceType<(typeof dynamoCommands)[keyof typeof dynamoCommands]>;
export type DocumentSender = Sender<DocumentCommand>;
/** What the repositories accept: the lazy sender, or a real document client (wrapped on first use). */
export type DocumentClientLike = DocumentSender | DynamoDBDocumentClient;

const dynamo = sdkService<
  [typeof import('@aws-sdk/client-dynamodb'), typeof import('@aws-sdk/lib-dynamodb')],
  DocumentCommand,
  DynamoDBDocumentClient
>({
  packages: '@aws-sdk/client-dynamodb and @aws-sdk/lib-dynamodb',
  load: () => Promise.all([import('@aws-sdk/client-dynamodb'), import('@aws-sdk/lib-dynamodb')]),
  commands: ([, lib]) => lib,
});

let shared: DocumentSender | undefined;

/** The process's document client: `removeUndefinedValues`, endpoint and credentials from the environment. */
export function getDocumentSender(): DocumentSender {
  shared ??= dynamo.lazy(([base, lib]) =>
    lib.DynamoDBDocumentClient.from(new base.DynamoDBClient({}), DOCUMENT_CLIENT_TRANSLATION),
  );
  return shared;
}

/** A sender over an existing document client (real or mocked: it receives the real command classes). */
export const documentSender = (client: DocumentClientLike): DocumentSender => dynamo.wrap(client);

/** The SDK's `unmarshall` (e.g. for a conditional failure's `Item`), loaded when first needed. */
export async function unmarshallItem(item: Record<string, AttributeValue>): Promise<Record<string, unknown>> {
  const { unmarshall } = await import('@aws-sdk/util-dynamodb');
  return unmarshall(item);
}
