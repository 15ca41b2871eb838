// Shape inference of activations, elementwise math, quantization, signal, random and loss ops.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { a, infer, throwsShape } from './math-helpers.ts';

test('activations keep the operand type and take their attributes', () => {
  const x = 'f32[batch, 16]';
  for (const [op, attrs] of [
    ['Celu', { alpha: a.float(1) }], ['Elu', { alpha: a.float(1) }], ['Selu', { alpha: a.float(1), gamma: a.float(1) }],
    ['HardSigmoid', { alpha: a.float(0.2), beta: a.float(0.5) }], ['HardSwish', {}], ['LeakyRelu', { alpha: a.float(0.1) }],
    ['Shrink', { bias: a.float(0), lambd: a.float(0.5) }], ['Softplus', {}], ['ThresholdedRelu', { alpha: a.float(1) }],
    ['Mish', {}], ['Gelu', { approximate: a.string('tanh') }], ['Softmax', { axis: a.int(1) }], ['LogSoftmax', {}], ['Hardmax', {}],
  ] as const) {
    assert.equal(infer(op, [x], { attrs, opset: 20 }), [x], op);
  }
  // Opset 1's in-place hint is accepted.
  assert.equal(infer('Elu', [x], { opset: 1, attrs: { consumed_inputs: a.ints(0) } }), [x]);
  throwsShape(() => infer('Softmax', ['i32[2, 3]']), /dtype i32/);
  throwsShape(() => infer('Softmax', [x], { attrs: { axis: a.int(2) } }), /axis 2 is out of range for rank 2/);
  assert.equal(infer('PRelu', ['f32[n, 3, 8, 8]', 'f32[3, 1, 1]']), ['f32[n, 3, 8, 8]']);
  throwsShape(() => infer('PRelu', ['f32[n, 3, 8, 8]', 'f32[4, 1, 1]']), /slope \[4, 1, 1\] does not broadcast/);
});

test('unknown and mistyped attributes are rejected', () => {
  throwsShape(() => infer('Elu', ['f32[2]'], { attrs: { beta: a.float(1) } }), /unknown attribute 'beta'/, 'VerifyError');
  throwsShape(() => infer('Elu', ['f32[2]'], { attrs: { alpha: a.int(1) } }), /'alpha' must be float, got int/, 'VerifyError');
});

test('Clip: attribute bounds before opset 11, inputs after', () => {
  assert.equal(infer('Clip', ['f32[n, 4]'], { opset: 6, attrs: { min: a.float(0), max: a.float(6) } }), ['f32[n, 4]']);
  assert.equal(infer('Clip', ['f32[n, 4]', 'f32[]', null], { opset: 13 }), ['f32[n, 4]']);
  assert.equal(infer('Clip', ['i8[n, 4]', 'i8[]', 'i8[]'], { opset: 13 }), ['i8[n, 4]']);
  throwsShape(() => infer('Clip', ['f32[4]'], { opset: 11, attrs: { min: a.float(0) } }), /became an input at opset 11/);
  throwsShape(() => infer('Clip', ['f32[4]', 'f32[]'], { opset: 6 }), /only from opset 11/);
  throwsShape(() => infer('Clip', ['f32[4]', 'f16[]'], { opset: 13 }), /bound operand 1 has dtype f16/);
});

test('Pow, Mod, BitShift, IsInf, IsNaN', () => {
  assert.equal(infer('Pow', ['f32[n, 3]', 'i64[3]'], { opset: 15 }), ['f32[n, 3]']);
  assert.equal(infer('Pow', ['f32[2, 3, 4, 5]', 'f32[3, 4]'], { opset: 6, attrs: { broadcast: a.int(1), axis: a.int(1) } }), ['f32[2, 3, 4, 5]']);
  throwsShape(() => infer('Pow', ['f32[3]', 'i64[3]'], { opset: 7 }), /operand 1 has dtype i64/);
  assert.equal(infer('Mod', ['i32[4, 1]', 'i32[3]']), ['i32[4, 3]']);
  throwsShape(() => infer('Mod', ['f32[4]', 'f32[4]']), /fmod must be 1/);
  assert.equal(infer('Mod', ['f32[4]', 'f32[4]'], { attrs: { fmod: a.int(1) } }), ['f32[4]']);
  assert.equal(infer('BitShift', ['u8[3]', 'u8[]'], { attrs: { direction: a.string('LEFT') } }), ['u8[3]']);
  throwsShape(() => infer('BitShift', ['i8[3]', 'i8[]'], { attrs: { direction: a.string('LEFT') } }), /dtype i8/);
  assert.equal(infer('IsInf', ['f64[n]'], { attrs: { detect_negative: a.int(0) } }), ['bool[n]']);
  assert.equal(infer('IsNaN', ['f16[2, 2]']), ['bool[2, 2]']);
});

test('Sum/Max/Min/Mean broadcast any number of operands', () => {
  assert.equal(infer('Sum', ['f32[3]', 'f32[2, 1]', 'f32[]']), ['f32[2, 3]']);
  assert.equal(infer('Max', ['i64[n, 1]', 'i64[4]']), ['i64[n, 4]']);
  assert.equal(infer('Min', ['f32[5]']), ['f32[5]']);
  assert.equal(infer('Mean', ['f32[2]', 'f32[2]'], { opset: 1, attrs: { consumed_inputs: a.ints(0, 0) } }), ['f32[2]']);
  throwsShape(() => infer('Sum', ['f32[3]', 'f32[4]']), /do not broadcast/);
  throwsShape(() => infer('Max', ['f32[3]', 'i32[3]']), /share one dtype/);
});

test('QuantizeLinear/DequantizeLinear: zero-point types, output_dtype, per-axis scales', () => {
  assert.equal(infer('QuantizeLinear', ['f32[n, 4]', 'f32[]', 'i8[]']), ['i8[n, 4]']);
  assert.equal(infer('QuantizeLinear', ['f32[n, 4]', 'f32[]'], { opset: 10 }), ['u8[n, 4]']);
  assert.equal(infer('QuantizeLinear', ['f32[n, 4]', 'f32[4]', 'f8e4m3fn[4]'], { opset: 19, attrs: { axis: a.int(1), saturate: a.int(1) } }), ['f8e4m3fn[n, 4]']);
  assert.equal(infer('QuantizeLinear', ['f16[n, 64]', 'f16[n, 2]'], { opset: 21, attrs: { block_size: a.int(32), output_dtype: a.int(22) } }), ['i4[n, 64]']);
  throwsShape(() => infer('QuantizeLinear', ['f32[4]', 'f32[]', 'i4[]'], { opset: 19 }), /dtype i4/);
  throwsShape(() => infer('QuantizeLinear', ['f32[3, 4]', 'f32[3]', 'u8[3]'], { opset: 13 }), /per-axis scale \[3\] .* differ: 3 vs 4/);
  assert.equal(infer('DequantizeLinear', ['i8[n, 4]', 'f32[]', 'i8[]']), ['f32[n, 4]']);
  assert.equal(infer('DequantizeLinear', ['u4[n, 4]', 'f16[]'], { opset: 21 }), ['f16[n, 4]']);
  throwsShape(() => infer('DequantizeLinear', ['i8[4]', 'f32[]', 'u8[]']), /zero point is u8 but input is i8/);
  assert.equal(infer('DynamicQuantizeLinear', ['f32[n, 4]'], { outputs: 3 }), ['u8[n, 4]', 'f32[]', 'u8[]']);
});

test('DFT: axis attribute (17) and input (20), onesided, dft_length', () => {
  assert.equal(infer('DFT', ['f32[1, 10, 10, 1]'], { attrs: { axis: a.int(2) } }), ['f32[1, 10, 10, 2]']);
  assert.equal(infer('DFT', ['f32[b, 16, 1]'], { attrs: { onesided: a.int(1) } }), ['f32[b, 9, 2]']);
  assert.equal(infer('DFT', ['f32[b, 16, 2]', { ints: [32], scalar: true }]), ['f32[b, 32, 2]']);
  assert.equal(infer('DFT', ['f32[b, 16, 8, 2]', null, { ints: [-2], scalar: true }], { opset: 20 }), ['f32[b, 16, 8, 2]']);
  assert.equal(infer('DFT', ['f32[b, 16, 8, 1]', null, { ints: [1], scalar: true }], { opset: 20, attrs: { onesided: a.int(1) } }), ['f32[b, 9, 8, 2]']);
  throwsShape(() => infer('DFT', ['f32[b, 16, 2]'], { opset: 20, attrs: { axis: a.int(1) } }), /became input 2 at opset 20/);
  throwsShape(() => infer('DFT', ['f32[b, 16, 3]']), /last axis must be 1 \(real\) or 2 \(complex\)/);
});

test('STFT, windows, MelWeightMatrix', () => {
  const stft = infer('STFT', ['f32[1, 128, 1]', { ints: [8], scalar: true }, null, { ints: [16], scalar: true }]);
  assert.equal(stft, ['f32[1, 15, 9, 2]']);
  const win = infer('STFT', ['f32[b, 128, 1]', { ints: [8], scalar: true }, 'f32[16]'], { attrs: { onesided: a.int(0) } });
  assert.equal(win, ['f32[b, 15, 16, 2]']);
  assert.equal(infer('HannWindow', [{ ints: [10], scalar: true }]), ['f32[10]']);
  assert.equal(infer('BlackmanWindow', [{ ints: [10], scalar: true, dtype: 'i32' }], { attrs: { output_datatype: a.int(11), periodic: a.int(0) } }), ['f64[10]']);
  assert.equal(infer('HammingWindow', ['i64[]']), ['f32[?]']);
  const mel = infer('MelWeightMatrix', [{ ints: [8], scalar: true }, { ints: [16], scalar: true }, { ints: [8192], scalar: true }, 'f32[]', 'f32[]']);
  assert.equal(mel, ['f32[9, 8]']);
});

test('random ops and Dropout', () => {
  assert.equal(infer('RandomUniform', [], { attrs: { shape: a.ints(2, 3), dtype: a.int(11) } }), ['f64[2, 3]']);
  assert.equal(infer('RandomNormal', [], { attrs: { shape: a.ints(4), seed: a.float(1) } }), ['f32[4]']);
  assert.equal(infer('RandomUniformLike', ['f16[n, 3]']), ['f16[n, 3]']);
  assert.equal(infer('RandomNormalLike', ['i64[n, 3]'], { attrs: { dtype: a.int(1) } }), ['f32[n, 3]']);
  assert.equal(infer('Bernoulli', ['f32[n, 3]'], { opset: 15, attrs: { dtype: a.int(9) } }), ['bool[n, 3]']);
  assert.equal(infer('Multinomial', ['f32[n, 10]'], { attrs: { sample_size: a.int(5) } }), ['i32[n, 5]']);
  assert.equal(infer('Dropout', ['f32[n, 8]', 'f32[]', 'bool[]'], { opset: 13, outputs: 2 }), ['f32[n, 8]', 'bool[n, 8]']);
  assert.equal(infer('Dropout', ['f32[n, 8]'], { opset: 7, attrs: { ratio: a.float(0.1) }, outputs: 2 }), ['f32[n, 8]', 'f32[n, 8]']);
  assert.equal(infer('Dropout', ['f32[n, 8]'], { opset: 6, attrs: { is_test: a.int(1) } }), ['f32[n, 8]']);
  throwsShape(() => infer('Dropout', ['f32[4]'], { opset: 13, attrs: { ratio: a.float(0.1) } }), /became an input at opset 12/);
});

test('NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss', () => {
  assert.equal(infer('NegativeLogLikelihoodLoss', ['f32[n, 5, 7]', 'i64[n, 7]']), ['f32[]']);
  assert.equal(infer('NegativeLogLikelihoodLoss', ['f32[n, 5, 7]', 'i64[n, 7]', 'f32[5]'], { attrs: { reduction: a.string('none') } }), ['f32[n, 7]']);
  const sce = infer('SoftmaxCrossEntropyLoss', ['f32[n, 5]', 'i64[n]'], { attrs: { reduction: a.string('sum'), ignore_index: a.int(-1) }, outputs: 2 });
  assert.equal(sce, ['f32[]', 'f32[n, 5]']);
  throwsShape(() => infer('NegativeLogLikelihoodLoss', ['f32[3, 5, 7]', 'i64[3, 6]']), /differ: 7 vs 6/);
  throwsShape(() => infer('NegativeLogLikelihoodLoss', ['f32[3, 5]', 'i64[3]', 'f32[4]']), /weight length and classes differ: 4 vs 5/);
});

test.run();
