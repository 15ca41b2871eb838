// Randomized truncated SVD (Halko, Martinsson & Tropp 2011, algorithms 4.4 and 5.1) for the
// svdquant pass's low-rank branch: W[K,N] ≈ L1[K,r] · L2[r,N].
//
//   c = rank + oversample (at most min(K, N))
//   Ω[N,c]  Gaussian (seeded), or the previous call's basis (warm start)
//   Q = qr(W·Ω); powerIters × { Q' = qr(Wᵀ·Q); Q = qr(W·Q') }     (re-orthonormalized each step)
//   Bᵀ = Wᵀ·Q [N,c];  Bᵀ = Qb·R (thin QR);  R = U_R·Σ·V_Rᵀ (Jacobi, c×c)
//   ⇒ W ≈ Q·B = (Q·V_R)·Σ·(Qb·U_R)ᵀ
//
// The singular values go into L1: L1 = (Q·V_R)[:, :r]·diag(σ_r) and L2 = ((Qb·U_R)[:, :r])ᵀ,
// so L2's rows are orthonormal (right singular vectors) and L1's columns are the left singular
// vectors scaled by σ. `basis` is Qb·U_R [N,c], all c approximate right singular vectors in
// descending σ order; passing it back as `warmStart` starts the subspace iteration from the
// previous answer, so for a slowly changing W one power iteration is about as good as two cold.
//
// When c reaches min(K, N) the sketch spans W's whole row or column space and the result is the
// exact SVD (up to f32 rounding); power iterations are then skipped.
import { gemmNT, matmul, matmulTransA, qrColumns, svd, transpose } from './linalg.ts';

export type RsvdOptions = {
  /** Extra sketch columns beyond the rank (default 8). */
  oversample?: number;
  /** Power (subspace) iterations (default 2). */
  powerIters?: number;
  /** PRNG seed for the Gaussian sketch (default 0). Same inputs and seed give the same output. */
  seed?: number;
  /**
   * A previous call's `basis`: [N, c'] row-major (right-side basis, N = W's columns). Its columns
   * start the sketch; if c' < c the rest are Gaussian, if c' > c only the first c are used.
   */
  warmStart?: Float32Array;
};

export type RsvdResult = {
  /** [K, rank] row-major: left singular vectors times the singular values. */
  L1: Float32Array;
  /** [rank, N] row-major: right singular vectors (orthonormal rows). */
  L2: Float32Array;
  /** Approximate singular values, descending: all c of the sketch (c ≥ rank unless rank > min(K,N)). */
  sigma: Float64Array;
  /** [N, c] row-major right basis, for `warmStart` on the next call. */
  basis: Float32Array;
  /** The sketch width c (basis has c columns). */
  c: number;
};

/** A small seeded PRNG (mulberry32) with Box–Muller normals. */
export class Rng {
  private state: number;
  private spare: number | undefined;
  constructor(seed = 0) {
    this.state = (seed >>> 0) ^ 0x9e3779b9;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
  fillNormal(a: Float32Array | Float64Array): typeof a {
    for (let i = 0; i < a.length; i++) a[i] = this.normal();
    return a;
  }
}

/** Best rank-`rank` approximation W[K,N] ≈ L1[K,rank]·L2[rank,N], randomized (see the top). */
export function randomizedSvd(W: Float32Array, K: number, N: number, rank: number, opts: RsvdOptions = {}): RsvdResult {
  if (W.length !== K * N) throw new Error(`randomizedSvd: W has ${W.length} elements, expected ${K}×${N}`);
  if (!Number.isInteger(rank) || rank < 0) throw new Error(`randomizedSvd: rank must be a non-negative integer, got ${rank}`);
  for (let i = 0; i < W.length; i++) {
    if (!Number.isFinite(W[i])) throw new Error(`randomizedSvd: W has a non-finite entry at ${i} (${W[i]})`);
  }
  const oversample = opts.oversample ?? 8;
  const p = Math.min(K, N);
  const c = rank === 0 ? 0 : Math.min(p, rank + Math.max(0, oversample));
  if (c === 0) {
    return { L1: new Float32Array(K * rank), L2: new Float32Array(rank * N), sigma: new Float64Array(0), basis: new Float32Array(0), c: 0 };
  }
  const exact = c === p;
  const powerIters = exact ? 0 : Math.max(0, opts.powerIters ?? 2);

  // The sketches are kept transposed, [c, K] and [c, N] (a basis's columns as contiguous rows),
  // which is the layout qrColumns works in; with W and Wᵀ both at hand every product is one
  // gemmNT call (A·Bᵀ over contiguous rows).
  const Wt = transpose(W, K, N); // [N, K]
  let Qt: Float32Array; // [c, K]: Qᵀ
  if (exact && K <= N) {
    // The sketch would be K×K: any orthonormal basis of R^K spans W's column space.
    Qt = new Float32Array(K * K);
    for (let i = 0; i < K; i++) Qt[i * K + i] = 1;
  } else {
    const omegaT = new Float32Array(c * N); // Ωᵀ
    const warm = opts.warmStart;
    let fromWarm = 0;
    if (warm !== undefined && warm.length > 0) {
      if (warm.length % N !== 0) throw new Error(`randomizedSvd: warmStart has ${warm.length} elements, not a multiple of N = ${N}`);
      const cw = warm.length / N;
      fromWarm = Math.min(cw, c);
      for (let i = 0; i < N; i++) for (let j = 0; j < fromWarm; j++) omegaT[j * N + i] = warm[i * cw + j];
    }
    if (fromWarm < c) {
      const rng = new Rng(opts.seed ?? 0);
      for (let j = fromWarm; j < c; j++) for (let i = 0; i < N; i++) omegaT[j * N + i] = rng.normal();
    }
    const Yt = gemmNT(omegaT, W, c, N, K, new Float32Array(c * K)); // (W·Ω)ᵀ
    const scratch = new Float64Array(c * Math.max(K, N));
    Qt = orthonormalizeRows(Yt, c, K, scratch);
    const Zt = new Float32Array(c * N);
    for (let it = 0; it < powerIters; it++) {
      orthonormalizeRows(gemmNT(Qt, Wt, c, K, N, Zt), c, N, scratch); // (Wᵀ·Q)ᵀ, orthonormalized
      orthonormalizeRows(gemmNT(Zt, W, c, N, K, Qt), c, K, scratch); // (W·Q')ᵀ, orthonormalized
    }
  }

  // B = Qᵀ·W [c, N], i.e. Bᵀ [N, c] column by column, and its thin QR Bᵀ = Qb·R.
  const B = gemmNT(Qt, Wt, c, K, N, new Float32Array(c * N));
  const cols = Float64Array.from(B);
  const R = qrColumns(cols, N, c);
  const { U: UR, s, V: VR } = svd(R, c, c);

  // basis = Qb·U_R [N, c]
  const basis = new Float32Array(N * c);
  const row = new Float64Array(c);
  for (let i = 0; i < N; i++) {
    row.fill(0);
    for (let q = 0; q < c; q++) {
      const x = cols[q * N + i];
      if (x === 0) continue;
      const uo = q * c;
      for (let j = 0; j < c; j++) row[j] += x * UR[uo + j];
    }
    for (let j = 0; j < c; j++) basis[i * c + j] = row[j];
  }

  // L1 = Q·(V_R[:, :r]·Σ_r) [K, rank]; L2 = basis[:, :r]ᵀ [rank, N]. Columns beyond c are zero.
  const r = Math.min(rank, c);
  const M = new Float32Array(c * rank);
  for (let q = 0; q < c; q++) for (let j = 0; j < r; j++) M[q * rank + j] = VR[q * c + j] * s[j];
  const L1 = matmulTransA(Qt, M, c, K, rank);
  const L2 = new Float32Array(rank * N);
  for (let i = 0; i < N; i++) for (let j = 0; j < r; j++) L2[j * N + i] = basis[i * c + j];
  return { L1, L2, sigma: s, basis, c };
}

/** R = W − L1·L2 for W[K,N], L1[K,rank], L2[rank,N] (the residual the 4-bit branch quantizes). */
export function lowRankResidual(W: Float32Array, K: number, N: number, L1: Float32Array, L2: Float32Array, rank: number, out?: Float32Array): Float32Array {
  if (W.length !== K * N) throw new Error(`lowRankResidual: W has ${W.length} elements, expected ${K}×${N}`);
  const R = matmul(L1, L2, K, rank, N, out);
  for (let i = 0; i < R.length; i++) R[i] = W[i] - R[i];
  return R;
}

/** ‖W − L1·L2‖_F, the approximation error (f64 accumulation). */
export function lowRankError(W: Float32Array, K: number, N: number, L1: Float32Array, L2: Float32Array, rank: number): number {
  const P = matmul(L1, L2, K, rank, N);
  let e = 0;
  for (let i = 0; i < W.length; i++) {
    const d = W[i] - P[i];
    e += d * d;
  }
  return Math.sqrt(e);
}

/** Orthonormalizes the c rows (each of length len) of X in place, in f64 (see qrColumns). */
function orthonormalizeRows(X: Float32Array, c: number, len: number, scratch: Float64Array): Float32Array {
  const cols = scratch.subarray(0, c * len);
  for (let i = 0; i < c * len; i++) cols[i] = X[i];
  qrColumns(cols, len, c);
  for (let i = 0; i < c * len; i++) X[i] = cols[i];
  return X;
}
