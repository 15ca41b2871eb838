// SVDQuant for one linear layer Y = X·W (W [K, N]), on plain typed arrays so that it can run in a
// worker thread (passes/svdquant/parallel.ts). Steps, as deepcompressor does them
// (docs/svdquant.md):
//   1. smoothing λ_j = max|X_j|^α / max|W_j|^β, α and β chosen by grid search on the layer
//      output error over calibration rows;
//   2. the low-rank branch L1·L2 ≈ Ŵ = diag(λ)·W by a randomized SVD, refined as
//      L ← SVD_r(Ŵ − Q(Ŵ − L)) keeping the best iterate;
//   3. the 4-bit residual R = Ŵ − L1·L2 (with L1, L2 rounded to f16 first, as they are stored).
// Errors are measured on sampled calibration rows and output channels against the f32 layer:
// naive W4A4, smoothing only, low-rank only and both, so the report can compare them.
import type { ActQuantSpec, Quant4Format, QuantizedWeight } from '../../ir/quant4.ts';
import { dequantizeActivations, nvfp4TensorScale, quantizeActivations, quantizeWeight, toF16 } from '../../ir/quant4.ts';
import { matmul } from './linalg.ts';
import { lowRankResidual, randomizedSvd } from './rsvd.ts';

export interface LayerOptions {
  readonly rank: number;
  readonly format: Quant4Format;
  readonly group: number;
  /** Activation codes signed (false: the input is known non-negative; INT4 only). */
  readonly signed: boolean;
  readonly smooth: boolean;
  /** A fixed α, or 'auto' for the grid search. */
  readonly alpha: number | 'auto';
  /** Refinement iterations of the low-rank branch. */
  readonly refine: number;
  readonly seed: number;
  /** Also measure the partial forms (naive, smoothing only, low-rank only) for the report. */
  readonly compare: boolean;
}

export interface LayerJob {
  readonly name: string;
  readonly K: number;
  readonly N: number;
  /** The weight, [K, N] row-major. */
  readonly w: Float32Array;
  /** Calibration: max |X_j| per input channel, and sampled token rows [T, K]. */
  readonly xAbsmax: Float32Array;
  readonly rows: Float32Array;
  readonly T: number;
  readonly options: LayerOptions;
}

export interface LayerErrors {
  naive?: number;
  smooth?: number;
  lowrank?: number;
  svdquant?: number;
  /** The configuration the options ask for (one of the above). */
  result: number;
}

export interface LayerResult {
  readonly name: string;
  /** Smoothing (absent with smooth=false): α, β and 1/λ as the kernels multiply by. */
  readonly alpha?: number;
  readonly beta?: number;
  readonly invSmooth?: Float32Array;
  /** The low-rank factors' f16 values, [K, r] and [r, N] (absent for rank 0). */
  readonly l1?: Float32Array;
  readonly l2?: Float32Array;
  readonly weight: QuantizedWeight;
  readonly errors: LayerErrors;
  readonly seconds: number;
}

/** Calibration rows and output channels the α search and the error measures use. */
const SEARCH_ROWS = 64;
const SEARCH_COLS = 64;
const EVAL_ROWS = 128;
const EVAL_COLS = 128;
/** α grid: 0.05 … 0.95 (deepcompressor's smoothing search). */
const ALPHAS = Array.from({ length: 19 }, (_, i) => (i + 1) / 20);

export function quantizeLayer(job: LayerJob): LayerResult {
  const t0 = performance.now();
  const { K, N, w, options: o } = job;
  const spec: ActQuantSpec = { format: o.format, group: o.group, signed: o.signed };
  const wAbsmax = new Float32Array(K);
  for (let k = 0; k < K; k++) {
    let a = 0;
    for (let n = 0; n < N; n++) a = Math.max(a, Math.abs(w[k * N + n]!));
    wAbsmax[k] = a;
  }
  const evalSet = new Sample(job, Math.min(job.T, EVAL_ROWS), Math.min(N, EVAL_COLS), spec);

  let smoothing: { alpha: number; beta: number; inv: Float32Array } | undefined;
  if (o.smooth) smoothing = searchSmoothing(job, wAbsmax, spec, o.alpha);
  const smoothed = smoothing ? smoothWeight(w, K, N, smoothing.inv) : w;

  const errors: LayerErrors = { result: 0 };
  let lowRank: LowRankResult | undefined;
  if (o.rank > 0) lowRank = lowRankBranch(smoothed, K, N, o);
  const residual = lowRank ? lowRank.residual : smoothed;
  const tensorScale = o.format === 'nvfp4' ? nvfp4TensorScale(residual) : undefined;
  errors.result = evalSet.error(residual, smoothing?.inv, lowRank, tensorScale);
  if (o.compare) {
    errors.naive = evalSet.error(w, undefined, undefined, o.format === 'nvfp4' ? nvfp4TensorScale(w) : undefined);
    if (smoothing) errors.smooth = o.rank > 0 ? evalSet.error(smoothed, smoothing.inv, undefined, o.format === 'nvfp4' ? nvfp4TensorScale(smoothed) : undefined) : errors.result;
    if (o.rank > 0) {
      const unsmoothed = smoothing ? lowRankBranch(w, K, N, o) : lowRank!;
      errors.lowrank = smoothing ? evalSet.error(unsmoothed.residual, undefined, unsmoothed, o.format === 'nvfp4' ? nvfp4TensorScale(unsmoothed.residual) : undefined) : errors.result;
    }
    if (smoothing && o.rank > 0) errors.svdquant = errors.result;
  }
  const weight = quantizeWeight(residual, K, N, o.format, o.group, undefined, tensorScale);
  return {
    name: job.name,
    ...(smoothing && { alpha: smoothing.alpha, beta: smoothing.beta, invSmooth: smoothing.inv }),
    ...(lowRank && { l1: lowRank.l1, l2: lowRank.l2 }),
    weight,
    errors,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Ŵ_j = W_j / inv_j: the weight the smoothed activations X_j · inv_j multiply. */
function smoothWeight(w: Float32Array, K: number, N: number, inv: Float32Array): Float32Array {
  const out = new Float32Array(K * N);
  for (let k = 0; k < K; k++) {
    const s = 1 / inv[k]!;
    for (let n = 0; n < N; n++) out[k * N + n] = w[k * N + n]! * s;
  }
  return out;
}

/** 1/λ for one (α, β), λ normalised so that max λ · min λ = 1 (keeps f16 factors in range). */
function smoothingFactors(xAbsmax: Float32Array, wAbsmax: Float32Array, alpha: number, beta: number): Float32Array {
  const K = xAbsmax.length;
  const lambda = new Float64Array(K);
  let lo = Infinity;
  let hi = 0;
  for (let k = 0; k < K; k++) {
    const x = xAbsmax[k]!;
    const wv = wAbsmax[k]!;
    let l = x > 0 && wv > 0 ? x ** alpha / wv ** beta : 1;
    if (!Number.isFinite(l) || l <= 0) l = 1;
    lambda[k] = l;
    lo = Math.min(lo, l);
    hi = Math.max(hi, l);
  }
  const norm = Math.sqrt(lo * hi);
  const inv = new Float32Array(K);
  for (let k = 0; k < K; k++) inv[k] = Math.min(1e6, Math.max(1e-6, norm / lambda[k]!));
  return inv;
}

/** The (α, β) with the least layer output error (smoothing + 4-bit, on sampled rows/columns). */
function searchSmoothing(job: LayerJob, wAbsmax: Float32Array, spec: ActQuantSpec, alpha: number | 'auto') {
  const { N, w } = job;
  const sample = new Sample(job, Math.min(job.T, SEARCH_ROWS), Math.min(N, SEARCH_COLS), spec);
  const alphas = alpha === 'auto' ? ALPHAS : [alpha];
  let best: { alpha: number; beta: number; inv: Float32Array; err: number } | undefined;
  const tensorScale = spec.format === 'nvfp4' ? nvfp4TensorScale(w) : undefined;
  for (const a of alphas) {
    for (const beta of a === 1 - a ? [0] : [0, 1 - a]) {
      const inv = smoothingFactors(job.xAbsmax, wAbsmax, a, beta);
      // nvfp4's per-tensor scale follows the smoothed weight's absmax.
      const scale = tensorScale === undefined ? undefined : nvfp4TensorScale(sample.columnsSmoothed(inv));
      const err = sample.smoothedError(inv, scale);
      if (!best || err < best.err) best = { alpha: a, beta, inv, err };
    }
  }
  return best!;
}

interface LowRankResult {
  /** f16 values of L1 [K, r] and L2 [r, N]. */
  readonly l1: Float32Array;
  readonly l2: Float32Array;
  /** Ŵ − L1·L2 (with the f16 factors). */
  readonly residual: Float32Array;
}

/** L1·L2 ≈ `what` at rank r, refined against the 4-bit residual's error; factors in f16. */
function lowRankBranch(what: Float32Array, K: number, N: number, o: LayerOptions): LowRankResult {
  const r = Math.min(o.rank, K, N);
  // One power iteration: each refinement below is one more step of subspace iteration.
  let cur = randomizedSvd(what, K, N, r, { powerIters: 1, seed: o.seed });
  let best = cur;
  let bestErr = Infinity;
  const residual = new Float32Array(K * N);
  const rq = new Float32Array(K * N);
  for (let it = 0; ; it++) {
    lowRankResidual(what, K, N, cur.L1, cur.L2, r, residual);
    quantizeWeight(residual, K, N, o.format, o.group, rq);
    let err = 0;
    for (let i = 0; i < residual.length; i++) err += (residual[i]! - rq[i]!) ** 2;
    if (err < bestErr) [best, bestErr] = [cur, err];
    if (it >= o.refine) break;
    // The next branch approximates what the 4-bit residual leaves, Ŵ − Q(Ŵ − L): one step of
    // subspace iteration from the last basis (the target moves little between steps).
    for (let i = 0; i < rq.length; i++) rq[i] = what[i]! - rq[i]!;
    cur = randomizedSvd(rq, K, N, r, { powerIters: 0, seed: o.seed + it + 1, warmStart: cur.basis });
  }
  const l1 = best.L1.map(toF16);
  const l2 = best.L2.map(toF16);
  lowRankResidual(what, K, N, l1, l2, r, residual);
  return { l1, l2, residual };
}

/** Sampled calibration rows and output channels with the f32 layer's output on them. */
class Sample {
  readonly rows: Float32Array;
  readonly cols: Int32Array;
  readonly ref: Float32Array;
  readonly refNorm: number;
  private readonly wCols: Float32Array;
  constructor(
    private readonly job: LayerJob,
    readonly T: number,
    readonly C: number,
    private readonly spec: ActQuantSpec,
  ) {
    const { K, N } = job;
    // Rows evenly over the calibration sample, columns evenly over the outputs.
    this.rows = new Float32Array(T * K);
    for (let i = 0; i < T; i++) {
      const src = Math.floor((i * job.T) / T);
      this.rows.set(job.rows.subarray(src * K, (src + 1) * K), i * K);
    }
    this.cols = Int32Array.from({ length: C }, (_, i) => Math.floor((i * N) / C));
    this.wCols = this.columns(job.w);
    this.ref = matmul(this.rows, this.wCols, T, K, C);
    let s = 0;
    for (let i = 0; i < this.ref.length; i++) s += this.ref[i]! ** 2;
    this.refNorm = Math.sqrt(s);
  }

  /** The sampled columns of a [K, N] matrix, as [K, C]. */
  columns(m: Float32Array): Float32Array {
    const { K, N } = this.job;
    const out = new Float32Array(K * this.C);
    for (let k = 0; k < K; k++) for (let c = 0; c < this.C; c++) out[k * this.C + c] = m[k * N + this.cols[c]!]!;
    return out;
  }

  columnsSmoothed(inv: Float32Array): Float32Array {
    const { K } = this.job;
    const out = new Float32Array(this.wCols.length);
    for (let k = 0; k < K; k++) for (let c = 0; c < this.C; c++) out[k * this.C + c] = this.wCols[k * this.C + c]! / inv[k]!;
    return out;
  }

  /** Error of smoothing + 4-bit quantization alone, for the α search. */
  smoothedError(inv: Float32Array, tensorScale: number | undefined): number {
    return this.measure(this.columnsSmoothed(inv), inv, undefined, tensorScale);
  }

  /**
   * ‖Ŷ − Y‖ / ‖Y‖ for the layer Q(X·inv)·Q(residual) + (X·inv)·L1·L2 on the sample (residual is
   * the full [K, N] matrix the 4-bit weight holds).
   */
  error(residual: Float32Array, inv: Float32Array | undefined, lowRank: { l1: Float32Array; l2: Float32Array } | undefined, tensorScale: number | undefined): number {
    return this.measure(this.columns(residual), inv, lowRank, tensorScale);
  }

  private measure(wc: Float32Array, inv: Float32Array | undefined, lowRank: { l1: Float32Array; l2: Float32Array } | undefined, tensorScale: number | undefined): number {
    const { K, N } = this.job;
    const { T, C, spec } = this;
    const wd = new Float32Array(K * C);
    quantizeWeight(wc, K, C, spec.format, spec.group, wd, tensorScale);
    const qa = quantizeActivations(this.rows, T, K, spec, inv);
    const xd = dequantizeActivations(qa.q, qa.s, T, K, spec);
    const y = matmul(xd, wd, T, K, C);
    if (lowRank) {
      const r = lowRank.l1.length / K;
      const xh = inv ? this.rows.map((v, i) => Math.fround(v * inv[i % K]!)) : this.rows;
      const t = matmul(xh, lowRank.l1, T, K, r);
      const l2c = new Float32Array(r * C);
      for (let j = 0; j < r; j++) for (let c = 0; c < C; c++) l2c[j * C + c] = lowRank.l2[j * N + this.cols[c]!]!;
      const yl = matmul(t, l2c, T, r, C);
      for (let i = 0; i < y.length; i++) y[i] = y[i]! + yl[i]!;
    }
    let e = 0;
    for (let i = 0; i < y.length; i++) e += (y[i]! - this.ref[i]!) ** 2;
    return this.refNorm > 0 ? Math.sqrt(e) / this.refNorm : Math.sqrt(e);
  }
}
