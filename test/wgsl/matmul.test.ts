// MatMul and Gemm on the tiled GEMM kernel: shapes that are and are not multiples of the tile
// (and of 4, which switches the vec4 loads and stores), batched and broadcast batches, 1-D
// operands, and Gemm's transposes, alpha, beta and C broadcasts.
import { test } from 'uvu';
import { randomTensor } from './kernel-harness.ts';
import { check, node, validateCase } from './linalg-check.ts';

const t = (shape: number[], seed: number) => randomTensor(shape, seed);

test('MatMul 2-D validates for tile multiples, ragged edges, odd sizes', async () => {
  for (const [M, K, N] of [[64, 64, 64], [128, 32, 64], [37, 21, 45], [1, 7, 1], [3, 200, 5], [16, 16, 132]]) {
    await validateCase(node('MatMul', [t([M!, K!], 1), t([K!, N!], 2)]));
  }
});

test('MatMul runs: ragged, aligned-K, broadcast batches, 1-D', async () => {
  await check('MatMul 65×67×63 (no vec4)', node('MatMul', [t([65, 67], 1), t([67, 63], 2)]));
  await check('MatMul 70×64×36 (vec4)', node('MatMul', [t([70, 64], 1), t([64, 36], 2)]));
  await check('broadcast both batches', node('MatMul', [t([2, 1, 10, 8], 1), t([1, 3, 8, 6], 2)]));
  await check('B without batch folds A', node('MatMul', [t([2, 5, 7, 12], 1), t([12, 20], 2)]));
  await check('matrix × vector', node('MatMul', [t([6, 12], 1), t([12], 2)]));
});

test('MatMul batched / 1-D variants validate', async () => {
  await validateCase(node('MatMul', [t([3, 20, 12], 1), t([3, 12, 9], 2)]));
  await validateCase(node('MatMul', [t([1, 4, 33, 16], 1), t([2, 4, 16, 24], 2)]));
  await validateCase(node('MatMul', [t([7, 12], 1), t([3, 12, 20], 2)]));
  await validateCase(node('MatMul', [t([12], 1), t([12, 5], 2)]));
  await validateCase(node('MatMul', [t([2, 6, 12], 1), t([12], 2)]));
  await validateCase(node('MatMul', [t([33], 1), t([33], 2)]));
});

test('Gemm: transposes, alpha, beta, C broadcast', async () => {
  const [M, K, N] = [37, 21, 44];
  for (const [transA, transB] of [[0, 0], [1, 0], [0, 1]]) {
    const a = transA ? t([K, M], 1) : t([M, K], 1);
    const b = transB ? t([N, K], 2) : t([K, N], 2);
    await validateCase(node('Gemm', [a, b, t([N], 3)], { transA, transB, alpha: 0.5, beta: 2 }));
  }
  await check('Gemm tA tB, alpha, beta, C [N]', node('Gemm', [t([K, M], 1), t([N, K], 2), t([N], 3)], { transA: 1, transB: 1, alpha: 0.5, beta: 2 }));
  await check('Gemm aligned, transB, C [M, N]', node('Gemm', [t([64, 32], 1), t([48, 32], 2), t([64, 48], 3)], { transB: 1 }));
  await validateCase(node('Gemm', [t([10, 8], 1), t([8, 6], 2), t([10, 1], 3)], { beta: -1 }));
  await validateCase(node('Gemm', [t([10, 8], 1), t([8, 6], 2), t([], 3)]));
  await validateCase(node('Gemm', [t([10, 8], 1), t([8, 6], 2), null], { alpha: 3 }));
});

test.run();
