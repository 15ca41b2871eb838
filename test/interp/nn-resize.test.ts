// Resize, Upsample, GridSample, RoiAlign and MaxUnpool in the reference interpreter: the ONNX
// conformance cases, ONNX Runtime on the opset 18–20 features the conformance data (opsets ≤ 17)
// lacks, and small hand-checked cases.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agreesWithOrt, conformanceFamily, f32, i64, randF32, runLathe, nums } from './nn-helpers.ts';

test('conformance: Resize and Upsample', () => {
  conformanceFamily(/^test_(resize|upsample)_/);
});
test('conformance: GridSample', () => {
  conformanceFamily(/^test_gridsample/);
});
test('conformance: RoiAlign', () => {
  conformanceFamily(/^test_roialign/);
});
test('conformance: MaxUnpool', () => {
  // with_output_shape passes: its indices address the default-sized result, which output_shape
  // then pads at the end (ONNX Runtime reads them as flat over output_shape and fails this case).
  conformanceFamily(/^test_maxunpool/);
});

const X = randF32([1, 2, 6, 7], 11);
const SCALES = [[1, 1, 0.5, 0.7], [1, 1, 2.3, 1.6], [1, 1, 0.34, 3]];
const COORDS = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_crop_and_resize'];

test('Resize (opset 19) agrees with ONNX Runtime: modes × coordinate modes × antialias × exclude_outside', async () => {
  for (const mode of ['nearest', 'linear', 'cubic']) {
    for (const coord of COORDS) {
      for (const sc of SCALES) {
        for (const antialias of mode === 'nearest' ? [0] : [0, 1]) {
          // ONNX Runtime refuses antialias with tf_crop_and_resize.
          if (antialias && coord === 'tf_crop_and_resize') continue;
          // align_corners divides by scale·in (the ONNX reference) where ORT divides by the
          // integer size; they agree only when scale·in is whole.
          if (coord === 'align_corners' && sc.some((s, i) => !Number.isInteger(s * X.shape[i]!))) continue;
          for (const exclude of mode === 'cubic' || antialias ? [0, 1] : [0]) {
            const roi = coord === 'tf_crop_and_resize' ? f32([8], [0, 0, 0.1, -0.2, 1, 1, 0.8, 1.3]) : null;
            await agreesWithOrt(`${mode} ${coord} [${sc}] antialias=${antialias} exclude_outside=${exclude}`, {
              op: 'Resize', opset: 19, inputs: [X, roi, f32([4], sc)],
              attrs: { mode, coordinate_transformation_mode: coord, antialias, exclude_outside: exclude, extrapolation_value: { f: -3 } },
              outputs: ['f32'],
            });
          }
        }
      }
    }
  }
});

test('Resize agrees with ONNX Runtime: nearest_mode, axes, keep_aspect_ratio_policy, opset 10, Upsample', async () => {
  for (const nearest_mode of ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']) {
    await agreesWithOrt(`nearest ${nearest_mode}`, { op: 'Resize', opset: 19, inputs: [X, null, f32([4], [1, 1, 0.6, 1.5])], attrs: { mode: 'nearest', nearest_mode }, outputs: ['f32'] });
  }
  for (const policy of ['stretch', 'not_larger', 'not_smaller']) {
    for (const mode of ['nearest', 'linear']) {
      await agreesWithOrt(`sizes ${policy} ${mode}`, { op: 'Resize', opset: 18, inputs: [X, null, null, i64([2], [4, 10])], attrs: { mode, axes: { ints: [2, 3] }, keep_aspect_ratio_policy: policy }, outputs: ['f32'] });
    }
  }
  await agreesWithOrt('axes [3, 2] scales', { op: 'Resize', opset: 18, inputs: [X, null, f32([2], [1.5, 0.5])], attrs: { mode: 'cubic', axes: { ints: [3, 2] } }, outputs: ['f32'] });
  await agreesWithOrt('tf_half_pixel_for_nn', { op: 'Resize', opset: 11, inputs: [X, f32([0], []), f32([4], [1, 1, 0.6, 1.5])], attrs: { mode: 'nearest', coordinate_transformation_mode: 'tf_half_pixel_for_nn' }, outputs: ['f32'] });
  for (const mode of ['nearest', 'linear']) {
    await agreesWithOrt(`Resize-10 ${mode}`, { op: 'Resize', opset: 10, inputs: [X, f32([4], [1, 1, 0.6, 1.5])], attrs: { mode }, outputs: ['f32'] });
    await agreesWithOrt(`Upsample-9 ${mode}`, { op: 'Upsample', opset: 9, inputs: [X, f32([4], [1, 1, 2, 1.5])], attrs: { mode }, outputs: ['f32'] });
  }
  await agreesWithOrt('Upsample-7', { op: 'Upsample', opset: 7, inputs: [X], attrs: { mode: 'nearest', scales: { floats: [1, 1, 2, 3] } }, outputs: ['f32'] });
});

test('Resize by hand: nearest keeps integers exact; linear align_corners; crop extrapolates', () => {
  const up = runLathe({ op: 'Resize', opset: 13, inputs: [i64([1, 2], [7, 9]), null, f32([2], [1, 2])], attrs: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, outputs: ['i64'] });
  assert.equal(nums(up[0]), [7, 7, 9, 9]);
  const lin = runLathe({ op: 'Resize', opset: 13, inputs: [f32([1, 2], [0, 3]), null, null, i64([2], [1, 4])], attrs: { mode: 'linear', coordinate_transformation_mode: 'align_corners' }, outputs: ['f32'] });
  assert.equal(nums(lin[0]), [0, 1, 2, 3]);
  // roi [0.5, 1.5] on [0, 10]: the source coordinates 0.5 and 1.5; 1.5 lies outside.
  const crop = runLathe({ op: 'Resize', opset: 13, inputs: [f32([2], [0, 10]), f32([2], [0.5, 1.5]), null, i64([1], [2])], attrs: { mode: 'linear', coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: { f: -1 } }, outputs: ['f32'] });
  assert.equal(nums(crop[0]), [5, -1]);
});

test('GridSample agrees with ONNX Runtime: opset 16 and 20 modes × padding × align_corners, 3-D spatial', async () => {
  const x = randF32([2, 3, 5, 6], 21);
  const grid = randF32([2, 4, 7, 2], 22, -1.7, 1.7);
  for (const [opset, modes] of [[16, ['bilinear', 'nearest', 'bicubic']], [20, ['linear', 'nearest', 'cubic']]] as const) {
    for (const mode of modes) {
      for (const padding_mode of ['zeros', 'border', 'reflection']) {
        for (const align_corners of [0, 1]) {
          await agreesWithOrt(`GridSample-${opset} ${mode} ${padding_mode} ${align_corners}`, { op: 'GridSample', opset, inputs: [x, grid], attrs: { mode, padding_mode, align_corners }, outputs: ['f32'] });
        }
      }
    }
  }
  const x5 = randF32([1, 2, 3, 4, 5], 23);
  const g5 = randF32([1, 2, 3, 4, 3], 24, -1.4, 1.4);
  for (const mode of ['linear', 'nearest']) {
    for (const padding_mode of ['zeros', 'border', 'reflection']) {
      await agreesWithOrt(`GridSample-20 5-D ${mode} ${padding_mode}`, { op: 'GridSample', opset: 20, inputs: [x5, g5], attrs: { mode, padding_mode }, outputs: ['f32'] });
    }
  }
});

test('GridSample by hand: the identity grid with align_corners reproduces the input', () => {
  const x = f32([1, 1, 2, 3], [1, 2, 3, 4, 5, 6]);
  const grid = f32([1, 2, 3, 2], [-1, -1, 0, -1, 1, -1, -1, 1, 0, 1, 1, 1]);
  for (const mode of ['bilinear', 'nearest', 'bicubic']) {
    const y = runLathe({ op: 'GridSample', opset: 16, inputs: [x, grid], attrs: { mode, align_corners: 1 }, outputs: ['f32'] });
    assert.equal(nums(y[0]).map((v) => Math.round(v * 1e5) / 1e5), [1, 2, 3, 4, 5, 6], mode);
  }
});

test('RoiAlign agrees with ONNX Runtime: opset 10 and 16, avg and max, fixed and adaptive sampling', async () => {
  const x = randF32([2, 3, 10, 12], 31);
  const rois = f32([4, 4], [0, 0, 9, 9, 1.2, 2.5, 7.3, 5.1, -2, -1, 4, 14, 3.3, 3.3, 3.9, 4.1]);
  const bi = i64([4], [0, 1, 1, 0]);
  for (const opset of [10, 16]) {
    for (const mode of ['avg', 'max']) {
      for (const sampling_ratio of [0, 2]) {
        for (const ctm of opset === 16 ? ['half_pixel', 'output_half_pixel'] : [undefined]) {
          await agreesWithOrt(`RoiAlign-${opset} ${mode} ${sampling_ratio} ${ctm}`, {
            op: 'RoiAlign', opset, inputs: [x, rois, bi],
            attrs: { mode, sampling_ratio, output_height: 3, output_width: 2, spatial_scale: { f: 0.8 }, ...(ctm ? { coordinate_transformation_mode: ctm } : {}) },
            outputs: ['f32'],
          });
        }
      }
    }
  }
});

test('MaxUnpool by hand and against ONNX Runtime (no output_shape)', async () => {
  const c = { op: 'MaxUnpool', opset: 11, inputs: [f32([1, 1, 2, 2], [1, 2, 3, 4]), i64([1, 1, 2, 2], [0, 3, 6, 8])], attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] }, pads: { ints: [0, 0, 1, 1] } }, outputs: ['f32' as const] };
  await agreesWithOrt('MaxUnpool', c);
  assert.equal(nums(runLathe(c)[0]), [1, 0, 0, 2, 0, 0, 3, 0, 4]);
});

test.run();
