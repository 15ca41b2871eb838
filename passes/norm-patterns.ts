// Pieces shared by recognize-layernorm and recognize-rmsnorm: the ReduceMean forms (axes as an
// attribute before opset 18, an operand from 18) and the checks that make a fusion exact.
import type { Node } from '../ir/graph.ts';
import { tensorFrom, toConst } from '../ir/interp/tensor.ts';
import { shortestFloat32 } from '../ir/onnx/attributes.ts';
import type { TensorType } from '../ir/types.ts';
import type { OpPatternOptions, Pattern, RewriteBuilder } from './rewrite.ts';
import { constValues, isConst, oneOf, op } from './rewrite.ts';

/** ReduceMean(v) or ReduceMean(v, axes), captured as `capture`. */
export function reduceMean(v: Pattern, capture: string): Pattern {
  const o: OpPatternOptions = { capture };
  return oneOf(op('ReduceMean', [v], o), op('ReduceMean', [v, isConst()], o));
}

/**
 * The first normalized axis when both ReduceMeans reduce the same trailing axes [k, rank) with
 * keepdims, else undefined.
 */
export function trailingAxis(b: RewriteBuilder, x: TensorType | undefined, means: readonly Node[]): number | undefined {
  const rank = x?.shape?.length;
  if (rank === undefined || rank === 0) return undefined;
  let first: number | undefined;
  for (const n of means) {
    const keep = n.attrs.keepdims;
    if (keep && keep.kind === 'int' && keep.value === 0) return undefined;
    const a = n.attrs.axes;
    let axes: number[] | undefined;
    if (a?.kind === 'ints') axes = [...a.value];
    else if (n.inputs[1]) axes = constValues(b.constant(n.inputs[1]) ?? { dtype: 'string', shape: [], data: { kind: 'strings', values: [] } });
    if (!axes || axes.length === 0) return undefined; // empty: every axis (or none); not a row norm
    const norm = axes.map((v) => (v < 0 ? v + rank : v)).sort((p, q) => p - q);
    if (norm.some((v, i) => v !== norm[0]! + i) || norm[norm.length - 1] !== rank - 1) return undefined;
    if (first !== undefined && first !== norm[0]) return undefined;
    first = norm[0];
  }
  return first;
}

/**
 * Whether `p` (a scale or bias) broadcasts onto the normalized dims [axis, rank) of `x` without
 * growing x: static dims, at most as many as normalized, each 1 or equal to x's dim.
 */
export function fitsNormalized(p: TensorType | undefined, x: TensorType, axis: number): boolean {
  if (!p || p.dtype !== x.dtype || !p.shape || !x.shape) return false;
  const norm = x.shape.slice(axis);
  if (p.shape.length > norm.length) return false;
  return p.shape.every((d, i) => {
    const t = norm[norm.length - p.shape!.length + i];
    return typeof d === 'number' && (d === 1 || d === t);
  });
}

/** The single float value of a constant scalar (ε), else undefined. */
export function scalarValue(b: RewriteBuilder, name: string): number | undefined {
  const c = b.constant(name);
  if (!c) return undefined;
  const v = constValues(c);
  // Float attributes are f32 in ONNX; keep the shortest decimal that is the same f32, as the
  // importer does, so `1e-5` prints as 0.00001.
  return v && v.length === 1 ? shortestFloat32(v[0]!) : undefined;
}

/** A constant of ones over the normalized dims (static dims only), for a norm with no scale. */
export function onesScale(b: RewriteBuilder, x: TensorType, axis: number): string | undefined {
  const dims = x.shape!.slice(axis);
  if (!dims.every((d): d is number => typeof d === 'number')) return undefined;
  const n = dims.reduce((p, q) => p * q, 1);
  return b.newConstant(toConst(tensorFrom(x.dtype, dims, new Array<number>(n).fill(1))), 'ones');
}
