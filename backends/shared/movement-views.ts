// The strided views behind Transpose, Slice and DepthToSpace / SpaceToDepth, computed from the
// node's attributes and static shapes alike for the WGSL and CUDA lowerings (each then writes its
// own copy kernel over the view).
import type { AttrReader } from '../../ir/attr-reader.ts';
import { stridesOf } from '../../ir/types.ts';

/** Transpose's `perm`: reversed dims when absent. */
export function transposePerm(ctx: AttrReader, r: number): number[] {
  return ctx.attr('perm') ? [...ctx.ints('perm')] : Array.from({ length: r }, (_, i) => r - 1 - i);
}

/** Slice's starts, axes and steps (`ends` only sets the result's length, which its static shape gives). */
export interface SliceParams {
  readonly starts: readonly number[];
  readonly axes: readonly number[] | undefined;
  readonly steps: readonly number[] | undefined;
}

/**
 * Before opset 10 the attributes, from 10 the constant operands 1, 3 and 4, read through the
 * backend's `constInts` (which reports a non-constant operand in its own words).
 */
export function sliceParams<C extends AttrReader & { readonly opset: number }>(ctx: C, constInts: (ctx: C, i: number, what: string) => number[] | undefined): SliceParams {
  if (ctx.opset < 10) return { starts: [...ctx.ints('starts')], axes: ctx.attr('axes') ? [...ctx.ints('axes')] : undefined, steps: undefined };
  return { starts: constInts(ctx, 1, 'starts')!, axes: constInts(ctx, 3, 'axes'), steps: constInts(ctx, 4, 'steps') };
}

/** The sliced axes, each paired with its index in starts/steps. */
export function sliceAxes(p: SliceParams): readonly number[] {
  return p.axes ?? p.starts.map((_, i) => i);
}

/** The view of `shape` a Slice reads: per-dim strides (step × stride) and the base offset of its first element. */
export function sliceView(shape: readonly number[], p: SliceParams): { strides: number[]; base: number } {
  const r = shape.length;
  const xs = stridesOf(shape);
  const strides = [...xs];
  let base = 0;
  sliceAxes(p).forEach((a0, i) => {
    const a = a0 < 0 ? a0 + r : a0;
    const dim = shape[a]!;
    const st = p.steps?.[i] ?? 1;
    let s = p.starts[i]!;
    if (s < 0) s += dim;
    // The interpreter's clamping: [0, dim] forward, [0, dim − 1] backward.
    s = st > 0 ? Math.min(Math.max(s, 0), dim) : Math.min(Math.max(s, 0), dim - 1);
    // An empty result reads nothing; its base may then lie past the end, harmlessly.
    base += s * xs[a]!;
    strides[a] = st * xs[a]!;
  });
  return { strides, base };
}

/**
 * The 6-D index space DepthToSpace (both modes: [N, C/b², H, b, W, b]) and SpaceToDepth
 * ([N, b, b, C, H/b, W/b]) copy over; either is the result's row-major order.
 */
export function depthSpace(x: readonly number[], b: number, s2d: boolean): number[] {
  const [N, C, H, W] = x as [number, number, number, number];
  return s2d ? [N, b, b, C, H / b, W / b] : [N, C / (b * b), H, b, W, b];
}

/** DepthToSpace / SpaceToDepth: a reshape of NCHW `x` to 6-D and a transpose, i.e. one strided view. */
export function depthView(x: readonly number[], b: number, kind: 'DCR' | 'CRD' | 'S2D'): number[] {
  const [N, C, H, W] = x as [number, number, number, number];
  let shape6: number[], perm: number[];
  if (kind === 'DCR') [shape6, perm] = [[N, b, b, C / (b * b), H, W], [0, 3, 4, 1, 5, 2]];
  else if (kind === 'CRD') [shape6, perm] = [[N, C / (b * b), b, b, H, W], [0, 1, 4, 2, 5, 3]];
  else [shape6, perm] = [[N, C, H / b, b, W / b, b], [0, 3, 5, 1, 2, 4]];
  const s6 = stridesOf(shape6);
  return perm.map((p) => s6[p]!);
}
