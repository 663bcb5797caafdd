/**
 * API Gateway's `@connections` management API, loaded on first send (see `sender.ts`): one client
 * per endpoint (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`).
 */
import type {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommandInput,
  DeleteConnectionCommandOutput,
  PostToConnectionCommandInput,
  PostToConnectionCommandOutput,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { commandShim, type Sender, sdkPackage } from './sender.js';

export const DeleteConnectionCommand = commandShim<
  DeleteConnectionCommandInput,
  DeleteConnectionCommandOutput
>('DeleteConnectionCommand');
export const PostToConnectionCommand = commandShim<
  PostToConnectionCommandInput,
  PostToConnectionCommandOutput
>('PostToConnectionCommand');

/** Every management API shim, by the name of the `@aws-sdk/client-apigatewaymanagementapi` class it stands for. */
export const managementCommands = { DeleteConnectionCommand, PostToConnectionCommand };

export type ManagementCommand = InstanceType<(typeof managementCommands)[keyof typeof managementCommands]>;
export type ManagementSender = Sender<ManagementCommand>;

const management = sdkPackage<
  typeof import('@aws-sdk/client-apigatewaymanagementapi'),
  ManagementCommand,
  ApiGatewayManagementApiClient
>('@aws-sdk/client-apigatewaymanagementapi', () => import('@aws-sdk/client-apigatewaymanagementapi'));

const byEndpoint = new Map<string, ManagementSender>();

export function getManagementSender(endpoint: string): ManagementSender {
  let sender = byEndpoint.get(endpoint);
  if (!sender) {
    sender = management.lazy((module) => new module.ApiGatewayManagementApiClient({ endpoint }));
    byEndpoint.set(endpoint, sender);
  }
  return sender;
}
