/**
 * Stack output names. An output carrying a handler environment variable is named after it in
 * PascalCase (`OUTBOX_TABLE` → `OutboxTable`, `AUDIT_DLQ_URL` → `AuditDlqUrl`), so the CLI and the
 * end-to-end suite can rebuild the handlers' environment from a deployed stack's outputs.
 * Pure module (no CDK imports): the CLI may import it.
 */

/** `OUTBOX_TABLE` → `OutboxTable`. */
export function outputNameForEnv(envName: string): string {
  return envName
    .toLowerCase()
    .split('_')
    .filter((part) => part !== '')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** Outputs that carry no environment variable of their own. */
export const EXTRA_OUTPUTS = {
  /** `wss://{api}.execute-api.{region}.amazonaws.com/{stage}`: where clients connect. */
  webSocketUrl: 'WebSocketUrl',
  /** `https://...` `@connections` endpoint (also as `WebsocketManagementEndpoint`, the env var's PascalCase). */
  webSocketManagementEndpoint: 'WebSocketManagementEndpoint',
  eventBusName: 'EventBusName',
  eventBusArn: 'EventBusArn',
  eventBusArchiveName: 'EventBusArchiveName',
  /** `https://{api}.execute-api.{region}.amazonaws.com`: the tenant webhook API (routes under `/webhooks`). */
  webhooksApiUrl: 'WebhooksApiUrl',
  dashboardName: 'DashboardName',
  alarmTopicArn: 'AlarmTopicArn',
} as const;
