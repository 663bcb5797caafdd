import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FaultInjector,
  faultConfigAtStart,
  handleFaultsControl,
  InjectedHandlerFaultError,
  InvalidFaultConfigError,
  parseFaultConfig,
} from '../../local/faults.js';

function countOver<T>(n: number, draw: () => T | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i += 1) {
    const value = draw();
    const key = value === undefined ? 'none' : JSON.stringify(value);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

describe('fault configuration', () => {
  it('is off by default and every hook is a no-op', async () => {
    const faults = new FaultInjector();
    expect(faults.active).toBe(false);
    expect(faults.putEventsEntryError()).toBeUndefined();
    expect(faults.connectionFault('abc')).toBeUndefined();
    await expect(faults.beforeInvoke('publisher')).resolves.toBeUndefined();
  });

  it('stays inactive when every fraction is zero', () => {
    const faults = new FaultInjector(
      parseFaultConfig({ putEvents: {}, handlers: { audit: { throwFraction: 0 } } }),
    );
    expect(faults.active).toBe(false);
  });

  it('refuses unknown functions, fractions above 1 and unknown fields, naming the field', () => {
    expect(() => parseFaultConfig({ handlers: { nope: { throwFraction: 0.1 } } })).toThrow(
      InvalidFaultConfigError,
    );
    expect(() => parseFaultConfig({ putEvents: { entryThrottleFraction: 2 } })).toThrow(
      /putEvents\.entryThrottleFraction/,
    );
    expect(() => parseFaultConfig({ putEvent: {} })).toThrow(InvalidFaultConfigError);
    expect(() => parseFaultConfig('{not json')).toThrow(/not JSON/);
  });

  it('reads --faults before OUTBOX_RELAY_FAULTS', () => {
    const env = { OUTBOX_RELAY_FAULTS: '{"handlers":{"audit":{"throwFraction":0.5}}}' };
    expect(faultConfigAtStart([], env)?.handlers?.audit?.throwFraction).toBe(0.5);
    expect(faultConfigAtStart(['--faults', '{"seed":3}'], env)).toEqual({ seed: 3 });
    expect(faultConfigAtStart(['--faults={"seed":4}'], env)).toEqual({ seed: 4 });
    expect(faultConfigAtStart([], {})).toBeUndefined();
  });
});

describe('fault injection', () => {
  it('fails PutEvents entries with the real retryable codes at about the configured fraction', () => {
    const faults = new FaultInjector(
      parseFaultConfig({
        seed: 7,
        putEvents: { entryThrottleFraction: 0.2, entryInternalFailureFraction: 0.1 },
      }),
    );
    const counts = countOver(10_000, () => faults.putEventsEntryError()?.ErrorCode);
    expect(counts.get('"ThrottlingException"')).toBeGreaterThan(1_700);
    expect(counts.get('"ThrottlingException"')).toBeLessThan(2_300);
    expect(counts.get('"InternalFailure"')).toBeGreaterThan(800);
    expect(counts.get('"InternalFailure"')).toBeLessThan(1_200);
    expect(faults.counts.putEventsEntriesThrottled).toBe(counts.get('"ThrottlingException"'));
  });

  it('repeats the same choices for the same seed', () => {
    const config = parseFaultConfig({ seed: 42, putEvents: { entryThrottleFraction: 0.5 } });
    const a = new FaultInjector(config);
    const b = new FaultInjector(config);
    const drawsA = Array.from({ length: 50 }, () => a.putEventsEntryError()?.ErrorCode);
    const drawsB = Array.from({ length: 50 }, () => b.putEventsEntryError()?.ErrorCode);
    expect(drawsA).toEqual(drawsB);
  });

  it('throws only in the configured handler', async () => {
    const faults = new FaultInjector(parseFaultConfig({ handlers: { fanout: { throwFraction: 1 } } }));
    await expect(faults.beforeInvoke('fanout')).rejects.toBeInstanceOf(InjectedHandlerFaultError);
    await expect(faults.beforeInvoke('audit')).resolves.toBeUndefined();
    expect(faults.counts.handlerThrows).toEqual({ fanout: 1 });
  });

  it('answers 410 (closing the socket) or 500 for chosen connections only', () => {
    const faults = new FaultInjector(parseFaultConfig({ connections: { gone: ['c1'], error: ['c2'] } }));
    expect(faults.connectionFault('c1')).toEqual({ statusCode: 410, closeConnection: true });
    expect(faults.connectionFault('c2')).toEqual({ statusCode: 500, closeConnection: false });
    expect(faults.connectionFault('c3')).toBeUndefined();
  });

  it('adds the configured latency to a hop', async () => {
    const faults = new FaultInjector(parseFaultConfig({ latencyMs: { audit: 60 } }));
    const started = performance.now();
    await faults.delay('audit');
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    const quick = performance.now();
    await faults.delay('managementApi');
    expect(performance.now() - quick).toBeLessThan(50);
  });

  it('turns off with clear() and keeps the counts', async () => {
    const faults = new FaultInjector(parseFaultConfig({ handlers: { audit: { throwFraction: 1 } } }));
    await expect(faults.beforeInvoke('audit')).rejects.toThrow();
    faults.clear();
    expect(faults.active).toBe(false);
    await expect(faults.beforeInvoke('audit')).resolves.toBeUndefined();
    expect(faults.counts.handlerThrows.audit).toBe(1);
  });
});

describe('/control/faults', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function serve(faults: FaultInjector): Promise<string> {
    server = createServer((req, res) => {
      handleFaultsControl(faults, req, res).then((handled) => {
        if (!handled) {
          res.writeHead(404);
          res.end();
        }
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/control/faults`;
  }

  it('shows, replaces and clears the configuration at run time', async () => {
    const faults = new FaultInjector();
    const url = await serve(faults);
    expect(await (await fetch(url)).json()).toMatchObject({ active: false, config: {} });

    const put = await fetch(url, {
      method: 'PUT',
      body: JSON.stringify({ handlers: { audit: { throwFraction: 1 } } }),
    });
    expect(put.status).toBe(200);
    expect(faults.active).toBe(true);
    await expect(faults.beforeInvoke('audit')).rejects.toThrow();
    expect(await (await fetch(url)).json()).toMatchObject({
      active: true,
      counts: { handlerThrows: { audit: 1 } },
    });

    const cleared = await fetch(url, { method: 'PUT', body: '{}' });
    expect(cleared.status).toBe(200);
    expect(faults.active).toBe(false);
  });

  it('refuses an invalid configuration with 400 and keeps the old one', async () => {
    const faults = new FaultInjector(parseFaultConfig({ handlers: { audit: { throwFraction: 0.5 } } }));
    const url = await serve(faults);
    const response = await fetch(url, { method: 'PUT', body: '{"handlers":{"audit":{"throwFraction":9}}}' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'INVALID_FAULT_CONFIG' });
    expect(faults.config.handlers?.audit?.throwFraction).toBe(0.5);
  });
});
