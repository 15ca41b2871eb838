// Random generators and Dropout. The `dtype` attributes hold ONNX data type codes.
import { FLOATS } from '../dtype.ts';
import type { InferContext } from '../op.ts';
import { between, exactly } from '../op.ts';
import { tensor } from '../types.ts';
import { attr, expectDType, onnxOp } from './util.ts';
import { dtypeAttr, expectRank, fmt } from './nn-util.ts';

const uniform = { dtype: attr.int, high: attr.float, low: attr.float, seed: attr.float };
const normal = { dtype: attr.int, mean: attr.float, scale: attr.float, seed: attr.float };

function checkFloat(ctx: InferContext, d: string): void {
  if (!(FLOATS as readonly string[]).includes(d)) ctx.fail(`dtype must be a float type, got ${d}`);
}

for (const [name, attrs] of [['RandomUniform', uniform], ['RandomNormal', normal]] as const) {
  onnxOp(name, exactly(0), exactly(1), { ...attrs, shape: { kind: 'ints', required: true } }, (ctx) => {
    const dtype = dtypeAttr(ctx, 'dtype', 'f32');
    checkFloat(ctx, dtype);
    const shape = ctx.ints('shape');
    if (shape.some((d) => d < 0)) ctx.fail(`shape [${shape.join(', ')}] has a negative dim`);
    return [tensor(dtype, shape)];
  });
}

// The *Like forms take the shape (and, without `dtype`, the element type) of their operand.
for (const [name, attrs] of [['RandomUniformLike', uniform], ['RandomNormalLike', normal]] as const) {
  onnxOp(name, exactly(1), exactly(1), attrs, (ctx) => {
    const x = ctx.tensor(0);
    const dtype = dtypeAttr(ctx, 'dtype', x.dtype);
    checkFloat(ctx, dtype);
    return [tensor(dtype, x.shape)];
  });
}

onnxOp('Bernoulli', exactly(1), exactly(1), { dtype: attr.int, seed: attr.float }, (ctx) => {
  const x = expectDType(ctx, 0, FLOATS);
  return [tensor(dtypeAttr(ctx, 'dtype', x.dtype), x.shape)];
});

// Multinomial: [batch, classes] log-probabilities → [batch, sample_size] i32/i64 samples.
onnxOp('Multinomial', exactly(1), exactly(1), { dtype: attr.int, sample_size: attr.int, seed: attr.float }, (ctx) => {
  const x = expectDType(ctx, 0, FLOATS);
  expectRank(ctx, x, 'input', 2);
  const dtype = dtypeAttr(ctx, 'dtype', 'i32');
  if (dtype !== 'i32' && dtype !== 'i64') ctx.fail(`dtype must be int32 or int64, got ${dtype}`);
  const n = ctx.int('sample_size', 1);
  if (n < 1) ctx.fail(`sample_size must be positive, got ${n}`);
  return [tensor(dtype, [x.shape?.[0] ?? null, n])];
});

// Dropout: ratio was an attribute until opset 12, then optional inputs ratio and training_mode.
// The mask had the data's type until opset 10 and is bool from then on.
const dropoutAttrs = { ratio: attr.float, seed: attr.int, is_test: attr.int, consumed_inputs: attr.ints };
onnxOp('Dropout', between(1, 3), between(1, 2), dropoutAttrs, (ctx) => {
  const x = expectDType(ctx, 0, ctx.opset >= 12 ? [...FLOATS, 'f8e4m3fn', 'f8e4m3fnuz', 'f8e5m2', 'f8e5m2fnuz'] : FLOATS);
  if (ctx.opset >= 12) {
    if (ctx.attr('ratio')) ctx.fail(`attribute 'ratio' became an input at opset 12`);
    if (ctx.has(1)) {
      const r = expectDType(ctx, 1, FLOATS);
      if (r.shape !== null && r.shape.length > 0) ctx.fail(`ratio must be a scalar, got ${fmt(r.shape)}`);
    }
    if (ctx.has(2)) {
      const t = expectDType(ctx, 2, ['bool']);
      if (t.shape !== null && t.shape.length > 0) ctx.fail(`training_mode must be a scalar, got ${fmt(t.shape)}`);
    }
  } else if (ctx.has(1) || ctx.has(2)) {
    ctx.fail(`ratio and training_mode are inputs only from opset 12`);
  }
  return [x, tensor(ctx.opset >= 10 ? 'bool' : x.dtype, x.shape)];
});
