// A single serialized ONNX TensorProto (the input_N.pb / output_N.pb files of the ONNX
// conformance data). The contents stay a view into the file's bytes.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { LatheError } from '../errors.ts';
import type { ConstTensor } from '../tensor-data.ts';
import { onnx } from './proto.ts';
import { tensorFromProto } from './tensor.ts';

export function tensorFromProtoBytes(bytes: Uint8Array, opts: { file?: string; baseDir?: string } = {}): ConstTensor {
  let proto;
  try {
    proto = onnx.TensorProto.decode(bytes);
  } catch (e) {
    const subject = opts.file ? `file ${opts.file}` : 'the bytes';
    throw new LatheError('ProtobufError', `${subject} is not a valid ONNX TensorProto: ${(e as Error).message}`);
  }
  return tensorFromProto(proto, { baseDir: opts.baseDir }, { file: opts.file });
}

export function readTensorProtoFile(file: string): ConstTensor {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new LatheError('UsageError', `cannot read tensor file: ${(e as Error).message}`, { file });
  }
  return tensorFromProtoBytes(bytes, { file, baseDir: path.dirname(path.resolve(file)) });
}
