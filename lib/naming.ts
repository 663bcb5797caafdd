/** Construct ids derived from topology keys (`webhookDlq` → `WebhookDlq`). */
export function constructId(topologyKey: string): string {
  return topologyKey.charAt(0).toUpperCase() + topologyKey.slice(1);
}
