// Scatter (opset 9–10, ScatterElements under its old name), ScatterElements and ScatterND with
// every `reduction` (none, add, mul, max, min). Updates apply in index order, so with
// reduction none a duplicated index leaves the last update (ONNX calls that undefined; numpy's
// reference and ONNX Runtime both keep the last). Negative indices count from the end.
import { isFloat } from '../../dtype.ts';
import { numElements } from '../../types.ts';
import { defineOnnxEvals, evalError } from '../registry.ts';
import type { Data, Tensor } from '../tensor.ts';
import { isBigDType, makeTensor, roundTo } from '../tensor.ts';
import type { AnyArray } from './util.ts';
import { intsOf, normAxis, stridesOf } from './util.ts';

type Combine = (old: any, upd: any) => any;

/** How an update meets the value already there, for the data's dtype. */
function combiner(reduction: string, dtype: Tensor['dtype']): Combine {
  const big = isBigDType(dtype);
  switch (reduction) {
    case 'none': return (_o, u) => u;
    case 'add': return (o, u) => o + u;
    // 32-bit integers multiply with C wrap-around; Math.imul keeps the low bits exact.
    case 'mul': return big || isFloat(dtype) ? (o, u) => o * u : (o, u) => Math.imul(o, u);
    case 'max': return (o, u) => (o >= u ? o : u);
    case 'min': return (o, u) => (o <= u ? o : u);
    default: throw evalError(`unknown reduction '${reduction}'`);
  }
}

function fixIndex(i: number, dim: number): number {
  const j = i < 0 ? i + dim : i;
  if (j < 0 || j >= dim) throw evalError(`index ${i} is out of range for a dim of ${dim}`);
  return j;
}

/** A writable copy of a tensor's elements. */
function copyOf(t: Tensor): AnyArray {
  const d = t.data;
  return (Array.isArray(d) ? [...d] : d.slice()) as AnyArray;
}

function scatterElements(data: Tensor, indices: Tensor, updates: Tensor, axisAttr: number, reduction: string): Tensor {
  const r = data.shape.length;
  const axis = normAxis(axisAttr, r);
  if (indices.shape.length !== r || updates.shape.join() !== indices.shape.join()) {
    throw evalError(`indices [${indices.shape.join(', ')}] and updates [${updates.shape.join(', ')}] must have data's rank ${r} and one shape`);
  }
  const out = copyOf(data);
  const upd = updates.data as AnyArray;
  const idx = intsOf(indices);
  const ds = stridesOf(data.shape);
  const f = combiner(reduction, data.dtype);
  const counter = new Array<number>(r).fill(0);
  for (let i = 0; i < idx.length; i++) {
    let off = 0;
    for (let d = 0; d < r; d++) off += (d === axis ? fixIndex(idx[i]!, data.shape[d]!) : counter[d]!) * ds[d]!;
    out[off] = f(out[off], upd[i]);
    for (let d = r - 1; d >= 0; d--) {
      if (++counter[d]! < indices.shape[d]!) break;
      counter[d] = 0;
    }
  }
  return roundTo(makeTensor(data.dtype, data.shape, out as Data));
}

defineOnnxEvals(['Scatter', 'ScatterElements'], (ctx) =>
  [scatterElements(ctx.tensor(0), ctx.tensor(1), ctx.tensor(2), ctx.int('axis', 0), ctx.string('reduction', 'none'))],
);

defineOnnxEvals(['ScatterND'], (ctx) => {
  const data = ctx.tensor(0);
  const indices = ctx.tensor(1);
  const updates = ctx.tensor(2);
  const q = indices.shape.length;
  const k = indices.shape[q - 1]!;
  if (k > data.shape.length) ctx.fail(`index depth ${k} exceeds data rank ${data.shape.length}`);
  const slice = numElements(data.shape.slice(k));
  const tuples = numElements(indices.shape.slice(0, q - 1));
  if (numElements(updates.shape) !== tuples * slice) {
    ctx.fail(`updates [${updates.shape.join(', ')}] must be indices' leading dims + data's trailing dims`);
  }
  const out = copyOf(data);
  const upd = updates.data as AnyArray;
  const idx = intsOf(indices);
  const ds = stridesOf(data.shape);
  const f = combiner(ctx.string('reduction', 'none'), data.dtype);
  for (let t = 0; t < tuples; t++) {
    let off = 0;
    for (let j = 0; j < k; j++) off += fixIndex(idx[t * k + j]!, data.shape[j]!) * ds[j]!;
    for (let e = 0; e < slice; e++) out[off + e] = f(out[off + e], upd[t * slice + e]);
  }
  return [roundTo(makeTensor(data.dtype, data.shape, out as Data))];
});
