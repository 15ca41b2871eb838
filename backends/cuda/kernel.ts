// A CUDA kernel as the lowering produces it: the text of one `extern "C" __global__` function
// (and the __device__ helpers it needs), its buffer parameters in order, and its launch shape.
// Shapes are static once a model is specialized and the program is compiled ahead of time, so
// sizes are compile-time constants in the text (nvcc turns divisions by them into multiplies);
// the entry's name is a hash of the text, so equal kernels are emitted once.
import { createHash } from 'node:crypto';
import type { DType } from '../../ir/dtype.ts';
import type { CoreBinding } from '../lower-core.ts';

/** Storage elements: CUDA keeps every numeric dtype as itself (bool as one byte). */
export type CudaElem = 'f32' | 'f64' | 'f16' | 'bf16' | 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32' | 'i64' | 'u64' | 'bool';

export const C_TYPE: Readonly<Record<CudaElem, string>> = {
  f32: 'float', f64: 'double', f16: '__half', bf16: '__nv_bfloat16',
  i8: 'int8_t', u8: 'uint8_t', i16: 'int16_t', u16: 'uint16_t', i32: 'int32_t', u32: 'uint32_t',
  i64: 'int64_t', u64: 'uint64_t', bool: 'uint8_t',
};

export const ELEM_BYTES: Readonly<Record<CudaElem, number>> = {
  f32: 4, f64: 8, f16: 2, bf16: 2, i8: 1, u8: 1, i16: 2, u16: 2, i32: 4, u32: 4, i64: 8, u64: 8, bool: 1,
};

/** The storage element of a dtype, or undefined where CUDA kernels cannot hold it (strings, fp8, 4-bit). */
export function cudaElem(dtype: DType): CudaElem | undefined {
  return dtype in C_TYPE ? (dtype as CudaElem) : undefined;
}

export interface CudaBinding extends CoreBinding {
  readonly elem: CudaElem;
  /** The parameter's name in the kernel text. */
  readonly param: string;
}

export interface CudaKernel {
  /** Human name for messages and profiles: `MatMul_12/matmul`. */
  readonly name: string;
  /** The node it came from (a compile error names the op, node and kernel). */
  readonly node: string;
  readonly op: string;
  /** The entry function's name: `k_` + a hash of the text (equal names ⇒ equal text). */
  readonly entry: string;
  /** The `extern "C" __global__` function named `entry`. */
  readonly code: string;
  /** `__device__` helpers it calls, each a whole definition; the emitter writes each text once. */
  readonly helpers: readonly string[];
  readonly bindings: readonly CudaBinding[];
  readonly grid: readonly [number, number, number];
  readonly block: readonly [number, number, number];
  /** Dynamic shared memory bytes of the launch. */
  readonly sharedBytes: number;
}

export interface CudaKernelSpec {
  readonly name: string;
  readonly node: string;
  readonly op: string;
  readonly bindings: readonly CudaBinding[];
  /** `__device__` helpers and constants placed before the entry (deduplicated by text). */
  readonly helpers?: readonly string[];
  /** The entry's body; `ENTRY`'s parameters are the bindings' params. */
  readonly body: string;
  readonly grid: readonly [number, number, number] | number;
  readonly block: readonly [number, number, number] | number;
  readonly sharedBytes?: number;
  /** `__launch_bounds__`'s second argument: the blocks per SM the register budget must allow. */
  readonly minBlocks?: number;
}

const dim3 = (d: readonly [number, number, number] | number): [number, number, number] => (typeof d === 'number' ? [d, 1, 1] : [d[0], d[1], d[2]]);

/** Assemble a kernel: parameters from the bindings, `__launch_bounds__` from the block size. */
export function cudaKernel(s: CudaKernelSpec): CudaKernel {
  const block = dim3(s.block);
  const threads = block[0] * block[1] * block[2];
  const params = s.bindings.map((b) => `${b.access === 'read' ? 'const ' : ''}${C_TYPE[b.elem]}* __restrict__ ${b.param}`).join(', ');
  const helpers = [...new Set(s.helpers ?? [])];
  const bounds = s.minBlocks ? `${threads}, ${s.minBlocks}` : `${threads}`;
  const text = (entry: string) => `extern "C" __global__ void __launch_bounds__(${bounds}) ${entry}(${params}) {\n${s.body.replace(/\s+$/, '')}\n}\n`;
  const entry = `k_${createHash('sha256').update(helpers.join('\n')).update(text('ENTRY')).digest('hex').slice(0, 16)}`;
  return { name: s.name, node: s.node, op: s.op, entry, code: text(entry), helpers, bindings: s.bindings, grid: dim3(s.grid), block, sharedBytes: s.sharedBytes ?? 0 };
}

/** Blocks of `threads` to cover `n` items (at least one, so a launch is never empty). */
export function blocksFor(n: number, threads: number): number {
  return Math.max(1, Math.ceil(n / threads));
}
