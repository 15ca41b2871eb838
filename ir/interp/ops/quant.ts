// Quantization: QuantizeLinear / DequantizeLinear (per tensor, per axis, blocked; integer, 4-bit
// and fp8 types), DynamicQuantizeLinear, and the integer and QLinear forms of MatMul and Conv.
// Divisions by a scale happen in f32, as the ONNX reference (numpy on float32) and ONNX Runtime
// do, so a value on a rounding tie quantizes the same way; integer products are exact in f64.
import type { DType } from '../../dtype.ts';
import { dtypeFromOnnx } from '../../dtype.ts';
import type { EvalContext } from '../registry.ts';
import { defineOnnxEvals, evalError } from '../registry.ts';
import type { Tensor } from '../tensor.ts';
import { allocData, isTensor, makeTensor, roundTo, toF64 } from '../tensor.ts';
import { matmul } from './matmul.ts';
import { evalAs } from './eval-as.ts';
import { minusZeroPoint, paramIndex, quantizeValue } from './quant-util.ts';
import type { AnyArray } from './util.ts';

/** The quantized dtype: the zero point's, else `output_dtype` (opset 21), else u8. */
function quantizedDType(ctx: EvalContext, zp: Tensor | undefined): DType {
  if (zp) return zp.dtype;
  const code = ctx.int('output_dtype', 0);
  if (code === 0) return 'u8';
  const d = dtypeFromOnnx(code);
  if (typeof d !== 'string') throw evalError(`output_dtype: ${d.unsupported}`);
  return d;
}

defineOnnxEvals(['QuantizeLinear'], (ctx) => {
  const x = ctx.tensor(0);
  const scale = ctx.tensor(1);
  const zp = ctx.optTensor(2);
  const dtype = quantizedDType(ctx, zp);
  const axis = ctx.int('axis', 1);
  const block = ctx.int('block_size', 0);
  const saturate = ctx.int('saturate', 1) === 1;
  const si = paramIndex(x.shape, scale.shape, axis, block);
  const zi = zp ? paramIndex(x.shape, zp.shape, axis, block) : undefined;
  const xd = toF64(x);
  const sd = toF64(scale);
  const zd = zp ? toF64(zp) : undefined;
  const out = allocData(dtype, xd.length) as AnyArray;
  for (let i = 0; i < xd.length; i++) {
    const s = sd[si ? si[i]! : 0]!;
    const z = zd ? zd[zi ? zi[i]! : 0]! : 0;
    out[i] = quantizeValue(Math.fround(xd[i]! / s), z, dtype, saturate);
  }
  return [makeTensor(dtype, x.shape, out as Float32Array)];
});

defineOnnxEvals(['DequantizeLinear'], (ctx) => {
  const x = ctx.tensor(0);
  const scale = ctx.tensor(1);
  const zp = ctx.optTensor(2);
  const axis = ctx.int('axis', 1);
  const block = ctx.int('block_size', 0);
  const si = paramIndex(x.shape, scale.shape, axis, block);
  const zi = zp ? paramIndex(x.shape, zp.shape, axis, block) : undefined;
  const xd = toF64(x);
  const sd = toF64(scale);
  const zd = zp ? toF64(zp) : undefined;
  // The result has the scale's dtype (f32, f16 or bf16).
  const out = allocData(scale.dtype, xd.length) as Float32Array;
  for (let i = 0; i < xd.length; i++) {
    const z = zd ? zd[zi ? zi[i]! : 0]! : 0;
    out[i] = (xd[i]! - z) * sd[si ? si[i]! : 0]!;
  }
  return [roundTo(makeTensor(scale.dtype, x.shape, out))];
});

defineOnnxEvals(['DynamicQuantizeLinear'], (ctx) => {
  const x = ctx.tensor(0);
  const xd = toF64(x);
  // The range always includes 0 so that 0 is exactly representable.
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < xd.length; i++) {
    const v = xd[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = Math.fround((hi - lo) / 255);
  // An all-zero input gives scale 0; then every value quantizes to the zero point 0.
  const zp = scale === 0 ? 0 : quantizeValue(Math.fround(0 - Math.fround(lo / scale)), 0, 'u8', true);
  const y = new Uint8Array(xd.length);
  if (scale !== 0) for (let i = 0; i < xd.length; i++) y[i] = quantizeValue(Math.fround(xd[i]! / scale), zp, 'u8', true);
  return [makeTensor('u8', x.shape, y), makeTensor('f32', [], new Float32Array([scale])), makeTensor('u8', [], new Uint8Array([zp]))];
});

/** A product of exact f64 values back to i32 (ONNX's accumulator type). */
function toI32(t: Tensor): Tensor {
  return makeTensor('i32', t.shape, Int32Array.from(t.data as Float64Array));
}

defineOnnxEvals(['MatMulInteger'], (ctx) => {
  // Zero points: A per row (1-D over A's dim −2), B per column (1-D over B's last dim).
  const a = minusZeroPoint(ctx.tensor(0), ctx.optTensor(2), -2);
  const b = minusZeroPoint(ctx.tensor(1), ctx.optTensor(3), -1);
  return [toI32(matmul(a, b))];
});

defineOnnxEvals(['ConvInteger'], (ctx) => {
  const x = minusZeroPoint(ctx.tensor(0), ctx.optTensor(2), 1);
  // The weight zero point may be per output channel (dim 0 of W).
  const w = minusZeroPoint(ctx.tensor(1), ctx.optTensor(3), 0);
  const [y] = evalAs(ctx, 'Conv', [x, w]);
  if (!isTensor(y)) throw evalError('Conv gave no tensor');
  return [toI32(y)];
});

/**
 * Requantize an exact accumulator: y = q(acc · sa · sb / sy) + zy, where `scaleAt(i)` gives the
 * combined input scale sa·sb for element i (per tensor, per row/column or per channel).
 */
function requantize(acc: Tensor, scaleAt: (i: number) => number, yScale: Tensor, yZp: Tensor | undefined, dtype: DType): Tensor {
  const ad = acc.data as Float64Array;
  const sy = Number(yScale.data[0]);
  const zy = yZp ? Number(yZp.data[0]) : 0;
  const out = allocData(dtype, ad.length) as AnyArray;
  for (let i = 0; i < ad.length; i++) out[i] = quantizeValue(Math.fround((ad[i]! * scaleAt(i)) / sy), zy, dtype, true);
  return makeTensor(dtype, acc.shape, out as Float32Array);
}

defineOnnxEvals(['QLinearMatMul'], (ctx) => {
  const aT = ctx.tensor(0);
  const bT = ctx.tensor(3);
  const aScale = toF64(ctx.tensor(1));
  const bScale = toF64(ctx.tensor(4));
  const a = minusZeroPoint(aT, ctx.optTensor(2), -2);
  const b = minusZeroPoint(bT, ctx.optTensor(5), -1);
  const acc = matmul(a, b);
  const yZp = ctx.optTensor(7);
  const dtype = yZp ? yZp.dtype : aT.dtype;
  const N = acc.shape[acc.shape.length - 1] ?? 1;
  const M = acc.shape.length >= 2 ? acc.shape[acc.shape.length - 2]! : 1;
  // A's scale may be per row (M values), B's per column (N values).
  const scaleAt = (i: number) =>
    (aScale.length === 1 ? aScale[0]! : aScale[Math.floor(i / N) % M]!) * (bScale.length === 1 ? bScale[0]! : bScale[i % N]!);
  return [requantize(acc, scaleAt, ctx.tensor(6), yZp, dtype)];
});

defineOnnxEvals(['QLinearConv'], (ctx) => {
  const xT = ctx.tensor(0);
  const x = minusZeroPoint(xT, ctx.optTensor(2), 1);
  const w = minusZeroPoint(ctx.tensor(3), ctx.optTensor(5), 0);
  // The bias is already quantized with scale x_scale·w_scale and zero point 0.
  const bias = ctx.optTensor(8);
  const [acc] = evalAs(ctx, 'Conv', [x, w, bias ? makeTensor('f64', bias.shape, toF64(bias)) : undefined]);
  if (!isTensor(acc)) throw evalError('Conv gave no tensor');
  const xs = Number(ctx.tensor(1).data[0]);
  const ws = toF64(ctx.tensor(4));
  const M = acc.shape[1]!;
  const P = acc.data.length / Math.max(1, acc.shape[0]! * M);
  const scaleAt = (i: number) => xs * (ws.length === 1 ? ws[0]! : ws[Math.floor(i / P) % M]!);
  const yZp = ctx.optTensor(7);
  return [requantize(acc, scaleAt, ctx.tensor(6), yZp, yZp ? yZp.dtype : xT.dtype)];
});
