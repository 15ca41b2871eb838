// Elementwise evaluators: broadcasting against a naive loop, C integer semantics, i64 exactness,
// f16 rounding after each op, activations, Cast.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, f32, float, i64, rand, run1, t, values } from './helpers.ts';

test('Add broadcasts like numpy (checked against a naive loop)', () => {
  const a = f32([2, 1, 4], rand(8, 1));
  const b = f32([3, 1], rand(3, 2));
  const y = run1('Add', [a, b]);
  const expected: number[] = [];
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) {
    expected.push(Math.fround(Number(a.data[i * 4 + k]) + Number(b.data[j])));
  }
  assertClose(y, [2, 3, 4], expected, 0, 0);
});

test('scalar and rank-0 broadcasting; incompatible shapes are an error naming the node', () => {
  assertClose(run1('Mul', [f32([], [3]), f32([2, 2], [1, 2, 3, 4])]), [2, 2], [3, 6, 9, 12]);
  assert.throws(() => run1('Add', [f32([2, 3], rand(6)), f32([4], rand(4))]), /node 'add_node'.*op onnx\.Add.*do not broadcast/);
});

test('integer Div truncates toward zero; Mod follows the divisor (fmod=0) or the dividend (fmod=1)', () => {
  assert.equal(values(run1('Div', [t('i32', [4], [7, -7, 7, -7]), t('i32', [4], [2, 2, -2, -2])])), [3, -3, -3, 3]);
  assert.equal(values(run1('Mod', [t('i32', [4], [7, -7, 7, -7]), t('i32', [4], [3, 3, -3, -3])])), [1, 2, -2, -1]);
  assert.equal(values(run1('Mod', [t('i32', [4], [7, -7, 7, -7]), t('i32', [4], [3, 3, -3, -3])], { fmod: 1 })), [1, -1, 1, -1]);
  assertClose(run1('Mod', [f32([2], [5.5, -5.5]), f32([2], [2, 2])], { fmod: 1 }), [2], [1.5, -1.5]);
});

test('integers wrap as in C', () => {
  assert.equal(values(run1('Add', [t('u8', [2], [250, 3]), t('u8', [2], [10, 5])])), [4, 8]);
  assert.equal(values(run1('Mul', [t('i32', [1], [2 ** 30]), t('i32', [1], [8])])), [0]);
  assert.equal(values(run1('Mul', [t('i32', [1], [123456789]), t('i32', [1], [987654321])])), [-67153019]);
});

test('i64 arithmetic is exact beyond 2^53', () => {
  const a = i64([2], [2n ** 60n + 1n, -(2n ** 62n)]);
  const b = i64([2], [3n, 7n]);
  assert.equal(values(run1('Add', [a, b])), [2n ** 60n + 4n, -(2n ** 62n) + 7n]);
  assert.equal(values(run1('Mul', [a, b])), [3n * (2n ** 60n + 1n), BigInt.asIntN(64, -7n * 2n ** 62n)]); // wraps like C
  assert.equal(values(run1('Div', [a, b])), [(2n ** 60n + 1n) / 3n, -(2n ** 62n) / 7n]);
  assert.equal(values(run1('Sub', [i64([1], [2n ** 53n + 1n]), i64([1], [1n])])), [2n ** 53n]);
  assert.equal(values(run1('Greater', [a, b])), [1, 0]);
  assert.equal(values(run1('Abs', [a])), [2n ** 60n + 1n, 2n ** 62n]);
  assert.equal(values(run1('Max', [a, b])), [2n ** 60n + 1n, 7n]);
});

test('f16 results are rounded to f16 after each op', () => {
  const one = t('f16', [1], [1]);
  const three = t('f16', [1], [3]);
  assert.equal(values(run1('Div', [one, three])), [0.333251953125]);
  // 2048 + 1 is not an f16 (spacing 2 there): ties to even give 2048.
  assert.equal(values(run1('Add', [t('f16', [1], [2048]), one])), [2048]);
  assert.equal(values(run1('Mul', [t('f16', [1], [300]), t('f16', [1], [300])])), [Infinity]);
  assert.equal(values(run1('Sqrt', [t('bf16', [1], [2])])), [1.4140625]);
});

test('comparisons, logic, Where, Not', () => {
  const a = f32([3], [1, 2, 3]);
  const b = f32([3], [3, 2, 1]);
  assert.equal(values(run1('Less', [a, b])), [1, 0, 0]);
  assert.equal(values(run1('GreaterOrEqual', [a, b])), [0, 1, 1]);
  assert.equal(values(run1('Equal', [t('string', [2], ['x', 'y']), t('string', [2], ['x', 'z'])])), [1, 0]);
  assert.equal(values(run1('Xor', [t('bool', [2], [1, 1]), t('bool', [2], [0, 1])])), [1, 0]);
  assert.equal(values(run1('Not', [t('bool', [2], [1, 0])])), [0, 1]);
  const y = run1('Where', [t('bool', [2, 1], [1, 0]), f32([3], [1, 2, 3]), f32([], [-1])]);
  assertClose(y, [2, 3], [1, 2, 3, -1, -1, -1]);
});

test('BitShift on unsigned types', () => {
  assert.equal(values(run1('BitShift', [t('u8', [3], [1, 255, 16]), t('u8', [3], [3, 1, 8])], { direction: 'LEFT' })), [8, 254, 0]);
  assert.equal(values(run1('BitShift', [t('u32', [2], [2 ** 32 - 1, 16]), t('u32', [2], [31, 2])], { direction: 'RIGHT' })), [1, 4]);
  assert.equal(values(run1('BitShift', [t('u64', [1], [1n]), t('u64', [1], [63n])], { direction: 'LEFT' })), [2n ** 63n]);
});

test('unary math, Round half to even, Sign, IsNaN/IsInf', () => {
  assertClose(run1('Round', [f32([6], [0.5, 1.5, 2.5, -2.5, 2.4, -0.6])]), [6], [0, 2, 2, -2, 2, -1]);
  assertClose(run1('Erf', [f32([4], [0, 0.5, -1, 3])]), [4], [0, 0.5204998778130465, -0.8427007929497149, 0.9999779095030014]);
  assertClose(run1('Sigmoid', [f32([3], [0, 50, -50])]), [3], [0.5, 1, 1.928749847963918e-22], 1e-6, 0);
  assert.equal(values(run1('Sign', [t('i32', [3], [-5, 0, 7])])), [-1, 0, 1]);
  assert.equal(values(run1('IsNaN', [f32([3], [NaN, 1, Infinity])])), [1, 0, 0]);
  assert.equal(values(run1('IsInf', [f32([3], [-Infinity, 1, Infinity])], { detect_negative: 0 })), [0, 0, 1]);
  assert.equal(values(run1('Neg', [t('i8', [2], [-128, 5])])), [-128, -5]);
});

test('activations with attributes', () => {
  const x = f32([4], [-2, -0.5, 0.5, 2]);
  assertClose(run1('LeakyRelu', [x], { alpha: float(0.1) }), [4], [-0.2, -0.05, 0.5, 2]);
  assertClose(run1('Elu', [x], { alpha: float(2) }), [4], [-2, -0.5, 0.5, 2].map((v) => (v < 0 ? 2 * (Math.exp(v) - 1) : v)));
  assertClose(run1('HardSigmoid', [x]), [4], [0.1, 0.4, 0.6, 0.9]);
  assertClose(run1('HardSwish', [x]), [4], [-2, -0.5, 0.5, 2].map((v) => v * Math.max(0, Math.min(1, v / 6 + 0.5))));
  assertClose(run1('ThresholdedRelu', [x], { alpha: float(0.6) }), [4], [0, 0, 0, 2]);
  assertClose(run1('Shrink', [x], { lambd: float(1), bias: float(0.5) }), [4], [-1.5, 0, 0, 1.5]);
  assertClose(run1('Softplus', [f32([2], [0, 100])]), [2], [Math.LN2, 100]);
  assertClose(run1('Gelu', [f32([2], [1, -1])]), [2], [0.8413447460685429, -0.15865525393145707]);
  assertClose(run1('PRelu', [f32([2, 2], [-1, 1, -2, 2]), f32([2], [0.5, 0.25])]), [2, 2], [-0.5, 1, -1, 2]);
});

test('Clip takes bounds from attributes before opset 11 and from operands after', () => {
  const x = f32([4], [-3, -1, 1, 3]);
  assertClose(run1('Clip', [x], { min: float(-2), max: float(2) }, 6), [4], [-2, -1, 1, 2]);
  assertClose(run1('Clip', [x, f32([], [0]), undefined]), [4], [0, 0, 1, 3]);
  assert.equal(values(run1('Clip', [i64([2], [-(2n ** 60n), 2n ** 60n]), i64([], [-5n]), i64([], [5n])])), [-5n, 5n]);
});

test('variadic Sum/Mean/Max/Min broadcast', () => {
  const a = f32([2], [1, 5]);
  const b = f32([1], [3]);
  const c = f32([2, 1], [0, 10]);
  assertClose(run1('Sum', [a, b, c]), [2, 2], [4, 8, 14, 18]);
  assertClose(run1('Mean', [a, b]), [2], [2, 4]);
  assertClose(run1('Max', [a, b, c]), [2, 2], [3, 5, 10, 10]);
  assertClose(run1('Min', [a]), [2], [1, 5]);
});

test('Cast: float→int truncates, i64→i32 wraps exactly, fp8 saturates, strings parse and print', () => {
  assert.equal(values(run1('Cast', [f32([4], [1.9, -1.9, 2.5, -0.5])], { to: 6 })), [1, -1, 2, 0]);
  assert.equal(values(run1('Cast', [i64([2], [2n ** 40n + 5n, -1n])], { to: 6 })), [5, -1]);
  assert.equal(values(run1('Cast', [i64([1], [2n ** 60n + 1n])], { to: 1 })), [Math.fround(2 ** 60)]);
  assert.equal(values(run1('Cast', [f32([2], [1e9, 3])], { to: 7 })), [1000000000n, 3n]);
  assert.equal(values(run1('Cast', [f32([3], [1000, 0.3, -1e9])], { to: 17 }, 19)), [448, 0.3125, -448]);
  assert.ok(Number.isNaN(Number(run1('Cast', [f32([1], [1000])], { to: 17, saturate: 0 }, 19).data[0])));
  assert.equal(values(run1('Cast', [f32([1], [1 / 3])], { to: 10 })), [0.333251953125]);
  assert.equal(values(run1('Cast', [t('string', [3], ['1.5', '-INF', 'NaN'])], { to: 1 })).map(String), ['1.5', '-Infinity', 'NaN']);
  assert.equal(values(run1('Cast', [f32([3], [0.1, 2, -Infinity])], { to: 8 })), ['0.1', '2', '-INF']);
  assert.equal(values(run1('Cast', [f32([3], [0, -2, NaN])], { to: 9 })), [0, 1, 1]);
  assert.equal(values(run1('CastLike', [t('i32', [1], [7]), t('f16', [1], [0])])), [7]);
});

test.run();
