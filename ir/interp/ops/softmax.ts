// Softmax, LogSoftmax, Hardmax. Before opset 13 the input is read as a matrix
// [prod(dims < axis), prod(dims ≥ axis)] (axis default 1) and normalised over whole rows; from 13
// on, over the one `axis` (default -1).
import type { EvalContext } from '../registry.ts';
import { defineOnnxEvals } from '../registry.ts';
import type { Tensor } from '../tensor.ts';
import { allocData, makeTensor, roundTo } from '../tensor.ts';
import { aroundAxis, normAxis } from './util.ts';

type FloatArray = Float32Array | Float64Array;
type RowFn = (x: FloatArray, out: FloatArray, start: number, n: number, stride: number) => void;

function normalise(ctx: EvalContext, row: RowFn): Tensor {
  const x = ctx.tensor(0);
  const r = x.shape.length;
  let outer: number, n: number, inner: number;
  if (ctx.opset < 13) {
    const axis = normAxis(ctx.int('axis', 1), r);
    [outer, n, inner] = [x.shape.slice(0, axis).reduce((a, b) => a * b, 1), x.shape.slice(axis).reduce((a, b) => a * b, 1), 1];
  } else {
    [outer, n, inner] = aroundAxis(x.shape, normAxis(ctx.int('axis', -1), r));
  }
  const xd = x.data as FloatArray;
  const out = allocData(x.dtype, xd.length) as FloatArray;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) row(xd, out, o * n * inner + i, n, inner);
  }
  return roundTo(makeTensor(x.dtype, x.shape, out));
}

function rowMax(x: FloatArray, s: number, n: number, st: number): number {
  let m = -Infinity;
  for (let k = 0; k < n; k++) if (x[s + k * st]! > m) m = x[s + k * st]!;
  return m;
}

const softmax: RowFn = (x, out, s, n, st) => {
  const m = rowMax(x, s, n, st);
  let sum = 0;
  for (let k = 0; k < n; k++) sum += Math.exp(x[s + k * st]! - m);
  for (let k = 0; k < n; k++) out[s + k * st] = Math.exp(x[s + k * st]! - m) / sum;
};
const logSoftmax: RowFn = (x, out, s, n, st) => {
  const m = rowMax(x, s, n, st);
  let sum = 0;
  for (let k = 0; k < n; k++) sum += Math.exp(x[s + k * st]! - m);
  const l = Math.log(sum);
  for (let k = 0; k < n; k++) out[s + k * st] = x[s + k * st]! - m - l;
};
// Hardmax: 1 at the first maximum of the row, 0 elsewhere.
const hardmax: RowFn = (x, out, s, n, st) => {
  let best = 0;
  for (let k = 1; k < n; k++) if (x[s + k * st]! > x[s + best * st]!) best = k;
  for (let k = 0; k < n; k++) out[s + k * st] = k === best ? 1 : 0;
};

defineOnnxEvals(['Softmax'], (ctx) => [normalise(ctx, softmax)]);
defineOnnxEvals(['LogSoftmax'], (ctx) => [normalise(ctx, logSoftmax)]);
defineOnnxEvals(['Hardmax'], (ctx) => [normalise(ctx, hardmax)]);
