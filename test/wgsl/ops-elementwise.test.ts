// Elementwise lowerings: every kernel validates under Dawn's null backend, and on the software
// adapter agrees with the reference interpreter (1e-4 relative for floats, exact for integers).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { kernelsOf, mismatch, opCase, reference, rng, runOp, validate, checkOp } from './ops-harness.ts';
import type { OpCase } from './ops-harness.ts';

const r = rng(7);
const UNARY = ['Sigmoid', 'Tanh', 'Exp', 'Floor', 'Ceil', 'Round', 'Sin', 'Cos', 'Tan', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Erf', 'Softsign',
  'Softplus', 'Mish', 'Elu', 'Selu', 'Celu', 'LeakyRelu', 'HardSigmoid', 'HardSwish', 'ThresholdedRelu', 'Shrink', 'Gelu', 'Abs', 'Neg', 'Sign', 'Relu', 'IsNaN', 'IsInf'];
const POSITIVE = ['Log', 'Sqrt', 'Reciprocal', 'Acosh'];
const UNIT = ['Asin', 'Acos', 'Atanh'];

const check = checkOp;

test('unary float ops', async () => {
  for (const op of UNARY) await check(op, opCase(op, [r.f32([3, 17], -4, 4)]));
  for (const op of POSITIVE) await check(op, opCase(op, [r.f32([40], 1.01, 9)]));
  for (const op of UNIT) await check(op, opCase(op, [r.f32([40], -0.99, 0.99)]));
  await check('Gelu tanh', opCase('Gelu', [r.f32([64], -5, 5)], { approximate: 'tanh' }));
  await check('lathe.SiLU', opCase('SiLU', [r.f32([64], -5, 5)], {}, { domain: 'lathe' }));
  await check('Erf small', opCase('Erf', [r.f32([64], -1e-3, 1e-3)]));
});

test('binary ops broadcast', async () => {
  const shapes: [number[], number[]][] = [[[4, 5], [4, 5]], [[2, 3, 4], [4]], [[2, 1, 4], [3, 1]], [[2, 3, 4], [3, 1]], [[5], []], [[1, 3, 1, 2], [2, 1, 5, 1]]];
  for (const [sa, sb] of shapes) {
    if (sb.length <= sa.length && sb.every((d, i) => d === 1 || d === sa[sa.length - sb.length + i])) await check(`PRelu ${sa}|${sb}`, opCase('PRelu', [r.f32(sa), r.f32(sb, 0.5, 2)]));
    for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Equal', 'Less', 'Greater', 'GreaterOrEqual', 'LessOrEqual']) {
      await check(`${op} ${sa}|${sb}`, opCase(op, [r.f32(sa), r.f32(sb, 0.5, 2)]));
    }
  }
  await check('Pow', opCase('Pow', [r.f32([30], 0.1, 3), r.f32([30], -2, 2)]));
  await check('Pow neg base', opCase('Pow', [r.f32([6], -3, -0.5), makeInts([6], [2, 3, 0, 1, -1, -2])]));
  await check('Mod float', opCase('Mod', [r.f32([30], -5, 5), r.f32([30], 0.5, 2)], { fmod: 1 }));
  await check('Mod int floor', opCase('Mod', [r.int('i32', [30], -20, 20), r.int('i32', [30], 1, 6)]));
  await check('Div int', opCase('Div', [r.int('i64', [30], -20, 20), r.int('i64', [30], -4, 4)]));
  await check('Pow int', opCase('Pow', [r.int('i32', [30], -4, 4), r.int('i32', [30], 0, 5)]));
});

function makeInts(shape: number[], v: number[]): Tensor {
  return { dtype: 'i32', shape, data: Int32Array.from(v) } as Tensor;
}

test('integer and logic ops, Where, variadic, Clip, Cast', async () => {
  const a = r.int('i32', [3, 4], -9, 9);
  const b = r.int('i32', [4], -9, 9);
  for (const op of ['Add', 'Sub', 'Mul', 'Max', 'Min', 'Equal', 'Less', 'Abs', 'Neg', 'Sign', 'Relu']) {
    const ins = ['Abs', 'Neg', 'Sign', 'Relu'].includes(op) ? [a] : [a, b];
    await check(`${op} i32`, opCase(op, ins));
  }
  const p = r.int('bool', [2, 5], 0, 1);
  const q = r.int('bool', [5], 0, 1);
  for (const op of ['And', 'Or', 'Xor']) await check(op, opCase(op, [p, q]));
  await check('Not', opCase('Not', [p]));
  await check('Where', opCase('Where', [p, r.f32([2, 5]), r.f32([5])]));
  await check('Sum3', opCase('Sum', [r.f32([2, 3]), r.f32([3]), r.f32([2, 1])]));
  await check('Mean3', opCase('Mean', [r.f32([2, 3]), r.f32([3]), r.f32([2, 1])]));
  await check('Max3', opCase('Max', [r.f32([2, 3]), r.f32([3]), r.f32([2, 1])]));
  await check('Clip', opCase('Clip', [r.f32([20], -3, 3), r.f32([], -1, -1), r.f32([], 1, 1)]));
  await check('Clip lo only', opCase('Clip', [r.f32([20], -3, 3), r.f32([], -1, -1)]));
  await check('Clip consts', opCase('Clip', [r.f32([20], -3, 3), r.f32([], -1, -1), r.f32([], 1, 1)], {}, { consts: [1, 2] }));
  await check('Clip opset 6', opCase('Clip', [r.f32([20], -3, 3)], { min: -0.5, max: 0.5 }, { opset: 6 }));
  await check('Clip int', opCase('Clip', [r.int('i32', [20], -9, 9), makeInts([], [-2]), makeInts([], [3])]));
  const f = r.f32([24], -300, 300);
  for (const to of [1, 6, 7, 9, 2, 3, 5, 12]) await check(`Cast f32→${to}`, opCase('Cast', [f], { to }));
  const i = r.int('i32', [24], -300, 300);
  for (const to of [1, 7, 9, 2, 3]) await check(`Cast i32→${to}`, opCase('Cast', [i], { to }));
  await check('IsInf', opCase('IsInf', [{ dtype: 'f32', shape: [4], data: Float32Array.from([Infinity, -Infinity, 0, NaN]) } as Tensor], { detect_negative: 0 }));
  await check('IsNaN', opCase('IsNaN', [{ dtype: 'f32', shape: [4], data: Float32Array.from([Infinity, -Infinity, 0, NaN]) } as Tensor]));
});

test('large grid folds into 2-D', async () => {
  await check('Relu big', opCase('Relu', [r.f32([70000 * 64 + 3])]));
});

test.run();
