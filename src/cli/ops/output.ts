/**
 * Output of the operator commands: a table for people, JSON for scripts (`--json`), progress on
 * stderr (so it never mixes with JSON on stdout).
 */
import { formatTable, printJson } from '../format.js';

export interface Output {
  readonly json: boolean;
  /** A table (human mode only). */
  table(rows: readonly Record<string, unknown>[], columns: readonly string[]): void;
  /** A line of text (human mode only). */
  line(text: string): void;
  /** The machine-readable result (JSON mode only). */
  result(value: unknown): void;
  /** Progress of a long operation, on stderr. */
  progress(text: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    table(rows, columns) {
      if (!json) console.log(formatTable(rows, columns));
    },
    line(text) {
      if (!json) console.log(text);
    },
    result(value) {
      if (json) printJson(value);
    },
    progress(text) {
      if (process.stderr.isTTY) process.stderr.write(`\r${text}\x1b[K`);
      else process.stderr.write(`${text}\n`);
    },
  };
}
