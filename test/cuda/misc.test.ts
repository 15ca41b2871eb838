// CUDA TopK, LRN, MaxUnpool, Det (backends/cuda/ops/topk.ts, misc.ts) and DFT, STFT, the cosine
// windows, MelWeightMatrix (signal.ts) on the CPU harness against the interpreter, forward and
// reverse thread order: ties and NaN in TopK over dtypes, LRN window sizes, MaxUnpool with and
// without output_shape, singular and pivoting Det, real/complex/inverse/onesided DFT over axes,
// STFT with and without a window. Each test is one g++ build. Run alone with
// `node --import tsx test/run.ts cuda/misc`.
import { test } from 'uvu';
import type { DType } from '../../ir/dtype.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { makeTensor, roundTo } from '../../ir/interp/tensor.ts';
import type { OpCase } from './helpers.ts';
import { checkCuda, opCase, rng } from './helpers.ts';

const r = rng(53);
const f32 = (v: number[], shape = [v.length]) => makeTensor('f32', shape, Float32Array.from(v));
const i64 = (v: number[], shape = [v.length]) => makeTensor('i64', shape, BigInt64Array.from(v.map(BigInt)));
const as = (t: Tensor, dtype: DType) =>
  roundTo(makeTensor(dtype, t.shape, dtype === 'f64' ? Float64Array.from(t.data as Float32Array) : Float32Array.from(t.data as Float32Array)));
/** Small integers as floats: many ties. */
const ties = (shape: number[]) => makeTensor('f32', shape, Float32Array.from(r.int('i32', shape, -3, 3).data as Int32Array));

test('TopK (ties, NaN, axes, largest/smallest, dtypes), LRN, MaxUnpool, Det', () => {
  const cases: OpCase[] = [];
  const nan = f32([1, NaN, 3, 3, -1, NaN, 0, -0, 2, 1, NaN, 5], [2, 6]);
  for (const largest of [1, 0]) {
    cases.push(opCase('TopK', [ties([3, 9, 4]), i64([5])], { axis: 1, largest }, { consts: [1], outputs: 2 }));
    cases.push(opCase('TopK', [nan, i64([4])], { largest }, { consts: [1], outputs: 2 }));
    cases.push(opCase('TopK', [r.int('i64', [4, 7], -5, 5), i64([7])], { largest, sorted: 0 }, { consts: [1], outputs: 2 }));
    cases.push(opCase('TopK', [r.int('u8', [2, 30], 0, 20), i64([3])], { largest }, { consts: [1], outputs: 2 }));
    cases.push(opCase('TopK', [as(ties([5, 6]), 'f16'), i64([2])], { axis: 0, largest }, { consts: [1], outputs: 2 }));
    cases.push(opCase('TopK', [as(r.f32([3, 40]), 'f64'), i64([1])], { axis: -1, largest }, { consts: [1], outputs: 2 }));
  }
  cases.push(opCase('LRN', [r.f32([2, 7, 3, 4])], { size: 3 }));
  cases.push(opCase('LRN', [r.f32([2, 5, 6])], { size: 4, alpha: 0.002, beta: 0.6, bias: 1.5 }));
  cases.push(opCase('LRN', [as(r.f32([1, 6, 5]), 'f16')], { size: 5 }));
  cases.push(opCase('LRN', [as(r.f32([1, 6, 5]), 'f64')], { size: 2, alpha: 0.01 }));
  // MaxUnpool of a 2×2 / stride-2 max pool's indices over a 4×6 result.
  const idx = [0, 3, 4, 13, 15, 22].flatMap((v, i) => [v + 24 * Math.floor(i / 6)]);
  cases.push(opCase('MaxUnpool', [r.f32([1, 1, 2, 3]), i64(idx, [1, 1, 2, 3])], { kernel_shape: [2, 2], strides: [2, 2] }));
  cases.push(opCase('MaxUnpool', [r.f32([1, 1, 2, 3]), i64(idx, [1, 1, 2, 3]), i64([1, 1, 5, 5])], { kernel_shape: [2, 2], strides: [2, 2] }, { consts: [2] }));
  cases.push(opCase('MaxUnpool', [as(r.f32([2, 1, 3]), 'f16'), i64([1, 2, 5, 0, 3, 4], [2, 1, 3])], { kernel_shape: [2], strides: [2] }));
  const sing = f32([1, 2, 3, 2, 4, 6, 0, 1, 1], [3, 3]);
  cases.push(opCase('Det', [sing]));
  cases.push(opCase('Det', [r.f32([4, 3, 3])]));
  cases.push(opCase('Det', [f32([0, 1, 2, 1, 0, 3, 4, -3, 8], [3, 3])])); // needs a pivot
  cases.push(opCase('Det', [r.f32([2, 2, 7, 7])]));
  cases.push(opCase('Det', [as(r.f32([3, 2, 2]), 'f64')]));
  cases.push(opCase('Det', [as(r.f32([2, 2]), 'f16')]));
  checkCuda('topk lrn maxunpool det', cases);
});

test('DFT (real, complex, inverse, onesided, axes, dft_length), STFT, windows, MelWeightMatrix', () => {
  const cases: OpCase[] = [];
  const ramp = makeTensor('f32', [2, 16, 1], Float32Array.from({ length: 32 }, (_, i) => i % 16));
  for (const onesided of [0, 1]) {
    cases.push(opCase('DFT', [ramp], { onesided }, { opset: 17 }));
    cases.push(opCase('DFT', [r.f32([3, 10, 2])], { onesided, inverse: 0 }, { opset: 17 }));
    cases.push(opCase('DFT', [r.f32([2, 5, 3, 1]), i64([8])], { onesided, axis: 1 }, { consts: [1], opset: 17 }));
    cases.push(opCase('DFT', [r.f32([2, 12, 1]), i64([7])], { onesided }, { consts: [1], opset: 17 })); // shorter than the signal
  }
  cases.push(opCase('DFT', [r.f32([4, 9, 2])], { inverse: 1 }, { opset: 17 }));
  cases.push(opCase('DFT', [r.f32([4, 3, 6, 2])], { axis: 2, inverse: 1 }, { opset: 17 }));
  cases.push(opCase('DFT', [as(r.f32([2, 8, 2]), 'f64')], {}, { opset: 17 }));
  cases.push(opCase('DFT', [as(r.f32([2, 8, 1]), 'f16')], {}, { opset: 17 }));
  const sig = r.f32([2, 40, 1]);
  cases.push(opCase('STFT', [sig, i64([6]), as(r.f32([10], 0, 1), 'f32')], {}, { consts: [1], opset: 17 }));
  cases.push(opCase('STFT', [sig, i64([7]), null, i64([9])], { onesided: 0 }, { consts: [1, 3], opset: 17 }));
  cases.push(opCase('STFT', [r.f32([1, 33, 2]), i64([8]), r.f32([12])], { onesided: 0 }, { consts: [1], opset: 17 }));
  checkCuda('signal', cases, { rtol: 1e-4, atol: 1e-4 });
});

test.run();
