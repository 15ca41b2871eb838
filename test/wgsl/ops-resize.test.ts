// Resize, Upsample, GridSample and RoiAlign: every kernel validates under Dawn's null backend and
// on the software adapter agrees with the reference interpreter; scales, sizes and roi work as
// constants and as computed operands (read by the kernel); their ONNX conformance cases pass on
// the WGSL backend.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LatheError } from '../../ir/errors.ts';
import { fromConst, makeTensor } from '../../ir/interp/tensor.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { runCaseOn } from '../../compiler/conformance.ts';
import { adapterDevice } from './kernel-harness.ts';
import { kernelsOf, lowerOp, mismatch, opCase, reference, rng, runOp, validate, checkOp, checkConformanceCases } from './ops-harness.ts';
import type { OpCase } from './ops-harness.ts';

const r = rng(23);

const check = checkOp;

/**
 * The case with its constant operands `idx` turned into graph inputs, the result types kept
 * (static, as after specialization): the kernel then reads them from their buffers.
 */
function computed(c: OpCase, idx: readonly number[]): OpCase {
  const g = c.model.graph;
  const node = g.nodes[0]!;
  const names = idx.map((i) => node.inputs[i]!);
  const moved = g.constants.filter((k) => names.includes(k.name));
  return {
    model: {
      ...c.model,
      graph: {
        ...g,
        inputs: [...g.inputs, ...moved.map((k) => ({ name: k.name, type: { kind: 'tensor' as const, dtype: k.tensor.dtype, shape: [...k.tensor.shape] } }))],
        constants: g.constants.filter((k) => !names.includes(k.name)),
      },
    },
    inputs: [...c.inputs, ...moved.map((k) => fromConst(k.tensor))],
  };
}

const f32 = (v: number[]) => makeTensor('f32', [v.length], Float32Array.from(v));
const i64 = (v: number[]) => makeTensor('i64', [v.length], BigInt64Array.from(v.map(BigInt)));
const EMPTY = makeTensor('f32', [0], new Float32Array(0));

function expectUnsupported(c: OpCase, why: RegExp) {
  try {
    lowerOp(c);
    assert.unreachable('expected UnsupportedOp');
  } catch (e) {
    assert.ok(e instanceof LatheError && e.kind === 'UnsupportedOp', String(e));
    assert.match((e as Error).message, why);
  }
}

const COORDS = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn'];

test('Resize nearest: every nearest_mode and coordinate mode, scales and sizes', async () => {
  const x = r.f32([1, 2, 4, 5]);
  for (const coord of COORDS) {
    for (const nearest_mode of ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']) {
      const attrs = { mode: 'nearest', coordinate_transformation_mode: coord, nearest_mode };
      await check(`nearest ${coord} ${nearest_mode} up`, opCase('Resize', [x, null, f32([1, 1, 2, 1.5])], attrs, { consts: [2], opset: 19 }));
      await check(`nearest ${coord} ${nearest_mode} down`, opCase('Resize', [x, null, f32([1, 1, 0.6, 0.5])], attrs, { consts: [2], opset: 19 }));
    }
    const attrs = { mode: 'nearest', coordinate_transformation_mode: coord };
    await check(`nearest ${coord} sizes`, opCase('Resize', [x, null, null, i64([1, 2, 7, 3])], attrs, { consts: [3], opset: 19 }));
  }
  // Integer and bool data gather exactly.
  await check('nearest i64', opCase('Resize', [r.int('i64', [2, 3, 4], -50, 50), null, f32([1, 1.5, 2.25])], { mode: 'nearest' }, { consts: [2], opset: 13 }));
  await check('nearest bool', opCase('Resize', [r.int('bool', [3, 5], 0, 1), null, f32([2, 0.8])], { mode: 'nearest' }, { consts: [2], opset: 13 }));
});

test('Resize linear and cubic: coordinate modes, N-d, cubic_coeff_a, exclude_outside', async () => {
  const x = r.f32([1, 2, 5, 6]);
  for (const mode of ['linear', 'cubic']) {
    for (const coord of COORDS) {
      for (const scales of [[1, 1, 1.6, 2.5], [1, 1, 0.6, 0.5], [1, 1, 1, 3]]) {
        await check(`${mode} ${coord} ${scales}`, opCase('Resize', [x, null, f32(scales)], { mode, coordinate_transformation_mode: coord }, { consts: [2], opset: 19 }));
      }
      await check(`${mode} ${coord} sizes`, opCase('Resize', [x, null, null, i64([1, 2, 9, 4])], { mode, coordinate_transformation_mode: coord }, { consts: [3], opset: 19 }));
    }
    for (const exclude_outside of [0, 1]) {
      for (const cubic_coeff_a of [-0.5, -0.75]) {
        const attrs = { mode, exclude_outside, cubic_coeff_a };
        await check(`${mode} exclude ${exclude_outside} A ${cubic_coeff_a}`, opCase('Resize', [x, null, f32([1, 1, 1.8, 0.7])], attrs, { consts: [2], opset: 19 }));
      }
    }
  }
  // Trilinear / tricubic on a 5-D tensor, resizing every axis (batch and channels too).
  const v = r.f32([2, 3, 3, 4, 5]);
  await check('trilinear', opCase('Resize', [v, null, f32([1, 1, 1.7, 0.75, 2])], { mode: 'linear' }, { consts: [2], opset: 19 }));
  await check('tricubic', opCase('Resize', [v, null, f32([1, 1, 2, 1.5, 0.6])], { mode: 'cubic' }, { consts: [2], opset: 19 }));
  await check('all axes', opCase('Resize', [r.f32([3, 4, 5]), null, f32([1.5, 0.5, 2])], { mode: 'linear' }, { consts: [2], opset: 19 }));
  await check('1-D', opCase('Resize', [r.f32([7]), null, f32([2.3])], { mode: 'cubic' }, { consts: [2], opset: 19 }));
  // Integer data: the interpolated value truncated toward zero. The kernel sums in f32, the
  // interpreter in f64, so a sum within f32 rounding of an integer may truncate to the other side;
  // with dyadic weights (scales 2 and 4 here) both sums are exact.
  const xi = r.int('i32', [1, 1, 4, 4], -100, 100);
  for (const coord of ['asymmetric', 'half_pixel']) {
    await check(`linear i32 ${coord}`, opCase('Resize', [xi, null, f32([1, 1, 2, 4])], { mode: 'linear', coordinate_transformation_mode: coord }, { consts: [2], opset: 13 }));
  }
  // An empty scales operand beside sizes (opset 11's form), and an empty roi.
  await check('empty scales', opCase('Resize', [x, EMPTY, EMPTY, i64([1, 2, 3, 8])], { mode: 'linear' }, { consts: [1, 2, 3], opset: 11 }));
});

test('Resize antialias downsampling (linear, cubic), keep_aspect_ratio_policy, axes', async () => {
  const x = r.f32([1, 2, 12, 10]);
  for (const mode of ['linear', 'cubic']) {
    for (const scales of [[1, 1, 0.6, 0.35], [1, 1, 0.5, 1.5], [1, 1, 0.25, 0.8]]) {
      await check(`antialias ${mode} ${scales}`, opCase('Resize', [x, null, f32(scales)], { mode, antialias: 1 }, { consts: [2], opset: 18 }));
    }
    await check(`antialias ${mode} sizes`, opCase('Resize', [x, null, null, i64([1, 2, 5, 3])], { mode, antialias: 1 }, { consts: [3], opset: 18 }));
    await check(`antialias ${mode} exclude`, opCase('Resize', [x, null, f32([1, 1, 0.45, 0.7])], { mode, antialias: 1, exclude_outside: 1 }, { consts: [2], opset: 18 }));
  }
  for (const policy of ['stretch', 'not_larger', 'not_smaller']) {
    for (const mode of ['nearest', 'linear']) {
      await check(`${policy} ${mode}`, opCase('Resize', [x, null, null, i64([7, 8])], { mode, axes: [2, 3], keep_aspect_ratio_policy: policy }, { consts: [3], opset: 18 }));
      await check(`${policy} ${mode} negative axes`, opCase('Resize', [x, null, null, i64([20, 15])], { mode, axes: [-1, -2], keep_aspect_ratio_policy: policy }, { consts: [3], opset: 19 }));
    }
  }
  await check('axes scales', opCase('Resize', [x, null, f32([0.7, 1.5])], { mode: 'cubic', axes: [3, 1] }, { consts: [2], opset: 18 }));
});

test('Resize tf_crop_and_resize: roi, extrapolation_value, axes', async () => {
  const x = r.f32([1, 2, 6, 5]);
  for (const mode of ['nearest', 'linear', 'cubic']) {
    const attrs = { mode, coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: 7.5 };
    const roi = f32([0, 0, -0.2, 0.3, 1, 1, 0.8, 1.4]);
    await check(`crop ${mode} sizes`, opCase('Resize', [x, roi, null, i64([1, 2, 4, 6])], attrs, { consts: [1, 3], opset: 13 }));
    await check(`crop ${mode} scales`, opCase('Resize', [x, roi, f32([1, 1, 1.5, 0.6])], attrs, { consts: [1, 2], opset: 13 }));
    await check(`crop ${mode} one row`, opCase('Resize', [x, roi, null, i64([1, 2, 1, 3])], attrs, { consts: [1, 3], opset: 13 }));
    await check(`crop ${mode} axes`, opCase('Resize', [x, f32([0.1, 0.6, 1.2, 0.9]), null, i64([3, 4])], { ...attrs, axes: [3, 2] }, { consts: [1, 3], opset: 18 }));
  }
});

test('Resize and Upsample before opset 11; computed scales, sizes and roi', async () => {
  const x = r.f32([1, 2, 3, 4]);
  for (const mode of ['nearest', 'linear']) {
    await check(`Resize-10 ${mode} up`, opCase('Resize', [x, f32([1, 1, 2, 1.5])], { mode }, { consts: [1], opset: 10 }));
    await check(`Resize-10 ${mode} down`, opCase('Resize', [r.f32([1, 1, 7, 9]), f32([1, 1, 0.5, 0.4])], { mode }, { consts: [1], opset: 10 }));
    await check(`Upsample-7 ${mode}`, opCase('Upsample', [x], { mode, scales: [1, 1, 2, 3] }, { opset: 7 }));
    await check(`Upsample-9 ${mode}`, opCase('Upsample', [x, f32([1, 2, 1.5, 2])], { mode }, { consts: [1], opset: 9 }));
    await check(`Upsample-9 ${mode} computed`, computed(opCase('Upsample', [x, f32([1, 1, 2.5, 2])], { mode }, { consts: [1], opset: 9 }), [1]));
  }
  expectUnsupported(opCase('Upsample', [x], { height_scale: 2, width_scale: 2 }, { opset: 1 }), /opset 7/);
  // Computed operands: the output shape is static, the values come from the buffers.
  for (const mode of ['nearest', 'linear', 'cubic']) {
    const y = r.f32([1, 2, 5, 6]);
    await check(`${mode} computed scales`, computed(opCase('Resize', [y, null, f32([1, 1, 1.6, 0.5])], { mode }, { consts: [2], opset: 13 }), [2]));
    await check(`${mode} computed sizes`, computed(opCase('Resize', [y, null, null, i64([1, 2, 3, 9])], { mode }, { consts: [3], opset: 13 }), [3]));
    await check(`${mode} computed sizes not_smaller`, computed(opCase('Resize', [y, null, null, i64([3, 7])], { mode, axes: [2, 3], keep_aspect_ratio_policy: 'not_smaller' }, { consts: [3], opset: 18 }), [3]));
    await check(`${mode} computed antialias`, computed(opCase('Resize', [y, null, f32([1, 1, 0.4, 0.5])], { mode, antialias: 1 }, { consts: [2], opset: 18 }), [2]));
    const crop = { mode, coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: -3 };
    await check(`${mode} computed roi`, computed(opCase('Resize', [y, f32([0, 0, 0.2, -0.1, 1, 1, 1.1, 0.7]), null, i64([1, 2, 4, 4])], crop, { consts: [1, 3], opset: 13 }), [1]));
    await check(`${mode} computed roi and scales`, computed(opCase('Resize', [y, f32([0, 0, 0.2, -0.1, 1, 1, 1.1, 0.7]), f32([1, 1, 0.8, 1.5])], crop, { consts: [1, 2], opset: 13 }), [1, 2]));
  }
  expectUnsupported(opCase('Resize', [x, null, null, i64([5, 5])], { axes: [2, 3], keep_aspect_ratio_policy: 'fit' }, { consts: [3], opset: 18 }), /keep_aspect_ratio_policy/);
});

test('GridSample: modes, padding modes, align_corners, 1-D to 3-D', async () => {
  // Grid points inside and outside [-1, 1], and the exact corners.
  const grid = (shape: number[]) => {
    const g = r.f32(shape, -1.4, 1.4);
    const d = g.data as Float32Array;
    d.set([-1, 1, 1, -1, 0, 0], 0);
    return g;
  };
  const cases: [string, Tensor, Tensor, number][] = [
    ['2-D', r.f32([2, 3, 5, 6]), grid([2, 4, 7, 2]), 16],
    ['1-D', r.f32([2, 2, 7]), grid([2, 9, 1]), 20],
    ['3-D', r.f32([1, 2, 3, 4, 5]), grid([1, 2, 3, 4, 3]), 20],
  ];
  for (const [what, x, g, opset] of cases) {
    for (const mode of opset < 20 ? ['bilinear', 'nearest', 'bicubic'] : ['linear', 'nearest', 'cubic']) {
      for (const padding_mode of ['zeros', 'border', 'reflection']) {
        for (const align_corners of [0, 1]) {
          await check(`GridSample ${what} ${mode} ${padding_mode} ${align_corners}`, opCase('GridSample', [x, g], { mode, padding_mode, align_corners }, { opset }));
        }
      }
    }
  }
  await check('GridSample default attributes', opCase('GridSample', [r.f32([1, 1, 4, 4]), grid([1, 3, 3, 2])], {}, { opset: 16 }));
});

test('RoiAlign: avg and max, half_pixel and output_half_pixel, sampling ratios', async () => {
  const x = r.f32([2, 3, 8, 9]);
  // ROIs inside, partly outside, degenerate and inverted.
  const rois = makeTensor('f32', [5, 4], Float32Array.from([0, 0, 8, 7, 1.5, 2.2, 6.3, 5.1, -2, -1, 3, 4, 6, 6, 6, 6, 7, 5, 2, 1]));
  const bidx = i64([0, 1, 1, 0, 1]);
  for (const mode of ['avg', 'max']) {
    for (const sampling_ratio of [0, 2]) {
      for (const spatial_scale of [1, 0.5]) {
        const attrs = { mode, sampling_ratio, spatial_scale, output_height: 3, output_width: 4 };
        for (const coord of ['half_pixel', 'output_half_pixel']) {
          await check(`RoiAlign ${mode} ${sampling_ratio} ${spatial_scale} ${coord}`, opCase('RoiAlign', [x, rois, bidx], { ...attrs, coordinate_transformation_mode: coord }, { opset: 16 }));
        }
        await check(`RoiAlign-10 ${mode} ${sampling_ratio} ${spatial_scale}`, opCase('RoiAlign', [x, rois, bidx], attrs, { opset: 10 }));
      }
    }
  }
  await check('RoiAlign constant rois', opCase('RoiAlign', [x, rois, bidx], { output_height: 2, output_width: 2 }, { consts: [1, 2], opset: 16 }));
});

// Conformance: every case of these ops passes on the WGSL backend (scales, sizes, roi and rois
// are graph inputs there, read by the kernels).
test('conformance cases on the WGSL backend', async () => {
  await checkConformanceCases(['test_resize_', 'test_upsample_', 'test_gridsample', 'test_roialign_'], 34);
});

test.run();
