// TopK, CumSum, Einsum, Det, LRN, GroupNormalization and the two losses in the reference
// interpreter: the ONNX conformance cases, ONNX Runtime on options the conformance data leaves
// out, and hand-checked values.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agreesWithOrt, conformanceFamily, f32, i32, i64, rand, randF32, runLathe, nums } from './nn-helpers.ts';

test('conformance: TopK, CumSum, Einsum, Det', () => {
  conformanceFamily(/^test_top_k/);
  conformanceFamily(/^test_cumsum_/);
  conformanceFamily(/^test_einsum_/);
  conformanceFamily(/^test_det_/);
});
test('conformance: LRN', () => {
  conformanceFamily(/^test_lrn/);
});
test('conformance: NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss', () => {
  // The *_expanded variants run the ops' function bodies (other evaluators), so they are left
  // to those ops' tests.
  conformanceFamily(/^test_nllloss_(?!.*_expanded$)/);
  conformanceFamily(/^test_sce_(?!.*_expanded$)/);
});

test('TopK agrees with ONNX Runtime: ties, largest, axis, opsets 1/10/11, integer dtypes', async () => {
  const ties = rand(24, 3).map((v) => Math.round(v * 3));
  const tv = f32([3, 8], ties);
  for (const largest of [0, 1]) {
    for (const axis of [1, -1, 0]) {
      await agreesWithOrt(`largest=${largest} axis=${axis}`, { op: 'TopK', opset: 11, inputs: [tv, i64([1], [axis === 0 ? 2 : 5])], attrs: { largest, axis }, outputs: ['f32', 'i64'] });
    }
  }
  await agreesWithOrt('opset 1', { op: 'TopK', opset: 1, inputs: [tv], attrs: { k: 3 }, outputs: ['f32', 'i64'] });
  await agreesWithOrt('opset 10', { op: 'TopK', opset: 10, inputs: [tv, i64([1], [3])], attrs: { axis: 0 }, outputs: ['f32', 'i64'] });
  await agreesWithOrt('i64', { op: 'TopK', opset: 11, inputs: [i64([3, 8], ties), i64([1], [4])], attrs: { largest: 0 }, outputs: ['i64', 'i64'] });
  await agreesWithOrt('i32', { op: 'TopK', opset: 11, inputs: [i32([3, 8], ties), i64([1], [4])], outputs: ['i32', 'i64'] });
});

test('TopK by hand: equal values keep the lower index first', () => {
  const [v, i] = runLathe({ op: 'TopK', opset: 11, inputs: [f32([4], [1, 3, 3, 2]), i64([1], [2])], outputs: ['f32', 'i64'] });
  assert.equal([nums(v), nums(i)], [[3, 3], [1, 2]]);
  const [v2, i2] = runLathe({ op: 'TopK', opset: 11, inputs: [f32([4], [2, 1, 3, 1]), i64([1], [2])], attrs: { largest: 0 }, outputs: ['f32', 'i64'] });
  assert.equal([nums(v2), nums(i2)], [[1, 1], [1, 3]]);
});

test('CumSum agrees with ONNX Runtime: exclusive × reverse × axis, integer dtypes', async () => {
  const x = randF32([2, 3, 4], 5);
  for (const exclusive of [0, 1]) {
    for (const reverse of [0, 1]) {
      for (const axis of [0, 1, -1]) {
        await agreesWithOrt(`exclusive=${exclusive} reverse=${reverse} axis=${axis}`, { op: 'CumSum', opset: 14, inputs: [x, i32([], [axis])], attrs: { exclusive, reverse }, outputs: ['f32'] });
      }
    }
  }
  await agreesWithOrt('i64', { op: 'CumSum', opset: 14, inputs: [i64([2, 3], [1, 2, 3, 4, 5, 6]), i64([], [1])], attrs: { exclusive: 1, reverse: 1 }, outputs: ['i64'] });
  await agreesWithOrt('i32', { op: 'CumSum', opset: 14, inputs: [i32([2, 3], [1, 2, 3, 4, 5, 6]), i64([], [0])], outputs: ['i32'] });
});

test('CumSum by hand: exclusive reverse', () => {
  const [y] = runLathe({ op: 'CumSum', opset: 14, inputs: [f32([3], [1, 2, 3]), i64([], [0])], attrs: { exclusive: 1, reverse: 1 }, outputs: ['f32'] });
  assert.equal(nums(y), [5, 3, 0]);
});

test('Einsum agrees with ONNX Runtime: explicit and implicit, diagonals, ellipsis broadcasting', async () => {
  const cases: [string, number[][]][] = [
    ['ij,jk->ik', [[3, 4], [4, 5]]], ['ij,jk', [[3, 4], [4, 5]]], ['ii->i', [[4, 4]]], ['ii', [[4, 4]]],
    ['...ij,...jk->...ik', [[2, 3, 4], [1, 4, 5]]], ['bij,bjk->bik', [[2, 3, 4], [2, 4, 5]]], ['i,i', [[5], [5]]],
    ['i,j->ij', [[3], [4]]], ['ijk->kji', [[2, 3, 4]]], ['...i->...', [[2, 3, 4]]], ['ij...,jk...->ik...', [[3, 4, 2], [4, 5, 2]]],
    ['abc,cd,de->abe', [[2, 3, 4], [4, 2], [2, 3]]], ['ba', [[3, 4]]], ['iij->ij', [[3, 3, 2]]],
  ];
  for (const [equation, shapes] of cases) {
    await agreesWithOrt(equation, { op: 'Einsum', opset: 12, inputs: shapes.map((s, i) => randF32(s, 40 + i)), attrs: { equation }, outputs: ['f32'] });
  }
});

test('Det agrees with ONNX Runtime and by hand', async () => {
  await agreesWithOrt('batched 4×4', { op: 'Det', opset: 11, inputs: [randF32([2, 3, 4, 4], 9)], outputs: ['f32'] });
  await agreesWithOrt('singular and permutations', { op: 'Det', opset: 11, inputs: [f32([2, 3, 3], [1, 2, 3, 2, 4, 6, 1, 1, 1, 0, 0, 1, 0, 1, 0, 1, 0, 0])], outputs: ['f32'] });
  const [d] = runLathe({ op: 'Det', opset: 11, inputs: [f32([2, 2], [1, 2, 3, 4])], outputs: ['f32'] });
  assert.equal(nums(d), [-2]);
  assert.equal(d!.shape, []);
});

test('LRN agrees with ONNX Runtime (odd sizes; ORT refuses even ones) and by hand (even size)', async () => {
  for (const size of [1, 3, 5]) {
    await agreesWithOrt(`size ${size}`, { op: 'LRN', opset: 13, inputs: [randF32([2, 6, 3, 3], 10)], attrs: { size, alpha: { f: 0.01 }, beta: { f: 0.6 }, bias: { f: 1.5 } }, outputs: ['f32'] });
  }
  // size 2: channel c sums channels c and c+1 (floor((2-1)/2) = 0 before, ceil = 1 after).
  const [y] = runLathe({ op: 'LRN', opset: 13, inputs: [f32([1, 2, 1, 1], [1, 2])], attrs: { size: 2, alpha: { f: 2 }, beta: { f: 1 }, bias: { f: 1 } }, outputs: ['f32'] });
  assert.ok(Math.abs((y!.data[0] as number) - 1 / (1 + (2 / 2) * 5)) < 1e-6 && Math.abs((y!.data[1] as number) - 2 / (1 + (2 / 2) * 4)) < 1e-6);
});

test('GroupNormalization agrees with ONNX Runtime (opset 18 per-group, 21 per-channel scale) and by hand', async () => {
  await agreesWithOrt('opset 18', { op: 'GroupNormalization', opset: 18, inputs: [randF32([2, 6, 3, 2], 12), randF32([3], 13), randF32([3], 14)], attrs: { num_groups: 3 }, outputs: ['f32'] });
  await agreesWithOrt('opset 21', { op: 'GroupNormalization', opset: 21, inputs: [randF32([2, 6, 3, 2], 12), randF32([6], 13), randF32([6], 14)], attrs: { num_groups: 2, epsilon: { f: 0.01 } }, outputs: ['f32'] });
  // One group of [1, 3]: mean 2, variance 1 → ±1/√(1 + ε), then ·2 + 1.
  const [y] = runLathe({ op: 'GroupNormalization', opset: 18, inputs: [f32([1, 2, 1], [1, 3]), f32([1], [2]), f32([1], [1])], attrs: { num_groups: 1, epsilon: { f: 0 } }, outputs: ['f32'] });
  assert.equal(nums(y), [-1, 3]);
});

test('losses agree with ONNX Runtime: reductions × weights, ignore_index, log_prob', async () => {
  const x = randF32([3, 5, 2], 15);
  const target = i64([3, 2], [0, 4, -1, 2, 3, 3]);
  for (const reduction of ['none', 'sum', 'mean']) {
    for (const weighted of [false, true]) {
      const w = weighted ? randF32([5], 16, 0, 1) : null;
      await agreesWithOrt(`NLL ${reduction} weighted=${weighted}`, { op: 'NegativeLogLikelihoodLoss', opset: 13, inputs: [x, target, w], attrs: { reduction, ignore_index: -1 }, outputs: ['f32'] });
      await agreesWithOrt(`SCE ${reduction} weighted=${weighted}`, { op: 'SoftmaxCrossEntropyLoss', opset: 13, inputs: [x, target, w], attrs: { reduction, ignore_index: -1 }, outputs: ['f32', 'f32'] });
    }
  }
});

test('losses by hand', () => {
  // NLL mean, both targets class 0 (weight 2): (1·2 + 3·2) / (2 + 2)
  const [nll] = runLathe({ op: 'NegativeLogLikelihoodLoss', opset: 13, inputs: [f32([2, 2], [-1, -2, -3, -4]), i64([2], [0, 0]), f32([2], [2, 5])], outputs: ['f32'] });
  assert.ok(Math.abs((nll!.data[0] as number) - (2 + 6) / 4) < 1e-6);
  // SCE of equal scores over 2 classes is log 2 whatever the label; log_prob is log ½.
  const [sce, lp] = runLathe({ op: 'SoftmaxCrossEntropyLoss', opset: 13, inputs: [f32([1, 2], [3, 3]), i64([1], [1])], attrs: { reduction: 'sum' }, outputs: ['f32', 'f32'] });
  assert.ok(Math.abs((sce!.data[0] as number) - Math.LN2) < 1e-6 && Math.abs((lp!.data[1] as number) + Math.LN2) < 1e-6);
});

test.run();
