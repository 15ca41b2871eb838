// The svdquant pass's dense linear algebra (passes/svdquant/linalg.ts) and randomized SVD
// (passes/svdquant/rsvd.ts), checked against naive products and the exact Jacobi SVD.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { frobenius, gemmNT, matmul, matmulTransA, matmulTransB, qr, svd, symEig, transpose } from '../../passes/svdquant/linalg.ts';
import { lowRankError, lowRankResidual, randomizedSvd, Rng } from '../../passes/svdquant/rsvd.ts';

function gaussian(n: number, seed: number): Float32Array {
  return new Rng(seed).fillNormal(new Float32Array(n)) as Float32Array;
}

/** Naive f64 reference: C[m,n] = op(A)·op(B) with element accessors. */
function naive(m: number, k: number, n: number, a: (i: number, p: number) => number, b: (p: number, j: number) => number): Float64Array {
  const C = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a(i, p) * b(p, j);
      C[i * n + j] = s;
    }
  }
  return C;
}

/** max |x − y| relative to max |y| (1 when y is all zero). */
function relMax(x: ArrayLike<number>, y: ArrayLike<number>): number {
  assert.is(x.length, y.length);
  let d = 0;
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    d = Math.max(d, Math.abs(x[i] - y[i]));
    s = Math.max(s, Math.abs(y[i]));
  }
  return d / (s || 1);
}

/** max |QᵀQ − I| for Q[m,c] row-major. */
function orthError(Q: ArrayLike<number>, m: number, c: number): number {
  let e = 0;
  for (let a = 0; a < c; a++) {
    for (let b = 0; b < c; b++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += Q[i * c + a] * Q[i * c + b];
      e = Math.max(e, Math.abs(s - (a === b ? 1 : 0)));
    }
  }
  return e;
}

/** U[m,p]·diag(s)·V[n,p]ᵀ as f32 [m, n]. */
function compose(U: ArrayLike<number>, s: ArrayLike<number>, V: ArrayLike<number>, m: number, n: number, p: number): Float32Array {
  const W = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let t = 0;
      for (let q = 0; q < p; q++) t += U[i * p + q] * s[q] * V[j * p + q];
      W[i * n + j] = t;
    }
  }
  return W;
}

/** ‖W − best rank-r‖_F from the exact singular values. */
function optimalError(s: ArrayLike<number>, r: number): number {
  let e = 0;
  for (let i = r; i < s.length; i++) e += s[i] * s[i];
  return Math.sqrt(e);
}

test('matmul, matmulTransA, matmulTransB match the naive triple loop on odd sizes', () => {
  // 1100 > the k block (512): exercises the accumulation across k blocks.
  const shapes: [number, number, number][] = [[1, 1, 1], [7, 13, 5], [5, 3, 9], [37, 1100, 9], [66, 19, 70], [4, 8, 4], [3, 1, 2]];
  let seed = 10;
  for (const [m, k, n] of shapes) {
    const A = gaussian(m * k, seed++);
    const B = gaussian(k * n, seed++);
    const ref = naive(m, k, n, (i, p) => A[i * k + p], (p, j) => B[p * n + j]);
    assert.ok(relMax(matmul(A, B, m, k, n), ref) < 1e-5, `matmul ${m}×${k}×${n}`);
    const At = transpose(A, m, k); // [k, m]
    assert.ok(relMax(matmulTransA(At, B, k, m, n), ref) < 1e-5, `matmulTransA ${m}×${k}×${n}`);
    const Bt = transpose(B, k, n); // [n, k]
    assert.ok(relMax(matmulTransB(A, Bt, m, k, n), ref) < 1e-5, `matmulTransB ${m}×${k}×${n}`);
    assert.ok(relMax(gemmNT(A, Bt, m, k, n, new Float32Array(m * n)), ref) < 1e-5, `gemmNT ${m}×${k}×${n}`);
  }
  // Empty dimensions, and a given output.
  assert.is(matmul(new Float32Array(0), new Float32Array(0), 0, 4, 0).length, 0);
  assert.equal(Array.from(matmul(new Float32Array(0), new Float32Array(0), 2, 0, 3)), [0, 0, 0, 0, 0, 0]);
  const out = new Float32Array(4).fill(7);
  matmul(new Float32Array([1, 2, 3, 4]), new Float32Array([1, 0, 0, 1]), 2, 2, 2, out);
  assert.equal(Array.from(out), [1, 2, 3, 4]);
  assert.throws(() => matmul(new Float32Array(3), new Float32Array(4), 2, 2, 2), /has 3 elements/);
});

test('transpose', () => {
  const A = Float32Array.from({ length: 7 * 5 }, (_, i) => i);
  const T = transpose(A, 7, 5);
  for (let i = 0; i < 7; i++) for (let j = 0; j < 5; j++) assert.is(T[j * 7 + i], A[i * 5 + j]);
  assert.equal(Array.from(transpose(T, 5, 7)), Array.from(A));
});

test('qr: orthonormal Q and Q·R = A, upper-triangular R', () => {
  const m = 50;
  const c = 13;
  const A = gaussian(m * c, 1);
  const { Q, R } = qr(A, m, c);
  assert.ok(orthError(Q, m, c) < 1e-6, `QᵀQ = I: ${orthError(Q, m, c)}`);
  for (let i = 0; i < c; i++) for (let j = 0; j < i; j++) assert.is(R[i * c + j], 0);
  for (let i = 0; i < c; i++) assert.ok(R[i * c + i] > 0);
  const QR = naive(m, c, c, (i, p) => Q[i * c + p], (p, j) => R[p * c + j]);
  assert.ok(relMax(QR, A) < 1e-6, `Q·R = A: ${relMax(QR, A)}`);
});

test('qr: rank-deficient columns (zero, duplicate, dependent) still give orthonormal Q and Q·R = A', () => {
  const m = 40;
  const c = 8;
  const G = gaussian(m * 3, 2);
  const A = new Float32Array(m * c);
  for (let i = 0; i < m; i++) {
    const [a, b, d] = [G[i * 3], G[i * 3 + 1], G[i * 3 + 2]];
    A.set([a, 0, a, b, a + 2 * b, d, 0, 3 * d - b], i * c);
  }
  const { Q, R } = qr(A, m, c);
  assert.ok(orthError(Q, m, c) < 1e-6, `QᵀQ = I: ${orthError(Q, m, c)}`);
  const QR = naive(m, c, c, (i, p) => Q[i * c + p], (p, j) => R[p * c + j]);
  assert.ok(relMax(QR, A) < 1e-6, `Q·R = A: ${relMax(QR, A)}`);
  // The rank is 3: exactly three clearly non-zero diagonal entries.
  const diag = Array.from({ length: c }, (_, i) => Math.abs(R[i * c + i]));
  assert.is(diag.filter((x) => x > 1e-4).length, 3, `diag(R) = ${diag}`);
  // A square all-zero matrix: Q is still orthonormal (here a permutation-like basis).
  const Z = qr(new Float32Array(16), 4, 4);
  assert.ok(orthError(Z.Q, 4, 4) < 1e-12);
  assert.equal(Array.from(Z.R), new Array(16).fill(0));
});

test('svd (Jacobi): A = U·diag(s)·Vᵀ, orthonormal factors, descending s; wide and tall', () => {
  for (const [m, n] of [[9, 6], [6, 9], [1, 5], [20, 20]] as const) {
    const A = gaussian(m * n, m * 100 + n);
    const { U, s, V } = svd(A, m, n);
    const p = Math.min(m, n);
    assert.ok(relMax(compose(U, s, V, m, n, p), A) < 1e-6, `reconstruction ${m}×${n}`);
    assert.ok(orthError(U, m, p) < 1e-12, `UᵀU ${m}×${n}`);
    assert.ok(orthError(V, n, p) < 1e-12, `VᵀV ${m}×${n}`);
    for (let i = 1; i < p; i++) assert.ok(s[i] <= s[i - 1]);
    assert.ok(Math.abs(frobenius(s) - frobenius(A)) < 1e-5 * frobenius(A));
  }
  // Rank-deficient: U still has orthonormal columns, and A = U·diag(s)·Vᵀ.
  const D = new Float32Array(8 * 5);
  for (let i = 0; i < 8; i++) D.set([i, 2 * i, 0, 1, i + 1], i * 5);
  const d = svd(D, 8, 5);
  assert.ok(orthError(d.U, 8, 5) < 1e-12 && orthError(d.V, 5, 5) < 1e-12);
  assert.ok(d.s[1] > 0.1 && d.s[2] < 1e-12 && d.s[4] < 1e-12, `s = ${d.s}`); // rank 2: col 4 = col 0 + col 3
  assert.ok(relMax(compose(d.U, d.s, d.V, 8, 5, 5), D) < 1e-6);
  // Known singular values.
  const { s } = svd(new Float64Array([3, 0, 0, 0, -5, 0]), 2, 3);
  assert.ok(Math.abs(s[0] - 5) < 1e-14 && Math.abs(s[1] - 3) < 1e-14);
});

test('symEig (Jacobi): eigenpairs of AᵀA are the squared singular values and right vectors', () => {
  const m = 30;
  const n = 12;
  const A = gaussian(m * n, 5);
  const S = naive(n, m, n, (i, p) => A[p * n + i], (p, j) => A[p * n + j]);
  const { values, vectors } = symEig(S, n);
  const { s } = svd(A, m, n);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(values[i] - s[i] * s[i]) < 1e-10 * values[0], `λ${i}`);
  assert.ok(orthError(vectors, n, n) < 1e-12);
  // S·v = λ·v
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < n; i++) {
      let t = 0;
      for (let j = 0; j < n; j++) t += S[i * n + j] * vectors[j * n + r];
      assert.ok(Math.abs(t - values[r] * vectors[i * n + r]) < 1e-10 * values[0]);
    }
  }
});

test('Rng: deterministic, standard normal moments', () => {
  const a = gaussian(1000, 42);
  const b = gaussian(1000, 42);
  const c = gaussian(1000, 43);
  assert.equal(Array.from(a), Array.from(b));
  assert.not.equal(Array.from(a), Array.from(c));
  const x = gaussian(200000, 7);
  let mean = 0;
  let sq = 0;
  for (const v of x) {
    mean += v;
    sq += v * v;
  }
  mean /= x.length;
  assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
  assert.ok(Math.abs(sq / x.length - 1) < 0.02, `variance ${sq / x.length}`);
});

/** A [K, N] matrix with singular values s (random orthonormal singular vectors). */
function withSpectrum(K: number, N: number, s: number[], seed: number): Float32Array {
  const p = s.length;
  const U = qr(gaussian(K * p, seed), K, p).Q;
  const V = qr(gaussian(N * p, seed + 1), N, p).Q;
  return compose(U, s, V, K, N, p);
}

test('randomizedSvd recovers the top singular values and the optimal error of a known spectrum', () => {
  const K = 200;
  const N = 120;
  const s = Array.from({ length: N }, (_, i) => 100 * 0.85 ** i);
  const W = withSpectrum(K, N, s, 11);
  const r = 12;
  const res = randomizedSvd(W, K, N, r, { seed: 1 });
  assert.is(res.L1.length, K * r);
  assert.is(res.L2.length, r * N);
  for (let i = 0; i < r; i++) assert.ok(Math.abs(res.sigma[i] - s[i]) < 1e-4 * s[0], `σ${i} ${res.sigma[i]} vs ${s[i]}`);
  const err = lowRankError(W, K, N, res.L1, res.L2, r);
  const opt = optimalError(s, r);
  assert.ok(err < 1.001 * opt, `error ${err} vs optimal ${opt}`);
  const R = lowRankResidual(W, K, N, res.L1, res.L2, r);
  assert.ok(Math.abs(frobenius(R) - err) < 1e-6 * err, 'residual W − L1·L2');
  // L2's rows are orthonormal (right singular vectors); the singular values live in L1.
  assert.ok(orthError(transpose(res.L2, r, N), N, r) < 1e-5);
  for (let j = 0; j < r; j++) {
    let t = 0;
    for (let i = 0; i < K; i++) t += res.L1[i * r + j] ** 2;
    assert.ok(Math.abs(Math.sqrt(t) - s[j]) < 1e-4 * s[0], `‖L1[:, ${j}]‖ = σ${j}`);
  }
});

test('randomizedSvd on a Gaussian 96×80 matrix: within 1.05× of the exact rank-r error', () => {
  const K = 96;
  const N = 80;
  const W = gaussian(K * N, 21);
  const { s } = svd(W, K, N);
  for (const r of [4, 10, 24]) {
    const res = randomizedSvd(W, K, N, r, { seed: 5 });
    const err = lowRankError(W, K, N, res.L1, res.L2, r);
    const opt = optimalError(s, r);
    assert.ok(err >= opt * (1 - 1e-6), 'cannot beat the optimum');
    assert.ok(err <= 1.05 * opt, `rank ${r}: error ${err} vs optimal ${opt} (${(err / opt).toFixed(4)}×)`);
  }
});

test('randomizedSvd: rank 0, rank ≥ min(K, N) (exact), rank-deficient input, wide input', () => {
  const W = gaussian(30 * 20, 3);
  const zero = randomizedSvd(W, 30, 20, 0);
  assert.is(zero.L1.length, 0);
  assert.is(zero.L2.length, 0);
  for (const r of [20, 25]) {
    const res = randomizedSvd(W, 30, 20, r);
    assert.is(res.L1.length, 30 * r);
    assert.is(res.L2.length, r * 20);
    assert.ok(lowRankError(W, 30, 20, res.L1, res.L2, r) < 1e-5 * frobenius(W), `rank ${r} exact`);
  }
  // Wide (K < N), full rank requested.
  const Wt = transpose(W, 30, 20); // [20, 30]
  const wide = randomizedSvd(Wt, 20, 30, 20);
  assert.ok(lowRankError(Wt, 20, 30, wide.L1, wide.L2, 20) < 1e-5 * frobenius(W));
  // Rank 3 matrix asked for rank 6 (more than its rank, less than min(K, N) - oversample).
  const R3 = withSpectrum(60, 50, [5, 3, 1], 9);
  const res = randomizedSvd(R3, 60, 50, 6, { oversample: 4 });
  assert.ok(lowRankError(R3, 60, 50, res.L1, res.L2, 6) < 1e-5 * frobenius(R3));
  assert.ok(res.sigma[3] < 1e-5);
  assert.ok(orthError(transpose(res.L2, 6, 50), 50, 6) < 1e-5, 'L2 rows orthonormal past the rank');
  assert.ok(orthError(res.basis, 50, res.c) < 1e-5, 'basis orthonormal past the rank');
  // All-zero matrix.
  const Z = randomizedSvd(new Float32Array(40 * 30), 40, 30, 5);
  assert.ok(Z.L1.every((v) => v === 0) || Z.L2.every((v) => v === 0));
  assert.ok(Z.L1.every(Number.isFinite) && Z.L2.every(Number.isFinite));
  assert.throws(() => randomizedSvd(W, 30, 21, 2), /elements/);
  const bad = W.slice();
  bad[17] = NaN;
  assert.throws(() => randomizedSvd(bad, 30, 20, 2), /non-finite/);
});

test('randomizedSvd is deterministic given the seed', () => {
  const W = gaussian(64 * 48, 4);
  const a = randomizedSvd(W, 64, 48, 8, { seed: 9 });
  const b = randomizedSvd(W, 64, 48, 8, { seed: 9 });
  assert.equal(Array.from(a.L1), Array.from(b.L1));
  assert.equal(Array.from(a.L2), Array.from(b.L2));
  const c = randomizedSvd(W, 64, 48, 8, { seed: 10 });
  assert.not.equal(Array.from(a.L1), Array.from(c.L1));
});

test('randomizedSvd warm start: one power iteration from the previous basis is as good as two cold', () => {
  // SVDQuant-like refinement: the matrix changes a little between calls.
  const K = 256;
  const N = 160;
  const s = Array.from({ length: N }, (_, i) => 10 / (1 + i) ** 0.6);
  const W0 = withSpectrum(K, N, s, 31);
  const noise = gaussian(K * N, 32);
  const r = 16;
  let prev = randomizedSvd(W0, K, N, r, { seed: 1 });
  for (let step = 1; step <= 3; step++) {
    const W = Float32Array.from(W0, (v, i) => v + 0.002 * step * noise[i]);
    const { s: exact } = svd(W, K, N);
    const opt = optimalError(exact, r);
    const cold = randomizedSvd(W, K, N, r, { seed: 100 + step, powerIters: 2 });
    const warm = randomizedSvd(W, K, N, r, { seed: 100 + step, powerIters: 1, warmStart: prev.basis });
    const coldOne = randomizedSvd(W, K, N, r, { seed: 100 + step, powerIters: 1 });
    const eCold = lowRankError(W, K, N, cold.L1, cold.L2, r);
    const eWarm = lowRankError(W, K, N, warm.L1, warm.L2, r);
    const eColdOne = lowRankError(W, K, N, coldOne.L1, coldOne.L2, r);
    assert.ok(eWarm <= 1.001 * eCold, `step ${step}: warm p=1 ${eWarm} vs cold p=2 ${eCold} (optimal ${opt})`);
    assert.ok(eWarm <= eColdOne, `step ${step}: warm p=1 ${eWarm} vs cold p=1 ${eColdOne}`);
    assert.ok(eWarm <= 1.002 * opt, `step ${step}: warm ${eWarm} vs optimal ${opt}`);
    prev = warm;
  }
  // A basis from a call with a different sketch width is accepted (padded with Gaussian columns,
  // so about as good as a cold start with one power iteration; or cut).
  const W = W0;
  const narrow = randomizedSvd(W, K, N, 4, { oversample: 2 });
  const padded = randomizedSvd(W, K, N, r, { warmStart: narrow.basis, powerIters: 1 });
  const ePadded = lowRankError(W, K, N, padded.L1, padded.L2, r) / optimalError(s, r);
  assert.ok(ePadded <= 1.03, `padded warm start: ${ePadded}× optimal`);
  const cut = randomizedSvd(W, K, N, 2, { oversample: 2, warmStart: prev.basis, powerIters: 1 });
  assert.is(cut.c, 4);
  const eCut = lowRankError(W, K, N, cut.L1, cut.L2, 2) / optimalError(s, 2);
  assert.ok(eCut <= 1.01, `cut warm start: ${eCut}× optimal`);
  assert.throws(() => randomizedSvd(W, K, N, r, { warmStart: new Float32Array(N + 1) }), /warmStart/);
});

test.run();
