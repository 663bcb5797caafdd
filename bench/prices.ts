/**
 * List prices, us-east-1, on-demand, without free tiers. Read from the AWS pricing pages below
 * checked in November 2026. Prices change: when they do,
 * change them here (one place) and the date with them; `test/unit/cost.test.ts` pins the
 * hand-worked example to these numbers, so it will tell you which figures moved.
 */
import type { PriceTable } from './costModel.js';

export const PRICES: PriceTable = {
  region: 'us-east-1',
  checkedOn: '2026-11',
  sources: [
    'https://aws.amazon.com/lambda/pricing/ — $0.20 per 1 M requests; arm64 $0.0000133334 per GB-second',
    'https://aws.amazon.com/eventbridge/pricing/ — custom events $1.00 per 1 M, each 64 KB chunk of a payload billed as one event',
    'https://aws.amazon.com/api-gateway/pricing/ — WebSocket: $1.00 per 1 M messages for the first 1 B, $0.80 per 1 M beyond (32 KB units); $0.25 per 1 M connection-minutes',
    'https://aws.amazon.com/sqs/pricing/ — standard queues $0.40 per 1 M requests, each 64 KB chunk billed as one request',
    'https://aws.amazon.com/dynamodb/pricing/on-demand/ — $0.625 per 1 M write request units, $0.125 per 1 M read request units, $0.25 per GB-month; stream reads by Lambda free',
    'https://aws.amazon.com/cloudwatch/pricing/ — logs $0.50 per GB ingested, $0.03 per GB-month stored; custom metrics $0.30 per metric-month (first 10,000); standard alarms $0.10 per alarm metric-month',
    'https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer — data transfer out to the internet $0.09 per GB (first 10 TB)',
    'https://aws.amazon.com/appsync/pricing/ — AppSync Events: $1.00 per 1 M Event API operations, $0.08 per 1 M connection-minutes',
    'https://ably.com/pricing — about $2.50 per 1 M messages on the standard plans',
  ],
  lambda: { usdPerRequest: 0.2 / 1e6, usdPerGbSecondArm64: 0.0000133334 },
  eventBridge: { usdPerCustomEvent: 1.0 / 1e6, chunkBytes: 64 * 1024 },
  apiGatewayWebSocket: {
    messageTiers: [
      { upTo: 1e9, usdPerUnit: 1.0 / 1e6 },
      { upTo: Number.POSITIVE_INFINITY, usdPerUnit: 0.8 / 1e6 },
    ],
    messageUnitBytes: 32 * 1024,
    usdPerConnectionMinute: 0.25 / 1e6,
  },
  sqs: { usdPerRequest: 0.4 / 1e6, chunkBytes: 64 * 1024 },
  dynamoDb: {
    usdPerWriteRequestUnit: 0.625 / 1e6,
    usdPerReadRequestUnit: 0.125 / 1e6,
    usdPerGbMonthStored: 0.25,
    usdPerStreamReadByLambda: 0,
  },
  cloudWatch: {
    usdPerGbLogsIngested: 0.5,
    usdPerGbMonthLogsStored: 0.03,
    usdPerMetricMonth: 0.3,
    usdPerAlarmMetricMonth: 0.1,
  },
  dataTransferOut: { usdPerGb: 0.09 },
  appSyncEvents: { usdPerOperation: 1.0 / 1e6, usdPerConnectionMinute: 0.08 / 1e6 },
  ably: { usdPerMessage: 2.5 / 1e6 },
};

/** The rule-of-thumb example, priced as it is usually stated: every message at the first-tier $1.00 per million. */
export const FLAT_MESSAGE_PRICES: PriceTable = {
  ...PRICES,
  apiGatewayWebSocket: {
    ...PRICES.apiGatewayWebSocket,
    messageTiers: [{ upTo: Number.POSITIVE_INFINITY, usdPerUnit: 1.0 / 1e6 }],
  },
};
