// Convolution and pooling over NC(spatial...) tensors: Conv, ConvTranspose, ConvInteger, the
// windowed pools, MaxUnpool and the global pools. QLinearConv (quant.ts) reuses convShape.
import type { DType } from '../dtype.ts';
import { FLOATS } from '../dtype.ts';
import type { AttrSpec, InferContext } from '../op.ts';
import { between, exactly } from '../op.ts';
import type { Dim, Shape } from '../types.ts';
import { tensor } from '../types.ts';
import { attr, expectDType, onnxOp, sameDType } from './util.ts';
import { dimMap, expectRank, fmt, spatialParams, unifyDim, windowOutputs } from './nn-util.ts';

export const convAttrs: Record<string, AttrSpec> = {
  auto_pad: attr.string, dilations: attr.ints, group: attr.int, kernel_shape: attr.ints, pads: attr.ints, strides: attr.ints,
};

/** Whether the kernel size is known, from kernel_shape or the weights' spatial dims. */
function kernelKnown(ctx: InferContext, w: readonly Dim[]): boolean {
  return ctx.attr('kernel_shape') !== undefined || w.slice(2).every((d) => typeof d === 'number');
}

/** Output shape of a (grouped) convolution of x [N, C, ...] with w [M, C/group, k...]. */
export function convShape(ctx: InferContext, x: Shape, w: Shape): Shape {
  const rank = x?.length ?? w?.length;
  if (rank === undefined) return null;
  if (rank < 3) ctx.fail(`convolution input must have rank ≥ 3 (N, C, spatial...), got ${fmt(x ?? w)}`);
  if (x && w && x.length !== w.length) ctx.fail(`input ${fmt(x)} and weights ${fmt(w)} differ in rank`);
  const xs = x ?? Array<Dim>(rank).fill(null);
  const ws = w ?? Array<Dim>(rank).fill(null);
  const group = ctx.int('group', 1);
  if (group < 1) ctx.fail(`group must be ≥ 1, got ${group}`);
  unifyDim(ctx, xs[1]!, dimMap(ws[1]!, (c) => c * group), `input channels ${fmt(xs)} and weight channels × group ${group} (${fmt(ws)})`);
  const m = ws[0]!;
  if (typeof m === 'number' && m % group !== 0) ctx.fail(`output channels ${m} are not divisible by group ${group}`);
  if (!kernelKnown(ctx, ws)) return [xs[0]!, m, ...Array<Dim>(rank - 2).fill(null)];
  const p = spatialParams(ctx, rank - 2, ws.slice(2));
  return [xs[0]!, m, ...windowOutputs(ctx, p, xs.slice(2))];
}

onnxOp('Conv', between(2, 3), exactly(1), convAttrs, (ctx) => {
  expectDType(ctx, 0, FLOATS);
  const dtype = sameDType(ctx, [0, 1, 2]);
  const out = convShape(ctx, ctx.tensor(0).shape, ctx.tensor(1).shape);
  if (ctx.has(2)) {
    const b = ctx.tensor(2);
    expectRank(ctx, b, 'bias', 1);
    if (b.shape && out) unifyDim(ctx, b.shape[0]!, out[1]!, 'bias length and output channels');
  }
  return [tensor(dtype, out)];
});

onnxOp('ConvInteger', between(2, 4), exactly(1), convAttrs, (ctx) => {
  const x = expectDType(ctx, 0, ['i8', 'u8']);
  const w = expectDType(ctx, 1, ['i8', 'u8']);
  if (ctx.has(2) && ctx.tensor(2).dtype !== x.dtype) ctx.fail(`x_zero_point must be ${x.dtype}`);
  if (ctx.has(3) && ctx.tensor(3).dtype !== w.dtype) ctx.fail(`w_zero_point must be ${w.dtype}`);
  return [tensor('i32', convShape(ctx, x.shape, w.shape))];
});

// ConvTranspose: w is [C, M/group, k...]; each spatial output is
// stride·(in−1) + output_padding + dilated kernel − pads, unless output_shape or SAME fixes it.
const convTransposeAttrs = { ...convAttrs, output_padding: attr.ints, output_shape: attr.ints };
onnxOp('ConvTranspose', between(2, 3), exactly(1), convTransposeAttrs, (ctx) => {
  expectDType(ctx, 0, FLOATS);
  const dtype = sameDType(ctx, [0, 1, 2]);
  const x = ctx.tensor(0).shape;
  const w = ctx.tensor(1).shape;
  const rank = x?.length ?? w?.length;
  if (rank === undefined) return [tensor(dtype, null)];
  if (rank < 3) ctx.fail(`input must have rank ≥ 3 (N, C, spatial...), got ${fmt(x ?? w)}`);
  if (x && w && x.length !== w.length) ctx.fail(`input ${fmt(x)} and weights ${fmt(w)} differ in rank`);
  const xs = x ?? Array<Dim>(rank).fill(null);
  const ws = w ?? Array<Dim>(rank).fill(null);
  const group = ctx.int('group', 1);
  unifyDim(ctx, xs[1]!, ws[0]!, `input channels ${fmt(xs)} and weight channels ${fmt(ws)}`);
  const n = rank - 2;
  const channels = dimMap(ws[1]!, (c) => c * group);
  const given = ctx.attr('output_shape') ? ctx.ints('output_shape') : undefined;
  if (given && given.length !== n && given.length !== rank) ctx.fail(`output_shape has ${given.length} values; ${n} expected`);
  if (!kernelKnown(ctx, ws)) {
    const spatial = given ? given.slice(given.length - n) : Array<Dim>(n).fill(null);
    return [tensor(dtype, [xs[0]!, channels, ...spatial])];
  }
  const p = spatialParams(ctx, n, ws.slice(2));
  const outPad = ctx.ints('output_padding', Array<number>(n).fill(0));
  if (outPad.length !== n) ctx.fail(`output_padding has ${outPad.length} values; ${n} expected`);
  const spatial = xs.slice(2).map((d, i): Dim => {
    if (given) return given[given.length - n + i]!;
    const s = p.strides[i]!;
    if (p.autoPad === 'SAME_UPPER' || p.autoPad === 'SAME_LOWER') return s === 1 ? d : dimMap(d, (v) => v * s);
    const pads = p.autoPad === 'VALID' ? 0 : p.pads[i]! + p.pads[i + n]!;
    const grow = outPad[i]! + (p.kernel[i]! - 1) * p.dilations[i]! + 1 - pads;
    if (typeof d !== 'number') return s === 1 && grow === 1 ? d : null;
    const o = s * (d - 1) + grow;
    if (o < 1) ctx.fail(`spatial axis ${i}: output size ${o} is not positive`);
    return o;
  });
  const out = [xs[0]!, channels, ...spatial];
  if (ctx.has(2)) {
    const b = ctx.tensor(2);
    expectRank(ctx, b, 'bias', 1);
    if (b.shape) unifyDim(ctx, b.shape[0]!, out[1]!, 'bias length and output channels');
  }
  return [tensor(dtype, out)];
});

const poolAttrs: Record<string, AttrSpec> = {
  auto_pad: attr.string,
  ceil_mode: attr.int,
  dilations: attr.ints,
  kernel_shape: { kind: 'ints', required: true },
  pads: attr.ints,
  strides: attr.ints,
};

/** Output shape of a windowed pool over x [N, C, spatial...]. */
function poolShape(ctx: InferContext, x: Shape): Shape {
  const n = ctx.ints('kernel_shape').length;
  if (x === null) return [null, null, ...Array<Dim>(n).fill(null)];
  if (x.length !== n + 2) ctx.fail(`input ${fmt(x)} must have rank ${n + 2} for a ${n}-D kernel`);
  const p = spatialParams(ctx, n);
  return [x[0]!, x[1]!, ...windowOutputs(ctx, p, x.slice(2), ctx.int('ceil_mode', 0) !== 0)];
}

function poolOp(name: string, allowed: readonly DType[], extra: Record<string, AttrSpec>, outputs = 1): void {
  onnxOp(name, exactly(1), between(1, outputs), { ...poolAttrs, ...extra }, (ctx) => {
    const x = expectDType(ctx, 0, allowed);
    const shape = poolShape(ctx, x.shape);
    return outputs === 2 ? [tensor(x.dtype, shape), tensor('i64', shape)] : [tensor(x.dtype, shape)];
  });
}
poolOp('AveragePool', FLOATS, { count_include_pad: attr.int });
poolOp('MaxPool', [...FLOATS, 'i8', 'u8'], { storage_order: attr.int }, 2);
// LpPool's p was a float in opset 1 and an int from opset 2; the registry holds one kind (int).
poolOp('LpPool', FLOATS, { p: attr.int });

// MaxUnpool: inverts MaxPool; the optional output_shape input overrides the computed size.
onnxOp('MaxUnpool', between(2, 3), exactly(1), { kernel_shape: { kind: 'ints', required: true }, pads: attr.ints, strides: attr.ints }, (ctx) => {
  const x = expectDType(ctx, 0, FLOATS);
  expectDType(ctx, 1, ['i64']);
  const n = ctx.ints('kernel_shape').length;
  if (ctx.has(2)) {
    expectDType(ctx, 2, ['i64']);
    const v = ctx.values(2);
    if (v) {
      if (v.length !== n + 2) ctx.fail(`output_shape has ${v.length} values; ${n + 2} expected`);
      return [tensor(x.dtype, v)];
    }
    return [tensor(x.dtype, Array<Dim>(n + 2).fill(null))];
  }
  if (x.shape === null) return [tensor(x.dtype, [null, null, ...Array<Dim>(n).fill(null)])];
  if (x.shape.length !== n + 2) ctx.fail(`input ${fmt(x.shape)} must have rank ${n + 2} for a ${n}-D kernel`);
  const p = spatialParams(ctx, n);
  const spatial = x.shape.slice(2).map((d, i) =>
    dimMap(d, (v) => (v - 1) * p.strides[i]! + p.kernel[i]! - p.pads[i]! - p.pads[i + n]!),
  );
  return [tensor(x.dtype, [x.shape[0]!, x.shape[1]!, ...spatial])];
});

// Global pools: every spatial axis becomes 1. GlobalLpPool's p was a float in opset 1 (see LpPool).
for (const [name, attrs] of [
  ['GlobalAveragePool', {}],
  ['GlobalMaxPool', {}],
  ['GlobalLpPool', { p: attr.int }],
] as const) {
  onnxOp(name, exactly(1), exactly(1), attrs, (ctx) => {
    const x = expectDType(ctx, 0, FLOATS);
    if (x.shape === null) return [x];
    expectRank(ctx, x, 'input', 3, Infinity);
    return [tensor(x.dtype, x.shape.map((d, i) => (i < 2 ? d : 1)))];
  });
}
