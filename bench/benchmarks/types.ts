// What a benchmark is, for the registry in bench/run.ts.
import type { MachineFacts } from '../lib/machine.ts';

export interface BenchContext {
  /** The repository root (absolute). */
  root: string;
  /** Measurements per task (each in a fresh process). */
  repeat: number;
  /** Progress lines for the console. */
  log(line: string): void;
}

export interface BenchOutcome {
  /** The table (and ratios) to print. */
  report: string;
  /** JSON-serializable results; the runner adds name, date and machine facts and writes them. */
  results: Record<string, unknown>;
}

export interface Benchmark {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<BenchOutcome>;
}

/** The file bench/results/<name>.json holds. */
export interface ResultsFile {
  benchmark: string;
  description: string;
  date: string;
  machine: MachineFacts;
  repeat: number;
  results: Record<string, unknown>;
}
