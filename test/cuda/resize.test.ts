// CUDA Resize / Upsample, GridSample and RoiAlign (backends/cuda/ops/resize.ts, grid-sample.ts)
// on the CPU harness against the interpreter, forward and reverse thread order: every mode and
// coordinate transform, nearest modes, cubic with exclude_outside, antialias, tf_crop_and_resize
// with extrapolation, axes, keep_aspect_ratio_policy, legacy opsets, f16/f64/integer dtypes; N-d
// GridSample over modes, paddings and align_corners; RoiAlign avg/max, both coordinate modes.
// Each test is one g++ build. Run alone with `node --import tsx test/run.ts cuda/resize`.
import { test } from 'uvu';
import type { DType } from '../../ir/dtype.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { makeTensor, roundTo } from '../../ir/interp/tensor.ts';
import type { OpCase } from './helpers.ts';
import { checkCuda, opCase, rng } from './helpers.ts';

const r = rng(31);
const f32 = (v: number[], shape = [v.length]) => makeTensor('f32', shape, Float32Array.from(v));
const i64 = (v: number[]) => makeTensor('i64', [v.length], BigInt64Array.from(v.map(BigInt)));
const as = (t: Tensor, dtype: DType) =>
  roundTo(makeTensor(dtype, t.shape, dtype === 'f64' ? Float64Array.from(t.data as Float32Array) : Float32Array.from(t.data as Float32Array)));

/** Resize-19 with constant scales (operand 2) or sizes (operand 3). */
const scales = (x: Tensor, s: number[], attrs: Record<string, number | string | number[]> = {}, roi?: number[]) =>
  opCase('Resize', [x, roi ? f32(roi) : null, f32(s)], attrs, { consts: [1, 2], opset: 19 });
const sizes = (x: Tensor, s: number[], attrs: Record<string, number | string | number[]> = {}) =>
  opCase('Resize', [x, null, null, i64(s)], attrs, { consts: [3], opset: 19 });

test('Resize: nearest modes and coordinate transforms over dtypes', () => {
  const x = r.f32([2, 3, 5, 7]);
  const cases: OpCase[] = [];
  const coords = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn'];
  for (const coordinate_transformation_mode of coords) {
    for (const nearest_mode of ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']) {
      cases.push(scales(x, [1, 1, 1.7, 0.6], { mode: 'nearest', coordinate_transformation_mode, nearest_mode }));
    }
    cases.push(sizes(x, [2, 3, 1, 11], { mode: 'nearest', coordinate_transformation_mode }));
  }
  cases.push(scales(r.int('i64', [2, 4, 6], -9, 9), [1, 2, 0.5], { mode: 'nearest' }));
  cases.push(scales(r.int('u8', [3, 5], 0, 255), [2.5, 1.5], { mode: 'nearest' }));
  cases.push(scales(r.int('bool', [3, 5], 0, 1), [2, 2], { mode: 'nearest' }));
  cases.push(scales(as(x, 'f16'), [1, 1, 2, 2], { mode: 'nearest', nearest_mode: 'ceil' }));
  cases.push(sizes(x, [4, 5], { mode: 'nearest', axes: [3, 2] })); // axes out of order
  cases.push(sizes(x, [9, 9], { mode: 'nearest', axes: [2, 3], keep_aspect_ratio_policy: 'not_larger' }));
  cases.push(sizes(x, [9, 9], { mode: 'nearest', axes: [2, 3], keep_aspect_ratio_policy: 'not_smaller' }));
  cases.push(scales(x, [1, 1, 0.8, 1.2], { mode: 'nearest', coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: 7.5 }, [0, 0, 0.3, -0.2, 1, 1, 0.9, 1.3]));
  checkCuda('resize nearest', cases);
});

test('Resize: linear and cubic, exclude_outside, antialias, tf_crop_and_resize, legacy', () => {
  const x = r.f32([1, 2, 6, 8]);
  const cases: OpCase[] = [];
  const coords = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric'];
  for (const mode of ['linear', 'cubic']) {
    for (const coordinate_transformation_mode of coords) {
      cases.push(scales(x, [1, 1, 1.5, 0.75], { mode, coordinate_transformation_mode }));
      cases.push(sizes(x, [1, 2, 1, 5], { mode, coordinate_transformation_mode }));
    }
    cases.push(scales(x, [1, 1, 0.5, 0.6], { mode, antialias: 1 }));
    cases.push(scales(x, [1, 1, 2.5, 0.3], { mode, antialias: 1, exclude_outside: 1 }));
    cases.push(scales(x, [1, 1, 1.3, 0.7], { mode, exclude_outside: 1, cubic_coeff_a: -0.5 }));
    cases.push(scales(x, [1, 1, 0.8, 1.2], { mode, coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: -3.25 }, [0, 0, 0.4, -0.3, 1, 1, 0.7, 1.2]));
    cases.push(opCase('Resize', [x, f32([0, 0, 0.2, 0.5, 1, 1, 0.6, 0.9]), null, i64([1, 1, 1, 1])], { mode, coordinate_transformation_mode: 'tf_crop_and_resize' }, { consts: [1, 3], opset: 19 }));
    cases.push(sizes(x, [7, 4], { mode, axes: [-1, 2], keep_aspect_ratio_policy: 'not_larger' }));
    cases.push(scales(r.f32([3, 10, 4], -2, 2), [0.7, 1.6, 1], { mode }));
    cases.push(scales(as(x, 'f16'), [1, 1, 1.5, 0.5], { mode }));
    cases.push(scales(as(x, 'f64'), [1, 1, 1.5, 0.5], { mode, antialias: 1 }));
    cases.push(scales(r.int('i32', [4, 5], -100, 100), [1.5, 1.4], { mode }));
    cases.push(scales(r.int('u8', [4, 5], 0, 255), [0.5, 2], { mode }));
    cases.push(scales(r.f32([2, 3, 4, 3, 2]), [1, 1, 1.5, 0.7, 2], { mode })); // 3 resized axes
  }
  checkCuda('resize linear cubic', cases, { rtol: 1e-4, atol: 1e-4 });
});

// Merged cases share the highest opset, so the opset-10 forms get a build of their own.
test('Resize-10, Upsample-9 (legacy nearest, asymmetric) and RoiAlign-10', () => {
  const x = r.f32([10, 12], -2, 2);
  checkCuda('legacy', [
    opCase('Resize', [r.f32([1, 2, 3, 4]), f32([1, 1, 2, 3])], { mode: 'nearest' }, { consts: [1], opset: 10 }),
    opCase('Resize', [r.f32([1, 2, 6, 5]), f32([1, 1, 0.5, 0.6])], { mode: 'nearest' }, { consts: [1], opset: 10 }),
    opCase('Resize', [r.f32([2, 3, 4]), f32([1, 2.5, 0.5])], { mode: 'linear' }, { consts: [1], opset: 10 }),
    opCase('Upsample', [r.f32([2, 3, 4]), f32([1, 2, 1.5])], { mode: 'nearest' }, { consts: [1], opset: 9 }),
    opCase('Upsample', [r.int('i32', [2, 3], -50, 50), f32([2, 3])], { mode: 'linear' }, { consts: [1], opset: 9 }),
    opCase('RoiAlign', [makeTensor('f32', [1, 1, 10, 12], x.data), f32([1, 1, 6, 7, 0.5, 2, 3, 2.5], [2, 4]), i64([0, 0])], { output_height: 2, output_width: 3 }, { opset: 10 }),
  ]);
});

test('GridSample (1-, 2-, 3-D; modes, paddings, align_corners) and RoiAlign', () => {
  const cases: OpCase[] = [];
  for (const mode of ['linear', 'nearest', 'cubic']) {
    for (const padding_mode of ['zeros', 'border', 'reflection']) {
      for (const align_corners of [0, 1]) {
        cases.push(opCase('GridSample', [r.f32([2, 3, 5, 6]), r.f32([2, 4, 7, 2], -1.4, 1.4)], { mode, padding_mode, align_corners }));
      }
    }
    cases.push(opCase('GridSample', [r.f32([1, 2, 3, 4, 5]), r.f32([1, 2, 3, 2, 3], -1.3, 1.3)], { mode, padding_mode: 'reflection' }));
    cases.push(opCase('GridSample', [r.f32([2, 2, 9]), r.f32([2, 11, 1], -1.5, 1.5)], { mode, padding_mode: 'border', align_corners: 1 }));
  }
  cases.push(opCase('GridSample', [r.f32([1, 2, 4, 4]), r.f32([1, 3, 3, 2], -1.2, 1.2)], { mode: 'bilinear' }, { opset: 16 }));
  cases.push(opCase('GridSample', [r.f32([1, 2, 4, 4]), r.f32([1, 3, 3, 2], -1.2, 1.2)], { mode: 'bicubic', padding_mode: 'border' }, { opset: 16 }));
  cases.push(opCase('GridSample', [as(r.f32([1, 2, 4, 4]), 'f16'), as(r.f32([1, 3, 3, 2], -1.2, 1.2), 'f16')], {}));
  cases.push(opCase('GridSample', [as(r.f32([1, 2, 4, 4]), 'f64'), as(r.f32([1, 3, 3, 2], -1.2, 1.2), 'f64')], { mode: 'cubic' }));
  const x = r.f32([2, 3, 10, 12]);
  const rois = f32([0, 0, 9, 9, 1.5, 2.25, 7.5, 6, -2, -1, 3, 14, 4, 4, 4.3, 4.1], [4, 4]);
  const bidx = i64([0, 1, 1, 0]);
  for (const mode of ['avg', 'max']) {
    for (const coordinate_transformation_mode of ['half_pixel', 'output_half_pixel']) {
      cases.push(opCase('RoiAlign', [x, rois, bidx], { mode, coordinate_transformation_mode, output_height: 3, output_width: 4, spatial_scale: 0.75 }));
      cases.push(opCase('RoiAlign', [x, rois, bidx], { mode, coordinate_transformation_mode, output_height: 2, output_width: 2, sampling_ratio: 2 }));
    }
  }
  checkCuda('gridsample roialign', cases, { rtol: 1e-4, atol: 1e-4 });
});

test.run();
