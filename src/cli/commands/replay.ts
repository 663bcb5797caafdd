/**
 * `outbox-relay replay --from <time> [--to <time>] [--route …] [--tenant <id>] [--dry-run]`: send
 * the events of a time range through the bus routes again. Offline, the CLI reads the local bus
 * archive and hands each chosen event to the chosen routes' queues, as the local bus does; on a
 * deployed stack, an EventBridge archive replay is started (limited to the chosen rules with
 * `FilterArns`) and followed until it completes. Replayed events keep their envelope `id`, so every
 * consumer de-duplicates them; archive replay is unordered (receivers order by `position`).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeArchiveCommand,
  DescribeReplayCommand,
  EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  StartReplayCommand,
} from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { getSqsClient } from '../../aws/clients.js';
import { EXTRA_OUTPUTS } from '../../contract/outputNames.js';
import { topology } from '../../contract/topology.js';
import { matchesEventPattern } from '../../core/eventPattern.js';
import { CliError } from '../errors.js';
import { outputFormat, parseCommandArgs, timeOption } from '../ops/args.js';
import { type OpsContext, openContext } from '../ops/context.js';
import { createOutput, type Output } from '../ops/output.js';
import { didYouMean } from '../suggest.js';

/** The routes a replay can be limited to: the bus rules of the topology. */
export const ROUTES = Object.keys(topology.bus.rules) as (keyof typeof topology.bus.rules)[];
type Route = (typeof ROUTES)[number];

export const summary =
  'replay --from <time> [--to] [--route webhooks|fanout|audit] [--tenant] [--dry-run]: send events through the routes again';

export const usage = `Usage: outbox-relay replay --from <time> [--to <time>] [--route <${ROUTES.join('|')}>[,…]] [--tenant <id>] [--dry-run]
Sends the events of a time range through the bus routes again (default: every route). Times are
ISO-8601 or durations ago (2h, 30m); --to defaults to now.
  --route     only these routes: "--route audit" re-audits without calling any webhook again
  --tenant    only this tenant's events (local runtime only: an EventBridge archive replay cannot
              select a tenant)
  --dry-run   count what would be replayed (local) or show the replay that would start (stack)
Offline: the local bus archive. Deployed: an EventBridge archive replay, followed until it ends.`;

export const completion = {
  words: [] as string[],
  options: ['from', 'to', 'route', 'tenant', 'dry-run'],
};

const POLL_MS = 5_000;

export function parseRoutes(value: string | undefined): Route[] {
  if (value === undefined) return [...ROUTES];
  const names = value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (names.length === 0) throw new CliError(`--route needs one of ${ROUTES.join(', ')}`, 2);
  return names.map((name) => {
    const route = ROUTES.find((r) => r === name);
    if (!route)
      throw new CliError(
        `--route: no route "${name}"${didYouMean(name, ROUTES)}; routes: ${ROUTES.join(', ')}`,
        2,
      );
    return route;
  });
}

const archivedEventSchema = z
  .object({
    source: z.string(),
    'detail-type': z.string(),
    time: z.string(),
    detail: z.record(z.string(), z.unknown()),
  })
  .passthrough();
type ArchivedEvent = z.infer<typeof archivedEventSchema>;

interface ReplayRequest {
  readonly from: Date;
  readonly to: Date;
  readonly routes: readonly Route[];
  readonly tenant: string | undefined;
  readonly dryRun: boolean;
}

async function replayLocal(ctx: OpsContext, request: ReplayRequest, out: Output): Promise<number> {
  const control = ctx.target.endpoints?.control;
  if (!control) throw new CliError(`${ctx.description} names no control endpoint; restart it (npm start)`);
  const query = new URLSearchParams({ from: request.from.toISOString(), to: request.to.toISOString() });
  const response = await fetch(`${control}/bus/archive?${query}`);
  const body = z
    .object({ events: z.array(archivedEventSchema) })
    .safeParse(await response.json().catch(() => undefined));
  if (!response.ok || !body.success)
    throw new CliError(`the local runtime did not list its bus archive (HTTP ${response.status})`);
  const events = body.data.events.filter(
    (event) => request.tenant === undefined || event.detail.tenantId === request.tenant,
  );
  const replayName = `local-replay-${Date.now()}`;
  const perRoute: Record<string, number> = {};
  const sqs = getSqsClient();
  for (const route of request.routes) {
    const rule = topology.bus.rules[route];
    const queueUrl = ctx.require(topology.queues[rule.targetQueue].env);
    const matching = events.filter((event) => matchesEventPattern(rule.pattern, event));
    perRoute[route] = matching.length;
    if (request.dryRun) continue;
    for (let i = 0; i < matching.length; i += 10) {
      const chunk: ArchivedEvent[] = matching.slice(i, i + 10);
      const sent = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((event, index) => ({
            Id: String(index),
            MessageBody: JSON.stringify({ ...event, 'replay-name': replayName }),
          })),
        }),
      );
      if ((sent.Failed ?? []).length > 0)
        throw new CliError(
          `the ${route} queue refused ${sent.Failed?.length} replayed event(s); run the replay again (consumers de-duplicate)`,
        );
      out.progress(`replay ${route}: ${Math.min(i + 10, matching.length)} of ${matching.length}`);
    }
  }
  const result = {
    target: 'local',
    dryRun: request.dryRun,
    from: request.from.toISOString(),
    to: request.to.toISOString(),
    tenant: request.tenant ?? null,
    routes: request.routes,
    events: events.length,
    perRoute,
    replayed: request.dryRun ? 0 : events.length,
  };
  out.result(result);
  out.line(
    `${request.dryRun ? 'Dry run: would replay' : 'Replayed'} ${events.length} archived event(s)${request.tenant ? ` of tenant ${request.tenant}` : ''} to ${request.routes
      .map((r) => `${r} (${perRoute[r] ?? 0})`)
      .join(', ')}.`,
  );
  return 0;
}

async function ruleArnsFor(
  events: EventBridgeClient,
  busName: string,
  routes: readonly Route[],
  ctx: OpsContext,
) {
  // Rules are named by CloudFormation; find each route's rule by its target queue's name.
  const wanted = new Map(
    routes.map((route) => {
      const url = ctx.require(topology.queues[topology.bus.rules[route].targetQueue].env);
      return [url.split('/').at(-1) ?? '', route] as const;
    }),
  );
  const arns: string[] = [];
  let token: string | undefined;
  do {
    const page = await events.send(new ListRulesCommand({ EventBusName: busName, NextToken: token }));
    for (const rule of page.Rules ?? []) {
      const targets = await events.send(
        new ListTargetsByRuleCommand({ Rule: rule.Name, EventBusName: busName }),
      );
      if ((targets.Targets ?? []).some((t) => wanted.has(t.Arn?.split(':').at(-1) ?? '')) && rule.Arn)
        arns.push(rule.Arn);
    }
    token = page.NextToken;
  } while (token);
  if (arns.length !== routes.length)
    throw new CliError(
      `found ${arns.length} of ${routes.length} rule(s) for --route ${routes.join(',')} on bus ${busName}`,
    );
  return arns;
}

async function replayStack(ctx: OpsContext, request: ReplayRequest, region: string | undefined, out: Output) {
  if (request.tenant !== undefined)
    throw new CliError(
      'replay --tenant works on the local runtime only: an EventBridge archive replay cannot select one tenant. Limit the receivers with --route instead',
      2,
    );
  const outputs = new Map(Object.entries(ctx.target.stack?.outputs ?? {}));
  const stackName = ctx.target.stack?.name ?? '';
  if (outputs.size === 0) {
    const cloudFormation = new CloudFormationClient(region ? { region } : {});
    const described = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    for (const o of described.Stacks?.[0]?.Outputs ?? []) outputs.set(o.OutputKey ?? '', o.OutputValue ?? '');
  }
  const busArn = outputs.get(EXTRA_OUTPUTS.eventBusArn);
  const archiveName = outputs.get(EXTRA_OUTPUTS.eventBusArchiveName);
  if (!busArn || !archiveName) {
    throw new CliError(
      `stack ${stackName} has no ${EXTRA_OUTPUTS.eventBusArn} / ${EXTRA_OUTPUTS.eventBusArchiveName} outputs`,
    );
  }
  // arn:aws:events:<region>:<account>:event-bus/<name> → the archive's ARN in the same account.
  const [, partition, , busRegion, account] = busArn.split(':');
  const archiveArn = `arn:${partition}:events:${busRegion}:${account}:archive/${archiveName}`;
  const events = new EventBridgeClient(region ? { region } : {});
  const allRoutes = request.routes.length === ROUTES.length;
  const filterArns = allRoutes
    ? undefined
    : await ruleArnsFor(events, busArn.split('/').at(-1) ?? '', request.routes, ctx);
  const replayName = `outbox-relay-${Date.now()}`;
  if (request.dryRun) {
    const archive = await events.send(new DescribeArchiveCommand({ ArchiveName: archiveName }));
    out.result({
      target: 'stack',
      dryRun: true,
      archive: archiveName,
      archiveEventCount: archive.EventCount ?? null,
      from: request.from.toISOString(),
      to: request.to.toISOString(),
      routes: request.routes,
      filterArns: filterArns ?? null,
    });
    out.line(
      `Dry run: would start an archive replay of ${archiveName} from ${request.from.toISOString()} to ${request.to.toISOString()} to ${allRoutes ? 'every rule' : filterArns?.join(', ')}. EventBridge gives no count for a time range (the archive holds ${archive.EventCount ?? '?'} event(s) in all).`,
    );
    return 0;
  }
  await events.send(
    new StartReplayCommand({
      ReplayName: replayName,
      EventSourceArn: archiveArn,
      EventStartTime: request.from,
      EventEndTime: request.to,
      Destination: { Arn: busArn, ...(filterArns ? { FilterArns: filterArns } : {}) },
    }),
  );
  for (;;) {
    const replay = await events.send(new DescribeReplayCommand({ ReplayName: replayName }));
    const state = replay.State ?? 'UNKNOWN';
    out.progress(
      `replay ${replayName}: ${state}${replay.EventLastReplayedTime ? ` (at ${replay.EventLastReplayedTime.toISOString()})` : ''}`,
    );
    if (state === 'COMPLETED') {
      out.result({
        target: 'stack',
        dryRun: false,
        replayName,
        state,
        routes: request.routes,
        from: request.from.toISOString(),
        to: request.to.toISOString(),
      });
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
    route: { type: 'string' },
    tenant: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
  });
  if (positionals.length > 0)
    throw new CliError(`unexpected argument "${positionals[0]}"; see "outbox-relay replay --help"`, 2);
  const from = timeOption(values.from, 'from');
  const to = timeOption(values.to, 'to') ?? new Date();
  if (!from) throw new CliError(`--from is required; see "outbox-relay replay --help"`, 2);
  if (from >= to)
    throw new CliError(`--from (${from.toISOString()}) must be before --to (${to.toISOString()})`, 2);
  const request: ReplayRequest = {
    from,
    to,
    routes: parseRoutes(values.route),
    tenant: values.tenant,
    dryRun: values['dry-run'],
  };
  const out = createOutput(outputFormat(values));
  const ctx = await openContext(values);
  if (ctx.kind === 'local') return replayLocal(ctx, request, out);
  return replayStack(ctx, request, values.region, out);
}
