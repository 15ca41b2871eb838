// Shared pieces of the evaluators: shapes and strides, numpy broadcasting as index maps, axes,
// and reading small integer operands (shapes, axes, indices).
import type { DType } from '../../dtype.ts';
import { numElements } from '../../types.ts';
import { evalError } from '../registry.ts';
import type { Data, Tensor } from '../tensor.ts';
import { allocData, makeTensor, toNumbers } from '../tensor.ts';

/** Any element array, indexed generically (data movement works the same for every dtype). */
export type AnyArray = { [i: number]: any; readonly length: number };

import { stridesOf } from '../../types.ts';

export { stridesOf };

export function broadcastShape(shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const d = s[i]!;
      const o = rank - s.length + i;
      if (d === 1) continue;
      if (out[o] === 1) out[o] = d;
      else if (out[o] !== d) throw evalError(`shapes ${shapes.map((x) => `[${x.join(', ')}]`).join(' and ')} do not broadcast`);
    }
  }
  // A 0-sized dim wins over 1 (numpy), handled above since 0 !== 1.
  return out;
}

/**
 * For each element of a tensor of shape `out`, the flat index of the element of a tensor of
 * shape `inp` that numpy broadcasting reads; undefined when `inp` equals `out` (the identity).
 */
export function broadcastIndex(inp: readonly number[], out: readonly number[]): Int32Array | undefined {
  if (inp.length === out.length && inp.every((d, i) => d === out[i])) return undefined;
  const n = numElements(out);
  const idx = new Int32Array(n);
  if (numElements(inp) === 1) return idx; // all zeros
  const rank = out.length;
  // Strides of `inp` laid over `out`'s dims (0 where broadcast).
  const istr = new Array<number>(rank).fill(0);
  const inStrides = stridesOf(inp);
  for (let i = 0; i < inp.length; i++) {
    if (inp[i] !== 1) istr[rank - inp.length + i] = inStrides[i]!;
  }
  // Walk `out` row by row over its last dim with a counter over the leading dims.
  const last = rank - 1;
  const inner = out[last]!;
  const innerStride = istr[last]!;
  const counter = new Array<number>(rank).fill(0);
  let base = 0;
  for (let o = 0; o < n; o += inner) {
    for (let j = 0, p = base; j < inner; j++, p += innerStride) idx[o + j] = p;
    for (let d = last - 1; d >= 0; d--) {
      counter[d]!++;
      base += istr[d]!;
      if (counter[d]! < out[d]!) break;
      base -= istr[d]! * out[d]!;
      counter[d] = 0;
    }
  }
  return idx;
}

/** Copy of a tensor broadcast to `shape` (Expand). */
export function broadcastTo(t: Tensor, shape: readonly number[]): Tensor {
  const idx = broadcastIndex(t.shape, shape);
  if (!idx) return t;
  const out = allocData(t.dtype, idx.length) as AnyArray;
  const src = t.data as AnyArray;
  for (let i = 0; i < idx.length; i++) out[i] = src[idx[i]!];
  return makeTensor(t.dtype, shape, out as Data);
}

export function normAxis(axis: number, rank: number): number {
  if (axis < -rank || axis >= Math.max(rank, 1)) throw evalError(`axis ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

/** Integer operand values (shape, axes, indices) as numbers. */
export function intsOf(t: Tensor): number[] {
  return toNumbers(t);
}

/** Result dtype-preserving copy with a new shape (data shared: tensors are immutable). */
export function reshaped(t: Tensor, shape: readonly number[]): Tensor {
  return makeTensor(t.dtype, shape, t.data);
}

/** Gather elements of `t` at flat indices `idx` into a new tensor of `shape`. */
export function takeFlat(t: Tensor, idx: ArrayLike<number>, shape: readonly number[], dtype: DType = t.dtype): Tensor {
  const out = allocData(dtype, idx.length) as AnyArray;
  const src = t.data as AnyArray;
  for (let i = 0; i < idx.length; i++) out[i] = src[idx[i]!];
  return makeTensor(dtype, shape, out as Data);
}

/** Split a shape around an axis: [outer, axis size, inner]. */
export function aroundAxis(shape: readonly number[], axis: number): [number, number, number] {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  return [outer, shape[axis] ?? 1, inner];
}

/**
 * A general index map: element `c` of the result (c a multi-index over `shape`) reads the source
 * element Σ_d tables[d][c_d]; a -Infinity entry marks "outside the source" and gives -1.
 * Transpose, Slice, Tile and Pad are each one table per dim.
 */
export function tableIndex(shape: readonly number[], tables: readonly Float64Array[]): Int32Array {
  const n = numElements(shape);
  const idx = new Int32Array(n);
  const r = shape.length;
  if (n === 0 || r === 0) return idx;
  const last = tables[r - 1]!;
  const inner = shape[r - 1]!;
  const counter = new Array<number>(r).fill(0);
  for (let o = 0; o < n; o += inner) {
    let base = 0;
    for (let d = 0; d < r - 1; d++) base += tables[d]![counter[d]!]!;
    if (base === -Infinity) idx.fill(-1, o, o + inner);
    else for (let j = 0; j < inner; j++) {
      const v = base + last[j]!;
      idx[o + j] = v === -Infinity ? -1 : v;
    }
    for (let d = r - 2; d >= 0; d--) {
      if (++counter[d]! < shape[d]!) break;
      counter[d] = 0;
    }
  }
  return idx;
}

/** Gather by an index map where -1 reads `fill` (the pad value). */
export function takeOrFill(t: Tensor, idx: Int32Array, shape: readonly number[], fill: unknown): Tensor {
  const out = allocData(t.dtype, idx.length) as AnyArray;
  const src = t.data as AnyArray;
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    out[i] = j < 0 ? fill : src[j];
  }
  return makeTensor(t.dtype, shape, out as Data);
}

/** Copy `len` elements between element arrays of the same kind. */
export function copyRange(dst: Data, dOff: number, src: Data, sOff: number, len: number): void {
  if (Array.isArray(dst)) {
    for (let i = 0; i < len; i++) dst[dOff + i] = (src as string[])[sOff + i]!;
  } else {
    (dst as Float32Array).set((src as Float32Array).subarray(sOff, sOff + len), dOff);
  }
}
