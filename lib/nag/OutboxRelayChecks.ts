/**
 * The project's own cdk-nag pack: the AWS rules the pipeline's settings depend on (lib/nag/rules.ts),
 * each message citing its source. Registered beside AwsSolutions, it fails `cdk synth` the same
 * way, and a finding is acknowledged the same way, with a reason:
 *
 * ```ts
 * Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new OutboxRelayChecks(app));
 * Validations.of(construct).acknowledge({ id: 'OutboxRelay-SqsMaxConcurrency', reason: '...' });
 * ```
 */

import type { PolicyValidationPluginReport } from 'aws-cdk-lib';
import { type CfnResource, Stack } from 'aws-cdk-lib';
import { NagMessageLevel, NagPack, type NagPackProps, NagRuleCompliance } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { OUTBOX_RELAY_RULES, type OutboxRelayRule } from './rules.js';
import { StackView } from './stackView.js';

export const OUTBOX_RELAY_PACK = 'OutboxRelay';

/** `OutboxRelay-<rule>`: the id a finding carries and an acknowledgment names. */
export function outboxRelayRuleId(rule: Pick<OutboxRelayRule, 'id'>): string {
  return `${OUTBOX_RELAY_PACK}-${rule.id}`;
}

export class OutboxRelayChecks extends NagPack {
  readonly name = 'OutboxRelay';
  override readonly ruleIds = OUTBOX_RELAY_RULES.map(outboxRelayRuleId);
  private views = new Map<Stack, StackView>();

  constructor(scope?: IConstruct, props?: NagPackProps) {
    super(scope, props);
    this.packName = OUTBOX_RELAY_PACK;
  }

  override validateScope(scope: IConstruct): PolicyValidationPluginReport {
    // Templates may change between validations (tests reuse the pack): resolve afresh each time.
    this.views = new Map();
    return super.validateScope(scope);
  }

  protected checkResource(node: CfnResource): void {
    const stack = Stack.of(node);
    let view = this.views.get(stack);
    if (!view) {
      view = new StackView(stack);
      this.views.set(stack, view);
    }
    const resource = view.of(node);
    if (!resource) return;
    for (const rule of OUTBOX_RELAY_RULES) {
      const outcome = rule.check(resource, view);
      if (outcome.status === 'ok' || outcome.status === 'n/a') continue;
      this.applyRule({
        ruleSuffixOverride: rule.id,
        info: `${outboxRelayRuleId(rule)}: ${outcome.detail}. ${rule.requires} Source: ${rule.source.title} (${rule.source.url}).`,
        explanation: `Acknowledge with a reason only where the rule cannot apply: Validations.of(construct).acknowledge({ id: '${outboxRelayRuleId(rule)}', reason }).`,
        level: NagMessageLevel.ERROR,
        node,
        rule: () => (outcome.status === 'findings' ? [...outcome.findings] : NagRuleCompliance.NON_COMPLIANT),
      });
    }
  }
}
