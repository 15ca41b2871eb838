// ONNX TensorProto → ConstTensor. raw_data becomes a view into the decoded model buffer (weights
// are referenced, never copied); the typed repeated fields (float_data, int32_data, ...) are
// packed into raw_data's little-endian layout; external data becomes a lazy file range.
import type { DType } from '../dtype.ts';
import { DTYPES, dtypeFromOnnx } from '../dtype.ts';
import type { ConstTensor, FileRange } from '../tensor-data.ts';
import { expectedBytes } from '../tensor-data.ts';
import { numElements } from '../types.ts';
import { externalRange } from './external-data.ts';
import type { Int64, OnnxTypes, Where } from './proto.ts';
import { bytesToString, fail, onnx, toNumber } from './proto.ts';

export interface TensorContext {
  /** Folder external data is resolved against; undefined when the model came from bytes alone. */
  baseDir?: string;
  /** The file the model bytes were read from, so raw_data views can record where they lie. */
  source?: { path: string; bytes: Uint8Array };
}

/** `what` names the tensor in messages when it has no name of its own (e.g. an attribute's). */
export function tensorFromProto(t: OnnxTypes.ITensorProto, ctx: TensorContext, where: Where, what?: string): ConstTensor {
  const label = t.name ? `tensor '${t.name}'` : (what ?? 'an unnamed tensor');
  const dtype = dtypeFromOnnx(t.dataType ?? 0);
  if (typeof dtype !== 'string') fail('UnsupportedType', `${label} has element type ${dtype.unsupported}`, where);
  const shape = (t.dims ?? []).map(toNumber);
  if (shape.some((d) => d < 0 || !Number.isSafeInteger(d))) {
    fail('TensorDataError', `${label} has invalid dims [${shape.join(', ')}]`, where);
  }
  if (t.segment) fail('UnsupportedType', `${label} is segmented, which lathe does not support`, where);
  const count = numElements(shape);

  if (dtype === 'string') {
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      fail('UnsupportedType', `string ${label} cannot be stored as external data`, where);
    }
    const strings = t.stringData ?? [];
    if (strings.length !== count) {
      fail('TensorDataError', `string ${label} of shape [${shape.join(', ')}] needs ${count} elements but has ${strings.length}`, where);
    }
    return { dtype, shape, data: { kind: 'strings', values: strings.map(bytesToString) } };
  }

  const expected = expectedBytes(dtype, shape);
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    return { dtype, shape, data: externalRange(t, label, expected, ctx.baseDir, where) };
  }
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    if (raw.length !== expected) {
      fail(
        'TensorDataError',
        `${label} (${dtype}[${shape.join(', ')}]) needs ${expected} bytes but raw_data has ${raw.length}`,
        where,
      );
    }
    // Still a view, but a plain Uint8Array: protobufjs hands out Buffers, whose slice() is a view
    // too, which would surprise code that copies with slice().
    const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    return { dtype, shape, data: { kind: 'bytes', bytes, origin: originOf(bytes, ctx.source) } };
  }
  return { dtype, shape, data: { kind: 'bytes', bytes: packTyped(t, dtype, count, label, where) } };
}

/** Which typed field holds a dtype's elements, per onnx.proto, and how many entries it needs. */
function packTyped(t: OnnxTypes.ITensorProto, dtype: DType, count: number, label: string, where: Where): Uint8Array {
  const bits = DTYPES[dtype].bits;
  const field = typedField(dtype);
  const values: readonly (number | Int64)[] =
    field === 'floatData' ? t.floatData ?? [] :
    field === 'doubleData' ? t.doubleData ?? [] :
    field === 'int64Data' ? t.int64Data ?? [] :
    field === 'uint64Data' ? t.uint64Data ?? [] :
    t.int32Data ?? [];
  // 4-bit types: each int32_data entry is one byte holding two elements (first in the low nibble).
  const entries = bits === 4 ? Math.ceil(count / 2) : count;
  if (values.length !== entries) {
    const what = values.length === 0 ? 'has no data' : `has ${values.length} ${snake(field)} entries`;
    fail('TensorDataError', `${label} (${dtype}, ${count} elements) needs ${entries} ${snake(field)} entries but ${what}`, where);
  }
  const width = bits === 4 ? 1 : bits / 8;
  const out = new Uint8Array(entries * width);
  const view = new DataView(out.buffer);
  for (let i = 0; i < entries; i++) {
    const v = values[i]!;
    const at = i * width;
    if (field === 'floatData') view.setFloat32(at, v as number, true);
    else if (field === 'doubleData') view.setFloat64(at, v as number, true);
    else if (width === 8) {
      // Exact 64-bit copy from the Long's halves (a JS number would round above 2^53).
      if (typeof v === 'number') view.setBigInt64(at, BigInt(v), true);
      else {
        view.setUint32(at, v.low >>> 0, true);
        view.setUint32(at + 4, v.high >>> 0, true);
      }
    } else {
      const n = toNumber(v);
      if (width === 4) view.setUint32(at, n >>> 0, true);
      else if (width === 2) view.setUint16(at, n & 0xffff, true);
      else out[at] = n & 0xff;
    }
  }
  return out;
}

type TypedField = 'floatData' | 'doubleData' | 'int32Data' | 'int64Data' | 'uint64Data';

function typedField(dtype: DType): TypedField {
  switch (dtype) {
    case 'f32': return 'floatData';
    case 'f64': return 'doubleData';
    case 'i64': return 'int64Data';
    case 'u32': case 'u64': return 'uint64Data';
    // Everything else (narrow ints, bool, f16/bf16 bit patterns, fp8, 4-bit) lives in int32_data.
    default: return 'int32Data';
  }
}

const snake = (f: TypedField): string =>
  ({ floatData: 'float_data', doubleData: 'double_data', int32Data: 'int32_data', int64Data: 'int64_data', uint64Data: 'uint64_data' })[f];

/** The file range a view into the model buffer came from, if the buffer was read from a file. */
function originOf(view: Uint8Array, source: TensorContext['source']): FileRange | undefined {
  if (!source || view.buffer !== source.bytes.buffer) return undefined;
  const offset = view.byteOffset - source.bytes.byteOffset;
  if (offset < 0 || offset + view.byteLength > source.bytes.byteLength) return undefined;
  return { kind: 'file', path: source.path, offset, length: view.byteLength };
}
