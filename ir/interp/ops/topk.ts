// TopK: the k largest (or smallest) elements along an axis and their indices. k is an attribute
// in opset 1 and an operand from opset 10; `largest` and `sorted` arrive in opset 11. Equal
// values keep the lower index first (ONNX's tie rule), and NaN counts as larger than any number
// (the order ONNX Runtime's comparator gives).
import { defineOnnxEvals } from '../registry.ts';
import type { Data } from '../tensor.ts';
import { allocData, makeTensor, scalarOf } from '../tensor.ts';
import type { AnyArray } from './util.ts';
import { aroundAxis, normAxis } from './util.ts';

defineOnnxEvals(['TopK'], (ctx) => {
  const x = ctx.tensor(0);
  if (x.dtype === 'string') ctx.fail('TopK is not defined on strings');
  const r = x.shape.length;
  const axis = normAxis(ctx.int('axis', -1), r);
  const k = ctx.opset < 10 ? ctx.int('k') : scalarOf(ctx.tensor(1));
  const largest = ctx.int('largest', 1) !== 0;
  const [outer, n, inner] = aroundAxis(x.shape, axis);
  if (k < 0 || k > n) ctx.fail(`k = ${k} is outside [0, ${n}] for axis ${axis} of [${x.shape.join(', ')}]`);
  const src = x.data as AnyArray;
  const vals = allocData(x.dtype, outer * k * inner) as AnyArray;
  const idxs = new BigInt64Array(outer * k * inner);
  // One slice at a time: `order` holds axis positions, sorted by value then by position.
  const order = new Array<number>(n);
  const slice = new Array<number | bigint>(n);
  const isNaNv = (v: number | bigint) => typeof v === 'number' && v !== v;
  const cmp = (a: number, b: number): number => {
    const va = slice[a]!;
    const vb = slice[b]!;
    const na = isNaNv(va);
    const nb = isNaNv(vb);
    let c: number;
    if (na || nb) c = na && nb ? 0 : na ? 1 : -1;
    else c = va < vb ? -1 : va > vb ? 1 : 0;
    if (largest) c = -c;
    return c !== 0 ? c : a - b;
  };
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      for (let j = 0; j < n; j++) {
        order[j] = j;
        slice[j] = src[base + j * inner];
      }
      order.sort(cmp);
      const ob = o * k * inner + i;
      for (let j = 0; j < k; j++) {
        vals[ob + j * inner] = slice[order[j]!];
        idxs[ob + j * inner] = BigInt(order[j]!);
      }
    }
  }
  const shape = x.shape.map((d, i) => (i === axis ? k : d));
  return [makeTensor(x.dtype, shape, vals as Data), makeTensor('i64', shape, idxs)];
});
