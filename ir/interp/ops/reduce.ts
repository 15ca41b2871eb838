// Reduce* ops and ArgMax/ArgMin. The reduced axes are moved last (a no-op copy-free view when
// they already are), so every reduction runs over contiguous rows. Floats accumulate in f64;
// i64/u64 in BigInt.
import { isFloat } from '../../dtype.ts';
import { reduceAxesInputSince, resolveReduceAxes } from '../../ops/reduce.ts';
import type { EvalContext } from '../registry.ts';
import { defineOnnxEvals, evalError } from '../registry.ts';
import type { Data, Tensor } from '../tensor.ts';
import { allocData, isBigDType, makeTensor, roundTo, tensorFrom } from '../tensor.ts';
import { transpose } from './layout.ts';
import type { AnyArray } from './util.ts';
import { intsOf, normAxis, reshaped } from './util.ts';

interface Kind {
  /** Reduce row[start, start+n) of numbers. */
  num(d: ArrayLike<number>, start: number, n: number): number;
  big?(d: ArrayLike<bigint>, start: number, n: number): bigint;
}

function loop(init: number, f: (acc: number, v: number) => number, end: (acc: number, n: number) => number = (a) => a) {
  return (d: ArrayLike<number>, s: number, n: number) => {
    let acc = init;
    for (let i = s; i < s + n; i++) acc = f(acc, d[i]!);
    return end(acc, n);
  };
}
function bigLoop(init: bigint, f: (acc: bigint, v: bigint) => bigint, end: (acc: bigint, n: number) => bigint = (a) => a) {
  return (d: ArrayLike<bigint>, s: number, n: number) => {
    let acc = init;
    for (let i = s; i < s + n; i++) acc = f(acc, d[i]!);
    return end(acc, n);
  };
}

const KINDS: Record<string, Kind> = {
  ReduceSum: { num: loop(0, (a, v) => a + v), big: bigLoop(0n, (a, v) => a + v) },
  ReduceMean: { num: loop(0, (a, v) => a + v, (a, n) => a / n), big: bigLoop(0n, (a, v) => a + v, (a, n) => a / BigInt(n)) },
  ReduceProd: { num: loop(1, (a, v) => a * v), big: bigLoop(1n, (a, v) => a * v) },
  ReduceMax: { num: loop(-Infinity, (a, v) => (v > a || v !== v ? v : a)), big: (d, s, n) => bigLoop(d[s]!, (a, v) => (v > a ? v : a))(d, s, n) },
  ReduceMin: { num: loop(Infinity, (a, v) => (v < a || v !== v ? v : a)), big: (d, s, n) => bigLoop(d[s]!, (a, v) => (v < a ? v : a))(d, s, n) },
  ReduceL1: { num: loop(0, (a, v) => a + Math.abs(v)), big: bigLoop(0n, (a, v) => a + (v < 0n ? -v : v)) },
  ReduceL2: { num: loop(0, (a, v) => a + v * v, (a) => Math.sqrt(a)) },
  ReduceSumSquare: { num: loop(0, (a, v) => a + v * v), big: bigLoop(0n, (a, v) => a + v * v) },
  ReduceLogSum: { num: loop(0, (a, v) => a + v, (a) => Math.log(a)) },
  ReduceLogSumExp: {
    num: (d, s, n) => {
      let m = -Infinity;
      for (let i = s; i < s + n; i++) if (d[i]! > m) m = d[i]!;
      if (!Number.isFinite(m)) return m === -Infinity ? -Infinity : m;
      let sum = 0;
      for (let i = s; i < s + n; i++) sum += Math.exp(d[i]! - m);
      return m + Math.log(sum);
    },
  },
};

/** x with `axes` moved last; returns it with the kept dims and the reduced row length. */
function axesLast(x: Tensor, axes: readonly number[]): { t: Tensor; outer: number; n: number } {
  const r = x.shape.length;
  const kept = Array.from({ length: r }, (_, i) => i).filter((i) => !axes.includes(i));
  const sorted = [...axes].sort((a, b) => a - b);
  const t = transpose(x, [...kept, ...sorted]);
  const n = sorted.reduce((p, a) => p * x.shape[a]!, 1);
  const outer = kept.reduce((p, a) => p * x.shape[a]!, 1);
  return { t, outer, n };
}

function reduceAxes(ctx: EvalContext, rank: number): number[] | 'none' {
  const fromInput = ctx.opset >= reduceAxesInputSince(ctx.node.op);
  let axes: number[] | undefined;
  if (fromInput) axes = ctx.has(1) ? intsOf(ctx.tensor(1)) : undefined;
  else axes = ctx.attr('axes') ? [...ctx.ints('axes')] : undefined;
  for (const a of axes ?? []) normAxis(a, rank); // range check
  return resolveReduceAxes(axes, ctx.int('noop_with_empty_axes', 0) === 1, rank);
}

for (const [op, kind] of Object.entries(KINDS)) {
  defineOnnxEvals([op], (ctx) => {
    const x = ctx.tensor(0);
    const r = x.shape.length;
    const axes = reduceAxes(ctx, r);
    if (axes === 'none') return [x];
    const keep = ctx.int('keepdims', 1) === 1;
    const shape = keep ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    const { t, outer, n } = axesLast(x, axes);
    const out = allocData(x.dtype, outer) as AnyArray;
    if (isBigDType(x.dtype)) {
      if (!kind.big) throw evalError(`${op} is not defined on ${x.dtype}`);
      const d = t.data as BigInt64Array;
      for (let o = 0; o < outer; o++) out[o] = kind.big(d, o * n, n);
    } else {
      const d = t.data as unknown as ArrayLike<number>;
      for (let o = 0; o < outer; o++) out[o] = kind.num(d, o * n, n);
    }
    const res = makeTensor(x.dtype, shape, out as Data);
    return [isFloat(x.dtype) ? roundTo(res) : res];
  });
}

function argReduce(ctx: EvalContext, better: (v: any, best: any) => boolean): Tensor {
  const x = ctx.tensor(0);
  const r = x.shape.length;
  const axis = normAxis(ctx.int('axis', 0), r);
  const keep = ctx.int('keepdims', 1) === 1;
  const last = ctx.int('select_last_index', 0) === 1;
  const { t, outer, n } = axesLast(x, [axis]);
  const d = t.data as AnyArray;
  const out = new Array<number>(outer);
  for (let o = 0; o < outer; o++) {
    let bi = 0;
    let bv = d[o * n];
    for (let i = 1; i < n; i++) {
      const v = d[o * n + i];
      if (better(v, bv) || (last && v === bv)) {
        bi = i;
        bv = v;
      }
    }
    out[o] = bi;
  }
  const shape = keep ? x.shape.map((dim, i) => (i === axis ? 1 : dim)) : x.shape.filter((_, i) => i !== axis);
  return reshaped(tensorFrom('i64', [outer], out), shape);
}
defineOnnxEvals(['ArgMax'], (ctx) => [argReduce(ctx, (v, b) => v > b)]);
defineOnnxEvals(['ArgMin'], (ctx) => [argReduce(ctx, (v, b) => v < b)]);
