import { createHash } from 'node:crypto';

/** Construct ids derived from topology keys (`webhookDlq` → `WebhookDlq`). */
export function constructId(topologyKey: string): string {
  return topologyKey.charAt(0).toUpperCase() + topologyKey.slice(1);
}

/** Eight hex characters standing for a stack name where the whole name does not fit. */
export function stackNameHash(stackName: string): string {
  return createHash('sha256').update(stackName).digest('hex').slice(0, 8);
}

/**
 * A physical name unique to its stack: `[<prefix>-]<stack name>-<suffix>`. CloudFormation stack
 * names are unique per account and region, and bus, archive, dashboard and alarm names must be
 * too, so deriving them from the stack name lets two stacks share an account. When the result
 * exceeds `maxLength` (an archive name allows 48 characters), the head is cut and the stack
 * name's hash keeps it unique.
 */
export function stackScopedName(
  stackName: string,
  suffix: string,
  options: { prefix?: string | undefined; maxLength?: number } = {},
): string {
  const base = options.prefix ? `${options.prefix}-${stackName}` : stackName;
  const maxLength = options.maxLength ?? 255;
  const full = `${base}-${suffix}`;
  if (full.length <= maxLength) return full;
  const hash = stackNameHash(stackName);
  const room = Math.max(maxLength - suffix.length - hash.length - 2, 1);
  return `${base.slice(0, room)}-${hash}-${suffix}`.slice(0, maxLength);
}

/** Whether a physical name was derived from this stack's name (see stackScopedName). */
export function isStackScopedName(name: string, stackName: string): boolean {
  return name.includes(stackName) || name.includes(stackNameHash(stackName));
}
