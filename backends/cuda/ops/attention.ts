// lathe.Attention as one flash-style kernel (docs/attention.md has the op's meaning): no
// seq_q × seq_k buffer exists. f16/bf16 with head dims that are multiples of 16 up to 128 take the
// FlashAttention-2 body on tensor cores (sm_80+, described at faBody). Everything else, and those
// too on the CPU harness and pre-sm_80 targets, takes the CUDA-core body: a block takes BQ query
// rows of one (batch, head), one thread per row, the row's q·scale held in registers (each row is read by one thread only, so shared memory
// would add a copy and nothing else). K and V are streamed through shared memory in tiles of BKV
// rows loaded by the whole block (coalesced; every thread then reads the same K/V element at the
// same time, a broadcast). Each thread scores its row against the tile, takes the tile's maximum
// and rescales its running sum and V accumulator once per tile (online softmax). Masked scores
// are skipped, never turned into −∞ arithmetic, so a fully masked row ends with a zero normaliser
// and is written as zeros, as the reference does. With causal = 1 a block stops at the last tile
// its bottom row can see. f16/bf16 compute in float, f64 in double.
// Also the benchmark generator `attentionKernelForBench`.
import { LATHE_DOMAIN } from '../../../ir/graph.ts';
import type { CudaBinding, CudaElem, CudaKernel } from '../kernel.ts';
import { cudaKernel } from '../kernel.ts';
import type { StaticTensor } from '../lowering.ts';
import { defineCuda } from '../lowering.ts';
import { broadcastStrides } from '../../wgsl/index-helper.ts';
import { accOf, elemOf, lit, loadAs, MAX_GRID_YZ, madd, storeAs, UNROLL_HELPER, MMA_HELPERS } from './gemm-tile.ts';

export interface AttentionProblem {
  readonly name: string;
  readonly node: string;
  readonly q: StaticTensor;
  readonly k: StaticTensor;
  readonly v: StaticTensor;
  readonly mask?: StaticTensor;
  readonly y: StaticTensor;
  /** Storage element of Q, K, V and Y (one float type). */
  readonly elem: CudaElem;
  readonly maskElem?: CudaElem;
  readonly scale: number;
  readonly causal: boolean;
  /** Shared memory a block may use (bytes). */
  readonly maxSharedBytes: number;
}

/** The smallest power of two ≥ n (n ≥ 1). */
const ceilPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

export function attentionKernel(p: AttentionProblem): CudaKernel {
  const [B, H, Sq] = p.q.shape as [number, number, number, number];
  const bindings: CudaBinding[] = [
    { value: p.q.name, access: 'read', elem: p.elem, param: 'qm' },
    { value: p.k.name, access: 'read', elem: p.elem, param: 'km' },
    { value: p.v.name, access: 'read', elem: p.elem, param: 'vm' },
    ...(p.mask ? [{ value: p.mask.name, access: 'read' as const, elem: p.maskElem!, param: 'mk' }] : []),
    { value: p.y.name, access: 'read_write', elem: p.elem, param: 'y' },
  ];
  const fa = faConfig(p);
  if (fa) {
    // Path selection (docs/cuda.md): the FlashAttention-2 body (inline PTX: ldmatrix, mma.sync,
    // cp.async) is compiled only for sm_80 and newer. Everywhere else (an older target, and the
    // CPU harness, where __CUDA_ARCH__ is never defined) the #else branch compiles: the CUDA-core
    // body over the same grid and block (16·warps rows a block, one thread per row, the other
    // threads idle), which is what the CPU tests check numerically.
    const T = fa.warps * 32, BQ = fa.warps * 16;
    const body = `#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
${faBody(p, fa)}
#else
${coreBody(p, BQ, T)}
#endif`;
    return cudaKernel({
      name: p.name, node: p.node, op: 'Attention', bindings, helpers: MMA_HELPERS, body,
      grid: [Math.ceil(Sq / BQ), H, B], block: T,
    });
  }
  // Other dtypes, head dims over 128 (too many accumulators for registers) or not multiples of 16.
  // One thread per query row: up to 128 rows a block, no more than the sequence needs.
  const BQ = Math.min(128, Math.max(32, ceilPow2(Sq)));
  return cudaKernel({
    name: p.name, node: p.node, op: 'Attention', bindings, helpers: [UNROLL_HELPER], body: coreBody(p, BQ, BQ),
    grid: [Math.ceil(Sq / BQ), H, B], block: BQ,
  });
}

/** The CUDA-core body: `rows` query rows a block (one thread each) among `threads` threads. */
function coreBody(p: AttentionProblem, BQ: number, threads: number): string {
  const [B, H, Sq, D] = p.q.shape as [number, number, number, number];
  const [, Hkv, Sk] = p.k.shape as [number, number, number, number];
  const Dv = p.v.shape[3]!;
  const group = H / Hkv;
  const acc = accOf(p.elem) as 'float' | 'double';
  const bytes = acc === 'double' ? 8 : 4;
  // K and V tiles share the block's shared memory: BKV rows of D + Dv values.
  const BKV = Math.max(1, Math.min(32, Sk, Math.floor(p.maxSharedBytes / (bytes * Math.max(1, D + Dv)))));
  const tiles = Math.ceil(Sk / BKV);
  const ms = p.mask ? broadcastStrides(p.mask.shape, [B, H, Sq, Sk]) : [0, 0, 0, 0];
  const shift = Sk - Sq; // row i sees keys j ≤ i + shift (bottom-right causal)
  const lowest = acc === 'double' ? '-1.7976931348623157e308' : '-3.402823466e38f';
  // How the mask enters a score: a bool keeps where true, a float is added (−∞ then skips it).
  const maskTerm = !p.mask
    ? ''
    : p.maskElem === 'bool'
      ? `if (mk[mRow + kj * ${ms[3]}u] == 0) continue;`
      : `s += ${loadAs(p.maskElem!, acc, `mk[mRow + kj * ${ms[3]}u]`)};
        if (s < ${lowest}) continue;`;
  const exp = acc === 'double' ? 'exp' : 'expf';
  const mx = acc === 'double' ? 'fmax' : 'fmaxf';
  const causalTiles = p.causal
    ? `{
    const int lastRow = (int)min(blockIdx.x * ${BQ}u + ${BQ - 1}u, ${Sq - 1}u);
    const int lastKey = lastRow + ${shift};
    tiles = lastKey >= 0 ? min(tiles, (unsigned)(lastKey / ${BKV}) + 1u) : 0u;
  }`
    : '';
  const body = `  __shared__ ${acc} Kt[${BKV * D}];
  __shared__ ${acc} Vt[${BKV * Dv}];
  const unsigned tid = threadIdx.x;
  const unsigned b = blockIdx.z, h = blockIdx.y;
  const unsigned kvh = h / ${group}u;
  const unsigned i = blockIdx.x * ${BQ}u + tid;
  const bool live = ${threads > BQ ? `tid < ${BQ}u && ` : ''}i < ${Sq}u;
  const unsigned qBase = ((b * ${H}u + h) * ${Sq}u + i) * ${D}u;
  const unsigned kBase = (b * ${Hkv}u + kvh) * ${Sk * D}u;
  const unsigned vBase = (b * ${Hkv}u + kvh) * ${Sk * Dv}u;
  const unsigned mRow = b * ${ms[0]}u + h * ${ms[1]}u + i * ${ms[2]}u;
  (void)mRow;
  ${acc} qr[${D}];
  ${acc} accv[${Dv}];
  ${acc} sc[${BKV}];
  bool ok[${BKV}];
  LATHE_LINALG_UNROLL
  for (int c = 0; c < ${D}; c++) qr[c] = live ? ${loadAs(p.elem, acc, 'qm[qBase + c]')} * ${lit(acc, p.scale)} : ${lit(acc, 0)};
  LATHE_LINALG_UNROLL
  for (int c = 0; c < ${Dv}; c++) accv[c] = 0;
  ${acc} m_run = ${lowest};
  ${acc} l = 0;
  // Tiles to visit: all, or (causal) up to the one holding the block's last visible key.
  unsigned tiles = ${tiles}u;
  ${causalTiles}
  for (unsigned t = 0; t < tiles; t++) {
    const unsigned kv0 = t * ${BKV}u;
    __syncthreads();
    for (unsigned e = tid; e < ${BKV * D}u; e += ${threads}u) {
      const unsigned j = kv0 + e / ${D}u;
      Kt[e] = j < ${Sk}u ? ${loadAs(p.elem, acc, `km[kBase + j * ${D}u + e % ${D}u]`)} : ${lit(acc, 0)};
    }
    for (unsigned e = tid; e < ${BKV * Dv}u; e += ${threads}u) {
      const unsigned j = kv0 + e / ${Dv}u;
      Vt[e] = j < ${Sk}u ? ${loadAs(p.elem, acc, `vm[vBase + j * ${Dv}u + e % ${Dv}u]`)} : ${lit(acc, 0)};
    }
    __syncthreads();
    // Rows past seq_q still load tiles and meet the barriers; they only skip the arithmetic.
    if (!live) continue;
    ${acc} tmax = m_run;
    // Unrolled (BKV ≤ 32, a constant), so sc[] and ok[] are indexed by constants and stay in
    // registers instead of a stack frame.
    LATHE_LINALG_UNROLL
    for (unsigned jj = 0; jj < ${BKV}u; jj++) {
      ok[jj] = false;
      const unsigned kj = kv0 + jj;
      if (kj >= ${Sk}u) continue;
      ${p.causal ? `if ((int)kj > (int)i + ${shift}) continue;` : ''}
      ${acc} s = 0;
      LATHE_LINALG_UNROLL
      for (int c = 0; c < ${D}; c++) s = ${madd(acc, 'qr[c]', `Kt[jj * ${D}u + c]`, 's')};
      ${maskTerm}
      ok[jj] = true;
      sc[jj] = s;
      tmax = ${mx}(tmax, s);
    }
    // Rescale what was summed under the old maximum (nothing yet: l = 0, no exp of −huge), then
    // add this tile's rows of V.
    const ${acc} corr = l > 0 ? ${exp}(m_run - tmax) : ${lit(acc, 1)};
    m_run = tmax;
    l *= corr;
    LATHE_LINALG_UNROLL
    for (int c = 0; c < ${Dv}; c++) accv[c] *= corr;
    LATHE_LINALG_UNROLL
    for (unsigned jj = 0; jj < ${BKV}u; jj++) {
      if (!ok[jj]) continue;
      const ${acc} pj = ${exp}(sc[jj] - m_run);
      l += pj;
      LATHE_LINALG_UNROLL
      for (int c = 0; c < ${Dv}; c++) accv[c] = ${madd(acc, 'pj', `Vt[jj * ${Dv}u + c]`, 'accv[c]')};
    }
  }
  if (!live) return;
  const unsigned oBase = ((b * ${H}u + h) * ${Sq}u + i) * ${Dv}u;
  const ${acc} inv = l > 0 ? ${lit(acc, 1)} / l : ${lit(acc, 0)};
  for (int c = 0; c < ${Dv}; c++) y[oBase + c] = ${storeAs(p.elem, 'accv[c] * inv')};`;
  return body;
}

// ---- the FlashAttention-2 body (f16/bf16, head dims multiples of 16 up to 128, sm_80+) ----
//
// A block of W warps takes 16·W query rows (W = 8: 128 rows when shared memory allows, else 4),
// each warp 16 rows, and walks K/V in tiles of BKV keys (64, or 32 for wide heads) copied by
// cp.async into two shared-memory stages (tile t+1 is in flight while tile t is multiplied). Rows
// are padded by 8 elements (16 bytes), so the 8 row addresses of every ldmatrix phase fall in 8
// different 16-byte bank groups. Everything a row needs stays in registers, in the fragment
// layouts of the PTX ISA's mma.m16n8k16 (lane = 4·g + c: a thread holds rows g and g + 8 of the
// warp's 16, and in an 8-column n-tile the columns 2c and 2c + 1):
//   Q   once per block: cp.async into the second stage's space, then ldmatrix.x4 into A fragments
//       qf[kk] (rows 0–7 / 8–15 × cols 0–7 / 8–15 of the kk-th 16-wide slice of D).
//   S   = Q·Kᵀ: K rows in shared memory are Kᵀ's columns, so a non-transposed ldmatrix.x4 over 16
//       keys × 16 dims gives the B fragments of two 8-key n-tiles; s[j][0..1] is row g, keys
//       kv0 + 8j + 2c, +1; s[j][2..3] row g + 8.
//   softmax in base 2 (scores times scale·log2 e, exp2f): the row maximum over a thread's values,
//       then over the 4 lanes of the quad (__shfl_xor_sync 1, 2); the running max m, the
//       rescale factor exp2(m_old − m_new) applied to the thread's partial row sum l and to its O
//       accumulators; masked scores are −∞ (p = 0), and while a row has seen no valid score its
//       max is used as 0, so exp2 never sees −∞ − (−∞) and a fully masked row keeps l = 0 and is
//       written as zeros, as the reference does.
//   P   converted to f16/bf16 pairs in registers: the C fragments of n-tiles 2kk and 2kk + 1 are
//       exactly the A fragment of the kk-th 16-key slice, so P never touches shared memory.
//   O  += P·V: V rows (keys) are B's k dim, so ldmatrix.x4.trans over 16 keys × 16 values gives
//       the B fragments of two 8-wide n-tiles of Dv; o[jd][·] as s[j][·].
// Masking is done only where a tile needs it: the last tile when seq_k is not a multiple of BKV,
// causal tiles crossing the warp's diagonal, every tile with a mask input. Causal tiles wholly
// above a warp's rows are skipped by that warp (the copies and barriers still run), tiles above the
// block's last row are never loaded, and causal blocks run in reverse order (longest first).
// The quad's partial sums are combined once at the end; each thread writes its O pairs directly.
const FA_MAX_D = 128;

interface FaConfig {
  warps: number;
  bkv: number;
  total: number;
}

/** The FA2 block shape that fits the shared memory, or undefined (the path does not apply). */
export function faConfig(p: AttentionProblem): FaConfig | undefined {
  const D = p.q.shape[3]!;
  const Dv = p.v.shape[3]!;
  if (p.elem !== 'f16' && p.elem !== 'bf16') return undefined;
  if (D === 0 || Dv === 0 || D % 16 !== 0 || Dv % 16 !== 0 || D > FA_MAX_D || Dv > FA_MAX_D) return undefined;
  for (const warps of [8, 4]) {
    for (const bkv of [64, 32]) {
      const stage = bkv * (D + 8) * 2 + bkv * (Dv + 8) * 2;
      const total = stage + Math.max(stage, 16 * warps * (D + 8) * 2);
      // Static __shared__ arrays: never more than 48 KiB, whatever the device allows dynamically.
      if (total <= Math.min(p.maxSharedBytes, 48 * 1024)) return { warps, bkv, total };
    }
  }
  return undefined;
}

function faBody(p: AttentionProblem, cfg: FaConfig): string {
  const [B, H, Sq, D] = p.q.shape as [number, number, number, number];
  const [, Hkv, Sk] = p.k.shape as [number, number, number, number];
  const Dv = p.v.shape[3]!;
  const { warps, bkv: BKV, total } = cfg;
  const T = warps * 32;
  const BQ = warps * 16;
  const KLD = D + 8, VLD = Dv + 8;
  const kElems = BKV * KLD;
  const stageElems = kElems + BKV * VLD;
  const et = p.elem === 'f16' ? '__half' : '__nv_bfloat16';
  const sfx = p.elem === 'f16' ? 'f16' : 'bf16';
  const pair = p.elem === 'f16' ? '__half2' : '__nv_bfloat162';
  const pairOf = p.elem === 'f16' ? '__floats2half2_rn' : '__floats2bfloat162_rn';
  const group = H / Hkv;
  const ms = p.mask ? broadcastStrides(p.mask.shape, [B, H, Sq, Sk]) : [0, 0, 0, 0];
  const shift = Sk - Sq; // row i sees keys j ≤ i + shift (bottom-right causal)
  const LOG2E = 1.4426950408889634;
  const tiles = Math.ceil(Sk / BKV);
  const partialLast = Sk % BKV !== 0;
  // Per score: validity (bounds, causal, bool mask) and the additive mask, in natural units.
  const maskStmt = !p.mask
    ? ''
    : p.maskElem === 'bool'
      ? `valid = valid && row < ${Sq}u && mk[b * ${ms[0]}u + h * ${ms[1]}u + row * ${ms[2]}u + kj * ${ms[3]}u] != 0;`
      : `if (valid && row < ${Sq}u) add = ${loadAs(p.maskElem!, 'float', `mk[b * ${ms[0]}u + h * ${ms[1]}u + row * ${ms[2]}u + kj * ${ms[3]}u]`)};`;
  // When a tile needs the per-element pass (warp-uniform, so the shuffles below stay converged).
  const needs: string[] = [];
  if (p.mask) needs.push('true');
  if (partialLast) needs.push(`kv0 + ${BKV}u > ${Sk}u`);
  if (p.causal) needs.push(`(int)kv0 + ${BKV - 1} > (int)wr0 + ${shift}`);
  const needMask = needs.length ? needs.join(' || ') : 'false';
  const chunk = (rows: number, cols: number, dst: string, src: string, base: string, limit: string, ld: number) =>
    `for (unsigned c = tid; c < ${(rows * cols) / 8}u; c += ${T}u) {
      const unsigned r = c / ${cols / 8}u, col = (c % ${cols / 8}u) * 8u;
      const bool ok = ${limit};
      lathe_cp_async16(${dst} + r * ${ld}u + col, ${src} + (ok ? ${base} : 0u), ok);
    }`;
  return `  __shared__ __align__(128) unsigned char smem_raw[${total}];
  ${et}* const sm = reinterpret_cast<${et}*>(smem_raw);
  const unsigned tid = threadIdx.x, warp = tid / 32u, lane = tid % 32u;
  const unsigned g = lane / 4u, tg = lane % 4u;
  const unsigned b = blockIdx.z, h = blockIdx.y, kvh = h / ${group}u;
  const unsigned q0 = (${p.causal ? `gridDim.x - 1u - blockIdx.x` : 'blockIdx.x'}) * ${BQ}u;
  const unsigned kBase = (b * ${Hkv}u + kvh) * ${Sk * D}u;
  const unsigned vBase = (b * ${Hkv}u + kvh) * ${Sk * Dv}u;
  const unsigned rowBase = (b * ${H}u + h) * ${Sq}u;
  const unsigned wr0 = q0 + warp * 16u;   // the warp's first row
  const unsigned row0 = wr0 + g;          // this thread's rows: row0 and row0 + 8
  (void)kBase; (void)vBase;
  unsigned tiles = ${tiles}u;
  ${p.causal ? `{
    const int lastKey = (int)min(q0 + ${BQ - 1}u, ${Sq - 1}u) + ${shift};
    tiles = lastKey >= 0 ? min(tiles, (unsigned)(lastKey / ${BKV}) + 1u) : 0u;
  }` : ''}
  auto load_tile = [&](unsigned st, unsigned kv0) {
    ${et}* Kd = sm + st * ${stageElems}u;
    ${et}* Vd = Kd + ${kElems}u;
    ${chunk(BKV, D, 'Kd', 'km', `kBase + (kv0 + r) * ${D}u + col`, `kv0 + r < ${Sk}u`, KLD)}
    ${chunk(BKV, Dv, 'Vd', 'vm', `vBase + (kv0 + r) * ${Dv}u + col`, `kv0 + r < ${Sk}u`, VLD)}
  };
  // Q's rows (zeros past seq_q) into the second stage's space, then into registers.
  ${et}* const Qs = sm + ${stageElems}u;
  ${chunk(BQ, D, 'Qs', 'qm', `(rowBase + q0 + r) * ${D}u + col`, `q0 + r < ${Sq}u`, KLD)}
  lathe_cp_async_commit();
  if (tiles > 0u) load_tile(0u, 0u);
  lathe_cp_async_commit();
  lathe_cp_async_wait1();
  __syncthreads();
  unsigned qf[${D / 16}][4];
  LATHE_LINALG_UNROLL
  for (int kk = 0; kk < ${D / 16}; kk++) lathe_ldsm_x4(qf[kk], Qs + (warp * 16u + lane % 16u) * ${KLD}u + kk * 16 + (lane / 16u) * 8u);
  __syncthreads();
  float o[${Dv / 8}][4];
  LATHE_LINALG_UNROLL
  for (int j = 0; j < ${Dv / 8}; j++) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.0f;
  const float NEG_INF = __int_as_float(0xff800000u);
  float m_r[2] = {NEG_INF, NEG_INF}, l_r[2] = {0.0f, 0.0f};
  for (unsigned t = 0; t < tiles; t++) {
    const unsigned kv0 = t * ${BKV}u;
    if (t + 1u < tiles) load_tile((t + 1u) & 1u, kv0 + ${BKV}u);
    lathe_cp_async_commit();
    lathe_cp_async_wait1();
    __syncthreads();
    const ${et}* Ks = sm + (t & 1u) * ${stageElems}u;
    const ${et}* Vs = Ks + ${kElems}u;
    // (causal) a tile wholly above this warp's last row adds nothing: skip its arithmetic.
    if (${p.causal ? `(int)kv0 <= (int)wr0 + ${15 + shift}` : 'true'}) {
      float s[${BKV / 8}][4];
      LATHE_LINALG_UNROLL
      for (int j = 0; j < ${BKV / 8}; j++) s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.0f;
      LATHE_LINALG_UNROLL
      for (int kk = 0; kk < ${D / 16}; kk++) {
        LATHE_LINALG_UNROLL
        for (int jp = 0; jp < ${BKV / 16}; jp++) {
          unsigned kb[4];
          lathe_ldsm_x4(kb, Ks + (jp * 16 + (lane / 16u) * 8u + lane % 8u) * ${KLD}u + kk * 16 + ((lane / 8u) % 2u) * 8u);
          lathe_mma_${sfx}(s[2 * jp], qf[kk], kb[0], kb[1]);
          lathe_mma_${sfx}(s[2 * jp + 1], qf[kk], kb[2], kb[3]);
        }
      }
      if (${needMask}) {
        LATHE_LINALG_UNROLL
        for (int j = 0; j < ${BKV / 8}; j++) {
          LATHE_LINALG_UNROLL
          for (int e = 0; e < 4; e++) {
            const unsigned row = row0 + (e >= 2 ? 8u : 0u);
            const unsigned kj = kv0 + j * 8 + tg * 2u + (e & 1);
            bool valid = kj < ${Sk}u${p.causal ? ` && (int)kj <= (int)row + ${shift}` : ''};
            float add = 0.0f;
            ${maskStmt}
            (void)row;
            s[j][e] = valid ? (s[j][e] * ${lit('float', p.scale)} + add) * ${lit('float', LOG2E)} : NEG_INF;
          }
        }
      } else {
        LATHE_LINALG_UNROLL
        for (int j = 0; j < ${BKV / 8}; j++) {
          LATHE_LINALG_UNROLL
          for (int e = 0; e < 4; e++) s[j][e] *= ${lit('float', p.scale * LOG2E)};
        }
      }
      LATHE_LINALG_UNROLL
      for (int r = 0; r < 2; r++) {
        float mx = NEG_INF;
        LATHE_LINALG_UNROLL
        for (int j = 0; j < ${BKV / 8}; j++) mx = fmaxf(mx, fmaxf(s[j][2 * r], s[j][2 * r + 1]));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        const float mNew = fmaxf(m_r[r], mx);
        const float mUse = mNew == NEG_INF ? 0.0f : mNew;
        const float corr = exp2f(m_r[r] - mUse);
        m_r[r] = mNew;
        float sum = 0.0f;
        LATHE_LINALG_UNROLL
        for (int j = 0; j < ${BKV / 8}; j++) {
          s[j][2 * r] = exp2f(s[j][2 * r] - mUse);
          s[j][2 * r + 1] = exp2f(s[j][2 * r + 1] - mUse);
          sum += s[j][2 * r] + s[j][2 * r + 1];
        }
        l_r[r] = l_r[r] * corr + sum;
        LATHE_LINALG_UNROLL
        for (int j = 0; j < ${Dv / 8}; j++) {
          o[j][2 * r] *= corr;
          o[j][2 * r + 1] *= corr;
        }
      }
      LATHE_LINALG_UNROLL
      for (int kk = 0; kk < ${BKV / 16}; kk++) {
        unsigned pa[4];
        pa[0] = lathe_pack_${sfx}(s[2 * kk][0], s[2 * kk][1]);
        pa[1] = lathe_pack_${sfx}(s[2 * kk][2], s[2 * kk][3]);
        pa[2] = lathe_pack_${sfx}(s[2 * kk + 1][0], s[2 * kk + 1][1]);
        pa[3] = lathe_pack_${sfx}(s[2 * kk + 1][2], s[2 * kk + 1][3]);
        LATHE_LINALG_UNROLL
        for (int dp = 0; dp < ${Dv / 16}; dp++) {
          unsigned vb[4];
          lathe_ldsm_x4_t(vb, Vs + (kk * 16 + lane % 16u) * ${VLD}u + dp * 16 + (lane / 16u) * 8u);
          lathe_mma_${sfx}(o[2 * dp], pa, vb[0], vb[1]);
          lathe_mma_${sfx}(o[2 * dp + 1], pa, vb[2], vb[3]);
        }
      }
    }
    __syncthreads();
  }
  LATHE_LINALG_UNROLL
  for (int r = 0; r < 2; r++) {
    float l = l_r[r];
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    l += __shfl_xor_sync(0xffffffffu, l, 2);
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    const unsigned row = row0 + 8u * r;
    if (row < ${Sq}u) {
      ${pair}* yr = reinterpret_cast<${pair}*>(y + (rowBase + row) * ${Dv}u + tg * 2u);
      LATHE_LINALG_UNROLL
      for (int j = 0; j < ${Dv / 8}; j++) yr[j * 4] = ${pairOf}(o[j][2 * r] * inv, o[j][2 * r + 1] * inv);
    }
  }`;
}

defineCuda(LATHE_DOMAIN, 'Attention', (ctx) => {
  const q = ctx.input(0)!;
  const k = ctx.input(1)!;
  const v = ctx.input(2)!;
  const mask = ctx.input(3);
  const y = ctx.output(0)!;
  const [B, H, Sq] = q.shape as [number, number, number, number];
  const Dv = v.shape[3]!;
  const elem = elemOf(ctx, q);
  if (elem !== 'f32' && elem !== 'f16' && elem !== 'bf16' && elem !== 'f64') ctx.unsupported(`Attention of ${q.dtype} tensors`);
  const scale = ctx.float('scale', 1 / Math.sqrt(ctx.int('head_dim')));
  if (!Number.isFinite(scale)) ctx.unsupported(`scale ${scale} is not finite`);
  if (B * H * Sq * Dv === 0) return [];
  if (B > MAX_GRID_YZ || H > MAX_GRID_YZ) ctx.unsupported(`batch ${B} × heads ${H} exceed the grid's y/z limits`);
  if (mask && mask.shape.length > 4) ctx.unsupported(`the mask [${mask.shape.join(', ')}] has more than 4 axes`);
  return [attentionKernel({
    name: ctx.kernelName('flash_attention'), node: ctx.node.name, q, k, v, mask, y, elem,
    maskElem: mask ? elemOf(ctx, mask) : undefined,
    scale, causal: ctx.int('causal', 0) === 1, maxSharedBytes: ctx.caps.maxSharedBytes,
  })];
});

/**
 * The kernel of attention over Q, K, V [B, H, N, D] (Y the same shape, scale 1/√D, no mask) for
 * timing on a GPU: parameters (qm, km, vm, y), grid and block in the result.
 */
export function attentionKernelForBench(B: number, H: number, N: number, D: number, dtype: 'f32' | 'f16' | 'bf16' = 'f16', causal = false): CudaKernel {
  const t = (name: string): StaticTensor => ({ name, dtype, shape: [B, H, N, D] });
  return attentionKernel({
    name: `bench/attention_${B}x${H}x${N}x${D}_${dtype}`, node: 'bench',
    q: t('Q'), k: t('K'), v: t('V'), y: t('Y'), elem: dtype, scale: 1 / Math.sqrt(D), causal, maxSharedBytes: 48 * 1024,
  });
}
