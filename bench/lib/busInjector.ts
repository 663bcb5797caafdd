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

  /**
   * `count` (1–10) stamped events on `channel` in one PutEvents call, as the publisher sends them
   * (see `stampedEnvelope`); returns their ids.
   */
  async put(channel: string, count = 1): Promise<string[]> {
    const envelopes = Array.from({ length: count }, () => stampedEnvelope(channel));
    const entries = envelopes.map((envelope) => {
      const { Resources, ...entry } = envelopeToBusEntry(envelope, this.busName);
      return { ...entry, ...(Resources ? { Resources: [...Resources] } : {}) };
    });
    const out = await this.client.send(new PutEventsCommand({ Entries: entries }));
    if ((out.FailedEntryCount ?? 0) > 0)
      throw new Error(
        `PutEvents refused ${out.FailedEntryCount} event(s): ${out.Entries?.find((e) => e.ErrorMessage)?.ErrorMessage ?? 'no reason given'}`,
      );
    return envelopes.map((envelope) => envelope.id);
  }

  destroy(): void {
    this.client.destroy();
  }
}
