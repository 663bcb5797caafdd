/**
 * The paging cursor of the CLI's history listings: opaque (base64url of a small versioned JSON),
 * carrying the full index position of the last row shown. Positions are unique per event
 * (`<time>#<id>`), so "strictly after the cursor" neither repeats a row nor loops when many events
 * share a millisecond (a bare time would).
 */
import * as z from 'zod';
import { CliError } from '../errors.js';

const cursorSchema = z.object({ v: z.literal(1), after: z.string().min(1) });

export function encodeCursor(afterPosition: string): string {
  return Buffer.from(JSON.stringify({ v: 1, after: afterPosition }), 'utf8').toString('base64url');
}

/** The position a cursor continues after; a CliError (exit 2) for anything we did not issue. */
export function decodeCursor(cursor: string): string {
  let json: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new CliError(
      '--cursor is not a cursor this CLI issued (copy nextCursor from the previous page)',
      2,
    );
  }
  const parsed = cursorSchema.safeParse(json);
  if (!parsed.success)
    throw new CliError(
      '--cursor is not a cursor this CLI issued (copy nextCursor from the previous page)',
      2,
    );
  return parsed.data.after;
}
