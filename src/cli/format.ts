/** CLI output helpers shared by every command: aligned tables for people, JSON for scripts. */

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map(cell).join(',');
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/\s+/g, ' ');
}

/** `connectedAt` → `CONNECTED AT`, so camel-case headers do not run together. */
export function headerOf(column: string): string {
  return column
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[-_]/g, ' ')
    .toUpperCase();
}

/**
 * An aligned text table of `rows` with the given columns (in order); `(none)` when empty.
 *
 * ```ts
 * console.log(formatTable([{ id: 'ep_1', url: 'https://…' }], ['id', 'url']));
 * ```
 */
export function formatTable(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((row) => columns.map((column) => cell(row[column])));
  const headers = columns.map(headerOf);
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...cells.map((line) => (line[i] ?? '').length)),
  );
  const render = (values: readonly string[]) =>
    values
      .map((value, i) => (i === values.length - 1 ? value : value.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [render(headers), render(widths.map((w) => '-'.repeat(w))), ...cells.map(render)].join('\n');
}

/** Pretty JSON on stdout (the `--json` output of every command). */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}
