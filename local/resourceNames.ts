/** Names of the local resources: `<prefix>-<topology key>`, stable across runs so persisted tables are found again. */
import type { QueueName, TableName } from '../src/contract/topology.js';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, LOCAL_RESOURCE_PREFIX } from './constants.js';

export function localTableName(table: TableName | string): string {
  return `${LOCAL_RESOURCE_PREFIX}-${table}`;
}

export function localQueueName(queue: QueueName | string): string {
  return `${LOCAL_RESOURCE_PREFIX}-${queue}`;
}

export function localQueueArn(queue: QueueName | string): string {
  return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${localQueueName(queue)}`;
}

export const LOCAL_EVENT_BUS_NAME = `${LOCAL_RESOURCE_PREFIX}-bus`;

export function localFunctionArn(functionName: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${LOCAL_RESOURCE_PREFIX}-${functionName}`;
}
