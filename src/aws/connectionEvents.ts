/**
 * Publishes lifecycle events (src/core/connectionEvents.ts) through the outbox when
 * `CONNECTION_EVENTS` is true; never throws (a connect or disconnect must not fail for it), and a
 * failure is counted (`SyntheticEventFailures`) and logged.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { topology } from '../contract/topology.js';
import {
  CONNECTION_EVENTS_ENV,
  type ConnectionEventType,
  connectionEvent,
} from '../core/connectionEvents.js';
import { readBoolean } from '../core/envSettings.js';
import type { ConnectionIdentity } from '../core/token.js';
import { emitSyntheticEvent } from '../producer/synthetic.js';
import { getDocumentSender } from './sdk/dynamo.js';

export async function publishConnectionEvent(
  type: ConnectionEventType,
  identity: Pick<ConnectionIdentity, 'tenantId' | 'subject'>,
  connectionId: string,
  logger: Pick<Logger, 'warn'>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<void> {
  let enabled: boolean;
  try {
    enabled = readBoolean(env, CONNECTION_EVENTS_ENV, false);
  } catch (error) {
    logger.warn('connection events: the setting does not parse; none are published', { error });
    return;
  }
  if (!enabled) return;
  const tableName = env[topology.tables.outbox.env];
  if (!tableName) {
    logger.warn('connection events are on but the outbox table is not configured', { type, connectionId });
    return;
  }
  const result = await emitSyntheticEvent(
    getDocumentSender(),
    connectionEvent(type, identity, connectionId, new Date()),
    { tableName },
  );
  if (result.status === 'refused' || result.status === 'failed')
    logger.warn('could not publish a connection event', { type, connectionId, error: result.error });
}
