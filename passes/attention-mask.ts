// Recognising causal masks without running the graph. Exports build the causal mask in many
// ways: a sliced lower-triangular buffer (GPT-2: `mask[:, :, :t, :t]`), Trilu of ones, an
// upper-triangular −inf constant, `(1 − tril) · −1e9`, each possibly negated, cast or unsqueezed.
// All of them are tensors whose last two axes hold one value on and below a diagonal and another
// above it, the same for every leading index. `triOf` computes that description (a `Tri`) by
// abstract interpretation over the ops that build such masks; anything it does not know gives
// undefined, and the mask is then kept as an ordinary mask operand (still correct, just slower).
import { isFloat } from '../ir/dtype.ts';
import type { Node } from '../ir/graph.ts';
import type { Dim } from '../ir/types.ts';
import type { GraphView } from './attention-view.ts';
import { isOnnx, sameDim, scalarConstant } from './attention-view.ts';

/**
 * Element (…, i, j) is `lo` where j − i ≤ k and `hi` where j − i > k; bools are 0/1. A tensor
 * with one value everywhere (a scalar, ones) is uniform: lo === hi, and k means nothing.
 */
export interface Tri {
  readonly k: number;
  readonly lo: number;
  readonly hi: number;
}

const same = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));
export const isUniform = (t: Tri) => same(t.lo, t.hi);
const uniform = (v: number): Tri => ({ k: 0, lo: v, hi: v });

/** The Tri of a constant's elements, or undefined when they do not form one. */
function constantTri(shape: readonly number[], data: Float64Array): Tri | undefined {
  if (data.length === 0) return undefined;
  if (data.every((x) => same(x, data[0]!))) return uniform(data[0]!);
  const r = shape.length;
  // A single row or column would be broadcast along that axis, where j − i no longer holds.
  if (r < 2 || shape[r - 2]! < 2 || shape[r - 1]! < 2) return undefined;
  const R = shape[r - 2]!;
  const C = shape[r - 1]!;
  // v(d) for each diagonal d = j − i ∈ [−(R−1), C−1], read from the first matrix.
  const diag = (d: number) => (d >= 0 ? data[d]! : data[-d * C]!);
  for (let m = 0; m < data.length; m += R * C) {
    for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) if (!same(data[m + i * C + j]!, diag(j - i))) return undefined;
  }
  // One step along the diagonals, from lo to hi.
  const lo = diag(-(R - 1));
  let k = -R;
  for (let d = -(R - 1); d < C && same(diag(d), lo); d++) k = d;
  const hi = diag(k + 1);
  for (let d = k + 1; d < C; d++) if (!same(diag(d), hi)) return undefined;
  return { k, lo, hi };
}

/** The last two dims of a value's type. */
function last2(view: GraphView, name: string): [Dim, Dim] | undefined {
  const s = view.shape(name);
  return s && s.length >= 2 ? [s[s.length - 2]!, s[s.length - 1]!] : undefined;
}

/** Whether `operand` reaches `result` with its last two axes unbroadcast (so j − i still holds). */
function keepsLast2(view: GraphView, operand: string, result: string): boolean {
  const a = last2(view, operand);
  const b = last2(view, result);
  return !!a && !!b && sameDim(a[0], b[0]) && sameDim(a[1], b[1]);
}

/** Combine Tris elementwise; non-uniform ones must share their diagonal and keep their axes. */
function combine(view: GraphView, n: Node, operands: readonly (Tri | undefined)[], f: (...xs: number[]) => number): Tri | undefined {
  if (operands.some((t) => t === undefined)) return undefined;
  const ts = operands as Tri[];
  const out = n.outputs[0]!.name;
  let k: number | undefined;
  for (let i = 0; i < ts.length; i++) {
    if (isUniform(ts[i]!)) continue;
    if (k !== undefined && k !== ts[i]!.k) return undefined;
    if (ts.length > 1 && !keepsLast2(view, n.inputs[i]!, out)) return undefined;
    k = ts[i]!.k;
  }
  const lo = f(...ts.map((t) => t.lo));
  const hi = f(...ts.map((t) => t.hi));
  return same(lo, hi) ? uniform(lo) : { k: k ?? 0, lo, hi };
}

const bool = (x: boolean) => (x ? 1 : 0);
const BINARY: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Max: Math.max,
  Min: Math.min,
  Equal: (a, b) => bool(a === b),
  Less: (a, b) => bool(a < b),
  LessOrEqual: (a, b) => bool(a <= b),
  Greater: (a, b) => bool(a > b),
  GreaterOrEqual: (a, b) => bool(a >= b),
  And: (a, b) => bool(a !== 0 && b !== 0),
  Or: (a, b) => bool(a !== 0 || b !== 0),
  Xor: (a, b) => bool((a !== 0) !== (b !== 0)),
};

/** The Tri of value `name`, when the ops computing it make one. */
export function triOf(view: GraphView, name: string, depth = 12): Tri | undefined {
  const c = view.constant(name);
  if (c) return constantTri(c.shape, c.data);
  const n = view.producer(name);
  if (!n || depth === 0 || !(n.domain === 'ai.onnx' || n.domain === '')) return undefined;
  const sub = (i: number) => (n.inputs[i] ? triOf(view, n.inputs[i]!, depth - 1) : undefined);
  const out = n.outputs[0]?.name;
  if (!out) return undefined;
  switch (n.op) {
    case 'Identity':
      return sub(0);
    case 'Not':
      return combine(view, n, [sub(0)], (x) => bool(x === 0));
    case 'Cast': {
      const to = view.tensorType(out)?.dtype;
      if (!to) return undefined;
      const f = to === 'bool' ? (x: number) => bool(x !== 0) : isFloat(to) ? (x: number) => x : Math.trunc;
      return combine(view, n, [sub(0)], f);
    }
    case 'Where':
      return combine(view, n, [sub(0), sub(1), sub(2)], (cnd, a, b) => (cnd !== 0 ? a : b));
    case 'ConstantOfShape': {
      const a = n.attrs.value;
      if (!a) return uniform(0);
      if (a.kind !== 'tensor') return undefined;
      const t = view.decode(a.value);
      return t && t.length === 1 ? uniform(t[0]!) : undefined;
    }
    case 'Trilu':
      return trilu(view, n, sub(0));
    case 'Slice':
      return slice(view, n, sub(0));
    case 'Unsqueeze':
      return unsqueeze(view, n, sub(0));
    case 'Expand': {
      const t = sub(0);
      return t && (isUniform(t) || keepsLast2(view, n.inputs[0]!, out)) ? t : undefined;
    }
  }
  const f = BINARY[n.op];
  return f ? combine(view, n, [sub(0), sub(1)], f) : undefined;
}

/** Trilu of a uniform tensor: lower (upper = 0) keeps j − i ≤ k, upper keeps j − i ≥ k. */
function trilu(view: GraphView, n: Node, x: Tri | undefined): Tri | undefined {
  if (!x || !isUniform(x)) return undefined;
  const k = n.inputs[1] ? scalarConstant(view, n.inputs[1]) : 0;
  if (k === undefined || !Number.isInteger(k)) return undefined;
  const upperAttr = n.attrs.upper;
  const upper = upperAttr?.kind === 'int' ? upperAttr.value : 1;
  if (same(x.lo, 0)) return x;
  return upper ? { k: k - 1, lo: 0, hi: x.lo } : { k, lo: x.lo, hi: 0 };
}

/** Slicing rows from r0 and columns from c0 (step 1) moves the diagonal by r0 − c0. */
function slice(view: GraphView, n: Node, x: Tri | undefined): Tri | undefined {
  if (!x) return undefined;
  if (isUniform(x)) return x;
  const data = n.inputs[0]!;
  const rank = view.rank(data);
  if (rank === undefined) return undefined;
  let starts: number[] | undefined;
  let axes: number[] | undefined;
  let steps: number[] | undefined;
  if (view.opset >= 10) {
    starts = view.ints(n.inputs[1]);
    axes = n.inputs[3] ? view.ints(n.inputs[3]) : starts?.map((_, i) => i);
    steps = n.inputs[4] ? view.ints(n.inputs[4]) : starts?.map(() => 1);
  } else {
    const s = n.attrs.starts;
    const a = n.attrs.axes;
    starts = s?.kind === 'ints' ? [...s.value] : undefined;
    axes = a?.kind === 'ints' ? [...a.value] : starts?.map((_, i) => i);
    steps = starts?.map(() => 1);
  }
  if (!starts || !axes || !steps || axes.length !== starts.length || steps.length !== starts.length) return undefined;
  const shape = view.shape(data)!;
  let r0 = 0;
  let c0 = 0;
  for (let i = 0; i < axes.length; i++) {
    const axis = axes[i]! < 0 ? axes[i]! + rank : axes[i]!;
    if (axis < rank - 2) continue;
    if (steps[i] !== 1) return undefined;
    let start = starts[i]!;
    const dim = shape[axis];
    if (start < 0) {
      if (typeof dim !== 'number') return undefined;
      start = Math.max(0, start + dim);
    }
    if (axis === rank - 2) r0 = start;
    else c0 = start;
  }
  return { k: x.k + r0 - c0, lo: x.lo, hi: x.hi };
}

/** New axes ahead of the last two leave the triangle alone. */
function unsqueeze(view: GraphView, n: Node, x: Tri | undefined): Tri | undefined {
  if (!x) return undefined;
  if (isUniform(x)) return x;
  const out = n.outputs[0]!.name;
  const rank = view.rank(out);
  const a = n.attrs.axes;
  const axes = view.opset >= 13 ? view.ints(n.inputs[1]) : a?.kind === 'ints' ? [...a.value] : undefined;
  if (rank === undefined || !axes) return undefined;
  return axes.every((ax) => (ax < 0 ? ax + rank : ax) < rank - 2) ? x : undefined;
}
