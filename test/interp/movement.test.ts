// Data movement and shape ops, reductions, softmax family and normalisations.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, f32, float, i64, rand, run, run1, t, values } from './helpers.ts';

const iota = (n: number) => Array.from({ length: n }, (_, i) => i);

test('Reshape with 0 (copy) and -1 (infer), allowzero, and the opset-1 attribute form', () => {
  const x = f32([2, 3, 4], iota(24));
  assert.equal([...run1('Reshape', [x, i64([3], [0, -1, 2])]).shape], [2, 6, 2]);
  assert.equal([...run1('Reshape', [f32([0, 3], []), i64([2], [3, 0])], { allowzero: 1 }).shape], [3, 0]);
  assert.equal([...run1('Reshape', [x], { shape: [4, 6] }, 1).shape], [4, 6]);
  assert.throws(() => run1('Reshape', [x, i64([1], [5])]), /cannot reshape/);
});

test('Shape (with start/end), Size, Flatten, Squeeze, Unsqueeze', () => {
  const x = f32([2, 1, 3, 1], iota(6));
  assert.equal(values(run1('Shape', [x])), [2n, 1n, 3n, 1n]);
  assert.equal(values(run1('Shape', [x], { start: 1, end: -1 })), [1n, 3n]);
  assert.equal(values(run1('Size', [x])), [6n]);
  assert.equal([...run1('Flatten', [x], { axis: 2 }).shape], [2, 3]);
  assert.equal([...run1('Flatten', [x], { axis: 0 }).shape], [1, 6]);
  assert.equal([...run1('Squeeze', [x]).shape], [2, 3]);
  assert.equal([...run1('Squeeze', [x, i64([1], [-1])]).shape], [2, 1, 3]);
  assert.equal([...run1('Squeeze', [x], { axes: [1] }, 11).shape], [2, 3, 1]);
  assert.equal([...run1('Unsqueeze', [f32([2, 3], iota(6)), i64([2], [0, -1])]).shape], [1, 2, 3, 1]);
  assert.equal([...run1('Unsqueeze', [f32([2, 3], iota(6))], { axes: [1] }, 11).shape], [2, 1, 3]);
});

test('Transpose against a naive loop, and the default reversed perm', () => {
  const x = f32([2, 3, 4], iota(24));
  const y = run1('Transpose', [x], { perm: [2, 0, 1] });
  const expected: number[] = [];
  for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expected.push(i * 12 + j * 4 + k);
  assertClose(y, [4, 2, 3], expected, 0, 0);
  assert.equal([...run1('Transpose', [x]).shape], [4, 3, 2]);
});

test('Slice: negative indices, steps, clamping, omitted axes', () => {
  const x = f32([10], iota(10));
  assertClose(run1('Slice', [x, i64([1], [-3]), i64([1], [100])]), [3], [7, 8, 9]);
  assertClose(run1('Slice', [x, i64([1], [8]), i64([1], [1]), i64([1], [0]), i64([1], [-3])]), [3], [8, 5, 2]);
  assertClose(run1('Slice', [x, i64([1], [-1]), i64([1], [-(2n ** 63n)]), undefined, i64([1], [-1])]), [10], iota(10).reverse());
  const m = f32([3, 4], iota(12));
  assertClose(run1('Slice', [m, i64([1], [1]), i64([1], [3]), i64([1], [1])]), [3, 2], [1, 2, 5, 6, 9, 10]);
  assertClose(run1('Slice', [m], { starts: [1], ends: [2] }, 9), [1, 4], [4, 5, 6, 7]);
});

test('Concat and Split (sizes from an operand, the attribute, or equal parts)', () => {
  const a = f32([2, 1], [1, 2]);
  const b = f32([2, 2], [3, 4, 5, 6]);
  assertClose(run1('Concat', [a, b], { axis: -1 }), [2, 3], [1, 3, 4, 2, 5, 6]);
  assert.equal(values(run1('Concat', [t('string', [1], ['a']), t('string', [2], ['b', 'c'])], { axis: 0 })), ['a', 'b', 'c']);
  const x = f32([2, 5], iota(10));
  const [p, q] = run('Split', [x, i64([2], [2, 3])], { axis: 1 }, 2);
  assertClose(p!, [2, 2], [0, 1, 5, 6]);
  assertClose(q!, [2, 3], [2, 3, 4, 7, 8, 9]);
  const parts = run('Split', [f32([6], iota(6))], {}, 3);
  assert.equal(parts.map((r) => values(r)), [[0, 1], [2, 3], [4, 5]]);
  const [u, v] = run('Split', [f32([4], iota(4))], { split: [1, 3] }, 2, 11);
  assert.equal([values(u!), values(v!)], [[0], [1, 2, 3]]);
});

test('Gather, GatherElements, GatherND with negative indices', () => {
  const x = f32([3, 2], [1, 2, 3, 4, 5, 6]);
  assertClose(run1('Gather', [x, i64([2, 1], [2, -3])]), [2, 1, 2], [5, 6, 1, 2]);
  assertClose(run1('Gather', [x, i64([], [1])], { axis: 1 }), [3], [2, 4, 6]);
  assertClose(run1('GatherElements', [x, i64([2, 2], [0, 2, -1, 1])], { axis: 0 }), [2, 2], [1, 6, 5, 4]);
  assertClose(run1('GatherND', [x, i64([2, 2], [0, 1, 2, 0])]), [2], [2, 5]);
  assertClose(run1('GatherND', [f32([2, 2, 2], iota(8)), i64([2, 1], [1, 0])], { batch_dims: 1 }), [2, 2], [2, 3, 4, 5]);
  assert.throws(() => run1('Gather', [x, i64([1], [3])]), /index 3 is out of range/);
});

test('Expand, Tile, Pad in every mode', () => {
  assertClose(run1('Expand', [f32([3, 1], [1, 2, 3]), i64([3], [2, 1, 2])]), [2, 3, 2], [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
  assertClose(run1('Tile', [f32([2], [1, 2]), i64([1], [3])]), [6], [1, 2, 1, 2, 1, 2]);
  const x = f32([4], [1, 2, 3, 4]);
  const pads = i64([2], [2, 3]);
  assertClose(run1('Pad', [x, pads, f32([], [9])]), [9], [9, 9, 1, 2, 3, 4, 9, 9, 9]);
  assertClose(run1('Pad', [x, pads], { mode: 'edge' }), [9], [1, 1, 1, 2, 3, 4, 4, 4, 4]);
  assertClose(run1('Pad', [x, pads], { mode: 'reflect' }), [9], [3, 2, 1, 2, 3, 4, 3, 2, 1]);
  assertClose(run1('Pad', [x, pads], { mode: 'wrap' }), [9], [3, 4, 1, 2, 3, 4, 1, 2, 3]);
  assertClose(run1('Pad', [x, i64([2], [-1, 1])]), [4], [2, 3, 4, 0]); // negative pads crop
  assertClose(run1('Pad', [f32([2, 2], [1, 2, 3, 4])], { pads: [1, 0, 0, 1], value: float(-1) }, 2), [3, 3], [-1, -1, -1, 1, 2, -1, 3, 4, -1]);
});

test('Constant, ConstantOfShape, Range (float and exact i64)', () => {
  assert.equal(values(run1('Constant', [], { value_ints: [1, 2] })), [1n, 2n]);
  assertClose(run1('Constant', [], { value_float: float(2.5) }), [], [2.5]);
  const cos = run1('ConstantOfShape', [i64([2], [2, 3])]);
  assert.is(cos.dtype, 'f32');
  assertClose(cos, [2, 3], new Array(6).fill(0));
  assertClose(run1('Range', [f32([], [1]), f32([], [2]), f32([], [0.25])]), [4], [1, 1.25, 1.5, 1.75]);
  assert.equal(values(run1('Range', [i64([], [2n ** 60n]), i64([], [2n ** 60n + 7n]), i64([], [3n])])), [2n ** 60n, 2n ** 60n + 3n, 2n ** 60n + 6n]);
  assert.equal(values(run1('Range', [t('i32', [], [10]), t('i32', [], [4]), t('i32', [], [-3])])), [10, 7]);
});

test('Reduce ops: axes from attribute or operand, keepdims, noop_with_empty_axes', () => {
  const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);
  assertClose(run1('ReduceSum', [x, i64([1], [1])]), [2, 1], [6, 15]);
  assertClose(run1('ReduceSum', [x, i64([0], [])], { keepdims: 0 }), [], [21]);
  assertClose(run1('ReduceSum', [x, i64([0], [])], { noop_with_empty_axes: 1 }), [2, 3], [1, 2, 3, 4, 5, 6]);
  assertClose(run1('ReduceMean', [x], { axes: [0], keepdims: 0 }), [3], [2.5, 3.5, 4.5]);
  assertClose(run1('ReduceMax', [x], { axes: [-1] }), [2, 1], [3, 6]);
  assertClose(run1('ReduceMin', [x, i64([1], [0])], {}, 18), [1, 3], [1, 2, 3]);
  assertClose(run1('ReduceProd', [x], { axes: [1] }), [2, 1], [6, 120]);
  assertClose(run1('ReduceL1', [f32([2], [-1, 2])]), [1], [3]);
  assertClose(run1('ReduceL2', [f32([2], [3, 4])]), [1], [5]);
  assertClose(run1('ReduceSumSquare', [f32([2], [3, 4])]), [1], [25]);
  assertClose(run1('ReduceLogSumExp', [f32([2], [1000, 1000])]), [1], [1000 + Math.LN2]);
  assert.equal(values(run1('ReduceSum', [i64([2], [2n ** 62n, 2n ** 60n])], { keepdims: 0 })), [2n ** 62n + 2n ** 60n]);
});

test('ArgMax/ArgMin with keepdims and select_last_index', () => {
  const x = f32([2, 3], [1, 5, 5, 7, 0, 0]);
  assert.equal(values(run1('ArgMax', [x], { axis: 1 })), [1n, 0n]);
  assert.equal(values(run1('ArgMax', [x], { axis: 1, select_last_index: 1, keepdims: 0 })), [2n, 0n]);
  assert.equal(values(run1('ArgMin', [x], { axis: 1, select_last_index: 1 })), [0n, 2n]);
  assert.equal([...run1('ArgMin', [x], { axis: 0 }).shape], [1, 3]);
});

test('Softmax: one axis from opset 13, whole flattened rows before', () => {
  const x = f32([2, 2], [1, 2, 3, 4]);
  const e = (a: number, b: number) => [Math.exp(a) / (Math.exp(a) + Math.exp(b)), Math.exp(b) / (Math.exp(a) + Math.exp(b))];
  assertClose(run1('Softmax', [x], { axis: 0 }), [2, 2], [e(1, 3)[0]!, e(2, 4)[0]!, e(1, 3)[1]!, e(2, 4)[1]!]);
  // opset 11, axis 0: the whole tensor is one row.
  const s = Math.exp(1) + Math.exp(2) + Math.exp(3) + Math.exp(4);
  assertClose(run1('Softmax', [x], { axis: 0 }, 11), [2, 2], [1, 2, 3, 4].map((v) => Math.exp(v) / s));
  assertClose(run1('LogSoftmax', [f32([2], [0, 0])]), [2], [-Math.LN2, -Math.LN2]);
  assertClose(run1('Hardmax', [f32([2, 3], [1, 3, 3, 0, -1, -2])]), [2, 3], [0, 1, 0, 1, 0, 0]);
});

test('LayerNormalization, BatchNormalization, InstanceNormalization against naive formulas', () => {
  const xv = rand(12, 3);
  const x = f32([2, 6], xv);
  const [y, mean, inv] = run('LayerNormalization', [x, f32([6], new Array(6).fill(2)), f32([6], new Array(6).fill(1))], { epsilon: float(1e-5) }, 3);
  const expected: number[] = [];
  const means: number[] = [];
  for (let r = 0; r < 2; r++) {
    const row = xv.slice(r * 6, r * 6 + 6);
    const m = row.reduce((a, b) => a + b) / 6;
    const v = row.reduce((a, b) => a + (b - m) ** 2, 0) / 6;
    means.push(m);
    for (const z of row) expected.push(((z - m) / Math.sqrt(v + 1e-5)) * 2 + 1);
  }
  assertClose(y!, [2, 6], expected, 1e-5, 1e-5);
  assertClose(mean!, [2, 1], means, 1e-5, 1e-6);
  assert.equal([...inv!.shape], [2, 1]);
  const bx = f32([1, 2, 2], [1, 2, 3, 4]);
  const bn = run1('BatchNormalization', [bx, f32([2], [1, 2]), f32([2], [0, 1]), f32([2], [1, 2]), f32([2], [4, 1])], { epsilon: float(0) });
  assertClose(bn, [1, 2, 2], [0, 0.5, 3, 5]);
  const inorm = run1('InstanceNormalization', [f32([1, 1, 4], [1, 2, 3, 4]), f32([1], [1]), f32([1], [0])], { epsilon: float(0) });
  const sd = Math.sqrt(1.25);
  assertClose(inorm, [1, 1, 4], [-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd]);
});

test.run();
