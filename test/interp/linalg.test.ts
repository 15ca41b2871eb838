// MatMul, Gemm, Conv, ConvTranspose and the pools, each against an obviously-correct naive loop.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, f32, float, i64, rand, run, run1, t, values } from './helpers.ts';

/** Naive batched matmul over explicit per-batch offsets. */
function naiveMatmul(a: number[], b: number[], M: number, K: number, N: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += a[i * K + k]! * b[k * N + j]!;
    out.push(s);
  }
  return out;
}

test('MatMul broadcasts batch dims', () => {
  const [M, K, N] = [3, 5, 4];
  const a = rand(2 * M * K, 3);
  const b = rand(K * N, 4);
  const y = run1('MatMul', [f32([2, 1, M, K], a), f32([K, N], b)]);
  const expected = [...naiveMatmul(a.slice(0, M * K), b, M, K, N), ...naiveMatmul(a.slice(M * K), b, M, K, N)];
  assertClose(y, [2, 1, M, N], expected, 1e-6, 1e-6);
});

test('MatMul with a batched B broadcasts A over the batches of B', () => {
  const [M, K, N] = [5, 3, 6];
  const a = rand(M * K, 11);
  const b = rand(2 * K * N, 12);
  const y = run1('MatMul', [f32([M, K], a), f32([2, 1, K, N], b)]);
  const expected = [...naiveMatmul(a, b.slice(0, K * N), M, K, N), ...naiveMatmul(a, b.slice(K * N), M, K, N)];
  assertClose(y, [2, 1, M, N], expected, 1e-6, 1e-6);
});

test('MatMul promotes 1-D operands and drops the added dim', () => {
  assertClose(run1('MatMul', [f32([3], [1, 2, 3]), f32([3, 2], [1, 0, 0, 1, 1, 1])]), [2], [4, 5]);
  assertClose(run1('MatMul', [f32([2, 3], [1, 2, 3, 4, 5, 6]), f32([3], [1, 1, 1])]), [2], [6, 15]);
  assertClose(run1('MatMul', [f32([3], [1, 2, 3]), f32([3], [1, 1, 1])]), [], [6]);
});

test('MatMul on a large odd-sized problem matches the naive loop (blocking edges)', () => {
  const [M, K, N] = [37, 300, 530];
  const a = rand(M * K, 5);
  const b = rand(K * N, 6);
  assertClose(run1('MatMul', [f32([M, K], a), f32([K, N], b)]), [M, N], naiveMatmul(a, b, M, K, N), 1e-5, 1e-5);
});

test('integer MatMul is exact (i64 beyond 2^53)', () => {
  const y = run1('MatMul', [i64([1, 2], [2n ** 40n, 3n]), i64([2, 1], [2n ** 20n, 5n])]);
  assert.equal(values(y), [2n ** 60n + 15n]);
  assert.equal(values(run1('MatMul', [t('i32', [1, 2], [2, 3]), t('i32', [2, 1], [4, 5])])), [23]);
});

test('Gemm with transposes, alpha, beta and a broadcast C', () => {
  const a = [1, 2, 3, 4, 5, 6]; // A^T stored as [3, 2]
  const b = [1, 0, 2, 1, 0, 1]; // B^T stored as [2, 3]
  const y = run1('Gemm', [f32([3, 2], a), f32([2, 3], b), f32([2], [10, 20])], { transA: 1, transB: 1, alpha: float(2), beta: float(0.5) });
  // A = [[1,3,5],[2,4,6]], B = [[1,1],[0,0],[2,1]] → AB = [[11,6],[14,8]]
  assertClose(y, [2, 2], [2 * 11 + 5, 2 * 6 + 10, 2 * 14 + 5, 2 * 8 + 10]);
});

interface ConvCase { N: number; C: number; H: number; W: number; M: number; kh: number; kw: number; group: number; stride: number[]; dil: number[]; pads: number[] }

function naiveConv(x: number[], w: number[], b: number[], p: ConvCase): { y: number[]; oh: number; ow: number } {
  const { N, C, H, W, M, kh, kw, group, stride, dil, pads } = p;
  const oh = Math.floor((H + pads[0]! + pads[2]! - ((kh - 1) * dil[0]! + 1)) / stride[0]!) + 1;
  const ow = Math.floor((W + pads[1]! + pads[3]! - ((kw - 1) * dil[1]! + 1)) / stride[1]!) + 1;
  const Cg = C / group;
  const Mg = M / group;
  const y: number[] = [];
  for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    const g = Math.floor(m / Mg);
    let s = b[m] ?? 0;
    for (let c = 0; c < Cg; c++) for (let u = 0; u < kh; u++) for (let v = 0; v < kw; v++) {
      const hi = i * stride[0]! - pads[0]! + u * dil[0]!;
      const wi = j * stride[1]! - pads[1]! + v * dil[1]!;
      if (hi < 0 || hi >= H || wi < 0 || wi >= W) continue;
      s += x[((n * C + g * Cg + c) * H + hi) * W + wi]! * w[((m * Cg + c) * kh + u) * kw + v]!;
    }
    y.push(s);
  }
  return { y, oh, ow };
}

const convCases: ConvCase[] = [
  { N: 2, C: 3, H: 7, W: 6, M: 4, kh: 3, kw: 3, group: 1, stride: [1, 1], dil: [1, 1], pads: [1, 1, 1, 1] },
  { N: 1, C: 4, H: 9, W: 8, M: 6, kh: 3, kw: 2, group: 2, stride: [2, 1], dil: [2, 1], pads: [1, 0, 2, 1] },
  { N: 1, C: 6, H: 5, W: 5, M: 6, kh: 3, kw: 3, group: 6, stride: [1, 2], dil: [1, 1], pads: [0, 1, 0, 1] }, // depthwise
  { N: 2, C: 5, H: 4, W: 3, M: 3, kh: 1, kw: 1, group: 1, stride: [1, 1], dil: [1, 1], pads: [0, 0, 0, 0] }, // 1×1 fast path
];

test('Conv matches a naive loop (groups, depthwise, dilation, strides, asymmetric pads, 1×1)', () => {
  convCases.forEach((p, k) => {
    const x = rand(p.N * p.C * p.H * p.W, 10 + k);
    const w = rand(p.M * (p.C / p.group) * p.kh * p.kw, 20 + k);
    const b = rand(p.M, 30 + k);
    const { y, oh, ow } = naiveConv(x, w, b, p);
    const out = run1('Conv', [f32([p.N, p.C, p.H, p.W], x), f32([p.M, p.C / p.group, p.kh, p.kw], w), f32([p.M], b)], {
      group: p.group, strides: p.stride, dilations: p.dil, pads: p.pads,
    });
    assertClose(out, [p.N, p.M, oh, ow], y, 1e-5, 1e-6);
  });
});

test('Conv auto_pad SAME_UPPER keeps ceil(in/stride) and pads the end more', () => {
  const x = rand(1 * 1 * 5 * 5, 7);
  const w = rand(9, 8);
  const out = run1('Conv', [f32([1, 1, 5, 5], x), f32([1, 1, 3, 3], w)], { auto_pad: 'SAME_UPPER', strides: [2, 2] });
  // out 3×3; total pad = (3-1)*2+3-5 = 2 → 1 before, 1 after.
  const { y } = naiveConv(x, w, [], { N: 1, C: 1, H: 5, W: 5, M: 1, kh: 3, kw: 3, group: 1, stride: [2, 2], dil: [1, 1], pads: [1, 1, 1, 1] });
  assertClose(out, [1, 1, 3, 3], y, 1e-5, 1e-6);
});

test('1-D and 3-D Conv', () => {
  const x = rand(2 * 6, 1);
  const w = rand(3 * 2 * 3, 2);
  const y1 = run1('Conv', [f32([1, 2, 6], x), f32([3, 2, 3], w)], { pads: [1, 1] });
  // the same as a 2-D conv with H = 1
  const { y } = naiveConv(x, w, [], { N: 1, C: 2, H: 1, W: 6, M: 3, kh: 1, kw: 3, group: 1, stride: [1, 1], dil: [1, 1], pads: [0, 1, 0, 1] });
  assertClose(y1, [1, 3, 6], y, 1e-5, 1e-6);
  const y3 = run1('Conv', [f32([1, 1, 3, 3, 3], new Array(27).fill(1)), f32([1, 1, 2, 2, 2], new Array(8).fill(1))]);
  assertClose(y3, [1, 1, 2, 2, 2], new Array(8).fill(8));
});

test('ConvTranspose matches a naive scatter (stride, pads, output_padding, groups)', () => {
  const [N, C, H, W, Mg, kh, kw, group] = [1, 4, 3, 2, 3, 3, 2, 2];
  const [sh, sw, ph, pw, oph] = [2, 1, 1, 0, 1];
  const x = rand(N * C * H * W, 40);
  const w = rand(C * Mg * kh * kw, 41);
  const M = Mg * group;
  const OH = sh * (H - 1) + oph + kh - 2 * ph;
  const OW = sw * (W - 1) + kw - 2 * pw;
  const y = new Array(N * M * OH * OW).fill(0);
  const Cg = C / group;
  for (let c = 0; c < C; c++) for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) for (let m = 0; m < Mg; m++) for (let u = 0; u < kh; u++) for (let v = 0; v < kw; v++) {
    const g = Math.floor(c / Cg);
    const oi = i * sh - ph + u;
    const oj = j * sw - pw + v;
    if (oi < 0 || oi >= OH || oj < 0 || oj >= OW) continue;
    y[((g * Mg + m) * OH + oi) * OW + oj] += x[(c * H + i) * W + j]! * w[((c * Mg + m) * kh + u) * kw + v]!;
  }
  const out = run1('ConvTranspose', [f32([N, C, H, W], x), f32([C, Mg, kh, kw], w)], {
    strides: [sh, sw], pads: [ph, pw, ph, pw], output_padding: [oph, 0], group,
  });
  assertClose(out, [N, M, OH, OW], y, 1e-5, 1e-6);
});

test('MaxPool with padding, strides, ceil_mode and Indices', () => {
  const x = f32([1, 1, 4, 4], [1, 2, 3, 4, 5, 16, 7, 8, 9, 10, 11, 12, 13, 14, 15, 6]);
  const [y, idx] = run('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] }, 2);
  assertClose(y!, [1, 1, 2, 2], [16, 8, 14, 15]);
  assert.equal(values(idx!), [5n, 7n, 13n, 14n]);
  const [, idxCol] = run('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2], storage_order: 1 }, 2);
  assert.equal(values(idxCol!), [5n, 13n, 7n, 11n]);
  // 4 wide, kernel 3, stride 2, ceil_mode: windows at 0 and 2 (the second runs off the end).
  const c = run1('MaxPool', [f32([1, 1, 1, 4], [1, 5, 2, 3])], { kernel_shape: [1, 3], strides: [1, 2], ceil_mode: 1 });
  assertClose(c, [1, 1, 1, 2], [5, 3]);
  const p = run1('MaxPool', [f32([1, 1, 1, 3], [-1, -2, -3])], { kernel_shape: [1, 2], pads: [0, 1, 0, 1] });
  assertClose(p, [1, 1, 1, 4], [-1, -1, -2, -3]); // padding never wins
});

test('AveragePool count_include_pad and global pools', () => {
  const x = f32([1, 1, 2, 2], [1, 2, 3, 4]);
  const ex = run1('AveragePool', [x], { kernel_shape: [2, 2], pads: [1, 1, 1, 1], strides: [2, 2] });
  assertClose(ex, [1, 1, 2, 2], [1, 2, 3, 4]);
  const inc = run1('AveragePool', [x], { kernel_shape: [2, 2], pads: [1, 1, 1, 1], strides: [2, 2], count_include_pad: 1 });
  assertClose(inc, [1, 1, 2, 2], [0.25, 0.5, 0.75, 1]);
  assertClose(run1('GlobalAveragePool', [f32([1, 2, 2, 1], [1, 2, 3, 5])]), [1, 2, 1, 1], [1.5, 4]);
  assertClose(run1('GlobalMaxPool', [f32([1, 2, 2, 1], [1, 2, 3, 5])]), [1, 2, 1, 1], [2, 5]);
});

test('a ResNet-sized Conv runs in seconds, not minutes', () => {
  const x = f32([1, 64, 56, 56], rand(64 * 56 * 56, 3));
  const w = f32([64, 64, 3, 3], rand(64 * 64 * 9, 4));
  const t0 = performance.now();
  const y = run1('Conv', [x, w], { pads: [1, 1, 1, 1] });
  const ms = performance.now() - t0;
  assert.equal([...y.shape], [1, 64, 56, 56]);
  assert.ok(ms < 10000, `took ${ms.toFixed(0)} ms`);
});

test.run();
