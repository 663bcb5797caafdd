/** Put EventBridge-shaped events straight on a runtime queue, as a bus rule would. */
import { PurgeQueueCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/constants.js';
import type { Runtime } from '../../local/runtime.js';

export class QueueInjector {
  private readonly client: SQSClient;

  constructor(
    runtime: Runtime,
    private readonly queueUrl: string,
  ) {
    this.client = new SQSClient({
      endpoint: runtime.endpoints.sqs,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
  }

  static forQueue(runtime: Runtime, queue: string): QueueInjector {
    const url = runtime.queues.queues[queue]?.url;
    if (!url) throw new Error(`The runtime has no queue ${queue}`);
    return new QueueInjector(runtime, url);
  }

  /** Up to 10 bodies per SendMessageBatch. */
  async send(bodies: readonly string[]): Promise<void> {
    for (let i = 0; i < bodies.length; i += 10) {
      const chunk = bodies.slice(i, i + 10);
      const out = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: chunk.map((MessageBody, index) => ({ Id: String(index), MessageBody })),
        }),
      );
      if (out.Failed && out.Failed.length > 0)
        throw new Error(`SendMessageBatch failed: ${out.Failed[0]?.Message ?? ''}`);
    }
  }

  async purge(): Promise<void> {
    await this.client.send(new PurgeQueueCommand({ QueueUrl: this.queueUrl }));
  }

  destroy(): void {
    this.client.destroy();
  }
}
