// MatMul and Gemm on the CUDA tiles, run on the CPU harness in forward and reverse thread order:
// ragged sizes (37×45×29) on both the 64×64 and 128×128 tiles, batched and broadcast batches,
// 1-D operands, Gemm's transposes / alpha / beta / C broadcasts, f64 and integer kernels, and
// f16/bf16 (the CUDA-core fallback of the tensor-core kernel: the CPU cannot run wmma).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTensor, roundTo } from '../../ir/interp/tensor.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { gemmKernelForBench } from '../../backends/cuda/ops/matmul.ts';
import { checkCuda, opCase, rng } from './helpers.ts';

const r = rng(7);
const f32 = (shape: number[]) => r.f32(shape, -1, 1);
// Narrow floats are rounded to their dtype first: the inputs must be values the dtype holds.
const as = (dtype: 'f64' | 'f16' | 'bf16', t: Tensor): Tensor =>
  roundTo(makeTensor(dtype, t.shape, dtype === 'f64' ? Float64Array.from(t.data as Float32Array) : Float32Array.from(t.data as Float32Array)));
const mm = (a: Tensor, b: Tensor) => opCase('MatMul', [a, b]);
const gemm = (a: Tensor, b: Tensor, c: Tensor | null, attrs: Record<string, number>) => opCase('Gemm', c ? [a, b, c] : [a, b], attrs);

test('f32 MatMul: ragged, large tile, batched, broadcast, 1-D', () => {
  checkCuda('matmul f32', [
    mm(f32([37, 45]), f32([45, 29])),
    mm(f32([1, 7]), f32([7, 1])),
    mm(f32([130, 17]), f32([17, 520])), // ragged edges of the 64×64 tile
    mm(f32([520, 33]), f32([33, 515])), // the 128×128 tile, ragged edges
    mm(f32([3, 20, 12]), f32([3, 12, 9])),
    mm(f32([2, 1, 10, 8]), f32([1, 3, 8, 6])),
    mm(f32([2, 5, 7, 12]), f32([12, 20])), // B without batch: A's batches fold into rows
    mm(f32([7, 12]), f32([3, 12, 20])),
    mm(f32([6, 12]), f32([12])),
    mm(f32([12]), f32([12, 5])),
    mm(f32([33]), f32([33])),
    mm(f32([2, 6, 12]), f32([12])),
    mm(f32([4, 0]), f32([0, 3])), // K = 0: zeros
  ]);
});

test('Gemm f32: transposes, alpha, beta, C broadcasts', () => {
  const [M, K, N] = [37, 45, 29];
  const cases = [];
  for (const [transA, transB] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
    const a = transA ? f32([K, M]) : f32([M, K]);
    const b = transB ? f32([N, K]) : f32([K, N]);
    cases.push(gemm(a, b, f32([N]), { transA: transA!, transB: transB!, alpha: 0.5, beta: 2 }));
  }
  cases.push(gemm(f32([10, 8]), f32([8, 6]), f32([10, 1]), { beta: -1 }));
  cases.push(gemm(f32([10, 8]), f32([8, 6]), f32([]), {}));
  cases.push(gemm(f32([10, 8]), f32([8, 6]), f32([10, 6]), { beta: 0 }));
  cases.push(gemm(f32([10, 8]), f32([8, 6]), null, { alpha: 3 }));
  cases.push(gemm(f32([600, 20]), f32([530, 20]), f32([530]), { transB: 1 })); // 128×128 tile, transposed B
  checkCuda('gemm f32', cases);
});

test('f64, integer MatMul/Gemm', () => {
  const i32 = (shape: number[]) => r.int('i32', shape, -50, 50);
  const i64 = (shape: number[]) => r.int('i64', shape, -1000, 1000);
  const u32 = (shape: number[]) => makeTensor('u32', shape, Uint32Array.from(r.int('i64', shape, 0, 2 ** 31).data as BigInt64Array, Number));
  checkCuda('matmul f64/int', [
    mm(as('f64', f32([37, 45])), as('f64', f32([45, 29]))),
    gemm(as('f64', f32([45, 37])), as('f64', f32([29, 45])), as('f64', f32([29])), { transA: 1, transB: 1, alpha: 0.25, beta: 3 }),
    mm(i32([2, 19, 23]), i32([23, 17])),
    mm(i64([3, 9, 11]), i64([3, 11, 5])),
    mm(u32([9, 31]), u32([31, 7])), // wraps mod 2^32
    gemm(i32([9, 8]), i32([6, 8]), i32([6]), { transB: 1, alpha: 2, beta: -1 }),
  ], { rtol: 1e-12, atol: 1e-12 });
});

test('f16 / bf16 MatMul and Gemm (CUDA-core fallback numerics)', () => {
  const cases = [];
  for (const dt of ['f16', 'bf16'] as const) {
    cases.push(mm(as(dt, f32([37, 45])), as(dt, f32([45, 29]))));
    cases.push(mm(as(dt, f32([2, 3, 40, 24])), as(dt, f32([1, 3, 24, 136]))));
    cases.push(gemm(as(dt, f32([45, 37])), as(dt, f32([29, 45])), as(dt, f32([37, 1])), { transA: 1, transB: 1, alpha: 0.5, beta: 2 }));
    cases.push(gemm(as(dt, f32([130, 64])), as(dt, f32([64, 136])), as(dt, f32([136])), {}));
  }
  checkCuda('matmul f16/bf16', cases, { rtol: 2e-2, atol: 2e-2 });
});

test('gemmKernelForBench: a tensor-core kernel for f16, CUDA-core for f32', () => {
  const k = gemmKernelForBench(4096, 4096, 4096, 'f16');
  assert.equal(k.grid, [32, 32, 1]);
  assert.equal(k.block, [256, 1, 1]);
  assert.equal(k.bindings.map((b) => b.param), ['a', 'b', 'y']);
  // mma.sync + ldmatrix, three cp.async stages (48 KiB of static shared memory), only on sm_80+.
  assert.match(k.code, /lathe_mma_f16\(/);
  assert.match(k.code, /lathe_ldsm_x4_t\(/);
  assert.match(k.code, /smem_raw\[49152\]/);
  assert.ok(k.helpers.some((h) => h.includes('mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32')));
  assert.match(k.code, /#if defined\(__CUDA_ARCH__\) && __CUDA_ARCH__ >= 800[\s\S]*#else[\s\S]*#endif/);
  const f = gemmKernelForBench(1000, 700, 300, 'f32');
  assert.equal(f.grid, [6, 8, 1]);
  assert.not.match(f.code, /lathe_mma/);
});

test.run();
