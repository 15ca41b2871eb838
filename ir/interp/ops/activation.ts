// Activation functions with attributes (alpha, beta, lambd, ...) and Clip.
import { LatheError } from '../../errors.ts';
import { defineOnnxEvals } from '../registry.ts';
import { isBigDType, scalarOf } from '../tensor.ts';
import { erf, unary } from './unary.ts';

/** log(1 + e^x) without overflow for large x. */
const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

defineOnnxEvals(['Softplus'], (ctx) => [unary(ctx.tensor(0), softplus)]);
defineOnnxEvals(['Mish'], (ctx) => [unary(ctx.tensor(0), (x) => x * Math.tanh(softplus(x)))]);

defineOnnxEvals(['Elu'], (ctx) => {
  const alpha = ctx.float('alpha', 1);
  return [unary(ctx.tensor(0), (x) => (x < 0 ? alpha * (Math.exp(x) - 1) : x))];
});
defineOnnxEvals(['Selu'], (ctx) => {
  const alpha = ctx.float('alpha', 1.67326319217681884765625);
  const gamma = ctx.float('gamma', 1.05070102214813232421875);
  return [unary(ctx.tensor(0), (x) => (x <= 0 ? gamma * (alpha * Math.exp(x) - alpha) : gamma * x))];
});
defineOnnxEvals(['Celu'], (ctx) => {
  const alpha = ctx.float('alpha', 1);
  return [unary(ctx.tensor(0), (x) => Math.max(0, x) + Math.min(0, alpha * (Math.exp(x / alpha) - 1)))];
});
defineOnnxEvals(['LeakyRelu'], (ctx) => {
  const alpha = ctx.float('alpha', 0.01);
  return [unary(ctx.tensor(0), (x) => (x < 0 ? alpha * x : x))];
});
defineOnnxEvals(['HardSigmoid'], (ctx) => {
  const alpha = ctx.float('alpha', 0.2);
  const beta = ctx.float('beta', 0.5);
  return [unary(ctx.tensor(0), (x) => Math.max(0, Math.min(1, alpha * x + beta)))];
});
defineOnnxEvals(['HardSwish'], (ctx) => [unary(ctx.tensor(0), (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)))]);
defineOnnxEvals(['ThresholdedRelu'], (ctx) => {
  const alpha = ctx.float('alpha', 1);
  return [unary(ctx.tensor(0), (x) => (x > alpha ? x : 0))];
});
defineOnnxEvals(['Shrink'], (ctx) => {
  const lambd = ctx.float('lambd', 0.5);
  const bias = ctx.float('bias', 0);
  return [unary(ctx.tensor(0), (x) => (x < -lambd ? x + bias : x > lambd ? x - bias : 0))];
});
defineOnnxEvals(['Gelu'], (ctx) => {
  const tanh = ctx.string('approximate', 'none') === 'tanh';
  const k = Math.sqrt(2 / Math.PI);
  return [
    unary(
      ctx.tensor(0),
      tanh ? (x) => 0.5 * x * (1 + Math.tanh(k * (x + 0.044715 * x * x * x))) : (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
    ),
  ];
});

// Clip: bounds are attributes before opset 11 and optional scalar operands from 11 on.
defineOnnxEvals(['Clip'], (ctx) => {
  const x = ctx.tensor(0);
  if (isBigDType(x.dtype)) {
    const lo = ctx.optTensor(1)?.data[0] as bigint | undefined;
    const hi = ctx.optTensor(2)?.data[0] as bigint | undefined;
    return [
      unary(x, () => 0, (v) => {
        const c = lo !== undefined && v < lo ? lo : v;
        return hi !== undefined && c > hi ? hi : c;
      }),
    ];
  }
  let lo = -Infinity;
  let hi = Infinity;
  if (ctx.opset < 11) {
    lo = ctx.float('min', -Infinity);
    hi = ctx.float('max', Infinity);
  } else {
    const a = ctx.optTensor(1);
    const b = ctx.optTensor(2);
    if (a) lo = scalarOf(a);
    if (b) hi = scalarOf(b);
  }
  if (Number.isNaN(lo) || Number.isNaN(hi)) throw new LatheError('ShapeError', 'Clip bounds must not be NaN');
  // min(max(x, lo), hi): when lo > hi every element becomes hi, as in ONNX Runtime.
  return [unary(x, (v) => Math.min(v < lo ? lo : v, hi))];
});
