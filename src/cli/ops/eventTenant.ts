/**
 * Event ids are unique per tenant, so a lookup by id needs the tenant. Operators who do not pass
 * `--tenant` get the one tenant that has the id (found by a scan of the audit table: fine for an
 * operator command, slow on a big table — pass `--tenant` there).
 */
import type { AuditRepository } from '../../aws/auditRepository.js';
import { CliError } from '../errors.js';

/** The tenant of `eventId`; `undefined` when no tenant has it; a usage error when several do. */
export async function tenantOfEvent(
  audit: Pick<AuditRepository, 'findEventTenants'>,
  eventId: string,
): Promise<string | undefined> {
  const tenants = await audit.findEventTenants(eventId);
  if (tenants.length > 1) {
    throw new CliError(
      `event id ${eventId} exists in ${tenants.length} tenants (${tenants.join(', ')}): pass --tenant <id>`,
      2,
    );
  }
  return tenants[0];
}

/** Like `tenantOfEvent`, but an unknown id is an error. */
export async function onlyTenantOfEvent(
  audit: Pick<AuditRepository, 'findEventTenants'>,
  eventId: string,
): Promise<string> {
  const tenantId = await tenantOfEvent(audit, eventId);
  if (tenantId === undefined) throw new CliError(`the audit has no event ${eventId} (in any tenant)`);
  return tenantId;
}
