// Training losses over class scores [N, C, d1, ..., dk] and integer targets [N, d1, ..., dk].
import { FLOATS } from '../dtype.ts';
import type { InferContext } from '../op.ts';
import { between } from '../op.ts';
import type { Shape, TensorType } from '../types.ts';
import { tensor } from '../types.ts';
import { attr, expectDType, onnxOp, sameDType } from './util.ts';
import { expectRank, fmt, unifyDim } from './nn-util.ts';

/** Checks scores/targets/weights; returns the loss shape (per element with reduction 'none', else scalar). */
function lossShape(ctx: InferContext): { scores: TensorType; out: Shape } {
  const scores = expectDType(ctx, 0, FLOATS);
  const target = expectDType(ctx, 1, ['i32', 'i64']);
  expectRank(ctx, scores, 'scores', 2, Infinity);
  if (ctx.has(2)) {
    sameDType(ctx, [0, 2]);
    const w = ctx.tensor(2);
    expectRank(ctx, w, 'weight', 1);
    if (w.shape && scores.shape) unifyDim(ctx, w.shape[0]!, scores.shape[1]!, 'weight length and classes');
  }
  const reduction = ctx.string('reduction', 'mean');
  if (!['none', 'sum', 'mean'].includes(reduction)) ctx.fail(`reduction must be none, sum or mean, got '${reduction}'`);
  let perElement: Shape = target.shape;
  if (scores.shape && target.shape) {
    const s = scores.shape;
    if (target.shape.length !== s.length - 1) ctx.fail(`target ${fmt(target.shape)} must have rank ${s.length - 1} for scores ${fmt(s)}`);
    const expected = [s[0]!, ...s.slice(2)];
    perElement = expected.map((d, i) => unifyDim(ctx, d, target.shape![i]!, `scores ${fmt(s)} and target ${fmt(target.shape)} dims`));
  } else if (scores.shape) perElement = [scores.shape[0]!, ...scores.shape.slice(2)];
  return { scores, out: reduction === 'none' ? perElement : [] };
}

const lossAttrs = { ignore_index: attr.int, reduction: attr.string };

onnxOp('NegativeLogLikelihoodLoss', between(2, 3), between(1, 1), lossAttrs, (ctx) => {
  const { scores, out } = lossShape(ctx);
  return [tensor(scores.dtype, out)];
});

// SoftmaxCrossEntropyLoss also returns the log-probabilities, shaped like the scores.
onnxOp('SoftmaxCrossEntropyLoss', between(2, 3), between(1, 2), lossAttrs, (ctx) => {
  const { scores, out } = lossShape(ctx);
  return [tensor(scores.dtype, out), scores];
});
