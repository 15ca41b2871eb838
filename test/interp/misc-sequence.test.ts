// Sequence and Optional evaluators: the ONNX conformance cases (their inputs and outputs are
// SequenceProto/OptionalProto files, read by misc-conformance.ts), plus hand-checked
// positions, SplitToSequence forms and ConcatFromSequence stacking.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RuntimeValue, Sequence } from '../../ir/interp/tensor.ts';
import { casesFor, conformanceReport, haveConformance } from './misc-conformance.ts';
import { evalOp, shapeOf, t, vals } from './misc-helpers.ts';

const EXPECTED: Record<string, string> = {
  // Not an evaluator bug: the model declares the Loop body's seq_out as seq<f32[]> (rank-0
  // elements) but the elements it builds are 1-D, and the interpreter's declared-type check
  // rejects the result. It passes with checkTypes: false.
  loop16_seq_none: 'model declares rank-0 sequence elements but produces 1-D ones',
};

test('conformance: Sequence*, SequenceMap, Optional*, and Loop/If over sequences and optionals', () => {
  if (!haveConformance) return console.log('  (skipped: libonnx-testdata not installed)');
  const cases = casesFor('sequence_', 'optional_', 'loop13_seq', 'loop16_seq_none', 'if_opt', 'if_seq', 'identity_opt', 'identity_sequence', 'split_to_sequence', 'concat_from_sequence');
  const r = conformanceReport(cases, EXPECTED);
  console.log(`  sequence/optional conformance: ${r.passed}/${r.total} (${Object.keys(EXPECTED).length} expected failure)`);
  assert.equal(r.unexpected, []);
  assert.ok(r.total >= 24);
});

const items = (v: RuntimeValue | undefined) => (v as Sequence).items.map(vals);
const a = t('f32', [2], [1, 2]);
const b = t('f32', [1], [3]);
const c = t('f32', [3], [4, 5, 6]);

test('SequenceInsert/At/Erase/Length with negative and default positions', () => {
  const [s] = evalOp('SequenceConstruct', [a, b]);
  const [front] = evalOp('SequenceInsert', [s, c, t('i64', [], [0])]);
  assert.equal(items(front), [[4, 5, 6], [1, 2], [3]]);
  const [mid] = evalOp('SequenceInsert', [s, c, t('i64', [], [-1])]);
  assert.equal(items(mid), [[1, 2], [4, 5, 6], [3]]);
  const [back] = evalOp('SequenceInsert', [s, c]);
  assert.equal(items(back), [[1, 2], [3], [4, 5, 6]]);
  assert.equal(vals(evalOp('SequenceAt', [back, t('i64', [], [-1])])[0]), [4, 5, 6]);
  assert.equal(items(evalOp('SequenceErase', [back])[0]), [[1, 2], [3]]);
  assert.equal(items(evalOp('SequenceErase', [back, t('i32', [], [0])])[0]), [[3], [4, 5, 6]]);
  assert.equal(vals(evalOp('SequenceLength', [back])[0]), [3]);
  assert.throws(() => evalOp('SequenceAt', [back, t('i64', [], [3])]), /out of range/);
  const [e] = evalOp('SequenceEmpty', [], { dtype: 7 });
  assert.equal([(e as Sequence).dtype, (e as Sequence).items.length], ['i64', 0]);
});

test('SplitToSequence: default, scalar chunk, sizes, keepdims', () => {
  const x = t('f32', [2, 5], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const [chunks] = evalOp('SplitToSequence', [x, t('i64', [], [2])], { axis: 1 });
  assert.equal((chunks as Sequence).items.map(shapeOf), [[2, 2], [2, 2], [2, 1]]);
  assert.equal(items(chunks)[2], [4, 9]);
  const [sizes] = evalOp('SplitToSequence', [x, t('i64', [2], [1, 4])], { axis: 1 });
  assert.equal(items(sizes), [[0, 5], [1, 2, 3, 4, 6, 7, 8, 9]]);
  const [rows] = evalOp('SplitToSequence', [x], { keepdims: 0 });
  assert.equal((rows as Sequence).items.map(shapeOf), [[5], [5]]);
  const [kept] = evalOp('SplitToSequence', [x]);
  assert.equal((kept as Sequence).items.map(shapeOf), [[1, 5], [1, 5]]);
});

test('ConcatFromSequence concatenates or stacks (new_axis)', () => {
  const [s] = evalOp('SequenceConstruct', [t('f32', [2], [1, 2]), t('f32', [2], [3, 4])]);
  const [cat] = evalOp('ConcatFromSequence', [s], { axis: 0 });
  assert.equal([shapeOf(cat), vals(cat)], [[4], [1, 2, 3, 4]]);
  const [stack] = evalOp('ConcatFromSequence', [s], { axis: -1, new_axis: 1 });
  assert.equal([shapeOf(stack), vals(stack)], [[2, 2], [1, 3, 2, 4]]);
  const [stack0] = evalOp('ConcatFromSequence', [s], { axis: 0, new_axis: 1 });
  assert.equal([shapeOf(stack0), vals(stack0)], [[2, 2], [1, 2, 3, 4]]);
});

test('Optional, OptionalHasElement, OptionalGetElement', () => {
  const [empty] = evalOp('Optional', [undefined]);
  const [full] = evalOp('Optional', [a]);
  assert.equal(vals(evalOp('OptionalHasElement', [empty])[0]), [0]);
  assert.equal(vals(evalOp('OptionalHasElement', [full])[0]), [1]);
  assert.equal(vals(evalOp('OptionalHasElement', [undefined], {}, { opset: 18 })[0]), [0]);
  assert.equal(vals(evalOp('OptionalHasElement', [a], {}, { opset: 18 })[0]), [1]);
  assert.equal(vals(evalOp('OptionalGetElement', [full])[0]), [1, 2]);
  assert.equal(vals(evalOp('OptionalGetElement', [a], {}, { opset: 18 })[0]), [1, 2]);
  assert.throws(() => evalOp('OptionalGetElement', [empty]), /empty/);
});

test.run();
