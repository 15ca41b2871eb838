// lathe's own ops (domain `lathe`): forms the passes recognize where the model's ONNX opset has
// no op for them. Each keeps its operand's type.
//   lathe.Gelu {approximate = "none" | "tanh"}   onnx.Gelu's meaning, for models below opset 20
//   lathe.SiLU                                    x · sigmoid(x) (ONNX has no SiLU/Swish op)
//   lathe.RMSNorm(X, scale) {axis, epsilon}       X / sqrt(mean(X², axes [axis, rank)) + ε) · scale,
//                                                 onnx.RMSNormalization's meaning, below opset 23
import { FLOATS } from '../dtype.ts';
import { LATHE_DOMAIN } from '../graph.ts';
import { defineOp, exactly } from '../op.ts';
import { expectUnidirectional } from './nn-util.ts';
import { attr, expectDType, normalizeAxis, sameDType } from './util.ts';

defineOp({
  domain: LATHE_DOMAIN,
  name: 'Gelu',
  summary: 'GELU, exact (erf) or tanh-approximated: 0.5·x·(1 + erf(x/√2))',
  inputs: exactly(1),
  outputs: exactly(1),
  attrs: { approximate: attr.string },
  infer: (ctx) => {
    const approx = ctx.string('approximate', 'none');
    if (approx !== 'none' && approx !== 'tanh') ctx.fail(`approximate must be 'none' or 'tanh', got '${approx}'`);
    return [expectDType(ctx, 0, FLOATS)];
  },
});

defineOp({
  domain: LATHE_DOMAIN,
  name: 'SiLU',
  summary: 'SiLU (swish): x · sigmoid(x)',
  inputs: exactly(1),
  outputs: exactly(1),
  attrs: {},
  infer: (ctx) => [expectDType(ctx, 0, FLOATS)],
});

defineOp({
  domain: LATHE_DOMAIN,
  name: 'RMSNorm',
  summary: 'RMS normalization over axes [axis, rank), times scale',
  inputs: exactly(2),
  outputs: exactly(1),
  attrs: { axis: attr.int, epsilon: attr.float },
  infer: (ctx) => {
    const x = expectDType(ctx, 0, FLOATS);
    sameDType(ctx, [0, 1]);
    if (x.shape !== null) {
      const axis = normalizeAxis(ctx, ctx.int('axis', -1), x.shape.length);
      expectUnidirectional(ctx, x.shape.slice(axis), ctx.tensor(1).shape, 'scale');
    }
    return [x];
  },
});
