// DFT, STFT, the Hann / Hamming / Blackman windows and MelWeightMatrix in the reference
// interpreter: the ONNX conformance cases (opset 17), ONNX Runtime on DFT-20 (axis operand) and
// the options the conformance data leaves out, and hand-checked transforms.
import { test } from 'uvu';
import type { Tensor } from '../../ir/interp/tensor.ts';
import * as assert from 'uvu/assert';
import { agreesWithOrt, conformanceFamily, f32, i32, i64, randF32, runLathe, nums } from './nn-helpers.ts';

test('conformance: DFT, STFT', () => {
  conformanceFamily(/^test_dft/);
  conformanceFamily(/^test_stft/);
});
test('conformance: HannWindow, HammingWindow, BlackmanWindow, MelWeightMatrix', () => {
  conformanceFamily(/^test_(hann|hamming|blackman)window(_symmetric)?$/);
  conformanceFamily(/^test_melweightmatrix$/);
});

test('DFT agrees with ONNX Runtime: opset 17 and 20, real and complex, inverse, onesided, dft_length, axis', async () => {
  const real = randF32([2, 7, 3, 1], 17);
  const complex = randF32([2, 7, 3, 2], 18);
  for (const [x, kind] of [[real, 'real'], [complex, 'complex']] as const) {
    for (const inverse of [0, 1]) {
      for (const onesided of kind === 'real' && !inverse ? [0, 1] : [0]) {
        for (const len of [0, 5, 10]) {
          for (const axis of [1, 2, -2, -3]) {
            const label = `${kind} inverse=${inverse} onesided=${onesided} dft_length=${len} axis=${axis}`;
            const n = len ? i64([], [len]) : null;
            await agreesWithOrt(`DFT-20 ${label}`, { op: 'DFT', opset: 20, inputs: [x, n, i64([], [axis])], attrs: { inverse, onesided }, outputs: ['f32'] }, 1e-4, 1e-4);
            if (axis > 0) await agreesWithOrt(`DFT-17 ${label}`, { op: 'DFT', opset: 17, inputs: [x, n], attrs: { inverse, onesided, axis }, outputs: ['f32'] }, 1e-4, 1e-4);
          }
        }
      }
    }
  }
});

test('STFT agrees with ONNX Runtime: window or frame_length, onesided, complex signal', async () => {
  for (const [sig, kind] of [[randF32([2, 20, 1], 19), 'real'], [randF32([2, 20, 2], 20), 'complex']] as const) {
    for (const onesided of kind === 'real' ? [0, 1] : [0]) {
      // ONNX Runtime 1.30 gets a complex signal with a window wrong (values far beyond the
      // input's range), so that combination is checked by hand below instead.
      if (kind === 'real') await agreesWithOrt(`STFT ${kind} window onesided=${onesided}`, { op: 'STFT', opset: 17, inputs: [sig, i64([], [3]), randF32([6], 21, 0, 1), null], attrs: { onesided }, outputs: ['f32'] }, 1e-4, 1e-4);
      await agreesWithOrt(`STFT ${kind} frame_length onesided=${onesided}`, { op: 'STFT', opset: 17, inputs: [sig, i64([], [4]), null, i64([], [7])], attrs: { onesided }, outputs: ['f32'] }, 1e-4, 1e-4);
    }
  }
});

test('windows and MelWeightMatrix agree with ONNX Runtime', async () => {
  for (const op of ['HannWindow', 'HammingWindow', 'BlackmanWindow']) {
    for (const periodic of [0, 1]) {
      for (const n of [1, 2, 9]) {
        for (const output_datatype of [1, 11]) {
          await agreesWithOrt(`${op} periodic=${periodic} size=${n} type=${output_datatype}`, { op, opset: 17, inputs: [i64([], [n])], attrs: { periodic, output_datatype }, outputs: [output_datatype === 1 ? 'f32' : 'f64'] });
        }
      }
    }
  }
  await agreesWithOrt('MelWeightMatrix', { op: 'MelWeightMatrix', opset: 17, inputs: [i64([], [10]), i64([], [64]), i64([], [16000]), f32([], [20]), f32([], [7000])], outputs: ['f32'] });
  await agreesWithOrt('MelWeightMatrix i32', { op: 'MelWeightMatrix', opset: 17, inputs: [i32([], [5]), i32([], [33]), i32([], [8000]), f32([], [0]), f32([], [3000])], outputs: ['f32'] });
});

const round = (t: Tensor | undefined) => nums(t).map((v) => Math.round(v * 1e6) / 1e6 + 0);

test('by hand: DFT of an impulse, inverse DFT, Hann window, STFT of a complex signal with a window', () => {
  const imp = runLathe({ op: 'DFT', opset: 17, inputs: [f32([1, 4, 1], [1, 0, 0, 0]), null], outputs: ['f32'] });
  assert.equal(round(imp[0]), [1, 0, 1, 0, 1, 0, 1, 0]);
  // The inverse of a flat spectrum is an impulse.
  const inv = runLathe({ op: 'DFT', opset: 20, inputs: [f32([1, 4, 2], [1, 0, 1, 0, 1, 0, 1, 0]), null, null], attrs: { inverse: 1 }, outputs: ['f32'] });
  assert.equal(round(inv[0]), [1, 0, 0, 0, 0, 0, 0, 0]);
  const hann = runLathe({ op: 'HannWindow', opset: 17, inputs: [i64([], [4])], outputs: ['f32'] });
  assert.equal(round(hann[0]), [0, 0.5, 1, 0.5]);
  // Signal i·[1, 1, 1, 1], window [0, 1, 1, 0], one frame: bin k = i·(e^{-iπk/2} + e^{-iπk}).
  const st = runLathe({ op: 'STFT', opset: 17, inputs: [f32([1, 4, 2], [0, 1, 0, 1, 0, 1, 0, 1]), i64([], [1]), f32([4], [0, 1, 1, 0]), null], attrs: { onesided: 0 }, outputs: ['f32'] });
  assert.equal(round(st[0]), [0, 2, 1, -1, 0, 0, -1, -1]);
});

test.run();
