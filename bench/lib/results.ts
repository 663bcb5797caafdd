/** The shape of `bench/results.json`: every figure carries its unit. */

export interface Figure {
  readonly value: number;
  readonly unit: string;
}

export type ScenarioStatus = 'ok' | 'skipped' | 'failed';

export interface ScenarioResult {
  readonly name: string;
  readonly title: string;
  readonly status: ScenarioStatus;
  readonly durationMs: number;
  /** Figures by name, e.g. `p99Ms: { value: 41.2, unit: 'ms' }`. */
  readonly figures: Readonly<Record<string, Figure>>;
  /** Sizes actually run, targets, and anything a reader needs to interpret the figures. */
  readonly notes: readonly string[];
  /** Why a scenario was skipped or failed. */
  readonly reason?: string;
}

export interface MachineInfo {
  readonly cores: number;
  readonly cpuModel: string;
  readonly totalMemoryMb: number;
  readonly node: string;
  readonly platform: string;
  /** 1-minute load average at the start and the end: the machine is shared, so read figures against it. */
  readonly loadAverageAtStart: number;
  readonly loadAverageAtEnd: number;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly totalDurationMs: number;
}

export interface BenchResults {
  readonly machine: MachineInfo;
  readonly scenarios: readonly ScenarioResult[];
}

/** What a scenario hands back; the runner adds name, title, status and duration. */
export interface ScenarioOutput {
  readonly figures: Record<string, Figure>;
  readonly notes: string[];
}

export interface ScenarioContext {
  /** A progress line (the runner prefixes the scenario name and elapsed time). */
  progress(message: string): void;
  /** Wall-clock budget for the scenario; it should size itself to finish within it. */
  readonly budgetMs: number;
  /** `--quick`: the smallest sizes that still give every figure (used by smoke checks). */
  readonly quick: boolean;
}

export interface Scenario {
  readonly name: string;
  readonly title: string;
  readonly budgetMs: number;
  run(context: ScenarioContext): Promise<ScenarioOutput>;
}

/** Thrown by a scenario when something it needs (the runtime, a handler) is not there. */
export class ScenarioSkipped extends Error {
  override readonly name = 'ScenarioSkipped';
}

export function figure(value: number, unit: string): Figure {
  return { value: Number.isFinite(value) ? Math.round(value * 1000) / 1000 : value, unit };
}
