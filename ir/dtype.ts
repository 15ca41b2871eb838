// Element types of lathe's IR: every ONNX tensor element type lathe can hold, plus the packed
// low-bit types the quantization passes produce. Each dtype is declared once in DTYPES; every
// other module looks its facts up here instead of switching on names.

export type DType =
  | 'f64' | 'f32' | 'f16' | 'bf16'
  | 'i8' | 'i16' | 'i32' | 'i64'
  | 'u8' | 'u16' | 'u32' | 'u64'
  | 'bool' | 'string'
  | 'i4' | 'u4' | 'f4e2m1'
  | 'f8e4m3fn' | 'f8e4m3fnuz' | 'f8e5m2' | 'f8e5m2fnuz';

export type DTypeClass = 'float' | 'int' | 'uint' | 'bool' | 'string';

export interface DTypeInfo {
  readonly name: DType;
  /** TensorProto.DataType code. */
  readonly onnx: number;
  readonly cls: DTypeClass;
  /** Storage bits per element (4 for the packed types; 0 for strings, which have no fixed size). */
  readonly bits: number;
}

const table: DTypeInfo[] = [
  { name: 'f32', onnx: 1, cls: 'float', bits: 32 },
  { name: 'u8', onnx: 2, cls: 'uint', bits: 8 },
  { name: 'i8', onnx: 3, cls: 'int', bits: 8 },
  { name: 'u16', onnx: 4, cls: 'uint', bits: 16 },
  { name: 'i16', onnx: 5, cls: 'int', bits: 16 },
  { name: 'i32', onnx: 6, cls: 'int', bits: 32 },
  { name: 'i64', onnx: 7, cls: 'int', bits: 64 },
  { name: 'string', onnx: 8, cls: 'string', bits: 0 },
  { name: 'bool', onnx: 9, cls: 'bool', bits: 8 },
  { name: 'f16', onnx: 10, cls: 'float', bits: 16 },
  { name: 'f64', onnx: 11, cls: 'float', bits: 64 },
  { name: 'u32', onnx: 12, cls: 'uint', bits: 32 },
  { name: 'u64', onnx: 13, cls: 'uint', bits: 64 },
  { name: 'bf16', onnx: 16, cls: 'float', bits: 16 },
  { name: 'f8e4m3fn', onnx: 17, cls: 'float', bits: 8 },
  { name: 'f8e4m3fnuz', onnx: 18, cls: 'float', bits: 8 },
  { name: 'f8e5m2', onnx: 19, cls: 'float', bits: 8 },
  { name: 'f8e5m2fnuz', onnx: 20, cls: 'float', bits: 8 },
  { name: 'u4', onnx: 21, cls: 'uint', bits: 4 },
  { name: 'i4', onnx: 22, cls: 'int', bits: 4 },
  { name: 'f4e2m1', onnx: 23, cls: 'float', bits: 4 },
];

/** ONNX element types that exist but that lathe deliberately does not hold, with the reason. */
const unsupportedOnnx: Record<number, string> = {
  0: 'UNDEFINED (no element type given)',
  14: 'COMPLEX64 (complex tensors are not supported by lathe)',
  15: 'COMPLEX128 (complex tensors are not supported by lathe)',
};

export const DTYPES: Readonly<Record<DType, DTypeInfo>> = Object.fromEntries(
  table.map((info) => [info.name, info]),
) as Record<DType, DTypeInfo>;

const byOnnx = new Map(table.map((info) => [info.onnx, info.name]));

export const ALL_DTYPES: readonly DType[] = table.map((info) => info.name);

export function isDType(name: string): name is DType {
  return Object.prototype.hasOwnProperty.call(DTYPES, name);
}

/** The lathe dtype of an ONNX TensorProto.DataType code, or a reason it cannot be held. */
export function dtypeFromOnnx(code: number): DType | { unsupported: string } {
  const name = byOnnx.get(code);
  if (name) return name;
  return { unsupported: unsupportedOnnx[code] ?? `unknown ONNX data type code ${code}` };
}

export function onnxCode(dtype: DType): number {
  return DTYPES[dtype].onnx;
}

export const isFloat = (d: DType): boolean => DTYPES[d].cls === 'float';
export const isInteger = (d: DType): boolean => DTYPES[d].cls === 'int' || DTYPES[d].cls === 'uint';
export const isSigned = (d: DType): boolean => DTYPES[d].cls === 'int' || DTYPES[d].cls === 'float';
export const isNumeric = (d: DType): boolean => isFloat(d) || isInteger(d);

/** Bytes needed to store `count` elements densely (4-bit types pack two per byte, ONNX order). */
export function byteSize(dtype: DType, count: number): number {
  const bits = DTYPES[dtype].bits;
  if (bits === 0) throw new Error(`byteSize: ${dtype} has no fixed element size`);
  return Math.ceil((count * bits) / 8);
}

/** Type groups used by op signatures (ONNX's T constraints, written once). */
export const FLOATS: readonly DType[] = ['f64', 'f32', 'f16', 'bf16'];
export const INTS: readonly DType[] = ['i8', 'i16', 'i32', 'i64', 'u8', 'u16', 'u32', 'u64'];
export const NUMERIC: readonly DType[] = [...FLOATS, ...INTS];
export const LOW_BIT: readonly DType[] = ['i4', 'u4', 'f4e2m1', 'f8e4m3fn', 'f8e4m3fnuz', 'f8e5m2', 'f8e5m2fnuz'];
