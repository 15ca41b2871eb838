// The host-side plan of TopK shared by the WGSL and CUDA lowerings (backends/*/ops/topk.ts): the
// axis, the line length n and k, checked against the attribute or constant k operand, and the
// line geometry both rank kernels index with. No kernel text here.
import { fromConst, toNumbers } from '../../ir/interp/tensor.ts';
import { numElements } from '../../ir/types.ts';
import type { CoreContext, StaticTensor } from '../lower-core.ts';

export interface TopKPlan {
  axis: number;
  /** Elements per line (X's length along the axis). */
  n: number;
  /** The result's static length along the axis. */
  k: number;
  largest: boolean;
  /** Elements after the axis (the line's stride). */
  inner: number;
  /** X's elements: one thread each. */
  total: number;
  /** Nothing to compute: no elements, k = 0, or neither result used. */
  empty: boolean;
}

export function topKPlan(ctx: CoreContext<unknown>, x: StaticTensor, yv: StaticTensor | undefined, yi: StaticTensor | undefined): TopKPlan {
  const r = x.shape.length;
  if (r === 0) return ctx.unsupported('TopK needs rank ≥ 1');
  const a = ctx.int('axis', -1);
  const axis = a < 0 ? a + r : a;
  const n = x.shape[axis]!;
  const out = (yv ?? yi)!;
  // k is the result's static size along the axis (the model is specialized, so it is known when
  // compiling); a k given as attribute (opset < 10) or constant operand must agree with it.
  const k = out.shape[axis]!;
  const given = ctx.opset < 10 ? ctx.int('k') : ctx.constant(1) ? toNumbers(fromConst(ctx.constant(1)!))[0] : undefined;
  if (given !== undefined && given !== k) return ctx.unsupported(`k = ${given} but the result has ${k} elements along axis ${axis}`);
  if (k > n) return ctx.unsupported(`k = ${k} exceeds the ${n} elements along axis ${axis}`);
  const largest = ctx.int('largest', 1) !== 0;
  const inner = numElements(x.shape.slice(axis + 1));
  const total = numElements(x.shape);
  return { axis, n, k, largest, inner, total, empty: total === 0 || k === 0 || (!yv && !yi) };
}
