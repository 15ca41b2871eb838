// The tiled GEMM every MatMul, Gemm and Conv kernel is built on (Conv as an implicit GEMM).
//
// A workgroup of T×T invocations computes a (4T)×(4T) tile of C = A·B; each invocation owns a
// 4×4 block held in four vec4 accumulators (register blocking: 16 multiply-adds per 4 + 4 reads
// from workgroup memory). K is walked in steps of TK = 2T: each invocation loads two quads (4
// consecutive elements along the operand's contiguous dim; one vec4 read where aligned) of A and
// two of B into workgroup memory, laid out k-major (As[k·TM + m], Bs[k·TN + n]) so the inner loop
// reads A's column and B's row at each k. T = 16: 64×64 tiles, 256 invocations, TK = 32, 16 KiB
// of workgroup memory; T = 8 (devices with fewer invocations or less memory): 32×32, 4 KiB.
//
// The caller supplies the operand access as WGSL functions, so the same loop serves a plain
// matrix, a transposed one, a broadcast batch and an im2col gather:
//   fn loadA(z: u32, m: u32, k: u32) -> vec4<f32>   A[m, k..k+3] (along 'k') or A[m..m+3, k] ('m')
//   fn loadB(z: u32, k: u32, n: u32) -> vec4<f32>   B[k, n..n+3] (along 'n') or B[k..k+3, n] ('k')
//   fn storeC(z: u32, m: u32, n: u32, v: vec4<f32>)  C[m, n..n+3] = v (called for m < M, n < N)
// Each loader returns 0 outside the matrix (the tile edges), so M, N and K need not be multiples
// of the tile. z is the batch (workgroup_id.z).
import type { DeviceCaps } from '../lowering.ts';
import { u } from './kernel-util.ts';

export interface GemmShape {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  /** Independent GEMMs (dispatch z). */
  readonly batches: number;
  /** The contiguous dim of A's quads. */
  readonly aAlong: 'k' | 'm';
  readonly bAlong: 'n' | 'k';
}

/** Invocations per tile side: 16 (64×64 tiles) where the device allows 256 invocations and 16 KiB of workgroup memory, else 8. */
export function gemmThreads(caps: DeviceCaps): number {
  const bytes = 2 * gemmDepth(16) * 64 * 4; // As + Bs at T = 16: 16 KiB
  return caps.maxWorkgroupInvocations >= 256 && caps.maxWorkgroupStorageBytes >= bytes ? 16 : 8;
}

/**
 * k per step: TK = 2T (at T = 16 a 64×32 slice of A and a 32×64 slice of B, two quads of each per
 * invocation). On lavapipe a 1024² MatMul took 1.6–1.9× ORT WebGPU's time with 2T against
 * 2.2–2.9× with TK = T (half the barriers) and 2.0× with 4T (which needs 32 KiB).
 */
export function gemmDepth(T: number): number {
  return 2 * T;
}

export function gemmDispatch(s: GemmShape, T: number): [number, number, number] {
  return [Math.ceil(s.N / (4 * T)), Math.ceil(s.M / (4 * T)), s.batches];
}

const LANES = ['x', 'y', 'z', 'w'];

/**
 * The workgroup memory, entry point and tile loop; the caller's text defines loadA, loadB, storeC.
 * Everything is unrolled by hand with constant lane names: lavapipe's JIT (and GPU compilers)
 * turn a dynamically indexed vector or private array into a stack slot; the first version of this
 * kernel, written with `v[j]` loops, took 2–3× longer in lavapipe's first-dispatch compile.
 */
export function gemmMain(s: GemmShape, T: number, TK = gemmDepth(T)): string {
  const TM = 4 * T;
  const q = TK / 4; // quads across a k-row of a tile loaded along k
  const L = TK / T; // quads of A (and of B) each invocation loads per step
  // Tiles are k-major scalars: As[k·TM + m], Bs[k·TN + n].
  const scatter = (arr: string, first: string, other: string) =>
    LANES.map((c, j) => `${arr}[(${first} + ${j}u) * ${u(TM)} + ${other}] = v.${c};`).join(' ');
  const loadA =
    s.aAlong === 'k'
      ? `{
      let row = qi / ${u(q)};
      let kq = (qi % ${u(q)}) * 4u;
      let v = loadA(z, m0 + row, k0 + kq);
      ${scatter('As', 'kq', 'row')}
    }`
      : `{
      let kk = qi / ${u(T)};
      let mq = (qi % ${u(T)}) * 4u;
      let v = loadA(z, m0 + mq, k0 + kk);
      ${LANES.map((c, j) => `As[kk * ${u(TM)} + mq + ${j}u] = v.${c};`).join(' ')}
    }`;
  const loadB =
    s.bAlong === 'n'
      ? `{
      let kk = qi / ${u(T)};
      let nq = (qi % ${u(T)}) * 4u;
      let v = loadB(z, k0 + kk, n0 + nq);
      ${LANES.map((c, j) => `Bs[kk * ${u(TM)} + nq + ${j}u] = v.${c};`).join(' ')}
    }`
      : `{
      let col = qi / ${u(q)};
      let kq = (qi % ${u(q)}) * 4u;
      let v = loadB(z, k0 + kq, n0 + col);
      ${scatter('Bs', 'kq', 'col')}
    }`;
  const stores = LANES.map(
    (_, i) => `if (m0 + ty + ${i}u < ${u(s.M)}) { storeC(z, m0 + ty + ${i}u, n, acc${i}); }`,
  ).join('\n    ');
  return `
var<workgroup> As: array<f32, ${TK * TM}>;
var<workgroup> Bs: array<f32, ${TK * TM}>;

@compute @workgroup_size(${T}, ${T}, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(workgroup_id) wid: vec3<u32>) {
  let z = wid.z;
  let m0 = wid.y * ${u(TM)};
  let n0 = wid.x * ${u(TM)};
  let ty = lid.y * 4u;
  let tx = lid.x * 4u;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < ${u(s.K)}; k0 += ${u(TK)}) {
    for (var r = 0u; r < ${u(L)}; r++) {
      let qi = li + r * ${u(T * T)};
      ${loadA}
      ${loadB}
    }
    workgroupBarrier();
    for (var k = 0u; k < ${u(TK)}; k++) {
      let ao = k * ${u(TM)} + ty;
      let bo = k * ${u(TM)} + tx;
      let b = vec4<f32>(Bs[bo], Bs[bo + 1u], Bs[bo + 2u], Bs[bo + 3u]);
      acc0 = fma(vec4<f32>(As[ao]), b, acc0);
      acc1 = fma(vec4<f32>(As[ao + 1u]), b, acc1);
      acc2 = fma(vec4<f32>(As[ao + 2u]), b, acc2);
      acc3 = fma(vec4<f32>(As[ao + 3u]), b, acc3);
    }
    workgroupBarrier();
  }
  let n = n0 + tx;
  if (n < ${u(s.N)}) {
    ${stores}
  }
}
`;
}

/**
 * A quad loader body over a matrix stored contiguously along the quad's dim: `base` (WGSL u32
 * expression), the index of the quad's first element `first` and the row (other dim) `row`,
 * `rows`×`len` the matrix. With `vec4` the binding is array<vec4<T>> (len % 4 == 0, base % 4 == 0).
 */
export function quadLoad(buf: string, base: string, row: string, first: string, rows: number, len: number, vec4: boolean): string {
  if (vec4) {
    return `if (${row} >= ${u(rows)} || ${first} >= ${u(len)}) { return vec4<f32>(0.0); }
  return vec4<f32>(${buf}[(${base} + ${row} * ${u(len)} + ${first}) / 4u]);`;
  }
  return `var v = vec4<f32>(0.0);
  if (${row} < ${u(rows)}) {
    let o = ${base} + ${row} * ${u(len)} + ${first};
    ${LANES.map((c, j) => `if (${first} + ${j}u < ${u(len)}) { v.${c} = f32(${buf}[o + ${j}u]); }`).join('\n    ')}
  }
  return v;`;
}
