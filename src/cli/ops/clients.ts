/**
 * SDK clients of the operator commands. The SQS client sends every request to the configured
 * endpoint rather than to the host inside a queue URL: the local emulator's URLs name
 * `sqs.<region>.localhost`, which only resolves inside the runtime's own process.
 */
import { SQSClient } from '@aws-sdk/client-sqs';

let sqs: SQSClient | undefined;

export function getOpsSqsClient(): SQSClient {
  sqs ??= new SQSClient({ useQueueUrlAsEndpoint: false });
  return sqs;
}
