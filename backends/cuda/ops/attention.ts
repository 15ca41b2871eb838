// lathe.Attention as one flash-style kernel (docs/attention.md has the op's meaning): no
// seq_q × seq_k buffer exists. A block takes BQ query rows of one (batch, head), one thread per
// row, the row's q·scale held in registers (each row is read by one thread only, so shared memory
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
import { accOf, elemOf, lit, loadAs, MAX_GRID_YZ, madd, storeAs, UNROLL_HELPER, WMMA_HELPERS } from './gemm-tile.ts';

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
  const tc = tensorCoreBody(p);
  if (tc) {
    // Tensor cores on sm_80+; the CUDA-core body over the same grid (64 rows, 128 threads) elsewhere.
    const body = `#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
${tc}
#else
${coreBody(p, TC_ROWS, TC_THREADS)}
#endif`;
    return cudaKernel({
      name: p.name, node: p.node, op: 'Attention', bindings, helpers: [...WMMA_HELPERS], body,
      grid: [Math.ceil(Sq / TC_ROWS), H, B], block: TC_THREADS,
    });
  }
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

// ---- the tensor-core body (f16/bf16, head dims multiples of 16, sm_80+) ----
//
// A block of 4 warps takes 64 query rows, 16 per warp, and walks K/V in tiles of 32 keys staged in
// shared memory. Per tile each warp computes its 16×32 scores S = Q·Kᵀ with wmma (Q's fragments
// stay in registers for the whole loop), writes them to its own f32 scratch, and then each row is
// handled by two lanes (16 columns each, partners combined with one shuffle): scale, mask/causal,
// the online-softmax update of the row's running max m and sum l, the probabilities written as
// f16/bf16 P, and the row of the f32 output accumulator O (in shared memory, since a wmma
// fragment's element-to-row mapping is opaque) rescaled. Then O += P·V with wmma. Masked scores
// are excluded from m and contribute 0, as in the CUDA-core body, so fully masked rows give 0.
const TC_ROWS = 64;
const TC_THREADS = 128;
const TC_KEYS = 32;

function tensorCoreBody(p: AttentionProblem): string | undefined {
  const [B, H, Sq, D] = p.q.shape as [number, number, number, number];
  const [, Hkv, Sk] = p.k.shape as [number, number, number, number];
  const Dv = p.v.shape[3]!;
  if ((p.elem !== 'f16' && p.elem !== 'bf16') || D % 16 !== 0 || Dv % 16 !== 0 || D === 0 || Dv === 0) return undefined;
  const et = p.elem === 'f16' ? '__half' : '__nv_bfloat16';
  const fromF = p.elem === 'f16' ? '__float2half_rn' : '__float2bfloat16_rn';
  const zero = p.elem === 'f16' ? '__ushort_as_half(0)' : '__ushort_as_bfloat16(0)';
  const BQ = TC_ROWS, BKV = TC_KEYS;
  const KLD = D + 8, VLD = Dv + 8, SLD = BKV + 4, PLD = BKV + 8, OLD = Dv + 4;
  const up = (n: number) => Math.ceil(n / 128) * 128;
  const offK = 0;
  const offV = offK + up(BKV * KLD * 2);
  const offS = offV + up(BKV * VLD * 2);
  const offP = offS + up(4 * 16 * SLD * 4);
  const offO = offP + up(4 * 16 * PLD * 2);
  const total = offO + up(BQ * OLD * 4);
  // Q is staged once in O's space before O is zeroed.
  if (total > p.maxSharedBytes || BQ * KLD * 2 > BQ * OLD * 4) return undefined;
  const group = H / Hkv;
  const ms = p.mask ? broadcastStrides(p.mask.shape, [B, H, Sq, Sk]) : [0, 0, 0, 0];
  const shift = Sk - Sq;
  const maskTest = !p.mask
    ? ''
    : p.maskElem === 'bool'
      ? `valid = valid && mk[mRow + kj * ${ms[3]}u] != 0;`
      : `if (valid) { s += ${loadAs(p.maskElem!, 'float', `mk[mRow + kj * ${ms[3]}u]`)}; valid = !(s < -3.402823466e38f); }`;
  const tiles = Math.ceil(Sk / BKV);
  return `  using namespace nvcuda;
  __shared__ __align__(128) unsigned char smem_raw[${total}];
  ${et}* Ks = reinterpret_cast<${et}*>(smem_raw + ${offK});
  ${et}* Vs = reinterpret_cast<${et}*>(smem_raw + ${offV});
  float* Ss = reinterpret_cast<float*>(smem_raw + ${offS});
  ${et}* Ps = reinterpret_cast<${et}*>(smem_raw + ${offP});
  float* Os = reinterpret_cast<float*>(smem_raw + ${offO});
  const unsigned tid = threadIdx.x, warp = tid / 32u, lane = tid % 32u;
  const unsigned b = blockIdx.z, h = blockIdx.y, kvh = h / ${group}u;
  const unsigned q0 = blockIdx.x * ${BQ}u;
  const unsigned kBase = (b * ${Hkv}u + kvh) * ${Sk * D}u;
  const unsigned vBase = (b * ${Hkv}u + kvh) * ${Sk * Dv}u;
  const unsigned rowBase = (b * ${H}u + h) * ${Sq}u;
  // Q's 64 rows (zeros past seq_q) through shared memory into each warp's fragments.
  ${et}* Qs = reinterpret_cast<${et}*>(Os);
  for (unsigned e = tid; e < ${BQ * D}u; e += ${TC_THREADS}u) {
    const unsigned r = e / ${D}u, c = e % ${D}u;
    Qs[r * ${KLD}u + c] = q0 + r < ${Sq}u ? qm[(rowBase + q0 + r) * ${D}u + c] : ${zero};
  }
  __syncthreads();
  wmma::fragment<wmma::matrix_a, 16, 16, 16, ${et}, wmma::row_major> qf[${D / 16}];
  LATHE_LINALG_UNROLL
  for (int kk = 0; kk < ${D / 16}; kk++) wmma::load_matrix_sync(qf[kk], Qs + warp * ${16 * KLD}u + kk * 16, ${KLD}u);
  __syncthreads();
  for (unsigned e = tid; e < ${BQ * OLD}u; e += ${TC_THREADS}u) Os[e] = 0.0f;
  // Lane pair (2r, 2r+1) owns row r of the warp's 16; each lane half of the columns.
  const unsigned rl = lane / 2u, hf = lane % 2u;
  const unsigned i = q0 + warp * 16u + rl;
  const bool rowLive = i < ${Sq}u;
  const unsigned mRow = b * ${ms[0]}u + h * ${ms[1]}u + i * ${ms[2]}u;
  (void)mRow;
  float* Sw = Ss + warp * ${16 * SLD}u;
  ${et}* Pw = Ps + warp * ${16 * PLD}u;
  float* Ow = Os + warp * ${16 * OLD}u;
  float m_run = -3.402823466e38f, l = 0.0f;
  unsigned tiles = ${tiles}u;
  ${p.causal ? `{
    const int lastRow = (int)min(q0 + ${BQ - 1}u, ${Sq - 1}u);
    const int lastKey = lastRow + ${shift};
    tiles = lastKey >= 0 ? min(tiles, (unsigned)(lastKey / ${BKV}) + 1u) : 0u;
  }` : ''}
  for (unsigned t = 0; t < tiles; t++) {
    const unsigned kv0 = t * ${BKV}u;
    __syncthreads();
    for (unsigned e = tid; e < ${BKV * D}u; e += ${TC_THREADS}u) {
      const unsigned r = e / ${D}u, c = e % ${D}u;
      Ks[r * ${KLD}u + c] = kv0 + r < ${Sk}u ? km[kBase + (kv0 + r) * ${D}u + c] : ${zero};
    }
    for (unsigned e = tid; e < ${BKV * Dv}u; e += ${TC_THREADS}u) {
      const unsigned r = e / ${Dv}u, c = e % ${Dv}u;
      Vs[r * ${VLD}u + c] = kv0 + r < ${Sk}u ? vm[vBase + (kv0 + r) * ${Dv}u + c] : ${zero};
    }
    __syncthreads();
    LATHE_LINALG_UNROLL
    for (int jn = 0; jn < ${BKV / 16}; jn++) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> sf;
      wmma::fill_fragment(sf, 0.0f);
      LATHE_LINALG_UNROLL
      for (int kk = 0; kk < ${D / 16}; kk++) {
        wmma::fragment<wmma::matrix_b, 16, 16, 16, ${et}, wmma::col_major> kf;
        wmma::load_matrix_sync(kf, Ks + jn * ${16 * KLD} + kk * 16, ${KLD}u);
        wmma::mma_sync(sf, qf[kk], kf, sf);
      }
      wmma::store_matrix_sync(Sw + jn * 16, sf, ${SLD}u, wmma::mem_row_major);
    }
    __syncwarp();
    float sv[16];
    bool ok[16];
    float tmax = m_run;
    LATHE_LINALG_UNROLL
    for (int c = 0; c < 16; c++) {
      const unsigned kj = kv0 + hf * 16u + c;
      float s = Sw[rl * ${SLD}u + hf * 16u + c] * ${lit('float', p.scale)};
      bool valid = rowLive && kj < ${Sk}u${p.causal ? ` && (int)kj <= (int)i + ${shift}` : ''};
      ${maskTest}
      ok[c] = valid;
      sv[c] = s;
      if (valid) tmax = fmaxf(tmax, s);
    }
    tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 1));
    const float corr = l > 0.0f ? expf(m_run - tmax) : 1.0f;
    m_run = tmax;
    float psum = 0.0f;
    LATHE_LINALG_UNROLL
    for (int c = 0; c < 16; c++) {
      const float pj = ok[c] ? expf(sv[c] - m_run) : 0.0f;
      psum += pj;
      Pw[rl * ${PLD}u + hf * 16u + c] = ${fromF}(pj);
    }
    psum += __shfl_xor_sync(0xffffffffu, psum, 1);
    l = l * corr + psum;
    for (unsigned c = hf; c < ${Dv}u; c += 2u) Ow[rl * ${OLD}u + c] *= corr;
    __syncwarp();
    LATHE_LINALG_UNROLL
    for (int jd = 0; jd < ${Dv / 16}; jd++) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> of;
      wmma::load_matrix_sync(of, Ow + jd * 16, ${OLD}u, wmma::mem_row_major);
      LATHE_LINALG_UNROLL
      for (int kk = 0; kk < ${BKV / 16}; kk++) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, ${et}, wmma::row_major> pf;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, ${et}, wmma::row_major> vf;
        wmma::load_matrix_sync(pf, Pw + kk * 16, ${PLD}u);
        wmma::load_matrix_sync(vf, Vs + kk * ${16 * VLD} + jd * 16, ${VLD}u);
        wmma::mma_sync(of, pf, vf, of);
      }
      wmma::store_matrix_sync(Ow + jd * 16, of, ${OLD}u, wmma::mem_row_major);
    }
    __syncwarp();
  }
  __syncwarp();
  if (!rowLive) return;
  const float inv = l > 0.0f ? 1.0f / l : 0.0f;
  for (unsigned c = hf; c < ${Dv}u; c += 2u) y[(rowBase + i) * ${Dv}u + c] = ${fromF}(Ow[rl * ${OLD}u + c] * inv);`;
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
