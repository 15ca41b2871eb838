// MatMul (batched, numpy broadcasting over the leading dims, 1-D promotion) and Gemm
// (transA/transB, alpha, beta, C broadcast to [M, N]) on the tiled GEMM of gemm-tile.ts.
// Products accumulate in f32 (f16 storage is widened on load), so results differ from the
// interpreter's f64 sums by f32 rounding only.
import type { Kernel, KernelBinding } from '../kernel.ts';
import type { LowerContext, StaticTensor } from '../lowering.ts';
import { defineOnnxWgsl } from '../lowering.ts';
import type { GemmShape, StoreEpilogue } from './gemm-tile.ts';
import { gemmDispatch, gemmMain, gemmTile, quadLoad, storeQuad, tileM, tileN } from './gemm-tile.ts';
import { bindingDecl, broadcastStrides, f, floatElem, keyOf, offsetExpr, preamble, u, unroll4 } from './kernel-util.ts';
import { matmulShapes } from '../../shared/matmul-shapes.ts';

const numElements = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

interface Operand {
  readonly t: StaticTensor;
  /** WGSL u32 expression of the batch z's first element. */
  readonly base: string;
  /** Stored transposed relative to the GEMM's view ([K, M] for A, [N, K] for B). */
  readonly trans: boolean;
}

interface Epilogue {
  readonly alpha: number;
  readonly beta: number;
  /** C and its strides over [M, N] (0 where broadcast). */
  readonly c?: { t: StaticTensor; sm: number; sn: number };
}

/** One tiled-GEMM kernel: Y[z] = alpha·op(A[z])·op(B[z]) + beta·C. */
function gemmKernel(ctx: LowerContext, what: string, s: Omit<GemmShape, 'aAlong' | 'bAlong'>, a: Operand, b: Operand, y: StaticTensor, ep: Epilogue, epi?: StoreEpilogue): Kernel {
  const { M, N, K } = s;
  const shape: GemmShape = { ...s, aAlong: a.trans ? 'm' : 'k', bAlong: b.trans ? 'k' : 'n' };
  const T = gemmTile(ctx.caps, M, N);
  // Sizes that are multiples of the tile need no bounds checks in the loaders.
  const fitM = M % tileM(T) === 0;
  const fitN = N % tileN(T) === 0;
  const fitK = K % T.tk === 0;
  // vec4 reads where the contiguous dim is a multiple of 4 (every quad then starts aligned, and
  // batch bases are multiples of the matrix size, hence of 4).
  const aLen = a.trans ? M : K;
  const bLen = b.trans ? K : N;
  const aVec = aLen % 4 === 0;
  const bVec = bLen % 4 === 0;
  const yVec = N % 4 === 0;
  const out = epi?.result ?? y;
  const elem = floatElem(ctx, out);
  const bindings: KernelBinding[] = [
    { value: a.t.name, access: 'read', elem: floatElem(ctx, a.t) },
    { value: b.t.name, access: 'read', elem: floatElem(ctx, b.t) },
    ...(ep.c ? [{ value: ep.c.t.name, access: 'read' as const, elem: floatElem(ctx, ep.c.t) }] : []),
    ...(epi?.bindings ?? []),
    { value: out.name, access: 'read_write', elem },
  ];
  const yIdx = bindings.length - 1;
  let r = ep.alpha === 1 ? 'v' : `v * ${f(ep.alpha)}`;
  let cRead = '';
  if (ep.c) {
    const { sm, sn } = ep.c;
    cRead = `var c = vec4<f32>(0.0);
  ${unroll4((l, j) => `if (n + ${j}u < ${u(N)}) { c.${l} = f32(cm[m * ${u(sm)} + (n + ${j}u) * ${u(sn)}]); }`)}`;
    r = `${r} + ${ep.beta === 1 ? 'c' : `c * ${f(ep.beta)}`}`;
  }
  const store = storeQuad(elem, yVec, 'n', N, epi);
  const code = `${preamble(bindings)}
${bindingDecl(0, 'a', bindings[0]!, aVec)}
${bindingDecl(1, 'b', bindings[1]!, bVec)}
${ep.c ? bindingDecl(2, 'cm', bindings[2]!) : ''}
${epi ? epi.code(ep.c ? 3 : 2) : ''}
${bindingDecl(yIdx, 'y', bindings[yIdx]!, yVec)}

fn loadA(z: u32, m: u32, k: u32) -> vec4<f32> {
  ${a.trans ? quadLoad('a', a.base, 'k', 'm', K, M, aVec, !fitM || !fitK) : quadLoad('a', a.base, 'm', 'k', M, K, aVec, !fitM || !fitK)}
}
fn loadB(z: u32, k: u32, n: u32) -> vec4<f32> {
  ${b.trans ? quadLoad('b', b.base, 'n', 'k', N, K, bVec, !fitN || !fitK) : quadLoad('b', b.base, 'k', 'n', K, N, bVec, !fitN || !fitK)}
}
fn storeC(z: u32, m: u32, n: u32, v: vec4<f32>) {
  let o = z * ${u(M * N)} + m * ${u(N)} + n;
  ${cRead}
  let r = ${r};
  ${store}
}
${gemmMain(shape, T)}`;
  return {
    name: ctx.kernelName(what),
    node: ctx.node.name,
    op: ctx.node.op,
    key: keyOf('gemm', shape, [T.wx, T.wy, T.r, T.cv, T.tk], bindings.map((x) => x.elem), a.base, b.base, ep.alpha, ep.beta, ep.c && [ep.c.sm, ep.c.sn], epi?.key),
    code,
    bindings,
    uniforms: [],
    dispatch: gemmDispatch(shape, T),
  };
}

/** MatMul's kernel, with an optional epilogue (../fuse-epilogue.ts). */
export function lowerMatMul(ctx: LowerContext, epi?: StoreEpilogue): Kernel[] {
  const a = ctx.input(0)!;
  const b = ctx.input(1)!;
  const y = ctx.output(0)!;
  if (a.dtype !== b.dtype) ctx.unsupported(`operands are ${a.dtype} and ${b.dtype}`);
  const { M, K, N, aBatch, bBatch } = matmulShapes(a, b);
  if (numElements(y.shape) === 0) return [];
  // One B for every batch of A (a layer's weight): A's batches are consecutive rows, so they fold
  // into one tall GEMM and the tiles fill up.
  if (numElements(bBatch) === 1) {
    const s = { M: numElements(aBatch) * M, N, K, batches: 1 };
    return [gemmKernel(ctx, 'matmul', s, { t: a, base: '0u', trans: false }, { t: b, base: '0u', trans: false }, y, { alpha: 1, beta: 0 }, epi)];
  }
  const batch = y.shape.slice(0, y.shape.length - (a.shape.length === 1 ? 0 : 1) - (b.shape.length === 1 ? 0 : 1));
  const base = (own: readonly number[], size: number) => {
    const e = offsetExpr('z', batch, broadcastStrides(own, batch));
    return e === '0u' ? e : `(${e}) * ${u(size)}`;
  };
  const s = { M, N, K, batches: numElements(batch) };
  if (s.batches > ctx.caps.maxComputeWorkgroupsPerDimension) ctx.unsupported(`${s.batches} batches exceed the dispatch limit`);
  return [gemmKernel(ctx, 'matmul', s, { t: a, base: base(aBatch, M * K), trans: false }, { t: b, base: base(bBatch, K * N), trans: false }, y, { alpha: 1, beta: 0 }, epi)];
}

/** Gemm's kernel, with an optional epilogue (../fuse-epilogue.ts). */
export function lowerGemm(ctx: LowerContext, epi?: StoreEpilogue): Kernel[] {
  const a = ctx.input(0)!;
  const b = ctx.input(1)!;
  const c = ctx.input(2);
  const y = ctx.output(0)!;
  const transA = ctx.int('transA', 0) !== 0;
  const transB = ctx.int('transB', 0) !== 0;
  const [M, K] = (transA ? [a.shape[1]!, a.shape[0]!] : a.shape) as [number, number];
  const N = transB ? b.shape[0]! : b.shape[1]!;
  const beta = ctx.float('beta', 1);
  let ep: Epilogue = { alpha: ctx.float('alpha', 1), beta };
  if (c && beta !== 0) {
    const [sm, sn] = broadcastStrides(c.shape, [M, N]) as [number, number];
    ep = { ...ep, c: { t: c, sm, sn } };
  }
  if (M * N === 0) return [];
  return [gemmKernel(ctx, 'gemm', { M, N, K, batches: 1 }, { t: a, base: '0u', trans: transA }, { t: b, base: '0u', trans: transB }, y, ep, epi)];
}

defineOnnxWgsl(['MatMul'], (ctx) => lowerMatMul(ctx));
defineOnnxWgsl(['Gemm'], (ctx) => lowerGemm(ctx));
