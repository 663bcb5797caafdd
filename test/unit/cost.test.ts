import { describe, expect, it } from 'vitest';
import {
  achievableEventsPerMessage,
  type CostReport,
  DEFAULT_PIPELINE_ASSUMPTIONS,
  estimateMonthlyCost,
  InvalidWorkloadError,
  receiptMessagesPerSecond,
  subjectRecordWrusPerEvent,
  tieredCost,
} from '../../bench/costModel.js';
import { FLAT_MESSAGE_PRICES, PRICES } from '../../bench/prices.js';

function line(report: CostReport, item: string) {
  const found = report.lines.find((l) => l.item.startsWith(item));
  if (!found) throw new Error(`no line ${item}`);
  return found;
}

/**
 * The hand-worked example (docs/cost.md, "medium"): 240,000 events a day to 50 subscribers and
 * 1 webhook each, 1 KB payloads, no coalescing, 50 clients connected all month.
 *
 * Month = 730 h = 30.4167 days → 240,000 × 730 / 24 = 7,300,000 events.
 * Rate = 240,000 / 86,400 = 2.78 events/s; ÷ 5 batches/s = 0.56 → every mapping's batch is 1 record.
 * Envelope = 1,024 + 350 = 1,374 B; WebSocket frame = 30 + 1,375 = 1,405 B → 1 unit of 32 KB.
 * Connects = 50 clients × 43,800 min / 120 min = 18,250; pings = 50 × 43,800 / 5 = 438,000.
 */
describe('estimateMonthlyCost — hand-worked medium example', () => {
  const workload = { eventsPerDay: 240_000, connectionsPerEvent: 50, webhooksPerEvent: 1, payloadKb: 1 };
  const report = estimateMonthlyCost(workload, PRICES);

  it('counts 7.3 M events in a 730-hour month', () => {
    expect(report.eventsPerMonth).toBeCloseTo(7_300_000, 3);
  });

  it('prices WebSocket messages per subscriber per event plus protocol messages', () => {
    // 7.3 M × 50 = 365,000,000 event frames; protocol 2 × 18,250 + 2 × 438,000 = 912,500.
    // 365,912,500 units, all within the first 1 B tier at $1.00/M → $365.9125.
    const messages = line(report, 'messages');
    expect(messages.quantity).toBeCloseTo(365_912_500, 0);
    expect(messages.usd).toBeCloseTo(365.9125, 4);
    // 50 × 43,800 = 2,190,000 connection-minutes × $0.25/M = $0.5475.
    expect(line(report, 'connection-minutes').usd).toBeCloseTo(0.5475, 4);
  });

  it('prices Lambda requests and arm64 duration', () => {
    // 5 mappings × 7.3 M + routes (4 × 18,250 + 438,000 = 511,000) = 37,011,000 × $0.20/M = $7.4022.
    const requests = line(report, 'requests');
    expect(requests.service).toBe('Lambda');
    expect(requests.quantity).toBeCloseTo(37_011_000, 0);
    expect(requests.usd).toBeCloseTo(7.4022, 4);
    // publisher 7.3 M × 25.5 ms × 0.5 GB = 93,075; audit 7.3 M × 17 ms × 0.25 = 31,025;
    // fan-out (7.3 M × 15 + 7.3 M × 10 + 365 M × 0.3) ms × 1 GB = 292,000; dispatcher 7.3 M × 18 ms × 0.25 = 32,850;
    // delivery 7.3 M × 152 ms × 0.5 = 554,800; routes 511,000 × 20 ms × 0.25 = 2,555.
    // Sum 1,006,305 GB-s × $0.0000133334 = $13.4175.
    const duration = line(report, 'duration');
    expect(duration.quantity).toBeCloseTo(1_006_305, 0);
    expect(duration.usd).toBeCloseTo(13.4175, 3);
  });

  it('prices one EventBridge custom event per event under 64 KB', () => {
    // 7.3 M × $1.00/M = $7.30.
    expect(line(report, 'custom events').usd).toBeCloseTo(7.3, 6);
  });

  it('prices SQS sends, receives, deletes and idle long-polls', () => {
    // Rule targets 3 × 7.3 M = 21.9 M sends; receive + delete, batch 1: 3 queues × 2 × 7.3 M = 43.8 M;
    // webhook deliveries: 7.3 M sends + 14.6 M receive/delete; idle: 4 queues × 5 pollers × 131,400 = 2.628 M.
    // 90.228 M × $0.40/M = $36.0912.
    const sqs = line(report, 'requests (64 KB');
    expect(sqs.quantity).toBeCloseTo(90_228_000, 0);
    expect(sqs.usd).toBeCloseTo(36.0912, 4);
  });

  it('prices DynamoDB writes, reads and storage', () => {
    // Writes per event: outbox 1,274 B → 2; audit 1,574 B → 2 × (3 (table + 2 indexes) + 1 conditional re-put) = 8;
    // WebSocket attempt (one `fanout` summary item, 400 B) → 1; webhook attempt 300 B → 1. 12 × 7.3 M = 87.6 M
    // + connections 4 × 18,250 = 73,000 → 87,673,000 × $0.625/M = $54.795625.
    const writes = line(report, 'write request units');
    expect(writes.quantity).toBeCloseTo(87_673_000, 0);
    expect(writes.usd).toBeCloseTo(54.795625, 5);
    // Reads: subscription query 50 × 200 B = 10,000 B → 3 × 4 KB × 0.5 = 1.5 RRU × 7.3 M = 10.95 M;
    // endpoints 0.5 × 7.3 M (dispatcher) + 0.5 × 7.3 M (delivery) = 7.3 M; the fan-out's consistent read
    // of the 1,574 B audit item, 1 RRU × 7.3 M. 25.55 M × $0.125/M = $3.19375.
    const reads = line(report, 'read request units');
    expect(reads.quantity).toBeCloseTo(25_550_000, 0);
    expect(reads.usd).toBeCloseTo(3.19375, 5);
    // Storage per daily event: outbox 7 × 1,274 = 8,918 B; audit 30 × (3 × 1,574 + 400 + 300) = 162,660 B;
    // sequences: assignment 30 × 200 = 6,000 B and the bySeq index copy 30 × 1,574 = 47,220 B.
    // 224,798 B × 240,000 = 53,951,520,000 B = 50.246 GB × $0.25 = $12.562.
    expect(line(report, 'storage').usd).toBeCloseTo(12.562, 2);
  });

  it('prices the sequence numbers’ extra writes and reads on their own line', () => {
    // Per event: assignment 200 B transactional → 2 WRU; the counter's update, 1 event per transaction
    // (worst case) → 2; write-back to the 1,274 B row (+40 B) → 2; bySeq index copy of the 1,574 B
    // audit item → 2. 8 × 7.3 M = 58.4 M WRU × $0.625/M = $36.50; reads 2 × 7.3 M × $0.125/M = $1.825.
    const sequence = line(report, 'sequence numbers');
    expect(sequence.service).toBe('DynamoDB');
    expect(sequence.quantity).toBeCloseTo(58_400_000, 0);
    expect(sequence.usd).toBeCloseTo(38.325, 3);
    // A busy channel numbers a whole batch in one transaction: the counter's share shrinks.
    const batched = estimateMonthlyCost(workload, PRICES, {
      ...DEFAULT_PIPELINE_ASSUMPTIONS,
      sequenceEventsPerTransaction: 10,
    });
    expect(line(batched, 'sequence numbers').quantity).toBeCloseTo(7_300_000 * 6.2, 0);
  });

  it('prices CloudWatch logs, metrics and alarms', () => {
    // 37,011,000 × 750 B = 25.852 GB × $0.50 = $12.926, stored 30/30.4167 month × $0.03 = $0.765 → $13.691.
    expect(line(report, 'Logs').usd).toBeCloseTo(13.691, 2);
    // 20 × $0.30 + 10 × $0.10 = $7.00.
    expect(line(report, 'custom metrics').usd).toBeCloseTo(7, 6);
  });

  it('prices data transfer out for frames and webhook requests', () => {
    // 365 M × 1,405 B + 7.3 M × 1,974 B = 527,235,200,000 B = 491.026 GB × $0.09 = $44.192.
    expect(line(report, 'to the internet').usd).toBeCloseTo(44.192, 2);
  });

  it('adds the lines up to the total', () => {
    // 365.9125 + 0.5475 + 7.4022 + 13.4175 + 7.30 + 36.0912 + 54.7956 + 3.1938 + 38.325 + 12.562 + 13.691
    // + 7.00 + 44.192, plus the per-subject audit records. 2.78 events/s per connection: a 1 s batch
    // writes 2.78 events per deliveries item (200 + 2.78 × 60 = 367 B: 1 WRU, no index copy),
    // 50 / 2.78 items per event = 18 WRU, + 50 subjects on the summary (400 + 50 × 50 = 2,900 B:
    // 3 WRU instead of 1, 2 more) = 20 WRU × 7.3 M = 146 M WRU × $0.625/M = $91.25.
    expect(report.totalUsd).toBeCloseTo(604.43 + 91.25, 1);
    expect(line(report, 'audit subject records (per-subject)').usd).toBeCloseTo(91.25, 2);
    expect(report.byService['API Gateway WebSocket']).toBeCloseTo(366.46, 2);
  });

  it('prices the same realtime load at AppSync Events and Ably list prices', () => {
    // AppSync: 7.3 M × (1 + 50) + 2 × 18,250 = 372,336,500 ops × $1/M + 2.19 M min × $0.08/M = $372.51.
    const appSync = report.alternatives.find((a) => a.name === 'AppSync Events');
    expect(appSync?.usd).toBeCloseTo(372.5117, 3);
    // Ably: 7.3 M × 51 = 372.3 M messages × $2.50/M = $930.75.
    expect(report.alternatives.find((a) => a.name === 'Ably')?.usd).toBeCloseTo(930.75, 2);
  });
});

describe('estimateMonthlyCost — the reference load (1 M events a day to 100 subscribers)', () => {
  // Per-subject audit records off: their own line is tested below (they would double this bill).
  const reference = {
    eventsPerDay: 1_000_000,
    connectionsPerEvent: 100,
    webhooksPerEvent: 0,
    subjectRecordsMaxSubscribers: 0,
  };

  it('reproduces about $3,000 of message fees at the first-tier price, the largest line by far', () => {
    // 1 M × 30.4167 × 100 = 3,041.67 M event frames (+1.825 M protocol) × $1.00/M ≈ $3,043.
    const flat = estimateMonthlyCost(reference, FLAT_MESSAGE_PRICES);
    const messages = line(flat, 'messages');
    expect(messages.usd).toBeGreaterThan(2_900);
    expect(messages.usd).toBeLessThan(3_100);
    const serviceFees = flat.totalUsd - flat.byService['Data transfer'];
    // Above 80 %: the sequence numbers' writes (about 4 % here, counted at one event per transaction)
    // took it below the 85 % it was before them.
    expect(messages.usd / serviceFees).toBeGreaterThan(0.8);
  });

  it('applies the $0.80/M volume tier beyond 1 B messages', () => {
    // 1,000 M × $1.00/M + 2,043.49 M × $0.80/M = $2,634.79.
    const tiered = estimateMonthlyCost(reference, PRICES);
    expect(line(tiered, 'messages').usd).toBeCloseTo(2_634.79, 1);
  });

  it('divides message units by the events coalesced per message', () => {
    const off = estimateMonthlyCost(reference, FLAT_MESSAGE_PRICES);
    const on = estimateMonthlyCost({ ...reference, coalesceEventsPerMessage: 10 }, FLAT_MESSAGE_PRICES);
    // 10 × 1,375 + 30 = 13,780 B still fits one 32 KB unit: event units fall from 3,041.67 M to 304.17 M.
    expect(line(on, 'messages').quantity).toBeCloseTo(304_166_667 + 1_825_000, -1);
    expect(line(off, 'messages').quantity).toBeCloseTo(3_041_666_667 + 1_825_000, -1);
    expect(on.totalUsd).toBeLessThan(off.totalUsd / 2);
  });
});

describe('estimateMonthlyCost — sizes and limits', () => {
  it('caps coalescing so that a frame stays within 128 KB', () => {
    // 40 KB payloads: (131,072 − 30) / (40,960 + 351) = 3.17 → 3 events per frame, 4 units each.
    const report = estimateMonthlyCost(
      {
        eventsPerDay: 1000,
        connectionsPerEvent: 1,
        webhooksPerEvent: 0,
        payloadKb: 40,
        coalesceEventsPerMessage: 50,
      },
      PRICES,
    );
    expect(report.effectiveEventsPerMessage).toBe(3);
    expect(line(report, 'messages').explanation).toContain('4 unit(s)');
  });

  it('bills a large event as several 64 KB EventBridge chunks', () => {
    // 200 KB payload → entry ≈ 205,206 B → 4 chunks.
    const report = estimateMonthlyCost(
      { eventsPerDay: 24_000, connectionsPerEvent: 0, webhooksPerEvent: 0, payloadKb: 200 },
      PRICES,
    );
    expect(line(report, 'custom events').quantity).toBeCloseTo(730_000 * 4, 0);
  });

  it('refuses a negative or non-finite load and coalescing below 1', () => {
    expect(() =>
      estimateMonthlyCost({ eventsPerDay: -1, connectionsPerEvent: 1, webhooksPerEvent: 0 }, PRICES),
    ).toThrow(InvalidWorkloadError);
    expect(() =>
      estimateMonthlyCost(
        { eventsPerDay: 1, connectionsPerEvent: 1, webhooksPerEvent: 0, coalesceEventsPerMessage: 0.5 },
        PRICES,
      ),
    ).toThrow(InvalidWorkloadError);
  });

  it('prices volume tiers cumulatively', () => {
    const tiers = [
      { upTo: 10, usdPerUnit: 1 },
      { upTo: Number.POSITIVE_INFINITY, usdPerUnit: 0.5 },
    ];
    expect(tieredCost(4, tiers)).toBe(4);
    expect(tieredCost(30, tiers)).toBe(10 + 10);
  });

  it('estimates the events per message a window can gather on one channel', () => {
    expect(achievableEventsPerMessage(200, 0.1, 50)).toBe(20);
    expect(achievableEventsPerMessage(0.5, 1, 50)).toBe(1);
    expect(achievableEventsPerMessage(10_000, 1, 50)).toBe(50);
  });
});

describe('estimateMonthlyCost — per-subject records and receipts', () => {
  it('prices per-subject records up to the limit and nothing above it, each mode as a line', () => {
    const load = { eventsPerDay: 1_000_000, connectionsPerEvent: 100, webhooksPerEvent: 0 };
    // 11.57 events/s per connection: a 1 s batch holds 11.57 events per connection, so per event
    // its summary carries 100 subjects (400 + 100 × 50 B = 6 WRU instead of 1: 5 more) and
    // 100 / 11.57 deliveries items of 894 B (1 WRU, no index copy) = 13.64 WRU; × 30.4167 M events.
    const per = line(estimateMonthlyCost(load, PRICES), 'audit subject records (per-subject)');
    expect(per.quantity).toBeCloseTo(30_416_667 * (5 + 100 / (1_000_000 / 86_400)), -3);
    // Coalescing changes the messages, not the writes: a write holds what the batch gathered.
    const coalesced = estimateMonthlyCost({ ...load, coalesceEventsPerMessage: 11 }, PRICES);
    expect(line(coalesced, 'audit subject records (per-subject)').quantity).toBeCloseTo(per.quantity, -3);
    const wide = estimateMonthlyCost({ ...load, connectionsPerEvent: 101 }, PRICES);
    expect(line(wide, 'audit subject records (summary-only)').usd).toBe(0);
  });

  it('writes one digest per event and one deliveries item per subscriber and fan-out write', () => {
    const a = DEFAULT_PIPELINE_ASSUMPTIONS;
    // One event a write (a quiet channel): 100 items of 260 B (1 WRU each), and the summary grows
    // from 400 B (1 WRU) to 5,400 B (6 WRU) with its 100 subjects.
    expect(subjectRecordWrusPerEvent(100, 1, a)).toEqual({ digest: 5, deliveries: 100 });
    // 50 events a write: one item of 200 + 50 × 60 = 3,200 B (4 WRU) per 50 events.
    expect(subjectRecordWrusPerEvent(100, 50, a)).toEqual({ digest: 5, deliveries: (100 / 50) * 4 });
    // A write holds at most 100 events; above 100 subscribers, digest items of at most 100 subjects.
    expect(subjectRecordWrusPerEvent(1, 500, a).deliveries).toBeCloseTo((1 / 100) * 7, 9);
    expect(subjectRecordWrusPerEvent(250, 1, a).digest).toBe(6 + 6 + 3);
    expect(subjectRecordWrusPerEvent(0, 1, a)).toEqual({ digest: 0, deliveries: 0 });
  });

  it('sends receipts at 0.01 inbound messages per event per connection at 200 events/s', () => {
    expect(receiptMessagesPerSecond(200) / 200).toBeCloseTo(0.01, 6);
    expect(receiptMessagesPerSecond(200) / 200).toBeLessThanOrEqual(0.02);
    // At 10 events/s: one message a second; below one event a second, one per event.
    expect(receiptMessagesPerSecond(10)).toBe(1);
    expect(receiptMessagesPerSecond(0.5)).toBe(0.5);
    const report = estimateMonthlyCost(
      { eventsPerDay: 200 * 86_400, connectionsPerEvent: 1, webhooksPerEvent: 0, receiptsShare: 1 },
      PRICES,
    );
    // 2 messages/s × 2,628,000 s = 5.256 M messages.
    expect(line(report, 'receipts (inbound ack messages)').quantity).toBeCloseTo(5_256_000, -1);
  });
});
