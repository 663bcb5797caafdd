/**
 * `npm start`: the whole pipeline offline. Persists under `.local/` (DynamoDB tables, stream
 * checkpoints, the bus archive, the dev JWT secret, on a clean stop the queued messages), prints
 * what started where and what it recovered from the previous run, writes `.local/endpoints.json`
 * for the CLI and `npm run demo`, and stops everything (the DynamoDB Local JVM included) on Ctrl-C
 * or SIGTERM: pollers stop taking work, running invocations finish, queues are saved. Exit code 1
 * when a part died and could not be brought back.
 *
 * Options: `--demo` writes demo events once started; `--data-dir <dir>` (default `.local`);
 * `--in-memory` keeps nothing between runs; `--quiet` prints only the summary.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { topology } from '../src/contract/topology.js';
import { runDemo } from './demo.js';
import { readLastEndpoints, removeEndpointsFile, writeEndpointsFile } from './endpointsFile.js';
import { startCrashRecovery } from './faults/crashRecovery.js';
import { FaultInjector, faultConfigAtStart, installFaults } from './faults.js';
import { isPortFree } from './ports.js';
import { describeCounts } from './queueSnapshot.js';
import { type RuntimeOptions, startRuntime } from './runtime.js';

// Lambda runs Node 22; on a Node 20 workstation the SDK's upgrade notice is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE =
  'Usage: npm start [-- --demo] [--data-dir <dir>] [--in-memory] [--quiet] [--faults <json>] (docs/local-runtime.md)';

function parseFlags() {
  try {
    return parseArgs({
      options: {
        demo: { type: 'boolean', default: false },
        'data-dir': { type: 'string', default: '.local' },
        'in-memory': { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        // Fault injection (docs/reliability.md): JSON, or OUTBOX_RELAY_FAULTS; off by default.
        faults: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    // A mistyped option is a usage error: one line and exit 2, not a stack trace.
    console.error(`npm start: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  }
}

const flags = parseFlags();
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}

const dataDir = resolve(flags['data-dir']);

/** Reuse the previous run's ports when free, so a CLI shell or browser tab keeps working across restarts. */
async function previousPorts(): Promise<RuntimeOptions['ports']> {
  const previous = readLastEndpoints(dataDir);
  if (!previous) return {};
  const portOf = (url: string | undefined) => (url ? Number(new URL(url).port) || undefined : undefined);
  const candidates = {
    dynamodb: portOf(previous.dynamodb),
    sqs: portOf(previous.sqs),
    eventBridge: portOf(previous.eventBridge),
    webSocket: portOf(previous.webSocket),
    console: portOf(previous.console),
  };
  const ports: Record<string, number> = {};
  for (const [name, port] of Object.entries(candidates)) {
    if (port !== undefined && (await isPortFree(port))) ports[name] = port;
  }
  return ports;
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  console.log(
    `outbox-relay: starting the offline runtime (${flags['in-memory'] ? 'in memory' : `data in ${dataDir}`})...`,
  );
  // Parsed before anything starts, so a bad configuration refuses to start instead of leaking a JVM.
  const faults = new FaultInjector(faultConfigAtStart(process.argv.slice(2), process.env));
  let stopping = false;
  let stopRuntime: () => Promise<void> = async () => {};
  const shutdown = async (why: string, exitCode: number) => {
    // A second Ctrl-C while stopping must not start a second stop.
    if (stopping) return;
    stopping = true;
    console.log(`\n${why}: stopping (running invocations finish, queued messages are saved)...`);
    await stopRuntime();
    if (!flags['in-memory']) removeEndpointsFile(dataDir);
    console.log('stopped.');
    process.exit(exitCode);
  };
  // Registered before the JVM starts, so a Ctrl-C during the start still stops cleanly.
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  // `kill <npm pid>` (a script's `kill $!`, a supervisor) ends npm and its shell, not this process:
  // once re-parented, stop as on SIGTERM rather than leave the runtime and its JVM holding the ports.
  const parentAtStart = process.ppid;
  setInterval(() => {
    if (process.ppid !== parentAtStart) void shutdown('parent process exited', 0);
  }, 1000).unref();

  // A data directory with no bus archive has never run: nothing can have been lost, so no recovery line.
  const firstStart = !existsSync(join(dataDir, 'bus-archive.jsonl'));
  const runtime = await startRuntime({
    ...(flags['in-memory'] ? {} : { dataDir }),
    ports: await previousPorts(),
    quiet: flags.quiet,
    log: (line) => console.error(line),
    onFatal: (error) => {
      console.error(`outbox-relay: ${error.message}`);
      void shutdown(error.name, 1);
    },
  });
  stopRuntime = () => runtime.stop();
  if (stopping) {
    await runtime.stop();
    return;
  }
  installFaults(runtime, faults);
  if (!flags['in-memory']) {
    // A clean stop leaves every queued message in the snapshot (restored above). Anything else
    // (a crash, a SIGKILL, a stop whose snapshot failed, a data directory from an older version)
    // leaves only the bus archive: replay it from the idle mark. Duplicates are possible, losses not.
    const replay = runtime.restoredQueues === undefined && !firstStart;
    const recovery = await startCrashRecovery(runtime, dataDir, replay, (line) => console.error(line));
    console.log(
      firstStart && !runtime.restoredQueues
        ? 'first start in this data directory: nothing to recover'
        : runtime.restoredQueues
          ? `recovered from the previous run's clean stop: ${Object.values(runtime.restoredQueues).reduce((a, b) => a + b, 0)} queued message(s) (${describeCounts(runtime.restoredQueues)})`
          : `recovered from the bus archive: ${recovery.replayed} event(s) replayed${recovery.replayedFrom ? ` since ${recovery.replayedFrom}` : ''}`,
    );
  }

  writeEndpointsFile(dataDir, runtime);
  const rows: [string, string][] = [
    ['DynamoDB Local (+ Streams)', runtime.endpoints.dynamodb],
    ['SQS (fauxqs, in memory)', runtime.endpoints.sqs],
    ['EventBridge PutEvents', runtime.endpoints.eventBridge],
    ['WebSocket API', runtime.endpoints.webSocket],
    ['@connections API', runtime.endpoints.managementApi],
    ['Control', runtime.endpoints.control],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(`\nready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`);
  for (const [name, url] of rows) console.log(`  ${name.padEnd(width)}  ${url}`);
  console.log(
    `\n  tables:   ${Object.values(runtime.tables)
      .map((t) => t.name)
      .join(', ')}`,
  );
  console.log(`  handlers: ${Object.keys(topology.functions).join(', ')} (in-process)`);
  console.log(`\n  Console:  ${runtime.endpoints.console}`);
  console.log(`  Endpoints and env for the CLI: ${resolve(dataDir, 'endpoints.json')}`);
  console.log('\n  Try: npm run demo    (Ctrl-C stops everything)\n');

  if (flags.demo) await runDemo(runtime.env);
}

main().catch((error: unknown) => {
  console.error(`outbox-relay: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
