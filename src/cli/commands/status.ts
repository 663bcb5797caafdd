/**
 * `outbox-relay status`: one screen with every DLQ's depth and oldest age, the quarantine, the
 * webhook endpoints that are disabled or have an open circuit, and the stream's iterator age where
 * the target exposes it. Exit 1 when anything needs attention, so scripts and CI can use it.
 */
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { checkpointFilePath } from '../../../local/pollers/checkpoints.js';
import { getSqsClient } from '../../aws/clients.js';
import { getQuarantineRepository } from '../../aws/quarantineRepository.js';
import { getWebhookEndpointsRepository } from '../../aws/webhookEndpointsRepository.js';
import { topology } from '../../contract/topology.js';
import {
  circuitOpenForSeconds,
  circuitPolicyFromEnv,
  RECOMMENDED_CIRCUIT_POLICY,
} from '../../core/webhookCircuit.js';
import { CliError } from '../errors.js';
import { outputFormat, parseCommandArgs } from '../ops/args.js';
import { openContext } from '../ops/context.js';
import { createOutput } from '../ops/output.js';
import { peekMessages, queueDepth } from '../ops/sqsDlq.js';
import { assessStatus, type DlqSnapshot, formatAge, type StatusSnapshot } from '../ops/statusReport.js';
import { localStreamLag } from '../ops/streamLag.js';

export const summary =
  'status: DLQs, quarantine, webhook endpoints and stream lag at a glance (exit 1: needs attention)';

export const usage = `Usage: outbox-relay status [--sample <n>]
One screen: each DLQ's depth and the age of its oldest message (read from up to --sample messages,
default 50, which are received and released at once), the quarantine count (last 14 days), webhook
endpoints that are disabled or whose circuit is open, and the publisher's iterator age (locally:
the age of the oldest outbox stream record past its checkpoint; on a stack: see CloudWatch). Exit code 0 when all is well, 1 when anything needs attention.`;

export const completion = { words: [] as string[], options: ['sample'] };

/** The DLQs status looks at, by the name `dlq` commands use. */
const DLQS = {
  publisher: topology.queues.publisherDlq.env,
  webhook: topology.queues.webhookDlq.env,
  audit: topology.queues.auditDlq.env,
  fanout: topology.queues.fanoutDlq.env,
  dispatch: topology.queues.webhookDispatchDlq.env,
  bus: topology.queues.busTargetDlq.env,
} as const;

const QUARANTINE_DAYS = 14;

async function localIteratorAge(checkpointsPath: string, now: Date) {
  const streams = new DynamoDBStreamsClient({});
  try {
    return await localStreamLag(streams, checkpointsPath, now);
  } finally {
    streams.destroy();
  }
}
const QUARANTINE_CAP = 1000;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { sample: { type: 'string' } });
  if (positionals.length > 0)
    throw new CliError(`unexpected argument "${positionals[0]}"; see "outbox-relay status --help"`, 2);
  const sample = values.sample === undefined ? 50 : Number(values.sample);
  if (!Number.isInteger(sample) || sample < 0 || sample > 1000)
    throw new CliError(`--sample must be a whole number from 0 to 1000, got "${values.sample}"`, 2);
  const out = createOutput(outputFormat(values));
  const ctx = await openContext(values);
  const now = new Date();
  const sqs = getSqsClient();

  const dlqs: DlqSnapshot[] = await Promise.all(
    Object.entries(DLQS).map(async ([kind, env]) => {
      const url = ctx.require(env);
      const { visible, inFlight } = await queueDepth(sqs, url);
      const depth = visible + inFlight;
      const messages = depth > 0 && sample > 0 ? await peekMessages(sqs, url, sample) : [];
      const sentTimes = messages.flatMap((m) => (m.sentAt ? [Date.parse(m.sentAt)] : []));
      const oldest = sentTimes.length > 0 ? Math.min(...sentTimes) : undefined;
      return {
        kind,
        depth,
        sampled: messages.length,
        ...(oldest !== undefined ? { oldestAgeSeconds: Math.max(0, (now.getTime() - oldest) / 1000) } : {}),
      };
    }),
  );
  const { items } = await getQuarantineRepository().list({
    since: new Date(now.getTime() - QUARANTINE_DAYS * 86_400_000),
    limit: QUARANTINE_CAP,
  });
  // The stack turns the breaker on with the recommended policy; locally it is what the runtime has.
  const policy = ctx.kind === 'stack' ? RECOMMENDED_CIRCUIT_POLICY : circuitPolicyFromEnv(process.env);
  const endpoints = (await getWebhookEndpointsRepository().listAll())
    .map((e) => ({
      id: e.id,
      tenantId: e.tenantId,
      url: e.url,
      enabled: e.enabled,
      disabledReason: e.disabledReason,
      failureStreak: e.failureStreak,
      circuitOpenForSeconds: circuitOpenForSeconds(e, now, policy),
    }))
    .filter((e) => !e.enabled || e.circuitOpenForSeconds !== undefined);
  const snapshot: StatusSnapshot = {
    target: ctx.description,
    at: now.toISOString(),
    dlqs,
    quarantine: { count: items.length, capped: items.length >= QUARANTINE_CAP, days: QUARANTINE_DAYS },
    endpoints,
    iteratorAge:
      ctx.kind === 'local' && ctx.target.localDir
        ? await localIteratorAge(checkpointFilePath(ctx.target.localDir), now)
        : {
            unavailable:
              'read the IteratorAge metric of the publisher function (CloudWatch, the stack dashboard, alarm publisher-iterator-age)',
          },
  };
  const assessment = assessStatus(snapshot);
  out.result({ ...snapshot, ok: assessment.ok, attention: assessment.attention });
  out.line(`${ctx.description} at ${snapshot.at}: ${assessment.ok ? 'OK' : 'NEEDS ATTENTION'}`);
  out.line('');
  out.table(
    dlqs.map((d) => ({
      dlq: d.kind,
      depth: d.depth,
      oldest:
        d.oldestAgeSeconds !== undefined
          ? `${formatAge(d.oldestAgeSeconds)}${d.sampled < d.depth ? ` (of ${d.sampled} sampled)` : ''}`
          : '',
    })),
    ['dlq', 'depth', 'oldest'],
  );
  out.line('');
  out.line(
    `quarantine: ${snapshot.quarantine.capped ? 'at least ' : ''}${snapshot.quarantine.count} row(s) in the last ${QUARANTINE_DAYS} days`,
  );
  out.line(
    `webhook endpoints disabled or with an open circuit: ${endpoints.length === 0 ? 'none' : endpoints.length}`,
  );
  if (endpoints.length > 0)
    out.table(
      endpoints.map((e) => ({
        id: e.id,
        tenant: e.tenantId,
        state: e.enabled ? `circuit open ${formatAge(e.circuitOpenForSeconds)}` : 'disabled',
        detail: e.enabled ? `${e.failureStreak} failures in a row` : (e.disabledReason ?? ''),
      })),
      ['id', 'tenant', 'state', 'detail'],
    );
  out.line(
    `stream iterator age: ${'seconds' in snapshot.iteratorAge ? formatAge(snapshot.iteratorAge.seconds) : `not available (${snapshot.iteratorAge.unavailable})`}`,
  );
  if (!assessment.ok) {
    out.line('');
    out.line('Needs attention:');
    for (const line of assessment.attention) out.line(`  - ${line}`);
  }
  return assessment.ok ? 0 : 1;
}
