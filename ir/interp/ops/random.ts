// The random ops: RandomUniform, RandomNormal, their *Like forms, Bernoulli and Multinomial.
// They produce the right shape, dtype and distribution from lathe's seeded stream
// (random-util.ts); the values cannot equal another runtime's, so conformance outputs of these
// ops are expected not to match.
import type { DType } from '../../dtype.ts';
import { dtypeFromOnnx } from '../../dtype.ts';
import { numElements } from '../../types.ts';
import type { EvalContext } from '../registry.ts';
import { defineOnnxEvals, evalError } from '../registry.ts';
import type { Data } from '../tensor.ts';
import { allocData, isBigDType, makeTensor, roundTo, toF64 } from '../tensor.ts';
import { normalStream, uniformStream } from './random-util.ts';
import type { AnyArray } from './util.ts';

function dtypeAttr(ctx: EvalContext, dflt: DType): DType {
  if (ctx.attr('dtype') === undefined) return dflt;
  const d = dtypeFromOnnx(ctx.int('dtype'));
  if (typeof d !== 'string') throw evalError(`dtype: ${d.unsupported}`);
  return d;
}

const seedOf = (ctx: EvalContext) => (ctx.attr('seed') ? ctx.float('seed') : undefined);

/** A tensor of `shape` filled from `next`, rounded to the dtype. */
function filled(dtype: DType, shape: readonly number[], next: () => number) {
  const out = allocData(dtype, numElements(shape)) as AnyArray;
  const big = isBigDType(dtype);
  for (let i = 0; i < out.length; i++) out[i] = big ? BigInt(Math.trunc(next())) : next();
  return roundTo(makeTensor(dtype, shape, out as Data));
}

function uniform(ctx: EvalContext, dtype: DType, shape: readonly number[]) {
  const lo = ctx.float('low', 0);
  const hi = ctx.float('high', 1);
  const u = uniformStream(seedOf(ctx));
  return filled(dtype, shape, () => lo + (hi - lo) * u());
}

function normal(ctx: EvalContext, dtype: DType, shape: readonly number[]) {
  const mean = ctx.float('mean', 0);
  const scale = ctx.float('scale', 1);
  const z = normalStream(seedOf(ctx));
  return filled(dtype, shape, () => mean + scale * z());
}

defineOnnxEvals(['RandomUniform'], (ctx) => [uniform(ctx, dtypeAttr(ctx, 'f32'), ctx.ints('shape'))]);
defineOnnxEvals(['RandomNormal'], (ctx) => [normal(ctx, dtypeAttr(ctx, 'f32'), ctx.ints('shape'))]);
defineOnnxEvals(['RandomUniformLike'], (ctx) => [uniform(ctx, dtypeAttr(ctx, ctx.tensor(0).dtype), ctx.tensor(0).shape)]);
defineOnnxEvals(['RandomNormalLike'], (ctx) => [normal(ctx, dtypeAttr(ctx, ctx.tensor(0).dtype), ctx.tensor(0).shape)]);

defineOnnxEvals(['Bernoulli'], (ctx) => {
  const x = ctx.tensor(0);
  const p = toF64(x);
  const u = uniformStream(seedOf(ctx));
  let i = 0;
  // Element i is 1 with probability p[i].
  return [filled(dtypeAttr(ctx, x.dtype), x.shape, () => (u() < p[i++]! ? 1 : 0))];
});

defineOnnxEvals(['Multinomial'], (ctx) => {
  const x = ctx.tensor(0);
  if (x.shape.length !== 2) ctx.fail('Multinomial takes [batch, classes] log-probabilities');
  const [B, C] = x.shape as [number, number];
  const k = ctx.int('sample_size', 1);
  const logits = toF64(x);
  const u = uniformStream(seedOf(ctx));
  const picks: number[] = [];
  for (let b = 0; b < B; b++) {
    // Unnormalized log-probabilities → a cumulative distribution (shifted by the max for range).
    let mx = -Infinity;
    for (let c = 0; c < C; c++) mx = Math.max(mx, logits[b * C + c]!);
    const cdf = new Float64Array(C);
    let acc = 0;
    for (let c = 0; c < C; c++) cdf[c] = acc += Math.exp(logits[b * C + c]! - mx);
    for (let s = 0; s < k; s++) {
      const r = u() * acc;
      let c = 0;
      while (c < C - 1 && cdf[c]! <= r) c++;
      picks.push(c);
    }
  }
  let j = 0;
  return [filled(dtypeAttr(ctx, 'i32'), [B, k], () => picks[j++]!)];
});
