// Builds small ONNX models as bytes with onnx-proto's encoder, for the importer tests.
import { onnx } from '../../ir/onnx/proto.ts';
import type { OnnxTypes } from '../../ir/onnx/proto.ts';

export type Dim = number | string | null;

/** A tensor ValueInfoProto; `dims: null` leaves the shape out (unknown rank). */
export function vi(name: string, elemType: number, dims: Dim[] | null): OnnxTypes.IValueInfoProto {
  const shape = dims && {
    dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})),
  };
  return { name, type: { tensorType: { elemType, ...(shape ? { shape } : {}) } } };
}

export function node(
  opType: string,
  input: string[],
  output: string[],
  extra: Partial<OnnxTypes.INodeProto> = {},
): OnnxTypes.INodeProto {
  return { opType, input, output, ...extra };
}

/** A float32 tensor with raw_data. */
export function f32(name: string, dims: number[], values: number[]): OnnxTypes.ITensorProto {
  const raw = new Uint8Array(new Float32Array(values).buffer);
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: raw };
}

export interface ModelSpec {
  graph: OnnxTypes.IGraphProto;
  opsets?: Record<string, number>;
  irVersion?: number;
  functions?: OnnxTypes.IFunctionProto[];
}

export function modelBytes(spec: ModelSpec): Uint8Array {
  const opsets = spec.opsets ?? { '': 17 };
  return onnx.ModelProto.encode({
    irVersion: spec.irVersion ?? 8,
    producerName: 'lathe-test',
    producerVersion: '1',
    opsetImport: Object.entries(opsets).map(([domain, version]) => ({ domain, version })),
    graph: { name: 'g', ...spec.graph },
    functions: spec.functions ?? [],
  }).finish();
}

/** A model with a single node `op(x) -> y` on f32[2] values (for op/domain/attribute cases). */
export function oneNode(n: OnnxTypes.INodeProto, opsets?: Record<string, number>): Uint8Array {
  const inputs = (n.input ?? []).filter(Boolean).map((name) => vi(name, 1, [2]));
  return modelBytes({
    graph: { input: inputs, node: [n], output: (n.output ?? []).map((o) => vi(o, 1, null)) },
    opsets,
  });
}

export const DT = onnx.TensorProto.DataType;
export const AT = onnx.AttributeProto.AttributeType;
