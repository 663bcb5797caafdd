/**
 * SDK clients, created once per module load (outside handlers) and reused across warm invocations.
 * Endpoints come from the SDK's own service-specific variables (AWS_ENDPOINT_URL_DYNAMODB,
 * AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_EVENTBRIDGE, ...), which the offline runtime sets, so
 * the same code talks to AWS or to the local emulators unchanged.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

let documentClient: DynamoDBDocumentClient | undefined;
let sqsClient: SQSClient | undefined;
let eventBridgeClient: EventBridgeClient | undefined;
const managementClients = new Map<string, ApiGatewayManagementApiClient>();

export function getDocumentClient(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
}

export function getSqsClient(): SQSClient {
  // Send every call to the configured endpoint (regional in AWS, AWS_ENDPOINT_URL_SQS locally)
  // rather than to the queue URL's host: emulators name queues `sqs.<region>.localhost`, which
  // does not resolve everywhere. The queue URL still travels in the request, so AWS is unaffected.
  sqsClient ??= new SQSClient({ useQueueUrlAsEndpoint: false });
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
