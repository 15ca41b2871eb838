// NonZero, Unique, Compress and NonMaxSuppression: the ONNX conformance cases and hand-checked
// corners (unsorted Unique, -0 = 0, strings; NMS thresholds and center-point boxes).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { casesFor, conformanceReport, haveConformance } from './misc-conformance.ts';
import { evalOp, shapeOf, t, vals } from './misc-helpers.ts';

test('conformance: NonZero, Unique, Compress, NonMaxSuppression', () => {
  if (!haveConformance) return console.log('  (skipped: libonnx-testdata not installed)');
  const r = conformanceReport(casesFor('nonzero', 'unique', 'compress', 'nonmaxsuppression'));
  console.log(`  selection conformance: ${r.passed}/${r.total}`);
  assert.equal(r.unexpected, []);
  assert.ok(r.total >= 19);
});

test('NonZero lists coordinates row by row', () => {
  const [y] = evalOp('NonZero', [t('f32', [2, 2, 2], [0, 1, 0, 2, 3, 0, 0, 4])]);
  assert.equal(shapeOf(y), [3, 4]);
  assert.equal(vals(y), [0, 0, 1, 1, 0, 1, 0, 1, 1, 1, 0, 1]);
  assert.equal(shapeOf(evalOp('NonZero', [t('string', [3], ['', 'a', ''])])[0]), [1, 1]);
});

test('Unique: sorted and unsorted, all four results', () => {
  const x = t('f32', [8], [2, 1, 1, 3, 4, 3, -0, 0]);
  const s = evalOp('Unique', [x], {}, { outputs: 4 }).map(vals);
  assert.equal(s, [[0, 1, 2, 3, 4], [6, 1, 0, 3, 4], [2, 1, 1, 3, 4, 3, 0, 0], [2, 2, 1, 2, 1]]);
  const u = evalOp('Unique', [x], { sorted: 0 }, { outputs: 4 }).map(vals);
  assert.equal(u, [[2, 1, 3, 4, 0], [0, 1, 3, 4, 6], [0, 1, 1, 2, 3, 2, 4, 4], [1, 2, 2, 1, 2]]);
  const w = evalOp('Unique', [t('string', [5], ['b', 'a', 'b', 'c', 'a'])], {}, { outputs: 4 }).map(vals);
  assert.equal(w[0], ['a', 'b', 'c']);
  assert.equal(w[2], [1, 0, 1, 2, 0]);
});

test('Unique along an axis compares whole slices', () => {
  const [y, idx, inv, cnt] = evalOp('Unique', [t('i32', [2, 4], [2, 1, 2, 1, 4, 3, 4, 0])], { axis: 1, sorted: 1 }, { outputs: 4 });
  // Columns: (2,4) (1,3) (2,4) (1,0) → sorted (1,0) (1,3) (2,4).
  assert.equal(shapeOf(y), [2, 3]);
  assert.equal(vals(y), [1, 1, 2, 0, 3, 4]);
  assert.equal([vals(idx), vals(inv), vals(cnt)], [[3, 1, 0], [2, 1, 2, 0], [1, 1, 2]]);
});

test('Compress with and without an axis; a short condition drops the rest', () => {
  const x = t('f32', [3, 2], [1, 2, 3, 4, 5, 6]);
  const [a] = evalOp('Compress', [x, t('bool', [2], [0, 1])], { axis: 0 });
  assert.equal([shapeOf(a), vals(a)], [[1, 2], [3, 4]]);
  const [f] = evalOp('Compress', [x, t('bool', [5], [0, 1, 1, 0, 1])]);
  assert.equal(vals(f), [2, 3, 5]);
});

test('NonMaxSuppression: score threshold, IOU, per class, max boxes', () => {
  const boxes = t('f32', [1, 5, 4], [0, 0, 1, 1, 0, 0.1, 1, 1.1, 1, 1, 0, 0, 0, 10, 1, 11, 0.5, 0.5, 1.5, 1.5]);
  const scores = t('f32', [1, 2, 5], [0.9, 0.75, 0.6, 0.95, 0.5, 0.3, 0.3, 0.8, 0.1, 0.5]);
  const [y] = evalOp('NonMaxSuppression', [boxes, scores, t('i64', [1], [3]), t('f32', [1], [0.1]), t('f32', [1], [0.3])]);
  // Class 0: box 3, then box 0; box 1 and box 4 overlap box 0 above 0.1, and box 2 is box 0
  // with its corners swapped. Class 1: only boxes 2 and 4 score above 0.3 (strictly), and box 4
  // overlaps box 2.
  assert.equal(vals(y), [0, 0, 3, 0, 0, 0, 0, 1, 2]);
  const [none] = evalOp('NonMaxSuppression', [boxes, scores]);
  assert.equal(shapeOf(none), [0, 3]); // max_output_boxes_per_class defaults to 0
  const [c] = evalOp('NonMaxSuppression', [
    t('f32', [1, 3, 4], [0.5, 0.5, 1, 1, 0.5, 0.6, 1, 1, 5, 5, 2, 2]), t('f32', [1, 1, 3], [0.9, 0.95, 0.5]), t('i64', [1], [10]), t('f32', [1], [0.5]),
  ], { center_point_box: 1 });
  assert.equal(vals(c), [0, 0, 1, 0, 0, 2]);
});

test.run();
