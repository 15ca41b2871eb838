// MaxUnpool: scatters X into a zero tensor at the flat positions I (as MaxPool's Indices give
// them). Indices are flat over the default result shape, (in - 1)·stride + kernel - pad_begin -
// pad_end per spatial dim; an output_shape operand then pads (or crops) that result at the end of
// each dim, keeping every element at its multi-index (the ONNX reference and conformance data;
// ONNX Runtime instead reads the indices as flat over output_shape).
import { defineOnnxEvals } from '../registry.ts';
import type { Data } from '../tensor.ts';
import { allocData, makeTensor, toNumbers } from '../tensor.ts';
import type { AnyArray } from './util.ts';
import { stridesOf } from './util.ts';

defineOnnxEvals(['MaxUnpool'], (ctx) => {
  const x = ctx.tensor(0);
  const idx = ctx.tensor(1);
  const r = x.shape.length - 2;
  const kernel = ctx.ints('kernel_shape');
  const strides = ctx.ints('strides', new Array(r).fill(1));
  const pads = ctx.ints('pads', new Array(2 * r).fill(0));
  const given = ctx.optTensor(2);
  const inferred = [...x.shape.slice(0, 2), ...x.shape.slice(2).map((d, i) => (d - 1) * strides[i]! + kernel[i]! - pads[i]! - pads[i + r]!)];
  const shape = given ? toNumbers(given) : inferred;
  if (shape.length !== x.shape.length) ctx.fail(`output_shape has rank ${shape.length}, X rank ${x.shape.length}`);
  const nInf = inferred.reduce((a, b) => a * b, 1);
  const n = shape.reduce((a, b) => a * b, 1);
  const same = shape.every((d, i) => d === inferred[i]);
  const outStrides = stridesOf(shape);
  // Flat index over `inferred` → flat index over `shape`, or -1 where `shape` crops it away.
  const remap = (j: number): number => {
    let o = 0;
    for (let d = shape.length - 1; d >= 0; d--) {
      const c = j % inferred[d]!;
      j = (j - c) / inferred[d]!;
      if (c >= shape[d]!) return -1;
      o += c * outStrides[d]!;
    }
    return o;
  };
  const out = allocData(x.dtype, n) as AnyArray;
  const src = x.data as AnyArray;
  if (idx.data.length !== src.length) ctx.fail(`I has ${idx.data.length} elements, X ${src.length}`);
  for (let i = 0; i < src.length; i++) {
    const j = Number(idx.data[i]);
    if (j < 0 || j >= nInf) ctx.fail(`index ${j} is outside the result's ${nInf} elements`);
    const o = same ? j : remap(j);
    if (o >= 0) out[o] = src[i];
  }
  return [makeTensor(x.dtype, shape, out as Data)];
});
