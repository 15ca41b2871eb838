// The leaves of the ONNX exporter: lathe types, tensors and attributes → the plain objects
// onnx-proto's encoder takes. The inverse of types.ts, tensor.ts and attributes.ts, so a model
// that goes out and back in comes back the same.
import { onnxCode } from '../dtype.ts';
import type { Attr, Graph } from '../graph.ts';
import type { ConstTensor } from '../tensor-data.ts';
import { tensorBytes } from '../tensor-data.ts';
import type { Dim, ValueType } from '../types.ts';
import type { OnnxTypes } from './proto.ts';
import { onnx } from './proto.ts';

const T = onnx.AttributeProto.AttributeType;
const utf8 = new TextEncoder();

/** Whether a type is the importer's stand-in for "not typed yet" (see infer.ts PLACEHOLDER). */
export function isPlaceholder(t: ValueType): boolean {
  return (t as { placeholder?: boolean }).placeholder === true;
}

/** TypeProto of a value type. Unknown dims carry neither field; an unknown rank has no shape. */
export function typeToProto(t: ValueType): OnnxTypes.ITypeProto {
  switch (t.kind) {
    case 'tensor': {
      const shape = t.shape === null ? {} : { shape: { dim: t.shape.map(dimToProto) } };
      return { tensorType: { elemType: onnxCode(t.dtype), ...shape } };
    }
    case 'sequence':
      return { sequenceType: { elemType: typeToProto(t.elem) } };
    case 'optional':
      return { optionalType: { elemType: typeToProto(t.elem) } };
  }
}

function dimToProto(d: Dim): OnnxTypes.TensorShapeProto.IDimension {
  if (typeof d === 'number') return { dimValue: d };
  if (typeof d === 'string') return { dimParam: d };
  return {};
}

export function valueInfo(name: string, type: ValueType | undefined): OnnxTypes.IValueInfoProto {
  return type && !isPlaceholder(type) ? { name, type: typeToProto(type) } : { name };
}

/** Where a tensor's bytes go when they are not inline: filled in by the external data writer. */
export type ExternalEntry = { location: string; offset: number; length: number };

/**
 * TensorProto of a constant: raw_data (little-endian, 4-bit types packed two to a byte as ONNX
 * does, which is lathe's layout too), or string_data for strings, or external data entries.
 */
export function tensorToProto(t: ConstTensor, name: string, external?: ExternalEntry): OnnxTypes.ITensorProto {
  const base = { name, dims: [...t.shape], dataType: onnxCode(t.dtype) };
  if (t.data.kind === 'strings') return { ...base, stringData: t.data.values.map((s) => utf8.encode(s)) };
  if (external) {
    const entries = Object.entries(external).map(([key, value]) => ({ key, value: String(value) }));
    return { ...base, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: entries };
  }
  // Reads a FileRange only now, when its bytes are written.
  return { ...base, rawData: tensorBytes(t) };
}

/** int64 attribute values. Sizes such as INT64_MAX (Slice ends) were rounded to 2^63 by the
 * importer; protobufjs would wrap 2^63 to INT64_MIN, so the extremes are written exactly. */
export function int64(n: number): number {
  if (n >= 2 ** 63) return { low: 0xffffffff, high: 0x7fffffff, unsigned: false } as unknown as number;
  if (n <= -(2 ** 63)) return { low: 0, high: 0x80000000 | 0, unsigned: false } as unknown as number;
  return n;
}

/** AttributeProto of an attribute; subgraphs go through the caller's `graph` (the exporter). */
export function attrToProto(
  name: string,
  a: Attr,
  graph: (g: Graph) => OnnxTypes.IGraphProto,
): OnnxTypes.IAttributeProto {
  switch (a.kind) {
    case 'int': return { name, type: T.INT, i: int64(a.value) };
    case 'float': return { name, type: T.FLOAT, f: a.value };
    case 'string': return { name, type: T.STRING, s: utf8.encode(a.value) };
    case 'tensor': return { name, type: T.TENSOR, t: tensorToProto(a.value, '') };
    case 'graph': return { name, type: T.GRAPH, g: graph(a.value) };
    case 'type': return { name, type: T.TYPE_PROTO, tp: typeToProto(a.value) };
    case 'ints': return { name, type: T.INTS, ints: a.value.map(int64) };
    case 'floats': return { name, type: T.FLOATS, floats: [...a.value] };
    case 'strings': return { name, type: T.STRINGS, strings: a.value.map((s) => utf8.encode(s)) };
    case 'tensors': return { name, type: T.TENSORS, tensors: a.value.map((t) => tensorToProto(t, '')) };
    case 'graphs': return { name, type: T.GRAPHS, graphs: a.value.map(graph) };
    case 'types': return { name, type: T.TYPE_PROTOS, typeProtos: a.value.map(typeToProto) };
  }
}
