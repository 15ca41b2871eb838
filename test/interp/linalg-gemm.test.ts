// The float GEMM kernel under MatMul/Gemm/Conv/ConvTranspose (ir/interp/kernels/gemm.ts): the
// WebAssembly SIMD path and the scalar JS path must both give, bit for bit, the f64 sum of exact
// products over k in order — the plain triple loop — for every shape, stride and offset.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { FloatArray, Mat } from '../../ir/interp/kernels/gemm.ts';
import { gemm, gemmScalar, wasmGemmAvailable } from '../../ir/interp/kernels/gemm.ts';
import { gemmModuleBytes } from '../../ir/interp/kernels/gemm-wasm.ts';
import { sleb, uleb } from '../../ir/interp/kernels/wasm-encode.ts';
import { f32, run1 } from './helpers.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Deterministic values in [-1, 1) with a spread of exponents, so roundings differ between orders. */
function data(n: number, seed: number, f64: boolean): FloatArray {
  const out = f64 ? new Float64Array(n) : new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * 2 ** ((s & 7) - 3);
  }
  return out;
}

function naive(M: number, N: number, K: number, A: Mat, B: Mat): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += A.data[A.off + i * A.rs + k * A.cs]! * B.data[B.off + k * B.rs + j * B.cs]!;
    out[i * N + j] = s;
  }
  return out;
}

/** Every layout of A and B (row- or column-major, with an offset), C with an offset and a wider row. */
function check(M: number, N: number, K: number, f64: boolean, seed: number): void {
  const aOff = 3, bOff = 5;
  const a = data(aOff + M * K, seed, f64);
  const b = data(bOff + K * N, seed + 1, f64);
  const As: Mat[] = [{ data: a, off: aOff, rs: K, cs: 1 }, { data: a, off: aOff, rs: 1, cs: M }];
  const Bs: Mat[] = [{ data: b, off: bOff, rs: N, cs: 1 }, { data: b, off: bOff, rs: 1, cs: K }];
  for (const A of As) for (const B of Bs) {
    const want = naive(M, N, K, A, B);
    const ldc = N + 2, cOff = 1;
    for (const [name, fn] of [['gemm', gemm], ['gemmScalar', gemmScalar]] as const) {
      const C = new Float64Array(cOff + M * ldc).fill(NaN);
      fn(M, N, K, A, B, C, cOff, ldc);
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
        const got = C[cOff + i * ldc + j]!;
        if (!Object.is(got, want[i * N + j]!)) {
          assert.unreachable(`${name} ${M}×${N}×${K} ${f64 ? 'f64' : 'f32'} A(rs ${A.rs}, cs ${A.cs}) B(rs ${B.rs}, cs ${B.cs}): C[${i}, ${j}] = ${got}, want ${want[i * N + j]}`);
        }
      }
      // The padding between rows of C is left alone.
      for (let i = 0; i < M; i++) for (let j = N; j < ldc && cOff + i * ldc + j < C.length; j++) assert.ok(Number.isNaN(C[cOff + i * ldc + j]!), `${name} wrote outside C`);
    }
  }
}

test('WebAssembly SIMD is available (Node ≥ 20), so GEMMs run in the wasm kernel', () => {
  assert.ok(WebAssembly.validate(gemmModuleBytes(4, 4)));
  assert.ok(WebAssembly.validate(gemmModuleBytes(4, 4, 1024)));
  // (LATHE_INTERP_NO_WASM turns the wasm kernel off, to test the JS one.)
  assert.is(wasmGemmAvailable(), !process.env.LATHE_INTERP_NO_WASM);
});

test('LEB128 encodings', () => {
  assert.equal(uleb(0), [0]);
  assert.equal(uleb(127), [127]);
  assert.equal(uleb(128), [0x80, 1]);
  assert.equal(uleb(624485), [0xe5, 0x8e, 0x26]);
  assert.equal(sleb(-1), [0x7f]);
  assert.equal(sleb(63), [63]);
  assert.equal(sleb(64), [0xc0, 0]);
  assert.equal(sleb(-123456), [0xc0, 0xbb, 0x78]);
});

test('gemm is bit-for-bit the in-order f64 sum: edge shapes, all layouts, f32 and f64', () => {
  let seed = 1;
  for (const [M, N, K] of [[1, 1, 1], [1, 7, 3], [5, 1, 9], [4, 4, 4], [3, 5, 2], [17, 13, 31], [9, 33, 1], [64, 20, 20]]) {
    for (const f64 of [false, true]) check(M, N, K, f64, seed++);
  }
});

test('gemm splits K into cache blocks without changing a bit (K past the block size)', () => {
  check(6, 10, 257, false, 7);
  check(9, 5, 700, true, 8);
  check(13, 14, 513, false, 9);
});

test('gemm with K = 0 writes zeros; M or N = 0 writes nothing', () => {
  const C = new Float64Array(6).fill(7);
  const e = new Float32Array(0);
  gemm(2, 3, 0, { data: e, off: 0, rs: 0, cs: 1 }, { data: e, off: 0, rs: 3, cs: 1 }, C);
  assert.equal([...C], [0, 0, 0, 0, 0, 0]);
  C.fill(7);
  gemm(0, 3, 4, { data: e, off: 0, rs: 4, cs: 1 }, { data: new Float32Array(12), off: 0, rs: 3, cs: 1 }, C);
  assert.equal([...C], [7, 7, 7, 7, 7, 7]);
});

test('gemm keeps non-finite values: inf, -inf and NaN propagate as in the scalar loop', () => {
  const [M, N, K] = [8, 8, 40];
  const a = data(M * K, 3, false);
  const b = data(K * N, 4, false);
  a[5] = Infinity; a[K + 2] = -Infinity; b[3 * N + 1] = NaN; a[2 * K + 7] = 0; b[7 * N] = Infinity;
  const A: Mat = { data: a, off: 0, rs: K, cs: 1 };
  const B: Mat = { data: b, off: 0, rs: N, cs: 1 };
  const want = naive(M, N, K, A, B);
  const C = new Float64Array(M * N);
  gemm(M, N, K, A, B, C);
  for (let i = 0; i < M * N; i++) assert.ok(Object.is(C[i], want[i]), `C[${i}] = ${C[i]}, want ${want[i]}`);
});

test('a 1×1 stride-1 Conv (read in place, no im2col) equals the same Conv through im2col', () => {
  const x = data(2 * 6 * 5 * 7, 11, false);
  const w = data(8 * 3 * 1 * 1, 12, false);
  const X = f32([2, 6, 5, 7], x);
  const W = f32([8, 3, 1, 1], w);
  const direct = run1('Conv', [X, W], { group: 2 });
  // The same products with a border of padding, which takes the im2col path: its interior must match.
  const padded = run1('Conv', [X, W], { group: 2, pads: [1, 1, 1, 1] });
  const interior: number[] = [];
  for (let nm = 0; nm < 2 * 8; nm++) for (let h = 1; h <= 5; h++) for (let w2 = 1; w2 <= 7; w2++) interior.push(padded.data[(nm * 7 + h) * 9 + w2] as number);
  assert.equal([...direct.data], interior);
  assert.equal(direct.shape, [2, 8, 5, 7]);
});

test('products large enough for the worker threads give the same bits (split over column panels)', () => {
  // ≥ 2^21 multiply-adds: split across the main thread and the workers where there are cores.
  check(37, 150, 400, false, 21);
  check(64, 66, 520, true, 22);
});

test('the worker threads never keep a process alive', () => {
  const src = [
    "import { gemm, gemmWorkers, rowMajor } from './ir/interp/kernels/gemm.ts';",
    'const n = 200; const a = new Float32Array(n * n).fill(1); const c = new Float64Array(n * n);',
    'gemm(n, n, n, rowMajor(a, 0, n), rowMajor(a, 0, n), c);',
    'if (c[0] !== n) throw new Error(String(c[0]));',
    'console.log(`workers ${gemmWorkers()}`);',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', src], { cwd: root, timeout: 60_000, env: { ...process.env, LATHE_INTERP_THREADS: '2', LATHE_INTERP_NO_WASM: '' } });
  assert.is(r.error, undefined, String(r.error));
  assert.is(r.status, 0, r.stderr?.toString());
  assert.match(r.stdout.toString(), /workers 1/);
});
