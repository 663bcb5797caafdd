/** What the offline runtime hands the console (see `local/runtime.ts`). */
export interface ConsoleContext {
  /** Everything the handlers see: table names (`OUTBOX_TABLE`, `AUDIT_TABLE`), `JWT_SECRET`, AWS_* settings. */
  readonly env: Readonly<Record<string, string>>;
  /** The runtime's endpoints (`webSocket`, `dynamodb`, …). */
  readonly endpoints: Readonly<Record<string, string>>;
  /**
   * Drops every open WebSocket connection from the server side, without a `close` frame, as a
   * network failure would; returns how many. Enables the page's "drop connection" button.
   */
  readonly dropConnections?: () => number | Promise<number>;
}
