/**
 * Where an operator command acts: the local runtime (default, from `.local/endpoints.json`) or a
 * deployed stack (`--stack`, outputs named after the env vars in PascalCase). Either way the
 * result is applied to `process.env` before any SDK client is created, so the shared clients and
 * repositories of `src/aws/` work unchanged.
 */
import { CliError } from '../errors.js';
import { resolveTarget, type TargetFlags } from '../target.js';

export interface OpsContext {
  readonly kind: 'local' | 'stack';
  /** One line naming the target, for human output. */
  readonly description: string;
  /** A configuration value the target must provide (a table name, a queue URL). */
  require(name: string): string;
  optional(name: string): string | undefined;
}

export async function openContext(flags: TargetFlags): Promise<OpsContext> {
  const target = await resolveTarget(flags);
  const env = target.env;
  for (const [name, value] of Object.entries(env)) process.env[name] = value;
  return {
    kind: target.kind,
    description: target.description,
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
