// LRN (local response normalization across channels) and GroupNormalization, computed in f64.
import { defineOnnxEvals } from '../registry.ts';
import { allocData, makeTensor, roundTo, toF64 } from '../tensor.ts';

// y = x / (bias + alpha/size · Σ x²)^beta, the sum over the channels
// [c - floor((size-1)/2), c + ceil((size-1)/2)] clipped to the tensor.
defineOnnxEvals(['LRN'], (ctx) => {
  const x = ctx.tensor(0);
  const size = ctx.int('size');
  const alpha = ctx.float('alpha', 1e-4);
  const beta = ctx.float('beta', 0.75);
  const bias = ctx.float('bias', 1);
  const [N, C] = x.shape as [number, number];
  const P = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const xd = toF64(x);
  const out = allocData(x.dtype, xd.length) as Float32Array | Float64Array;
  const lo = Math.floor((size - 1) / 2);
  const hi = Math.ceil((size - 1) / 2);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const c0 = Math.max(0, c - lo);
      const c1 = Math.min(C - 1, c + hi);
      for (let p = 0; p < P; p++) {
        let s = 0;
        for (let k = c0; k <= c1; k++) {
          const v = xd[(n * C + k) * P + p]!;
          s += v * v;
        }
        const i = (n * C + c) * P + p;
        out[i] = xd[i]! / Math.pow(bias + (alpha / size) * s, beta);
      }
    }
  }
  return [roundTo(makeTensor(x.dtype, x.shape, out))];
});

// GroupNormalization: channels split into num_groups groups, each normalised over its channels
// and all spatial positions. scale and bias are per group in opset 18 and per channel from
// opset 21; their length tells which (when num_groups = C the two readings agree).
defineOnnxEvals(['GroupNormalization'], (ctx) => {
  const x = ctx.tensor(0);
  const scale = toF64(ctx.tensor(1));
  const bias = toF64(ctx.tensor(2));
  const eps = ctx.float('epsilon', 1e-5);
  const G = ctx.int('num_groups');
  const [N, C] = x.shape as [number, number];
  if (C % G !== 0) ctx.fail(`${C} channels do not split into ${G} groups`);
  const perChannel = scale.length === C;
  if (!perChannel && scale.length !== G) ctx.fail(`scale has ${scale.length} elements; expected ${C} (channels) or ${G} (groups)`);
  const P = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const Cg = C / G;
  const span = Cg * P;
  const xd = toF64(x);
  const out = allocData(x.dtype, xd.length) as Float32Array | Float64Array;
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      const base = (n * C + g * Cg) * P;
      let mean = 0;
      for (let i = 0; i < span; i++) mean += xd[base + i]!;
      mean /= span;
      let v = 0;
      for (let i = 0; i < span; i++) v += (xd[base + i]! - mean) ** 2;
      const inv = 1 / Math.sqrt(v / span + eps);
      for (let c = 0; c < Cg; c++) {
        const k = perChannel ? g * Cg + c : g;
        const s = scale[k]! * inv;
        const b = bias[k]!;
        const o = base + c * P;
        for (let p = 0; p < P; p++) out[o + p] = (xd[o + p]! - mean) * s + b;
      }
    }
  }
  return [roundTo(makeTensor(x.dtype, x.shape, out))];
});
