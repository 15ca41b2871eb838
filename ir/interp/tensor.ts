// The interpreter's run-time values. A tensor is { dtype, shape, data } with data in the JS typed
// array that holds its elements exactly:
//   f64 Float64Array · f32 Float32Array · i8/u8/i16/u16/i32/u32 their typed arrays · bool Uint8Array
//   i64 BigInt64Array · u64 BigUint64Array (exact beyond 2^53; ops on them use BigInt arithmetic)
//   f16 bf16 fp8 fp4: Float32Array whose every element is exactly representable in the dtype
//     (each op computes in f32/f64 and rounds its result to the dtype, as ONNX Runtime does)
//   i4/u4: Int8Array/Uint8Array, one element per entry (unpacked) · string: string[]
// Data is never mutated once a tensor is handed out: evaluators allocate their results, so values
// (and constants viewed straight from the model's bytes) can be shared freely.
import type { DType } from '../dtype.ts';
import { DTYPES, byteSize } from '../dtype.ts';
import { LatheError } from '../errors.ts';
import type { ConstTensor } from '../tensor-data.ts';
import { tensorBytes } from '../tensor-data.ts';
import { numElements } from '../types.ts';
import { decodeTable, encodeBits, narrowFormat, roundArray } from './float.ts';

export type NumArray = Float64Array | Float32Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;
export type BigArray = BigInt64Array | BigUint64Array;
export type Data = NumArray | BigArray | string[];

export interface Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Data;
}
export interface Sequence {
  readonly kind: 'sequence';
  /** Element dtype, so an empty sequence still has a type. */
  readonly dtype: DType;
  readonly items: readonly Tensor[];
}
export interface Optional {
  readonly kind: 'optional';
  readonly value: Tensor | Sequence | undefined;
}
export type RuntimeValue = Tensor | Sequence | Optional;

export function isTensor(v: RuntimeValue | undefined): v is Tensor {
  return v !== undefined && !('kind' in v);
}

/** A zero-filled array for `n` elements of `dtype`. */
export function allocData(dtype: DType, n: number): Data {
  switch (dtype) {
    case 'f64': return new Float64Array(n);
    case 'i8': case 'i4': return new Int8Array(n);
    case 'u8': case 'u4': case 'bool': return new Uint8Array(n);
    case 'i16': return new Int16Array(n);
    case 'u16': return new Uint16Array(n);
    case 'i32': return new Int32Array(n);
    case 'u32': return new Uint32Array(n);
    case 'i64': return new BigInt64Array(n);
    case 'u64': return new BigUint64Array(n);
    case 'string': return new Array<string>(n).fill('');
    default: return new Float32Array(n); // f32 and the narrow floats
  }
}

export function makeTensor(dtype: DType, shape: readonly number[], data?: Data): Tensor {
  const n = numElements(shape);
  const d = data ?? allocData(dtype, n);
  if (d.length !== n) {
    throw new LatheError('TensorDataError', `a ${dtype}[${shape.join(', ')}] tensor needs ${n} elements, got ${d.length}`);
  }
  return { dtype, shape: [...shape], data: d };
}

/** A tensor from plain JS values (numbers, bigints or strings), rounded to the dtype. */
export function tensorFrom(dtype: DType, shape: readonly number[], values: ArrayLike<number | bigint | string>): Tensor {
  const t = makeTensor(dtype, shape);
  const d = t.data as unknown as { [i: number]: unknown };
  const big = isBigDType(dtype);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    d[i] = dtype === 'string' ? String(v) : big ? BigInt(v) : dtype === 'bool' ? (v ? 1 : 0) : Number(v);
  }
  return roundTo(t);
}

export const isBigDType = (d: DType): boolean => d === 'i64' || d === 'u64';

/** Round a freshly computed narrow-float tensor to its dtype in place (no-op for other dtypes). */
export function roundTo<T extends Tensor>(t: T, saturate = false): T {
  const f = narrowFormat(t.dtype);
  if (f) roundArray(t.data as Float32Array, f, saturate);
  return t;
}

export function size(t: Tensor): number {
  return t.data.length;
}

/** Elements as JS numbers (i64 beyond 2^53 rounds; use for indices, shapes and float math). */
export function toNumbers(t: Tensor): number[] {
  const out = new Array<number>(t.data.length);
  const d = t.data;
  for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  return out;
}

/** Elements as a Float64Array (float math on any numeric dtype). */
export function toF64(t: Tensor): Float64Array {
  if (t.data instanceof Float64Array) return t.data;
  if (Array.isArray(t.data)) throw new LatheError('UnsupportedType', 'a string tensor has no numeric value');
  const out = new Float64Array(t.data.length);
  const d = t.data;
  for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  return out;
}

/** The single element of a one-element tensor, as a number. */
export function scalarOf(t: Tensor): number {
  if (t.data.length !== 1) throw new LatheError('ShapeError', `expected one element, got shape [${t.shape.join(', ')}]`);
  return Number(t.data[0]);
}

// ---- ConstTensor (raw little-endian bytes) ↔ run-time tensor ----

/** The run-time tensor of a constant. Aligned f32/f64/int data is viewed, not copied. */
export function fromConst(c: ConstTensor): Tensor {
  if (c.data.kind === 'strings') return makeTensor('string', c.shape, [...c.data.values]);
  return fromBytes(c.dtype, c.shape, tensorBytes(c));
}

/** Decode raw little-endian bytes (ONNX raw_data layout; 4-bit types packed low nibble first). */
export function fromBytes(dtype: DType, shape: readonly number[], bytes: Uint8Array): Tensor {
  const n = numElements(shape);
  if (dtype === 'string') throw new LatheError('UnsupportedType', 'string tensors have no byte layout');
  const need = byteSize(dtype, n);
  if (bytes.length < need) {
    throw new LatheError('TensorDataError', `${dtype}[${shape.join(', ')}] needs ${need} bytes, got ${bytes.length}`);
  }
  const f = narrowFormat(dtype);
  const bits = DTYPES[dtype].bits;
  if (bits === 4) {
    const out = allocData(dtype, n) as Int8Array | Uint8Array | Float32Array;
    const table = f ? decodeTable(f) : undefined;
    for (let i = 0; i < n; i++) {
      const nib = (bytes[i >> 1]! >> ((i & 1) * 4)) & 0xf;
      out[i] = table ? table[nib]! : dtype === 'i4' ? (nib << 28) >> 28 : nib;
    }
    return makeTensor(dtype, shape, out);
  }
  if (f) {
    const table = decodeTable(f);
    const out = new Float32Array(n);
    if (bits === 8) for (let i = 0; i < n; i++) out[i] = table[bytes[i]!]!;
    else for (let i = 0; i < n; i++) out[i] = table[bytes[2 * i]! | (bytes[2 * i + 1]! << 8)]!;
    return makeTensor(dtype, shape, out);
  }
  const width = bits / 8;
  // Typed arrays need aligned offsets; copy when the view would be misaligned.
  const aligned = bytes.byteOffset % width === 0 ? bytes : bytes.slice(0, need);
  const buf = aligned.buffer;
  const off = aligned.byteOffset;
  let data: Data;
  switch (dtype) {
    case 'f32': data = new Float32Array(buf, off, n); break;
    case 'f64': data = new Float64Array(buf, off, n); break;
    case 'i8': data = new Int8Array(buf, off, n); break;
    case 'u8': case 'bool': data = new Uint8Array(buf, off, n); break;
    case 'i16': data = new Int16Array(buf, off, n); break;
    case 'u16': data = new Uint16Array(buf, off, n); break;
    case 'i32': data = new Int32Array(buf, off, n); break;
    case 'u32': data = new Uint32Array(buf, off, n); break;
    case 'i64': data = new BigInt64Array(buf, off, n); break;
    case 'u64': data = new BigUint64Array(buf, off, n); break;
    default: throw new LatheError('UnsupportedType', `cannot decode ${dtype}`);
  }
  return makeTensor(dtype, shape, data);
}

/** Raw little-endian bytes of a tensor (the inverse of fromBytes; not for strings). */
export function toBytes(t: Tensor): Uint8Array {
  const { dtype, data } = t;
  if (Array.isArray(data)) throw new LatheError('UnsupportedType', 'string tensors have no byte layout');
  const n = data.length;
  const f = narrowFormat(dtype);
  const bits = DTYPES[dtype].bits;
  const out = new Uint8Array(byteSize(dtype, n));
  if (bits === 4) {
    for (let i = 0; i < n; i++) {
      const nib = f ? encodeBits(Number(data[i]), f) : Number(data[i]) & 0xf;
      out[i >> 1]! |= nib << ((i & 1) * 4);
    }
    return out;
  }
  if (f) {
    for (let i = 0; i < n; i++) {
      const b = encodeBits(Number(data[i]), f);
      if (bits === 8) out[i] = b;
      else {
        out[2 * i] = b & 0xff;
        out[2 * i + 1] = b >> 8;
      }
    }
    return out;
  }
  // Typed arrays are little-endian on every platform Node runs on.
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return out;
}

/** A ConstTensor holding a copy of a run-time tensor (e.g. to fold it into a graph). */
export function toConst(t: Tensor): ConstTensor {
  if (t.dtype === 'string') return { dtype: 'string', shape: t.shape, data: { kind: 'strings', values: [...(t.data as string[])] } };
  return { dtype: t.dtype, shape: t.shape, data: { kind: 'bytes', bytes: toBytes(t) } };
}

export function describe(v: RuntimeValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (isTensor(v)) return `${v.dtype}[${v.shape.join(', ')}]`;
  if (v.kind === 'sequence') return `seq<${v.dtype}> of ${v.items.length}`;
  return v.value === undefined ? 'empty optional' : `opt<${describe(v.value)}>`;
}
