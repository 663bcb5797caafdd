/** Secrets Manager, loaded on first send (see `sender.ts`). */
import type {
  GetSecretValueCommandInput,
  GetSecretValueCommandOutput,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { commandShim, type Sender, sdkPackage } from './sender.js';

export const GetSecretValueCommand = commandShim<GetSecretValueCommandInput, GetSecretValueCommandOutput>(
  'GetSecretValueCommand',
);

/** Every Secrets Manager shim, by the name of the `@aws-sdk/client-secrets-manager` class it stands for. */
export const secretsCommands = { GetSecretValueCommand };

export type SecretsCommand = InstanceType<typeof GetSecretValueCommand>;
export type SecretsSender = Sender<SecretsCommand>;

const secrets = sdkPackage<
  typeof import('@aws-sdk/client-secrets-manager'),
  SecretsCommand,
  SecretsManagerClient
>('@aws-sdk/client-secrets-manager', () => import('@aws-sdk/client-secrets-manager'));

let shared: SecretsSender | undefined;

export function getSecretsSender(): SecretsSender {
  shared ??= secrets.lazy((module) => new module.SecretsManagerClient({}));
  return shared;
}
