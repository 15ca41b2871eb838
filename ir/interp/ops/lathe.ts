// Evaluators for lathe's own ops (ir/ops/lathe.ts). Computed in f64, rounded to the dtype.
import { LATHE_DOMAIN } from '../../graph.ts';
import { numElements } from '../../types.ts';
import { defineEval } from '../registry.ts';
import { allocData, makeTensor, roundTo, toF64 } from '../tensor.ts';
import { erf, unary } from './unary.ts';
import { broadcastIndex, normAxis } from './util.ts';

defineEval(LATHE_DOMAIN, 'Gelu', (ctx) => {
  const tanh = ctx.string('approximate', 'none') === 'tanh';
  const k = Math.sqrt(2 / Math.PI);
  const f = tanh ? (x: number) => 0.5 * x * (1 + Math.tanh(k * (x + 0.044715 * x * x * x))) : (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));
  return [unary(ctx.tensor(0), f)];
});

defineEval(LATHE_DOMAIN, 'SiLU', (ctx) => [unary(ctx.tensor(0), (x) => x / (1 + Math.exp(-x)))]);

defineEval(LATHE_DOMAIN, 'RMSNorm', (ctx) => {
  const x = ctx.tensor(0);
  const axis = normAxis(ctx.int('axis', -1), x.shape.length);
  const eps = ctx.float('epsilon', 1e-5);
  const norm = x.shape.slice(axis);
  const n = numElements(norm);
  const outer = numElements(x.shape.slice(0, axis));
  const scale = ctx.tensor(1);
  const si = broadcastIndex(scale.shape, norm);
  const sd = toF64(scale);
  const xd = toF64(x);
  const y = allocData(x.dtype, xd.length) as Float32Array | Float64Array;
  for (let o = 0; o < outer; o++) {
    const s = o * n;
    let ms = 0;
    for (let k = 0; k < n; k++) ms += xd[s + k]! * xd[s + k]!;
    const inv = 1 / Math.sqrt(ms / n + eps);
    for (let k = 0; k < n; k++) y[s + k] = xd[s + k]! * inv * sd[si ? si[k]! : k]!;
  }
  return [roundTo(makeTensor(x.dtype, x.shape, y))];
});
