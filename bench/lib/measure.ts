// The parent side of a measurement: runs one task file in a fresh node process and reads the result
// line it prints (bench/lib/child.ts). One process per measurement, so each peak RSS is that
// task's alone and no task warms another's caches or heap.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { RESULT_PREFIX } from './child.ts';
import type { ChildResult } from './child.ts';

export interface Measurement extends ChildResult {
  /** Wall time of the whole child process: node start-up, module loading, the task, exit. */
  processMs: number;
}

export interface RunTaskOptions {
  /** Extra node flags, e.g. `--max-old-space-size=8192`. */
  nodeArgs?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Kill the child after this long. */
  timeoutMs?: number;
}

/** Runs `node --import tsx <taskFile> ...args` and returns what it measured. Throws on failure. */
export function runTask(taskFile: string, args: readonly string[], opts: RunTaskOptions = {}): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', taskFile, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            child.kill('SIGKILL');
          }, opts.timeoutMs);
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      const processMs = performance.now() - t0;
      if (timer) clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code !== 0 || !line) {
        const why = signal ? `killed by ${signal}` : `exit code ${code}`;
        const tail = (stderr.trim() || stdout.trim()).split('\n').slice(-15).join('\n');
        reject(new Error(`${taskFile} ${args.join(' ')}: ${why}${line ? '' : ', no result line'}\n${tail}`));
        return;
      }
      resolve({ ...(JSON.parse(line.slice(RESULT_PREFIX.length)) as ChildResult), processMs });
    });
  });
}

/** Median of the numbers (mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Per-field summary of repeated measurements: medians of times, max of peak RSS. */
export interface Summary {
  runs: number;
  taskMs: number;
  processMs: number;
  peakRssBytes: number;
  rssBeforeBytes: number;
  phasesMs: Record<string, number>;
  info: Record<string, string | number | boolean>;
  all: { taskMs: number[]; processMs: number[]; peakRssBytes: number[] };
}

export function summarize(ms: readonly Measurement[]): Summary {
  const phases = new Set(ms.flatMap((m) => Object.keys(m.phasesMs)));
  return {
    runs: ms.length,
    taskMs: median(ms.map((m) => m.taskMs)),
    processMs: median(ms.map((m) => m.processMs)),
    peakRssBytes: Math.max(...ms.map((m) => m.peakRssBytes)),
    rssBeforeBytes: median(ms.map((m) => m.rssBeforeBytes)),
    phasesMs: Object.fromEntries([...phases].map((p) => [p, median(ms.map((m) => m.phasesMs[p] ?? 0))])),
    info: ms[ms.length - 1]?.info ?? {},
    all: {
      taskMs: ms.map((m) => m.taskMs),
      processMs: ms.map((m) => m.processMs),
      peakRssBytes: ms.map((m) => m.peakRssBytes),
    },
  };
}
