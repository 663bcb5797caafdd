/**
 * The `@connections` port: the only module that calls API Gateway's management API. Maps a 410
 * to `ConnectionGoneError` and every other failure to `PostToConnectionFailedError`, so the core
 * can branch on types. Posts (the fan-out's hot path) go through a lean SigV4-signed keep-alive
 * client (`signedConnectionsPost.ts`) where the environment holds credentials, as Lambda's does;
 * `CONNECTIONS_POST_CLIENT=sdk` or missing credentials keep the SDK client, which also serves
 * every other call.
 */
import { topology } from '../contract/topology.js';
import { ConnectionGoneError, PostToConnectionFailedError } from '../core/websocketErrors.js';
import { requireEnv } from './env.js';
import { isAwsError } from './sdk/awsErrors.js';
import {
  DeleteConnectionCommand,
  getManagementSender,
  PostToConnectionCommand,
} from './sdk/managementApi.js';
import { createSignedPost, credentialsFromEnv, type SignedPost } from './signedConnectionsPost.js';

export interface ConnectionsApi {
  post(connectionId: string, body: string): Promise<void>;
  /** Close a connection server-side (API Gateway then invokes `$disconnect`). Gone is success. */
  disconnect(connectionId: string): Promise<void>;
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  const metadata = error.$metadata;
  if (typeof metadata !== 'object' || metadata === null || !('httpStatusCode' in metadata)) return undefined;
  return typeof metadata.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}

function isGone(error: unknown): boolean {
  return isAwsError(error, 'GoneException') || statusOf(error) === 410;
}

export function createConnectionsApi(endpoint: string, signedPost?: SignedPost): ConnectionsApi {
  const client = getManagementSender(endpoint);
  const encoder = new TextEncoder();
  return {
    // The signed post as it is (no wrapper: one promise fewer per post on the fan-out's hot path).
    post:
      signedPost ??
      (async (connectionId, body) => {
        try {
          await client.send(
            new PostToConnectionCommand({ ConnectionId: connectionId, Data: encoder.encode(body) }),
          );
        } catch (error) {
          if (isGone(error)) throw new ConnectionGoneError(connectionId, { cause: error });
          const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          throw new PostToConnectionFailedError(connectionId, statusOf(error), message, { cause: error });
        }
      }),
    async disconnect(connectionId) {
      try {
        await client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
      } catch (error) {
        if (isGone(error)) return;
        throw error;
      }
    },
  };
}

const byEndpoint = new Map<string, ConnectionsApi>();

/** The port for `WEBSOCKET_MANAGEMENT_ENDPOINT` (read per call: the offline runtime may restart on a new port). */
export function getConnectionsApi(): ConnectionsApi {
  const endpoint = requireEnv(topology.webSocket.managementEndpointEnv);
  let api = byEndpoint.get(endpoint);
  if (!api) {
    api = createConnectionsApi(endpoint, leanPost(endpoint));
    byEndpoint.set(endpoint, api);
  }
  return api;
}

/** The signed keep-alive post, unless opted out or the environment has no credentials or region. */
function leanPost(endpoint: string): SignedPost | undefined {
  const initial = credentialsFromEnv();
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (process.env.CONNECTIONS_POST_CLIENT === 'sdk' || !initial || !region) return undefined;
  return createSignedPost({ endpoint, region, credentials: () => credentialsFromEnv() ?? initial });
}
