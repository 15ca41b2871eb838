// ONNX AttributeProto → lathe Attr, for every attribute kind. Subgraphs are converted by the
// caller's `graph` function (the importer), so this module stays free of graph logic.
import type { Attr, Graph } from '../graph.ts';
import type { ValueType } from '../types.ts';
import type { OnnxTypes, Where } from './proto.ts';
import { bytesToString, fail, onnx, toNumber } from './proto.ts';
import type { TensorContext } from './tensor.ts';
import { tensorFromProto } from './tensor.ts';
import { valueTypeFromProto } from './types.ts';

const T = onnx.AttributeProto.AttributeType;

export interface AttrContext extends TensorContext {
  /** Convert a subgraph held in attribute `attr`. */
  graph(g: OnnxTypes.IGraphProto, attr: string): Graph;
}

export function attrFromProto(a: OnnxTypes.IAttributeProto, ctx: AttrContext, where: Where): Attr {
  const name = a.name ?? '';
  const what = `attribute '${name}'`;
  if (a.refAttrName) {
    fail(
      'UnsupportedOp',
      `${what} refers to function attribute '${a.refAttrName}'; attribute references belong inside ONNX functions, which lathe does not support yet`,
      where,
    );
  }
  const type = a.type || guessType(a);
  const tensorWhat = `the tensor of ${what}`;
  const typeOf = (tp: OnnxTypes.ITypeProto): ValueType =>
    valueTypeFromProto(tp, where) ?? fail('UnsupportedType', `${what} holds a type with no element type`, where);
  switch (type) {
    case T.INT: return { kind: 'int', value: toNumber(a.i) };
    case T.FLOAT: return { kind: 'float', value: shortestFloat32(a.f ?? 0) };
    case T.STRING: return { kind: 'string', value: bytesToString(a.s) };
    case T.TENSOR:
      if (!a.t) fail('ProtobufError', `${what} is a TENSOR attribute with no tensor`, where);
      return { kind: 'tensor', value: tensorFromProto(a.t, ctx, where, tensorWhat) };
    case T.GRAPH:
      if (!a.g) fail('ProtobufError', `${what} is a GRAPH attribute with no graph`, where);
      return { kind: 'graph', value: ctx.graph(a.g, name) };
    case T.TYPE_PROTO:
      if (!a.tp) fail('ProtobufError', `${what} is a TYPE_PROTO attribute with no type`, where);
      return { kind: 'type', value: typeOf(a.tp) };
    case T.INTS: return { kind: 'ints', value: (a.ints ?? []).map(toNumber) };
    case T.FLOATS: return { kind: 'floats', value: (a.floats ?? []).map(shortestFloat32) };
    case T.STRINGS: return { kind: 'strings', value: (a.strings ?? []).map(bytesToString) };
    case T.TENSORS: return { kind: 'tensors', value: (a.tensors ?? []).map((t) => tensorFromProto(t, ctx, where, tensorWhat)) };
    case T.GRAPHS: return { kind: 'graphs', value: (a.graphs ?? []).map((g) => ctx.graph(g, name)) };
    case T.TYPE_PROTOS: return { kind: 'types', value: (a.typeProtos ?? []).map(typeOf) };
    case T.SPARSE_TENSOR:
    case T.SPARSE_TENSORS:
      return fail('UnsupportedType', `${what} holds a sparse tensor, which lathe does not support`, where);
    default:
      return fail('ProtobufError', `${what} has unknown attribute type ${type}`, where);
  }
}

/** Very old models (IR version 1) leave `type` unset; the populated field tells the kind. */
function guessType(a: OnnxTypes.IAttributeProto): number {
  if (a.t) return T.TENSOR;
  if (a.g) return T.GRAPH;
  if (a.sparseTensor) return T.SPARSE_TENSOR;
  if (a.tp) return T.TYPE_PROTO;
  if (a.floats?.length) return T.FLOATS;
  if (a.ints?.length) return T.INTS;
  if (a.strings?.length) return T.STRINGS;
  if (a.tensors?.length) return T.TENSORS;
  if (a.graphs?.length) return T.GRAPHS;
  if (a.sparseTensors?.length) return T.SPARSE_TENSORS;
  if (a.typeProtos?.length) return T.TYPE_PROTOS;
  if (a.s?.length) return T.STRING;
  if (a.f) return T.FLOAT;
  return T.INT;
}

/**
 * ONNX float attributes are float32. protobufjs widens them to the nearest double (0.1 reads as
 * 0.10000000149011612); keep the shortest decimal that is the same float32, which is what the
 * model's author wrote and what the text form should show.
 */
export function shortestFloat32(x: number): number {
  if (!Number.isFinite(x)) return x;
  for (let p = 1; p <= 9; p++) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === x) return y;
  }
  return x;
}
