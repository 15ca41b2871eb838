// Runs SVDQuant's per-layer work (passes/svdquant/layer.ts) on worker threads from a synchronous
// pass: jobs go to the workers over message ports, and the main thread sleeps on a shared
// counter (Atomics.wait) that a worker bumps after posting a result, then takes the result with
// receiveMessageOnPort. Jobs are made one at a time as a worker frees up, so only `workers`
// layers' f32 weights are copied at any moment (peak memory stays near the model's size).
// Workers load the TypeScript modules with tsx's in-thread CommonJS hook: tsx's ESM loader
// (`--import tsx`) runs its hooks off-thread and a worker importing through it cannot start
// while the main thread sleeps in Atomics.wait.
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { LatheError } from '../../ir/errors.ts';
import type { LayerJob, LayerResult } from './layer.ts';
import { quantizeLayer } from './layer.ts';

/** How long a worker may take to start before the jobs run on the main thread instead. */
const START_TIMEOUT_MS = 60_000;

const TSX_CJS = createRequire(import.meta.url).resolve('tsx/cjs/api');
const WORKER_ENTRY = fileURLToPath(new URL('./layer-worker.ts', import.meta.url));
const WORKER_BOOT = `const { workerData } = require('node:worker_threads');
require(workerData.tsx).register();
require(workerData.entry);`;

type Reply = { ready: true } | { result: LayerResult } | { error: string };

interface Slot {
  readonly worker: Worker;
  readonly port: MessagePort;
  ready: boolean;
  job?: number;
}

/** 0 means one worker per available core; fewer than 2 jobs or workers run inline. */
export function workerCount(requested: number, jobs: number): number {
  const n = requested > 0 ? requested : os.availableParallelism();
  return Math.max(0, Math.min(n, jobs));
}

/**
 * Runs `count` jobs, made by `makeJob(i)` when a worker is free, and hands each result to
 * `done(i, result)` in completion order. Throws the first job error (naming the layer).
 */
export function runLayerJobs(count: number, makeJob: (i: number) => LayerJob, done: (i: number, r: LayerResult) => void, workers: number): void {
  const n = workerCount(workers, count);
  if (n < 2) {
    for (let i = 0; i < count; i++) done(i, quantizeLayer(makeJob(i)));
    return;
  }
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const slots: Slot[] = [];
  const names: string[] = [];
  try {
    for (let w = 0; w < n; w++) {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(WORKER_BOOT, { eval: true, execArgv: [], workerData: { port: port2, signal, tsx: TSX_CJS, entry: WORKER_ENTRY }, transferList: [port2] });
      worker.unref();
      slots.push({ worker, port: port1, ready: false });
    }
    let next = 0;
    let finished = 0;
    const started = Date.now();
    const dispatch = (s: Slot) => {
      if (next >= count) return;
      const job = makeJob(next);
      names[next] = job.name;
      s.job = next++;
      s.port.postMessage(job, [job.w.buffer as ArrayBuffer, job.rows.buffer as ArrayBuffer, job.xAbsmax.buffer as ArrayBuffer]);
    };
    while (finished < count) {
      const seen = Atomics.load(signal, 0);
      let progressed = false;
      for (const s of slots) {
        let m: { message: Reply } | undefined;
        while ((m = receiveMessageOnPort(s.port) as { message: Reply } | undefined)) {
          progressed = true;
          const reply = m.message;
          if ('ready' in reply) {
            s.ready = true;
            dispatch(s);
          } else if ('error' in reply) {
            throw new LatheError('PassError', `svdquant: layer '${names[s.job!]}' failed: ${reply.error}`);
          } else {
            const i = s.job!;
            s.job = undefined;
            finished++;
            done(i, reply.result);
            dispatch(s);
          }
        }
      }
      if (progressed) continue;
      if (!slots.some((s) => s.ready) && Date.now() - started > START_TIMEOUT_MS) {
        throw new LatheError('PassError', `svdquant: no worker thread started within ${START_TIMEOUT_MS / 1000} s (run with workers=1 to quantize on the main thread)`);
      }
      Atomics.wait(signal, 0, seen, 1000);
    }
  } finally {
    for (const s of slots) {
      s.port.close();
      void s.worker.terminate();
    }
  }
}
