// MatMul (batched, with broadcasting over the leading dims and numpy's 1-D promotion) and Gemm.
// Float products are exact f64 products summed in f64 over k in order (kernels/gemm.ts: a
// WebAssembly SIMD kernel, or scalar JS with the same bits); integer products wrap as C does,
// i64/u64 in BigInt.
import type { DType } from '../../dtype.ts';
import { isFloat } from '../../dtype.ts';
import { numElements } from '../../types.ts';
import { defineOnnxEvals, evalError } from '../registry.ts';
import type { Data, Tensor } from '../tensor.ts';
import { allocData, isBigDType, makeTensor, roundTo } from '../tensor.ts';
import { transpose } from './layout.ts';
import type { AnyArray } from './util.ts';
import { broadcastIndex, broadcastShape } from './util.ts';
import type { Mat } from '../kernels/gemm.ts';
import { gemm, rowMajor } from '../kernels/gemm.ts';

type FloatArray = Float32Array | Float64Array;

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
    const acc = out instanceof Float64Array ? out : new Float64Array(Mb * N);
    for (let t = 0; t < nb; t++) {
      const A = rowMajor(a.data as FloatArray, (ia ? ia[t]! : t) * Mb * K, K);
      const B = rowMajor(b.data as FloatArray, (ib ? ib[t]! : t) * K * N, N);
      if (acc === out) gemm(Mb, N, K, A, B, acc, t * Mb * N);
      else {
        gemm(Mb, N, K, A, B, acc);
        (out as FloatArray).set(acc, t * Mb * N);
      }
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
  const transA = ctx.int('transA', 0) !== 0;
  const transB = ctx.int('transB', 0) !== 0;
  let y: Tensor;
  if (isFloat(a.dtype) && a.dtype === b.dtype) {
    // Transposed operands are read in place (strided), not copied.
    const [M, K] = (transA ? [a.shape[1], a.shape[0]] : a.shape) as [number, number];
    const [K2, N] = (transB ? [b.shape[1], b.shape[0]] : b.shape) as [number, number];
    if (K !== K2) ctx.fail(`Gemm: inner dims differ: [${M}, ${K}] × [${K2}, ${N}]`);
    const A: Mat = { data: a.data as FloatArray, off: 0, rs: transA ? 1 : K, cs: transA ? M : 1 };
    const B: Mat = { data: b.data as FloatArray, off: 0, rs: transB ? 1 : N, cs: transB ? K : 1 };
    const yd = allocData(a.dtype, M * N) as FloatArray;
    if (yd instanceof Float64Array) gemm(M, N, K, A, B, yd);
    else {
      const acc = new Float64Array(M * N);
      gemm(M, N, K, A, B, acc);
      yd.set(acc);
    }
    y = roundTo(makeTensor(a.dtype, [M, N], yd as Data));
  } else {
    if (transA) a = transpose(a, [1, 0]);
    if (transB) b = transpose(b, [1, 0]);
    y = matmul(a, b);
  }
  const alpha = ctx.float('alpha', 1);
  const beta = ctx.float('beta', 1);
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
