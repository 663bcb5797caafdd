/**
 * Output of the operator commands: `--output table` (the default, for people), `json` (one
 * document) or `jsonl` (one object per line for list results); `--json` is `--output json`.
 * Progress and warnings go to stderr, so they never mix with what a script reads on stdout.
 */
import { formatTable, printJson } from '../format.js';

export const OUTPUT_FORMATS = ['table', 'json', 'jsonl'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface Output {
  readonly format: OutputFormat;
  /** True for json and jsonl: human lines and tables are not printed. */
  readonly json: boolean;
  /** A table (table mode only). */
  table(rows: readonly Record<string, unknown>[], columns: readonly string[]): void;
  /** A line of text (table mode only). */
  line(text: string): void;
  /**
   * The machine-readable result: `json` prints `value`; `jsonl` prints each of `rows` on its own
   * line when the result is a list, else `value` on one line.
   */
  result(value: unknown, rows?: readonly unknown[]): void;
  /** Progress of a long operation, on stderr. */
  progress(text: string): void;
}

export function createOutput(format: OutputFormat | boolean): Output {
  const resolved: OutputFormat = format === true ? 'json' : format === false ? 'table' : format;
  const json = resolved !== 'table';
  return {
    format: resolved,
    json,
    table(rows, columns) {
      if (!json) console.log(formatTable(rows, columns));
    },
    line(text) {
      if (!json) console.log(text);
    },
    result(value, rows) {
      if (resolved === 'json') printJson(value);
      else if (resolved === 'jsonl') {
        for (const row of rows ?? [value]) console.log(JSON.stringify(row));
      }
    },
    progress(text) {
      if (process.stderr.isTTY) {
        process.stderr.write(`\r${text}\x1b[K`);
        progressPending = true;
      } else process.stderr.write(`${text}\n`);
    },
  };
}

let progressPending = false;

/** Ends a progress line left open on a terminal (called once a command is done). */
export function endProgress(): void {
  if (progressPending) process.stderr.write('\n');
  progressPending = false;
}
