// Linear quantization: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, and the
// quantized-domain QLinearConv and QLinearMatMul.
import type { DType } from '../dtype.ts';
import { FLOATS } from '../dtype.ts';
import type { InferContext } from '../op.ts';
import { between, exactly } from '../op.ts';
import type { TensorType } from '../types.ts';
import { tensor } from '../types.ts';
import { attr, expectDType, normalizeAxis, onnxOp } from './util.ts';
import { convAttrs, convShape } from './conv.ts';
import { matmulShape } from './matmul.ts';
import { dtypeAttr, fmt, unifyDim } from './nn-util.ts';

/** Quantized element types; which of them an opset allows is checked by `quantTypes`. */
function quantTypes(opset: number): DType[] {
  const t: DType[] = ['u8', 'i8'];
  if (opset >= 19) t.push('f8e4m3fn', 'f8e4m3fnuz', 'f8e5m2', 'f8e5m2fnuz');
  if (opset >= 21) t.push('u16', 'i16', 'u4', 'i4');
  if (opset >= 23) t.push('f4e2m1');
  return t;
}

/** Scale and zero point share a shape: a scalar (per tensor), [x.shape[axis]] (per axis), or x's rank (blocked). */
function checkScale(ctx: InferContext, x: TensorType, scale: number, zp: number): void {
  const s = ctx.tensor(scale);
  if (ctx.has(zp)) {
    const z = ctx.tensor(zp);
    if (s.shape && z.shape) {
      if (s.shape.length !== z.shape.length) ctx.fail(`scale ${fmt(s.shape)} and zero point ${fmt(z.shape)} differ in shape`);
      s.shape.forEach((d, i) => unifyDim(ctx, d, z.shape![i]!, `scale ${fmt(s.shape)} and zero point ${fmt(z.shape)} dims`));
    }
  }
  if (!s.shape || !x.shape || s.shape.length === 0 || ctx.opset < 13) return;
  const r = x.shape.length;
  const axis = normalizeAxis(ctx, ctx.int('axis', 1), r);
  const block = ctx.int('block_size', 0);
  if (s.shape.length === 1 && block === 0) {
    unifyDim(ctx, s.shape[0]!, x.shape[axis]!, `per-axis scale ${fmt(s.shape)} and input ${fmt(x.shape)} at axis ${axis}`);
  } else if (s.shape.length !== r) {
    ctx.fail(`scale ${fmt(s.shape)} must be a scalar, 1-D, or of the input's rank ${r} for blocked quantization`);
  }
}

const qAttrs = { axis: attr.int, block_size: attr.int, output_dtype: attr.int, saturate: attr.int };

// QuantizeLinear: the result type is the zero point's, else output_dtype (opset 21), else u8.
onnxOp('QuantizeLinear', between(2, 3), exactly(1), qAttrs, (ctx) => {
  const xTypes: DType[] = ctx.opset >= 19 ? ['f32', 'i32', 'f16', 'bf16'] : ['f32', 'i32'];
  const x = expectDType(ctx, 0, xTypes);
  expectDType(ctx, 1, ctx.opset >= 19 ? [...xTypes] : ['f32']);
  const allowed = quantTypes(ctx.opset);
  const attrType = ctx.int('output_dtype', 0) !== 0 ? dtypeAttr(ctx, 'output_dtype', 'u8') : undefined;
  let out: DType = attrType ?? 'u8';
  if (ctx.has(2)) {
    out = expectDType(ctx, 2, allowed).dtype;
    if (attrType && attrType !== out) ctx.fail(`output_dtype ${attrType} differs from the zero point's ${out}`);
  }
  if (!allowed.includes(out)) ctx.fail(`cannot quantize to ${out} at opset ${ctx.opset}`);
  checkScale(ctx, x, 1, 2);
  return [tensor(out, x.shape)];
});

// DequantizeLinear: the result takes the scale's float type (f32 only before opset 19);
// output_dtype (opset 23) may name it explicitly.
onnxOp('DequantizeLinear', between(2, 3), exactly(1), qAttrs, (ctx) => {
  const x = expectDType(ctx, 0, [...quantTypes(ctx.opset), 'i32']);
  const s = expectDType(ctx, 1, ctx.opset >= 19 ? FLOATS.filter((d) => d !== 'f64') : ['f32']);
  if (ctx.has(2) && ctx.tensor(2).dtype !== x.dtype) ctx.fail(`zero point is ${ctx.tensor(2).dtype} but input is ${x.dtype}`);
  const out = ctx.int('output_dtype', 0) !== 0 ? dtypeAttr(ctx, 'output_dtype', s.dtype) : s.dtype;
  checkScale(ctx, x, 1, 2);
  return [tensor(out, x.shape)];
});

onnxOp('DynamicQuantizeLinear', exactly(1), between(1, 3), {}, (ctx) => {
  const x = expectDType(ctx, 0, ['f32']);
  return [tensor('u8', x.shape), tensor('f32', []), tensor('u8', [])];
});

/** Check a quantized operand against its scale/zero point, both float scale and zp of its type. */
function quantOperand(ctx: InferContext, i: number, types: readonly DType[] = ['u8', 'i8'], scales: readonly DType[] = ['f32']): TensorType {
  const t = expectDType(ctx, i, types);
  expectDType(ctx, i + 1, scales);
  if (ctx.has(i + 2) && ctx.tensor(i + 2).dtype !== t.dtype) ctx.fail(`operand ${i + 2} (zero point) must be ${t.dtype}`);
  return t;
}

onnxOp('QLinearConv', between(8, 9), exactly(1), convAttrs, (ctx) => {
  const x = quantOperand(ctx, 0);
  const w = quantOperand(ctx, 3);
  expectDType(ctx, 6, ['f32']);
  const y = expectDType(ctx, 7, ['u8', 'i8']);
  if (ctx.has(8)) expectDType(ctx, 8, ['i32']);
  return [tensor(y.dtype, convShape(ctx, x.shape, w.shape))];
});

onnxOp('QLinearMatMul', exactly(8), exactly(1), {}, (ctx) => {
  // Opset 21 added the fp8 types and f16/bf16 scales.
  const types: DType[] = ctx.opset >= 21 ? ['u8', 'i8', 'f8e4m3fn', 'f8e4m3fnuz', 'f8e5m2', 'f8e5m2fnuz'] : ['u8', 'i8'];
  const scales: DType[] = ctx.opset >= 21 ? ['f32', 'f16', 'bf16'] : ['f32'];
  const a = quantOperand(ctx, 0, types, scales);
  const b = quantOperand(ctx, 3, types, scales);
  expectDType(ctx, 6, scales);
  const y = expectDType(ctx, 7, types);
  return [tensor(y.dtype, matmulShape(ctx, a.shape, b.shape))];
});
