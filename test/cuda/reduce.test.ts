// CUDA Reduce*, ArgMax/ArgMin, Softmax/LogSoftmax on the CPU harness against the interpreter:
// every strategy of the row template (warp per row, block per row with rows longer than a block,
// 32 interleaved rows per block), odd sizes, several axes, keepdims, f16/f64/integers, empty
// reductions. Cases are merged per opset (a merged model takes the highest opset). Run alone with
// `node --import tsx test/run.ts cuda/reduce`.
import { test } from 'uvu';
import type { DType } from '../../ir/dtype.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { makeTensor, roundTo } from '../../ir/interp/tensor.ts';
import type { OpCase } from './helpers.ts';
import { checkCuda, opCase, rng } from './helpers.ts';

const r = rng(17);
const i64 = (v: number[]) => makeTensor('i64', [v.length], BigInt64Array.from(v.map(BigInt)));
/** A float tensor as another float dtype (narrow ones rounded). */
const as = (t: Tensor, dtype: DType) =>
  roundTo(makeTensor(dtype, t.shape, dtype === 'f64' ? Float64Array.from(t.data as Float32Array) : Float32Array.from(t.data as Float32Array)));
const red = (op: string, x: Tensor, axes: number[] | undefined, attrs: Record<string, number> = {}): OpCase =>
  axes === undefined ? opCase(op, [x], attrs) : opCase(op, [x, i64(axes)], attrs, { consts: [1] });

const OPS = ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSum', 'ReduceLogSumExp'];
/** Inputs each op is well defined and well conditioned on (products near 1, log of positive sums). */
const input = (op: string, shape: number[]) => (op === 'ReduceProd' ? r.f32(shape, 0.97, 1.03) : op === 'ReduceLogSum' ? r.f32(shape, 0.1, 2) : r.f32(shape));

test('Reduce* on f32: inner rows (warp), interleaved rows (column), rows longer than a block, all axes', () => {
  const cases: OpCase[] = [];
  for (const op of OPS) {
    cases.push(red(op, input(op, [5, 37, 70]), [2], { keepdims: 0 })); // warp per row, n = 70
    cases.push(red(op, input(op, [5, 37, 70]), [1])); // 32 adjacent rows per block, n = 37
    cases.push(red(op, input(op, [3, 37, 21]), [0, -1])); // non-contiguous axes, column blocks
    cases.push(red(op, input(op, [4, 1300]), [1])); // block per row, 512 threads, 1300 > 512
    cases.push(red(op, input(op, [6, 9, 11]), undefined, { keepdims: 0 })); // all axes
  }
  checkCuda('reduce f32', cases, { rtol: 2e-4, atol: 1e-4 });
});

test('Reduce* on f16, bf16, f64 and integers; keepdims, empty axes, empty reductions', () => {
  const x = r.f32([7, 33, 40]);
  const pos = r.f32([7, 33, 40], 0.1, 2);
  const cases: OpCase[] = [];
  for (const dt of ['f16', 'f64', 'bf16'] as const) {
    cases.push(red('ReduceSum', as(x, dt), [2]));
    cases.push(red('ReduceMean', as(x, dt), [0, 2], { keepdims: 0 }));
    cases.push(red('ReduceMax', as(x, dt), [1]));
    cases.push(red('ReduceL2', as(x, dt), [2]));
    cases.push(red('ReduceLogSumExp', as(x, dt), [0]));
    cases.push(red('ReduceLogSum', as(pos, dt), [2]));
  }
  const xi = r.int('i32', [6, 35, 9], -50, 50);
  for (const op of ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceL1', 'ReduceSumSquare']) {
    cases.push(red(op, xi, [1], { keepdims: 0 }));
    cases.push(red(op, xi, [2]));
    cases.push(red(op, r.int('i64', [5, 300], -1000, 1000), [1]));
  }
  cases.push(red('ReduceProd', r.int('i32', [40, 7], -3, 3), [1]));
  cases.push(red('ReduceSum', r.int('u8', [3, 200], 0, 255), [1])); // wraps mod 256
  cases.push(red('ReduceMax', r.int('bool', [4, 50], 0, 1), [1]));
  cases.push(red('ReduceMin', r.int('bool', [4, 50], 0, 1), [0]));
  // noop_with_empty_axes with empty axes: the input itself; without: every axis.
  cases.push(red('ReduceSum', r.f32([3, 4]), [], { noop_with_empty_axes: 1 }));
  cases.push(red('ReduceSum', r.f32([3, 4]), [], { noop_with_empty_axes: 0 }));
  // Empty reductions give the identity (a mean of nothing is NaN).
  const empty = makeTensor('f32', [3, 0, 4], new Float32Array(0));
  for (const op of OPS) cases.push(red(op, empty, [1]));
  cases.push(red('ReduceSum', r.f32([1, 1, 45]), [0, 1], { keepdims: 0 })); // size-1 axes only
  checkCuda('reduce dtypes', cases, { rtol: 1e-2, atol: 1e-2 });
});

test('ReduceSum/ReduceMean before axes became an operand (opset 11 attributes)', () => {
  const x = r.f32([4, 33, 6]);
  checkCuda('reduce opset 11', [
    opCase('ReduceSum', [x], { axes: [0, 2] }, { opset: 11 }),
    opCase('ReduceMean', [x], { axes: [-2], keepdims: 0 }, { opset: 11 }),
    opCase('ReduceMax', [x], {}, { opset: 11 }),
    opCase('Softmax', [r.f32([3, 4, 45])], {}, { opset: 11 }), // coerced 2-D: rows of 4·45 = 180
    opCase('LogSoftmax', [r.f32([3, 4, 45])], { axis: 2 }, { opset: 11 }),
    opCase('Softmax', [r.f32([2, 3, 700])], { axis: 0 }, { opset: 11 }), // one row of 4200
  ], { rtol: 1e-4, atol: 1e-5 });
});

test('ArgMax/ArgMin: axes, keepdims, ties with select_last_index, NaN, long rows', () => {
  const cases: OpCase[] = [];
  const x = r.f32([6, 45, 33]);
  const ties = r.int('i32', [6, 45, 33], 0, 3);
  for (const op of ['ArgMax', 'ArgMin']) {
    for (const axis of [0, 1, 2, -1]) cases.push(opCase(op, [x], { axis, keepdims: axis === 1 ? 0 : 1 }));
    for (const last of [0, 1]) for (const axis of [0, 2]) cases.push(opCase(op, [ties], { axis, select_last_index: last }));
    cases.push(opCase(op, [r.int('i64', [3, 900], -5, 5)], { axis: 1, select_last_index: 1 }));
    cases.push(opCase(op, [as(r.f32([4, 1500]), 'f16')], { axis: 1 }));
    cases.push(opCase(op, [as(x, 'f64')], { axis: 1 }));
    // A NaN first element is kept; a NaN elsewhere is never taken (the interpreter's scan).
    cases.push(opCase(op, [makeTensor('f32', [2, 5], Float32Array.from([NaN, 1, 3, 2, 0, 1, NaN, 3, NaN, 0]))], { axis: 1 }));
  }
  checkCuda('argmax', cases);
});

test('Softmax/LogSoftmax: axes, rows longer than a block, f16/f64, −∞ and large inputs', () => {
  const cases: OpCase[] = [];
  for (const op of ['Softmax', 'LogSoftmax']) {
    cases.push(opCase(op, [r.f32([5, 7, 70], -8, 8)], {})); // warp, n = 70
    cases.push(opCase(op, [r.f32([5, 37, 70], -8, 8)], { axis: 1 })); // column
    cases.push(opCase(op, [r.f32([33, 3, 5])], { axis: 0 }));
    cases.push(opCase(op, [r.f32([3, 1500], -8, 8)], { axis: -1 })); // block
    cases.push(opCase(op, [as(r.f32([4, 300], -8, 8), 'f16')], {}));
    cases.push(opCase(op, [as(r.f32([4, 37, 5], -8, 8), 'f64')], { axis: 1 }));
    cases.push(opCase(op, [makeTensor('f32', [2, 4], Float32Array.from([-Infinity, 1, -Infinity, 2, 1000, 999, 998, -1000]))], {}));
  }
  checkCuda('softmax', cases, { rtol: 1e-3, atol: 1e-4 });
});

test.run();
