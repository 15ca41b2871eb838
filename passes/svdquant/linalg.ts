// Dense linear algebra for the svdquant pass, in plain TypeScript on typed arrays.
//
// Every matrix is row-major and passed as (data, rows, cols): `A[i, j] = A[i * cols + j]`.
// The products read and write Float32Array and accumulate in f64 scalars (JavaScript arithmetic
// is f64 anyway). The factorizations (QR, Jacobi SVD, symmetric eigendecomposition) work in f64.
//
// - gemmNT(A[m,k], B[n,k]) → A·Bᵀ is the one product kernel: 4×4 register tiles over contiguous
//   rows, blocked over k, no allocation. matmul(A[m,k], B[k,n]) → A·B,
//   matmulTransA(A[k,m], B[k,n]) → Aᵀ·B and matmulTransB(A[m,k], B[n,k]) → A·Bᵀ transpose their
//   operands as needed (one O(size) copy each) and call it. Callers that multiply by the same
//   matrix repeatedly (rsvd) keep both it and its transpose and call gemmNT directly.
// - qr(A[m,c]) → thin Q[m,c] (orthonormal columns, also for rank-deficient A) and R[c,c].
// - svd(A[m,n]) → U, s (descending), V by one-sided Jacobi (Hestenes); meant for small matrices
//   (either dimension up to a few hundred).
// - symEig(S[n,n]) → eigenvalues (descending) and eigenvectors by cyclic Jacobi.

/** An optional output must hold exactly the result. */
function outArray(out: Float32Array | undefined, size: number, what: string): Float32Array {
  if (out === undefined) return new Float32Array(size);
  if (out.length !== size) throw new Error(`${what}: output has ${out.length} elements, expected ${size}`);
  return out;
}

function checkSize(a: ArrayLike<number>, size: number, what: string): void {
  if (a.length !== size) throw new Error(`${what}: has ${a.length} elements, expected ${size}`);
}

/** C[m,n] = A[m,k] · B[k,n]. (B is transposed once, then the A·Bᵀ kernel runs.) */
export function matmul(A: Float32Array, B: Float32Array, m: number, k: number, n: number, out?: Float32Array): Float32Array {
  checkSize(A, m * k, 'matmul A');
  checkSize(B, k * n, 'matmul B');
  const C = outArray(out, m * n, 'matmul');
  return gemmNT(A, transpose(B, k, n), m, k, n, C);
}

/** C[m,n] = Aᵀ · B for A[k,m], B[k,n]. (Both are transposed once, then the A·Bᵀ kernel runs.) */
export function matmulTransA(A: Float32Array, B: Float32Array, k: number, m: number, n: number, out?: Float32Array): Float32Array {
  checkSize(A, k * m, 'matmulTransA A');
  checkSize(B, k * n, 'matmulTransA B');
  const C = outArray(out, m * n, 'matmulTransA');
  return gemmNT(transpose(A, k, m), transpose(B, k, n), m, k, n, C);
}

/** C[m,n] = A · Bᵀ for A[m,k], B[n,k]: every entry a dot product of two contiguous rows. */
export function matmulTransB(A: Float32Array, B: Float32Array, m: number, k: number, n: number, out?: Float32Array): Float32Array {
  checkSize(A, m * k, 'matmulTransB A');
  checkSize(B, n * k, 'matmulTransB B');
  const C = outArray(out, m * n, 'matmulTransB');
  return gemmNT(A, B, m, k, n, C);
}

/** k is split into blocks of this many, so that the operand rows a tile reads stay in cache. */
const KB = 512;

/**
 * The one product kernel: C[m,n] = A[m,k] · B[n,k]ᵀ, in 4×4 tiles of C kept in 16 f64 scalars
 * (4 + 4 loads per 16 multiply-adds, all along contiguous rows). The larger operand is walked in
 * the outer loop, so each of its 4-row blocks is read from memory once per k block while the
 * smaller operand's k block stays in L2. Sums over one k block are f64; across k blocks
 * (k > KB = 512) they are added in C (f32). C must not alias A or B.
 */
export function gemmNT(A: Float32Array, B: Float32Array, m: number, k: number, n: number, C: Float32Array): Float32Array {
  checkSize(A, m * k, 'gemmNT A');
  checkSize(B, n * k, 'gemmNT B');
  checkSize(C, m * n, 'gemmNT C');
  if (m === 0 || n === 0) return C;
  if (k === 0) return C.fill(0);
  const m4 = m - (m % 4);
  const n4 = n - (n % 4);
  for (let p0 = 0; p0 < k; p0 += KB) {
    const pe = Math.min(k, p0 + KB);
    const acc = p0 > 0;
    if (m >= n) {
      for (let i = 0; i < m4; i += 4) {
        for (let j = 0; j < n4; j += 4) tile44(A, B, i, j, p0, pe, k, n, C, acc);
        for (let j = n4; j < n; j++) tile41(A, B, i, j, p0, pe, k, n, C, acc);
      }
      for (let i = m4; i < m; i++) {
        for (let j = 0; j < n4; j += 4) tile14(A, B, i, j, p0, pe, k, n, C, acc);
        for (let j = n4; j < n; j++) tile11(A, B, i, j, p0, pe, k, n, C, acc);
      }
    } else {
      for (let j = 0; j < n4; j += 4) {
        for (let i = 0; i < m4; i += 4) tile44(A, B, i, j, p0, pe, k, n, C, acc);
        for (let i = m4; i < m; i++) tile14(A, B, i, j, p0, pe, k, n, C, acc);
      }
      for (let j = n4; j < n; j++) {
        for (let i = 0; i < m4; i += 4) tile41(A, B, i, j, p0, pe, k, n, C, acc);
        for (let i = m4; i < m; i++) tile11(A, B, i, j, p0, pe, k, n, C, acc);
      }
    }
  }
  return C;
}

function tile44(A: Float32Array, B: Float32Array, i: number, j: number, p0: number, pe: number, k: number, n: number, C: Float32Array, acc: boolean): void {
  const a0 = i * k;
  const a1 = a0 + k;
  const a2 = a1 + k;
  const a3 = a2 + k;
  const b0 = j * k;
  const b1 = b0 + k;
  const b2 = b1 + k;
  const b3 = b2 + k;
  let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
  let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
  for (let p = p0; p < pe; p++) {
    const x0 = A[a0 + p];
    const x1 = A[a1 + p];
    const x2 = A[a2 + p];
    const x3 = A[a3 + p];
    let y = B[b0 + p];
    s00 += x0 * y; s10 += x1 * y; s20 += x2 * y; s30 += x3 * y;
    y = B[b1 + p];
    s01 += x0 * y; s11 += x1 * y; s21 += x2 * y; s31 += x3 * y;
    y = B[b2 + p];
    s02 += x0 * y; s12 += x1 * y; s22 += x2 * y; s32 += x3 * y;
    y = B[b3 + p];
    s03 += x0 * y; s13 += x1 * y; s23 += x2 * y; s33 += x3 * y;
  }
  const c0 = i * n + j;
  const c1 = c0 + n;
  const c2 = c1 + n;
  const c3 = c2 + n;
  if (acc) {
    s00 += C[c0]; s01 += C[c0 + 1]; s02 += C[c0 + 2]; s03 += C[c0 + 3];
    s10 += C[c1]; s11 += C[c1 + 1]; s12 += C[c1 + 2]; s13 += C[c1 + 3];
    s20 += C[c2]; s21 += C[c2 + 1]; s22 += C[c2 + 2]; s23 += C[c2 + 3];
    s30 += C[c3]; s31 += C[c3 + 1]; s32 += C[c3 + 2]; s33 += C[c3 + 3];
  }
  C[c0] = s00; C[c0 + 1] = s01; C[c0 + 2] = s02; C[c0 + 3] = s03;
  C[c1] = s10; C[c1 + 1] = s11; C[c1 + 2] = s12; C[c1 + 3] = s13;
  C[c2] = s20; C[c2 + 1] = s21; C[c2 + 2] = s22; C[c2 + 3] = s23;
  C[c3] = s30; C[c3 + 1] = s31; C[c3 + 2] = s32; C[c3 + 3] = s33;
}

function tile41(A: Float32Array, B: Float32Array, i: number, j: number, p0: number, pe: number, k: number, n: number, C: Float32Array, acc: boolean): void {
  const a0 = i * k;
  const a1 = a0 + k;
  const a2 = a1 + k;
  const a3 = a2 + k;
  const b0 = j * k;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (let p = p0; p < pe; p++) {
    const y = B[b0 + p];
    s0 += A[a0 + p] * y;
    s1 += A[a1 + p] * y;
    s2 += A[a2 + p] * y;
    s3 += A[a3 + p] * y;
  }
  const c0 = i * n + j;
  if (acc) {
    s0 += C[c0]; s1 += C[c0 + n]; s2 += C[c0 + 2 * n]; s3 += C[c0 + 3 * n];
  }
  C[c0] = s0; C[c0 + n] = s1; C[c0 + 2 * n] = s2; C[c0 + 3 * n] = s3;
}

function tile14(A: Float32Array, B: Float32Array, i: number, j: number, p0: number, pe: number, k: number, n: number, C: Float32Array, acc: boolean): void {
  const a0 = i * k;
  const b0 = j * k;
  const b1 = b0 + k;
  const b2 = b1 + k;
  const b3 = b2 + k;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (let p = p0; p < pe; p++) {
    const x = A[a0 + p];
    s0 += x * B[b0 + p];
    s1 += x * B[b1 + p];
    s2 += x * B[b2 + p];
    s3 += x * B[b3 + p];
  }
  const c0 = i * n + j;
  if (acc) {
    s0 += C[c0]; s1 += C[c0 + 1]; s2 += C[c0 + 2]; s3 += C[c0 + 3];
  }
  C[c0] = s0; C[c0 + 1] = s1; C[c0 + 2] = s2; C[c0 + 3] = s3;
}

function tile11(A: Float32Array, B: Float32Array, i: number, j: number, p0: number, pe: number, k: number, n: number, C: Float32Array, acc: boolean): void {
  const a0 = i * k;
  const b0 = j * k;
  let s = 0;
  for (let p = p0; p < pe; p++) s += A[a0 + p] * B[b0 + p];
  const c0 = i * n + j;
  C[c0] = acc ? s + C[c0] : s;
}

/** Aᵀ[n,m] of a row-major A[m,n] (f32): four source rows at a time, writing four contiguous. */
export function transpose(A: Float32Array, m: number, n: number, out?: Float32Array): Float32Array {
  checkSize(A, m * n, 'transpose');
  const T = outArray(out, m * n, 'transpose');
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const a0 = i * n;
    const a1 = a0 + n;
    const a2 = a1 + n;
    const a3 = a2 + n;
    for (let j = 0; j < n; j++) {
      const to = j * m + i;
      T[to] = A[a0 + j];
      T[to + 1] = A[a1 + j];
      T[to + 2] = A[a2 + j];
      T[to + 3] = A[a3 + j];
    }
  }
  for (; i < m; i++) for (let j = 0; j < n; j++) T[j * m + i] = A[i * n + j];
  return T;
}

/** ‖A‖_F, accumulated in f64. */
export function frobenius(A: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < A.length; i++) s += A[i] * A[i];
  return Math.sqrt(s);
}

// ---------------------------------------------------------------------------------------------
// QR

/**
 * In-place thin QR of c columns of length m stored column by column (`cols[j * m + i]`), in f64:
 * classical Gram–Schmidt with reorthogonalization (CGS2: "twice is enough", a third pass when
 * the second still cancels more than half the norm). On return the columns are orthonormal and R (c×c,
 * row-major, upper triangular) satisfies A = Q·R. A column that is (numerically) in the span of
 * the previous ones gets R[j,j] = 0 and is replaced by a unit vector orthogonal to them, so Q
 * always has orthonormal columns (needs c ≤ m).
 */
export function qrColumns(cols: Float64Array, m: number, c: number, R?: Float64Array): Float64Array {
  if (c > m) throw new Error(`qr: ${c} columns of length ${m}; need c ≤ m`);
  const Rm = R ?? new Float64Array(c * c);
  Rm.fill(0);
  const d = new Float64Array(c);
  let scale = 0; // largest column norm seen, to judge what "numerically zero" means
  for (let j = 0; j < c; j++) {
    const vo = j * m;
    let n0 = 0;
    for (let i = 0; i < m; i++) n0 += cols[vo + i] * cols[vo + i];
    n0 = Math.sqrt(n0);
    if (n0 > scale) scale = n0;
    let nrm = orthogonalize(cols, m, j, vo, Rm, c, n0, d);
    if (!(nrm > 1e-13 * scale) || nrm === 0) {
      // Rank-deficient column: its R entries stay as computed, the diagonal is 0, and the
      // column of Q becomes a unit vector orthogonal to the previous ones.
      nrm = 0;
      for (let t = 0; t < m && nrm === 0; t++) {
        const e = (j + t) % m;
        for (let i = 0; i < m; i++) cols[vo + i] = i === e ? 1 : 0;
        const scratch = new Float64Array(c * c);
        const got = orthogonalize(cols, m, j, vo, scratch, c, 1, d);
        if (!Number.isFinite(got)) throw new Error('qr: the matrix has non-finite entries');
        if (got > 1e-3) {
          const inv = 1 / got;
          for (let i = 0; i < m; i++) cols[vo + i] *= inv;
          nrm = -1; // marks success; R[j,j] stays 0
        }
      }
      if (nrm !== -1) throw new Error('qr: could not complete an orthonormal basis');
      Rm[j * c + j] = 0;
      continue;
    }
    Rm[j * c + j] = nrm;
    const inv = 1 / nrm;
    for (let i = 0; i < m; i++) cols[vo + i] *= inv;
  }
  return Rm;
}

/** Orthogonalizes column j (at vo) against columns 0..j−1, adding the coefficients into R[:, j]. */
function orthogonalize(cols: Float64Array, m: number, j: number, vo: number, R: Float64Array, c: number, n0: number, d: Float64Array): number {
  let prev = n0;
  for (let pass = 0; pass < 3 && j > 0; pass++) {
    // One classical Gram–Schmidt pass: all j coefficients against the current vector, then one
    // subtraction; four basis columns at a time so the vector is read once per four.
    let q = 0;
    for (; q + 4 <= j; q += 4) {
      const q0 = q * m;
      const q1 = q0 + m;
      const q2 = q1 + m;
      const q3 = q2 + m;
      let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
      for (let i = 0; i < m; i++) {
        const v = cols[vo + i];
        d0 += cols[q0 + i] * v;
        d1 += cols[q1 + i] * v;
        d2 += cols[q2 + i] * v;
        d3 += cols[q3 + i] * v;
      }
      d[q] = d0;
      d[q + 1] = d1;
      d[q + 2] = d2;
      d[q + 3] = d3;
    }
    for (; q < j; q++) {
      const q0 = q * m;
      let d0 = 0;
      for (let i = 0; i < m; i++) d0 += cols[q0 + i] * cols[vo + i];
      d[q] = d0;
    }
    for (q = 0; q < j; q++) R[q * c + j] += d[q];
    q = 0;
    for (; q + 4 <= j; q += 4) {
      const q0 = q * m;
      const q1 = q0 + m;
      const q2 = q1 + m;
      const q3 = q2 + m;
      const d0 = d[q], d1 = d[q + 1], d2 = d[q + 2], d3 = d[q + 3];
      for (let i = 0; i < m; i++) {
        cols[vo + i] -= d0 * cols[q0 + i] + d1 * cols[q1 + i] + d2 * cols[q2 + i] + d3 * cols[q3 + i];
      }
    }
    for (; q < j; q++) {
      const q0 = q * m;
      const d0 = d[q];
      for (let i = 0; i < m; i++) cols[vo + i] -= d0 * cols[q0 + i];
    }
    let nrm = 0;
    for (let i = 0; i < m; i++) nrm += cols[vo + i] * cols[vo + i];
    nrm = Math.sqrt(nrm);
    // "Twice is enough": a third pass only when the second still cancelled more than half.
    if (pass >= 1 && nrm > 0.5 * prev) return nrm;
    prev = nrm;
  }
  if (j > 0) return prev;
  let nrm = 0;
  for (let i = 0; i < m; i++) nrm += cols[vo + i] * cols[vo + i];
  return Math.sqrt(nrm);
}

/**
 * Thin QR of a tall row-major A[m,c] (c ≤ m): Q[m,c] with orthonormal columns (f32) and R[c,c]
 * (f64, row-major upper triangular) with A = Q·R. Robust to rank-deficient A (see qrColumns).
 */
export function qr(A: Float32Array | Float64Array, m: number, c: number, outQ?: Float32Array): { Q: Float32Array; R: Float64Array } {
  checkSize(A, m * c, 'qr');
  const cols = new Float64Array(m * c);
  for (let i = 0; i < m; i++) for (let j = 0; j < c; j++) cols[j * m + i] = A[i * c + j];
  const R = qrColumns(cols, m, c);
  const Q = outArray(outQ, m * c, 'qr');
  for (let i = 0; i < m; i++) for (let j = 0; j < c; j++) Q[i * c + j] = cols[j * m + i];
  return { Q, R };
}

// ---------------------------------------------------------------------------------------------
// SVD and symmetric eigendecomposition (Jacobi)

export type Svd = {
  /** [m, p] row-major, p = min(m, n), orthonormal columns (for zero singular values: a completion). */
  U: Float64Array;
  /** [p], descending. */
  s: Float64Array;
  /** [n, p] row-major, orthonormal columns. */
  V: Float64Array;
};

/**
 * Thin SVD A = U·diag(s)·Vᵀ of a row-major A[m,n] by one-sided Jacobi (Hestenes) in f64.
 * Cost per sweep ~ 3.5·m·n² (for m ≥ n; transposed otherwise), typically 6–10 sweeps: for small
 * matrices. V is orthonormal (a product of rotations); U's columns are A·v/σ, and where σ is
 * (numerically) 0, unit vectors completing an orthonormal set.
 */
export function svd(A: ArrayLike<number>, m: number, n: number): Svd {
  checkSize(A, m * n, 'svd');
  if (m < n) {
    const t = svd(transposeAny(A, m, n), n, m);
    return { U: t.V, s: t.s, V: t.U };
  }
  // m ≥ n: orthogonalize the n columns (stored contiguously) by plane rotations.
  const G = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) G[j * m + i] = A[i * n + j];
  const Vc = new Float64Array(n * n); // column-major: V column j at j*n
  for (let j = 0; j < n; j++) Vc[j * n + j] = 1;
  const eps = 1e-15;
  for (let sweep = 0; sweep < 80; sweep++) {
    let rotated = false;
    for (let a = 0; a < n - 1; a++) {
      const ao = a * m;
      for (let b = a + 1; b < n; b++) {
        const bo = b * m;
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < m; i++) {
          const x = G[ao + i];
          const y = G[bo + i];
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const cs = 1 / Math.sqrt(1 + t * t);
        const sn = cs * t;
        for (let i = 0; i < m; i++) {
          const x = G[ao + i];
          const y = G[bo + i];
          G[ao + i] = cs * x - sn * y;
          G[bo + i] = sn * x + cs * y;
        }
        const va = a * n;
        const vb = b * n;
        for (let i = 0; i < n; i++) {
          const x = Vc[va + i];
          const y = Vc[vb + i];
          Vc[va + i] = cs * x - sn * y;
          Vc[vb + i] = sn * x + cs * y;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += G[j * m + i] * G[j * m + i];
    norms[j] = Math.sqrt(s);
  }
  const order = Array.from({ length: n }, (_, j) => j).sort((x, y) => norms[y] - norms[x]);
  const smax = n > 0 ? norms[order[0]] : 0;
  const Uc = new Float64Array(m * n); // column-major
  const V = new Float64Array(n * n);
  const s = new Float64Array(n);
  let deficient = false;
  for (let r = 0; r < n; r++) {
    const j = order[r];
    const sigma = norms[j];
    s[r] = sigma;
    for (let i = 0; i < n; i++) V[i * n + r] = Vc[j * n + i];
    if (sigma > 1e-300 && sigma > 1e-15 * smax) {
      const inv = 1 / sigma;
      for (let i = 0; i < m; i++) Uc[r * m + i] = G[j * m + i] * inv;
    } else {
      deficient = true;
    }
  }
  // Columns for (numerically) zero singular values: complete U to an orthonormal set.
  if (deficient) qrColumns(Uc, m, n);
  const U = new Float64Array(m * n);
  for (let r = 0; r < n; r++) for (let i = 0; i < m; i++) U[i * n + r] = Uc[r * m + i];
  return { U, s, V };
}

function transposeAny(A: ArrayLike<number>, m: number, n: number): Float64Array {
  const T = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) T[j * m + i] = A[i * n + j];
  return T;
}

/**
 * Eigendecomposition S = V·diag(values)·Vᵀ of a symmetric row-major S[n,n] (only its upper
 * triangle is read as the symmetric matrix's) by cyclic Jacobi in f64. Values descending;
 * V[n,n] row-major, eigenvector r in column r.
 */
export function symEig(S: ArrayLike<number>, n: number): { values: Float64Array; vectors: Float64Array } {
  checkSize(S, n * n, 'symEig');
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = S[i * n + j];
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 80; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += a[i * n + i] * a[i * n + i];
      for (let j = i + 1; j < n; j++) off += a[i * n + j] * a[i * n + j];
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const app = a[p * n + p];
        const aqq = a[q * n + q];
        if (Math.abs(apq) <= 1e-18 * Math.sqrt(Math.abs(app * aqq))) {
          a[p * n + q] = a[q * n + p] = 0;
          continue;
        }
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(1 + theta * theta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        // A ← Jᵀ A J with J the rotation in the (p, q) plane.
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        a[p * n + q] = a[q * n + p] = 0;
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y * n + y] - a[x * n + x]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  for (let r = 0; r < n; r++) {
    const j = order[r];
    values[r] = a[j * n + j];
    for (let k = 0; k < n; k++) vectors[k * n + r] = v[k * n + j];
  }
  return { values, vectors };
}
