// MatMul (batched, numpy broadcasting over the leading dims, 1-D promotion) and Gemm (transA,
// transB, alpha, beta, C broadcast onto [M, N]) on the tiles of gemm-tile.ts:
//   f32           CUDA-core tile, 128×128 blocks (8×8 a thread) for large problems, else 64×64
//   f16, bf16     tensor cores (mma.sync m16n8k16, f32 accumulation) on sm_80+, the CUDA-core tile in f32
//                 otherwise (that fallback is what the CPU harness runs)
//   f64           the CUDA-core tile in double
//   integers      the CUDA-core tile in wrapping unsigned arithmetic (the interpreter wraps as C)
// Also the benchmark generator `gemmKernelForBench` (a plain row-major GEMM, for timing against
// cuBLAS on a GPU).
import type { CudaBinding, CudaElem, CudaKernel } from '../kernel.ts';
import { cudaKernel } from '../kernel.ts';
import type { CudaContext, StaticTensor } from '../lowering.ts';
import { defineOnnxCuda } from '../lowering.ts';
import { broadcastStrides, stridesOf } from '../../wgsl/index-helper.ts';
import type { AccType } from './gemm-tile.ts';
import { matmulShapes } from '../../shared/matmul-shapes.ts';
import {
  accOf, elemOf, gemmTileBody, gemmTileGrid, isFloatElem, lit, loadAs, MAX_GRID_YZ, numElements, storeAs, UNROLL_HELPER, MMA_HELPERS, MMA_TILE, mmaTileBody,
} from './gemm-tile.ts';

export interface GemmOperand {
  readonly t: StaticTensor;
  readonly elem: CudaElem;
  /** Strides of the batch's first element over the batch dims (0 where broadcast); [] when unbatched. */
  readonly batchStrides: readonly number[];
  /** Stored transposed relative to the GEMM's view ([K, M] for A, [N, K] for B). */
  readonly trans: boolean;
}

export interface GemmProblem {
  readonly name: string;
  readonly node: string;
  readonly op: string;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  /** The batch dims (grid z walks their product); [] for one GEMM. */
  readonly batch: readonly number[];
  readonly a: GemmOperand;
  readonly b: GemmOperand;
  readonly y: { readonly t: StaticTensor; readonly elem: CudaElem };
  readonly alpha: number;
  readonly beta: number;
  /** C with its strides over [M, N] (0 where broadcast). */
  readonly c?: { readonly t: StaticTensor; readonly elem: CudaElem; readonly sm: number; readonly sn: number };
  /** Use the tensor-core tile for f16/bf16 (default true). */
  readonly tensorCores?: boolean;
}

/** u32 expression of the element offset of batch z: Σ ((z / inner_d) % size_d) · stride_d. */
function batchOffset(batch: readonly number[], strides: readonly number[]): string {
  const inner = stridesOf(batch);
  const terms: string[] = [];
  batch.forEach((size, d) => {
    if (strides[d] === 0 || size === 1) return;
    let t = inner[d] === 1 ? 'z' : `(z / ${inner[d]}u)`;
    if (d > 0) t = `(${t} % ${size}u)`;
    terms.push(`${t} * ${strides[d]}u`);
  });
  return terms.length ? terms.join(' + ') : '0u';
}

/** One kernel for Y[z] = alpha·op(A[z])·op(B[z]) + beta·C. */
export function gemmKernel(p: GemmProblem): CudaKernel {
  const { M, N, K } = p;
  const batches = numElements(p.batch);
  const acc: AccType = accOf(p.y.elem);
  const bindings: CudaBinding[] = [
    { value: p.a.t.name, access: 'read', elem: p.a.elem, param: 'a' },
    { value: p.b.t.name, access: 'read', elem: p.b.elem, param: 'b' },
    ...(p.c ? [{ value: p.c.t.name, access: 'read' as const, elem: p.c.elem, param: 'cm' }] : []),
    { value: p.y.t.name, access: 'read_write', elem: p.y.elem, param: 'y' },
  ];
  const prologue = `const unsigned aBase = ${batchOffset(p.batch, p.a.batchStrides)};
  const unsigned bBase = ${batchOffset(p.batch, p.b.batchStrides)};
  const unsigned yBase = z * ${M * N}u;
  (void)aBase; (void)bBase;${K === 0 ? ' (void)a; (void)b;' : ''}`;
  const aAt = (m: string, k: string) => (p.a.trans ? `a[aBase + ${k} * ${M}u + ${m}]` : `a[aBase + ${m} * ${K}u + ${k}]`);
  const bAt = (k: string, n: string) => (p.b.trans ? `b[bBase + ${n} * ${K}u + ${k}]` : `b[bBase + ${k} * ${N}u + ${n}]`);
  // The epilogue in the arithmetic type (for f16/bf16: float, rounded once when stored).
  const store = (m: string, n: string, v: string) => {
    let r = p.alpha === 1 ? v : `${lit(acc, p.alpha)} * ${v}`;
    if (p.c) {
      const cv = loadAs(p.c.elem, acc, `cm[${m} * ${p.c.sm}u + ${n} * ${p.c.sn}u]`);
      r = `${r} + ${p.beta === 1 ? cv : `${lit(acc, p.beta)} * ${cv}`}`;
    }
    return `y[yBase + ${m} * ${N}u + ${n}] = ${storeAs(p.y.elem, r)};`;
  };
  const narrow = p.y.elem === 'f16' || p.y.elem === 'bf16';
  const useMma = narrow && (p.tensorCores ?? true) && p.a.elem === p.y.elem && p.b.elem === p.y.elem && K > 0;
  const reg = useMma || (acc === 'float' && M >= 512 && N >= 512) ? 8 : 4;
  const tile = gemmTileBody({
    M, N, K, batches, acc, reg,
    aAlong: p.a.trans ? 'm' : 'k',
    bAlong: p.b.trans ? 'k' : 'n',
    prologue,
    loadA: (dst, m, k) => `${dst} = ${loadAs(p.a.elem, acc, aAt(m, k))};`,
    loadB: (dst, k, n) => `${dst} = ${loadAs(p.b.elem, acc, bAt(k, n))};`,
    store,
  });
  const grid = gemmTileGrid({ M, N, batches, reg });
  if (useMma && 16 * reg !== MMA_TILE) throw new Error('the tensor-core and CUDA-core grids must agree');
  const body = useMma
    ? `#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
${mmaTileBody({
  M, N, K,
  elem: p.y.elem as 'f16' | 'bf16',
  a: { param: 'a', base: 'aBase', trans: p.a.trans },
  b: { param: 'b', base: 'bBase', trans: p.b.trans },
  prologue,
  store,
})}
#else
${tile}
#endif`
    : tile;
  return cudaKernel({
    name: p.name, node: p.node, op: p.op, bindings,
    helpers: useMma ? MMA_HELPERS : [UNROLL_HELPER],
    body, grid, block: 256,
  });
}

/** Refuse what the grid cannot hold (grid y and z are limited to 65535). */
function checkGrid(ctx: CudaContext, M: number, batches: number): void {
  if (batches > MAX_GRID_YZ) ctx.unsupported(`${batches} batches exceed the grid's z limit (${MAX_GRID_YZ})`);
  if (Math.ceil(M / 64) > MAX_GRID_YZ) ctx.unsupported(`${M} rows exceed the grid's y limit`);
}

function operandElems(ctx: CudaContext, a: StaticTensor, b: StaticTensor): CudaElem {
  if (a.dtype !== b.dtype) ctx.unsupported(`operands are ${a.dtype} and ${b.dtype}`);
  const e = elemOf(ctx, a);
  if (e === 'bool') ctx.unsupported('MatMul of bool tensors');
  return e;
}

defineOnnxCuda(['MatMul'], (ctx) => {
  const a = ctx.input(0)!;
  const b = ctx.input(1)!;
  const y = ctx.output(0)!;
  const elem = operandElems(ctx, a, b);
  const { M, K, N, aBatch, bBatch } = matmulShapes(a, b);
  if (numElements(y.shape) === 0) return [];
  const common = { name: ctx.kernelName('matmul'), node: ctx.node.name, op: ctx.node.op, N, K, alpha: 1, beta: 0, y: { t: y, elem } };
  // One B for every batch of A (a layer's weight): A's batches are consecutive rows, so they fold
  // into one tall GEMM and the tiles fill up.
  if (numElements(bBatch) === 1) {
    const Mt = numElements(aBatch) * M;
    checkGrid(ctx, Mt, 1);
    return [gemmKernel({ ...common, M: Mt, batch: [], a: { t: a, elem, batchStrides: [], trans: false }, b: { t: b, elem, batchStrides: [], trans: false } })];
  }
  const batch = y.shape.slice(0, y.shape.length - (a.shape.length === 1 ? 0 : 1) - (b.shape.length === 1 ? 0 : 1));
  const strides = (own: readonly number[], size: number) => broadcastStrides(own, batch).map((s) => s * size);
  checkGrid(ctx, M, numElements(batch));
  return [gemmKernel({
    ...common, M, batch,
    a: { t: a, elem, batchStrides: strides(aBatch, M * K), trans: false },
    b: { t: b, elem, batchStrides: strides(bBatch, K * N), trans: false },
  })];
});

defineOnnxCuda(['Gemm'], (ctx) => {
  const a = ctx.input(0)!;
  const b = ctx.input(1)!;
  const c = ctx.input(2);
  const y = ctx.output(0)!;
  const elem = operandElems(ctx, a, b);
  const transA = ctx.int('transA', 0) !== 0;
  const transB = ctx.int('transB', 0) !== 0;
  const [M, K] = (transA ? [a.shape[1]!, a.shape[0]!] : a.shape) as [number, number];
  const N = transB ? b.shape[0]! : b.shape[1]!;
  const alpha = ctx.float('alpha', 1);
  const beta = ctx.float('beta', 1);
  if (!isFloatElem(elem) && !(Number.isInteger(alpha) && Number.isInteger(beta))) ctx.unsupported(`integer Gemm with alpha ${alpha}, beta ${beta}`);
  if (!Number.isFinite(alpha) || !Number.isFinite(beta)) ctx.unsupported(`alpha ${alpha}, beta ${beta} are not finite`);
  if (M * N === 0) return [];
  checkGrid(ctx, M, 1);
  let cOp: GemmProblem['c'];
  if (c && beta !== 0) {
    if (c.dtype !== a.dtype) ctx.unsupported(`C is ${c.dtype}, A is ${a.dtype}`);
    const [sm, sn] = broadcastStrides(c.shape, [M, N]) as [number, number];
    cOp = { t: c, elem: elemOf(ctx, c), sm, sn };
  }
  return [gemmKernel({
    name: ctx.kernelName('gemm'), node: ctx.node.name, op: ctx.node.op,
    M, N, K, batch: [], alpha, beta, c: cOp,
    a: { t: a, elem, batchStrides: [], trans: transA },
    b: { t: b, elem, batchStrides: [], trans: transB },
    y: { t: y, elem },
  })];
});

/**
 * The kernel of a plain row-major GEMM Y[M, N] = A[M, K]·B[K, N] for timing on a GPU: parameters
 * (a, b, y) in that order, grid and block in the result. f16/bf16 take the tensor-core tile.
 */
export function gemmKernelForBench(M: number, N: number, K: number, dtype: 'f32' | 'f16' | 'bf16' | 'f64' = 'f16'): CudaKernel {
  const t = (name: string, shape: number[]): StaticTensor => ({ name, dtype, shape });
  return gemmKernel({
    name: `bench/gemm_${M}x${N}x${K}_${dtype}`, node: 'bench', op: 'MatMul',
    M, N, K, batch: [], alpha: 1, beta: 0,
    a: { t: t('A', [M, K]), elem: dtype, batchStrides: [], trans: false },
    b: { t: t('B', [K, N]), elem: dtype, batchStrides: [], trans: false },
    y: { t: t('Y', [M, N]), elem: dtype },
  });
}
