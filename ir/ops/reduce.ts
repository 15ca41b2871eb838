// Reductions (Reduce*), ArgMax/ArgMin and TopK.
import type { DType } from '../dtype.ts';
import type { InferContext } from '../op.ts';
import { between, exactly } from '../op.ts';
import type { Dim, Shape } from '../types.ts';
import { tensor } from '../types.ts';
import { attr, expectDType, normalizeAxis, onnxOp } from './util.ts';
import { attrOrInput, fmt, NUMERIC_T, scalarValue } from './nn-util.ts';

/**
 * The result shape of reducing `shape` over `axes` (undefined: an axes input with unknown
 * contents; `count` its length when the axes input's shape says it). Empty or absent axes mean
 * all axes, or none with noop_with_empty_axes.
 */
function reducedShape(
  ctx: InferContext,
  shape: Shape,
  axes: readonly Dim[] | undefined | null,
  keep: boolean,
  noop: boolean,
  count?: Dim,
): Shape {
  if (shape === null) return null;
  const r = shape.length;
  if (axes === undefined) {
    if (count === 0) return noop ? shape : keep ? shape.map(() => 1) : [];
    // Each dim is either kept or becomes 1: only a size-1 dim is certain.
    if (keep) return shape.map((d) => (d === 1 ? 1 : null));
    if (typeof count === 'number') return Array<Dim>(r - count).fill(null);
    return null;
  }
  if (axes === null || axes.length === 0) {
    if (noop) return shape;
    return keep ? shape.map(() => 1) : [];
  }
  if (axes.some((a) => typeof a !== 'number')) return keep ? shape.map((d) => (d === 1 ? 1 : null)) : null;
  const set = new Set((axes as number[]).map((a) => normalizeAxis(ctx, a, r)));
  if (set.size !== axes.length) ctx.fail(`axes [${axes.join(', ')}] repeat an axis`);
  const out: Dim[] = [];
  shape.forEach((d, i) => {
    if (!set.has(i)) out.push(d);
    else if (keep) out.push(1);
  });
  return out;
}

/**
 * Known contents of ReduceSum/ReduceProd over a 1-D list of sizes (e.g. the element count in
 * Shape → ReduceProd): sizes compute; a symbol survives a product with 1s or a sum with 0s.
 */
function foldValues(ctx: InferContext): readonly Dim[] | undefined {
  const v = ctx.values(0);
  const x = ctx.tensor(0);
  if (!v || x.shape === null || x.shape.length !== 1) return undefined;
  const axes = attrOrInputQuiet(ctx);
  if (axes === undefined || (axes !== null && axes.length > 1)) return undefined;
  if ((axes === null || axes.length === 0) && ctx.int('noop_with_empty_axes', 0) !== 0) return v;
  const prod = ctx.node.op === 'ReduceProd';
  const unit = prod ? 1 : 0;
  const rest = v.filter((d) => d !== unit);
  if (rest.length === 0) return [unit];
  if (rest.every((d) => typeof d === 'number')) {
    return [(rest as number[]).reduce((p, d) => (prod ? p * d : p + d), unit)];
  }
  return rest.length === 1 ? [rest[0]!] : [null];
}

/** The axes of a Reduce* node without failing (inference has already checked them). */
function attrOrInputQuiet(ctx: InferContext): readonly Dim[] | undefined | null {
  const a = ctx.attr('axes');
  if (a && a.kind === 'ints') return a.value;
  if (ctx.has(1)) return ctx.values(1);
  return null;
}

/** The opset at which a Reduce op's `axes` attribute became an input (ReduceSum first). */
export function reduceAxesInputSince(op: string): number {
  return op === 'ReduceSum' ? 13 : 18;
}

/**
 * The axes a Reduce op reduces (in range, as inference checked), normalized and deduplicated:
 * all of them when none are given, or 'none' where noop_with_empty_axes keeps the input as is.
 * Shared by the interpreter and the backends.
 */
export function resolveReduceAxes(axes: readonly number[] | undefined, noopWithEmpty: boolean, rank: number): number[] | 'none' {
  if (!axes || axes.length === 0) return noopWithEmpty ? 'none' : Array.from({ length: rank }, (_, i) => i);
  return [...new Set(axes.map((a) => (a < 0 ? a + rank : a)))];
}

/** Declare a Reduce* op (its `axes` attribute became an input at reduceAxesInputSince). */
function reduceOp(name: string, allowed: readonly DType[]): void {
  const since = reduceAxesInputSince(name);
  const attrs = { axes: attr.ints, keepdims: attr.int, noop_with_empty_axes: attr.int };
  const values = name === 'ReduceSum' || name === 'ReduceProd' ? foldValues : undefined;
  onnxOp(name, between(1, 2), exactly(1), attrs, (ctx) => {
    const x = expectDType(ctx, 0, allowed);
    if (ctx.attr('noop_with_empty_axes') && ctx.opset < since) {
      ctx.fail(`noop_with_empty_axes needs opset ${since} or later`);
    }
    const axes = attrOrInput(ctx, 'axes', 1, since);
    let count: Dim | undefined;
    if (ctx.has(1)) {
      const a = expectDType(ctx, 1, ['i64']);
      if (a.shape !== null && a.shape.length !== 1) ctx.fail(`axes must be 1-D, got ${fmt(a.shape)}`);
      count = a.shape?.[0];
    }
    const keep = ctx.int('keepdims', 1) !== 0;
    const noop = ctx.int('noop_with_empty_axes', 0) !== 0;
    return [tensor(x.dtype, reducedShape(ctx, x.shape, axes, keep, noop, count))];
  }, values);
}

const withBool: readonly DType[] = [...NUMERIC_T, 'bool'];
reduceOp('ReduceSum', NUMERIC_T);
for (const n of ['ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceMean', 'ReduceProd', 'ReduceSumSquare']) {
  reduceOp(n, NUMERIC_T);
}
reduceOp('ReduceMax', withBool);
reduceOp('ReduceMin', withBool);

// ArgMax/ArgMin: one axis, i64 indices.
for (const name of ['ArgMax', 'ArgMin']) {
  onnxOp(name, exactly(1), exactly(1), { axis: attr.int, keepdims: attr.int, select_last_index: attr.int }, (ctx) => {
    const x = expectDType(ctx, 0, NUMERIC_T);
    const keep = ctx.int('keepdims', 1) !== 0;
    return [tensor('i64', reducedShape(ctx, x.shape, [ctx.int('axis', 0)], keep, false))];
  });
}

// TopK: k was an attribute until opset 10, then a 1-element i64 input.
onnxOp('TopK', between(1, 2), exactly(2), { axis: attr.int, k: attr.int, largest: attr.int, sorted: attr.int }, (ctx) => {
  const x = expectDType(ctx, 0, NUMERIC_T);
  let k: Dim | undefined;
  if (ctx.opset >= 10) {
    if (ctx.attr('k')) ctx.fail(`attribute 'k' became an input at opset 10`);
    if (!ctx.has(1)) ctx.fail(`input 1 (k) is required from opset 10`);
    const kt = expectDType(ctx, 1, ['i64']);
    if (kt.shape !== null && !(kt.shape.length === 1 && kt.shape[0] === 1) && kt.shape.length !== 0) {
      ctx.fail(`k must be a 1-D tensor of one element, got ${fmt(kt.shape)}`);
    }
    k = scalarValue(ctx, 1);
  } else {
    if (ctx.has(1)) ctx.fail(`k is an input only from opset 10`);
    k = ctx.int('k');
  }
  let shape: Shape = null;
  if (x.shape !== null) {
    const axis = normalizeAxis(ctx, ctx.int('axis', -1), x.shape.length);
    const n = x.shape[axis]!;
    if (typeof k === 'number' && k < 0) ctx.fail(`k must be non-negative, got ${k}`);
    if (typeof k === 'number' && typeof n === 'number' && k > n) ctx.fail(`k = ${k} exceeds the axis size ${n}`);
    shape = x.shape.map((d, i) => (i === axis ? (k === undefined ? null : k) : d));
  }
  return [tensor(x.dtype, shape), tensor('i64', shape)];
});
