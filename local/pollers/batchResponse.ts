/**
 * Reading a handler's partial batch response (`ReportBatchItemFailures`) the way Lambda does:
 * no response or an empty list = every record succeeded; an identifier that is empty, missing or
 * names no record of the batch = the whole batch failed.
 */
import * as z from 'zod';

const batchResponseSchema = z.object({
  batchItemFailures: z.array(z.object({ itemIdentifier: z.unknown() })).nullish(),
});

export type BatchOutcome =
  | { readonly kind: 'success' }
  /** Identifiers of the failed records, all known to the batch. */
  | { readonly kind: 'partial'; readonly failed: ReadonlySet<string> }
  | { readonly kind: 'wholeBatchFailed'; readonly reason: string };

export function readBatchResponse(response: unknown, knownIds: ReadonlySet<string>): BatchOutcome {
  if (response === undefined || response === null) return { kind: 'success' };
  const parsed = batchResponseSchema.safeParse(response);
  if (!parsed.success) return { kind: 'success' };
  const failures = parsed.data.batchItemFailures ?? [];
  if (failures.length === 0) return { kind: 'success' };
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = failure.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !knownIds.has(id)) {
      return {
        kind: 'wholeBatchFailed',
        reason: `unknown or empty itemIdentifier ${JSON.stringify(id) ?? 'undefined'}`,
      };
    }
    failed.add(id);
  }
  return { kind: 'partial', failed };
}
