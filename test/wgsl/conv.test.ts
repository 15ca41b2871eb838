// Conv as an implicit GEMM: pads, strides, dilations, groups (depthwise too), auto_pad, 1-D and
// 3-D, bias or none, and the direct 1×1 path that reads X as the GEMM's B.
import { test } from 'uvu';
import { randomTensor } from './kernel-harness.ts';
import { check, node, validateCase } from './linalg-check.ts';

const t = (shape: number[], seed: number) => randomTensor(shape, seed);

test('Conv runs: padded 3×3 with bias, grouped strided dilated, 1×1 direct, depthwise 1-D SAME', async () => {
  await check('3×3 pads bias', node('Conv', [t([2, 3, 9, 11], 1), t([5, 3, 3, 3], 2), t([5], 3)], { pads: [1, 1, 1, 1] }));
  await check('group 2, strides, dilations, asymmetric pads', node('Conv', [t([1, 8, 10, 10], 1), t([6, 4, 3, 2], 2)], { group: 2, strides: [2, 1], dilations: [1, 2], pads: [0, 1, 2, 1] }));
  await check('1×1 direct (vec4)', node('Conv', [t([1, 16, 8, 8], 1), t([32, 16, 1, 1], 2), t([32], 3)]));
  await check('depthwise 1-D SAME_UPPER', node('Conv', [t([1, 6, 13], 1), t([6, 1, 5], 2)], { group: 6, auto_pad: 'SAME_UPPER' }));
});

test('Conv variants validate', async () => {
  await validateCase(node('Conv', [t([1, 3, 32, 32], 1), t([16, 3, 7, 7], 2)], { strides: [2, 2], pads: [3, 3, 3, 3] }));
  await validateCase(node('Conv', [t([1, 4, 5, 6, 7], 1), t([2, 4, 3, 3, 3], 2), t([2], 3)], { pads: [1, 1, 1, 1, 1, 1] }));
  await validateCase(node('Conv', [t([1, 8, 9, 9], 1), t([8, 8, 1, 1], 2)], { strides: [2, 2] }));
  await validateCase(node('Conv', [t([2, 4, 7, 7], 1), t([4, 4, 3, 3], 2)], { auto_pad: 'SAME_LOWER' }));
  await validateCase(node('Conv', [t([1, 4, 7, 7], 1), t([4, 4, 3, 3], 2)], { auto_pad: 'VALID', kernel_shape: [3, 3] }));
});

test('ConvTranspose runs and validates', async () => {
  await check('strided, padded, output_padding, bias', node('ConvTranspose', [t([1, 4, 5, 6], 1), t([4, 3, 3, 3], 2), t([3], 3)], { strides: [2, 2], pads: [1, 0, 1, 1], output_padding: [1, 0] }));
  await check('grouped, dilated 1-D', node('ConvTranspose', [t([2, 4, 7], 1), t([4, 2, 3], 2)], { group: 2, dilations: [2] }));
  await check('SAME_UPPER', node('ConvTranspose', [t([1, 2, 4, 4], 1), t([2, 2, 3, 3], 2)], { strides: [2, 2], auto_pad: 'SAME_UPPER' }));
  await check('output_shape', node('ConvTranspose', [t([1, 2, 4, 4], 1), t([2, 2, 3, 3], 2)], { strides: [2, 2], output_shape: [9, 9] }));
});

test.run();
