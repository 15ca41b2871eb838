// The interpreter's float GEMM microkernel as WebAssembly SIMD, emitted by wasm-encode.ts.
//
// Numerics: operands are packed into f64 (exact for f32 and f64 inputs), each product is an f64x2
// multiply and each sum an f64x2 add, one lane per output element, over k in order 0, 1, …, K-1
// starting from +0. That is the same sequence of roundings as the scalar JS loop
// `let s = 0; for (k) s += a[k] * b[k]` in f64, so results are bit-for-bit those of the scalar
// kernel (no FMA, no reassociation); only the lanes (output columns) run in parallel.
//
// `mk(a, b, c, kLen, ldc)`: C[MR×NR] += Apanel · Bpanel over kLen steps, where
//   a: MR f64 per k (A's rows i0..i0+MR-1 at one k), so MR·8 bytes per k,
//   b: NR f64 per k (B's columns j0..j0+NR-1 at one k), NR·8 bytes per k,
//   c: the block's first element in a row-major f64 C with a row stride of ldc bytes.
// Continuing a sum from C is exact continuation of the same sequence, so K can be split into
// cache blocks without changing any result.
import type { FuncDef } from './wasm-encode.ts';
import { encodeModule, op } from './wasm-encode.ts';

export function microkernel(MR: number, NR: number): FuncDef {
  if (NR % 2 !== 0) throw new Error('NR must be even (f64x2 lanes)');
  const NV = NR / 2;
  // params: 0 a, 1 b, 2 c, 3 kLen, 4 ldc; locals: acc[MR·NV], bv[NV], av, crow
  const A = 0, B = 1, C = 2, KL = 3, LDC = 4;
  const acc = (r: number, v: number) => 5 + r * NV + v;
  const bv = (v: number) => 5 + MR * NV + v;
  const AV = 5 + MR * NV + NV;
  const CROW = AV + 1;
  const body: number[] = [];
  const emit = (...xs: (number[] | number)[]) => {
    for (const x of xs) typeof x === 'number' ? body.push(x) : body.push(...x);
  };
  // Load the accumulators from C.
  emit(op.localGet(C), op.localSet(CROW));
  for (let r = 0; r < MR; r++) {
    if (r > 0) emit(op.localGet(CROW), op.localGet(LDC), op.i32Add, op.localSet(CROW));
    for (let v = 0; v < NV; v++) emit(op.localGet(CROW), op.v128Load(v * 16), op.localSet(acc(r, v)));
  }
  // One step of k: acc[r][v] += A[r] · B[v], reading A and B at byte offsets aOff and bOff.
  const step = (aOff: number, bOff: number) => {
    for (let v = 0; v < NV; v++) emit(op.localGet(B), op.v128Load(bOff + v * 16), op.localSet(bv(v)));
    for (let r = 0; r < MR; r++) {
      emit(op.localGet(A), op.v128Load64Splat(aOff + r * 8), op.localSet(AV));
      for (let v = 0; v < NV; v++) {
        emit(op.localGet(acc(r, v)), op.localGet(AV), op.localGet(bv(v)), op.f64x2Mul, op.f64x2Add, op.localSet(acc(r, v)));
      }
    }
  };
  // for (; kLen; kLen--) (unrolling by 2 measured no faster in V8)
  emit(op.block, op.localGet(KL), op.i32Eqz, op.brIf(0), op.loop);
  step(0, 0);
  emit(op.localGet(A), op.i32Const(MR * 8), op.i32Add, op.localSet(A));
  emit(op.localGet(B), op.i32Const(NR * 8), op.i32Add, op.localSet(B));
  emit(op.localGet(KL), op.i32Const(1), op.i32Sub, op.localTee(KL), op.brIf(0));
  emit(op.end, op.end);
  // Store them back.
  emit(op.localGet(C), op.localSet(CROW));
  for (let r = 0; r < MR; r++) {
    if (r > 0) emit(op.localGet(CROW), op.localGet(LDC), op.i32Add, op.localSet(CROW));
    for (let v = 0; v < NV; v++) emit(op.localGet(CROW), op.localGet(acc(r, v)), op.v128Store(v * 16));
  }
  return {
    name: 'mk',
    params: ['i32', 'i32', 'i32', 'i32', 'i32'],
    locals: [...new Array(MR * NV + NV + 1).fill('v128'), 'i32'],
    body,
  };
}

/** A function builder: emit() appends instructions. */
function builder(): { body: number[]; emit: (...xs: (number[] | number)[]) => void } {
  const body: number[] = [];
  return { body, emit: (...xs) => { for (const x of xs) typeof x === 'number' ? body.push(x) : body.push(...x); } };
}

/**
 * `packB32(src, dst, K, panels, rs, step)`: B's first `panels` full panels of NR = 4 columns,
 * from f32 rows at src (rs bytes apart) to the f64 panel layout at dst (panels `step` bytes
 * apart, k-major, 32 bytes per k). Tiles of TILE panels keep reads and writes sequential.
 */
export function packB32(TILE: number): FuncDef {
  const SRC = 0, DST = 1, K = 2, PANELS = 3, RS = 4, STEP = 5, P0 = 6, P1 = 7, KK = 8, P = 9, S = 10, D = 11;
  const { body, emit } = builder();
  emit(op.i32Const(0), op.localSet(P0));
  emit(op.block, op.loop, op.localGet(P0), op.localGet(PANELS), op.i32GeU, op.brIf(1));
  // p1 = min(panels, p0 + TILE)
  emit(op.localGet(PANELS), op.localGet(P0), op.i32Const(TILE), op.i32Add, op.localTee(P1), op.localGet(P1), op.localGet(PANELS), op.i32GtU, op.select, op.localSet(P1));
  emit(op.i32Const(0), op.localSet(KK));
  emit(op.block, op.loop, op.localGet(KK), op.localGet(K), op.i32GeU, op.brIf(1));
  // s = src + k·rs + p0·16; d = dst + p0·step + k·32
  emit(op.localGet(SRC), op.localGet(KK), op.localGet(RS), op.i32Mul, op.i32Add, op.localGet(P0), op.i32Const(16), op.i32Mul, op.i32Add, op.localSet(S));
  emit(op.localGet(DST), op.localGet(P0), op.localGet(STEP), op.i32Mul, op.i32Add, op.localGet(KK), op.i32Const(32), op.i32Mul, op.i32Add, op.localSet(D));
  emit(op.localGet(P0), op.localSet(P));
  emit(op.block, op.loop, op.localGet(P), op.localGet(P1), op.i32GeU, op.brIf(1));
  emit(op.localGet(D), op.localGet(S), op.v128Load64Zero(0), op.f64x2PromoteLowF32x4, op.v128Store(0));
  emit(op.localGet(D), op.localGet(S), op.v128Load64Zero(8), op.f64x2PromoteLowF32x4, op.v128Store(16));
  emit(op.localGet(S), op.i32Const(16), op.i32Add, op.localSet(S));
  emit(op.localGet(D), op.localGet(STEP), op.i32Add, op.localSet(D));
  emit(op.localGet(P), op.i32Const(1), op.i32Add, op.localSet(P));
  emit(op.br(0), op.end, op.end);
  emit(op.localGet(KK), op.i32Const(1), op.i32Add, op.localSet(KK));
  emit(op.br(0), op.end, op.end);
  emit(op.localGet(P1), op.localSet(P0));
  emit(op.br(0), op.end, op.end);
  return { name: 'packB32', params: new Array(6).fill('i32'), locals: new Array(6).fill('i32'), body };
}

/**
 * `packA32(src, dst, K, panels, rs)`: A's first `panels` full panels of MR = 4 rows, from f32 rows
 * at src (rs bytes apart) to the f64 panel layout at dst (panel p at p·K·32, k-major, 32 bytes per k).
 */
export function packA32(): FuncDef {
  const SRC = 0, DST = 1, K = 2, PANELS = 3, RS = 4, IP = 5, KK = 6, S = 7, D = 8;
  const { body, emit } = builder();
  emit(op.i32Const(0), op.localSet(IP), op.localGet(DST), op.localSet(D));
  emit(op.block, op.loop, op.localGet(IP), op.localGet(PANELS), op.i32GeU, op.brIf(1));
  // s = src + ip·4·rs
  emit(op.localGet(SRC), op.localGet(IP), op.i32Const(4), op.i32Mul, op.localGet(RS), op.i32Mul, op.i32Add, op.localSet(S));
  emit(op.i32Const(0), op.localSet(KK));
  emit(op.block, op.loop, op.localGet(KK), op.localGet(K), op.i32GeU, op.brIf(1));
  for (let r = 0; r < 4; r++) {
    emit(op.localGet(D), op.localGet(S));
    for (let i = 0; i < r; i++) emit(op.localGet(RS), op.i32Add);
    emit(op.f32Load(0), op.f64PromoteF32, op.f64Store(r * 8));
  }
  emit(op.localGet(S), op.i32Const(4), op.i32Add, op.localSet(S));
  emit(op.localGet(D), op.i32Const(32), op.i32Add, op.localSet(D));
  emit(op.localGet(KK), op.i32Const(1), op.i32Add, op.localSet(KK));
  emit(op.br(0), op.end, op.end);
  emit(op.localGet(IP), op.i32Const(1), op.i32Add, op.localSet(IP));
  emit(op.br(0), op.end, op.end);
  return { name: 'packA32', params: new Array(5).fill('i32'), locals: new Array(4).fill('i32'), body };
}

/** The module: `mk` and `memory`; with `sharedMaxPages`, the memory is a shared one it imports as env.memory. */
export function gemmModuleBytes(MR: number, NR: number, sharedMaxPages?: number): Uint8Array<ArrayBuffer> {
  if (MR !== 4 || NR !== 4) throw new Error('the packers are written for 4×4 panels');
  return encodeModule([microkernel(MR, NR), packB32(16), packA32()], 1, sharedMaxPages ? { maxPages: sharedMaxPages } : undefined);
}
