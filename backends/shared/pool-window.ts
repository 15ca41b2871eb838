// The geometry of a windowed pool (MaxPool, AveragePool, LpPool), read from the node's attributes
// and shapes the same way for the WGSL and CUDA lowerings, which then differ only in the kernel
// text they write from it.
import type { CoreContext, StaticTensor } from '../lower-core.ts';
import type { EvalContext } from '../../ir/interp/registry.ts';
import type { Window } from '../../ir/interp/ops/window.ts';
import { windowGeometry } from '../../ir/interp/ops/window.ts';
import { numElements, stridesOf } from '../../ir/types.ts';

export interface PoolWindowPlan {
  readonly x: StaticTensor;
  readonly y: StaticTensor;
  /** MaxPool's optional Indices result. */
  readonly idx: StaticTensor | undefined;
  /** The input's spatial dims, and their count. */
  readonly inSp: readonly number[];
  readonly r: number;
  /** kernel_shape. */
  readonly kernel: readonly number[];
  readonly win: Window;
  readonly includePad: boolean;
  /** Indices in column-major order over the spatial dims (storage_order 1). */
  readonly colMajor: boolean;
  /** Output elements; the lowering emits nothing for 0. */
  readonly total: number;
  /** Elements of one output plane and of one input plane. */
  readonly P: number;
  readonly inPlane: number;
  /** Row-major strides of the output and input planes; `cStr`, the column-major ones of the input's. */
  readonly oStr: readonly number[];
  readonly iStr: readonly number[];
  readonly cStr: readonly number[];
}

export function poolWindowPlan(ctx: CoreContext<unknown>, withIndices: boolean): PoolWindowPlan {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  const idx = withIndices ? ctx.output(1) : undefined;
  const inSp = x.shape.slice(2);
  const kernel = [...ctx.ints('kernel_shape')];
  const win = windowGeometry(ctx as unknown as EvalContext /* it reads only attributes */, inSp, kernel, ctx.int('ceil_mode', 0) === 1);
  return {
    x,
    y,
    idx,
    inSp,
    r: inSp.length,
    kernel,
    win,
    includePad: ctx.int('count_include_pad', 0) === 1,
    colMajor: ctx.int('storage_order', 0) === 1,
    total: numElements(y.shape),
    P: numElements(win.out),
    inPlane: numElements(inSp),
    oStr: stridesOf(win.out),
    iStr: stridesOf(inSp),
    cStr: inSp.map((_, d) => numElements(inSp.slice(0, d))),
  };
}
