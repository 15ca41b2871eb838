// Host-side geometry of LRN, MaxUnpool and ReverseSequence, shared by the WGSL lowerings
// (backends/wgsl/ops/misc.ts) and the CUDA ones (backends/cuda/ops/misc.ts, extra.ts): attribute
// reading, checks and the sizes each kernel bakes in. Nothing here writes kernel text, so both
// backends accept the same nodes and compute the same windows and index maps.
import { numElements, stridesOf } from '../../ir/types.ts';
import type { CoreContext, StaticTensor } from '../lower-core.ts';

/** LRN over channels [c − lo, c + hi] clipped to [0, C), P the elements per channel. */
export interface LrnParams {
  size: number;
  alpha: number;
  beta: number;
  bias: number;
  C: number;
  P: number;
  lo: number;
  hi: number;
}

export function lrnParams(ctx: CoreContext<unknown>, x: StaticTensor): LrnParams {
  const size = ctx.int('size');
  return {
    size,
    alpha: ctx.float('alpha', 1e-4),
    beta: ctx.float('beta', 0.75),
    bias: ctx.float('bias', 1),
    C: x.shape[1]!,
    P: numElements(x.shape.slice(2)),
    lo: Math.floor((size - 1) / 2),
    hi: Math.ceil((size - 1) / 2),
  };
}

/**
 * MaxUnpool: `inferred` is the default result shape ((in − 1)·stride + kernel − pads per spatial
 * dim) that the indices address (`nInf` elements); `same` where the result (Y's static shape,
 * output_shape when given) is that shape, so no remapping is needed.
 */
export function maxUnpoolGeometry(ctx: CoreContext<unknown>, x: StaticTensor, y: StaticTensor): { inferred: number[]; nInf: number; same: boolean } {
  const r = x.shape.length - 2;
  if (r < 1) return ctx.unsupported('MaxUnpool needs rank ≥ 3');
  const kernel = ctx.ints('kernel_shape');
  const strides = ctx.ints('strides', new Array(r).fill(1));
  const pads = ctx.ints('pads', new Array(2 * r).fill(0));
  const inferred = [...x.shape.slice(0, 2), ...x.shape.slice(2).map((d, i) => (d - 1) * strides[i]! + kernel[i]! - pads[i]! - pads[i + r]!)];
  const shape = y.shape;
  if (shape.length !== inferred.length) return ctx.unsupported(`output_shape has rank ${shape.length}, X rank ${x.shape.length}`);
  return { inferred, nInf: numElements(inferred), same: shape.every((d, i) => d === inferred[i]) };
}

/** ReverseSequence: the time and batch axes' lengths (T, B) and strides (ts, bs) in X. */
export function reverseSequenceGeometry(ctx: CoreContext<unknown>, x: StaticTensor): { T: number; B: number; ts: number; bs: number } {
  const batchAxis = ctx.int('batch_axis', 1);
  const timeAxis = ctx.int('time_axis', 0);
  const r = x.shape.length;
  if (r < 2 || batchAxis === timeAxis || ![0, 1].includes(batchAxis) || ![0, 1].includes(timeAxis)) {
    return ctx.unsupported(`batch_axis ${batchAxis}, time_axis ${timeAxis} on rank ${r}`);
  }
  const xs = stridesOf(x.shape);
  return { T: x.shape[timeAxis]!, B: x.shape[batchAxis]!, ts: xs[timeAxis]!, bs: xs[batchAxis]! };
}
