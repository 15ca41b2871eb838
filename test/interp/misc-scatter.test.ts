// Scatter, ScatterElements and ScatterND: the ONNX conformance cases, and every reduction
// (the max/min reductions of opset 18 are not in the ONNX 1.12 data; ONNX Runtime agrees).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { casesFor, conformanceReport, haveConformance } from './misc-conformance.ts';
import { evalOp, t, vals } from './misc-helpers.ts';

test('conformance: Scatter, ScatterElements, ScatterND', () => {
  if (!haveConformance) return console.log('  (skipped: libonnx-testdata not installed)');
  const r = conformanceReport(casesFor('scatter'));
  console.log(`  scatter conformance: ${r.passed}/${r.total}`);
  assert.equal(r.unexpected, []);
  assert.ok(r.total >= 9);
});

const data = () => t('f32', [2, 3], [1, 2, 3, 4, 5, 6]);

test('ScatterElements reductions apply in index order, negative indices wrap', () => {
  const idx = t('i64', [2, 2], [0, 2, -1, 2]);
  const upd = t('f32', [2, 2], [10, 0.5, -3, 7]);
  const run = (reduction: string) => vals(evalOp('ScatterElements', [data(), idx, upd], { axis: 1, reduction })[0]);
  assert.equal(run('none'), [10, 2, 0.5, 4, 5, 7]);
  assert.equal(run('add'), [11, 2, 3.5, 4, 5, 10]); // index -1 and 2 both hit [1, 2]
  assert.equal(run('mul'), [10, 2, 1.5, 4, 5, -126]);
  assert.equal(run('max'), [10, 2, 3, 4, 5, 7]);
  assert.equal(run('min'), [1, 2, 0.5, 4, 5, -3]);
});

test('Scatter (opset 9) is ScatterElements without reduction', () => {
  const [y] = evalOp('Scatter', [data(), t('i64', [1, 2], [1, 0]), t('f32', [1, 2], [9, 8])], { axis: 0 }, { opset: 9 });
  assert.equal(vals(y), [1, 8, 3, 9, 5, 6]);
});

test('ScatterND: slices, full indices and integer reductions', () => {
  const [rows] = evalOp('ScatterND', [data(), t('i64', [2, 1], [1, 1]), t('f32', [2, 3], [1, 1, 1, 2, 2, 2])], { reduction: 'add' });
  assert.equal(vals(rows), [1, 2, 3, 7, 8, 9]);
  const [pts] = evalOp('ScatterND', [data(), t('i64', [2, 2], [0, 1, 1, -1]), t('f32', [2], [-1, -2])]);
  assert.equal(vals(pts), [1, -1, 3, 4, 5, -2]);
  // i32 multiplication wraps as C does.
  const [w] = evalOp('ScatterND', [t('i32', [2], [70000, 1]), t('i64', [2, 1], [0, 0]), t('i32', [2], [70000, 1])], { reduction: 'mul' });
  assert.equal(vals(w), [Math.imul(70000, 70000), 1]);
  const [mx] = evalOp('ScatterND', [t('i64', [2], [5, 5]), t('i64', [2, 1], [1, 1]), t('i64', [2], [9, 7])], { reduction: 'max' });
  assert.equal(vals(mx), [5, 9]);
});

test.run();
