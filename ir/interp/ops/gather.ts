// Indexing: Gather, GatherElements, GatherND. Negative indices count from the end; an index
// out of range is an error naming it (ONNX leaves it undefined; an oracle must not guess).
import { numElements } from '../../types.ts';
import { defineOnnxEvals, evalError } from '../registry.ts';
import { allocData, makeTensor } from '../tensor.ts';
import { aroundAxis, copyRange, intsOf, normAxis, stridesOf, takeFlat } from './util.ts';

function fixIndex(i: number, dim: number): number {
  const j = i < 0 ? i + dim : i;
  if (j < 0 || j >= dim) throw evalError(`index ${i} is out of range for a dim of ${dim}`);
  return j;
}

defineOnnxEvals(['Gather'], (ctx) => {
  const x = ctx.tensor(0);
  const ind = ctx.tensor(1);
  const axis = normAxis(ctx.int('axis', 0), x.shape.length);
  const idx = intsOf(ind);
  const [outer, dim, inner] = aroundAxis(x.shape, axis);
  const shape = [...x.shape.slice(0, axis), ...ind.shape, ...x.shape.slice(axis + 1)];
  const out = allocData(x.dtype, numElements(shape));
  const fixed = idx.map((i) => fixIndex(i, dim));
  let o = 0;
  for (let a = 0; a < outer; a++) {
    for (const j of fixed) {
      copyRange(out, o, x.data, (a * dim + j) * inner, inner);
      o += inner;
    }
  }
  return [makeTensor(x.dtype, shape, out)];
});

defineOnnxEvals(['GatherElements'], (ctx) => {
  const x = ctx.tensor(0);
  const ind = ctx.tensor(1);
  const r = x.shape.length;
  const axis = normAxis(ctx.int('axis', 0), r);
  if (ind.shape.length !== r) ctx.fail(`indices have rank ${ind.shape.length}, data ${r}`);
  const idx = intsOf(ind);
  const xs = stridesOf(x.shape);
  const n = idx.length;
  const src = new Int32Array(n);
  const counter = new Array<number>(r).fill(0);
  for (let i = 0; i < n; i++) {
    let off = 0;
    for (let d = 0; d < r; d++) off += (d === axis ? fixIndex(idx[i]!, x.shape[d]!) : counter[d]!) * xs[d]!;
    src[i] = off;
    for (let d = r - 1; d >= 0; d--) {
      if (++counter[d]! < ind.shape[d]!) break;
      counter[d] = 0;
    }
  }
  return [takeFlat(x, src, ind.shape)];
});

defineOnnxEvals(['GatherND'], (ctx) => {
  const x = ctx.tensor(0);
  const ind = ctx.tensor(1);
  const b = ctx.int('batch_dims', 0);
  const q = ind.shape.length;
  const k = ind.shape[q - 1]!;
  if (b + k > x.shape.length) ctx.fail(`index depth ${k} with ${b} batch dims exceeds data rank ${x.shape.length}`);
  const batch = numElements(x.shape.slice(0, b));
  const shape = [...ind.shape.slice(0, q - 1), ...x.shape.slice(b + k)];
  const slice = numElements(x.shape.slice(b + k));
  const perBatchData = numElements(x.shape.slice(b));
  const tuples = numElements(ind.shape.slice(b, q - 1));
  const xs = stridesOf(x.shape.slice(b));
  const idx = intsOf(ind);
  const out = allocData(x.dtype, numElements(shape));
  let o = 0;
  for (let bi = 0; bi < batch; bi++) {
    for (let t = 0; t < tuples; t++) {
      const at = (bi * tuples + t) * k;
      let off = bi * perBatchData;
      for (let j = 0; j < k; j++) off += fixIndex(idx[at + j]!, x.shape[b + j]!) * xs[j]!;
      copyRange(out, o, x.data, off, slice);
      o += slice;
    }
  }
  return [makeTensor(x.dtype, shape, out)];
});
