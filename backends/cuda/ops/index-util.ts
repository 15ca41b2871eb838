// Shared pieces of the CUDA data-movement lowerings (movement.ts, scatter.ts, extra.ts): bindings,
// one-thread-per-element kernels, flat index → indices decomposition and affine offsets written
// as C with the static sizes baked in (unsigned 32-bit arithmetic: the driver refuses buffers of
// 2^31 bytes or more), index operands made non-negative, and exact literals of each dtype.
import { fromConst } from '../../../ir/interp/tensor.ts';
import type { ConstTensor } from '../../../ir/tensor-data.ts';
import { toNumbers } from '../../../ir/interp/tensor.ts';
import type { CudaBinding, CudaElem, CudaKernel } from '../kernel.ts';
import { blocksFor, C_TYPE, cudaElem, cudaKernel } from '../kernel.ts';
import type { CudaContext, StaticTensor } from '../lowering.ts';

export { broadcastStrides, coalesce, numElements, stridesOf } from '../../wgsl/index-helper.ts';

/** Threads per block of the one-thread-per-element kernels. */
export const THREADS = 256;

export const u = (n: number): string => `${n >>> 0}u`;

export function elemOf(ctx: CudaContext, t: StaticTensor): CudaElem {
  return cudaElem(t.dtype) ?? ctx.unsupported(`${t.name} is ${t.dtype}, which the CUDA backend cannot store`);
}

export function readBinding(ctx: CudaContext, param: string, t: StaticTensor): CudaBinding {
  return { value: t.name, access: 'read', elem: elemOf(ctx, t), param };
}

export function writeBinding(ctx: CudaContext, param: string, t: StaticTensor): CudaBinding {
  return { value: t.name, access: 'read_write', elem: elemOf(ctx, t), param };
}

export function normAxis(a: number, rank: number): number {
  return a < 0 ? a + rank : a;
}

/** Operand i's values when it is a constant, undefined when omitted; a computed one is unsupported. */
export function constInts(ctx: CudaContext, i: number, what: string): number[] | undefined {
  if (!ctx.node.inputs[i]) return undefined;
  const c = ctx.constant(i);
  if (!c) return ctx.unsupported(`${ctx.node.op}'s ${what} (operand ${i}) must be a constant for the CUDA backend`);
  return toNumbers(fromConst(c));
}

/**
 * `const unsigned <p>0 … <p>{r-1}` from `flat` over `shape` (row-major; sizes baked in). Dim 0
 * takes what is left, so a flat index past the end is never wrapped silently into range. Dims
 * that `used` marks false get no variable (-Wunused-variable is an error).
 */
export function decompose(flat: string, shape: readonly number[], p = 'i', used?: readonly boolean[]): string[] {
  const r = shape.length;
  const want = (d: number) => !used || used[d]!;
  if (r === 0 || !shape.some((_, d) => want(d))) return [];
  if (r === 1) return [`const unsigned ${p}0 = ${flat};`];
  // The remainder is needed only up to the outermost dim used.
  const first = shape.findIndex((_, d) => want(d));
  const lines = [`unsigned ${p}_rest = ${flat};`];
  for (let d = r - 1; d > 0; d--) {
    if (d < first) break;
    if (want(d)) lines.push(`const unsigned ${p}${d} = ${p}_rest % ${u(shape[d]!)};`);
    if (d > 1 && d > first) lines.push(`${p}_rest /= ${u(shape[d]!)};`);
  }
  if (want(0)) lines.push(`const unsigned ${p}0 = ${p}_rest / ${u(shape[1]!)};`);
  return lines;
}

/**
 * `base + Σ idx[d]·strides[d]` as unsigned C. A negative stride (a backward Slice) subtracts:
 * unsigned arithmetic wraps modulo 2^32 and the final offset is in range, so it is exact.
 */
export function affine(idx: readonly string[], strides: readonly number[], base = 0): string {
  const terms: string[] = base ? [u(base)] : [];
  idx.forEach((v, d) => {
    const s = strides[d]!;
    if (s === 0) return;
    const t = Math.abs(s) === 1 ? v : `${v} * ${u(Math.abs(s))}`;
    terms.push(terms.length === 0 && s > 0 ? t : `${s < 0 ? '- ' : '+ '}${t}`);
  });
  if (terms.length === 0) return '0u';
  if (terms[0]!.startsWith('- ')) terms.unshift('0u');
  return terms.join(' ');
}

export const indexNames = (r: number, p = 'i'): string[] => Array.from({ length: r }, (_, d) => `${p}${d}`);

/** A kernel with one thread per element `flat` of `n`; `body` runs for flat < n. */
export function perElementKernel(
  ctx: CudaContext,
  what: string,
  bindings: readonly CudaBinding[],
  n: number,
  body: readonly string[],
  helpers: readonly string[] = [],
): CudaKernel {
  return cudaKernel({
    name: ctx.kernelName(what),
    node: ctx.node.name,
    op: ctx.node.op,
    bindings,
    helpers,
    body: [`  const unsigned flat = blockIdx.x * ${u(THREADS)} + threadIdx.x;`, `  if (flat >= ${u(n)}) return;`, ...body.map((l) => `  ${l}`)].join('\n'),
    grid: blocksFor(n, THREADS),
    block: THREADS,
  });
}

const f32Bits = (v: number) => new Uint32Array(Float32Array.of(v).buffer)[0]!;
const f64Bits = (v: number) => new BigUint64Array(Float64Array.of(v).buffer)[0]!;

/** An exact C literal of `v` as storage element `elem` (floats by their bits, so NaN and ±0 survive). */
export function literal(v: number | bigint | boolean, elem: CudaElem): string {
  const num = typeof v === 'boolean' ? Number(v) : v;
  const float = (x: number) => `__uint_as_float(0x${f32Bits(x).toString(16)}u)`;
  switch (elem) {
    case 'f32': return float(Number(num));
    case 'f64': return `__longlong_as_double(0x${f64Bits(Number(num)).toString(16)}ll)`;
    // The value of an f16/bf16 constant is exact in f32: one conversion rounds nothing.
    case 'f16': return `__float2half_rn(${float(Number(num))})`;
    case 'bf16': return `__float2bfloat16_rn(${float(Number(num))})`;
    case 'bool': return Number(num) !== 0 ? '(uint8_t)1' : '(uint8_t)0';
    case 'i64': {
      const b = BigInt.asIntN(64, typeof num === 'bigint' ? num : BigInt(Math.trunc(num)));
      return b === -(2n ** 63n) ? '(int64_t)(-9223372036854775807ll - 1)' : `(int64_t)${b}ll`;
    }
    case 'u64': return `(uint64_t)${BigInt.asUintN(64, typeof num === 'bigint' ? num : BigInt(Math.trunc(num)))}ull`;
    case 'i32': {
      const b = BigInt.asIntN(32, typeof num === 'bigint' ? num : BigInt(Math.trunc(num)));
      return b === -(2n ** 31n) ? '(int32_t)(-2147483647 - 1)' : `(int32_t)${b}`;
    }
    default: {
      const bits = { i8: 8, u8: 8, i16: 16, u16: 16, u32: 32 }[elem];
      const b = typeof num === 'bigint' ? num : BigInt(Math.trunc(num));
      const w = elem.startsWith('i') ? BigInt.asIntN(bits, b) : BigInt.asUintN(bits, b);
      return `(${C_TYPE[elem]})${w}${elem === 'u32' ? 'u' : ''}`;
    }
  }
}

/** The first element of a constant tensor as its typed value (bigint for 64-bit integers). */
export function firstValue(c: ConstTensor): number | bigint {
  const t = fromConst(c);
  const v = t.data[0];
  return typeof v === 'bigint' ? v : Number(v);
}

/** A stored element read in its compute type: f16/bf16 widen to float. */
export function load(v: string, elem: CudaElem): string {
  if (elem === 'f16') return `__half2float(${v})`;
  if (elem === 'bf16') return `__bfloat162float(${v})`;
  return v;
}

/** A compute-type value stored as `elem`. */
/** The double `v` stored as `e` (floats rounded once, integers truncated as a C cast). */
export function storeD(v: string, e: CudaElem): string {
  if (e === 'f64') return v;
  if (e === 'f32') return `(float)(${v})`;
  if (e === 'f16') return `__float2half_rn((float)(${v}))`;
  if (e === 'bf16') return `__float2bfloat16_rn((float)(${v}))`;
  return `(${C_TYPE[e]})(long long)(${v})`;
}

export function store(v: string, elem: CudaElem): string {
  if (elem === 'f16') return `__float2half_rn(${v})`;
  if (elem === 'bf16') return `__float2bfloat16_rn(${v})`;
  return `(${C_TYPE[elem]})(${v})`;
}

/**
 * An index operand's element `at` as a non-negative `long long j` against `dim` (negative indices
 * count from the end, as ONNX says). Out of range is undefined in ONNX; reading or writing out of
 * the buffer must never happen, so `clamp` pulls it into [0, dim − 1] and `flag` leaves
 * `j_ok` false for the caller to skip.
 */
export function fixIndex(v: string, dim: number, mode: 'clamp' | 'flag', j = 'j'): string[] {
  const lines = [`long long ${j} = (long long)(${v});`, `if (${j} < 0) ${j} += ${dim}ll;`];
  if (mode === 'clamp') lines.push(`${j} = ${j} < 0 ? 0ll : (${j} >= ${dim}ll ? ${dim - 1}ll : ${j});`);
  else lines.push(`const bool ${j}_ok = ${j} >= 0 && ${j} < ${dim}ll;`);
  return lines;
}
