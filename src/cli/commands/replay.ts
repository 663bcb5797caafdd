/**
 * `outbox-relay replay --from <time> --to <time>`: send the events of a time range through the
 * bus rules again (audit, fan-out, webhooks). Offline, the local bus re-sends its archive; on a
 * deployed stack, an EventBridge archive replay is started and followed until it completes.
 * Replayed events keep their envelope `id`, so every consumer de-duplicates them; archive replay
 * is unordered (receivers order by `position`; resume reads the audit table in order).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeReplayCommand, EventBridgeClient, StartReplayCommand } from '@aws-sdk/client-eventbridge';
import * as z from 'zod';
import { EXTRA_OUTPUTS } from '../../contract/outputNames.js';
import { CliError } from '../errors.js';
import { parseCommandArgs, timeOption } from '../ops/args.js';
import { openContext } from '../ops/context.js';
import { createOutput, type Output } from '../ops/output.js';
import { LOCAL_DIR_ENV, LOCAL_ENDPOINTS_FILE } from '../target.js';

export const summary =
  'replay --from <time> --to <time>: send a time range of events through the routes again';

const USAGE = `Usage: outbox-relay replay --from <time> --to <time> [--stack <name>]
Times are ISO-8601 or durations ago (2h, 30m). Offline: the local bus archive. Deployed: an EventBridge archive replay.`;

const POLL_MS = 5_000;

async function localControlUrl(): Promise<string> {
  const dir = process.env[LOCAL_DIR_ENV];
  const path = dir ? resolve(dir, 'endpoints.json') : resolve(LOCAL_ENDPOINTS_FILE);
  const parsed = z
    .object({ endpoints: z.object({ control: z.string().url() }) })
    .safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!parsed.success)
    throw new CliError(`${path} names no control endpoint; restart the local runtime (npm start)`);
  return parsed.data.endpoints.control;
}

async function replayLocal(from: Date, to: Date, out: Output): Promise<number> {
  const control = await localControlUrl();
  out.progress(`replaying the local bus archive from ${from.toISOString()} to ${to.toISOString()}…`);
  const response = await fetch(`${control}/bus/replay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: from.toISOString(), to: to.toISOString() }),
  });
  const body = z
    .object({ replayed: z.number().int() })
    .safeParse(await response.json().catch(() => undefined));
  if (!response.ok || !body.success)
    throw new CliError(`the local runtime refused the replay (HTTP ${response.status})`);
  out.result({
    target: 'local',
    from: from.toISOString(),
    to: to.toISOString(),
    replayed: body.data.replayed,
  });
  out.line(`${body.data.replayed} archived event(s) sent through the rules again.`);
  return 0;
}

async function replayStack(
  stack: string,
  region: string | undefined,
  from: Date,
  to: Date,
  out: Output,
): Promise<number> {
  const cloudFormation = new CloudFormationClient(region ? { region } : {});
  const described = await cloudFormation.send(new DescribeStacksCommand({ StackName: stack }));
  const outputs = new Map((described.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
  const busArn = outputs.get(EXTRA_OUTPUTS.eventBusArn);
  const archiveName = outputs.get(EXTRA_OUTPUTS.eventBusArchiveName);
  if (!busArn || !archiveName) {
    throw new CliError(
      `stack ${stack} has no ${EXTRA_OUTPUTS.eventBusArn} / ${EXTRA_OUTPUTS.eventBusArchiveName} outputs`,
    );
  }
  // arn:aws:events:<region>:<account>:event-bus/<name> → the archive's ARN in the same account.
  const [, partition, , busRegion, account] = busArn.split(':');
  const archiveArn = `arn:${partition}:events:${busRegion}:${account}:archive/${archiveName}`;
  const events = new EventBridgeClient(region ? { region } : {});
  const replayName = `outbox-relay-${Date.now()}`;
  await events.send(
    new StartReplayCommand({
      ReplayName: replayName,
      EventSourceArn: archiveArn,
      EventStartTime: from,
      EventEndTime: to,
      Destination: { Arn: busArn },
    }),
  );
  for (;;) {
    const replay = await events.send(new DescribeReplayCommand({ ReplayName: replayName }));
    const state = replay.State ?? 'UNKNOWN';
    out.progress(
      `replay ${replayName}: ${state}${replay.EventLastReplayedTime ? ` (at ${replay.EventLastReplayedTime.toISOString()})` : ''}`,
    );
    if (state === 'COMPLETED') {
      out.result({ target: 'stack', replayName, state, from: from.toISOString(), to: to.toISOString() });
      out.line(`Replay ${replayName} completed.`);
      return 0;
    }
    if (state === 'FAILED' || state === 'CANCELLED') {
      throw new CliError(
        `replay ${replayName} ${state.toLowerCase()}: ${replay.StateReason ?? 'no reason given'}`,
      );
    }
    await new Promise((done) => setTimeout(done, POLL_MS));
  }
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    from: { type: 'string' },
    to: { type: 'string' },
  });
  if (positionals.length > 0) throw new CliError(`unexpected argument "${positionals[0]}"\n${USAGE}`, 2);
  const from = timeOption(values.from, 'from');
  const to = timeOption(values.to, 'to') ?? new Date();
  if (!from) throw new CliError(`--from is required\n${USAGE}`, 2);
  if (from >= to)
    throw new CliError(`--from (${from.toISOString()}) must be before --to (${to.toISOString()})`, 2);
  const out = createOutput(values.json);
  const ctx = await openContext(values);
  if (ctx.kind === 'local') return replayLocal(from, to, out);
  return replayStack(values.stack ?? '', values.region, from, to, out);
}
