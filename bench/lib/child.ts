// The child side of a measurement: a task file runs its work between `begin()` and `finish()`,
// and `finish` prints one result line that the parent (bench/lib/measure.ts) reads. Each task runs
// in a process of its own, so the peak RSS it reports is its own.
import { performance } from 'node:perf_hooks';

export const RESULT_PREFIX = 'LATHE_BENCH_RESULT ';

/** What a child reports. Times in milliseconds, memory in bytes. */
export interface ChildResult {
  /** Time of the measured work (after module loading). */
  taskMs: number;
  /** Peak resident set size of the whole process (getrusage ru_maxrss). */
  peakRssBytes: number;
  /** RSS just before the measured work: node, tsx and the loaded modules. */
  rssBeforeBytes: number;
  /** Times of the work's phases, if the task names them. */
  phasesMs: Record<string, number>;
  /** Anything else worth recording (sizes, counts). */
  info: Record<string, string | number | boolean>;
}

export interface TaskTimer {
  /** Times one phase of the work; phases run back to back. */
  phase<T>(name: string, fn: () => T): T;
  phaseAsync<T>(name: string, fn: () => Promise<T>): Promise<T>;
  info: Record<string, string | number | boolean>;
  /** Prints the result line; call once, at the end. */
  finish(): void;
}

export function begin(): TaskTimer {
  const rssBeforeBytes = process.memoryUsage.rss();
  const phasesMs: Record<string, number> = {};
  const info: Record<string, string | number | boolean> = {};
  const start = performance.now();
  const add = (name: string, t0: number) => {
    phasesMs[name] = (phasesMs[name] ?? 0) + performance.now() - t0;
  };
  return {
    info,
    phase(name, fn) {
      const t0 = performance.now();
      try {
        return fn();
      } finally {
        add(name, t0);
      }
    },
    async phaseAsync(name, fn) {
      const t0 = performance.now();
      try {
        return await fn();
      } finally {
        add(name, t0);
      }
    },
    finish() {
      const taskMs = performance.now() - start;
      const result: ChildResult = {
        taskMs,
        // resourceUsage().maxRSS is in kilobytes (getrusage ru_maxrss on Linux).
        peakRssBytes: process.resourceUsage().maxRSS * 1024,
        rssBeforeBytes,
        phasesMs,
        info,
      };
      process.stdout.write(`\n${RESULT_PREFIX}${JSON.stringify(result)}\n`);
    },
  };
}

/** The task's command-line arguments (after the script path); exits with usage if too few. */
export function taskArgs(usage: string, count: number): string[] {
  const args = process.argv.slice(2);
  if (args.length < count) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  return args;
}
