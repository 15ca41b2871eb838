// Data-dependent selection: NonZero, Unique, Compress and NonMaxSuppression. Their result shapes
// depend on the values, so these are the ops a static compiler cannot size ahead of time; the
// interpreter is the oracle for them.
import { numElements } from '../../types.ts';
import { defineOnnxEvals } from '../registry.ts';
import type { Data } from '../tensor.ts';
import { allocData, makeTensor, toF64 } from '../tensor.ts';
import type { AnyArray } from './util.ts';
import { aroundAxis, copyRange, normAxis, stridesOf } from './util.ts';

const i64 = (shape: readonly number[], values: readonly number[]) =>
  makeTensor('i64', shape, BigInt64Array.from(values, (v) => BigInt(v)));

/** Whether an element counts as nonzero (strings: non-empty, as numpy does). */
const truthy = (v: unknown) => (typeof v === 'string' ? v !== '' : typeof v === 'bigint' ? v !== 0n : v !== 0);

defineOnnxEvals(['NonZero'], (ctx) => {
  const x = ctx.tensor(0);
  const d = x.data as AnyArray;
  // A scalar is read as a 1-D tensor of one element (numpy's old behaviour, which ORT keeps).
  const shape = x.shape.length === 0 ? [1] : x.shape;
  const r = shape.length;
  const xs = stridesOf(shape);
  const hits: number[] = [];
  for (let i = 0; i < d.length; i++) if (truthy(d[i])) hits.push(i);
  // Row k lists coordinate k of every nonzero element, in row-major order.
  const out: number[] = new Array(r * hits.length);
  hits.forEach((flat, j) => {
    for (let k = 0; k < r; k++) out[k * hits.length + j] = Math.floor(flat / xs[k]!) % shape[k]!;
  });
  return [i64([r, hits.length], out)];
});

/** Compare two slices element by element (numbers, bigints or strings). */
function compareSlices(a: readonly unknown[], b: readonly unknown[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
}

defineOnnxEvals(['Unique'], (ctx) => {
  const x = ctx.tensor(0);
  const sorted = ctx.int('sorted', 1) === 1;
  const hasAxis = ctx.attr('axis') !== undefined;
  // Without an axis the input is flattened and each element is a "slice" of one.
  const shape = hasAxis ? x.shape : [numElements(x.shape)];
  const axis = hasAxis ? normAxis(ctx.int('axis'), x.shape.length) : 0;
  const [outer, dim, inner] = aroundAxis(shape, axis);
  const src = x.data as AnyArray;
  // Slice j along the axis, in row-major order of the remaining dims.
  const slices: unknown[][] = [];
  for (let j = 0; j < dim; j++) {
    const s: unknown[] = [];
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) s.push(src[(o * dim + j) * inner + i]);
    slices.push(s);
  }
  // Group equal slices in order of first occurrence (-0 and 0 are one value, so are NaNs).
  const keyOf = (s: unknown[]) => s.map((v) => (typeof v === 'number' && Object.is(v, -0) ? '0' : String(v))).join('\u0000');
  const groupOf = new Map<string, number>();
  const firsts: number[] = [];
  const counts: number[] = [];
  const inverse: number[] = new Array(dim);
  for (let j = 0; j < dim; j++) {
    const k = keyOf(slices[j]!);
    let g = groupOf.get(k);
    if (g === undefined) {
      g = firsts.length;
      groupOf.set(k, g);
      firsts.push(j);
      counts.push(0);
    }
    counts[g]!++;
    inverse[j] = g;
  }
  // Sorted output orders the groups by their slices; `rank` maps a group to its output position.
  const order = firsts.map((_, g) => g);
  if (sorted) order.sort((a, b) => compareSlices(slices[firsts[a]!]!, slices[firsts[b]!]!));
  const rank = new Array<number>(order.length);
  order.forEach((g, p) => (rank[g] = p));
  const u = order.length;
  const yShape = hasAxis ? x.shape.map((d, i) => (i === axis ? u : d)) : [u];
  const y = allocData(x.dtype, outer * u * inner);
  for (let o = 0; o < outer; o++) {
    order.forEach((g, p) => copyRange(y, (o * u + p) * inner, x.data, (o * dim + firsts[g]!) * inner, inner));
  }
  return [
    makeTensor(x.dtype, yShape, y),
    i64([u], order.map((g) => firsts[g]!)),
    i64([dim], inverse.map((g) => rank[g]!)),
    i64([u], order.map((g) => counts[g]!)),
  ];
});

defineOnnxEvals(['Compress'], (ctx) => {
  const x = ctx.tensor(0);
  const cond = ctx.tensor(1).data as AnyArray;
  const hasAxis = ctx.attr('axis') !== undefined;
  const shape = hasAxis ? x.shape : [numElements(x.shape)];
  const axis = hasAxis ? normAxis(ctx.int('axis'), x.shape.length) : 0;
  const [outer, dim, inner] = aroundAxis(shape, axis);
  if (cond.length > dim) ctx.fail(`condition has ${cond.length} entries but the axis has ${dim}`);
  // Entries past the end of the condition count as false.
  const keep: number[] = [];
  for (let j = 0; j < cond.length; j++) if (cond[j]) keep.push(j);
  const outShape = shape.map((d, i) => (i === axis ? keep.length : d));
  const out = allocData(x.dtype, outer * keep.length * inner);
  let o = 0;
  for (let a = 0; a < outer; a++) {
    for (const j of keep) {
      copyRange(out, o, x.data, (a * dim + j) * inner, inner);
      o += inner;
    }
  }
  return [makeTensor(x.dtype, outShape, out as Data)];
});

/** A box as [ymin, xmin, ymax, xmax] from either input format. */
function corners(b: Float64Array, at: number, centerPoint: boolean): [number, number, number, number] {
  const [p, q, r, s] = [b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!];
  if (centerPoint) return [q - s / 2, p - r / 2, q + s / 2, p + r / 2]; // [xc, yc, w, h]
  // Corners may be any diagonal pair: order each coordinate.
  return [Math.min(p, r), Math.min(q, s), Math.max(p, r), Math.max(q, s)];
}

function iou(a: readonly number[], b: readonly number[]): number {
  const areaA = (a[2]! - a[0]!) * (a[3]! - a[1]!);
  const areaB = (b[2]! - b[0]!) * (b[3]! - b[1]!);
  if (areaA <= 0 || areaB <= 0) return 0;
  const h = Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!);
  const w = Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!);
  if (h <= 0 || w <= 0) return 0;
  const inter = h * w;
  return inter / (areaA + areaB - inter);
}

defineOnnxEvals(['NonMaxSuppression'], (ctx) => {
  const boxesT = ctx.tensor(0);
  const scoresT = ctx.tensor(1);
  const maxOut = ctx.has(2) ? Number(ctx.tensor(2).data[0] ?? 0) : 0;
  const iouTh = ctx.has(3) ? Number(ctx.tensor(3).data[0] ?? 0) : 0;
  const scoreTh = ctx.has(4) && ctx.tensor(4).data.length ? Number(ctx.tensor(4).data[0]) : -Infinity;
  const centerPoint = ctx.int('center_point_box', 0) === 1;
  const [B, N] = boxesT.shape as [number, number];
  const C = scoresT.shape[1]!;
  if (boxesT.shape[2] !== 4 || scoresT.shape[0] !== B || scoresT.shape[2] !== N) {
    ctx.fail(`boxes [${boxesT.shape.join(', ')}] and scores [${scoresT.shape.join(', ')}] do not fit`);
  }
  const boxes = toF64(boxesT);
  const scores = toF64(scoresT);
  const selected: number[] = [];
  for (let b = 0; b < B; b++) {
    const bx = Array.from({ length: N }, (_, i) => corners(boxes, (b * N + i) * 4, centerPoint));
    for (let c = 0; c < C; c++) {
      const base = (b * C + c) * N;
      // Candidates above the score threshold, best first; equal scores keep index order.
      const cand: number[] = [];
      for (let i = 0; i < N; i++) if (scores[base + i]! > scoreTh) cand.push(i);
      cand.sort((i, j) => scores[base + j]! - scores[base + i]! || i - j);
      const kept: number[] = [];
      for (const i of cand) {
        if (kept.length >= maxOut) break;
        if (kept.every((k) => iou(bx[i]!, bx[k]!) <= iouTh)) kept.push(i);
      }
      for (const i of kept) selected.push(b, c, i);
    }
  }
  return [i64([selected.length / 3, 3], selected)];
});
