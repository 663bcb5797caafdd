/** Put events on the runtime's bus with PutEvents, as the publisher would, skipping the outbox. */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/constants.js';
import type { Runtime } from '../../local/runtime.js';
import { topology } from '../../src/contract/topology.js';
import { envelopeToBusEntry } from '../../src/core/busEntry.js';
import { stampedEnvelope } from './busEvents.js';
import { requireRuntimeEnv } from './harness.js';

export class BusInjector {
  private readonly client: EventBridgeClient;
  private readonly busName: string;

  constructor(runtime: Runtime) {
    this.client = new EventBridgeClient({
      endpoint: runtime.endpoints.eventBridge,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    this.busName = requireRuntimeEnv(runtime, topology.bus.env);
  }

  /** One stamped event on `channel` (see `stampedEnvelope`); returns its id. */
  async put(channel: string): Promise<string> {
    const envelope = stampedEnvelope(channel);
    const { Resources, ...entry } = envelopeToBusEntry(envelope, this.busName);
    const out = await this.client.send(
      new PutEventsCommand({ Entries: [{ ...entry, ...(Resources ? { Resources: [...Resources] } : {}) }] }),
    );
    if ((out.FailedEntryCount ?? 0) > 0)
      throw new Error(`PutEvents refused the event: ${out.Entries?.[0]?.ErrorMessage ?? 'no reason given'}`);
    return envelope.id;
  }

  destroy(): void {
    this.client.destroy();
  }
}
