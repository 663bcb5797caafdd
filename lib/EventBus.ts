/**
 * The custom event bus, its archive, and one rule per `topology.bus.rules` entry with the
 * topology's event pattern verbatim. Each rule targets its SQS queue (the queue policy allows
 * only that rule: events.amazonaws.com with `aws:SourceArn`), retries within EventBridge's
 * bounds, then parks the event in the bus targets' dead-letter queue.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  type EventPattern,
  type QueueName,
  type RuleDef,
  type RuleName,
  topology,
} from '../src/contract/topology.js';
import { EVENT_SOURCE } from '../src/core/envelope.js';
import { constructId, stackScopedName } from './naming.js';
import { createTopologyQueues } from './topologyQueues.js';

type RuleTargetQueue = (typeof topology.bus.rules)[RuleName]['targetQueue'];

export interface EventBusProps {
  /** The queue each rule targets, by topology queue name. */
  readonly targetQueues: Record<RuleTargetQueue, sqs.IQueue>;
  /** Leading part of the bus and archive names, before the stack name. @default none: `<stack>-bus` */
  readonly namePrefix?: string;
  /** Archive retention in days; 0 keeps events forever. @default topology.bus.archiveRetentionDays */
  readonly archiveRetentionDays?: number;
  /** Attempts EventBridge makes to deliver to a target queue. @default 185 (EventBridge's maximum) */
  readonly targetRetryAttempts?: number;
  /** How long EventBridge keeps trying. @default 24 hours (EventBridge's maximum) */
  readonly targetMaxEventAge?: Duration;
  /**
   * A bus the app already has (Solutions Constructs' `existing…` convention): no bus is created;
   * the rules, the archive of this pipeline's events (`source` outbox-relay only) and the
   * publisher's `events:PutEvents` grant go on this one. `namePrefix` does not rename it.
   * @default a new bus `<prefix->stack-bus`
   */
  readonly existingBus?: events.IEventBus;
}

/** `detail-type` → `detailType`: the L2 `EventPattern` spells wire keys in camelCase. */
function toL2Pattern(pattern: EventPattern): events.EventPattern {
  return Object.fromEntries(
    Object.entries(pattern).map(([key, value]) => [
      key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()),
      value,
    ]),
  );
}

export class EventBus extends Construct {
  readonly bus: events.IEventBus;
  readonly archive: events.Archive;
  readonly rules: Record<RuleName, events.Rule>;
  /** Events a rule could not deliver to its queue. */
  readonly targetDeadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: EventBusProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    const prefix = props.namePrefix;
    this.bus =
      props.existingBus ??
      new events.EventBus(this, 'Bus', {
        eventBusName: stackScopedName(stackName, 'bus', { prefix }),
      });

    const retentionDays = props.archiveRetentionDays ?? topology.bus.archiveRetentionDays;
    const archiveProps: events.BaseArchiveProps = {
      // EventBridge caps archive names at 48 characters.
      archiveName: stackScopedName(stackName, 'archive', { prefix, maxLength: 48 }),
      description:
        'Every event the publisher put on the bus (replay does not keep order: resume uses the audit table)',
      eventPattern: { source: [EVENT_SOURCE] },
      retention: Duration.days(retentionDays),
    };
    // A given bus may live in another stack: its archive of our events belongs to this one.
    this.archive = props.existingBus
      ? new events.Archive(this, 'Archive', { ...archiveProps, sourceEventBus: props.existingBus })
      : this.bus.archive('Archive', archiveProps);
    // Without a key CDK writes `KmsKeyIdentifier: ""`, which some regions refuse at deploy: drop it
    // (the archive then uses an AWS-owned key, as when the property is absent).
    (this.archive.node.defaultChild as events.CfnArchive).addPropertyDeletionOverride('KmsKeyIdentifier');

    const dlqName: QueueName = 'busTargetDlq';
    this.targetDeadLetterQueue = createTopologyQueues(this, [dlqName])[dlqName];

    const rules = {} as Record<RuleName, events.Rule>;
    for (const [ruleName, def] of Object.entries(topology.bus.rules) as [RuleName, RuleDef][]) {
      const queue = props.targetQueues[def.targetQueue as RuleTargetQueue];
      const rule = new events.Rule(this, `${constructId(ruleName)}Rule`, {
        eventBus: this.bus,
        description: def.description,
        eventPattern: toL2Pattern(def.pattern),
      });
      // The topology's pattern is already in wire form: put it on the template byte for byte.
      const cfnRule = rule.node.defaultChild as events.CfnRule;
      cfnRule.addPropertyOverride('EventPattern', def.pattern);
      rule.addTarget(
        new targets.SqsQueue(queue, {
          deadLetterQueue: this.targetDeadLetterQueue,
          retryAttempts: props.targetRetryAttempts ?? 185,
          maxEventAge: props.targetMaxEventAge ?? Duration.hours(24),
        }),
      );
      rules[ruleName] = rule;
    }
    this.rules = rules;
  }

  /** ARN of the bus's archive (for replays). */
  get archiveArn(): string {
    return Stack.of(this).formatArn({
      service: 'events',
      resource: 'archive',
      resourceName: this.archive.archiveName,
    });
  }
}
