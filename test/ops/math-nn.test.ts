// Shape inference of the NN layer ops: convolution, pooling, normalization, recurrent layers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { a, infer, throwsShape } from './math-helpers.ts';

test('Conv: ViT patch embedding keeps the symbolic batch', () => {
  const out = infer('Conv', ['f32[batch, 3, 224, 224]', 'f32[768, 3, 16, 16]', 'f32[768]'], {
    attrs: { strides: a.ints(16, 16) },
  });
  assert.equal(out, ['f32[batch, 768, 14, 14]']);
});

test('Conv: pads, dilations, groups, auto_pad', () => {
  const x = 'f32[1, 4, 7, 5]';
  const w = 'f32[2, 2, 3, 3]';
  assert.equal(infer('Conv', [x, w], { attrs: { group: a.int(2), pads: a.ints(1, 1, 1, 1), strides: a.ints(2, 2) } }), ['f32[1, 2, 4, 3]']);
  assert.equal(infer('Conv', [x, w], { attrs: { group: a.int(2), dilations: a.ints(2, 2) } }), ['f32[1, 2, 3, 1]']);
  assert.equal(infer('Conv', [x, w], { attrs: { group: a.int(2), auto_pad: a.string('SAME_UPPER'), strides: a.ints(2, 2) } }), ['f32[1, 2, 4, 3]']);
  assert.equal(infer('Conv', [x, w], { attrs: { group: a.int(2), auto_pad: a.string('VALID') } }), ['f32[1, 2, 5, 3]']);
  // Spatial symbols survive only a size-preserving window.
  assert.equal(infer('Conv', ['f32[n, 8, h, w]', 'f32[4, 8, 1, 1]']), ['f32[n, 4, h, w]']);
  assert.equal(infer('Conv', ['f32[n, 8, h, w]', 'f32[4, 8, 3, 3]'], { attrs: { pads: a.ints(1, 1, 1, 1) } }), ['f32[n, 4, ?, ?]']);
  assert.equal(infer('Conv', ['f32[n, 8, h, w]', 'f32[4, 8, 3, 3]'], { attrs: { auto_pad: a.string('SAME_LOWER') } }), ['f32[n, 4, h, w]']);
});

test('Conv: channel mismatch, window too big, wrong dtype', () => {
  throwsShape(() => infer('Conv', ['f32[1, 3, 8, 8]', 'f32[4, 2, 3, 3]']), /input channels .* differ: 3 vs 2/);
  throwsShape(() => infer('Conv', ['f32[1, 3, 2, 2]', 'f32[4, 3, 3, 3]']), /smaller than the \(dilated\) kernel 3/);
  throwsShape(() => infer('Conv', ['i32[1, 3, 8, 8]', 'i32[4, 3, 3, 3]']), /dtype i32/);
  throwsShape(() => infer('Conv', ['f32[1, 3, 8, 8]', 'f32[4, 3, 3, 3]', 'f32[5]']), /bias length and output channels differ: 5 vs 4/);
});

test('ConvTranspose: strides, output_padding, output_shape, SAME', () => {
  const x = 'f32[1, 1, 3, 3]';
  const w = 'f32[1, 2, 3, 3]';
  assert.equal(infer('ConvTranspose', [x, w]), ['f32[1, 2, 5, 5]']);
  assert.equal(infer('ConvTranspose', [x, w], { attrs: { strides: a.ints(3, 2), output_padding: a.ints(1, 1) } }), ['f32[1, 2, 10, 8]']);
  assert.equal(infer('ConvTranspose', [x, w], { attrs: { strides: a.ints(3, 2), output_shape: a.ints(10, 8) } }), ['f32[1, 2, 10, 8]']);
  assert.equal(infer('ConvTranspose', [x, w], { attrs: { strides: a.ints(2, 2), auto_pad: a.string('SAME_UPPER') } }), ['f32[1, 2, 6, 6]']);
  assert.equal(infer('ConvTranspose', ['f32[n, 1, 3, 3]', 'f32[1, 2, 3, 3]'], { attrs: { group: a.int(1), pads: a.ints(1, 1, 1, 1) } }), ['f32[n, 2, 3, 3]']);
});

test('ConvInteger and QLinearConv produce i32 / the output zero point type', () => {
  assert.equal(infer('ConvInteger', ['u8[1, 1, 3, 3]', 'u8[1, 1, 2, 2]', 'u8[]']), ['i32[1, 1, 2, 2]']);
  const q = infer('QLinearConv', ['u8[1, 1, 7, 7]', 'f32[]', 'u8[]', 'u8[1, 1, 1, 1]', 'f32[]', 'u8[]', 'f32[]', 'u8[]']);
  assert.equal(q, ['u8[1, 1, 7, 7]']);
});

test('pools: MaxPool with indices, ceil_mode, AveragePool, LpPool, global pools', () => {
  const x = 'f32[1, 3, 32, 32]';
  const mp = infer('MaxPool', [x], { attrs: { kernel_shape: a.ints(2, 2), strides: a.ints(2, 2) }, outputs: 2 });
  assert.equal(mp, ['f32[1, 3, 16, 16]', 'i64[1, 3, 16, 16]']);
  const ceil = infer('MaxPool', ['f32[1, 1, 4, 4]'], { attrs: { kernel_shape: a.ints(3, 3), strides: a.ints(2, 2), ceil_mode: a.int(1) } });
  assert.equal(ceil, ['f32[1, 1, 2, 2]']);
  const floor = infer('MaxPool', ['f32[1, 1, 4, 4]'], { attrs: { kernel_shape: a.ints(3, 3), strides: a.ints(2, 2) } });
  assert.equal(floor, ['f32[1, 1, 1, 1]']);
  assert.equal(infer('MaxPool', ['f32[1, 1, 5, 5]'], { attrs: { kernel_shape: a.ints(2, 2), dilations: a.ints(2, 2) } }), ['f32[1, 1, 3, 3]']);
  assert.equal(infer('AveragePool', ['f32[n, 3, 32]'], { attrs: { kernel_shape: a.ints(2), auto_pad: a.string('SAME_UPPER'), strides: a.ints(2) } }), ['f32[n, 3, 16]']);
  assert.equal(infer('LpPool', [x], { attrs: { kernel_shape: a.ints(3, 3), p: a.int(3) } }), ['f32[1, 3, 30, 30]']);
  assert.equal(infer('GlobalAveragePool', ['f32[batch, 512, 7, 7]']), ['f32[batch, 512, 1, 1]']);
  assert.equal(infer('GlobalMaxPool', ['f32[batch, 512, h, w]']), ['f32[batch, 512, 1, 1]']);
  assert.equal(infer('GlobalLpPool', ['f32[2, 3, 5]']), ['f32[2, 3, 1]']);
  throwsShape(() => infer('MaxPool', ['f32[1, 3, 32]'], { attrs: { kernel_shape: a.ints(2, 2) } }), /must have rank 4 for a 2-D kernel/);
  throwsShape(() => infer('AveragePool', [x], { attrs: { kernel_shape: a.ints(2, 2), pads: a.ints(1, 1) } }), /pads has 2 values; 4 expected/);
});

test('MaxUnpool: computed size and the output_shape operand', () => {
  const x = 'f32[1, 1, 2, 2]';
  const i = 'i64[1, 1, 2, 2]';
  assert.equal(infer('MaxUnpool', [x, i], { attrs: { kernel_shape: a.ints(2, 2), strides: a.ints(2, 2) } }), ['f32[1, 1, 4, 4]']);
  const given = infer('MaxUnpool', [x, i, { ints: [1, 1, 5, 5] }], { attrs: { kernel_shape: a.ints(2, 2), strides: a.ints(2, 2) } });
  assert.equal(given, ['f32[1, 1, 5, 5]']);
});

test('LayerNormalization: Mean and InvStdDev keep the leading axes in stash_type', () => {
  const out = infer('LayerNormalization', ['f16[batch, seq, 768]', 'f16[768]', 'f16[768]'], { outputs: 3 });
  assert.equal(out, ['f16[batch, seq, 768]', 'f32[batch, seq, 1]', 'f32[batch, seq, 1]']);
  const ax1 = infer('LayerNormalization', ['f32[2, 3, 4]', 'f32[3, 4]'], { attrs: { axis: a.int(1), stash_type: a.int(11) }, outputs: 2 });
  assert.equal(ax1, ['f32[2, 3, 4]', 'f64[2, 1, 1]']);
  throwsShape(() => infer('LayerNormalization', ['f32[2, 3, 4]', 'f32[5]']), /Scale \[5\] does not broadcast/);
});

test('BatchNormalization: results by opset and training_mode', () => {
  const ins = ['f32[n, 3, 8, 8]', 'f32[3]', 'f32[3]', 'f32[3]', 'f32[3]'];
  assert.equal(infer('BatchNormalization', ins, { opset: 15 }), ['f32[n, 3, 8, 8]']);
  const train = infer('BatchNormalization', ins, { opset: 15, attrs: { training_mode: a.int(1) }, outputs: 3 });
  assert.equal(train, ['f32[n, 3, 8, 8]', 'f32[3]', 'f32[3]']);
  assert.equal(infer('BatchNormalization', ins, { opset: 9, outputs: 5 }).length, 5);
  const legacy = infer('BatchNormalization', ins, { opset: 6, attrs: { is_test: a.int(1), spatial: a.int(1), consumed_inputs: a.ints(0, 0, 0, 1, 1) } });
  assert.equal(legacy, ['f32[n, 3, 8, 8]']);
  throwsShape(() => infer('BatchNormalization', ins, { opset: 15, outputs: 3 }), /only with training_mode=1/);
  throwsShape(() => infer('BatchNormalization', ['f32[n, 3, 8, 8]', 'f32[4]', 'f32[3]', 'f32[3]', 'f32[3]']), /scale length \[4\] and channels differ: 4 vs 3/);
});

test('InstanceNormalization, GroupNormalization, LRN, MeanVarianceNormalization', () => {
  assert.equal(infer('InstanceNormalization', ['f32[n, 3, 5, 5]', 'f32[3]', 'f32[3]']), ['f32[n, 3, 5, 5]']);
  assert.equal(infer('GroupNormalization', ['f32[n, 6, 5]', 'f32[2]', 'f32[2]'], { opset: 18, attrs: { num_groups: a.int(2) } }), ['f32[n, 6, 5]']);
  assert.equal(infer('GroupNormalization', ['f32[n, 6, 5]', 'f32[6]', 'f32[6]'], { opset: 21, attrs: { num_groups: a.int(2) } }), ['f32[n, 6, 5]']);
  throwsShape(() => infer('GroupNormalization', ['f32[n, 6, 5]', 'f32[4]', 'f32[4]'], { opset: 18, attrs: { num_groups: a.int(4) } }), /not divisible by num_groups 4/);
  assert.equal(infer('LRN', ['f32[n, 3, 5, 5]'], { attrs: { size: a.int(3) } }), ['f32[n, 3, 5, 5]']);
  assert.equal(infer('MeanVarianceNormalization', ['f32[n, 3, 5, 5]']), ['f32[n, 3, 5, 5]']);
});

test('LSTM: outputs, directions, layout, optional results', () => {
  const ins = ['f32[seq, batch, 10]', 'f32[2, 80, 10]', 'f32[2, 80, 20]', 'f32[2, 160]'];
  const out = infer('LSTM', ins, { attrs: { hidden_size: a.int(20), direction: a.string('bidirectional') }, outputs: 3 });
  assert.equal(out, ['f32[seq, 2, batch, 20]', 'f32[2, batch, 20]', 'f32[2, batch, 20]']);
  // hidden_size from R; only Y_h requested.
  const onlyH = infer('LSTM', ['f32[5, 3, 10]', 'f32[1, 28, 10]', 'f32[1, 28, 7]'], { outputs: [false, true] });
  assert.equal(onlyH, ['-', 'f32[1, 3, 7]']);
  const batchFirst = infer('LSTM', ['f32[3, 5, 10]', 'f32[1, 28, 10]', 'f32[1, 28, 7]'], { opset: 14, attrs: { layout: a.int(1) }, outputs: 3 });
  assert.equal(batchFirst, ['f32[3, 5, 1, 7]', 'f32[3, 1, 7]', 'f32[3, 1, 7]']);
  throwsShape(() => infer('LSTM', ['f32[5, 3, 10]', 'f32[1, 28, 10]', 'f32[1, 28, 7]'], { attrs: { hidden_size: a.int(8) } }), /hidden_size and R differ: 8 vs 7/);
  throwsShape(() => infer('LSTM', ins, { attrs: { hidden_size: a.int(20) } }), /direction axis .* differ: 2 vs 1/);
});

test('GRU and RNN', () => {
  const gru = infer('GRU', ['f32[4, 2, 3]', 'f32[1, 15, 3]', 'f32[1, 15, 5]'], { attrs: { hidden_size: a.int(5), linear_before_reset: a.int(1) }, outputs: 2 });
  assert.equal(gru, ['f32[4, 1, 2, 5]', 'f32[1, 2, 5]']);
  const rnn = infer('RNN', ['f32[4, 2, 3]', 'f32[1, 5, 3]', 'f32[1, 5, 5]', 'f32[1, 10]', 'i32[2]', 'f32[1, 2, 5]'], { outputs: 2 });
  assert.equal(rnn, ['f32[4, 1, 2, 5]', 'f32[1, 2, 5]']);
  throwsShape(() => infer('GRU', ['f32[4, 2, 3]', 'f32[1, 15, 4]', 'f32[1, 15, 5]']), /input axis .* differ: 4 vs 3/);
});

test.run();
