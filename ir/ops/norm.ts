// Normalization ops: LayerNormalization, BatchNormalization, InstanceNormalization,
// GroupNormalization, LRN, MeanVarianceNormalization. Each keeps X's shape for Y.
import { FLOATS } from '../dtype.ts';
import type { InferContext } from '../op.ts';
import { between, exactly } from '../op.ts';
import type { Dim, TensorType } from '../types.ts';
import { tensor } from '../types.ts';
import { attr, expectDType, normalizeAxis, onnxOp, sameDType } from './util.ts';
import { dtypeAttr, expectRank, expectUnidirectional, fmt, unifyDim } from './nn-util.ts';

/** Check that operand i is a 1-D per-channel vector of length `c`. */
function perChannel(ctx: InferContext, i: number, c: Dim, what: string): void {
  if (!ctx.has(i)) return;
  const t = ctx.tensor(i);
  expectRank(ctx, t, what, 1);
  if (t.shape) unifyDim(ctx, t.shape[0]!, c, `${what} length ${fmt(t.shape)} and channels`);
}

const channels = (x: TensorType): Dim => (x.shape && x.shape.length > 1 ? x.shape[1]! : null);

// LayerNormalization (opset 17): normalizes over axes [axis, rank); Mean and InvStdDev keep the
// leading axes and have 1s after, in the stash_type precision.
const lnAttrs = { axis: attr.int, epsilon: attr.float, stash_type: attr.int };
onnxOp('LayerNormalization', between(2, 3), between(1, 3), lnAttrs, (ctx) => {
  const x = expectDType(ctx, 0, FLOATS);
  sameDType(ctx, [0, 1, 2]);
  const stash = dtypeAttr(ctx, 'stash_type', 'f32');
  if (!FLOATS.includes(stash)) ctx.fail(`stash_type must be a float type, got ${stash}`);
  if (x.shape === null) return [x, tensor(stash, null), tensor(stash, null)];
  const r = x.shape.length;
  const axis = normalizeAxis(ctx, ctx.int('axis', -1), r);
  const normalized = x.shape.slice(axis);
  expectUnidirectional(ctx, normalized, ctx.tensor(1).shape, 'Scale');
  if (ctx.has(2)) expectUnidirectional(ctx, normalized, ctx.tensor(2).shape, 'B');
  const stats = x.shape.map((d, i) => (i < axis ? d : 1));
  return [x, tensor(stash, stats), tensor(stash, stats)];
});

// BatchNormalization's results changed across opsets: up to 13 it had Y plus optional mean,
// var, saved_mean, saved_var (all [C]); from 14 it has Y plus, in training mode only, the
// running mean and var. `spatial=0` (before opset 9) gives per-element statistics.
const bnAttrs = {
  epsilon: attr.float, momentum: attr.float, training_mode: attr.int,
  spatial: attr.int, is_test: attr.int, consumed_inputs: attr.ints,
};
onnxOp('BatchNormalization', exactly(5), between(1, 5), bnAttrs, (ctx) => {
  const x = expectDType(ctx, 0, FLOATS);
  if (ctx.opset < 15) sameDType(ctx, [0, 1, 2, 3, 4]);
  else {
    expectDType(ctx, 1, FLOATS);
    sameDType(ctx, [1, 2]);
    sameDType(ctx, [3, 4]);
  }
  expectRank(ctx, x, 'X', 2, Infinity);
  if (ctx.opset >= 14) {
    if (ctx.numOutputs > 3) ctx.fail(`from opset 14 BatchNormalization has at most 3 results`);
    if (ctx.numOutputs > 1 && ctx.int('training_mode', 0) === 0) {
      ctx.fail(`running_mean/running_var results exist only with training_mode=1`);
    }
  }
  // With spatial=0 the statistics are per element ([C, D1, ...]), shaped like the mean operand.
  const spatial = ctx.opset >= 9 || ctx.int('spatial', 1) === 1;
  const c = channels(x);
  if (spatial) for (const [i, n] of [[1, 'scale'], [2, 'B'], [3, 'mean'], [4, 'var']] as const) perChannel(ctx, i, c, n);
  const stat: TensorType = spatial ? tensor(ctx.tensor(3).dtype, [c]) : ctx.tensor(3);
  return [x, ...Array.from({ length: ctx.numOutputs - 1 }, () => stat)];
});

onnxOp('InstanceNormalization', exactly(3), exactly(1), { epsilon: attr.float, consumed_inputs: attr.ints }, (ctx) => {
  const x = expectDType(ctx, 0, FLOATS);
  sameDType(ctx, [0, 1, 2]);
  expectRank(ctx, x, 'input', 3, Infinity);
  perChannel(ctx, 1, channels(x), 'scale');
  perChannel(ctx, 2, channels(x), 'B');
  return [x];
});

// GroupNormalization: opset 18 took per-group scale/bias ([num_groups]); opset 21 per-channel.
const gnAttrs = { epsilon: attr.float, num_groups: { kind: 'int', required: true } as const, stash_type: attr.int };
onnxOp('GroupNormalization', exactly(3), exactly(1), gnAttrs, (ctx) => {
  const x = expectDType(ctx, 0, FLOATS);
  sameDType(ctx, [0, 1, 2]);
  expectRank(ctx, x, 'X', 3, Infinity);
  const g = ctx.int('num_groups');
  const c = channels(x);
  if (g < 1) ctx.fail(`num_groups must be positive, got ${g}`);
  if (typeof c === 'number' && c % g !== 0) ctx.fail(`channels ${c} are not divisible by num_groups ${g}`);
  const len = ctx.opset >= 21 ? c : g;
  perChannel(ctx, 1, len, 'scale');
  perChannel(ctx, 2, len, 'bias');
  return [x];
});

onnxOp('LRN', exactly(1), exactly(1), { alpha: attr.float, beta: attr.float, bias: attr.float, size: { kind: 'int', required: true } }, (ctx) => {
  const x = expectDType(ctx, 0, FLOATS);
  expectRank(ctx, x, 'X', 3, Infinity);
  if (ctx.int('size') < 1) ctx.fail(`size must be positive`);
  return [x];
});

// MeanVarianceNormalization: `axes` from opset 9; across_channels/normalize_variance are the
// experimental opset 1 form.
const mvnAttrs = { axes: attr.ints, across_channels: attr.int, normalize_variance: attr.int };
onnxOp('MeanVarianceNormalization', exactly(1), exactly(1), mvnAttrs, (ctx) => {
  const x = expectDType(ctx, 0, FLOATS);
  // The default axes [0, 2, 3] assume a 4-D input; only explicit axes are checked against the rank.
  if (x.shape && ctx.attr('axes')) for (const a of ctx.ints('axes')) normalizeAxis(ctx, a, x.shape.length);
  return [x];
});
