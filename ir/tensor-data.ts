// Constant tensor contents. Weights are referenced, never copied: a constant either holds a view
// into bytes already in memory (e.g. the decoded model buffer) or a byte range of a file that is
// read only when someone asks for the bytes.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { DType } from './dtype.ts';
import { byteSize } from './dtype.ts';
import { numElements } from './types.ts';
import { LatheError } from './errors.ts';

/** Bytes in memory, little-endian, densely packed in the dtype's layout (ONNX raw_data layout). */
export interface InlineBytes {
  readonly kind: 'bytes';
  readonly bytes: Uint8Array;
  /**
   * Where these same bytes also lie on disk (an ONNX file's raw_data), so a text dump can refer
   * to them instead of copying them.
   */
  readonly origin?: FileRange;
}
/** A string tensor's elements. */
export interface StringElements {
  readonly kind: 'strings';
  readonly values: readonly string[];
}
/** A byte range of a file on disk, loaded lazily (ONNX external data, a .lir weight sidecar). */
export interface FileRange {
  readonly kind: 'file';
  /** Absolute path of the file. */
  readonly path: string;
  readonly offset: number;
  readonly length: number;
}
export type TensorData = InlineBytes | StringElements | FileRange;

/** A constant tensor value: its element type, static shape and where its contents live. */
export interface ConstTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** Bytes a constant of this dtype and shape must have. */
export function expectedBytes(dtype: DType, shape: readonly number[]): number {
  return byteSize(dtype, numElements(shape));
}

// Lazily loaded file ranges are cached weakly: the same range read twice shares one buffer, and
// nothing is kept alive on lathe's behalf once no one holds the bytes.
const fileCache = new Map<string, WeakRef<Uint8Array>>();

/** The bytes of a constant (not for string tensors). Reads file ranges on first use. */
export function tensorBytes(t: ConstTensor): Uint8Array {
  const d = t.data;
  if (d.kind === 'bytes') return d.bytes;
  if (d.kind === 'strings') throw new LatheError('TensorDataError', `a string tensor has no byte contents`);
  const key = `${d.path}\0${d.offset}\0${d.length}`;
  const cached = fileCache.get(key)?.deref();
  if (cached) return cached;
  const bytes = readFileRange(d);
  fileCache.set(key, new WeakRef(bytes));
  return bytes;
}

export function readFileRange(r: FileRange): Uint8Array {
  let fd: number;
  try {
    fd = openSync(r.path, 'r');
  } catch (e) {
    throw new LatheError('ExternalDataError', `cannot open weight file ${r.path}: ${(e as Error).message}`);
  }
  try {
    const size = statSync(r.path).size;
    if (r.offset + r.length > size) {
      throw new LatheError(
        'ExternalDataError',
        `weight file ${r.path} has ${size} bytes but a tensor needs bytes ${r.offset}..${r.offset + r.length}`,
      );
    }
    const out = new Uint8Array(r.length);
    let done = 0;
    while (done < r.length) {
      const n = readSync(fd, out, done, r.length - done, r.offset + done);
      if (n === 0) break;
      done += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** Whether the contents are already in memory (printing inline is then cheap). */
export function isInMemory(t: ConstTensor): boolean {
  return t.data.kind !== 'file';
}

/**
 * A constant from plain numbers, for graphs written in code. Covers the dtypes with a JS typed
 * array; other dtypes (f16, bf16, fp8, 4-bit) are built from their raw bytes with `fromBytes`.
 */
export function constTensor(dtype: DType, shape: readonly number[], values: ArrayLike<number>): ConstTensor {
  const n = numElements(shape);
  if (values.length !== n) {
    throw new LatheError('TensorDataError', `constTensor: shape [${shape.join(', ')}] needs ${n} values, got ${values.length}`);
  }
  const bytes = new Uint8Array(expectedBytes(dtype, shape));
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    switch (dtype) {
      case 'f32': view.setFloat32(i * 4, v, true); break;
      case 'f64': view.setFloat64(i * 8, v, true); break;
      case 'i8': view.setInt8(i, v); break;
      case 'u8': case 'bool': view.setUint8(i, v); break;
      case 'i16': view.setInt16(i * 2, v, true); break;
      case 'u16': view.setUint16(i * 2, v, true); break;
      case 'i32': view.setInt32(i * 4, v, true); break;
      case 'u32': view.setUint32(i * 4, v, true); break;
      case 'i64': view.setBigInt64(i * 8, BigInt(v), true); break;
      case 'u64': view.setBigUint64(i * 8, BigInt(v), true); break;
      default:
        throw new LatheError('UnsupportedType', `constTensor: build ${dtype} constants from raw bytes with fromBytes`);
    }
  }
  return { dtype, shape, data: { kind: 'bytes', bytes } };
}

export function fromBytes(dtype: DType, shape: readonly number[], bytes: Uint8Array): ConstTensor {
  return { dtype, shape, data: { kind: 'bytes', bytes } };
}
