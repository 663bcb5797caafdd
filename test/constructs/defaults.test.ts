/**
 * Each default is defined once and read by every consumer: the stack's schema and the env it gives
 * the functions, the handlers' own fallbacks (which the offline runtime relies on: it sets none of
 * these variables), resume and the cost model. Changing a default is a one-line change to its
 * constant; this test reads the constant, so it keeps passing after such a change and fails if a
 * consumer restates the value.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.js';
import { runtimeEnv } from '../../local/runtimeEnv.js';
import type { FunctionName } from '../../src/contract/topology.js';
import { DEFAULT_FANOUT_PLAN_OPTIONS, DEFAULT_MAX_EVENTS_PER_FRAME } from '../../src/core/fanoutPlan.js';
import { FANOUT_ENV, fanoutSettingsFromEnv } from '../../src/core/fanoutSettings.js';
import { SQS_MAX_DELAY_SECONDS, WEBSOCKET_MAX_MESSAGE_BYTES } from '../../src/core/limits.js';
import {
  DEFAULT_RESUME_MAX_EVENTS,
  DEFAULT_RESUME_SETTINGS,
  RESUME_ENV,
  resumeSettingsFromEnv,
} from '../../src/core/resume.js';
import { MAX_CIRCUIT_COOLDOWN_SECONDS } from '../../src/core/webhookCircuit.js';
import { sourceFiles } from '../helpers/sourceFiles.js';
import { functionId, resource, synthStack } from './fixture.js';

function functionEnv(name: FunctionName): Record<string, unknown> {
  const { template } = synthStack();
  const props = resource(template, functionId(template, name)).Properties as {
    Environment: { Variables: Record<string, unknown> };
  };
  return props.Environment.Variables;
}

const localEnv = runtimeEnv({
  dynamodbEndpoint: 'http://127.0.0.1:1',
  sqsEndpoint: 'http://127.0.0.1:2',
  eventBridgeEndpoint: 'http://127.0.0.1:3',
  managementEndpoint: 'http://127.0.0.1:4',
  busName: 'bus',
  tables: {},
  queues: {},
  jwtSecret: 'secret',
});

describe('one source per default', () => {
  it('events per frame: the stack schema, both functions’ env, the local runtime and resume all use the constant', () => {
    expect(parseConfig({}).fanout.maxEventsPerFrame).toBe(DEFAULT_MAX_EVENTS_PER_FRAME);
    expect(functionEnv('fanout')[FANOUT_ENV.maxEventsPerFrame]).toBe(String(DEFAULT_MAX_EVENTS_PER_FRAME));
    expect(functionEnv('wsMessage')[FANOUT_ENV.maxEventsPerFrame]).toBe(String(DEFAULT_MAX_EVENTS_PER_FRAME));
    expect(fanoutSettingsFromEnv(localEnv).maxEventsPerFrame).toBe(DEFAULT_MAX_EVENTS_PER_FRAME);
    expect(resumeSettingsFromEnv(localEnv).maxEventsPerFrame).toBe(DEFAULT_MAX_EVENTS_PER_FRAME);
    expect(DEFAULT_RESUME_SETTINGS.maxEventsPerFrame).toBe(DEFAULT_MAX_EVENTS_PER_FRAME);
    expect(DEFAULT_FANOUT_PLAN_OPTIONS.maxEventsPerFrame).toBe(DEFAULT_MAX_EVENTS_PER_FRAME);
  });

  it('resume limit: the stack schema, the function’s env and the local runtime use the constant', () => {
    expect(parseConfig({}).resumeLimit).toBe(DEFAULT_RESUME_MAX_EVENTS);
    expect(functionEnv('wsMessage')[RESUME_ENV.maxEvents]).toBe(String(DEFAULT_RESUME_MAX_EVENTS));
    expect(resumeSettingsFromEnv(localEnv).maxEvents).toBe(DEFAULT_RESUME_MAX_EVENTS);
  });

  it('message size and delay limits come from src/core/limits.ts', () => {
    expect(fanoutSettingsFromEnv(localEnv).maxMessageBytes).toBe(WEBSOCKET_MAX_MESSAGE_BYTES);
    expect(DEFAULT_RESUME_SETTINGS.maxMessageBytes).toBe(WEBSOCKET_MAX_MESSAGE_BYTES);
    expect(MAX_CIRCUIT_COOLDOWN_SECONDS).toBe(SQS_MAX_DELAY_SECONDS);
  });

  it('no source file restates one of these values beside the setting’s name', () => {
    const limits = path.join('src', 'core', 'limits.ts');
    const fanoutPlan = path.join('src', 'core', 'fanoutPlan.ts');
    // [pattern, what, the one file that defines it]
    const restatements: [RegExp, string, string][] = [
      [
        new RegExp(`maxEventsPerFrame\\W{1,20}${DEFAULT_MAX_EVENTS_PER_FRAME}\\b`),
        'events per frame',
        fanoutPlan,
      ],
      [
        new RegExp(`MAX_EVENTS_PER_FRAME\\s*=\\s*${DEFAULT_MAX_EVENTS_PER_FRAME}\\b`),
        'events per frame',
        fanoutPlan,
      ],
      [new RegExp(`(resumeLimit|maxEvents)\\W{1,20}${DEFAULT_RESUME_MAX_EVENTS}\\b`), 'resume limit', ''],
      [/\b128\s*\*\s*1024\b/, 'WebSocket message limit', limits],
      [
        new RegExp(`(DELAY|[Dd]elay)\\w*\\s*=\\s*${SQS_MAX_DELAY_SECONDS}\\b|\\b${SQS_MAX_DELAY_SECONDS}\\)`),
        'SQS maximum delay',
        limits,
      ],
    ];
    const found: string[] = [];
    for (const { file: relative, text } of sourceFiles('src', 'lib', 'lambdas', 'local', 'bench', 'bin')) {
      const lines = text.split('\n');
      for (const [pattern, what, owner] of restatements) {
        if (relative === owner) continue;
        const line = lines.findIndex((l) => pattern.test(l));
        if (line >= 0) found.push(`${relative}:${line + 1} restates the ${what}`);
      }
    }
    expect(found).toEqual([]);
  });
});
