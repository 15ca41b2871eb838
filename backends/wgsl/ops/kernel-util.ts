// Small helpers shared by the linear-algebra, conv, pool and attention kernels. Shapes are static
// after specialization, so sizes are baked into the WGSL as constants (the kernel key includes
// them): the shader compiler folds the index arithmetic, and no uniform layout is needed.
import type { DType } from '../../../ir/dtype.ts';
import type { KernelBinding } from '../kernel.ts';
import { storageElem, wgslElem } from '../kernel.ts';
import type { LowerContext, StaticTensor } from '../lowering.ts';
export { broadcastStrides, stridesOf } from '../index-helper.ts';
import { stridesOf } from '../index-helper.ts';

/** A u32 literal. */
export const u = (n: number): string => `${n >>> 0}u`;

/** An f32 literal that WGSL accepts for any finite JS number (always has a '.' or an exponent). */
export function f(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`f32 literal must be finite, got ${n}`);
  const s = String(Math.fround(n));
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/**
 * The storage element of a float tensor as the runtime keeps it (storageElem: f16 as f16 where the
 * device has shader-f16, else f16 and bf16 as f32). The kernels compute in f32 either way.
 */
export function floatElem(ctx: LowerContext, t: StaticTensor): 'f32' | 'f16' {
  const e = storageElem(t.dtype, ctx.caps.f16);
  if (e === 'f32' || e === 'f16') return e;
  return ctx.unsupported(`${t.name} is ${t.dtype}; the WGSL kernel takes float tensors`);
}

/** The element type of any tensor the kernels read (masks: bool is stored as i32). */
export function anyElem(ctx: LowerContext, dtype: DType, what: string): KernelBinding['elem'] {
  return wgslElem(dtype, ctx.caps.f16) ?? ctx.unsupported(`${what} is ${dtype}, which the WGSL backend cannot store`);
}

/** `enable f16;` when any binding is f16 (WGSL requires it before any f16 use). */
export function preamble(bindings: readonly KernelBinding[]): string {
  return bindings.some((b) => b.elem === 'f16') ? 'enable f16;\n' : '';
}

/** The declaration of binding i, as `array<T>` or (vec4-aligned reads) `array<vec4<T>>`. */
export function bindingDecl(i: number, name: string, b: KernelBinding, vec4 = false): string {
  const t = vec4 ? `vec4<${b.elem}>` : b.elem;
  return `@group(0) @binding(${i}) var<storage, ${b.access}> ${name}: array<${t}>;`;
}

/**
 * A 1-D grid over `total` items in workgroups of `wg`, folded into (x, y) when it passes the
 * per-dimension limit. The shader recovers the flat index with `flatIndex(wg, dispatch)`.
 */
export function grid1d(total: number, wg: number, maxPerDim: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(total / wg));
  if (groups <= maxPerDim) return [groups, 1, 1];
  const x = maxPerDim;
  return [x, Math.ceil(groups / x), 1];
}

/** WGSL expression of the flat item index for a grid from `grid1d` (gid = global_invocation_id). */
export function flatIndex(wg: number, dispatch: readonly number[]): string {
  return dispatch[1] === 1 ? 'gid.x' : `(gid.x + gid.y * ${u(dispatch[0]! * wg)})`;
}

/**
 * WGSL expression for the offset of flat index `idx` (over `shape`, row-major) into a tensor with
 * `strides` (e.g. broadcast strides): Σ ((idx / inner_d) % size_d) · stride_d, axes with
 * stride 0 or size 1 skipped, so a plain contiguous read stays `idx`.
 */
export function offsetExpr(idx: string, shape: readonly number[], strides: readonly number[]): string {
  const inner = stridesOf(shape);
  const same = strides.every((s, d) => shape[d] === 1 || s === inner[d]);
  if (same) return idx;
  const terms: string[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (strides[d] === 0 || shape[d] === 1) continue;
    let t = inner[d] === 1 ? idx : `(${idx} / ${u(inner[d]!)})`;
    if (d > 0) t = `(${t} % ${u(shape[d]!)})`;
    terms.push(strides[d] === 1 ? t : `${t} * ${u(strides[d]!)}`);
  }
  return terms.length ? terms.join(' + ') : '0u';
}

/** A stable key from the parts a kernel's text depends on. */
export const keyOf = (...parts: unknown[]): string => JSON.stringify(parts);

/**
 * Four statements, one per vec4 lane, with constant lane names (`.x` … `.w`) and offsets: a
 * dynamically indexed vector becomes a stack slot in lavapipe's JIT (and on GPUs), much slower
 * to compile and to run.
 */
export function unroll4(stmt: (lane: string, j: number) => string, sep = '\n  '): string {
  return ['x', 'y', 'z', 'w'].map((c, j) => stmt(c, j)).join(sep);
}
