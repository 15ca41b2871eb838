// ONNX TypeProto → lathe ValueType. Dims: dim_value → number, dim_param → symbol, neither → null.
import { dtypeFromOnnx } from '../dtype.ts';
import type { Dim, ValueType } from '../types.ts';
import { optionalOf, sequenceOf, tensor } from '../types.ts';
import type { OnnxTypes, Where } from './proto.ts';
import { fail, toNumber } from './proto.ts';

type TypeProto = OnnxTypes.ITypeProto;

/**
 * The lathe type of a TypeProto, or undefined when the proto says nothing usable (no type at all,
 * or a tensor with element type UNDEFINED): the caller then leaves the type to inference.
 */
export function valueTypeFromProto(t: TypeProto | null | undefined, where: Where): ValueType | undefined {
  if (!t) return undefined;
  if (t.tensorType) {
    const code = t.tensorType.elemType ?? 0;
    if (code === 0) return undefined;
    const dtype = dtypeFromOnnx(code);
    if (typeof dtype !== 'string') fail('UnsupportedType', `element type ${dtype.unsupported}`, where);
    const shapeProto = t.tensorType.shape;
    // No shape field means the rank is unknown; a shape with no dims is a scalar.
    const shape = shapeProto ? (shapeProto.dim ?? []).map(dimFromProto) : null;
    return tensor(dtype, shape);
  }
  if (t.sequenceType) {
    const elem = valueTypeFromProto(t.sequenceType.elemType, where);
    if (!elem) fail('UnsupportedType', 'a sequence type without a known element type', where);
    return sequenceOf(elem);
  }
  if (t.optionalType) {
    const elem = valueTypeFromProto(t.optionalType.elemType, where);
    if (!elem) fail('UnsupportedType', 'an optional type without a known element type', where);
    return optionalOf(elem);
  }
  if (t.mapType) fail('UnsupportedType', 'map types are not supported by lathe', where);
  if (t.sparseTensorType) fail('UnsupportedType', 'sparse tensor types are not supported by lathe', where);
  return undefined;
}

function dimFromProto(d: OnnxTypes.TensorShapeProto.IDimension): Dim {
  // A oneof: protobufjs leaves the member that was not decoded null. Exporters sometimes write
  // -1 for an unknown size; that is unknown here too.
  if (d.dimParam) return d.dimParam;
  if (d.dimValue !== null && d.dimValue !== undefined) {
    const n = toNumber(d.dimValue);
    return n >= 0 ? n : null;
  }
  return null;
}
