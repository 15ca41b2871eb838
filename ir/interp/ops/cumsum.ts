// CumSum along an axis given as an operand, with `exclusive` (each sum leaves out its own
// element) and `reverse` (sums run from the end). Floats accumulate in f64 and are rounded to the
// dtype once; integers wrap as their dtype does (a one-element array of the dtype does the
// wrapping), i64/u64 exactly in BigInt.
import { isFloat } from '../../dtype.ts';
import { defineOnnxEvals } from '../registry.ts';
import type { Data } from '../tensor.ts';
import { allocData, makeTensor, roundTo, scalarOf } from '../tensor.ts';
import type { AnyArray } from './util.ts';
import { aroundAxis, normAxis } from './util.ts';

defineOnnxEvals(['CumSum'], (ctx) => {
  const x = ctx.tensor(0);
  if (x.dtype === 'string' || x.dtype === 'bool') ctx.fail(`CumSum is not defined on ${x.dtype}`);
  const axis = normAxis(scalarOf(ctx.tensor(1)), x.shape.length);
  const exclusive = ctx.int('exclusive', 0) !== 0;
  const reverse = ctx.int('reverse', 0) !== 0;
  const [outer, n, inner] = aroundAxis(x.shape, axis);
  const src = x.data as AnyArray;
  const float = isFloat(x.dtype);
  const out = (float ? new Float64Array(src.length) : allocData(x.dtype, src.length)) as AnyArray;
  const acc = (float ? new Float64Array(1) : allocData(x.dtype, 1)) as AnyArray;
  const zero = acc[0];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      acc[0] = zero;
      for (let s = 0; s < n; s++) {
        const j = base + (reverse ? n - 1 - s : s) * inner;
        if (exclusive) out[j] = acc[0];
        acc[0] += src[j];
        if (!exclusive) out[j] = acc[0];
      }
    }
  }
  if (!float) return [makeTensor(x.dtype, x.shape, out as Data)];
  const data = x.dtype === 'f64' ? out : Float32Array.from(out as Float64Array);
  return [roundTo(makeTensor(x.dtype, x.shape, data as Data))];
});
