// MaxPool (with Indices), AveragePool (count_include_pad, ceil_mode) and the global pools.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomTensor } from './kernel-harness.ts';
import { kernelsOf, mismatch, opCase, reference, runOp, validate } from './ops-harness.ts';
import { check, node, validateCase } from './linalg-check.ts';

const t = (shape: number[], seed: number) => randomTensor(shape, seed);

test('pools run', async () => {
  await check('MaxPool 3×3 s2 pads', node('MaxPool', [t([2, 3, 9, 11], 1)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] }));
  await check('AveragePool count_include_pad', node('AveragePool', [t([2, 3, 9, 11], 1)], { kernel_shape: [3, 2], pads: [1, 0, 1, 1], count_include_pad: 1 }));
  await check('AveragePool ceil_mode', node('AveragePool', [t([1, 2, 7, 7], 1)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2], ceil_mode: 1 }));
  await check('GlobalAveragePool', node('GlobalAveragePool', [t([2, 5, 13, 11], 1)]));
  await check('GlobalMaxPool', node('GlobalMaxPool', [t([2, 5, 13, 11], 1)]));
});

test('pool variants validate', async () => {
  await validateCase(node('MaxPool', [t([1, 2, 9], 1)], { kernel_shape: [3], dilations: [2], auto_pad: 'SAME_UPPER' }));
  await validateCase(node('MaxPool', [t([1, 2, 5, 6, 7], 1)], { kernel_shape: [2, 2, 2], strides: [2, 2, 2], ceil_mode: 1 }));
  await validateCase(node('AveragePool', [t([1, 2, 9, 9], 1)], { kernel_shape: [3, 3], auto_pad: 'SAME_LOWER' }));
  await validateCase(node('GlobalAveragePool', [t([1, 3, 4, 5, 6], 1)]));
});

test('MaxPool with Indices (storage_order 0 and 1) agrees with the interpreter', async () => {
  for (const storage_order of [0, 1]) {
    const c = opCase('MaxPool', [t([2, 2, 6, 7], 1)], { kernel_shape: [3, 2], strides: [2, 2], pads: [1, 0, 1, 1], storage_order }, { outputs: 2 });
    await validate(kernelsOf(c));
    const got = await runOp(c);
    if (!got) continue;
    reference(c).forEach((want, i) => assert.not.ok(mismatch(got[i]!, want, 0, 0), `output ${i}, storage_order ${storage_order}`));
  }
});

test.run();
