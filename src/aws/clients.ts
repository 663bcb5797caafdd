/**
 * SDK clients, created once per module load (outside handlers) and reused across warm invocations.
 * Endpoints come from the SDK's own service-specific variables (AWS_ENDPOINT_URL_DYNAMODB,
 * AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_EVENTBRIDGE, ...), which the offline runtime sets, so
 * the same code talks to AWS or to the local emulators unchanged.
 *
 * These are real clients, imported at module load: for the CLI, tests and tools. Deployed code
 * sends through the lazy senders of `src/aws/sdk/`, created with the same options.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DOCUMENT_CLIENT_TRANSLATION, SQS_CLIENT_OPTIONS } from './sdk/clientOptions.js';

let documentClient: DynamoDBDocumentClient | undefined;
let sqsClient: SQSClient | undefined;
let eventBridgeClient: EventBridgeClient | undefined;
const managementClients = new Map<string, ApiGatewayManagementApiClient>();

export function getDocumentClient(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), DOCUMENT_CLIENT_TRANSLATION);
  return documentClient;
}

export function getSqsClient(): SQSClient {
  sqsClient ??= new SQSClient(SQS_CLIENT_OPTIONS);
  return sqsClient;
}

export function getEventBridgeClient(): EventBridgeClient {
  eventBridgeClient ??= new EventBridgeClient({});
  return eventBridgeClient;
}

/** One management client per endpoint (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`). */
export function getManagementClient(endpoint: string): ApiGatewayManagementApiClient {
  let client = managementClients.get(endpoint);
  if (!client) {
    client = new ApiGatewayManagementApiClient({ endpoint });
    managementClients.set(endpoint, client);
  }
  return client;
}
