// QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, MatMulInteger, ConvInteger, QLinearMatMul
// and QLinearConv on the WGSL backend: every kernel validates under Dawn's null backend and on the
// software adapter agrees exactly with the reference interpreter (rounding half to even, saturation,
// zero points, per-axis and blocked parameters); fp8 / 4-bit types are unsupported with a reason;
// their ONNX conformance cases pass.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { DType } from '../../ir/dtype.ts';
import { LatheError } from '../../ir/errors.ts';
import { makeTensor, toF64 } from '../../ir/interp/tensor.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { runCaseOn } from '../../compiler/conformance.ts';
import { adapterDevice } from './kernel-harness.ts';
import { kernelsOf, lowerOp, mismatch, opCase, reference, rng, runOp, validate, checkOp, checkConformanceCases } from './ops-harness.ts';
import type { OpCase } from './ops-harness.ts';

const r = rng(23);

const check = (name: string, c: OpCase) => checkOp(name, c, 0, 0);

/** Integer tensors of any quantized dtype. */
function ints(dtype: DType, shape: number[], v: readonly number[]): Tensor {
  const ctor = { u8: Uint8Array, i8: Int8Array, u16: Uint16Array, i16: Int16Array, i32: Int32Array }[dtype as 'u8'];
  return makeTensor(dtype, shape, ctor.from(v));
}
/** Uniform random integers in [lo, hi] of `dtype`. */
function randInts(dtype: DType, shape: number[], lo: number, hi: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const u = r.f32([n], 0, 1).data as Float32Array;
  return ints(dtype, shape, Array.from(u, (x) => lo + Math.min(hi - lo, Math.floor(x * (hi - lo + 1)))));
}
const f32 = (shape: number[], v: readonly number[]) => makeTensor('f32', shape, Float32Array.from(v));
const RANGE: Record<string, [number, number]> = { u8: [0, 255], i8: [-128, 127], u16: [0, 65535], i16: [-32768, 32767] };

function expectUnsupported(c: OpCase, pattern: RegExp) {
  try {
    lowerOp(c);
    assert.unreachable('expected UnsupportedOp');
  } catch (e) {
    assert.ok(e instanceof LatheError && e.kind === 'UnsupportedOp', String(e));
    assert.match((e as Error).message, pattern);
  }
}

test('QuantizeLinear: ties to even, saturation, zero points, every integer target', async () => {
  // Exact ties (scale a power of two) and values past both ends of the range.
  const ties = f32([16], [0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 1000, -1000, 1e9, -1e9, 254.5, 255.5, -128.5, 0.25]);
  for (const dtype of ['u8', 'i8', 'u16', 'i16'] as const) {
    const [lo, hi] = RANGE[dtype]!;
    for (const z of [lo, Math.round((lo + hi) / 2)]) {
      await check(`Quantize ties ${dtype} zp ${z}`, opCase('QuantizeLinear', [ties, f32([], [0.5]), ints(dtype, [], [z])]));
    }
    const x = r.f32([7, 33], -300, 300);
    await check(`Quantize random ${dtype}`, opCase('QuantizeLinear', [x, f32([], [0.731]), ints(dtype, [], [hi >> 3])]));
  }
  // No zero point: u8, or output_dtype (opset 21).
  await check('Quantize no zp', opCase('QuantizeLinear', [r.f32([5, 6], -5, 300), f32([], [1.3])]));
  await check('Quantize output_dtype i16', opCase('QuantizeLinear', [r.f32([5, 6], -1e5, 1e5), f32([], [0.7])], { output_dtype: 5 }));
  // Opset 10 (per tensor only), i32 input (exact past 2^24).
  await check('Quantize opset 10', opCase('QuantizeLinear', [r.f32([4, 4]), f32([], [0.01]), ints('u8', [], [128])], {}, { opset: 10 }));
  const big = ints('i32', [8], [0, 3, -3, 16777217, -16777219, 2147483647, -2147483648, 1234567891]);
  await check('Quantize i32 input', opCase('QuantizeLinear', [big, f32([], [3]), ints('i16', [], [7])]));
  await check('Quantize i32 input u8', opCase('QuantizeLinear', [ints('i32', [6], [0, 1, 2, 3, 5, 7]), f32([], [2]), ints('u8', [], [1])], {}, { opset: 13 }));
});

test('QuantizeLinear: the quotient is rounded once, as the interpreter does', async () => {
  // Many scales and values; near-ties x = (k + ½)·s rounded to f32 are the hard ones.
  const n = 4096;
  const s = r.f32([n], 0.001, 3).data as Float32Array;
  const k = r.f32([n], -120, 120).data as Float32Array;
  const x = Float32Array.from(k, (v, i) => (Math.trunc(v) + 0.5) * s[i]!);
  for (let i = 0; i < n; i += 3) x[i] = k[i]! * s[i]!;
  // Per axis: one scale per element of the last dim.
  await check('Quantize near ties', opCase('QuantizeLinear', [makeTensor('f32', [1, n], x), makeTensor('f32', [n], s), ints('i8', [n], new Array(n).fill(3))], { axis: 1 }));
});

test('QuantizeLinear and DequantizeLinear: per axis and blocked', async () => {
  const x = r.f32([3, 4, 5], -4, 4);
  for (const axis of [0, 1, 2, -1, -3]) {
    const D = x.shape[axis < 0 ? axis + 3 : axis]!;
    const s = r.f32([D], 0.01, 0.05);
    const z = randInts('i8', [D], -20, 20);
    await check(`Quantize axis ${axis}`, opCase('QuantizeLinear', [x, s, z], { axis }));
    const q = randInts('i8', [3, 4, 5], -128, 127);
    await check(`Dequantize axis ${axis}`, opCase('DequantizeLinear', [q, s, z], { axis }));
  }
  // Blocked (opset 21): dim `axis` of the scale counts blocks (the last one may be short).
  for (const [axis, block] of [[0, 2], [1, 3], [2, 2], [2, 5], [-1, 4]] as const) {
    const a = axis < 0 ? axis + 3 : axis;
    const ps = [...x.shape];
    ps[a] = Math.ceil(x.shape[a]! / block);
    const s = r.f32(ps, 0.01, 0.05);
    const z = randInts('u16', ps, 0, 65535);
    await check(`Quantize blocked axis ${axis} block ${block}`, opCase('QuantizeLinear', [x, s, z], { axis, block_size: block }));
    await check(`Quantize blocked no zp axis ${axis} block ${block}`, opCase('QuantizeLinear', [x, s], { axis, block_size: block, output_dtype: 3 }));
    const q = randInts('u16', [3, 4, 5], 0, 65535);
    await check(`Dequantize blocked axis ${axis} block ${block}`, opCase('DequantizeLinear', [q, s, z], { axis, block_size: block }));
  }
});

test('DequantizeLinear: types, zero points, i32 data', async () => {
  for (const dtype of ['u8', 'i8', 'u16', 'i16'] as const) {
    const [lo, hi] = RANGE[dtype]!;
    const q = randInts(dtype, [6, 7], lo, hi);
    await check(`Dequantize ${dtype}`, opCase('DequantizeLinear', [q, f32([], [0.0371]), ints(dtype, [], [Math.round((lo + hi) / 3)])]));
    await check(`Dequantize ${dtype} no zp`, opCase('DequantizeLinear', [q, f32([], [1.7e-3])]));
  }
  const big = ints('i32', [8], [0, 1, -1, 16777217, -16777219, 2147483647, -2147483648, 1234567891]);
  await check('Dequantize i32', opCase('DequantizeLinear', [big, f32([], [0.3])]));
  await check('Dequantize i32 zp', opCase('DequantizeLinear', [big, f32([], [0.3]), ints('i32', [], [-2147483648])]));
  await check('Dequantize opset 10', opCase('DequantizeLinear', [randInts('u8', [9], 0, 255), f32([], [0.5]), ints('u8', [], [9])], {}, { opset: 10 }));
});

test('DynamicQuantizeLinear: range through 0, adjusted min/max, all zeros, large inputs', async () => {
  const dq = (x: Tensor) => opCase('DynamicQuantizeLinear', [x], {}, { outputs: 3 });
  await check('DQL small', dq(f32([6], [0, 2, -3, -2.5, 1.34, 0.5])));
  await check('DQL positive', dq(f32([2, 3], [1, 2.1, 1.3, 2.5, 3.34, 10])));
  await check('DQL negative', dq(f32([2, 3], [-1, -2.1, -1.3, -2.5, -3.34, -4])));
  await check('DQL zeros', dq(f32([4], [0, 0, 0, 0])));
  await check('DQL NaN skipped', dq(f32([5], [1, NaN, -2, 3, 0.5])));
  for (const [n, lo, hi] of [[1000, -3, 7], [4099, -0.001, 0.002], [70000, -500, 20]] as const) {
    await check(`DQL ${n} in [${lo}, ${hi}]`, dq(r.f32([n], lo, hi)));
  }
  // Only y used: the scale and zero point live in scratch.
  await check('DQL y only', opCase('DynamicQuantizeLinear', [r.f32([3, 50], -2, 9)]));
});

test('MatMulInteger: u8/i8, zero points per tensor, per row and per column, batches', async () => {
  for (const [ad, bd] of [['u8', 'u8'], ['u8', 'i8'], ['i8', 'i8'], ['i8', 'u8']] as const) {
    const [alo, ahi] = RANGE[ad]!;
    const [blo, bhi] = RANGE[bd]!;
    const a = randInts(ad, [5, 17], alo, ahi);
    const b = randInts(bd, [17, 6], blo, bhi);
    await check(`MatMulInteger ${ad}×${bd}`, opCase('MatMulInteger', [a, b]));
    await check(`MatMulInteger ${ad}×${bd} zps`, opCase('MatMulInteger', [a, b, ints(ad, [], [alo + 7]), ints(bd, [], [bhi - 9])]));
    await check(`MatMulInteger ${ad}×${bd} per row/col`, opCase('MatMulInteger', [a, b, randInts(ad, [5], alo, ahi), randInts(bd, [6], blo, bhi)]));
  }
  const a3 = randInts('u8', [2, 3, 4, 9], 0, 255);
  await check('MatMulInteger batch × matrix', opCase('MatMulInteger', [a3, randInts('u8', [9, 5], 0, 255), ints('u8', [], [12]), ints('u8', [], [200])]));
  await check('MatMulInteger broadcast batches', opCase('MatMulInteger', [a3, randInts('i8', [3, 9, 2], -128, 127)]));
  await check('MatMulInteger 1-D A', opCase('MatMulInteger', [randInts('u8', [9], 0, 255), randInts('u8', [2, 9, 3], 0, 255)]));
  await check('MatMulInteger 1-D B', opCase('MatMulInteger', [a3, randInts('u8', [9], 0, 255)]));
  await check('MatMulInteger long K', opCase('MatMulInteger', [randInts('u8', [3, 3000], 0, 255), randInts('u8', [3000, 2], 0, 255)]));
});

test('QLinearMatMul: requantized exactly; scales per row/column', async () => {
  for (const [ad, bd, yd] of [['u8', 'u8', 'u8'], ['i8', 'i8', 'i8'], ['u8', 'i8', 'u8'], ['i8', 'u8', 'i8']] as const) {
    const [alo, ahi] = RANGE[ad]!;
    const [blo, bhi] = RANGE[bd]!;
    const [ylo, yhi] = RANGE[yd]!;
    const M = 24;
    const K = 40;
    const N = 32;
    const a = randInts(ad, [M, K], alo, ahi);
    const b = randInts(bd, [K, N], blo, bhi);
    const az = ints(ad, [], [(alo + ahi) >> 1]);
    const bz = ints(bd, [], [blo + 3]);
    const yz = ints(yd, [], [ylo + 40]);
    await check(`QLinearMatMul ${ad}·${bd}→${yd}`, opCase('QLinearMatMul', [a, f32([], [0.0123]), az, b, f32([], [0.0456]), bz, f32([], [0.71]), yz]));
    await check(
      `QLinearMatMul ${ad}·${bd}→${yd} per row/col`,
      opCase('QLinearMatMul', [a, r.f32([M], 0.001, 0.02), randInts(ad, [M], alo, ahi), b, r.f32([N], 0.001, 0.02), randInts(bd, [N], blo, bhi), f32([], [yhi / 800]), yz]),
    );
  }
  const a = randInts('u8', [2, 3, 16], 0, 255);
  const b = randInts('u8', [2, 16, 5], 0, 255);
  await check('QLinearMatMul batched', opCase('QLinearMatMul', [a, f32([], [0.02]), ints('u8', [], [100]), b, f32([], [0.03]), ints('u8', [], [140]), f32([], [0.05]), ints('u8', [], [90])]));
  // Exact ties: acc · sa · sb / sy lands on k + ½.
  const ta = ints('u8', [1, 8], [1, 3, 5, 7, 9, 11, 13, 15]);
  const tb = ints('u8', [8, 8], Array.from({ length: 64 }, (_, i) => (i % 9 === 0 ? 1 : 0)));
  await check('QLinearMatMul ties', opCase('QLinearMatMul', [ta, f32([], [0.5]), ints('u8', [], [0]), tb, f32([], [1]), ints('u8', [], [0]), f32([], [1]), ints('u8', [], [0])]));
  // Many outputs in range: three f32 roundings instead of one would get some of these wrong.
  const ma = randInts('u8', [128, 64], 0, 255);
  const mb = randInts('u8', [64, 128], 0, 255);
  await check(
    'QLinearMatMul 16384 outputs',
    opCase('QLinearMatMul', [ma, r.f32([128], 0.008, 0.012), ints('u8', [], [128]), mb, r.f32([128], 0.008, 0.012), ints('u8', [], [127]), f32([], [0.9731]), ints('u8', [], [128])]),
  );
  // Large accumulators (past 2^24 before scaling).
  const la = randInts('u8', [4, 600], 200, 255);
  const lb = randInts('u8', [600, 4], 200, 255);
  await check('QLinearMatMul large acc', opCase('QLinearMatMul', [la, f32([], [1e-3]), ints('u8', [], [0]), lb, f32([], [1.7e-3]), ints('u8', [], [0]), f32([], [113.7]), ints('u8', [], [3])]));
});

test('ConvInteger and QLinearConv: pads, strides, dilations, groups, per-channel weights', async () => {
  const geoms: [string, number[], number[], Record<string, number | number[] | string>][] = [
    ['plain', [1, 3, 7, 6], [4, 3, 3, 3], {}],
    ['pads strides', [2, 2, 8, 9], [3, 2, 3, 2], { pads: [1, 0, 2, 1], strides: [2, 1] }],
    ['dilations', [1, 2, 9, 9], [2, 2, 3, 3], { dilations: [2, 3], pads: [1, 1, 1, 1] }],
    ['groups', [1, 4, 6, 6], [6, 2, 2, 2], { group: 2 }],
    ['depthwise same', [1, 3, 5, 7], [3, 1, 3, 3], { group: 3, auto_pad: 'SAME_UPPER' }],
    ['1-D', [2, 3, 11], [2, 3, 4], { strides: [3], pads: [2, 1] }],
    ['3-D', [1, 2, 4, 4, 3], [2, 2, 2, 2, 2], {}],
  ];
  for (const [name, xs, ws, attrs] of geoms) {
    const M = ws[0]!;
    const x = randInts('u8', xs, 0, 255);
    const w = randInts('i8', ws, -128, 127);
    await check(`ConvInteger ${name}`, opCase('ConvInteger', [x, w], attrs));
    await check(`ConvInteger ${name} zps`, opCase('ConvInteger', [x, w, ints('u8', [], [131]), randInts('i8', [M], -20, 20)], attrs));
    const bias = randInts('i32', [M], -5000, 5000);
    await check(
      `QLinearConv ${name}`,
      opCase('QLinearConv', [x, f32([], [0.013]), ints('u8', [], [121]), w, r.f32([M], 0.002, 0.02), randInts('i8', [M], -3, 3), f32([], [0.09]), ints('u8', [], [128]), bias], attrs),
    );
    await check(
      `QLinearConv ${name} i8, no bias`,
      opCase('QLinearConv', [randInts('i8', xs, -128, 127), f32([], [0.05]), ints('i8', [], [-4]), w, f32([], [0.004]), ints('i8', [], [0]), f32([], [0.21]), ints('i8', [], [5])], attrs),
    );
  }
});

test('fp8 and 4-bit quantization are unsupported, naming why', () => {
  const x = r.f32([4, 4]);
  expectUnsupported(opCase('QuantizeLinear', [x, f32([], [0.1])], { output_dtype: 17 }), /f8e4m3fn.*no storage/);
  expectUnsupported(opCase('QuantizeLinear', [x, f32([], [0.1])], { output_dtype: 22 }), /i4.*no storage/);
});

test('QLinearMatMul: near-ties where three f32 roundings would differ from the interpreter', async () => {
  // acc = a·b over every pair of bytes; scales picked (deterministically) so that rounding
  // acc·sa·sb/sy once (the interpreter) and rounding each step in f32 disagree on many outputs.
  const fr = Math.fround;
  const g = rng(7);
  let best: [number, number, number] = [0, 0, 0];
  let bestBad = -1;
  for (let trial = 0; trial < 40; trial++) {
    const [sa, sb, j] = g.f32([3], 0.01, 0.1).data as Float32Array;
    const sy = fr(((65025 * sa! * sb!) / 250) * (0.9 + j!));
    let bad = 0;
    for (let a = 0; a < 256; a++) {
      for (let b = 0; b < 256; b++) {
        const acc = a * b;
        if (Math.round(fr((acc * (sa! * sb!)) / sy)) !== Math.round(fr(fr(fr(acc * sa!) * sb!) / sy))) bad++;
      }
    }
    if (bad > bestBad) [best, bestBad] = [[sa!, sb!, sy], bad];
  }
  assert.ok(bestBad > 0, 'no scales where the roundings disagree');
  const all = Array.from({ length: 256 }, (_, i) => i);
  const c = opCase('QLinearMatMul', [ints('u8', [256, 1], all), f32([], [best[0]]), ints('u8', [], [0]), ints('u8', [1, 256], all), f32([], [best[1]]), ints('u8', [], [0]), f32([], [best[2]]), ints('u8', [], [0])]);
  await check(`QLinearMatMul near-ties (${bestBad} naive misses)`, c);
});

// Conformance: every case of these ops passes on the WGSL backend.
test('conformance cases on the WGSL backend', async () => {
  await checkConformanceCases(['test_quantizelinear', 'test_dequantizelinear', 'test_dynamicquantizelinear', 'test_qlinear', 'test_matmulinteger', 'test_basic_convinteger', 'test_convinteger'], 17);
});

test.run();
