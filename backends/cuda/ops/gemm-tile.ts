// The CUDA-core tiled GEMM that MatMul, Gemm and Conv (as an implicit GEMM) are built on, plus the
// small text helpers the linear-algebra family shares (storage ↔ compute conversions, literals).
//
// A block of 256 threads computes a BM×BN tile of C = A·B (BM = BN = 16·R), each thread an R×R
// register block: rows ty + 16·i and columns tx + 16·j (tx, ty in 0..15), so a warp's reads of
// B's row in shared memory are 16 consecutive words (no bank conflicts), its reads of A's column
// are two broadcast words, and the final stores are runs of 16 consecutive elements. K is walked
// in steps of BK = 16: the block stages A's BM×BK and B's BK×BN slices in shared memory, k-major
// (As[k][m], Bs[k][n], one word of padding so the transposing stores spread over the banks).
// R = 4 gives 64×64 tiles (small problems keep more blocks busy); R = 8 gives 128×128 tiles with
// 64 accumulators a thread (large problems: twice the arithmetic per shared-memory read).
//
// The caller supplies operand access as statement generators, so one loop serves plain,
// transposed and broadcast-batched matrices and the im2col gather of a convolution:
//   loadA(dst, m, k)   assign A[m, k] (compute type) to `dst`; called only for m < M, k < K
//   loadB(dst, k, n)   assign B[k, n];                          called only for k < K, n < N
//   store(m, n, v)     write C[m, n] = v;                       called only for m < M, n < N
// `z` (blockIdx.z, the batch) and whatever the prologue declares are in scope in all three.
import type { CudaElem } from '../kernel.ts';
import { C_TYPE } from '../kernel.ts';
import type { CudaContext, StaticTensor } from '../lowering.ts';
import { cudaElem } from '../kernel.ts';

/** The arithmetic type of a kernel: f32 for f32/f16/bf16 storage, f64, or wrapping unsigned ints. */
export type AccType = 'float' | 'double' | 'uint32_t' | 'uint64_t';

export interface GemmTileSpec {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  /** Independent GEMMs (grid z). */
  readonly batches: number;
  readonly acc: AccType;
  /** Register block side: 4 (64×64 tiles) or 8 (128×128). */
  readonly reg: 4 | 8;
  /** Which of A's indices consecutive threads walk when staging (its contiguous dim). */
  readonly aAlong: 'k' | 'm';
  readonly bAlong: 'n' | 'k';
  /** Statements after z, m0, n0 are declared (batch bases, image/group split). */
  readonly prologue?: string;
  readonly loadA: (dst: string, m: string, k: string) => string;
  readonly loadB: (dst: string, k: string, n: string) => string;
  readonly store: (m: string, n: string, v: string) => string;
}

export const GEMM_THREADS = 256;

/** `#pragma unroll` for nvcc, GCC's spelling for the CPU harness (g++ -Werror rejects the former). */
export const UNROLL_HELPER = `#ifndef LATHE_LINALG_UNROLL
#ifdef __CUDACC__
#define LATHE_LINALG_UNROLL _Pragma("unroll")
#else
#define LATHE_LINALG_UNROLL _Pragma("GCC unroll 8")
#endif
#endif`;
export const GEMM_BK = 16;

/** Largest grid.y / grid.z of a launch. */
export const MAX_GRID_YZ = 65535;

export function gemmTileGrid(s: Pick<GemmTileSpec, 'M' | 'N' | 'batches' | 'reg'>): [number, number, number] {
  const B = 16 * s.reg;
  return [Math.ceil(s.N / B), Math.ceil(s.M / B), s.batches];
}

/** The multiply-add of the accumulator type (fused for floats; ints wrap as unsigned). */
export function madd(acc: AccType, a: string, b: string, c: string): string {
  if (acc === 'float') return `fmaf(${a}, ${b}, ${c})`;
  if (acc === 'double') return `fma(${a}, ${b}, ${c})`;
  return `${c} + ${a} * ${b}`;
}

/** The kernel body of the tiled GEMM (see the file comment). */
export function gemmTileBody(s: GemmTileSpec): string {
  const R = s.reg;
  const BM = 16 * R;
  const BK = GEMM_BK;
  const T = GEMM_THREADS;
  const acc = s.acc;
  // Staging: element e of the tile; consecutive e walk the operand's contiguous dim in global memory.
  const aIdx = s.aAlong === 'k' ? [`e / ${BK}u`, `e % ${BK}u`] : [`e % ${BM}u`, `e / ${BM}u`];
  const bIdx = s.bAlong === 'n' ? [`e / ${BM}u`, `e % ${BM}u`] : [`e % ${BK}u`, `e / ${BK}u`];
  const kLoopNeeded = s.K > 0;
  return `${kLoopNeeded ? `  __shared__ ${acc} As[${BK}][${BM + 1}];
  __shared__ ${acc} Bs[${BK}][${BM + 1}];` : ''}
  const unsigned tid = threadIdx.x;
  const unsigned tx = tid % 16u, ty = tid / 16u;
  const unsigned z = blockIdx.z;
  const unsigned m0 = blockIdx.y * ${BM}u, n0 = blockIdx.x * ${BM}u;
  (void)z;
  ${s.prologue ?? ''}
  ${acc} acc[${R}][${R}];
  LATHE_LINALG_UNROLL
  for (int i = 0; i < ${R}; i++) {
    LATHE_LINALG_UNROLL
    for (int j = 0; j < ${R}; j++) acc[i][j] = 0;
  }
  ${kLoopNeeded ? `for (unsigned k0 = 0; k0 < ${s.K}u; k0 += ${BK}u) {
    for (unsigned e = tid; e < ${BM * BK}u; e += ${T}u) {
      const unsigned mm = ${aIdx[0]}, kk = ${aIdx[1]};
      ${acc} v = 0;
      if (m0 + mm < ${s.M}u && k0 + kk < ${s.K}u) {
        const unsigned m = m0 + mm, k = k0 + kk;
        ${s.loadA('v', 'm', 'k')}
      }
      As[kk][mm] = v;
    }
    for (unsigned e = tid; e < ${BM * BK}u; e += ${T}u) {
      const unsigned kk = ${bIdx[0]}, nn = ${bIdx[1]};
      ${acc} v = 0;
      if (k0 + kk < ${s.K}u && n0 + nn < ${s.N}u) {
        const unsigned k = k0 + kk, n = n0 + nn;
        ${s.loadB('v', 'k', 'n')}
      }
      Bs[kk][nn] = v;
    }
    __syncthreads();
    LATHE_LINALG_UNROLL
    for (int kk = 0; kk < ${BK}; kk++) {
      ${acc} a[${R}], b[${R}];
      LATHE_LINALG_UNROLL
      for (int i = 0; i < ${R}; i++) a[i] = As[kk][ty + 16 * i];
      LATHE_LINALG_UNROLL
      for (int j = 0; j < ${R}; j++) b[j] = Bs[kk][tx + 16 * j];
      LATHE_LINALG_UNROLL
      for (int i = 0; i < ${R}; i++) {
        LATHE_LINALG_UNROLL
        for (int j = 0; j < ${R}; j++) acc[i][j] = ${madd(acc, 'a[i]', 'b[j]', 'acc[i][j]')};
      }
    }
    __syncthreads();
  }` : ''}
  LATHE_LINALG_UNROLL
  for (int i = 0; i < ${R}; i++) {
    const unsigned m = m0 + ty + 16u * i;
    if (m >= ${s.M}u) continue;
    LATHE_LINALG_UNROLL
    for (int j = 0; j < ${R}; j++) {
      const unsigned n = n0 + tx + 16u * j;
      if (n >= ${s.N}u) continue;
      const ${acc} v = acc[i][j];
      ${s.store('m', 'n', 'v')}
    }
  }`;
}

// ---- text helpers shared by the family ----

/** The storage element of a tensor, or unsupported. */
export function elemOf(ctx: CudaContext, t: StaticTensor): CudaElem {
  return cudaElem(t.dtype) ?? ctx.unsupported(`${t.name} is ${t.dtype}, which CUDA kernels cannot store`);
}

/** The arithmetic type for a storage element (f16/bf16 compute in float; ints wrap as unsigned). */
export function accOf(e: CudaElem): AccType {
  if (e === 'f32' || e === 'f16' || e === 'bf16') return 'float';
  if (e === 'f64') return 'double';
  if (e === 'i64' || e === 'u64') return 'uint64_t';
  return 'uint32_t';
}

export const isFloatElem = (e: CudaElem): boolean => e === 'f32' || e === 'f64' || e === 'f16' || e === 'bf16';

/** A stored element read in the arithmetic type `acc`. */
export function loadAs(e: CudaElem, acc: AccType | 'float', expr: string): string {
  if (e === 'f16') return acc === 'float' ? `__half2float(${expr})` : `(${acc})__half2float(${expr})`;
  if (e === 'bf16') return acc === 'float' ? `__bfloat162float(${expr})` : `(${acc})__bfloat162float(${expr})`;
  if ((e === 'f32' && acc === 'float') || (e === 'f64' && acc === 'double')) return expr;
  return `(${acc})(${expr})`;
}

/** A computed value stored as element `e` (round to nearest even for the narrow floats). */
export function storeAs(e: CudaElem, expr: string): string {
  if (e === 'f16') return `__float2half_rn(${expr})`;
  if (e === 'bf16') return `__float2bfloat16_rn(${expr})`;
  return `(${C_TYPE[e]})(${expr})`;
}

/** A literal of the arithmetic type (exact for the value as that type holds it). */
export function lit(acc: AccType | 'float', n: number): string {
  if (acc === 'float' || acc === 'double') {
    if (!Number.isFinite(n)) throw new Error(`a ${acc} literal must be finite, got ${n}`);
    const s = String(acc === 'float' ? Math.fround(n) : n);
    const t = /[.e]/.test(s) ? s : `${s}.0`;
    return acc === 'float' ? `${t}f` : t;
  }
  if (!Number.isInteger(n)) throw new Error(`an integer literal must be an integer, got ${n}`);
  const v = BigInt.asUintN(acc === 'uint64_t' ? 64 : 32, BigInt(n));
  return acc === 'uint64_t' ? `${v}ull` : `${v}u`;
}

export const numElements = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

// ---- the tensor-core tile (f16 / bf16 operands, f32 accumulation) ----
//
// 128×128 block tiles, 256 threads = 8 warps in a 2×4 grid, each warp a 64×32 tile: 4×4
// mma.sync.m16n8k16 accumulators (64 floats a thread, in the PTX ISA's C layout: lane = 4·g + c
// holds rows g and g + 8 of a 16-row m-tile, columns 2c and 2c + 1 of an 8-column n-tile). K is
// walked in steps of BK = 32 through three shared-memory stages: cp.async keeps two slices in
// flight while the warps multiply the third, with one barrier a step. Each operand keeps its
// global layout in shared memory, unpadded (3 stages × (128×32 + 32×128) × 2 bytes = 48 KiB, the
// static limit) and XOR-swizzled in 16-byte chunks so that the 8 row addresses of each ldmatrix
// phase fall in 8 different bank groups: a row of 4 chunks (32 k values) swaps chunk c for
// c ^ ((row >> 1) & 3), a row of 16 chunks (128 m or n values) for c ^ (row & 7). Fragments come
// from ldmatrix.x4: a k-contiguous operand non-transposed, an m- or n-contiguous one with .trans
// (the same instruction the hardware offers for a column-major operand). Operands whose
// contiguous dim is a multiple of 8 are copied in 16-byte chunks (zero-filled past the matrix
// edge); others element by element into the same layout. The epilogue (alpha, beta·C, rounding,
// edge guards) runs per element straight from the accumulators.
// Needs sm_80 (cp.async, ldmatrix, bf16 mma): the text is inside `#if __CUDA_ARCH__ >= 800` and the
// caller puts the CUDA-core tile (reg 8: the same 128×128 grid) in the `#else`.

export const MMA_TILE = 128;
const MBK = 32;
const MMA_STAGES = 3;

export interface MmaOperand {
  /** Kernel parameter holding the operand. */
  readonly param: string;
  /** u32 expression (may use z and the prologue's names) of the batch's first element. */
  readonly base: string;
  /** Stored transposed relative to the GEMM's view: A as [K, M], B as [N, K]. */
  readonly trans: boolean;
}

export interface MmaSpec {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly elem: 'f16' | 'bf16';
  readonly a: MmaOperand;
  readonly b: MmaOperand;
  readonly prologue?: string;
  /** Write C[m, n] = v (v a float), called for m < M, n < N. */
  readonly store: (m: string, n: string, v: string) => string;
}

/** Helpers the tensor-core kernels (this tile, flash attention) need; the PTX only for sm_80+. */
export const MMA_HELPERS: readonly string[] = [
  UNROLL_HELPER,
  `#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
// 16 bytes global -> shared without a register round trip; src_bytes 0 writes zeros.
__device__ __forceinline__ void lathe_cp_async16(void* dst, const void* src, bool valid) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  const int n = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\\n" ::"r"(s), "l"(src), "r"(n));
}
__device__ __forceinline__ void lathe_cp_async_commit() { asm volatile("cp.async.commit_group;\\n" ::); }
__device__ __forceinline__ void lathe_cp_async_wait1() { asm volatile("cp.async.wait_group 1;\\n" ::); }
// Warp-collective fragment loads and the m16n8k16 tensor-core product (PTX ISA layouts).
__device__ __forceinline__ void lathe_ldsm_x4(unsigned (&r)[4], const void* p) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(p));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(s));
}
__device__ __forceinline__ void lathe_ldsm_x4_t(unsigned (&r)[4], const void* p) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(p));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(s));
}
__device__ __forceinline__ void lathe_mma_f16(float (&d)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]) : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
__device__ __forceinline__ void lathe_mma_bf16(float (&d)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]) : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
// Two floats as one register of f16 / bf16 pairs, lo in the low half (the lower column).
__device__ __forceinline__ unsigned lathe_pack_f16(float lo, float hi) {
  unsigned r;
  asm("cvt.rn.f16x2.f32 %0, %1, %2;\\n" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
}
__device__ __forceinline__ unsigned lathe_pack_bf16(float lo, float hi) {
  unsigned r;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;\\n" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
}
#endif`,
];

interface TileGeom {
  rows: number;
  cols: number;
  /** Global index names of the tile's row and column dims and their limits. */
  row0: string;
  col0: string;
  rowLimit: number;
  colLimit: number;
  gStride: number;
}

function geom(which: 'a' | 'b', trans: boolean, s: MmaSpec): TileGeom {
  const T = MMA_TILE;
  if (which === 'a') {
    return trans
      ? { rows: MBK, cols: T, row0: 'k0', col0: 'm0', rowLimit: s.K, colLimit: s.M, gStride: s.M }
      : { rows: T, cols: MBK, row0: 'm0', col0: 'k0', rowLimit: s.M, colLimit: s.K, gStride: s.K };
  }
  return trans
    ? { rows: T, cols: MBK, row0: 'n0', col0: 'k0', rowLimit: s.N, colLimit: s.K, gStride: s.K }
    : { rows: MBK, cols: T, row0: 'k0', col0: 'n0', rowLimit: s.K, colLimit: s.N, gStride: s.N };
}

/** The swizzled element offset of (row, col) in a tile of `cols` columns (col: a multiple of 8 or any). */
function swz(cols: number, row: string, col: string): string {
  const chunks = cols / 8;
  const x = chunks === 4 ? `((${row}) >> 1 & 3u)` : `((${row}) & 7u)`;
  return `((${row}) * ${cols}u + ((((${col}) >> 3) ^ ${x}) << 3) + ((${col}) & 7u))`;
}

/** Statements copying one operand's slice at k0 into shared memory at `dst`. */
function stageCopy(op: MmaOperand, g: TileGeom, dst: string, zero: string): string {
  if (g.colLimit % 8 === 0) {
    const chunks = (g.rows * g.cols) / 8;
    const per = g.cols / 8;
    return `LATHE_LINALG_UNROLL
      for (unsigned c = tid; c < ${chunks}u; c += 256u) {
        const unsigned r = c / ${per}u, col = (c % ${per}u) * 8u;
        const unsigned gr = ${g.row0} + r, gc = ${g.col0} + col;
        const bool ok = gr < ${g.rowLimit}u && gc < ${g.colLimit}u;
        lathe_cp_async16(${dst} + ${swz(g.cols, 'r', 'col')}, ${op.param} + (ok ? ${op.base} + gr * ${g.gStride}u + gc : 0u), ok);
      }`;
  }
  return `for (unsigned e = tid; e < ${g.rows * g.cols}u; e += 256u) {
        const unsigned r = e / ${g.cols}u, col = e % ${g.cols}u;
        const unsigned gr = ${g.row0} + r, gc = ${g.col0} + col;
        ${dst}[${swz(g.cols, 'r', 'col')}] = gr < ${g.rowLimit}u && gc < ${g.colLimit}u ? ${op.param}[${op.base} + gr * ${g.gStride}u + gc] : ${zero};
      }`;
}

/** The tensor-core kernel body (grid [⌈N/128⌉, ⌈M/128⌉, batches], 256 threads). */
export function mmaTileBody(s: MmaSpec): string {
  const T = MMA_TILE;
  const ga = geom('a', s.a.trans, s);
  const gb = geom('b', s.b.trans, s);
  const et = s.elem === 'f16' ? '__half' : '__nv_bfloat16';
  const sfx = s.elem === 'f16' ? 'f16' : 'bf16';
  const zero = s.elem === 'f16' ? '__ushort_as_half(0)' : '__ushort_as_bfloat16(0)';
  const tileElems = T * MBK;
  const stage = 2 * tileElems;
  const totalBytes = MMA_STAGES * stage * 2;
  // ldmatrix row addresses (lane l): the A fragment of m-tile i at k step kk, the B fragments of
  // n-tiles 2jp and 2jp + 1.
  const aLoad = s.a.trans
    ? `lathe_ldsm_x4_t(af[i], sa + ${swz(T, 'kk + (lane / 16u) * 8u + lane % 8u', 'wm * 64u + i * 16u + ((lane / 8u) % 2u) * 8u')});`
    : `lathe_ldsm_x4(af[i], sa + ${swz(MBK, 'wm * 64u + i * 16u + lane % 16u', 'kk + (lane / 16u) * 8u')});`;
  const bLoad = s.b.trans
    ? `lathe_ldsm_x4(bf[jp], sb + ${swz(MBK, 'wn * 32u + jp * 16u + (lane / 16u) * 8u + lane % 8u', 'kk + ((lane / 8u) % 2u) * 8u')});`
    : `lathe_ldsm_x4_t(bf[jp], sb + ${swz(T, 'kk + lane % 16u', 'wn * 32u + jp * 16u + (lane / 16u) * 8u')});`;
  const kTiles = Math.ceil(s.K / MBK);
  return `  __shared__ __align__(128) unsigned char smem_raw[${totalBytes}];
  ${et}* smem = reinterpret_cast<${et}*>(smem_raw);
  const unsigned tid = threadIdx.x;
  const unsigned warp = tid / 32u, lane = tid % 32u;
  const unsigned wm = warp / 4u, wn = warp % 4u;
  const unsigned z = blockIdx.z;
  const unsigned m0 = blockIdx.y * ${T}u, n0 = blockIdx.x * ${T}u;
  (void)z;
  ${s.prologue ?? ''}
  float acc[4][4][4];
  LATHE_LINALG_UNROLL
  for (int i = 0; i < 4; i++) {
    LATHE_LINALG_UNROLL
    for (int j = 0; j < 4; j++) acc[i][j][0] = acc[i][j][1] = acc[i][j][2] = acc[i][j][3] = 0.0f;
  }
  auto load_stage = [&](unsigned st, unsigned k0) {
    ${et}* da = smem + st * ${stage}u;
    ${et}* db = da + ${tileElems}u;
    ${stageCopy(s.a, ga, 'da', zero)}
    ${stageCopy(s.b, gb, 'db', zero)}
  };
  // Prologue: slices 0 .. ${MMA_STAGES - 2} in flight (one commit group each, empty past K).
  LATHE_LINALG_UNROLL
  for (unsigned st = 0; st < ${MMA_STAGES - 1}u; st++) {
    if (st < ${kTiles}u) load_stage(st, st * ${MBK}u);
    lathe_cp_async_commit();
  }
  for (unsigned kt = 0; kt < ${kTiles}u; kt++) {
    // Slice kt has landed (only the newest group may still be in flight); after the barrier every
    // warp is done with slice kt − 1, whose stage the copy of slice kt + ${MMA_STAGES - 1} reuses.
    lathe_cp_async_wait1();
    __syncthreads();
    if (kt + ${MMA_STAGES - 1}u < ${kTiles}u) load_stage((kt + ${MMA_STAGES - 1}u) % ${MMA_STAGES}u, (kt + ${MMA_STAGES - 1}u) * ${MBK}u);
    lathe_cp_async_commit();
    const ${et}* sa = smem + (kt % ${MMA_STAGES}u) * ${stage}u;
    const ${et}* sb = sa + ${tileElems}u;
    LATHE_LINALG_UNROLL
    for (unsigned kk = 0; kk < ${MBK}u; kk += 16u) {
      unsigned af[4][4], bf[2][4];
      LATHE_LINALG_UNROLL
      for (unsigned i = 0; i < 4u; i++) ${aLoad}
      LATHE_LINALG_UNROLL
      for (unsigned jp = 0; jp < 2u; jp++) ${bLoad}
      LATHE_LINALG_UNROLL
      for (int i = 0; i < 4; i++) {
        LATHE_LINALG_UNROLL
        for (int j = 0; j < 4; j++) lathe_mma_${sfx}(acc[i][j], af[i], bf[j / 2][(j % 2) * 2], bf[j / 2][(j % 2) * 2 + 1]);
      }
    }
  }
  // Epilogue straight from the accumulators: acc[i][j][e] is row g (+ 8 for e ≥ 2) of m-tile i,
  // column 2c + (e & 1) of n-tile j.
  const unsigned g = lane / 4u, c4 = lane % 4u;
  LATHE_LINALG_UNROLL
  for (unsigned i = 0; i < 4u; i++) {
    LATHE_LINALG_UNROLL
    for (unsigned j = 0; j < 4u; j++) {
      LATHE_LINALG_UNROLL
      for (unsigned e = 0; e < 4u; e++) {
        const unsigned m = m0 + wm * 64u + i * 16u + g + (e / 2u) * 8u;
        const unsigned n = n0 + wn * 32u + j * 8u + c4 * 2u + e % 2u;
        if (m < ${s.M}u && n < ${s.N}u) {
          const float v = acc[i][j][e];
          ${s.store('m', 'n', 'v')}
        }
      }
    }
  }`;
}
