// The host-side geometry of DFT shared by the WGSL and CUDA lowerings (backends/*/ops/signal.ts):
// the signal axis (attribute before opset 20, constant operand after), its length and bin count,
// and the outer / inner extents around it, with the same checks in both backends. No kernel text.
import { fromConst, toNumbers } from '../../ir/interp/tensor.ts';
import { numElements } from '../../ir/types.ts';
import type { CoreContext, StaticTensor } from '../lower-core.ts';

export interface DftGeometry {
  /** X's last dim: 1 for a real signal, 2 for complex. */
  cw: number;
  axis: number;
  inverse: boolean;
  /** X's length along the axis, and the result's bins there. */
  len: number;
  bins: number;
  /** Elements before the axis, and between it and the complex dim. */
  outer: number;
  inner: number;
}

/** `backend` names the backend in the message for a computed axis operand ('CUDA', 'WGSL'). */
export function dftGeometry(ctx: CoreContext<unknown>, x: StaticTensor, y: StaticTensor, backend: string): DftGeometry {
  const r = x.shape.length;
  const cw = x.shape[r - 1]!;
  if (cw !== 1 && cw !== 2) return ctx.unsupported(`the last dim must be 1 (real) or 2 (complex), got [${x.shape.join(', ')}]`);
  let axis: number;
  if (ctx.opset < 20) axis = ctx.int('axis', 1);
  else if (!ctx.node.inputs[2]) axis = -2;
  else {
    const c = ctx.constant(2);
    if (!c) return ctx.unsupported(`DFT's axis operand must be a constant for the ${backend} backend`);
    axis = toNumbers(fromConst(c))[0]!;
  }
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r - 2) return ctx.unsupported(`axis is outside the signal dims of [${x.shape.join(', ')}]`);
  const inverse = ctx.int('inverse', 0) !== 0;
  const len = x.shape[axis]!;
  const bins = y.shape[axis]!;
  if (y.shape[r - 1] !== 2) return ctx.unsupported(`a DFT result of [${y.shape.join(', ')}] (the kernel writes complex bins)`);
  const outer = numElements(x.shape.slice(0, axis));
  const inner = numElements(x.shape.slice(axis + 1, r - 1));
  return { cw, axis, inverse, len, bins, outer, inner };
}
