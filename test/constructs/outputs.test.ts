/** Stack outputs are named after the handlers' env vars (PascalCase) so the CLI and e2e suite can target a deployed stack. */
import { describe, expect, it } from 'vitest';
import { EXTRA_OUTPUTS, outputNameForEnv } from '../../src/contract/outputNames.js';
import { type QueueDef, type TableDef, topology } from '../../src/contract/topology.js';
import { bundledTemplate } from './fixture.js';

const outputs = (bundledTemplate().toJSON() as { Outputs: Record<string, { Value: unknown }> }).Outputs;

describe('stack outputs', () => {
  it('names outputs after env vars in PascalCase', () => {
    expect(outputNameForEnv('OUTBOX_TABLE')).toBe('OutboxTable');
    expect(outputNameForEnv('WEBHOOK_DLQ_URL')).toBe('WebhookDlqUrl');
  });

  it('has one output per table, queue and the bus, named after its env var', () => {
    const envs = [
      ...(Object.values(topology.tables) as TableDef[]).map((t) => t.env),
      ...(Object.values(topology.queues) as QueueDef[]).map((q) => q.env),
      topology.bus.env,
      topology.webSocket.managementEndpointEnv,
      'JWT_SECRET_ARN',
    ];
    for (const env of envs) expect(outputs, env).toHaveProperty(outputNameForEnv(env));
  });

  it('has the WebSocket URL, management endpoint, bus and archive names', () => {
    for (const name of [
      EXTRA_OUTPUTS.webSocketUrl,
      EXTRA_OUTPUTS.webSocketManagementEndpoint,
      EXTRA_OUTPUTS.eventBusName,
      EXTRA_OUTPUTS.eventBusArchiveName,
      EXTRA_OUTPUTS.dashboardName,
    ]) {
      expect(outputs, name).toHaveProperty(name);
    }
    expect(JSON.stringify(outputs[EXTRA_OUTPUTS.webSocketUrl]?.Value)).toContain('wss://');
    expect(JSON.stringify(outputs[EXTRA_OUTPUTS.webSocketManagementEndpoint]?.Value)).toContain('https://');
  });
});
