// Quantization evaluators: the ONNX conformance cases, and hand-checked corners the conformance
// data (ONNX 1.12) does not reach: opset-19/21 fp8, 4-bit, 16-bit and blocked quantization.
// The fp8/int4/blocked expectations were also cross-checked against ONNX Runtime 1.30.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { casesFor, conformanceReport, haveConformance } from './misc-conformance.ts';
import { evalOp, shapeOf, t, vals } from './misc-helpers.ts';

test('conformance: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, integer and QLinear ops', () => {
  if (!haveConformance) return console.log('  (skipped: libonnx-testdata not installed)');
  const cases = casesFor('quantizelinear', 'dequantizelinear', 'dynamicquantizelinear', 'matmulinteger', 'convinteger', 'qlinear');
  const r = conformanceReport(cases);
  console.log(`  quantization conformance: ${r.passed}/${r.total}`);
  assert.equal(r.unexpected, []);
  assert.ok(r.total >= 16);
});

test('QuantizeLinear rounds half to even and saturates', () => {
  const x = t('f32', [8], [-3.5, -1.5, -0.5, 0.5, 1.5, 2.5, 300, -300]);
  const [y] = evalOp('QuantizeLinear', [x, t('f32', [], [1]), t('i8', [], [0])]);
  assert.equal(vals(y), [-4, -2, 0, 0, 2, 2, 127, -128]);
  const [u] = evalOp('QuantizeLinear', [x, t('f32', [], [1])]); // no zero point: u8
  assert.equal(vals(u), [0, 0, 0, 0, 2, 2, 255, 0]);
});

test('QuantizeLinear per axis, 16-bit and output_dtype', () => {
  const x = t('f32', [2, 3], [1, 2, 3, 4, 5, 6]);
  const [y] = evalOp('QuantizeLinear', [x, t('f32', [2], [0.5, 2]), t('u16', [2], [1, 65534])], { axis: 0 });
  assert.equal(vals(y), [3, 5, 7, 65535, 65535, 65535]);
  const [z] = evalOp('QuantizeLinear', [x, t('f32', [], [0.01])], { output_dtype: 5 });
  assert.equal((z as { dtype: string }).dtype, 'i16');
  assert.equal(vals(z), [100, 200, 300, 400, 500, 600]);
});

test('QuantizeLinear blocked (block_size) and DequantizeLinear blocked', () => {
  const x = t('f32', [2, 4], [1, 2, 3, 4, 5, 6, 7, 8]);
  // Blocks of 2 along axis 1: scale [2, 2].
  const s = t('f32', [2, 2], [1, 2, 0.5, 4]);
  const [q] = evalOp('QuantizeLinear', [x, s, t('i8', [2, 2], [0, 1, 2, 3])], { axis: 1, block_size: 2 });
  assert.equal(vals(q), [1, 2, 3, 3, 12, 14, 5, 5]);
  const [d] = evalOp('DequantizeLinear', [q, s, t('i8', [2, 2], [0, 1, 2, 3])], { axis: 1, block_size: 2 });
  assert.equal(vals(d), [1, 2, 4, 4, 5, 6, 8, 8]);
});

test('QuantizeLinear to int4/uint4 clamps to 4 bits', () => {
  const x = t('f32', [5], [-10, -8.5, 3.5, 7.6, 100]);
  const [i4] = evalOp('QuantizeLinear', [x, t('f32', [], [1])], { output_dtype: 22 });
  assert.equal(vals(i4), [-8, -8, 4, 7, 7]);
  const [u4] = evalOp('QuantizeLinear', [x, t('f32', [], [1])], { output_dtype: 21 });
  assert.equal(vals(u4), [0, 0, 4, 8, 15]);
});

test('QuantizeLinear to fp8 with and without saturation', () => {
  const x = t('f32', [3], [1e6, -1e6, 0.30000001]);
  const one = t('f32', [], [1]);
  const sat = (code: number, s: number) => vals(evalOp('QuantizeLinear', [x, one], { output_dtype: code, saturate: s })[0]);
  assert.equal(sat(17, 1), [448, -448, 0.3125]);
  assert.ok(sat(17, 0).slice(0, 2).every((v) => Number.isNaN(v))); // e4m3fn has no Inf
  assert.equal(sat(19, 1), [57344, -57344, 0.3125]);
  assert.equal(sat(19, 0).slice(0, 2), [Infinity, -Infinity]);
  assert.ok(sat(20, 0).slice(0, 2).every((v) => Number.isNaN(v))); // fnuz: NaN only
});

test('DequantizeLinear: result dtype is the scale dtype; i32 and per axis', () => {
  const [y] = evalOp('DequantizeLinear', [t('u8', [2, 3], [0, 1, 2, 250, 128, 7]), t('f32', [3], [0.5, 1, 2]), t('u8', [3], [1, 2, 3])]);
  assert.equal(vals(y), [-0.5, -1, -2, 124.5, 126, 8]);
  const [h] = evalOp('DequantizeLinear', [t('i32', [2], [100001, -3]), t('f16', [], [0.5])]);
  assert.equal((h as { dtype: string }).dtype, 'f16');
  assert.equal(vals(h), [50016, -1.5]); // 50000.5 rounds to the nearest f16 (a step of 32)
});

test('DynamicQuantizeLinear keeps 0 in range', () => {
  const [y, s, z] = evalOp('DynamicQuantizeLinear', [t('f32', [4], [0, 2, -1, 0.5])], {}, { outputs: 3 });
  assert.equal(vals(s), [Math.fround(3 / 255)]);
  assert.equal(vals(z), [85]);
  // 0.5 / f32(3/255) is just under 42.5 in f32, so it rounds down (ONNX Runtime agrees).
  assert.equal(vals(y), [85, 255, 0, 127]);
  const [y0, s0, z0] = evalOp('DynamicQuantizeLinear', [t('f32', [2], [0, 0])], {}, { outputs: 3 });
  assert.equal([vals(y0), vals(s0), vals(z0)], [[0, 0], [0], [0]]);
});

test('MatMulInteger with per-row and per-column zero points, batched', () => {
  const a = t('u8', [2, 3], [1, 2, 3, 200, 5, 6]);
  const b = t('u8', [3, 2], [7, 8, 9, 10, 11, 255]);
  const [y] = evalOp('MatMulInteger', [a, b, t('u8', [2], [3, 4]), t('u8', [2], [5, 6])]);
  // Row 0 − 3 = [-2, -1, 0]; row 1 − 4 = [196, 1, 2]; cols − [5, 6]: [[2, 4, 6], [2, 4, 249]].
  assert.equal(vals(y), [-2 * 2 - 4, -2 * 2 - 4, 196 * 2 + 4 + 12, 196 * 2 + 4 + 498]);
  const [z] = evalOp('MatMulInteger', [t('i8', [2, 1, 2], [1, -2, -128, 5]), t('i8', [2, 1], [3, 127])]);
  assert.equal(shapeOf(z), [2, 1, 1]);
  assert.equal(vals(z), [3 - 254, -384 + 635]);
});

test('QLinearMatMul requantizes with per-column scales', () => {
  const [y] = evalOp('QLinearMatMul', [
    t('u8', [1, 2], [10, 20]), t('f32', [], [0.5]), t('u8', [], [10]),
    t('u8', [2, 2], [1, 2, 3, 4]), t('f32', [2], [1, 0.25]), t('u8', [2], [1, 0]),
    t('f32', [], [0.5]), t('u8', [], [100]),
  ]);
  // (a − 10)·(b − zp) = [0, 10]·[[0, 2], [2, 4]] = [20, 40]; ×0.5×[1, 0.25] / 0.5 = [20, 10].
  assert.equal(vals(y), [120, 110]);
});

test.run();
