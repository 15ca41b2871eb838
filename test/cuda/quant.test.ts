// CUDA quantization lowerings on the CPU harness against the interpreter, compared exactly:
// QuantizeLinear / DequantizeLinear (per tensor, per axis, blocked; 8/16/32-bit targets; f16
// scales; rounding ties and saturation), DynamicQuantizeLinear, MatMulInteger, ConvInteger,
// QLinearMatMul and QLinearConv (zero points per tensor / row / column / channel, batches,
// groups, padding, strides, bias). Run alone with `node --import tsx test/run.ts cuda/quant`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lowerCudaModel } from '../../backends/cuda/lower.ts';
import type { DType } from '../../ir/dtype.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { makeTensor, roundTo } from '../../ir/interp/tensor.ts';
import type { OpCase } from './helpers.ts';
import { checkCuda, opCase, rng } from './helpers.ts';

const r = rng(41);
const EXACT = { rtol: 0, atol: 0 };

const ARRAYS = { i8: Int8Array, u8: Uint8Array, i16: Int16Array, u16: Uint16Array, i32: Int32Array } as const;
type IntD = keyof typeof ARRAYS;

/** An integer tensor of `dtype` from values (wrapped to the type). */
const ints = (dtype: IntD, shape: number[], v: number[]): Tensor => makeTensor(dtype, shape, ARRAYS[dtype].from(v));

/** Random integers in [lo, hi]. */
function rints(dtype: IntD, shape: number[], lo: number, hi: number): Tensor {
  const t = r.int('i32', shape, lo, hi);
  return ints(dtype, shape, Array.from(t.data as Int32Array));
}

const f16 = (t: Tensor): Tensor => roundTo(makeTensor('f16' as DType, t.shape, Float32Array.from(t.data as Float32Array)));
const f32 = (shape: number[], v: number[]): Tensor => makeTensor('f32', shape, Float32Array.from(v));

test('QuantizeLinear and DequantizeLinear: per tensor, per axis, blocked', () => {
  const cases: OpCase[] = [];
  // Ties (x / s = k + ½ rounds to even), saturation at both ends, a negative zero point.
  const ties = f32([12], [1.25, 0.75, -0.25, -0.75, 2.5, 1000, -1000, 63.75, 0, -0, 3.1, -3.1]);
  cases.push(opCase('QuantizeLinear', [ties, f32([], [0.5]), ints('u8', [], [3])]));
  cases.push(opCase('QuantizeLinear', [ties, f32([], [0.5]), ints('i8', [], [-2])]));
  cases.push(opCase('QuantizeLinear', [ties, f32([], [0.5])])); // u8, zero point 0
  cases.push(opCase('QuantizeLinear', [ties, f32([], [0.01]), ints('i16', [], [-7])]));
  cases.push(opCase('QuantizeLinear', [ties, f32([], [0.001]), ints('u16', [], [30000])]));
  cases.push(opCase('QuantizeLinear', [ties, f32([], [0.3])], { output_dtype: 3 })); // int8 by output_dtype
  // Per axis (axis 1, default) and axis 0 and −1; blocked along axis 1 and 2.
  const x = r.f32([3, 4, 10], -20, 20);
  cases.push(opCase('QuantizeLinear', [x, r.f32([4], 0.05, 0.3), rints('u8', [4], 0, 255)]));
  cases.push(opCase('QuantizeLinear', [x, r.f32([3], 0.05, 0.3), rints('i8', [3], -10, 10)], { axis: 0 }));
  cases.push(opCase('QuantizeLinear', [x, r.f32([10], 0.05, 0.3), rints('i16', [10], -100, 100)], { axis: -1 }));
  cases.push(opCase('QuantizeLinear', [x, r.f32([3, 2, 10], 0.05, 0.3), rints('i8', [3, 2, 10], -5, 5)], { axis: 1, block_size: 3 }));
  cases.push(opCase('QuantizeLinear', [x, r.f32([3, 4, 4], 0.05, 0.3)], { axis: 2, block_size: 3 }));
  cases.push(opCase('QuantizeLinear', [f16(x), f16(r.f32([4], 0.05, 0.3)), rints('u8', [4], 100, 150)]));
  cases.push(opCase('QuantizeLinear', [rints('i32', [3, 5], -100000, 100000), f32([], [7.3]), ints('i16', [], [11])]));
  // DequantizeLinear: the same layouts, 8/16/32-bit data, f16 scales.
  cases.push(opCase('DequantizeLinear', [rints('u8', [3, 4, 10], 0, 255), f32([], [0.37]), ints('u8', [], [128])]));
  cases.push(opCase('DequantizeLinear', [rints('i8', [3, 4, 10], -128, 127), f32([], [0.1])]));
  cases.push(opCase('DequantizeLinear', [rints('i8', [3, 4, 10], -128, 127), r.f32([4], 0.01, 1), rints('i8', [4], -5, 5)]));
  cases.push(opCase('DequantizeLinear', [rints('u16', [3, 4, 10], 0, 65535), r.f32([3], 0.01, 1), rints('u16', [3], 0, 65535)], { axis: 0 }));
  cases.push(opCase('DequantizeLinear', [rints('i16', [3, 4, 10], -32768, 32767), r.f32([3, 4, 2], 0.01, 1), rints('i16', [3, 4, 2], -9, 9)], { axis: -1, block_size: 7 }));
  cases.push(opCase('DequantizeLinear', [rints('i32', [3, 4], -2000000000, 2000000000), f32([], [0.0123]), ints('i32', [], [-1999999999])]));
  cases.push(opCase('DequantizeLinear', [rints('u8', [4, 10], 0, 255), f16(r.f32([4], 0.01, 1)), rints('u8', [4], 0, 255)], { axis: 0 }));
  checkCuda('quantize/dequantize', cases, EXACT);
});

test('DynamicQuantizeLinear: mixed signs, all positive, all negative, all zero, long', () => {
  checkCuda('dynamic quantize', [
    opCase('DynamicQuantizeLinear', [r.f32([3, 7], -3, 5)], {}, { outputs: 3 }),
    opCase('DynamicQuantizeLinear', [r.f32([40], 1, 9)], {}, { outputs: 3 }),
    opCase('DynamicQuantizeLinear', [r.f32([2, 9], -9, -1)], {}, { outputs: 3 }),
    opCase('DynamicQuantizeLinear', [f32([5], [0, 0, 0, 0, 0])], {}, { outputs: 3 }),
    opCase('DynamicQuantizeLinear', [r.f32([5, 1000], -0.7, 31)], {}, { outputs: 3 }),
    opCase('DynamicQuantizeLinear', [r.f32([33], -1, 1)]), // scale and zero point dropped: scratch
  ], EXACT);
});

test('MatMulInteger and QLinearMatMul: zero points per tensor / row / column, batches, 1-D', () => {
  const cases: OpCase[] = [];
  cases.push(opCase('MatMulInteger', [rints('u8', [5, 7], 0, 255), rints('u8', [7, 3], 0, 255), ints('u8', [], [12]), ints('u8', [], [200])]));
  cases.push(opCase('MatMulInteger', [rints('i8', [5, 7], -128, 127), rints('i8', [7, 6], -128, 127)]));
  cases.push(opCase('MatMulInteger', [rints('u8', [2, 5, 7], 0, 255), rints('i8', [7, 4], -128, 127), rints('u8', [5], 0, 255), rints('i8', [4], -9, 9)]));
  cases.push(opCase('MatMulInteger', [rints('i8', [3, 1, 4, 6], -128, 127), rints('u8', [2, 6, 5], 0, 255), null, rints('u8', [5], 0, 255)]));
  cases.push(opCase('MatMulInteger', [rints('u8', [6], 0, 255), rints('u8', [6, 3], 0, 255), ints('u8', [], [1])]));
  cases.push(opCase('MatMulInteger', [rints('u8', [4, 6], 0, 255), rints('u8', [6], 0, 255)]));
  // QLinearMatMul: operands, scales, zero points; y's scale and zero point.
  const qmm = (a: Tensor, sa: Tensor, za: Tensor, b: Tensor, sb: Tensor, zb: Tensor, sy: Tensor, zy: Tensor) => opCase('QLinearMatMul', [a, sa, za, b, sb, zb, sy, zy]);
  cases.push(qmm(rints('u8', [4, 9], 0, 255), f32([], [0.02]), ints('u8', [], [113]), rints('u8', [9, 5], 0, 255), f32([], [0.03]), ints('u8', [], [100]), f32([], [0.05]), ints('u8', [], [120])));
  cases.push(qmm(rints('i8', [2, 4, 9], -128, 127), f32([], [0.01]), ints('i8', [], [3]), rints('i8', [2, 9, 5], -128, 127), f32([], [0.02]), ints('i8', [], [-4]), f32([], [0.5]), ints('i8', [], [-1])));
  cases.push(qmm(rints('u8', [4, 9], 0, 255), r.f32([4], 0.01, 0.05), rints('u8', [4], 0, 255), rints('u8', [9, 5], 0, 255), r.f32([5], 0.01, 0.05), rints('u8', [5], 0, 255), f32([], [0.4]), ints('u8', [], [128])));
  // A huge requantized range saturates; a tiny one rounds ties.
  cases.push(qmm(rints('u8', [3, 9], 0, 255), f32([], [1]), ints('u8', [], [0]), rints('u8', [9, 5], 0, 255), f32([], [1]), ints('u8', [], [0]), f32([], [2]), ints('u8', [], [0])));
  checkCuda('matmul integer', cases, EXACT);
});

test('ConvInteger and QLinearConv: padding, strides, dilations, groups, bias, per-channel', () => {
  const cases: OpCase[] = [];
  cases.push(opCase('ConvInteger', [rints('u8', [1, 2, 5, 5], 0, 255), rints('u8', [3, 2, 3, 3], 0, 255), ints('u8', [], [7]), ints('u8', [], [130])]));
  cases.push(opCase('ConvInteger', [rints('u8', [2, 4, 7, 6], 0, 255), rints('i8', [6, 2, 3, 2], -128, 127), ints('u8', [], [1]), rints('i8', [6], -3, 3)], { group: 2, pads: [1, 0, 2, 1], strides: [2, 1] }));
  cases.push(opCase('ConvInteger', [rints('i8', [1, 3, 11], -128, 127), rints('i8', [2, 3, 3], -128, 127)], { dilations: [2], auto_pad: 'SAME_UPPER' }));
  cases.push(opCase('ConvInteger', [rints('u8', [1, 2, 4, 4], 0, 255), rints('u8', [2, 2, 2, 2], 0, 255), rints('u8', [2], 0, 255)], { pads: [1, 1, 1, 1] }));
  const qconv = (x: Tensor, sx: Tensor, zx: Tensor, w: Tensor, sw: Tensor, zw: Tensor, sy: Tensor, zy: Tensor, bias: Tensor | null, attrs = {}) => opCase('QLinearConv', [x, sx, zx, w, sw, zw, sy, zy, bias], attrs);
  cases.push(qconv(rints('u8', [1, 3, 6, 6], 0, 255), f32([], [0.02]), ints('u8', [], [128]), rints('u8', [4, 3, 3, 3], 0, 255), f32([], [0.01]), ints('u8', [], [127]), f32([], [0.3]), ints('u8', [], [100]), rints('i32', [4], -5000, 5000), { pads: [1, 1, 1, 1] }));
  cases.push(qconv(rints('i8', [2, 4, 5, 5], -128, 127), f32([], [0.05]), ints('i8', [], [2]), rints('i8', [4, 2, 2, 2], -127, 127), r.f32([4], 0.001, 0.02), ints('i8', [4], [0, 0, 0, 0]), f32([], [0.2]), ints('i8', [], [-3]), null, { group: 2, strides: [2, 2] }));
  checkCuda('conv integer', cases, EXACT);
});

test('fp8 quantization is refused (no CUDA storage element)', () => {
  const zp = makeTensor('f8e4m3fn' as DType, [], Float32Array.of(0));
  const c = opCase('QuantizeLinear', [r.f32([4]), f32([], [0.5]), zp], {}, { consts: [2] });
  assert.throws(() => lowerCudaModel(c.model), /f8e4m3fn, which the CUDA backend cannot store|fp8 or 4-bit/);
});

test.run();
