/**
 * Where an operator command acts: the local runtime (default, from `.local/endpoints.json`) or a
 * deployed stack (`--stack`, outputs named after the env vars in PascalCase). Either way the
 * result is applied to `process.env` before any SDK client is created, so the shared clients and
 * repositories of `src/aws/` work unchanged.
 */
import { CliError } from '../errors.js';
import { resolveTarget, type Target, type TargetFlags } from '../target.js';

export interface OpsContext {
  readonly kind: 'local' | 'stack';
  /** One line naming the target, for human output. */
  readonly description: string;
  readonly target: Target;
  /** A configuration value the target must provide (a table name, a queue URL). */
  require(name: string): string;
  optional(name: string): string | undefined;
}

let opened: string | undefined;

/** The target the running command opened (for error messages), if any. */
export function currentTargetDescription(): string | undefined {
  return opened;
}

export async function openContext(flags: TargetFlags): Promise<OpsContext> {
  const target = await resolveTarget(flags);
  opened = target.description;
  const env = target.env;
  for (const [name, value] of Object.entries(env)) process.env[name] = value;
  // A dead port should fail fast, not after the SDK's retries with back-off.
  process.env.AWS_MAX_ATTEMPTS ??= target.kind === 'local' ? '1' : '3';
  return {
    kind: target.kind,
    description: target.description,
    target,
    require(name) {
      const value = env[name] ?? process.env[name];
      if (!value) {
        throw new CliError(
          `${target.description} does not provide ${name}; ${target.kind === 'stack' ? 'is the stack up to date?' : 'restart the local runtime (npm start)'}`,
        );
      }
      return value;
    },
    optional(name) {
      return env[name] ?? process.env[name] ?? undefined;
    },
  };
}
