/**
 * Telling AWS service errors apart by name, as the SDK recommends (`error.name === '...'`), rather
 * than with `instanceof`, which would need the SDK's error classes loaded at module load (and
 * fails across two copies of a package).
 */
import type { GoneException } from '@aws-sdk/client-apigatewaymanagementapi';
import type { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';

/** The errors deployed code branches on, with the fields it reads. */
interface KnownAwsErrors {
  ConditionalCheckFailedException: ConditionalCheckFailedException;
  TransactionCanceledException: TransactionCanceledException;
  GoneException: GoneException;
  ResourceNotFoundException: ResourceNotFoundException;
}

/** Whether `error` is the AWS service error `name` (its fields typed as the SDK declares them). */
export function isAwsError<Name extends keyof KnownAwsErrors>(
  error: unknown,
  name: Name,
): error is KnownAwsErrors[Name] {
  return error instanceof Error && error.name === name;
}
