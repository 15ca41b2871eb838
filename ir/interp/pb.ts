// ONNX TensorProto files (the input_N.pb / output_N.pb of the ONNX conformance data) ↔ run-time
// tensors. Decoding reuses the importer's TensorProto conversion (raw_data and every typed
// *_data field); encoding always writes raw_data (string tensors: string_data).
import { readFileSync, writeFileSync } from 'node:fs';
import { LatheError } from '../errors.ts';
import { onnxCode } from '../dtype.ts';
import { onnx } from '../onnx/proto.ts';
import { tensorFromProto } from '../onnx/tensor.ts';
import type { Tensor } from './tensor.ts';
import { fromConst, toBytes } from './tensor.ts';

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
