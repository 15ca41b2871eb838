// MatMul (batched, with broadcasting over the leading dims and numpy's 1-D promotion) and Gemm.
// Float products accumulate in f64 (register-blocked dot products over contiguous rows of A and
// Bᵀ); integer products wrap as C does, i64/u64 in BigInt.
import type { DType } from '../../dtype.ts';
import { isFloat } from '../../dtype.ts';
import { numElements } from '../../types.ts';
import { defineOnnxEvals, evalError } from '../registry.ts';
import type { Data, Tensor } from '../tensor.ts';
import { allocData, isBigDType, makeTensor, roundTo } from '../tensor.ts';
import { transpose } from './layout.ts';
import type { AnyArray } from './util.ts';
import { broadcastIndex, broadcastShape } from './util.ts';

type FloatArray = Float32Array | Float64Array;
const JB = 64; // a 64-row stripe of Bᵀ stays in cache while every row of A passes over it

/**
 * C[M×N] = A[M×K] · Bᵀ, where A (from offset `ao`) and Bt (from `bo`) are row-major with rows of
 * K elements, so both operands are read contiguously along K. 4×4 blocks of C accumulate in
 * sixteen f64 locals (registers), which keeps long sums precise and the loop fast.
 */
export function gemmNT(M: number, N: number, K: number, A: FloatArray, ao: number, Bt: FloatArray, bo: number, C: Float64Array): void {
  for (let j0 = 0; j0 < N; j0 += JB) {
    const j1 = Math.min(N, j0 + JB);
    let i = 0;
    for (; i + 4 <= M; i += 4) {
      const a0 = ao + i * K, a1 = a0 + K, a2 = a1 + K, a3 = a2 + K;
      let j = j0;
      for (; j + 4 <= j1; j += 4) {
        const b0 = bo + j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
        for (let k = 0; k < K; k++) {
          const x0 = A[a0 + k]!, x1 = A[a1 + k]!, x2 = A[a2 + k]!, x3 = A[a3 + k]!;
          const y0 = Bt[b0 + k]!, y1 = Bt[b1 + k]!, y2 = Bt[b2 + k]!, y3 = Bt[b3 + k]!;
          s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
          s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
          s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
          s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
        }
        let c = i * N + j;
        C[c] = s00; C[c + 1] = s01; C[c + 2] = s02; C[c + 3] = s03; c += N;
        C[c] = s10; C[c + 1] = s11; C[c + 2] = s12; C[c + 3] = s13; c += N;
        C[c] = s20; C[c + 1] = s21; C[c + 2] = s22; C[c + 3] = s23; c += N;
        C[c] = s30; C[c + 1] = s31; C[c + 2] = s32; C[c + 3] = s33;
      }
      for (; j < j1; j++) for (let r = 0; r < 4; r++) C[(i + r) * N + j] = dot(A, ao + (i + r) * K, Bt, bo + j * K, K);
    }
    // Leftover rows (all rows when M < 4, e.g. one token): 1×4 blocks.
    for (; i < M; i++) {
      const a0 = ao + i * K;
      let j = j0;
      for (; j + 4 <= j1; j += 4) {
        const b0 = bo + j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let k = 0; k < K; k++) {
          const x = A[a0 + k]!;
          s0 += x * Bt[b0 + k]!; s1 += x * Bt[b1 + k]!; s2 += x * Bt[b2 + k]!; s3 += x * Bt[b3 + k]!;
        }
        const c = i * N + j;
        C[c] = s0; C[c + 1] = s1; C[c + 2] = s2; C[c + 3] = s3;
      }
      for (; j < j1; j++) C[i * N + j] = dot(A, a0, Bt, bo + j * K, K);
    }
  }
}

function dot(A: FloatArray, a: number, B: FloatArray, b: number, K: number): number {
  let s = 0;
  for (let k = 0; k < K; k++) s += A[a + k]! * B[b + k]!;
  return s;
}

/** The transpose of the row-major [rows × cols] matrix at `off` in `src`, as a new array like src. */
export function transposed(src: FloatArray, off: number, rows: number, cols: number): FloatArray {
  const out = src instanceof Float64Array ? new Float64Array(rows * cols) : new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[off + r * cols + c]!;
  return out;
}

/** Integer product with C wrap-around (i64/u64 exactly in BigInt). */
function gemmInt(M: number, N: number, K: number, A: AnyArray, ao: number, B: AnyArray, bo: number, out: AnyArray, co: number, big: boolean): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s: any = big ? 0n : 0;
      if (big) for (let k = 0; k < K; k++) s += A[ao + i * K + k] * B[bo + k * N + j];
      else for (let k = 0; k < K; k++) s = (s + Math.imul(A[ao + i * K + k], B[bo + k * N + j])) | 0;
      out[co + i * N + j] = s;
    }
  }
}

export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.dtype !== b.dtype) throw evalError(`MatMul operands have dtypes ${a.dtype} and ${b.dtype}`);
  if (a.shape.length === 0 || b.shape.length === 0) throw evalError('MatMul operands must have rank ≥ 1');
  // numpy: a 1-D A is a row [1, K], a 1-D B a column [K, 1]; the added dim is dropped after.
  const as = a.shape.length === 1 ? [1, a.shape[0]!] : a.shape;
  const bs = b.shape.length === 1 ? [b.shape[0]!, 1] : b.shape;
  const M = as[as.length - 2]!;
  const K = as[as.length - 1]!;
  const N = bs[bs.length - 1]!;
  if (bs[bs.length - 2] !== K) throw evalError(`MatMul: [${a.shape.join(', ')}] × [${b.shape.join(', ')}]: inner dims differ`);
  const aBatch = as.slice(0, -2);
  const bBatch = bs.slice(0, -2);
  const batch = broadcastShape([aBatch, bBatch]);
  const shape = [...batch, ...(a.shape.length === 1 ? [] : [M]), ...(b.shape.length === 1 ? [] : [N])];
  const dtype: DType = a.dtype;
  const out = allocData(dtype, numElements(batch) * M * N);
  // One B for all of A's batches (a layer's weight): A's rows are contiguous, so the batches fold
  // into one tall GEMM instead of many short ones.
  const fold = bBatch.length === 0;
  const nb = fold ? 1 : numElements(batch);
  const Mb = fold ? numElements(aBatch) * M : M;
  const ia = fold ? undefined : broadcastIndex(aBatch, batch);
  const ib = fold ? undefined : broadcastIndex(bBatch, batch);
  if (isFloat(dtype)) {
    const acc = new Float64Array(Mb * N);
    // Bᵀ of each distinct B batch, packed once (a broadcast B serves several batches).
    const packed = new Map<number, FloatArray>();
    for (let t = 0; t < nb; t++) {
      const bt = ib ? ib[t]! : t;
      let Bt = packed.get(bt);
      if (!Bt) {
        Bt = transposed(b.data as FloatArray, bt * K * N, K, N);
        packed.set(bt, Bt);
      }
      gemmNT(Mb, N, K, a.data as FloatArray, (ia ? ia[t]! : t) * Mb * K, Bt, 0, acc);
      (out as FloatArray).set(acc, t * Mb * N);
    }
  } else {
    for (let t = 0; t < nb; t++) {
      gemmInt(Mb, N, K, a.data as AnyArray, (ia ? ia[t]! : t) * Mb * K, b.data as AnyArray, (ib ? ib[t]! : t) * K * N, out as AnyArray, t * Mb * N, isBigDType(dtype));
    }
  }
  return roundTo(makeTensor(dtype, shape, out as Data));
}

defineOnnxEvals(['MatMul'], (ctx) => [matmul(ctx.tensor(0), ctx.tensor(1))]);

defineOnnxEvals(['Gemm'], (ctx) => {
  let a = ctx.tensor(0);
  let b = ctx.tensor(1);
  if (a.shape.length !== 2 || b.shape.length !== 2) ctx.fail('Gemm operands must be matrices');
  if (ctx.int('transA', 0)) a = transpose(a, [1, 0]);
  if (ctx.int('transB', 0)) b = transpose(b, [1, 0]);
  const alpha = ctx.float('alpha', 1);
  const beta = ctx.float('beta', 1);
  const y = matmul(a, b);
  const c = ctx.optTensor(2);
  const [M, N] = y.shape as [number, number];
  const out = allocData(y.dtype, M * N) as AnyArray;
  const yd = y.data as AnyArray;
  const big = isBigDType(y.dtype);
  const al: any = big ? BigInt(alpha) : alpha;
  const be: any = big ? BigInt(beta) : beta;
  const ic = c ? broadcastIndex(c.shape, [M, N]) : undefined;
  const cd = c?.data as AnyArray | undefined;
  for (let i = 0; i < M * N; i++) {
    let v = al * yd[i];
    if (cd) v += be * cd[ic ? ic[i]! : i];
    out[i] = v;
  }
  return [roundTo(makeTensor(y.dtype, [M, N], out as Data))];
});
