// The tiled GEMM every MatMul, Gemm and Conv kernel is built on (Conv as an implicit GEMM).
//
// A workgroup of WX×WY invocations computes a TM×TN tile of C = A·B (TM = WY·R, TN = WX·4·CV; see
// gemmTile for the sizes); each invocation owns R rows × 4·CV columns held in R·CV vec4
// accumulators (register blocking). K is walked in steps of TK. Workgroup memory holds vec4s only:
//   As[m·(TK/4) + kq] = A[m, 4kq..4kq+3]   (rows of A, four k's per vec4)
//   Bs[k·(TN/4) + nq] = B[k, 4nq..4nq+3]   (rows of B, four n's per vec4)
// so the inner step over four k's reads one vec4 of A per row and four vec4s of B per column quad
// and does 16 multiply-adds per row and column quad (a.x·B[k], a.y·B[k+1], …). Every read and
// write of workgroup memory is a whole vec4: on lavapipe (which runs invocations as SIMD lanes and
// gathers each lane's workgroup-memory address) that is a quarter of the per-scalar accesses of a
// scalar layout; on GPUs it is one 16-byte access. Where M, N, K are multiples of the tile the
// callers drop the loaders' bounds checks and gemmMain the store guards.
//
// Operands are staged by 4×4 blocks: an invocation loads four quads of A (four rows along k, or
// four k's along m, transposed in registers) and writes four vec4s; the same for B. So both
// layouts of either operand land in the same tile without dynamic vector indexing.
//
// The caller supplies the operand access as WGSL functions, so the same loop serves a plain
// matrix, a transposed one, a broadcast batch and an im2col gather:
//   fn loadA(z: u32, m: u32, k: u32) -> vec4<f32>   A[m, k..k+3] (along 'k') or A[m..m+3, k] ('m')
//   fn loadB(z: u32, k: u32, n: u32) -> vec4<f32>   B[k, n..n+3] (along 'n') or B[k..k+3, n] ('k')
//   fn storeC(z: u32, m: u32, n: u32, v: vec4<f32>)  C[m, n..n+3] = v (called for m < M, n < N)
// Each loader returns 0 outside the matrix (the tile edges), so M, N and K need not be multiples
// of the tile. z is the batch (workgroup_id.z).
import type { KernelBinding } from '../kernel.ts';
import type { DeviceCaps, StaticTensor } from '../lowering.ts';
import { u } from './kernel-util.ts';

/**
 * An elementwise chain applied to each result element before the store (../fuse-epilogue.ts):
 * the kernel binds `bindings` after its own operands, writes `result` instead of its own result
 * (same element count and order), and passes every element through `epilogue(v, o)`, o its flat
 * index.
 */
export interface StoreEpilogue {
  readonly result: StaticTensor;
  readonly bindings: readonly KernelBinding[];
  /** WGSL declarations: the bindings from index `first`, helpers, `fn epilogue(v: f32, o: u32) -> f32`. */
  code(first: number): string;
  /** Distinguishes kernels (part of the kernel key). */
  readonly key: string;
}

/**
 * Stores `r` (vec4<f32>: the elements at flat indices o..o+3, columns col..col+3 of a row of
 * `len`) into `y` of storage type `elem`: one vec4 store when `vec` (len % 4 == 0), else each lane
 * inside the row. With an epilogue each lane goes through it first.
 */
export function storeQuad(elem: string, vec: boolean, col: string, len: number, epi?: StoreEpilogue): string {
  const lane = (l: string, j: number) => (epi ? `epilogue(r.${l}, o${j ? ` + ${j}u` : ''})` : `r.${l}`);
  if (vec) return `y[o / 4u] = vec4<${elem}>(${epi ? `vec4<f32>(${LANES.map(lane).join(', ')})` : 'r'});`;
  return LANES.map((l, j) => `if (${col} + ${j}u < ${u(len)}) { y[o + ${j}u] = ${elem}(${lane(l, j)}); }`).join('\n  ');
}

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

/** The tile geometry. TM = WY·R rows, TN = WX·4·CV columns, TK k's per step (a multiple of 4). */
export interface GemmTile {
  readonly wx: number;
  readonly wy: number;
  /** Rows of C per invocation. */
  readonly r: number;
  /** vec4 columns of C per invocation. */
  readonly cv: number;
  readonly tk: number;
}

export const tileM = (t: GemmTile): number => t.wy * t.r;
export const tileN = (t: GemmTile): number => t.wx * 4 * t.cv;
const tileBytes = (t: GemmTile): number => (tileM(t) + tileN(t)) * t.tk * 4;

const BIG: GemmTile = { wx: 8, wy: 8, r: 8, cv: 2, tk: 16 };
const SMALL: GemmTile = { wx: 8, wy: 8, r: 4, cv: 1, tk: 16 };
const TINY: GemmTile = { wx: 4, wy: 4, r: 4, cv: 1, tk: 16 };

/**
 * The tile for a device and an M×N result. 8×8 invocations of 8 rows × 8 columns (a 64×64 tile,
 * TK = 16, 8 KiB of workgroup memory) unless its padding at the edges would cost more than a
 * quarter over a 32×32 tile's (8×8 invocations of 4×4). Measured on lavapipe against ORT WebGPU
 * in the same process (kernels alone, 512² MatMul, alternating runs): 8×8 blocks at TK = 16
 * 0.8× ORT's time, 8×8 at TK = 32 1.05×, 4×8 1.0–1.2×, 4×4 (ORT's own geometry) 1.2–1.8×; the
 * 1024² MatMul of bench/wgsl-matmul-1024.ts went from 1.85× to 1.04× (the former kernel: 16×16
 * invocations of 4×4 over scalar k-major tiles, TK = 32). Register blocking pays on lavapipe
 * because each invocation's workgroup-memory read is a gather across the SIMD lanes, while the
 * FMAs are plain vector instructions.
 */
export function gemmTile(caps: DeviceCaps, M: number, N: number): GemmTile {
  const fits = (t: GemmTile) => caps.maxWorkgroupInvocations >= t.wx * t.wy && caps.maxWorkgroupStorageBytes >= tileBytes(t);
  const padded = (t: GemmTile) => Math.ceil(M / tileM(t)) * tileM(t) * Math.ceil(N / tileN(t)) * tileN(t);
  if (fits(BIG) && padded(BIG) <= 1.25 * padded(SMALL)) return BIG;
  return fits(SMALL) ? SMALL : TINY;
}

export function gemmDispatch(s: GemmShape, t: GemmTile): [number, number, number] {
  return [Math.ceil(s.N / tileN(t)), Math.ceil(s.M / tileM(t)), s.batches];
}

const LANES = ['x', 'y', 'z', 'w'];
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * The workgroup memory, entry point and tile loop; the caller's text defines loadA, loadB, storeC.
 * Everything is unrolled by hand with constant lane names: lavapipe's JIT (and GPU compilers)
 * turn a dynamically indexed vector or private array into a stack slot.
 */
export function gemmMain(s: GemmShape, t: GemmTile): string {
  const TM = tileM(t);
  const TN = tileN(t);
  const { tk: TK, r: R, cv: CV } = t;
  const KQ = TK / 4; // vec4s per row of As
  const NQ = TN / 4; // vec4s per row of Bs
  const WI = t.wx * t.wy;
  // A's 4×4 blocks: (TM/4)·KQ; B's: KQ·NQ. Each invocation takes blocks li, li + WI, ….
  const staged = (blocks: number, body: (blk: string) => string): string =>
    range(Math.ceil(blocks / WI))
      .map((j) => {
        const blk = j === 0 ? 'li' : `li + ${u(j * WI)}`;
        const inner = `{\n      let blk = ${blk};\n      ${body('blk')}\n    }`;
        return (j + 1) * WI > blocks ? `if (${blk} < ${u(blocks)}) ${inner}` : inner;
      })
      .join('\n    ');
  const transpose4 = (dst: (i: number) => string) =>
    range(4).map((i) => `${dst(i)} = vec4<f32>(${range(4).map((j) => `v${j}.${LANES[i]}`).join(', ')});`).join('\n      ');
  const stageA = staged((TM / 4) * KQ, () =>
    [
      `let bm = (blk / ${u(KQ)}) * 4u;`,
      `let bk = blk % ${u(KQ)};`,
      s.aAlong === 'k'
        ? range(4).map((i) => `As[(bm + ${i}u) * ${u(KQ)} + bk] = loadA(z, m0 + bm + ${i}u, k0 + bk * 4u);`).join('\n      ')
        : [
            ...range(4).map((j) => `let v${j} = loadA(z, m0 + bm, k0 + bk * 4u + ${j}u);`),
            transpose4((i) => `As[(bm + ${i}u) * ${u(KQ)} + bk]`),
          ].join('\n      '),
    ].join('\n      '),
  );
  const stageB = staged(KQ * NQ, () =>
    [
      `let bk = (blk / ${u(NQ)}) * 4u;`,
      `let bn = blk % ${u(NQ)};`,
      s.bAlong === 'n'
        ? range(4).map((i) => `Bs[(bk + ${i}u) * ${u(NQ)} + bn] = loadB(z, k0 + bk + ${i}u, n0 + bn * 4u);`).join('\n      ')
        : [
            ...range(4).map((j) => `let v${j} = loadB(z, k0 + bk, n0 + bn * 4u + ${j}u);`),
            transpose4((i) => `Bs[(bk + ${i}u) * ${u(NQ)} + bn]`),
          ].join('\n      '),
    ].join('\n      '),
  );
  const acc = (i: number, c: number) => `acc${i}_${c}`;
  const step = [
    ...range(CV).flatMap((c) => range(4).map((j) => `let b${c}_${j} = Bs[(kq * 4u + ${j}u) * ${u(NQ)} + tq + ${c}u];`)),
    ...range(R).flatMap((i) => [
      `let a${i} = As[(ty + ${i}u) * ${u(KQ)} + kq];`,
      ...range(CV).map((c) => `${acc(i, c)} = fma(vec4<f32>(a${i}.w), b${c}_3, fma(vec4<f32>(a${i}.z), b${c}_2, fma(vec4<f32>(a${i}.y), b${c}_1, fma(vec4<f32>(a${i}.x), b${c}_0, ${acc(i, c)}))));`),
    ]),
  ].join('\n      ');
  const stores = range(R)
    .map((i) => {
      const cols = range(CV).map((c) => {
        const call = `storeC(z, m0 + ty + ${i}u, n0 + (tq + ${c}u) * 4u, ${acc(i, c)});`;
        return s.N % TN === 0 ? call : `if (n0 + (tq + ${c}u) * 4u < ${u(s.N)}) { ${call} }`;
      });
      return s.M % TM === 0 ? cols.join('\n  ') : `if (m0 + ty + ${i}u < ${u(s.M)}) {\n    ${cols.join('\n    ')}\n  }`;
    })
    .join('\n  ');
  return `
var<workgroup> As: array<vec4<f32>, ${TM * KQ}>;
var<workgroup> Bs: array<vec4<f32>, ${TK * NQ}>;

@compute @workgroup_size(${t.wx}, ${t.wy}, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(workgroup_id) wid: vec3<u32>) {
  let z = wid.z;
  let m0 = wid.y * ${u(TM)};
  let n0 = wid.x * ${u(TN)};
  let ty = lid.y * ${u(R)};
  let tq = lid.x * ${u(CV)};
  ${range(R).flatMap((i) => range(CV).map((c) => `var ${acc(i, c)} = vec4<f32>(0.0);`)).join('\n  ')}
  for (var k0 = 0u; k0 < ${u(s.K)}; k0 += ${u(TK)}) {
    ${stageA}
    ${stageB}
    workgroupBarrier();
    for (var kq = 0u; kq < ${u(KQ)}; kq++) {
      ${step}
    }
    workgroupBarrier();
  }
  ${stores}
}
`;
}

/**
 * A quad loader body over a matrix stored contiguously along the quad's dim: `base` (WGSL u32
 * expression), the index of the quad's first element `first` and the row (other dim) `row`,
 * `rows`×`len` the matrix. With `vec4` the binding is array<vec4<T>> (len % 4 == 0, base % 4 == 0).
 */
export function quadLoad(buf: string, base: string, row: string, first: string, rows: number, len: number, vec4: boolean, checked = true): string {
  if (vec4 && !checked) return `return vec4<f32>(${buf}[(${base} + ${row} * ${u(len)} + ${first}) / 4u]);`;
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
