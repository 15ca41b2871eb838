// CUDA NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss, Einsum, Dropout and Hardmax on the CPU
// harness against the interpreter: every reduction, ignore_index (also negative), weights,
// spatial dims, log_prob, f16/f64; Einsum with diagonals, ellipses, implicit mode, several
// operands, integers; Dropout at inference (alias, mask) and in training (the seeded mask);
// Hardmax on every axis, old and new opsets, ties and NaNs. Run alone with
// `node --import tsx test/run.ts cuda/loss`.
import { test } from 'uvu';
import type { DType } from '../../ir/dtype.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { makeTensor, roundTo } from '../../ir/interp/tensor.ts';
import type { OpCase } from './helpers.ts';
import { checkCuda, opCase, rng } from './helpers.ts';

const r = rng(57);
const as = (t: Tensor, dtype: DType) =>
  roundTo(makeTensor(dtype, t.shape, dtype === 'f64' ? Float64Array.from(t.data as Float32Array) : Float32Array.from(t.data as Float32Array)));
const f32 = (shape: number[], v: number[]): Tensor => makeTensor('f32', shape, Float32Array.from(v));
const i64 = (shape: number[], v: number[]): Tensor => makeTensor('i64', shape, BigInt64Array.from(v.map(BigInt)));

/** Targets in [0, C) with some set to `ii` (an ignore_index). */
function targets(shape: number[], C: number, ii?: number): Tensor {
  const t = r.int('i64', shape, 0, C - 1);
  const d = t.data as BigInt64Array;
  if (ii !== undefined) for (let i = 0; i < d.length; i += 3) d[i] = BigInt(ii);
  return t;
}

test('NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss: reductions, weights, ignore_index', () => {
  const cases: OpCase[] = [];
  for (const reduction of ['none', 'sum', 'mean']) {
    cases.push(opCase('NegativeLogLikelihoodLoss', [r.f32([6, 5]), targets([6], 5)], { reduction }));
    cases.push(opCase('NegativeLogLikelihoodLoss', [r.f32([3, 4, 5, 2]), targets([3, 5, 2], 4, -1), r.f32([4], 0.2, 2)], { reduction, ignore_index: -1 }));
    cases.push(opCase('NegativeLogLikelihoodLoss', [r.f32([2, 3, 7]), targets([2, 7], 3, 1)], { reduction, ignore_index: 1 }));
    cases.push(opCase('SoftmaxCrossEntropyLoss', [r.f32([6, 5], -4, 4), targets([6], 5)], { reduction }, { outputs: 2 }));
    cases.push(opCase('SoftmaxCrossEntropyLoss', [r.f32([3, 4, 5, 2]), targets([3, 5, 2], 4, -5), r.f32([4], 0.2, 2)], { reduction, ignore_index: -5 }, { outputs: 2 }));
    cases.push(opCase('SoftmaxCrossEntropyLoss', [r.f32([2, 3, 7]), targets([2, 7], 3, 2)], { reduction, ignore_index: 2 }));
  }
  // Long class rows (the block strategy), many rows (2000 losses summed by one block).
  cases.push(opCase('SoftmaxCrossEntropyLoss', [r.f32([3, 700], -5, 5), targets([3], 700)], {}, { outputs: 2 }));
  cases.push(opCase('SoftmaxCrossEntropyLoss', [r.f32([2000, 3]), targets([2000], 3, 0)], { reduction: 'sum', ignore_index: 0 }));
  cases.push(opCase('NegativeLogLikelihoodLoss', [r.f32([2, 3, 1000]), targets([2, 1000], 3)], { reduction: 'mean' }));
  // All targets ignored: mean is 0 / 0.
  cases.push(opCase('NegativeLogLikelihoodLoss', [r.f32([2, 3]), i64([2], [7, 7])], { ignore_index: 7 }));
  // f16 and f64.
  cases.push(opCase('SoftmaxCrossEntropyLoss', [as(r.f32([4, 6, 3]), 'f16'), targets([4, 3], 6), as(r.f32([6], 0.5, 1.5), 'f16')], {}, { outputs: 2 }));
  cases.push(opCase('SoftmaxCrossEntropyLoss', [as(r.f32([4, 6, 3]), 'f64'), targets([4, 3], 6)], { reduction: 'none' }, { outputs: 2 }));
  cases.push(opCase('NegativeLogLikelihoodLoss', [as(r.f32([5, 4]), 'f64'), targets([5], 4), as(r.f32([4], 0.5, 1.5), 'f64')], { reduction: 'sum' }));
  checkCuda('losses', cases, { rtol: 2e-3, atol: 1e-4 });
});

test('Einsum: matmul, batch, diagonals, ellipsis, implicit, three operands, integers', () => {
  const i32 = (shape: number[]) => r.int('i32', shape, -50, 50);
  checkCuda('einsum', [
    opCase('Einsum', [r.f32([3, 4]), r.f32([4, 5])], { equation: 'ij,jk->ik' }),
    opCase('Einsum', [r.f32([2, 3, 4]), r.f32([2, 4, 5])], { equation: 'bij,bjk->bik' }),
    opCase('Einsum', [r.f32([3, 5, 7])], { equation: 'ijk->kji' }),
    opCase('Einsum', [r.f32([4, 4])], { equation: 'ii->i' }),
    opCase('Einsum', [r.f32([3, 4, 4])], { equation: 'bii' }), // implicit mode: the trace per b
    opCase('Einsum', [r.f32([2, 3, 5, 4]), r.f32([4, 6])], { equation: '...ij,jk->...ik' }),
    opCase('Einsum', [r.f32([5]), r.f32([5])], { equation: 'i,i' }),
    opCase('Einsum', [r.f32([3, 4])], { equation: 'ij->' }),
    opCase('Einsum', [r.f32([2, 3]), r.f32([3, 4]), r.f32([4, 2])], { equation: 'ij,jk,kl->il' }),
    opCase('Einsum', [r.f32([1, 3]), r.f32([5, 3])], { equation: 'ij,kj->ik' }),
    opCase('Einsum', [i32([3, 4]), i32([4, 2])], { equation: 'ij,jk->ik' }),
    opCase('Einsum', [as(r.f32([3, 8]), 'f16'), as(r.f32([8, 2]), 'f16')], { equation: 'ij,jk->ik' }),
    opCase('Einsum', [as(r.f32([3, 8]), 'f64'), as(r.f32([8, 2]), 'f64')], { equation: 'ij,jk->ki' }),
  ], { rtol: 2e-3, atol: 1e-4 });
});

test('Dropout (inference and seeded training) and Hardmax', () => {
  const x = r.f32([4, 5, 6]);
  const cases: OpCase[] = [
    opCase('Dropout', [x], {}),
    opCase('Dropout', [x], {}, { outputs: 2 }),
    opCase('Dropout', [x, f32([], [0.3])], {}, { outputs: 2, consts: [1] }),
    opCase('Dropout', [x, f32([], [0.3]), makeTensor('bool', [], Uint8Array.of(0))], {}, { outputs: 2, consts: [1, 2] }),
    opCase('Dropout', [x, f32([], [0.3]), makeTensor('bool', [], Uint8Array.of(1))], { seed: 3 }, { outputs: 2, consts: [1, 2] }),
    opCase('Dropout', [r.f32([1000]), f32([], [0.75]), makeTensor('bool', [], Uint8Array.of(1))], {}, { outputs: 2, consts: [1, 2] }),
    opCase('Dropout', [as(x, 'f16'), f32([], [0.5]), makeTensor('bool', [], Uint8Array.of(1))], { seed: 1.5 }, { consts: [1, 2] }),
    opCase('Dropout', [x, f32([], [0]), makeTensor('bool', [], Uint8Array.of(1))], {}, { outputs: 2, consts: [1, 2] }),
  ];
  // Hardmax: ties (first wins), NaNs (skipped; a NaN first element wins), long rows, old opsets.
  const tie = f32([3, 4], [1, 3, 3, 2, NaN, 1, 5, 5, 2, NaN, 7, 7]);
  cases.push(opCase('Hardmax', [tie], {}));
  cases.push(opCase('Hardmax', [tie], { axis: 0 }));
  for (const axis of [0, 1, 2, -1]) cases.push(opCase('Hardmax', [x], { axis }));
  cases.push(opCase('Hardmax', [r.f32([3, 900])], {}));
  cases.push(opCase('Hardmax', [as(r.f32([70, 3]), 'f16')], { axis: 0 }));
  cases.push(opCase('Hardmax', [as(r.f32([5, 9]), 'f64')], {}));
  checkCuda('dropout/hardmax', cases);
  // Old opsets (one merged model has one opset): ratio as an attribute; Hardmax over all dims from axis.
  checkCuda('dropout/hardmax, opset 11', [
    opCase('Dropout', [x], { ratio: 0.2 }, { outputs: 2, opset: 11 }),
    opCase('Hardmax', [x], { axis: 1 }, { opset: 11 }),
    opCase('Hardmax', [x], {}, { opset: 11 }),
    opCase('Hardmax', [x], { axis: 0 }, { opset: 11 }),
  ]);
});

test.run();
