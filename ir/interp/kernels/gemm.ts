// Float GEMM for the interpreter (MatMul, Gemm, Conv, ConvTranspose): C = A·B, with f32/f64
// operands and f64 results, every output an f64 sum of exact products over k in order — the same
// bits as the plain scalar loop `s = 0; for (k = 0; k < K; k++) s += a[i,k] * b[k,j]`.
//
// The work is done by a WebAssembly SIMD microkernel (gemm-wasm.ts): A is packed into panels of
// MR rows and B into panels of NR columns, both k-major and widened to f64, in the module's
// memory (f32 operands with contiguous rows are copied in and packed by the module's SIMD
// packers, others by the JS ones here; Conv's im2col writes the packed B itself); the microkernel
// computes MR×NR blocks of C in f64x2 registers, with K cut into blocks of KC so a B panel stays
// in L1 while the A panels pass over it. Large products are split by column panels across worker
// threads (gemm-pool.ts) when LATHE_INTERP_THREADS=N (N > 1) asks for them; each output is still summed by one thread in
// order, so threads change no bit. Where WebAssembly SIMD is not available (or
// LATHE_INTERP_NO_WASM is set), or a product is tiny, a scalar JS kernel with the same numerics
// does it.
import { gemmModuleBytes } from './gemm-wasm.ts';
import type { Pool } from './gemm-pool.ts';
import { blocks, startPool, threadCount } from './gemm-pool.ts';

export type FloatArray = Float32Array | Float64Array;

/** A strided matrix: element (r, c) is data[off + r·rs + c·cs]. */
export interface Mat {
  data: FloatArray;
  off: number;
  rs: number;
  cs: number;
}

/**
 * Writes B [K × N] packed as the kernel reads it: in panels of GEMM_NR columns, panel p from
 * base + p·GEMM_NR·K, its element (k, p·GEMM_NR + c) at k·GEMM_NR + c, widened to f64; columns
 * from N up to the panel's end are 0. (Lets Conv write im2col straight into the kernel's memory.)
 */
export type BPacker = (dst: Float64Array, base: number) => void;

/** Row-major [rows × cols] from `off`. */
export const rowMajor = (data: FloatArray, off: number, cols: number): Mat => ({ data, off, rs: cols, cs: 1 });
/** The transpose of a row-major [cols × rows] matrix from `off`, i.e. element (r, c) at c·rows + r. */
export const colMajor = (data: FloatArray, off: number, rows: number): Mat => ({ data, off, rs: 1, cs: rows });

const MR = 4;
const NR = 4;
/** Columns per packed panel of B (see BPacker). */
export const GEMM_NR = NR;
const KC = 256;
/** Products with fewer multiply-adds than this run in JS (the packing would cost more). */
const SMALL = 4096;

/** Addresses in the kernel are i32 byte offsets; larger problems run in JS. */
const MAX_BYTES = 2 ** 31;
/** Products with at least this many multiply-adds are split across worker threads. */
const PARALLEL = 1 << 21;

interface Kernel {
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  mk: (a: number, b: number, c: number, kLen: number, ldc: number) => void;
  packA32: (src: number, dst: number, K: number, panels: number, rs: number) => void;
  packB32: (src: number, dst: number, K: number, panels: number, rs: number, step: number) => void;
  f64: Float64Array;
  f32: Float32Array;
  /** Worker threads: undefined until first wanted, null when there are none. */
  pool?: Pool | null;
}

let kernel: Kernel | null | undefined;

function instantiate(shared: boolean): Kernel {
  const bytes = gemmModuleBytes(MR, NR, shared ? MAX_BYTES / 65536 : undefined);
  const module = new WebAssembly.Module(bytes);
  const memory = shared ? new WebAssembly.Memory({ initial: 1, maximum: MAX_BYTES / 65536, shared: true }) : undefined;
  const inst = new WebAssembly.Instance(module, memory ? { env: { memory } } : {});
  const mem = memory ?? (inst.exports.memory as WebAssembly.Memory);
  const e = inst.exports as Record<string, unknown>;
  return {
    memory: mem,
    module,
    mk: e.mk as Kernel['mk'],
    packA32: e.packA32 as Kernel['packA32'],
    packB32: e.packB32 as Kernel['packB32'],
    f64: new Float64Array(mem.buffer),
    f32: new Float32Array(mem.buffer),
    ...(memory ? {} : { pool: null }),
  };
}

function loadKernel(): Kernel | null {
  if (kernel !== undefined) return kernel;
  kernel = null;
  if (typeof WebAssembly !== 'object' || process.env.LATHE_INTERP_NO_WASM) return kernel;
  // Shared memory (for worker threads) where there will be workers, else the module's own.
  for (const shared of threadCount() > 1 ? [true, false] : [false]) {
    try {
      kernel = instantiate(shared);
      break;
    } catch {
      kernel = null;
    }
  }
  return kernel;
}

function poolOf(k: Kernel): Pool | null {
  if (k.pool === undefined) {
    try {
      k.pool = startPool(k.module, k.memory, threadCount() - 1);
    } catch {
      k.pool = null;
    }
  }
  return k.pool;
}

/** Worker threads the GEMMs have started so far (0: none yet, or none to be had). */
export function gemmWorkers(): number {
  return kernel?.pool?.size ?? 0;
}

/** Whether GEMMs run in WebAssembly SIMD (false: the scalar JS kernel). */
export function wasmGemmAvailable(): boolean {
  return loadKernel() !== null;
}

/** The module's memory as f64, grown to at least `bytes`; null if it cannot grow that far. */
function ensureBytes(k: Kernel, bytes: number): Float64Array | null {
  const have = k.memory.buffer.byteLength;
  if (bytes > have) {
    if (bytes > MAX_BYTES) return null;
    try {
      k.memory.grow(Math.ceil((bytes - have) / 65536));
    } catch {
      return null; // out of memory for the module: the caller falls back to JS
    }
  }
  // (A shared memory's buffer is a new object, of the new length, after each grow.)
  if (k.f64.buffer !== k.memory.buffer || k.f64.byteLength !== k.memory.buffer.byteLength) {
    k.f64 = new Float64Array(k.memory.buffer);
    k.f32 = new Float32Array(k.memory.buffer);
  }
  return k.f64;
}

/** rows × cols of src (rows rs apart from off) into dst from `at`, rows contiguous. */
function stageRows(dst: Float32Array, at: number, src: Float32Array, off: number, rs: number, rows: number, cols: number): void {
  if (rs === cols) dst.set(src.subarray(off, off + rows * cols), at);
  else for (let r = 0; r < rows; r++) dst.set(src.subarray(off + r * rs, off + r * rs + cols), at + r * cols);
}

/** A's rows in panels of MR: panel p at p·MR·K, element (p·MR + r, k) at k·MR + r; rows past M are 0. */
function packA(dst: Float64Array, base: number, M: number, K: number, A: Mat, p0 = 0): void {
  const { data, off, rs, cs } = A;
  const panels = Math.ceil(M / MR);
  for (let p = p0; p < panels; p++) {
    const pb = base + p * MR * K;
    for (let r = 0; r < MR; r++) {
      const i = p * MR + r;
      if (i >= M) {
        for (let k = 0; k < K; k++) dst[pb + k * MR + r] = 0;
        continue;
      }
      const src = off + i * rs;
      if (cs === 1) for (let k = 0; k < K; k++) dst[pb + k * MR + r] = data[src + k]!;
      else for (let k = 0; k < K; k++) dst[pb + k * MR + r] = data[src + k * cs]!;
    }
  }
}

/** B's columns in panels of NR: panel p at p·NR·K, element (k, p·NR + c) at k·NR + c; columns past N are 0. */
function packB(dst: Float64Array, base: number, K: number, N: number, B: Mat): void {
  const { data, off, rs, cs } = B;
  const panels = Math.ceil(N / NR);
  const step = NR * K;
  if (cs === 1) {
    // Rows of B are contiguous: tiles of TILE panels, so the reads run along B's rows and the
    // writes are TILE sequential streams.
    const TILE = 16;
    const full = Math.floor(N / NR);
    for (let p0 = 0; p0 < full; p0 += TILE) {
      const p1 = Math.min(full, p0 + TILE);
      for (let k = 0; k < K; k++) {
        let s = off + k * rs + p0 * NR;
        let d = base + p0 * step + k * NR;
        for (let p = p0; p < p1; p++, s += NR, d += step) {
          dst[d] = data[s]!;
          dst[d + 1] = data[s + 1]!;
          dst[d + 2] = data[s + 2]!;
          dst[d + 3] = data[s + 3]!;
        }
      }
    }
    if (full < panels) packPanelsStrided(dst, base, K, N, B, full, panels);
    return;
  }
  packPanelsStrided(dst, base, K, N, B, 0, panels);
}

/** Panels [p0, p1) of B, one column at a time (for B with contiguous columns, or the ragged last panel). */
function packPanelsStrided(dst: Float64Array, base: number, K: number, N: number, B: Mat, p0: number, p1: number): void {
  const { data, off, rs, cs } = B;
  for (let p = p0; p < p1; p++) {
    const pb = base + p * NR * K;
    for (let c = 0; c < NR; c++) {
      const j = p * NR + c;
      if (j >= N) {
        for (let k = 0; k < K; k++) dst[pb + k * NR + c] = 0;
        continue;
      }
      const src = off + j * cs;
      if (rs === 1) for (let k = 0; k < K; k++) dst[pb + k * NR + c] = data[src + k]!;
      else for (let k = 0; k < K; k++) dst[pb + k * NR + c] = data[src + k * rs]!;
    }
  }
}

/**
 * C[i·ldc + j + cOff] = Σ_k A(i, k)·B(k, j) for i < M, j < N, summed in f64 over k in order.
 * C's other elements are left alone.
 */
export function gemm(M: number, N: number, K: number, A: Mat, B: Mat | BPacker, C: Float64Array, cOff = 0, ldc = N): void {
  if (M === 0 || N === 0) return;
  if (K === 0) {
    for (let i = 0; i < M; i++) C.fill(0, cOff + i * ldc, cOff + i * ldc + N);
    return;
  }
  const k = M * N * K >= SMALL ? loadKernel() : null;
  if (!k) return gemmScalar(M, N, K, A, matOf(B, K, N), C, cOff, ldc);
  const Mp = Math.ceil(M / MR) * MR;
  const Np = Math.ceil(N / NR) * NR;
  const aBase = 0;
  const bBase = aBase + Mp * K;
  const cBase = bBase + Np * K;
  // Staging for f32 operands copied in whole, to be packed by the module (SIMD widening).
  const stage = (cBase + Mp * Np) * 8;
  const f = ensureBytes(k, stage + Math.max(M * K, K * N) * 4);
  if (!f) return gemmScalar(M, N, K, A, matOf(B, K, N), C, cOff, ldc);
  const aFull = Math.floor(M / MR);
  if (A.data instanceof Float32Array && A.cs === 1 && aFull > 0) {
    stageRows(k.f32, stage / 4, A.data, A.off, A.rs, M, K);
    k.packA32(stage, aBase * 8, K, aFull, K * 4);
    packA(f, aBase, M, K, A, aFull);
  } else packA(f, aBase, M, K, A);
  const bFull = Math.floor(N / NR);
  if (typeof B === 'function') B(f, bBase);
  else if (B.data instanceof Float32Array && B.cs === 1 && bFull > 0) {
    stageRows(k.f32, stage / 4, B.data, B.off, B.rs, K, N);
    k.packB32(stage, bBase * 8, K, bFull, N * 4, NR * K * 8);
    if (bFull * NR < N) packPanelsStrided(f, bBase, K, N, B, bFull, Np / NR);
  } else packB(f, bBase, K, N, B);
  f.fill(0, cBase, cBase + Mp * Np);
  const pool = M * N * K >= PARALLEL && Np >= 2 * NR ? poolOf(k) : null;
  if (pool) pool.run(k.mk, aBase, bBase, cBase, Mp, Np, K, KC, MR, NR);
  else blocks(k.mk, aBase, bBase, cBase, Mp, Np, K, KC, MR, NR, 0, Np / NR);
  if (cOff === 0 && ldc === N && Np === N) C.set(f.subarray(cBase, cBase + M * N));
  else for (let i = 0; i < M; i++) C.set(f.subarray(cBase + i * Np, cBase + i * Np + N), cOff + i * ldc);
}

/** B as a matrix: a packer writes into a scratch array, read back as panels. */
function matOf(B: Mat | BPacker, K: number, N: number): Mat {
  if (typeof B !== 'function') return B;
  const Np = Math.ceil(N / NR) * NR;
  const packed = new Float64Array(Np * K);
  B(packed, 0);
  const out = new Float64Array(K * N);
  for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) out[k * N + j] = packed[(j - (j % NR)) * K + k * NR + (j % NR)]!;
  return { data: out, off: 0, rs: N, cs: 1 };
}

/** The scalar kernel: same numerics, 4×4 blocks of f64 sums in locals over contiguous copies. */
export function gemmScalar(M: number, N: number, K: number, A: Mat, B: Mat, C: Float64Array, cOff = 0, ldc = N): void {
  // Rows of A and columns of B, each contiguous along k.
  const a = A.cs === 1 ? A.data : contiguous(A, M, K);
  const ao = A.cs === 1 ? A.off : 0;
  const ars = A.cs === 1 ? A.rs : K;
  const bt = B.rs === 1 ? B.data : contiguous({ data: B.data, off: B.off, rs: B.cs, cs: B.rs }, N, K);
  const bo = B.rs === 1 ? B.off : 0;
  const bcs = B.rs === 1 ? B.cs : K;
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const a0 = ao + i * ars, a1 = a0 + ars, a2 = a1 + ars, a3 = a2 + ars;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const b0 = bo + j * bcs, b1 = b0 + bcs, b2 = b1 + bcs, b3 = b2 + bcs;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let k = 0; k < K; k++) {
        const x0 = a[a0 + k]!, x1 = a[a1 + k]!, x2 = a[a2 + k]!, x3 = a[a3 + k]!;
        const y0 = bt[b0 + k]!, y1 = bt[b1 + k]!, y2 = bt[b2 + k]!, y3 = bt[b3 + k]!;
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
      }
      let c = cOff + i * ldc + j;
      C[c] = s00; C[c + 1] = s01; C[c + 2] = s02; C[c + 3] = s03; c += ldc;
      C[c] = s10; C[c + 1] = s11; C[c + 2] = s12; C[c + 3] = s13; c += ldc;
      C[c] = s20; C[c + 1] = s21; C[c + 2] = s22; C[c + 3] = s23; c += ldc;
      C[c] = s30; C[c + 1] = s31; C[c + 2] = s32; C[c + 3] = s33;
    }
    for (; j < N; j++) for (let r = 0; r < 4; r++) C[cOff + (i + r) * ldc + j] = dot(a, ao + (i + r) * ars, bt, bo + j * bcs, K);
  }
  for (; i < M; i++) for (let j = 0; j < N; j++) C[cOff + i * ldc + j] = dot(a, ao + i * ars, bt, bo + j * bcs, K);
}

function dot(a: FloatArray, ai: number, b: FloatArray, bi: number, K: number): number {
  let s = 0;
  for (let k = 0; k < K; k++) s += a[ai + k]! * b[bi + k]!;
  return s;
}

/** The [rows × cols] matrix m as a new row-major Float64Array. */
function contiguous(m: Mat, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = m.data[m.off + r * m.rs + c * m.cs]!;
  return out;
}
