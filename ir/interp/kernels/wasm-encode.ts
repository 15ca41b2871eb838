// A minimal WebAssembly binary encoder: just enough to emit the interpreter's GEMM microkernel
// (ir/interp/kernels/gemm-wasm.ts) from TypeScript, so there is no .wasm build step and no
// assembler dependency. One module: a memory it defines and exports, and functions over i32 and
// v128 values. Opcode numbers are from the WebAssembly core spec (§5.4) and the fixed-width SIMD
// proposal, merged into the spec in 2.0.

export type ValType = 'i32' | 'v128';
const VALTYPE: Record<ValType, number> = { i32: 0x7f, v128: 0x7b };

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for i32.const). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  n |= 0;
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const SIMD = 0xfd;
/** memarg: log2 alignment, then the constant offset. */
const memarg = (alignLog2: number, offset: number) => [...uleb(alignLog2), ...uleb(offset)];

/** Instruction builders; each returns its bytes. */
export const op = {
  localGet: (i: number) => [0x20, ...uleb(i)],
  localSet: (i: number) => [0x21, ...uleb(i)],
  localTee: (i: number) => [0x22, ...uleb(i)],
  i32Const: (v: number) => [0x41, ...sleb(v)],
  i32Load: (offset = 0) => [0x28, ...memarg(2, offset)],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32And: [0x71],
  i32Eqz: [0x45],
  i32GtU: [0x4b],
  i32GeU: [0x4f],
  select: [0x1b],
  f32Load: (offset = 0) => [0x2a, ...memarg(2, offset)],
  f64Store: (offset = 0) => [0x39, ...memarg(3, offset)],
  f64PromoteF32: [0xbb],
  i32Ne: [0x47],
  i32LtU: [0x49],
  /** block/loop with an empty result type. */
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  v128Load: (offset = 0) => [SIMD, ...uleb(0x00), ...memarg(4, offset)],
  v128Load64Splat: (offset = 0) => [SIMD, ...uleb(0x0a), ...memarg(3, offset)],
  v128Store: (offset = 0) => [SIMD, ...uleb(0x0b), ...memarg(4, offset)],
  v128Load64Zero: (offset = 0) => [SIMD, ...uleb(0x5d), ...memarg(3, offset)],
  f64x2PromoteLowF32x4: [SIMD, ...uleb(0x5f)],
  v128Zero: [SIMD, ...uleb(0x0c), ...new Array(16).fill(0)],
  f64x2Add: [SIMD, ...uleb(0xf0)],
  f64x2Mul: [SIMD, ...uleb(0xf2)],
};

export interface FuncDef {
  name: string;
  params: ValType[];
  /** Locals after the params, in index order. */
  locals: ValType[];
  body: number[];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function name(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
}

/**
 * A module with the functions (none returning a value), exporting them and `memory`. The memory is
 * the module's own (initial `pages` of 64 KiB, growable), or with `shared`, imported as
 * env.memory: a shared memory of `pages` to `shared.maxPages` pages, for worker threads.
 */
export function encodeModule(funcs: FuncDef[], pages = 1, shared?: { maxPages: number }): Uint8Array<ArrayBuffer> {
  const types = funcs.map((f) => [0x60, ...vec(f.params.map((p) => [VALTYPE[p]])), 0x00]);
  const code = funcs.map((f) => {
    // Locals as runs of one type.
    const runs: number[][] = [];
    for (let i = 0; i < f.locals.length; ) {
      let j = i;
      while (j < f.locals.length && f.locals[j] === f.locals[i]) j++;
      runs.push([...uleb(j - i), VALTYPE[f.locals[i]!]]);
      i = j;
    }
    const body = [...vec(runs), ...f.body, 0x0b];
    return [...uleb(body.length), ...body];
  });
  const memorySections = shared
    ? section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x03, ...uleb(pages), ...uleb(shared.maxPages)]]))
    : section(5, vec([[0x00, ...uleb(pages)]]));
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...(shared ? memorySections : []),
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...(shared ? [] : memorySections),
    ...section(7, vec([[...name('memory'), 0x02, 0x00], ...funcs.map((f, i) => [...name(f.name), 0x00, ...uleb(i)])])),
    ...section(10, vec(code)),
  ];
  return new Uint8Array(bytes);
}
