// The SVDQuant ops (docs/svdquant.md) on CUDA: lathe.Quantize4, lathe.Linear4, lathe.LowRank.
// The interpreter (ir/interp/ops/svdquant.ts, ir/quant4.ts) is the oracle; every step below is the
// same single f32 operation it does, written with the _rn intrinsics so that nvcc can neither
// contract a multiply and an add into an FMA nor use an approximate division, whatever the flags.
//
// Quantize4: a group of G elements (G/2 packed bytes) is taken by L = min(32, 2^⌈log2 G/2⌉)
// consecutive lanes of a warp, each lane two elements (one output byte) at a time, 32/L groups a
// warp, 256 threads a block. Pass 1 forms x̂ = x·inv_smooth and its absolute maximum; the max is
// combined over the L lanes with __shfl_xor_sync (offsets < L stay inside the lane segment; max is
// exact, so the order does not matter); pass 2 recomputes x̂ (the same f32 multiply, so the same
// value: nothing is kept in a local array, nothing can spill) and writes the codes. Scales and
// codes are the interpreter's bit for bit: f32 divide by 7/15/6, rintf (half to even), clamp;
// NVFP4 rounds a/6 to E4M3 (subnormals of 2⁻⁹, saturating at 448) and codes by the E2M1 thresholds.
//
// Linear4: the W4A4 GEMM on __dp4a (4 × i8 products summed into an i32; sm_61 and newer, so it
// runs on sm_80 and sm_90, and the CPU harness emulates it exactly). The integer tensor-core path
// (mma.sync with .s4/.u4 operands, sm_80) is left for later: Hopper's wgmma has no 4-bit integer
// type, and no mma runs on the CPU harness; dp4a is the path right for both targets and checkable
// here. A block of 256 threads computes a 16·TM × 16·TN tile of Y (rows × output channels), each
// thread TM×TN outputs, rows ty + 16·i and channels tx + 16·j (tx, ty in 0..15) as the CUDA-core
// GEMM tile (gemm-tile.ts) lays them out: TM = TN = 4 (64×64), or TM = 8 (128×64) from 512 rows on.
// K is walked in stages of up to 16 packed words (128 codes) a row: whole groups when a group has
// ≤ 16 words (the most groups dividing the group count that fit), else a part of one group (its
// integer sums carry over to the next stage). Staging reads 32-bit words of 8 codes (coalesced
// along K) and unpacks each once into two words of four i8 (INT4 sign-extended, unsigned INT4 as
// is, E2M1 doubled to the exact integers ±{0,1,2,3,4,6,8,12} by two __byte_perm table lookups),
// stored k-major (As[kw][m], Bs[kw][n], a uint2 each, rows padded by one against bank conflicts),
// with the group scales (activations' f32; weights' f16 value, or decoded E4M3 × weight_scale).
// Per group a thread sums its TM·TN integer dot products with dp4a (exact), then folds them in
// group order: acc = acc + (d·sx)·sw (d·0.25 for NVFP4's doubled codes), each operation rounded,
// so the result equals the interpreter's bit for bit. Then + bias.
//
// LowRank: two launches. T = (X ⊙ inv_smooth)·L1 into a scratch [rows, r] f32 buffer, by a skinny
// tile holding all r columns (skinnyDown, r ≤ 64; the square GEMM tile beyond), then Y = T·L2 by
// the CUDA-core GEMM tile (gemm-tile.ts). The f16 factors are read as f32 and products summed in
// f32 with FMAs (the interpreter sums in f64: compared within f32 rounding).
import { LATHE_DOMAIN } from '../../../ir/graph.ts';
import type { CudaBinding, CudaElem, CudaKernel } from '../kernel.ts';
import { cudaKernel } from '../kernel.ts';
import type { CudaContext, StaticTensor } from '../lowering.ts';
import { defineCuda } from '../lowering.ts';
import { quant4Attrs } from '../../../ir/ops/svdquant.ts';
import { gemmTileBody, gemmTileGrid, lit, MAX_GRID_YZ, numElements, UNROLL_HELPER } from './gemm-tile.ts';

const THREADS = 256;

const read = (t: StaticTensor, param: string, elem: CudaElem): CudaBinding => ({ value: t.name, access: 'read', elem, param });
const write = (t: StaticTensor, param: string, elem: CudaElem): CudaBinding => ({ value: t.name, access: 'read_write', elem, param });

function attrs(ctx: CudaContext) {
  return quant4Attrs({
    string: (n, d) => ctx.string(n, d),
    int: (n, d) => ctx.int(n, d),
    fail: (m) => ctx.unsupported(m),
  });
}

function expectDtype(ctx: CudaContext, t: StaticTensor | undefined, dtype: string, what: string): StaticTensor {
  if (!t) return ctx.unsupported(`${what} is missing`);
  if (t.dtype !== dtype) return ctx.unsupported(`${what} is ${t.dtype}, expected ${dtype}`);
  return t;
}

// ---- device helpers (exact, as ir/quant4.ts) ----

/** E4M3 (fn) code of the value nearest to v ≥ 0, ties to even, saturating at 448 (code 126). */
const E4M3_CODE = `__device__ __forceinline__ unsigned lathe_e4m3_code(float v) {
  if (!(v >= 0.015625f)) {
    // Below 2^-6: subnormals m·2^-9, m = rint(v·2^9) in 0…8 (exact scaling; 8 is 2^-6, code 8).
    return (unsigned)rintf(__fmul_rn(v, 512.0f));
  }
  const int e = (int)((__float_as_uint(v) >> 23) & 255u) - 127;
  if (e > 8) return 126u;
  // v·2^(3-e) in [8, 16): the mantissa with its hidden bit, rounded half to even; 16 carries into
  // the exponent through the addition below.
  const float mm = rintf(__fmul_rn(v, __uint_as_float((unsigned)(130 - e) << 23)));
  const unsigned c = ((unsigned)(e + 7) << 3) + (unsigned)mm - 8u;
  return c > 126u ? 126u : c;
}`;

/** The value of an E4M3 (fn) code (sign ignored; 127 never occurs). */
const E4M3_VALUE = `__device__ __forceinline__ float lathe_e4m3_value(unsigned c) {
  const unsigned e = (c >> 3) & 15u, m = c & 7u;
  return e == 0u ? __fmul_rn((float)m, 0.001953125f) : __uint_as_float(((e + 120u) << 23) | (m << 20));
}`;

/** E2M1 code of v (docs/svdquant.md's thresholds; zero is +0). */
const E2M1_CODE = `__device__ __forceinline__ unsigned lathe_e2m1_code(float v) {
  const float a = fabsf(v);
  const unsigned m = a <= 0.25f ? 0u : a < 0.75f ? 1u : a <= 1.25f ? 2u : a < 1.75f ? 3u : a <= 2.5f ? 4u : a < 3.5f ? 5u : a <= 5.0f ? 6u : 7u;
  return v < 0.0f && m != 0u ? (8u | m) : m;
}`;

/** INT4 code of v at scale s (s = 0: 0), rounded half to even and clamped to [lo, hi]. */
const INT4_CODE = `__device__ __forceinline__ unsigned lathe_int4_code(float v, float s, float lo, float hi) {
  if (s == 0.0f) return 0u;
  const float q = rintf(__fdiv_rn(v, s));
  if (q != q) return 0u;
  return (unsigned)(int)fminf(fmaxf(q, lo), hi) & 15u;
}`;

// Unpacking a word of 8 packed codes into two words of four i8 (codes 0,2,4,6 and 1,3,5,7: the same
// order for activations and weights, so the dot product is unchanged).
const UNPACK_S4 = `__device__ __forceinline__ uint2 lathe_unpack_s4(unsigned p) {
  const unsigned lo = p & 0x0F0F0F0Fu, hi = (p >> 4) & 0x0F0F0F0Fu;
  // A nibble n ≥ 8 is n − 16, i.e. the byte n | 0xF0 (no carry between bytes: 0x08·0x1E = 0xF0).
  return make_uint2(lo | ((lo & 0x08080808u) * 0x1Eu), hi | ((hi & 0x08080808u) * 0x1Eu));
}`;
const UNPACK_U4 = `__device__ __forceinline__ uint2 lathe_unpack_u4(unsigned p) {
  return make_uint2(p & 0x0F0F0F0Fu, (p >> 4) & 0x0F0F0F0Fu);
}`;
const UNPACK_E2M1 = `__device__ __forceinline__ unsigned lathe_e2m1x4(unsigned n) {
  // n: four E2M1 codes, one a byte. Magnitude m → 2·value by table: __byte_perm picks byte m of
  // {0,1,2,3,4,6,8,12} (or of their negations) for each of the four selector nibbles.
  const unsigned mag = n & 0x07070707u;
  const unsigned t = mag | (mag >> 4);
  const unsigned sel = (t & 0xFFu) | ((t >> 8) & 0xFF00u);
  const unsigned pos = __byte_perm(0x03020100u, 0x0C080604u, sel);
  const unsigned neg = __byte_perm(0xFDFEFF00u, 0xF4F8FAFCu, sel);
  const unsigned mask = ((n >> 3) & 0x01010101u) * 0xFFu;
  return (pos & ~mask) | (neg & mask);
}
__device__ __forceinline__ uint2 lathe_unpack_e2m1(unsigned p) {
  return make_uint2(lathe_e2m1x4(p & 0x0F0F0F0Fu), lathe_e2m1x4((p >> 4) & 0x0F0F0F0Fu));
}`;

/** The smallest power of two ≥ n (n ≥ 1). */
const ceilPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

// ---- Quantize4 ----

export interface Quantize4Problem {
  readonly name: string;
  readonly node: string;
  readonly x: StaticTensor;
  readonly inv?: StaticTensor;
  readonly qx: StaticTensor;
  readonly sx: StaticTensor;
  readonly format: 'int4' | 'nvfp4';
  readonly group: number;
  readonly signed: boolean;
}

export function quantize4Kernel(p: Quantize4Problem): CudaKernel {
  const K = p.x.shape[p.x.shape.length - 1]!;
  const rows = numElements(p.x.shape.slice(0, -1));
  const G = p.group;
  // K pads to whole groups (docs/svdquant.md): the last group reads 0 past K, element by element.
  const padded = K % G !== 0;
  const groups = Math.ceil(K / G);
  const total = rows * groups;
  const P = G / 2;
  const L = Math.min(32, ceilPow2(P));
  const perBlock = (THREADS / L);
  const invAt = (k: string) => (padded ? `inv[min(${k}, ${K - 1}u)]` : `inv[${k}]`);
  const xhat = (k: string) => (p.inv ? `__fmul_rn(v.${k}, ${invAt(`kb + 2u * q${k === 'x' ? '' : ' + 1u'}`)})` : `v.${k}`);
  const load = padded
    ? `make_float2(kb + 2u * q < ${K}u ? x[base + 2u * q] : 0.0f, kb + 2u * q + 1u < ${K}u ? x[base + 2u * q + 1u] : 0.0f)`
    : 'xv[q]';
  const scale = p.format === 'int4' ? `__fdiv_rn(a, ${p.signed ? '7.0f' : '15.0f'})` : 'lathe_e4m3_value(lathe_e4m3_code(__fdiv_rn(a, 6.0f)))';
  const code = (v: string) => (p.format === 'int4' ? `lathe_int4_code(${v}, s, ${p.signed ? '-8.0f, 7.0f' : '0.0f, 15.0f'})` : `(s == 0.0f ? 0u : lathe_e2m1_code(__fdiv_rn(${v}, s)))`);
  const shuffles: string[] = [];
  for (let off = L / 2; off >= 1; off /= 2) shuffles.push(`  a = fmaxf(a, __shfl_xor_sync(0xffffffffu, a, ${off}));`);
  const body = `  const unsigned tid = threadIdx.x;
  const unsigned sub = tid % ${L}u;
  const unsigned gi = blockIdx.x * ${perBlock}u + tid / ${L}u;   // (row, group), flat
  const bool live = gi < ${total}u;
  const unsigned kb = (gi % ${groups}u) * ${G}u;                 // the group's first channel
  const unsigned base = (gi / ${groups}u) * ${K}u + kb;          // = row·K + group·G
  (void)kb;
${padded ? '' : '  const float2* xv = reinterpret_cast<const float2*>(x + base);\n'}  float a = 0.0f;
  if (live) {
    for (unsigned q = sub; q < ${P}u; q += ${L}u) {
      const float2 v = ${load};
      a = fmaxf(a, fabsf(${xhat('x')}));
      a = fmaxf(a, fabsf(${xhat('y')}));
    }
  }
${shuffles.join('\n')}
  if (!live) return;
  const float s = ${scale};
  if (sub == 0u) sx[gi] = s;
  for (unsigned q = sub; q < ${P}u; q += ${L}u) {
    const float2 v = ${load};
    const unsigned c0 = ${code(xhat('x'))};
    const unsigned c1 = ${code(xhat('y'))};
    qx[gi * ${P}u + q] = (uint8_t)(c0 | (c1 << 4));
  }`;
  const helpers = p.format === 'int4' ? [INT4_CODE] : [E4M3_CODE, E4M3_VALUE, E2M1_CODE];
  return cudaKernel({
    name: p.name, node: p.node, op: 'Quantize4',
    bindings: [read(p.x, 'x', 'f32'), ...(p.inv ? [read(p.inv, 'inv', 'f32')] : []), write(p.qx, 'qx', 'u8'), write(p.sx, 'sx', 'f32')],
    helpers, body, grid: Math.max(1, Math.ceil(total / perBlock)), block: THREADS,
  });
}

defineCuda(LATHE_DOMAIN, 'Quantize4', (ctx) => {
  const a = attrs(ctx);
  const x = expectDtype(ctx, ctx.input(0), 'f32', 'X');
  const inv = ctx.input(1);
  if (inv) expectDtype(ctx, inv, 'f32', 'inv_smooth');
  const qx = ctx.output(0) ?? ctx.unsupported('Quantize4 needs both results (QX and SX)');
  const sx = ctx.output(1) ?? ctx.unsupported('Quantize4 needs both results (QX and SX)');
  const K = x.shape[x.shape.length - 1]!;
  if (numElements(x.shape) === 0 || K === 0) return [];
  return [quantize4Kernel({ name: ctx.kernelName('quantize4'), node: ctx.node.name, x, inv, qx, sx, ...a })];
});

// ---- Linear4 ----

export interface Linear4Problem {
  readonly name: string;
  readonly node: string;
  readonly qx: StaticTensor;
  readonly sx: StaticTensor;
  readonly qw: StaticTensor;
  readonly sw: StaticTensor;
  readonly bias?: StaticTensor;
  readonly y: StaticTensor;
  readonly format: 'int4' | 'nvfp4';
  readonly group: number;
  readonly signed: boolean;
  readonly weightScale: number;
  /** The register block (default linear4Reg). */
  readonly reg?: { TM: 4 | 8; TN: 4 | 8 };
}

/**
 * The register block a thread computes: TM rows × TN channels (the block's tile is 16·TM × 16·TN).
 * 8×4 where there are rows enough, 4×4 otherwise (8×8 needs ~230 registers: one block an SM).
 */
export function linear4Reg(M: number): { TM: 4 | 8; TN: 4 } {
  return { TM: M >= 512 ? 8 : 4, TN: 4 };
}
/** Packed words (8 codes each) of a row staged at a time. */
const STAGE_WORDS = 16;

/** Largest divisor of n that is ≤ cap (≥ 1). */
function divisorAtMost(n: number, cap: number): number {
  for (let d = Math.min(n, cap); d > 1; d--) if (n % d === 0) return d;
  return 1;
}

export function linear4Kernel(p: Linear4Problem): CudaKernel {
  const K = p.qx.shape[p.qx.shape.length - 1]! * 2;
  const M = numElements(p.qx.shape.slice(0, -1));
  const N = p.qw.shape[0]!;
  const G = p.group;
  const groups = K / G;
  const GW = G / 8;      // packed words a group
  const KW = K / 8;      // packed words a row
  const { TM, TN } = p.reg ?? linear4Reg(M);
  const BM = 16 * TM, BN = 16 * TN;
  // A stage: GPS whole groups (SPG = 1), or 1/SPG of one group.
  const GPS = GW <= STAGE_WORDS ? divisorAtMost(groups, Math.floor(STAGE_WORDS / GW)) : 1;
  const CW = GW <= STAGE_WORDS ? GPS * GW : divisorAtMost(GW, STAGE_WORDS);
  const SPG = GW <= STAGE_WORDS ? 1 : GW / CW;
  const WPS = CW / GPS;  // words of one group within a stage
  const stages = KW / CW;
  const unpackX = p.format === 'nvfp4' ? 'lathe_unpack_e2m1' : p.signed ? 'lathe_unpack_s4' : 'lathe_unpack_u4';
  const unpackW = p.format === 'nvfp4' ? 'lathe_unpack_e2m1' : 'lathe_unpack_s4';
  const swValue = (i: string) => (p.format === 'int4' ? `__half2float(sw[${i}])` : `__fmul_rn(lathe_e4m3_value(sw[${i}]), ${lit('float', p.weightScale)})`);
  const dot = (d: string) => (p.format === 'nvfp4' ? `__fmul_rn((float)${d}, 0.25f)` : `(float)${d}`);
  const fold = `LATHE_LINALG_UNROLL
      for (int i = 0; i < ${TM}; i++) {
        const float sa = Sa[gg][ty + 16u * i];
        LATHE_LINALG_UNROLL
        for (int j = 0; j < ${TN}; j++) {
          acc[i][j] = __fadd_rn(acc[i][j], __fmul_rn(__fmul_rn(${dot('d[i][j]')}, sa), Sb[gg][tx + 16u * j]));
          d[i][j] = 0;
        }
      }`;
  const body = `  __shared__ uint2 As[${CW}][${BM + 1}];
  __shared__ uint2 Bs[${CW}][${BN + 1}];
  __shared__ float Sa[${GPS}][${BM}];
  __shared__ float Sb[${GPS}][${BN}];
  const unsigned tid = threadIdx.x;
  const unsigned tx = tid % 16u, ty = tid / 16u;
  const unsigned m0 = blockIdx.y * ${BM}u, n0 = blockIdx.x * ${BN}u;
  const unsigned* xw = reinterpret_cast<const unsigned*>(qx);
  const unsigned* ww = reinterpret_cast<const unsigned*>(qw);
  float acc[${TM}][${TN}];
  int d[${TM}][${TN}];
  LATHE_LINALG_UNROLL
  for (int i = 0; i < ${TM}; i++) {
    LATHE_LINALG_UNROLL
    for (int j = 0; j < ${TN}; j++) { acc[i][j] = 0.0f; d[i][j] = 0; }
  }
  for (unsigned st = 0; st < ${stages}u; st++) {
    const unsigned w0 = st * ${CW}u, g0 = (st / ${SPG}u) * ${GPS}u;
    for (unsigned e = tid; e < ${BM * CW}u; e += ${THREADS}u) {
      const unsigned mm = e / ${CW}u, kw = e % ${CW}u, m = m0 + mm;
      As[kw][mm] = ${unpackX}(m < ${M}u ? xw[m * ${KW}u + w0 + kw] : 0u);
    }
    for (unsigned e = tid; e < ${BN * CW}u; e += ${THREADS}u) {
      const unsigned nn = e / ${CW}u, kw = e % ${CW}u, n = n0 + nn;
      Bs[kw][nn] = ${unpackW}(n < ${N}u ? ww[n * ${KW}u + w0 + kw] : 0u);
    }
    for (unsigned e = tid; e < ${BM * GPS}u; e += ${THREADS}u) {
      const unsigned mm = e / ${GPS}u, gg = e % ${GPS}u, m = m0 + mm;
      Sa[gg][mm] = m < ${M}u ? sx[m * ${groups}u + g0 + gg] : 0.0f;
    }
    for (unsigned e = tid; e < ${BN * GPS}u; e += ${THREADS}u) {
      const unsigned nn = e / ${GPS}u, gg = e % ${GPS}u, n = n0 + nn;
      Sb[gg][nn] = n < ${N}u ? ${swValue(`n * ${groups}u + g0 + gg`)} : 0.0f;
    }
    __syncthreads();
    for (unsigned gg = 0; gg < ${GPS}u; gg++) {
      LATHE_LINALG_UNROLL
      for (unsigned kw = 0; kw < ${WPS}u; kw++) {
        uint2 a[${TM}], b[${TN}];
        LATHE_LINALG_UNROLL
        for (int i = 0; i < ${TM}; i++) a[i] = As[gg * ${WPS}u + kw][ty + 16u * i];
        LATHE_LINALG_UNROLL
        for (int j = 0; j < ${TN}; j++) b[j] = Bs[gg * ${WPS}u + kw][tx + 16u * j];
        LATHE_LINALG_UNROLL
        for (int i = 0; i < ${TM}; i++) {
          LATHE_LINALG_UNROLL
          for (int j = 0; j < ${TN}; j++) d[i][j] = __dp4a((int)a[i].y, (int)b[j].y, __dp4a((int)a[i].x, (int)b[j].x, d[i][j]));
        }
      }
      ${SPG === 1 ? `{
      ${fold}
      }` : `if (st % ${SPG}u == ${SPG - 1}u) {
      ${fold}
      }`}
    }
    __syncthreads();
  }
  LATHE_LINALG_UNROLL
  for (int i = 0; i < ${TM}; i++) {
    const unsigned m = m0 + ty + 16u * i;
    if (m >= ${M}u) continue;
    LATHE_LINALG_UNROLL
    for (int j = 0; j < ${TN}; j++) {
      const unsigned n = n0 + tx + 16u * j;
      if (n >= ${N}u) continue;
      y[m * ${N}u + n] = ${p.bias ? '__fadd_rn(acc[i][j], bias[n])' : 'acc[i][j]'};
    }
  }`;
  const helpers = [UNROLL_HELPER, ...(p.format === 'nvfp4' ? [E4M3_VALUE, UNPACK_E2M1] : [UNPACK_S4, ...(p.signed ? [] : [UNPACK_U4])])];
  return cudaKernel({
    name: p.name, node: p.node, op: 'Linear4',
    bindings: [
      read(p.qx, 'qx', 'u8'), read(p.sx, 'sx', 'f32'), read(p.qw, 'qw', 'u8'), read(p.sw, 'sw', p.format === 'int4' ? 'f16' : 'u8'),
      ...(p.bias ? [read(p.bias, 'bias', 'f32')] : []), write(p.y, 'y', 'f32'),
    ],
    helpers, body, grid: [Math.ceil(N / BN), Math.ceil(M / BM), 1], block: THREADS,
    // Two blocks an SM at most 128 registers a thread; without it ptxas picked 64 registers and
    // spilled for the NVFP4 8×4 tile.
    minBlocks: 2,
  });
}

defineCuda(LATHE_DOMAIN, 'Linear4', (ctx) => {
  const a = attrs(ctx);
  const qx = expectDtype(ctx, ctx.input(0), 'u8', 'QX');
  const sx = expectDtype(ctx, ctx.input(1), 'f32', 'SX');
  const qw = expectDtype(ctx, ctx.input(2), 'u8', 'QW');
  const sw = expectDtype(ctx, ctx.input(3), a.format === 'int4' ? 'f16' : 'u8', 'SW');
  const bias = ctx.input(4);
  if (bias) expectDtype(ctx, bias, 'f32', 'bias');
  const y = ctx.output(0)!;
  const M = numElements(qx.shape.slice(0, -1));
  const N = qw.shape[0]!;
  const K = qx.shape[qx.shape.length - 1]! * 2;
  if (M * N === 0) return [];
  if (K === 0) ctx.unsupported('Linear4 with K = 0');
  if (Math.ceil(M / (16 * linear4Reg(M).TM)) > MAX_GRID_YZ) ctx.unsupported(`${M} rows exceed the grid's y limit`);
  const weightScale = ctx.float('weight_scale', 1);
  return [linear4Kernel({ name: ctx.kernelName('linear4'), node: ctx.node.name, qx, sx, qw, sw, bias, y, weightScale, ...a })];
});

// ---- LowRank ----

/** Ranks up to this take the skinny down-projection tile; larger ones the square GEMM tile. */
const SKINNY_MAX_R = 64;

/**
 * The down-projection [M, K]·[K, R] for a small rank R: the square 64×64 GEMM tile would leave
 * most of its columns empty (R = 16: three quarters of the work on padding), so the block's tile
 * is all R columns (padded to 4·CX, CX = 2^⌈log2 R/4⌉ column threads) by BM = 4·256/CX rows; a
 * thread computes 4 rows (ry + RY·i) × 4 columns (cx + CX·j). K is walked in steps of 16: X's
 * slice (times inv_smooth) k-major in shared memory (one word of padding a row, as gemm-tile's
 * transposing stores), L1's slice as f32.
 */
function skinnyDown(M: number, K: number, R: number, inv: boolean): { body: string; grid: number } {
  const CX = Math.min(16, ceilPow2(Math.ceil(R / 4)));
  const RY = THREADS / CX;
  const BM = 4 * RY, RP = 4 * CX, BK = 16;
  const body = `  __shared__ float Xs[${BK}][${BM + 1}];
  __shared__ float Ls[${BK}][${RP}];
  const unsigned tid = threadIdx.x;
  const unsigned cx = tid % ${CX}u, ry = tid / ${CX}u;
  const unsigned m0 = blockIdx.x * ${BM}u;
  float acc[4][4];
  LATHE_LINALG_UNROLL
  for (int i = 0; i < 4; i++) {
    LATHE_LINALG_UNROLL
    for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;
  }
  for (unsigned k0 = 0; k0 < ${K}u; k0 += ${BK}u) {
    for (unsigned e = tid; e < ${BM * BK}u; e += ${THREADS}u) {
      const unsigned mm = e / ${BK}u, kk = e % ${BK}u, m = m0 + mm, k = k0 + kk;
      Xs[kk][mm] = m < ${M}u && k < ${K}u ? ${inv ? `__fmul_rn(x[m * ${K}u + k], inv[k])` : `x[m * ${K}u + k]`} : 0.0f;
    }
    for (unsigned e = tid; e < ${BK * RP}u; e += ${THREADS}u) {
      const unsigned kk = e / ${RP}u, n = e % ${RP}u, k = k0 + kk;
      Ls[kk][n] = n < ${R}u && k < ${K}u ? __half2float(l1[k * ${R}u + n]) : 0.0f;
    }
    __syncthreads();
    LATHE_LINALG_UNROLL
    for (int kk = 0; kk < ${BK}; kk++) {
      float a[4], b[4];
      LATHE_LINALG_UNROLL
      for (int i = 0; i < 4; i++) a[i] = Xs[kk][ry + ${RY}u * i];
      LATHE_LINALG_UNROLL
      for (int j = 0; j < 4; j++) b[j] = Ls[kk][cx + ${CX}u * j];
      LATHE_LINALG_UNROLL
      for (int i = 0; i < 4; i++) {
        LATHE_LINALG_UNROLL
        for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
      }
    }
    __syncthreads();
  }
  LATHE_LINALG_UNROLL
  for (int i = 0; i < 4; i++) {
    const unsigned m = m0 + ry + ${RY}u * i;
    if (m >= ${M}u) continue;
    LATHE_LINALG_UNROLL
    for (int j = 0; j < 4; j++) {
      const unsigned n = cx + ${CX}u * j;
      if (n < ${R}u) t[m * ${R}u + n] = acc[i][j];
    }
  }`;
  return { body, grid: Math.ceil(M / BM) };
}

defineCuda(LATHE_DOMAIN, 'LowRank', (ctx) => {
  const x = expectDtype(ctx, ctx.input(0), 'f32', 'X');
  const l1 = expectDtype(ctx, ctx.input(1), 'f16', 'L1');
  const l2 = expectDtype(ctx, ctx.input(2), 'f16', 'L2');
  const inv = ctx.input(3);
  if (inv) expectDtype(ctx, inv, 'f32', 'inv_smooth');
  const y = ctx.output(0)!;
  const M = numElements(x.shape.slice(0, -1));
  const K = x.shape[x.shape.length - 1]!;
  const R = l1.shape[1]!;
  const N = l2.shape[1]!;
  if (M * N === 0) return [];
  if (R === 0) ctx.unsupported('LowRank of rank 0');
  const reg = 4;
  if (Math.ceil(M / (16 * reg)) > MAX_GRID_YZ) ctx.unsupported(`${M} rows exceed the grid's y limit`);
  const scratch = `${ctx.node.name}::lowrank_down`;
  const tBytes = Math.max(4, M * R * 4);
  // Down-projection T = (X ⊙ inv_smooth)·L1, [M, R].
  const down = cudaKernel({
    name: ctx.kernelName('lowrank_down'), node: ctx.node.name, op: 'LowRank',
    bindings: [read(x, 'x', 'f32'), read(l1, 'l1', 'f16'), ...(inv ? [read(inv, 'inv', 'f32')] : []),
      { value: scratch, access: 'read_write', elem: 'f32', param: 't', scratchBytes: tBytes }],
    helpers: [UNROLL_HELPER],
    ...(R <= SKINNY_MAX_R ? skinnyDown(M, K, R, !!inv) : {
      body: gemmTileBody({
        M, N: R, K, batches: 1, acc: 'float', reg, aAlong: 'k', bAlong: 'n',
        loadA: (dst, m, k) => `${dst} = ${inv ? `__fmul_rn(x[${m} * ${K}u + ${k}], inv[${k}])` : `x[${m} * ${K}u + ${k}]`};`,
        loadB: (dst, k, n) => `${dst} = __half2float(l1[${k} * ${R}u + ${n}]);`,
        store: (m, n, v) => `t[${m} * ${R}u + ${n}] = ${v};`,
      }),
      grid: gemmTileGrid({ M, N: R, batches: 1, reg }),
    }),
    block: THREADS,
  });
  // Up-projection Y = T·L2, [M, N].
  const up = cudaKernel({
    name: ctx.kernelName('lowrank_up'), node: ctx.node.name, op: 'LowRank',
    bindings: [{ value: scratch, access: 'read', elem: 'f32', param: 't' }, read(l2, 'l2', 'f16'), write(y, 'y', 'f32')],
    helpers: [UNROLL_HELPER],
    body: gemmTileBody({
      M, N, K: R, batches: 1, acc: 'float', reg, aAlong: 'k', bAlong: 'n',
      loadA: (dst, m, k) => `${dst} = t[${m} * ${R}u + ${k}];`,
      loadB: (dst, k, n) => `${dst} = __half2float(l2[${k} * ${N}u + ${n}]);`,
      store: (m, n, v) => `y[${m} * ${N}u + ${n}] = ${v};`,
    }),
    grid: gemmTileGrid({ M, N, batches: 1, reg }), block: THREADS,
  });
  return [down, up];
});
