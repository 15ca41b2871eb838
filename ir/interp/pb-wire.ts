// A minimal protobuf wire-format reader, for the two ONNX messages the onnx-proto package (ONNX
// v1.10 schema) lacks: SequenceProto and OptionalProto, which the conformance data uses for
// sequence and optional inputs and outputs. Their tensors go through the TensorProto decoder.
import { LatheError } from '../errors.ts';

export interface WireField {
  no: number;
  /** Varint value (wire type 0) … */
  int?: number;
  /** … or length-delimited bytes (wire type 2). */
  bytes?: Uint8Array;
}

export function wireFields(buf: Uint8Array, file?: string): WireField[] {
  const out: WireField[] = [];
  let p = 0;
  const bad = (why: string): never => {
    throw new LatheError('ProtobufError', `malformed protobuf: ${why} at byte ${p}`, { file });
  };
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (p >= buf.length) bad('truncated varint');
      const b = buf[p++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  };
  while (p < buf.length) {
    const key = varint();
    const no = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) out.push({ no, int: varint() });
    else if (wire === 2) {
      const len = varint();
      if (p + len > buf.length) bad('field runs past the end');
      out.push({ no, bytes: buf.subarray(p, p + len) });
      p += len;
    } else if (wire === 5) p += 4;
    else if (wire === 1) p += 8;
    else bad(`unexpected wire type ${wire}`);
  }
  return out;
}
