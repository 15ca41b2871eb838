// A WGSL kernel as the lowering produces it: compile-time text keyed by what it depends on, and
// run-time data (buffers, uniforms, dispatch size) kept apart, so one compiled pipeline serves
// every dispatch with the same key (onnxruntime-web's ProgramInfo / run data split).
import type { DType } from '../../ir/dtype.ts';

/** A storage buffer a kernel binds: a value of the graph (operand, result or constant) or scratch. */
export interface KernelBinding {
  /** The graph value (or a scratch name) bound here. */
  readonly value: string;
  readonly access: 'read' | 'read_write';
  /** Element type as the shader sees it (f16 only where the device has shader-f16). */
  readonly elem: 'f32' | 'f16' | 'i32' | 'u32';
  /** For a scratch buffer (a name that is no graph value, e.g. `MatMul_12/partials`): its size
   *  in bytes. The buffer plan gives it a buffer live from its first to its last use. */
  readonly scratchBytes?: number;
}

export interface KernelUniform {
  readonly name: string;
  readonly type: 'u32' | 'i32' | 'f32';
  /** One value, or an array (a shape, strides): `array<vec4<u32>, N>` packing in the shader. */
  readonly value: number | readonly number[];
}

export interface Kernel {
  /** Human name for messages and profiles: `MatMul_12/matmul_tiled`. */
  readonly name: string;
  /** The node it came from (for errors: a shader error names the op, node and line). */
  readonly node: string;
  readonly op: string;
  /** Cache key of the WGSL text: equal keys ⇒ equal `code`. */
  readonly key: string;
  /** The WGSL module; its entry point is `main`. Bindings are @group(0) @binding(i) in order,
   *  then the uniform struct at @binding(bindings.length) when `uniforms` is non-empty. */
  readonly code: string;
  readonly bindings: readonly KernelBinding[];
  readonly uniforms: readonly KernelUniform[];
  /** Workgroups to dispatch (x, y, z). */
  readonly dispatch: readonly [number, number, number];
}

/**
 * How the runtime stores a tensor of `dtype` in a buffer: wgslElem's type; f32 for f16/bf16 where
 * WGSL has no such type (computed in f32, rounded to the dtype when read back); and, as WGSL has
 * no 64-bit types, f64 in f32 and u64 in u32 (as i64 in i32): computed with 32-bit precision and
 * range. Uploads check integer range; the compile report says where a model narrows (narrowed()).
 */
export function storageElem(dtype: DType, f16: boolean): KernelBinding['elem'] | undefined {
  const e = wgslElem(dtype, f16);
  if (e) return e;
  switch (dtype) {
    case 'f16': case 'bf16': case 'f64': return 'f32';
    case 'u64': return 'u32';
    default: return undefined;
  }
}

/** True where storageElem keeps fewer bits than the dtype has (64-bit types in 32-bit words). */
export function narrowed(dtype: DType): boolean {
  return dtype === 'f64' || dtype === 'i64' || dtype === 'u64';
}

/** WGSL's name for the storage type of a lathe dtype, or undefined where WGSL has none. */
export function wgslElem(dtype: DType, f16: boolean): KernelBinding['elem'] | undefined {
  switch (dtype) {
    case 'f32': return 'f32';
    case 'f16': return f16 ? 'f16' : undefined;
    case 'i32': case 'i8': case 'i16': case 'bool': case 'u8': case 'i64': return 'i32';
    case 'u32': case 'u16': return 'u32';
    default: return undefined;
  }
}
