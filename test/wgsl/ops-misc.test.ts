// TopK, LRN, EyeLike, ReverseSequence, MaxUnpool, Det, DFT, STFT, the Hann/Hamming/Blackman
// windows and MelWeightMatrix: every kernel validates under Dawn's null backend and on the
// software adapter agrees with the reference interpreter; their ONNX conformance cases pass on
// the WGSL backend (but the *_expanded window cases, whose Range has a value-dependent length).
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTensor } from '../../ir/interp/tensor.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { runCaseOn } from '../../compiler/conformance.ts';
import { adapterDevice } from './kernel-harness.ts';
import { kernelsOf, mismatch, opCase, reference, rng, runOp, validate, checkOp, checkConformanceCases } from './ops-harness.ts';
import type { OpCase } from './ops-harness.ts';

const r = rng(5);

const check = checkOp;

const i64 = (shape: number[], v: number[]) => makeTensor('i64', shape, BigInt64Array.from(v.map(BigInt)));
const i32s = (v: number) => makeTensor('i32', [], Int32Array.of(v));
const f32s = (v: number) => makeTensor('f32', [], Float32Array.of(v));
const f32 = (shape: number[], v: number[]) => makeTensor('f32', shape, Float32Array.from(v));

test('TopK: axes, largest/smallest, k constant or from the result shape, opset 1', async () => {
  const x = r.f32([3, 5, 4]);
  for (const axis of [0, 1, 2, -1]) {
    for (const largest of [0, 1]) {
      for (const k of [1, 3]) {
        await check(`TopK axis ${axis} largest ${largest} k ${k}`, opCase('TopK', [x, i64([1], [k])], { axis, largest }, { consts: [1], outputs: 2 }));
      }
    }
  }
  await check('TopK k = n', opCase('TopK', [x, i64([1], [4])], {}, { consts: [1], outputs: 2 }));
  await check('TopK sorted 0', opCase('TopK', [x, i64([1], [2])], { sorted: 0 }, { consts: [1], outputs: 2 }));
  await check('TopK opset 1', opCase('TopK', [x], { k: 2, axis: 1 }, { opset: 1, outputs: 2 }));
  await check('TopK long rows', opCase('TopK', [r.f32([2, 700]), i64([1], [17])], {}, { consts: [1], outputs: 2 }));
});

test('TopK: ties keep the lower index, NaN ranks above numbers, integers', async () => {
  const nan = NaN;
  const ties = f32([2, 6], [1, 3, 3, 2, 3, 1, nan, 2, nan, 5, -1, 5]);
  for (const largest of [0, 1]) {
    for (const k of [1, 3, 6]) await check(`TopK ties largest ${largest} k ${k}`, opCase('TopK', [ties, i64([1], [k])], { largest }, { consts: [1], outputs: 2 }));
  }
  const ints = r.int('i64', [4, 6], -3, 3);
  await check('TopK i64', opCase('TopK', [ints, i64([1], [4])], {}, { consts: [1], outputs: 2 }));
  await check('TopK i32 smallest', opCase('TopK', [r.int('i32', [4, 6], -3, 3), i64([1], [3])], { largest: 0 }, { consts: [1], outputs: 2 }));
});

test('LRN: sizes, defaults, rank 3 and 5', async () => {
  for (const size of [1, 2, 3, 5]) await check(`LRN size ${size}`, opCase('LRN', [r.f32([2, 6, 3, 4])], { size, alpha: 0.01, beta: 0.6, bias: 1.5 }));
  await check('LRN defaults', opCase('LRN', [r.f32([1, 5, 4, 4])], { size: 3 }));
  await check('LRN rank 3', opCase('LRN', [r.f32([2, 7, 5])], { size: 4 }));
  await check('LRN rank 5', opCase('LRN', [r.f32([1, 4, 2, 3, 2])], { size: 3, beta: 1 }));
});

test('EyeLike: k, dtype, shapes', async () => {
  for (const k of [0, 1, -1, 3, -5, 9]) await check(`EyeLike k ${k}`, opCase('EyeLike', [r.f32([4, 6])], { k }));
  await check('EyeLike i64', opCase('EyeLike', [r.int('i64', [3, 3], 0, 4)]));
  await check('EyeLike dtype i32', opCase('EyeLike', [r.f32([5, 2])], { dtype: 6, k: -1 }));
  await check('EyeLike dtype f32 from int', opCase('EyeLike', [r.int('i32', [2, 4], 0, 1)], { dtype: 1, k: 2 }));
});

test('ReverseSequence: time/batch axes, ranks, lengths', async () => {
  await check('ReverseSequence time-major', opCase('ReverseSequence', [r.f32([5, 3, 2]), i64([3], [5, 1, 3])], { time_axis: 0, batch_axis: 1 }));
  await check('ReverseSequence batch-major', opCase('ReverseSequence', [r.f32([4, 6]), i64([4], [1, 2, 6, 0])], { time_axis: 1, batch_axis: 0 }));
  await check('ReverseSequence rank 4 ints', opCase('ReverseSequence', [r.int('i64', [3, 2, 2, 3], -9, 9), i64([2], [2, 3])], {}));
});

test('MaxUnpool: default shape, output_shape padding, pads', async () => {
  // Indices as MaxPool gives them: each 2×2 window's chosen position, flat over [1, 2, 4, 4].
  const x = r.f32([1, 2, 2, 2]);
  const idx = i64([1, 2, 2, 2], [5, 2, 13, 10, 16 + 0, 16 + 7, 16 + 9, 16 + 15]);
  await check('MaxUnpool default', opCase('MaxUnpool', [x, idx], { kernel_shape: [2, 2], strides: [2, 2] }));
  await check('MaxUnpool output_shape', opCase('MaxUnpool', [x, idx, i64([4], [1, 2, 5, 5])], { kernel_shape: [2, 2], strides: [2, 2] }, { consts: [2] }));
  await check('MaxUnpool output_shape crop', opCase('MaxUnpool', [x, idx, i64([4], [1, 2, 3, 4])], { kernel_shape: [2, 2], strides: [2, 2] }, { consts: [2] }));
  await check('MaxUnpool pads', opCase('MaxUnpool', [x, i64([1, 2, 2, 2], [0, 2, 4, 8, 9, 10, 11, 17])], { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 0, 0] }));
  await check('MaxUnpool 1-D', opCase('MaxUnpool', [f32([1, 1, 3], [4, 5, 6]), i64([1, 1, 3], [1, 3, 4])], { kernel_shape: [2], strides: [2] }));
});

test('Det: batches, sizes, singular and permuted matrices', async () => {
  for (const m of [1, 2, 3, 5]) await check(`Det ${m}×${m}`, opCase('Det', [r.f32([m, m])]), 1e-4, 1e-5);
  await check('Det batched', opCase('Det', [r.f32([3, 2, 4, 4])]), 1e-4, 1e-5);
  await check('Det singular', opCase('Det', [f32([2, 3, 3], [1, 2, 3, 2, 4, 6, 0, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0, 1])]));
  await check('Det needs pivoting', opCase('Det', [f32([3, 3], [0, 2, 1, 1, 0, 3, 4, 1, 0])]));
});

test('DFT: real/complex, axes, onesided, inverse, dft_length, opset 20', async () => {
  const real = r.f32([2, 8, 3, 1]);
  const cplx = r.f32([2, 7, 3, 2]);
  for (const x of [real, cplx]) {
    for (const axis of [1, 2]) {
      for (const inverse of [0, 1]) {
        await check(`DFT ${x.shape} axis ${axis} inverse ${inverse}`, opCase('DFT', [x], { axis, inverse }, { opset: 17 }));
        if (!inverse) await check(`DFT ${x.shape} axis ${axis} onesided`, opCase('DFT', [x], { axis, onesided: 1 }, { opset: 17 }));
      }
      for (const n of [4, 11]) await check(`DFT ${x.shape} axis ${axis} length ${n}`, opCase('DFT', [x, i64([], [n])], { axis }, { opset: 17, consts: [1] }));
    }
  }
  await check('DFT opset 20 default axis', opCase('DFT', [cplx], {}, { opset: 20 }));
  await check('DFT opset 20 axis 0', opCase('DFT', [r.f32([6, 2, 2]), null, i64([], [0])], { inverse: 1 }, { opset: 20, consts: [2] }));
  await check('DFT opset 20 length and axis', opCase('DFT', [real, i64([], [9]), i64([], [-3])], { onesided: 1 }, { opset: 20, consts: [1, 2] }));
  // A ramp: its transform cancels to zeros out of large terms (the conformance data's case).
  const ramp = f32([1, 32, 1], Array.from({ length: 32 }, (_, i) => 3 * i));
  await check('DFT ramp', opCase('DFT', [ramp], { axis: 1 }, { opset: 17 }));
});

test('STFT: window, frame_length, complex signal, onesided', async () => {
  const sig = r.f32([2, 40, 1]);
  await check('STFT frame_length', opCase('STFT', [sig, i64([], [5]), null, i64([], [8])], {}, { consts: [1, 3] }));
  await check('STFT window', opCase('STFT', [sig, i64([], [6]), r.f32([10], 0, 1)], {}, { consts: [1] }));
  await check('STFT window and frame_length', opCase('STFT', [sig, i64([], [7]), r.f32([9], 0, 1), i64([], [9])], { onesided: 0 }, { consts: [1, 3] }));
  await check('STFT complex', opCase('STFT', [r.f32([1, 30, 2]), i64([], [4]), r.f32([7], 0, 1)], { onesided: 0 }, { consts: [1] }));
});

test('Hann/Hamming/Blackman windows, MelWeightMatrix', async () => {
  for (const op of ['HannWindow', 'HammingWindow', 'BlackmanWindow']) {
    for (const periodic of [0, 1]) {
      for (const size of [1, 2, 10, 33]) await check(`${op} ${size} periodic ${periodic}`, opCase(op, [i32s(size)], { periodic }, { consts: [0] }));
    }
    await check(`${op} as i32`, opCase(op, [i64([], [12])], { output_datatype: 6 }, { consts: [0] }));
  }
  for (const [mels, dft, rate, lo, hi] of [
    [8, 16, 8192, 0, 4096],
    [10, 64, 16000, 20, 7000],
    [4, 31, 22050, 100, 9000],
  ] as const) {
    await check(`MelWeightMatrix ${mels} ${dft} ${rate} ${lo}–${hi}`, opCase('MelWeightMatrix', [i32s(mels), i32s(dft), i32s(rate), f32s(lo), f32s(hi)], {}, { consts: [0, 1, 2, 3, 4] }));
  }
});

// Conformance: every case of these ops passes on the WGSL backend but the expanded window
// functions, whose Range length is the size input's value (not specializable).
test('conformance cases on the WGSL backend', async () => {
  const prefixes = ['test_top_k', 'test_lrn', 'test_eyelike', 'test_reversesequence', 'test_maxunpool', 'test_det_', 'test_dft', 'test_stft', 'test_hannwindow', 'test_hammingwindow', 'test_blackmanwindow', 'test_melweightmatrix'];
  // The expanded window functions build a Range whose length is an input's value: not specializable.
  const expanded = ['hann', 'hamming', 'blackman'].flatMap((w) => [`test_${w}window_expanded`, `test_${w}window_symmetric_expanded`]);
  await checkConformanceCases(prefixes, 32, new Set(expanded));
});

test.run();
