// OneHot, Trilu, EyeLike, ReverseSequence, DepthToSpace, SpaceToDepth, CenterCropPad and Dropout:
// the ONNX conformance cases, plus hand-checked cases (CenterCropPad is opset 18, newer than the
// ONNX 1.12 data; its expectations were cross-checked against ONNX Runtime 1.30).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { casesFor, conformanceReport, haveConformance } from './misc-conformance.ts';
import { evalOp, shapeOf, t, vals } from './misc-helpers.ts';

// Training-mode Dropout with ratio > 0 draws a random mask; ONNX does not specify the generator.
const RANDOM = 'random mask: ONNX does not specify the generator, so no runtime can reproduce the expected draw';
const EXPECTED: Record<string, string> = {
  training_dropout: RANDOM,
  training_dropout_default: RANDOM,
  training_dropout_default_mask: RANDOM,
  training_dropout_mask: RANDOM,
};

test('conformance: OneHot, Trilu, EyeLike, ReverseSequence, DepthToSpace, SpaceToDepth, Dropout', () => {
  if (!haveConformance) return console.log('  (skipped: libonnx-testdata not installed)');
  const cases = casesFor('onehot', 'tril', 'triu', 'eyelike', 'reversesequence', 'depthtospace', 'spacetodepth', 'dropout', 'training_dropout', 'center_crop_pad');
  const r = conformanceReport(cases, EXPECTED);
  console.log(`  misc conformance: ${r.passed}/${r.total} (${Object.keys(EXPECTED).length} expected failures: random masks)`);
  assert.equal(r.unexpected, []);
  assert.ok(r.total >= 45);
});

test('OneHot: axis, negative and out-of-range indices', () => {
  const [y] = evalOp('OneHot', [t('i64', [2, 2], [0, -1, 5, 2]), t('f32', [], [3]), t('f32', [2], [-1, 4])], { axis: 0 });
  assert.equal(shapeOf(y), [3, 2, 2]);
  assert.equal(vals(y), [4, -1, -1, -1, -1, -1, -1, -1, -1, 4, -1, 4]);
});

test('Trilu keeps a triangle of the last two dims, offset by k', () => {
  const x = t('i32', [3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(vals(evalOp('Trilu', [x])[0]), [1, 2, 3, 0, 5, 6, 0, 0, 9]);
  assert.equal(vals(evalOp('Trilu', [x, t('i64', [], [-1])], { upper: 0 })[0]), [0, 0, 0, 4, 0, 0, 7, 8, 0]);
  assert.equal(vals(evalOp('Trilu', [x, t('i64', [], [1])])[0]), [0, 2, 3, 0, 0, 6, 0, 0, 0]);
});

test('EyeLike with k and dtype', () => {
  const [y] = evalOp('EyeLike', [t('f32', [2, 3], [0, 0, 0, 0, 0, 0])], { k: 1, dtype: 7 });
  assert.equal([(y as { dtype: string }).dtype, vals(y)], ['i64', [0, 1, 0, 0, 0, 1]]);
});

test('ReverseSequence reverses each batch entry up to its length', () => {
  const x = t('f32', [3, 2], [0, 1, 2, 3, 4, 5]); // time × batch
  const [y] = evalOp('ReverseSequence', [x, t('i64', [2], [3, 1])]);
  assert.equal(vals(y), [4, 1, 2, 3, 0, 5]);
  const [z] = evalOp('ReverseSequence', [t('f32', [2, 3], [0, 1, 2, 3, 4, 5]), t('i64', [2], [2, 3])], { batch_axis: 0, time_axis: 1 });
  assert.equal(vals(z), [1, 0, 2, 5, 4, 3]);
});

test('DepthToSpace DCR vs CRD, and SpaceToDepth inverts DCR', () => {
  const x = t('f32', [1, 8, 1, 1], [0, 1, 2, 3, 4, 5, 6, 7]);
  const [dcr] = evalOp('DepthToSpace', [x], { blocksize: 2 });
  const [crd] = evalOp('DepthToSpace', [x], { blocksize: 2, mode: 'CRD' });
  assert.equal(shapeOf(dcr), [1, 2, 2, 2]);
  assert.equal(vals(dcr), [0, 2, 4, 6, 1, 3, 5, 7]);
  assert.equal(vals(crd), [0, 1, 2, 3, 4, 5, 6, 7]);
  const [back] = evalOp('SpaceToDepth', [dcr], { blocksize: 2 });
  assert.equal([shapeOf(back), vals(back)], [[1, 8, 1, 1], [0, 1, 2, 3, 4, 5, 6, 7]]);
});

test('CenterCropPad crops (start rounded down) and pads (extra after)', () => {
  const x = t('f32', [2, 5], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const [crop] = evalOp('CenterCropPad', [x, t('i64', [1], [2])], { axes: [-1] });
  assert.equal(vals(crop), [1, 2, 6, 7]);
  const [both] = evalOp('CenterCropPad', [t('f32', [2, 2], [1, 2, 3, 4]), t('i64', [2], [1, 5])]);
  assert.equal([shapeOf(both), vals(both)], [[1, 5], [0, 1, 2, 0, 0]]);
});

test('Dropout: inference is identity with an all-true mask; opset-7 mask has the data dtype', () => {
  const x = t('f32', [3], [1, 2, 3]);
  const [y, m] = evalOp('Dropout', [x, t('f32', [], [0.5])], {}, { outputs: 2, opset: 13 });
  assert.equal([vals(y), vals(m), (m as { dtype: string }).dtype], [[1, 2, 3], [1, 1, 1], 'bool']);
  const [y0] = evalOp('Dropout', [x, t('f32', [], [0]), t('bool', [], [1])], {}, { opset: 13 });
  assert.equal(vals(y0), [1, 2, 3]); // training with ratio 0 keeps everything
  const [, m7] = evalOp('Dropout', [x], { ratio: 0.2 }, { outputs: 2, opset: 7 });
  assert.equal((m7 as { dtype: string }).dtype, 'f32');
});

test('Dropout in training mode keeps about 1 − ratio and rescales', () => {
  const x = t('f32', [4000], new Array(4000).fill(1));
  const [y, m] = evalOp('Dropout', [x, t('f32', [], [0.25]), t('bool', [], [1])], { seed: 3 }, { outputs: 2, opset: 13 });
  const kept = vals(m).filter((v) => v === 1).length;
  assert.ok(Math.abs(kept / 4000 - 0.75) < 0.03, `kept ${kept}`);
  assert.ok(vals(y).every((v, i) => v === (vals(m)[i] ? Math.fround(1 / 0.75) : 0)));
});

test('AffineGrid: pixel centers or corners, transformed by theta', () => {
  const id = t('f32', [1, 2, 3], [1, 0, 0, 0, 1, 0]);
  const [g] = evalOp('AffineGrid', [id, t('i64', [4], [1, 1, 2, 3])]);
  assert.equal(shapeOf(g), [1, 2, 3, 2]);
  const f = Math.fround;
  assert.equal(vals(g), [f(-2 / 3), -0.5, 0, -0.5, f(2 / 3), -0.5, f(-2 / 3), 0.5, 0, 0.5, f(2 / 3), 0.5]);
  // align_corners: corners at ±1; theta scales x by 2 and shifts y by 1.
  const [c] = evalOp('AffineGrid', [t('f32', [1, 2, 3], [2, 0, 0, 0, 1, 1]), t('i64', [4], [1, 1, 2, 2])], { align_corners: 1 });
  assert.equal(vals(c), [-2, 0, 2, 0, -2, 2, 2, 2]);
});

test.run();
