// ONNX TensorProto files (the input_N.pb / output_N.pb of the ONNX conformance data) ↔ run-time
// tensors. Decoding reuses the importer's TensorProto conversion (raw_data and every typed
// *_data field); encoding always writes raw_data (string tensors: string_data).
import { readFileSync, writeFileSync } from 'node:fs';
import { LatheError } from '../errors.ts';
import { onnxCode } from '../dtype.ts';
import { onnx } from '../onnx/proto.ts';
import { tensorFromProto } from '../onnx/tensor.ts';
import type { ValueType } from '../types.ts';
import { wireFields } from './pb-wire.ts';
import type { RuntimeValue, Sequence, Tensor } from './tensor.ts';
import { fromBytes, fromConst, toBytes } from './tensor.ts';

export interface NamedTensor {
  /** The TensorProto's name ('' when it has none). */
  name: string;
  tensor: Tensor;
}

export function decodeTensorPb(bytes: Uint8Array, file?: string): NamedTensor {
  let proto: ReturnType<typeof onnx.TensorProto.decode>;
  try {
    proto = onnx.TensorProto.decode(bytes);
  } catch (e) {
    throw new LatheError('ProtobufError', `not a TensorProto: ${(e as Error).message}`, { file });
  }
  const c = tensorFromProto(proto, {}, { file }, 'tensor');
  return { name: proto.name ?? '', tensor: fromConst(c) };
}

export function readTensorPb(file: string): NamedTensor {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new LatheError('UsageError', `cannot read tensor file: ${(e as Error).message}`, { file });
  }
  return decodeTensorPb(bytes, file);
}

export function encodeTensorPb(t: Tensor, name = ''): Uint8Array {
  const message: Record<string, unknown> = { name, dims: [...t.shape], dataType: onnxCode(t.dtype) };
  if (t.dtype === 'string') message.stringData = (t.data as string[]).map((s) => new TextEncoder().encode(s));
  else message.rawData = toBytes(t);
  return onnx.TensorProto.encode(message).finish();
}

export function writeTensorPb(file: string, t: Tensor, name = ''): void {
  writeFileSync(file, encodeTensorPb(t, name));
}

/**
 * A value file of the type the model declares: TensorProto for tensors, SequenceProto (field 3:
 * tensor_values) for sequences, OptionalProto (3: tensor_value, 5: sequence_value) for optionals.
 * ONNX's test generator (numpy has no bfloat16) wrote bf16 data as UINT16 bit patterns; such a
 * tensor is read as bf16 where bf16 is declared.
 */
export function decodeValuePb(bytes: Uint8Array, type: ValueType, file?: string): RuntimeValue {
  if (type.kind === 'sequence') {
    const items = wireFields(bytes, file)
      .filter((f) => f.no === 3 && f.bytes)
      .map((f) => decodeValuePb(f.bytes!, type.elem, file) as Tensor);
    const dtype = type.elem.kind === 'tensor' ? type.elem.dtype : 'f32';
    return { kind: 'sequence', dtype, items };
  }
  if (type.kind === 'optional') {
    for (const f of wireFields(bytes, file)) {
      if (f.no === 3 && f.bytes && type.elem.kind === 'tensor') return { kind: 'optional', value: decodeValuePb(f.bytes, type.elem, file) as Tensor };
      if (f.no === 5 && f.bytes && type.elem.kind === 'sequence') return { kind: 'optional', value: decodeValuePb(f.bytes, type.elem, file) as Sequence };
    }
    return { kind: 'optional', value: undefined };
  }
  const t = decodeTensorPb(bytes, file).tensor;
  if (t.dtype === 'u16' && type.dtype === 'bf16') return fromBytes('bf16', t.shape, toBytes(t));
  return t;
}

export function readValuePb(file: string, type: ValueType): RuntimeValue {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new LatheError('UsageError', `cannot read value file: ${(e as Error).message}`, { file });
  }
  return decodeValuePb(bytes, type, file);
}
