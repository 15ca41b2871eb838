// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (= NLL of log_softmax over the class
// axis 1). Input [N, C, d1..dk], target [N, d1..dk]; loss = -input[n, t, d] · weight[t], with
// targets equal to ignore_index contributing 0 and no weight. `mean` divides by the summed
// weights of the targets that count (their number when there is no weight operand).
import type { EvalContext } from '../registry.ts';
import { defineOnnxEvals } from '../registry.ts';
import type { Tensor } from '../tensor.ts';
import { allocData, makeTensor, roundTo, toF64 } from '../tensor.ts';

/** NLL over log-probabilities `lp` laid out [N, C, D] (D = product of the trailing dims). */
function nll(ctx: EvalContext, lp: Float64Array, shape: readonly number[], target: Tensor, weight: Tensor | undefined, dtype: Tensor['dtype']): Tensor {
  const [N, C] = shape as [number, number];
  const D = shape.slice(2).reduce((a, b) => a * b, 1);
  const tShape = [N, ...shape.slice(2)];
  if (target.shape.join() !== tShape.join()) ctx.fail(`target is [${target.shape.join(', ')}], expected [${tShape.join(', ')}]`);
  const reduction = ctx.string('reduction', 'mean');
  const ignore = ctx.attr('ignore_index') ? ctx.int('ignore_index') : undefined;
  const w = weight ? toF64(weight) : undefined;
  const loss = new Float64Array(N * D);
  let wsum = 0;
  for (let n = 0; n < N; n++) {
    for (let d = 0; d < D; d++) {
      const t = Number(target.data[n * D + d]);
      if (t === ignore) continue;
      if (t < 0 || t >= C) ctx.fail(`target ${t} is outside [0, ${C})`);
      const wt = w ? w[t]! : 1;
      loss[n * D + d] = -lp[(n * C + t) * D + d]! * wt;
      wsum += wt;
    }
  }
  if (reduction === 'none') {
    const out = allocData(dtype, loss.length) as Float32Array | Float64Array;
    out.set(loss);
    return roundTo(makeTensor(dtype, tShape, out));
  }
  let s = 0;
  for (let i = 0; i < loss.length; i++) s += loss[i]!;
  if (reduction === 'mean') s /= wsum;
  else if (reduction !== 'sum') ctx.fail(`unknown reduction '${reduction}'`);
  const out = allocData(dtype, 1) as Float32Array | Float64Array;
  out[0] = s;
  return roundTo(makeTensor(dtype, [], out));
}

defineOnnxEvals(['NegativeLogLikelihoodLoss'], (ctx) => {
  const x = ctx.tensor(0);
  if (x.shape.length < 2) ctx.fail(`input must be [N, C, ...], got [${x.shape.join(', ')}]`);
  return [nll(ctx, toF64(x), x.shape, ctx.tensor(1), ctx.optTensor(2), x.dtype)];
});

defineOnnxEvals(['SoftmaxCrossEntropyLoss'], (ctx) => {
  const x = ctx.tensor(0);
  if (x.shape.length < 2) ctx.fail(`scores must be [N, C, ...], got [${x.shape.join(', ')}]`);
  const [N, C] = x.shape as [number, number];
  const D = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const xd = toF64(x);
  // log_softmax over the class axis, in f64.
  const lp = new Float64Array(xd.length);
  for (let n = 0; n < N; n++) {
    for (let d = 0; d < D; d++) {
      const base = n * C * D + d;
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, xd[base + c * D]!);
      let sum = 0;
      for (let c = 0; c < C; c++) sum += Math.exp(xd[base + c * D]! - m);
      const l = m + Math.log(sum);
      for (let c = 0; c < C; c++) lp[base + c * D] = xd[base + c * D]! - l;
    }
  }
  const loss = nll(ctx, lp, x.shape, ctx.tensor(1), ctx.optTensor(2), x.dtype);
  let logProb: Tensor | undefined;
  if (ctx.wants(1)) {
    const out = allocData(x.dtype, lp.length) as Float32Array | Float64Array;
    out.set(lp);
    logProb = roundTo(makeTensor(x.dtype, x.shape, out));
  }
  return [loss, logProb];
});
