// The SVDQuant ops (docs/svdquant.md) on the CUDA CPU harness, forward and reverse thread order,
// against the interpreter (ir/quant4.ts): Quantize4's codes and scales bit for bit (INT4 signed and
// unsigned, NVFP4; with and without inv_smooth; zero rows, all-equal groups, rounding ties, tiny
// values down to E4M3 subnormal scales and zero, saturation at 448; group sizes 16…256), Linear4
// bit for bit too (groups are folded in order, so it is exact here: INT4 signed / unsigned
// activations, NVFP4 with a weight scale, bias or not, odd rows, N off the 64-wide tile, a leading
// rank-3 [B, S, K], groups split over staging steps), LowRank (rank 16 and 32, inv_smooth or not)
// and the layer end to end: Quantize4 → Linear4 + LowRank → Add.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { makeTensor, roundTo, toConst } from '../../ir/interp/tensor.ts';
import { quantizeActivations, quantizeWeight } from '../../ir/quant4.ts';
import type { Quant4Format } from '../../ir/quant4.ts';
import { linear4Kernel } from '../../backends/cuda/ops/svdquant.ts';
import type { OpCase } from './helpers.ts';
import { checkCuda, opCase, rng } from './helpers.ts';

const r = rng(11);
const EXACT = { rtol: 0, atol: 0 };

/** Rows of K values: the special rows first (for the given format), then random ones. */
function activations(rows: number, K: number, format: Quant4Format, signed: boolean, lo = -3, hi = 3): Tensor {
  const x = r.f32([rows, K], signed ? lo : 0, hi);
  const d = x.data as Float32Array;
  const row = (i: number) => d.subarray(i * K, (i + 1) * K);
  row(0).fill(0); // zero row: scale 0, codes 0
  row(1).fill(0.3); // all-equal groups
  if (signed) row(1).subarray(0, K / 2).fill(-1.7);
  // Ties: absmax 7 (signed), 15 (unsigned) or 6 (nvfp4) makes the scale exactly 1, so x/s = x.
  const ties = format === 'nvfp4'
    ? [6, 0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5, -0.25, -0.75, -1.25, -1.75, -2.5, -3.5, -5, 0]
    : signed ? [7, 0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, -3.5, 4.5, -4.5, 5.5, -5.5, 6.5, -6.5, -7] : [15, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5, 12.5, 13.5, 14.5];
  for (let k = 0; k < K; k++) row(2)[k] = ties[k % 16]!;
  // Tiny values: scales in E4M3's subnormal range (a/6 < 2^-6: 2^-9·{1, 2 (a tie of 1.5), 4}),
  // a/6 at half the smallest subnormal (a tie, rounds to a zero scale) and below, a/6 just under
  // 2^-6 (rounds up to the smallest normal); int4 scales go subnormal in f32.
  const tiny = [6 * 0.0155, 6 * 2 ** -10, 6 * 3 * 2 ** -10, 6 * 2 ** -11, 0.05, 1e-38, 3e-41, 6 * 2 ** -9];
  for (let k = 0; k < K; k++) row(3)[k] = (k % 16 === 0 ? tiny[(k / 16) % tiny.length]! : tiny[(k / 16) % tiny.length]! * ((k % 7) - 3) / 3) * (signed ? 1 : 0) + (signed ? 0 : Math.abs(tiny[(k / 16) % tiny.length]! * (k % 5) / 4));
  // Saturation: a/6 beyond 448 (nvfp4 scale 448, codes ±6), and large values for int4; the first
  // group's a/6 = 470 rounds to 480 (past E4M3's largest finite value) before it saturates.
  for (let k = 0; k < K; k++) row(4)[k] = (signed ? ((k % 3) - 1) : 1) * (k % 16 === 0 ? 1e5 : 3000 + 17 * k);
  for (let k = 0; k < 16; k++) row(4)[k] = k === 0 ? 2820 : (signed ? ((k % 3) - 1) : 1) * 150 * k;
  return x;
}

const positive = (n: number) => r.f32([n], 0.25, 2);

function quantizeCase(x: Tensor, format: Quant4Format, group: number, signed: boolean, inv?: Tensor): OpCase {
  return opCase('Quantize4', inv ? [x, inv] : [x], { format, group, signed: signed ? 1 : 0 }, { domain: 'lathe', outputs: 2 });
}

test('Quantize4: INT4 signed / unsigned, NVFP4; inv_smooth; zeros, ties, tiny, saturation — bit for bit', () => {
  const x1 = activations(9, 128, 'int4', true);
  const x2 = activations(7, 96, 'int4', false);
  const x3 = activations(11, 64, 'nvfp4', true);
  const x4 = activations(6, 72, 'int4', true);
  const x5 = activations(5, 512, 'int4', true);
  const x6 = makeTensor('f32', [2, 3, 64], (activations(6, 64, 'nvfp4', true).data as Float32Array).slice());
  checkCuda('quantize4', [
    quantizeCase(x1, 'int4', 64, true),
    quantizeCase(x1, 'int4', 64, true, positive(128)),
    quantizeCase(x2, 'int4', 32, false),
    quantizeCase(x2, 'int4', 32, false, positive(96)),
    quantizeCase(x3, 'nvfp4', 16, true),
    quantizeCase(x3, 'nvfp4', 16, true, positive(64)),
    quantizeCase(x4, 'int4', 24, true, positive(72)), // 12 bytes a group: 16 lanes, 4 idle
    quantizeCase(x5, 'int4', 256, true), // 128 bytes a group: 4 per lane
    quantizeCase(x6, 'nvfp4', 16, true), // leading rank 3
    quantizeCase(makeTensor('f32', [64], (x3.data as Float32Array).slice(128, 192)), 'nvfp4', 16, true), // one row, rank 1
    quantizeCase(activations(5, 120, 'int4', true), 'int4', 64, true, positive(120)), // K pads to 128
    quantizeCase(activations(5, 41, 'nvfp4', true), 'nvfp4', 16, true, positive(41)), // odd K pads to 48
  ], EXACT);
});

/** A Linear4 case from real quantized operands (activations by the interpreter's Quantize4). */
function linear4Case(lead: number[], K: number, N: number, format: Quant4Format, group: number, signed: boolean, withBias: boolean, weightsConst: boolean): OpCase {
  const M = lead.reduce((a, b) => a * b, 1);
  const x = activations(M, K, format, signed);
  const { q, s } = quantizeActivations(x.data as Float32Array, M, K, { format, group, signed });
  const w = r.f32([K, N], -1, 1).data as Float32Array;
  for (let k = 0; k < K; k += 13) w[k * N + (k % N)] = 9; // outliers
  const qw = quantizeWeight(w, K, N, format, group);
  const inputs: Tensor[] = [
    makeTensor('u8', [...lead, K / 2], q),
    makeTensor('f32', [...lead, K / group], s),
    makeTensor('u8', [N, K / 2], qw.q),
    format === 'int4' ? roundTo(makeTensor('f16', [N, K / group], Float32Array.from(qw.s))) : makeTensor('u8', [N, K / group], Uint8Array.from(qw.s)),
    ...(withBias ? [r.f32([N], -1, 1)] : []),
  ];
  const attrs = { format, group, signed: signed ? 1 : 0, ...(format === 'nvfp4' ? { weight_scale: qw.weightScale } : {}) };
  return opCase('Linear4', inputs, attrs, { domain: 'lathe', consts: weightsConst ? [2, 3, 4] : [] });
}

test('Linear4: INT4 / unsigned / NVFP4, bias, odd M, ragged N, rank 3, split groups — bit for bit', () => {
  checkCuda('linear4', [
    linear4Case([197], 128, 100, 'int4', 64, true, true, true),
    linear4Case([2, 5], 512, 70, 'int4', 64, false, false, false), // 4 staging steps of 2 groups
    linear4Case([37], 256, 64, 'nvfp4', 16, true, true, false),
    linear4Case([3, 11, 2], 64, 33, 'nvfp4', 16, true, false, true),
    linear4Case([65], 512, 20, 'int4', 256, true, true, false), // a group over 2 staging steps
    linear4Case([9], 72, 130, 'int4', 24, true, false, false), // 3 groups of 3 words in one step
    linear4Case([2, 300], 128, 72, 'int4', 64, true, true, true), // ≥ 512 rows: the 128×64 tile
    linear4Case([521], 64, 40, 'nvfp4', 16, true, false, false),
  ], EXACT);
});

test('Linear4 kernel: 64×64 or 128×64 tiles, dp4a', () => {
  const t = (name: string, dtype: 'u8' | 'f32' | 'f16', shape: number[]) => ({ name, dtype, shape });
  const k = linear4Kernel({
    name: 'l4', node: 'n', qx: t('qx', 'u8', [197, 64]), sx: t('sx', 'f32', [197, 2]), qw: t('qw', 'u8', [100, 64]), sw: t('sw', 'f16', [100, 2]),
    y: t('y', 'f32', [197, 100]), format: 'int4', group: 64, signed: true, weightScale: 1,
  });
  assert.equal(k.grid, [2, 4, 1]); // 64×64 tiles
  assert.equal(k.block, [256, 1, 1]);
  assert.match(k.code, /__dp4a\(/);
  const big = linear4Kernel({
    name: 'l4', node: 'n', qx: t('qx', 'u8', [600, 64]), sx: t('sx', 'f32', [600, 8]), qw: t('qw', 'u8', [100, 64]), sw: t('sw', 'u8', [100, 8]),
    y: t('y', 'f32', [600, 100]), format: 'nvfp4', group: 16, signed: true, weightScale: 0.5,
  });
  assert.equal(big.grid, [2, 5, 1]); // 128 rows × 64 channels
  assert.match(big.code, /lathe_unpack_e2m1\(/);
});

const f16 = (shape: number[], lo: number, hi: number) => roundTo(makeTensor('f16', shape, r.f32(shape, lo, hi).data as Float32Array));

test('LowRank: rank 32, 16, 5 and 80, with and without inv_smooth', () => {
  const lowRank = (lead: number[], K: number, R: number, N: number, inv: boolean) =>
    opCase('LowRank', [r.f32([...lead, K], -2, 2), f16([K, R], -0.3, 0.3), f16([R, N], -0.3, 0.3), ...(inv ? [positive(K)] : [])], {}, { domain: 'lathe', consts: [1, 2] });
  checkCuda('lowrank', [
    lowRank([197], 128, 32, 100, true),
    lowRank([2, 5], 96, 16, 70, false),
    lowRank([33], 64, 16, 65, true),
    lowRank([300], 40, 5, 30, true), // rank 5: columns padded to 8; K not a multiple of 16
    lowRank([70], 64, 80, 50, false), // rank over 64: the square GEMM tile
  ], { rtol: 1e-5, atol: 1e-5 });
});

test('the layer: Quantize4 → Linear4 + LowRank → Add, against the interpreter', () => {
  const cases = (['int4', 'nvfp4'] as const).map((format): OpCase => {
    const M = 45, K = 128, N = 72, R = 16;
    const group = format === 'int4' ? 64 : 16;
    const x = r.f32([M, K], -3, 3);
    const w = r.f32([K, N], -1, 1).data as Float32Array;
    const qw = quantizeWeight(w, K, N, format, group);
    const b = new GraphBuilder('layer', { '': 21, lathe: 1 });
    const xi = b.input('x', { kind: 'tensor', dtype: 'f32', shape: [M, K] });
    const c = (name: string, t: Tensor) => b.constant(name, toConst(t));
    const inv = c('inv', positive(K));
    const attrs = { format, group, signed: 1 };
    const [qx, sx] = b.opN('Quantize4', [xi, inv], attrs, { domain: 'lathe', results: 2 });
    const sw = format === 'int4' ? roundTo(makeTensor('f16', [N, K / group], Float32Array.from(qw.s))) : makeTensor('u8', [N, K / group], Uint8Array.from(qw.s));
    const y4 = b.op('Linear4', [qx!, sx!, c('qw', makeTensor('u8', [N, K / 2], qw.q)), c('sw', sw), c('bias', r.f32([N], -1, 1))],
      { ...attrs, ...(format === 'nvfp4' ? { weight_scale: qw.weightScale } : {}) }, { domain: 'lathe' });
    const lr = b.op('LowRank', [xi, c('l1', f16([K, R], -0.3, 0.3)), c('l2', f16([R, N], -0.3, 0.3)), inv], {}, { domain: 'lathe' });
    const y = b.op('Add', [y4, lr]);
    return { model: b.returns(y).model(), inputs: [x] };
  });
  checkCuda('svdquant layer', cases, { rtol: 1e-5, atol: 1e-5 });
});

test.run();
