// Normalisations: LayerNormalization, BatchNormalization (inference, and training mode's batch
// statistics), InstanceNormalization, MeanVarianceNormalization. Statistics are computed in f64
// over contiguous rows.
import type { DType } from '../../dtype.ts';
import { numElements } from '../../types.ts';
import type { EvalContext } from '../registry.ts';
import { defineOnnxEvals } from '../registry.ts';
import type { Tensor } from '../tensor.ts';
import { allocData, makeTensor, roundTo, toF64 } from '../tensor.ts';
import { transpose } from './layout.ts';
import { broadcastIndex, normAxis } from './util.ts';

type FloatArray = Float32Array | Float64Array;

/** The dtype the node declares for result i, or `dflt` when it declares none. */
function declaredDType(ctx: EvalContext, i: number, dflt: DType): DType {
  const t = ctx.node.outputs[i]?.type;
  return t && t.kind === 'tensor' && !(t as { placeholder?: boolean }).placeholder ? t.dtype : dflt;
}

defineOnnxEvals(['LayerNormalization'], (ctx) => {
  const x = ctx.tensor(0);
  const r = x.shape.length;
  const axis = normAxis(ctx.int('axis', -1), r);
  const eps = ctx.float('epsilon', 1e-5);
  const norm = x.shape.slice(axis);
  const n = numElements(norm);
  const outer = numElements(x.shape.slice(0, axis));
  const scale = ctx.tensor(1);
  const bias = ctx.optTensor(2);
  const si = broadcastIndex(scale.shape, norm);
  const bi = bias ? broadcastIndex(bias.shape, norm) : undefined;
  const sd = toF64(scale);
  const bd = bias ? toF64(bias) : undefined;
  const xd = x.data as FloatArray;
  const y = allocData(x.dtype, xd.length) as FloatArray;
  const statDType = declaredDType(ctx, 1, x.dtype);
  const mean = allocData(statDType, outer) as FloatArray;
  const inv = allocData(declaredDType(ctx, 2, x.dtype), outer) as FloatArray;
  for (let o = 0; o < outer; o++) {
    const s = o * n;
    let m = 0;
    for (let k = 0; k < n; k++) m += xd[s + k]!;
    m /= n;
    let v = 0;
    for (let k = 0; k < n; k++) v += (xd[s + k]! - m) ** 2;
    const is = 1 / Math.sqrt(v / n + eps);
    for (let k = 0; k < n; k++) {
      const b = bd ? bd[bi ? bi[k]! : k]! : 0;
      y[s + k] = (xd[s + k]! - m) * is * sd[si ? si[k]! : k]! + b;
    }
    mean[o] = m;
    inv[o] = is;
  }
  const statShape = x.shape.map((d, i) => (i < axis ? d : 1));
  return [
    roundTo(makeTensor(x.dtype, x.shape, y)),
    roundTo(makeTensor(statDType, statShape, mean)),
    roundTo(makeTensor(declaredDType(ctx, 2, x.dtype), statShape, inv)),
  ];
});

/** Per channel (axis 1) planes: calls f(channel, start, length) for every [n, c] plane. */
function planes(x: Tensor, f: (c: number, start: number, len: number) => void): void {
  const [N, C] = [x.shape[0]!, x.shape[1] ?? 1];
  const plane = numElements(x.shape.slice(2));
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) f(c, (n * C + c) * plane, plane);
}

defineOnnxEvals(['BatchNormalization'], (ctx) => {
  const x = ctx.tensor(0);
  const [scale, bias, inMean, inVar] = [1, 2, 3, 4].map((i) => toF64(ctx.tensor(i)));
  const eps = ctx.float('epsilon', 1e-5);
  const training = ctx.int('training_mode', 0) === 1;
  const C = x.shape[1] ?? 1;
  const xd = x.data as FloatArray;
  let mean = inMean!;
  let vari = inVar!;
  const outs: (Tensor | undefined)[] = [];
  if (training) {
    // Batch statistics (population variance); running stats blend them in with `momentum`.
    const sum = new Float64Array(C);
    const sq = new Float64Array(C);
    const count = xd.length / C;
    planes(x, (c, s, len) => {
      for (let k = 0; k < len; k++) sum[c]! += xd[s + k]!;
    });
    mean = sum.map((v) => v / count);
    planes(x, (c, s, len) => {
      for (let k = 0; k < len; k++) sq[c]! += (xd[s + k]! - mean[c]!) ** 2;
    });
    vari = sq.map((v) => v / count);
    const mom = ctx.float('momentum', 0.9);
    const blend = (run: Float64Array, cur: Float64Array) => run.map((v, c) => v * mom + cur[c]! * (1 - mom));
    const md = ctx.tensor(3).dtype;
    const mk = (v: Float64Array) => roundTo(makeTensor(md, [C], md === 'f64' ? v : Float32Array.from(v)));
    outs[1] = mk(blend(inMean!, mean));
    outs[2] = mk(blend(inVar!, vari));
  }
  const y = allocData(x.dtype, xd.length) as FloatArray;
  planes(x, (c, s, len) => {
    const k = scale![c]! / Math.sqrt(vari[c]! + eps);
    const b = bias![c]! - mean[c]! * k;
    for (let i = 0; i < len; i++) y[s + i] = xd[s + i]! * k + b;
  });
  outs[0] = roundTo(makeTensor(x.dtype, x.shape, y));
  return outs;
});

defineOnnxEvals(['InstanceNormalization'], (ctx) => {
  const x = ctx.tensor(0);
  const scale = toF64(ctx.tensor(1));
  const bias = toF64(ctx.tensor(2));
  const eps = ctx.float('epsilon', 1e-5);
  const xd = x.data as FloatArray;
  const y = allocData(x.dtype, xd.length) as FloatArray;
  planes(x, (c, s, len) => {
    let m = 0;
    for (let k = 0; k < len; k++) m += xd[s + k]!;
    m /= len;
    let v = 0;
    for (let k = 0; k < len; k++) v += (xd[s + k]! - m) ** 2;
    const is = scale[c]! / Math.sqrt(v / len + eps);
    for (let k = 0; k < len; k++) y[s + k] = (xd[s + k]! - m) * is + bias[c]!;
  });
  return [roundTo(makeTensor(x.dtype, x.shape, y))];
});

defineOnnxEvals(['MeanVarianceNormalization'], (ctx) => {
  const x = ctx.tensor(0);
  const r = x.shape.length;
  const axes = [...ctx.ints('axes', [0, 2, 3])].map((a) => normAxis(a, r));
  const kept = Array.from({ length: r }, (_, i) => i).filter((i) => !axes.includes(i));
  const perm = [...kept, ...axes];
  const t = transpose(x, perm);
  const n = axes.reduce((p, a) => p * x.shape[a]!, 1);
  const td = t.data as FloatArray;
  const y = allocData(x.dtype, td.length) as FloatArray;
  for (let s = 0; s < td.length; s += n) {
    let m = 0;
    for (let k = 0; k < n; k++) m += td[s + k]!;
    m /= n;
    let v = 0;
    for (let k = 0; k < n; k++) v += (td[s + k]! - m) ** 2;
    // ONNX's function body: (X − E[X]) / (sqrt(Var[X]) + 1e-9).
    const d = Math.sqrt(v / n) + 1e-9;
    for (let k = 0; k < n; k++) y[s + k] = (td[s + k]! - m) / d;
  }
  const inv = perm.map((_, i) => perm.indexOf(i));
  return [roundTo(transpose(makeTensor(x.dtype, t.shape, y), inv))];
});
