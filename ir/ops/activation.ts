// Activation functions and the softmax family. All keep their operand's shape; the legacy
// `consumed_inputs` attribute (opset 1 only, an in-place hint) is accepted and ignored.
import { FLOATS } from '../dtype.ts';
import type { DType } from '../dtype.ts';
import type { InferContext } from '../op.ts';
import { between, exactly } from '../op.ts';
import { attr, expectDType, normalizeAxis, onnxOp, sameDType, unaryOps } from './util.ts';
import { expectUnidirectional, NUMERIC_T } from './nn-util.ts';
import { tensor } from '../types.ts';

const legacy = { consumed_inputs: attr.ints };

unaryOps(['Elu'], FLOATS, { alpha: attr.float, ...legacy });
unaryOps(['Selu'], FLOATS, { alpha: attr.float, gamma: attr.float, ...legacy });
unaryOps(['HardSigmoid'], FLOATS, { alpha: attr.float, beta: attr.float, ...legacy });
unaryOps(['LeakyRelu'], FLOATS, { alpha: attr.float, ...legacy });
unaryOps(['Celu'], FLOATS, { alpha: attr.float });
unaryOps(['ThresholdedRelu'], FLOATS, { alpha: attr.float });
unaryOps(['HardSwish', 'Softplus', 'Mish'], FLOATS);
unaryOps(['Shrink'], NUMERIC_T, { bias: attr.float, lambd: attr.float });

onnxOp('Gelu', exactly(1), exactly(1), { approximate: attr.string }, (ctx) => {
  const approx = ctx.string('approximate', 'none');
  if (approx !== 'none' && approx !== 'tanh') ctx.fail(`approximate must be 'none' or 'tanh', got '${approx}'`);
  return [expectDType(ctx, 0, FLOATS)];
});

// The slope broadcasts onto X one way (opset 7+); before that it was per-channel or a scalar.
onnxOp('PRelu', exactly(2), exactly(1), legacy, (ctx) => {
  const x = expectDType(ctx, 0, NUMERIC_T);
  sameDType(ctx, [0, 1]);
  if (ctx.opset >= 7) expectUnidirectional(ctx, x.shape, ctx.tensor(1).shape, 'slope');
  return [x];
});

// Softmax/LogSoftmax/Hardmax: before opset 13 the input was coerced to 2-D at `axis` (default 1);
// from 13 the op acts along `axis` (default -1). Either way the result has the input's type.
function softmaxLike(name: string, allowed: readonly DType[]): void {
  onnxOp(name, exactly(1), exactly(1), { axis: attr.int }, (ctx: InferContext) => {
    const x = expectDType(ctx, 0, allowed);
    const axis = ctx.int('axis', ctx.opset >= 13 ? -1 : 1);
    if (x.shape !== null && x.shape.length > 0) normalizeAxis(ctx, axis, x.shape.length);
    return [x];
  });
}
softmaxLike('Softmax', FLOATS);
softmaxLike('LogSoftmax', FLOATS);
softmaxLike('Hardmax', FLOATS);

// Clip: bounds were attributes `min`/`max` until opset 11, then optional scalar inputs.
onnxOp('Clip', between(1, 3), exactly(1), { min: attr.float, max: attr.float, ...legacy }, (ctx) => {
  const x = expectDType(ctx, 0, ctx.opset >= 12 ? NUMERIC_T : FLOATS);
  if (ctx.opset >= 11) {
    for (const a of ['min', 'max']) if (ctx.attr(a)) ctx.fail(`attribute '${a}' became an input at opset 11`);
    for (const i of [1, 2]) {
      if (!ctx.has(i)) continue;
      const b = ctx.tensor(i);
      if (b.dtype !== x.dtype) ctx.fail(`bound operand ${i} has dtype ${b.dtype}, input has ${x.dtype}`);
      if (b.shape !== null && b.shape.length > 0 && !(b.shape.length === 1 && b.shape[0] === 1)) {
        ctx.fail(`bound operand ${i} must be a scalar, got shape [${b.shape.join(', ')}]`);
      }
    }
  } else if (ctx.has(1) || ctx.has(2)) {
    ctx.fail(`Clip takes its bounds as inputs only from opset 11 (model is at opset ${ctx.opset})`);
  }
  return [tensor(x.dtype, x.shape)];
});
