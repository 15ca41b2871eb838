// Value types: tensors with (possibly symbolic or unknown) shapes, and ONNX's sequence and
// optional wrappers. Plain immutable data, so immer can edit graphs that hold them.
import type { DType } from './dtype.ts';

/**
 * One dimension: a known size, a named symbol shared across the graph (`batch`, `seq`), or
 * unknown (`null`, printed `?`).
 */
export type Dim = number | string | null;

/** A shape; `null` means even the rank is unknown (printed `f32[*]`). */
export type Shape = readonly Dim[] | null;

export interface TensorType {
  readonly kind: 'tensor';
  readonly dtype: DType;
  readonly shape: Shape;
}
export interface SequenceType {
  readonly kind: 'sequence';
  readonly elem: ValueType;
}
export interface OptionalType {
  readonly kind: 'optional';
  readonly elem: ValueType;
}
export type ValueType = TensorType | SequenceType | OptionalType;

export const tensor = (dtype: DType, shape: Shape): TensorType => ({ kind: 'tensor', dtype, shape });
export const sequenceOf = (elem: ValueType): SequenceType => ({ kind: 'sequence', elem });
export const optionalOf = (elem: ValueType): OptionalType => ({ kind: 'optional', elem });

export function isStaticShape(shape: Shape): shape is readonly number[] {
  return shape !== null && shape.every((d) => typeof d === 'number');
}

/** Number of elements of a static shape. */
export function numElements(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C order) strides of a static shape, in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function dimToString(d: Dim): string {
  return d === null ? '?' : String(d);
}

export function typeToString(t: ValueType): string {
  switch (t.kind) {
    case 'tensor':
      return `${t.dtype}[${t.shape === null ? '*' : t.shape.map(dimToString).join(', ')}]`;
    case 'sequence':
      return `seq<${typeToString(t.elem)}>`;
    case 'optional':
      return `opt<${typeToString(t.elem)}>`;
  }
}

/**
 * Whether two dims can describe the same run-time size: unknown matches anything, a symbol
 * matches any size (it is a run-time quantity), and two known sizes must be equal.
 */
export function dimsCompatible(a: Dim, b: Dim): boolean {
  if (a === null || b === null) return true;
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  return true;
}

/** Whether `a` and `b` can be the type of the same value (used to check declared vs inferred). */
export function typesCompatible(a: ValueType, b: ValueType): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'tensor' && b.kind === 'tensor') {
    if (a.dtype !== b.dtype) return false;
    if (a.shape === null || b.shape === null) return true;
    if (a.shape.length !== b.shape.length) return false;
    return a.shape.every((d, i) => dimsCompatible(d, b.shape![i]!));
  }
  return typesCompatible((a as SequenceType).elem, (b as SequenceType).elem);
}

/**
 * The more precise of two compatible types: known sizes win over symbols, symbols over
 * unknown. Used where a declared type (ONNX value_info) and an inferred one meet.
 */
export function refineType(a: ValueType, b: ValueType): ValueType {
  if (a.kind === 'tensor' && b.kind === 'tensor') {
    if (a.shape === null) return b;
    if (b.shape === null) return a;
    return tensor(a.dtype, a.shape.map((d, i) => refineDim(d, b.shape![i]!)));
  }
  if (a.kind !== 'tensor' && b.kind === a.kind) return { kind: a.kind, elem: refineType(a.elem, b.elem) };
  return a;
}

function refineDim(a: Dim, b: Dim): Dim {
  if (typeof a === 'number') return a;
  if (typeof b === 'number') return b;
  return a ?? b;
}
