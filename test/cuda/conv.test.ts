// Conv (implicit GEMM) and ConvTranspose (gather) on the CPU harness in forward and reverse thread
// order: 1-D/2-D/3-D, groups and depthwise, dilations, strides, explicit and auto pads, bias, the
// direct 1×1 path, a conv large enough for the 128×128 tile, f64 and f16; then the pools.
import { test } from 'uvu';
import { makeTensor, roundTo } from '../../ir/interp/tensor.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { checkCuda, opCase, rng } from './helpers.ts';

const r = rng(11);
const f32 = (shape: number[]) => r.f32(shape, -1, 1);
const as = (dtype: 'f64' | 'f16', t: Tensor): Tensor =>
  roundTo(makeTensor(dtype, t.shape, dtype === 'f64' ? Float64Array.from(t.data as Float32Array) : Float32Array.from(t.data as Float32Array)));
const conv = (x: Tensor, w: Tensor, b: Tensor | null, attrs: Record<string, unknown> = {}) => opCase('Conv', b ? [x, w, b] : [x, w], attrs as never);
const convT = (x: Tensor, w: Tensor, b: Tensor | null, attrs: Record<string, unknown> = {}) => opCase('ConvTranspose', b ? [x, w, b] : [x, w], attrs as never);

test('Conv: 1-D/2-D/3-D, groups, depthwise, dilations, strides, pads, auto_pad, bias, 1×1', () => {
  checkCuda('conv', [
    conv(f32([2, 3, 11, 13]), f32([5, 3, 3, 3]), f32([5]), { pads: [1, 1, 1, 1] }),
    conv(f32([1, 4, 17]), f32([6, 2, 3]), f32([6]), { group: 2, strides: [2], dilations: [2], pads: [2, 1] }),
    conv(f32([1, 6, 9, 10]), f32([6, 1, 3, 3]), null, { group: 6, auto_pad: 'SAME_UPPER', strides: [2, 2] }), // depthwise
    conv(f32([1, 4, 7, 8]), f32([4, 4, 2, 3]), null, { auto_pad: 'SAME_LOWER', dilations: [2, 1] }),
    conv(f32([1, 2, 5, 6, 7]), f32([3, 2, 2, 3, 2]), f32([3]), { pads: [1, 0, 1, 0, 1, 1], strides: [1, 2, 2] }),
    conv(f32([2, 8, 6, 6]), f32([5, 8, 1, 1]), f32([5]), {}), // direct 1×1
    conv(f32([1, 3, 8, 8]), f32([4, 3, 3, 3]), null, { auto_pad: 'VALID', strides: [3, 2] }),
    conv(f32([1, 16, 24, 24]), f32([130, 16, 3, 3]), f32([130]), { pads: [1, 1, 1, 1] }), // 128×128 tile
  ], { rtol: 1e-4, atol: 1e-4 });
});

test('Conv f64 / f16 and ConvTranspose', () => {
  checkCuda('conv dtypes + transpose', [
    conv(as('f64', f32([1, 3, 7, 9])), as('f64', f32([4, 3, 3, 2])), as('f64', f32([4])), { pads: [1, 0, 1, 1] }),
    conv(as('f16', f32([1, 4, 9, 9])), as('f16', f32([6, 2, 3, 3])), as('f16', f32([6])), { group: 2, pads: [1, 1, 1, 1] }),
    convT(f32([1, 3, 5, 4]), f32([3, 2, 3, 3]), f32([2]), { strides: [2, 2], pads: [1, 0, 1, 1] }),
    convT(f32([2, 4, 6]), f32([4, 3, 3]), null, { group: 2, strides: [3], dilations: [2], output_padding: [1] }),
    convT(f32([1, 2, 3, 3]), f32([2, 2, 3, 3]), null, { strides: [2, 2], output_shape: [6, 6] }),
    convT(f32([1, 2, 3, 3]), f32([2, 2, 3, 3]), null, { strides: [2, 2], auto_pad: 'SAME_UPPER' }),
    convT(f32([1, 1, 2, 3, 3]), f32([1, 2, 2, 2, 2]), f32([2]), { strides: [1, 2, 1] }),
  ], { rtol: 2e-3, atol: 2e-3 });
});

test('pools: MaxPool (+Indices, storage_order, u8), AveragePool, LpPool, global pools', () => {
  const x = f32([2, 3, 9, 11]);
  const pool = (op: string, t: Tensor, attrs: Record<string, unknown>, outputs = 1) => opCase(op, [t], attrs as never, { outputs });
  checkCuda('pools', [
    pool('MaxPool', x, { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, 2),
    pool('MaxPool', x, { kernel_shape: [2, 3], dilations: [2, 1], storage_order: 1, ceil_mode: 1, strides: [2, 2] }, 2),
    pool('MaxPool', f32([1, 2, 7]), { kernel_shape: [3], auto_pad: 'SAME_LOWER' }),
    pool('MaxPool', r.int('u8', [1, 2, 5, 5], 0, 255), { kernel_shape: [2, 2] }),
    pool('AveragePool', x, { kernel_shape: [3, 3], pads: [1, 1, 1, 1], count_include_pad: 1 }),
    pool('AveragePool', x, { kernel_shape: [3, 2], pads: [1, 0, 1, 1], strides: [2, 1] }),
    pool('AveragePool', f32([1, 2, 4, 5, 6]), { kernel_shape: [2, 2, 3], auto_pad: 'SAME_UPPER', strides: [1, 2, 2] }),
    pool('LpPool', x, { kernel_shape: [2, 2], p: 3, strides: [2, 2] }),
    pool('LpPool', x, { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
    pool('GlobalAveragePool', f32([2, 5, 33, 31]), {}),
    pool('GlobalMaxPool', f32([2, 5, 7, 9]), {}),
    pool('GlobalLpPool', f32([2, 3, 9, 11]), { p: 2 }),
    pool('GlobalAveragePool', as('f16', f32([1, 4, 20, 20])), {}),
  ], { rtol: 2e-3, atol: 1e-4 });
});

test.run();
