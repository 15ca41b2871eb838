// Helpers shared by the shape, data-movement, indexing and control-flow op declarations:
// reading constant contents, symbolic dim arithmetic, and merging the types two control-flow
// paths produce.
import type { DType } from '../dtype.ts';
import type { InferContext } from '../op.ts';
import type { ConstTensor } from '../tensor-data.ts';
import { tensorBytes } from '../tensor-data.ts';
import type { Dim, Shape, TensorType, ValueType } from '../types.ts';
import { tensor, typeToString } from '../types.ts';

export const INDEX: readonly DType[] = ['i32', 'i64'];

/** Larger than any real dim; ONNX writes INT64_MAX/MIN as "to the end" in Slice and Shape. */
export const HUGE = 2 ** 53;

/** The most elements we track as shape values (keeps propagation cheap). */
export const MAX_VALUES = 64;

/** Elements of a constant as numbers (i64 via Number, so INT64_MAX is ~9.22e18); undefined for strings/low-bit. */
export function readNumbers(t: ConstTensor): number[] | undefined {
  if (t.data.kind === 'strings') return undefined;
  const n = t.shape.reduce((a, b) => a * b, 1);
  const b = tensorBytes(t);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const read: ((i: number) => number) | undefined = ({
    f32: (i) => v.getFloat32(i * 4, true),
    f64: (i) => v.getFloat64(i * 8, true),
    f16: (i) => half(v.getUint16(i * 2, true)),
    bf16: (i) => new Float32Array(new Uint32Array([v.getUint16(i * 2, true) << 16]).buffer)[0]!,
    i8: (i) => v.getInt8(i),
    u8: (i) => v.getUint8(i),
    bool: (i) => v.getUint8(i),
    i16: (i) => v.getInt16(i * 2, true),
    u16: (i) => v.getUint16(i * 2, true),
    i32: (i) => v.getInt32(i * 4, true),
    u32: (i) => v.getUint32(i * 4, true),
    i64: (i) => Number(v.getBigInt64(i * 8, true)),
    u64: (i) => Number(v.getBigUint64(i * 8, true)),
  } as Partial<Record<DType, (i: number) => number>>)[t.dtype];
  if (!read || b.byteLength < n * (DTYPE_BYTES[t.dtype] ?? 0)) return undefined;
  return Array.from({ length: n }, (_, i) => read(i));
}

const DTYPE_BYTES: Partial<Record<DType, number>> = {
  f32: 4, f64: 8, f16: 2, bf16: 2, i8: 1, u8: 1, bool: 1, i16: 2, u16: 2, i32: 4, u32: 4, i64: 8, u64: 8,
};

function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/**
 * Known contents of operand i: shape values first (they carry symbols), else the numbers of a
 * constant. Undefined when the operand is absent or nothing is known.
 */
export function knownValues(ctx: InferContext, i: number): readonly Dim[] | undefined {
  if (!ctx.has(i)) return undefined;
  const v = ctx.values(i);
  if (v) return v;
  const c = ctx.constant(i);
  return c ? readNumbers(c) : undefined;
}

/** Like knownValues, but only when every element is a known number. */
export function knownNumbers(ctx: InferContext, i: number): number[] | undefined {
  const v = knownValues(ctx, i);
  return v && v.every((x): x is number => typeof x === 'number') ? [...v] : undefined;
}

/** The length of 1-D operand i when its shape says so (for "we know how many, not which"). */
export function knownLength(ctx: InferContext, i: number): number | undefined {
  const s = ctx.tensor(i).shape;
  if (s === null) return undefined;
  if (s.length === 0) return 1;
  return typeof s[0] === 'number' ? s[0] : undefined;
}

/** Values are only worth tracking for small integer results. */
export function smallInt(ctx: InferContext, dtype: DType, vals: readonly Dim[] | undefined): readonly Dim[] | undefined {
  if (!vals || vals.length > MAX_VALUES) return undefined;
  return dtype === 'i64' || dtype === 'i32' ? vals : undefined;
}

export function dimMul(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  if (a === 1) return b;
  if (b === 1) return a;
  if (a === 0 || b === 0) return 0;
  return null;
}

export function dimAdd(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (a === 0) return b;
  if (b === 0) return a;
  return null;
}

export function dimsProduct(dims: readonly Dim[]): Dim {
  return dims.reduce<Dim>((p, d) => dimMul(p, d), 1);
}

/**
 * Two dims that must be equal (Concat's other axes, Where's operands): a known size wins, then
 * a symbol; two different known sizes fail.
 */
export function unifyDim(ctx: InferContext, a: Dim, b: Dim, what: string): Dim {
  if (typeof a === 'number' && typeof b === 'number' && a !== b) ctx.fail(`${what}: dims ${a} and ${b} differ`);
  if (typeof a === 'number') return a;
  if (typeof b === 'number') return b;
  return a ?? b;
}

/** The common type of two paths (If branches, loop iterations): dims kept where they agree. */
export function mergeTypes(ctx: InferContext, a: ValueType, b: ValueType, what: string): ValueType {
  if (a.kind !== b.kind) ctx.fail(`${what}: ${typeToString(a)} and ${typeToString(b)} differ in kind`);
  if (a.kind === 'tensor' && b.kind === 'tensor') {
    if (a.dtype !== b.dtype) ctx.fail(`${what}: dtypes ${a.dtype} and ${b.dtype} differ`);
    return tensor(a.dtype, mergeShapes(a.shape, b.shape));
  }
  return { kind: a.kind, elem: mergeTypes(ctx, (a as { elem: ValueType }).elem, (b as { elem: ValueType }).elem, what) } as ValueType;
}

export function mergeShapes(a: Shape, b: Shape): Shape {
  if (a === null || b === null || a.length !== b.length) return null;
  return a.map((d, i) => (d === b[i] ? d : null));
}

/** Operand i as a tensor with a known rank; fails naming `what` otherwise. */
export function ranked(ctx: InferContext, i: number, what: string): { t: TensorType; shape: readonly Dim[] } {
  const t = ctx.tensor(i);
  if (t.shape === null) ctx.fail(`${what} must have a known rank`);
  return { t, shape: t.shape };
}

/** Normalise a list of axes against `rank`, rejecting duplicates. */
export function normalizeAxes(ctx: InferContext, axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => {
    if (a < -rank || a >= rank) ctx.fail(`axis ${a} is out of range for rank ${rank}`);
    return a < 0 ? a + rank : a;
  });
  if (new Set(out).size !== out.length) ctx.fail(`axes [${axes.join(', ')}] repeat an axis`);
  return out;
}

/** A shape of `rank` unknown dims, or unknown rank. */
export function unknownDims(rank: number | undefined): Shape {
  return rank === undefined ? null : Array.from({ length: rank }, () => null);
}

/**
 * A list that was an `ints` attribute before opset `inputFrom` and operand i from it on. The
 * opset decides which form is legal; the other form is a clear error.
 */
export function attrOrInput(
  ctx: InferContext,
  attrName: string,
  i: number,
  inputFrom: number,
): { present: boolean; values: readonly Dim[] | undefined } {
  const a = ctx.attr(attrName);
  if (ctx.opset < inputFrom) {
    if (ctx.has(i)) ctx.fail(`operand ${i} (${attrName}) exists from opset ${inputFrom}; at opset ${ctx.opset} use the attribute`);
    return { present: a !== undefined, values: a ? ctx.ints(attrName) : undefined };
  }
  if (a) ctx.fail(`attribute '${attrName}' became operand ${i} at opset ${inputFrom}; this model is at opset ${ctx.opset}`);
  return { present: ctx.has(i), values: knownValues(ctx, i) };
}
