/**
 * The options every SDK client of the project is created with, in one place for the lazy senders
 * (deployed code) and `src/aws/clients.ts` (CLI, tests). No SDK import here: endpoints and
 * credentials come from the SDK's own environment variables (AWS_ENDPOINT_URL_DYNAMODB, ...),
 * which the offline runtime sets.
 */

/** `DynamoDBDocumentClient.from(new DynamoDBClient({}), DOCUMENT_CLIENT_TRANSLATION)`. */
export const DOCUMENT_CLIENT_TRANSLATION = { marshallOptions: { removeUndefinedValues: true } } as const;

// Send every call to the configured endpoint (regional in AWS, AWS_ENDPOINT_URL_SQS locally)
// rather than to the queue URL's host: emulators name queues `sqs.<region>.localhost`, which
// does not resolve everywhere. The queue URL still travels in the request, so AWS is unaffected.
export const SQS_CLIENT_OPTIONS = { useQueueUrlAsEndpoint: false } as const;
