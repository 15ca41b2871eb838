// Worker threads for the wasm GEMM (gemm.ts): each worker instantiates the same module over the
// same shared memory and computes a range of B's column panels while the main thread does another.
// The interpreter is synchronous, so the main thread posts a task through a shared control block
// and blocks in Atomics.wait until the workers are done. Workers are unref'd (they never keep the
// process alive), and every wait has a timeout that ends in a clear error instead of a hang.
import { Worker } from 'node:worker_threads';

/** The control block, Int32 slots. */
const SEQ = 0; // task number, bumped by the main thread to post a task
const READY = 1; // count of workers that have started
const PARAMS = 2; // aBase, bBase, cBase (bytes), Mp, Np, K, KC, MR, NR
const NPARAMS = 9;
const RANGES = PARAMS + NPARAMS; // per worker: jp0, jp1 (panel indices)
const DONE = 32; // per worker: the last task number it finished
const FAILED = 63; // set by a worker that could not start

/**
 * The block loops, shared (as source) by the main thread and the workers: C's column panels
 * [jp0, jp1) for all row panels, K in blocks of KC.
 */
const BLOCKS_SRC = `function blocks(mk, aBase, bBase, cBase, Mp, Np, K, KC, MR, NR, jp0, jp1) {
  const ldc = Np * 8;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kl = Math.min(KC, K - k0);
    for (let jp = jp0 * NR; jp < jp1 * NR; jp += NR) {
      const bPtr = (bBase + jp * K + k0 * NR) * 8;
      for (let ip = 0; ip < Mp; ip += MR) mk((aBase + ip * K + k0 * MR) * 8, bPtr, (cBase + ip * Np + jp) * 8, kl, ldc);
    }
  }
}`;

export type Blocks = (mk: (a: number, b: number, c: number, kLen: number, ldc: number) => void, aBase: number, bBase: number, cBase: number, Mp: number, Np: number, K: number, KC: number, MR: number, NR: number, jp0: number, jp1: number) => void;
export const blocks = new Function(`${BLOCKS_SRC}; return blocks;`)() as Blocks;

const WORKER_SRC = `
const { workerData } = require('node:worker_threads');
${BLOCKS_SRC}
const { module, memory, control, index } = workerData;
const ctl = new Int32Array(control);
let mk;
try {
  mk = new WebAssembly.Instance(module, { env: { memory } }).exports.mk;
} catch (e) {
  Atomics.store(ctl, ${FAILED}, 1);
  Atomics.add(ctl, ${READY}, 1);
  Atomics.notify(ctl, ${READY});
  throw e;
}
let seen = Atomics.load(ctl, ${SEQ});
Atomics.add(ctl, ${READY}, 1);
Atomics.notify(ctl, ${READY});
for (;;) {
  Atomics.wait(ctl, ${SEQ}, seen);
  seen = Atomics.load(ctl, ${SEQ});
  const p = [];
  for (let i = 0; i < ${NPARAMS}; i++) p.push(ctl[${PARAMS} + i]);
  const jp0 = ctl[${RANGES} + 2 * index], jp1 = ctl[${RANGES} + 2 * index + 1];
  if (jp1 > jp0) blocks(mk, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], jp0, jp1);
  Atomics.store(ctl, ${DONE} + index, seen);
  Atomics.notify(ctl, ${DONE} + index);
}
`;

export interface Pool {
  /** Workers (the main thread makes one more). */
  size: number;
  /** Runs blocks() over panels split across the workers and the main thread. */
  run(mk: Parameters<Blocks>[0], aBase: number, bBase: number, cBase: number, Mp: number, Np: number, K: number, KC: number, MR: number, NR: number): void;
}

/**
 * How many threads to use in all: LATHE_INTERP_THREADS (at most 8), else 1. Workers are opt-in:
 * on the 2-core machines measured so far they were never faster (the cores were shared with other
 * work), and threads never change a result, only the time.
 */
export function threadCount(): number {
  const env = process.env.LATHE_INTERP_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (Number.isInteger(n) && n >= 1) return Math.min(n, 8);
  }
  return 1;
}

const START_TIMEOUT_MS = 10_000;

/** Starts `workers` workers over the module and shared memory; null if they do not all start in time. */
export function startPool(module: WebAssembly.Module, memory: WebAssembly.Memory, workers: number): Pool | null {
  if (workers < 1 || workers > 8) return null;
  const control = new SharedArrayBuffer(64 * 4);
  const ctl = new Int32Array(control);
  const ws: Worker[] = [];
  try {
    for (let index = 0; index < workers; index++) {
      // execArgv []: not the parent's flags (a loader, --input-type), so the source runs as plain CommonJS.
      const w = new Worker(WORKER_SRC, { eval: true, execArgv: [], workerData: { module, memory, control, index } });
      w.unref();
      // A worker's failure shows up as a timeout in the main thread; keep it from crashing the process.
      w.on('error', () => {});
      ws.push(w);
    }
  } catch {
    for (const w of ws) void w.terminate();
    return null;
  }
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const ready = Atomics.load(ctl, READY);
    if (ready >= workers && !Atomics.load(ctl, FAILED)) break;
    const left = deadline - Date.now();
    if (left <= 0 || Atomics.load(ctl, FAILED)) {
      for (const w of ws) void w.terminate();
      return null;
    }
    Atomics.wait(ctl, READY, ready, left);
  }
  let seq = 0;
  let broken = false;
  return {
    size: workers,
    run(mk, aBase, bBase, cBase, Mp, Np, K, KC, MR, NR) {
      if (broken) throw new Error('interpreter GEMM worker pool failed earlier');
      const panels = Np / NR;
      const threads = workers + 1;
      const params = [aBase, bBase, cBase, Mp, Np, K, KC, MR, NR];
      for (let i = 0; i < NPARAMS; i++) ctl[PARAMS + i] = params[i]!;
      // Panel ranges: the main thread takes the first share, worker w the (w+1)-th.
      const cut = (t: number) => Math.round((panels * t) / threads);
      for (let w = 0; w < workers; w++) {
        ctl[RANGES + 2 * w] = cut(w + 1);
        ctl[RANGES + 2 * w + 1] = cut(w + 2);
      }
      seq = (seq + 1) | 0;
      Atomics.store(ctl, SEQ, seq);
      Atomics.notify(ctl, SEQ);
      blocks(mk, aBase, bBase, cBase, Mp, Np, K, KC, MR, NR, 0, cut(1));
      // Generous: a worker is never slower than about 10 M multiply-adds a second.
      const timeoutMs = 30_000 + (Mp * Np * K) / 1e4;
      const deadline = Date.now() + timeoutMs;
      for (let w = 0; w < workers; w++) {
        for (;;) {
          const done = Atomics.load(ctl, DONE + w);
          if (done === seq) break;
          const left = deadline - Date.now();
          if (left <= 0) {
            broken = true;
            throw new Error(`interpreter GEMM worker ${w} did not finish a ${Mp}×${Np}×${K} product in ${(timeoutMs / 1000).toFixed(0)} s (set LATHE_INTERP_THREADS=1 to run without workers)`);
          }
          Atomics.wait(ctl, DONE + w, done, left);
        }
      }
    },
  };
}
