// Data movement: Transpose, Slice, Tile and Pad (each an index map built from one table per
// dim), Concat and Split (block copies).
import { numElements } from '../../types.ts';
import type { EvalContext } from '../registry.ts';
import { defineOnnxEvals } from '../registry.ts';
import type { Tensor } from '../tensor.ts';
import { allocData, makeTensor } from '../tensor.ts';
import { aroundAxis, copyRange, intsOf, normAxis, stridesOf, tableIndex, takeFlat, takeOrFill } from './util.ts';

/** table[j] = j·step·stride + offset, for a dim of `len` elements. */
function linearTable(len: number, stride: number, start = 0, step = 1): Float64Array {
  const t = new Float64Array(len);
  for (let j = 0; j < len; j++) t[j] = (start + j * step) * stride;
  return t;
}

export function transpose(x: Tensor, perm: readonly number[]): Tensor {
  const strides = stridesOf(x.shape);
  const shape = perm.map((p) => x.shape[p]!);
  if (perm.every((p, i) => p === i)) return x;
  const idx = tableIndex(shape, perm.map((p, i) => linearTable(shape[i]!, strides[p]!)));
  return takeFlat(x, idx, shape);
}

defineOnnxEvals(['Transpose'], (ctx) => {
  const x = ctx.tensor(0);
  const r = x.shape.length;
  const perm = ctx.attr('perm') ? [...ctx.ints('perm')] : Array.from({ length: r }, (_, i) => r - 1 - i);
  if (perm.length !== r || new Set(perm).size !== r || perm.some((p) => p < 0 || p >= r)) {
    ctx.fail(`perm [${perm.join(', ')}] is not a permutation of rank ${r}`);
  }
  return [transpose(x, perm)];
});

defineOnnxEvals(['Slice'], (ctx) => {
  const x = ctx.tensor(0);
  const r = x.shape.length;
  let starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined;
  if (ctx.opset < 10) {
    starts = [...ctx.ints('starts')];
    ends = [...ctx.ints('ends')];
    axes = ctx.attr('axes') ? [...ctx.ints('axes')] : undefined;
  } else {
    starts = intsOf(ctx.tensor(1));
    ends = intsOf(ctx.tensor(2));
    axes = ctx.has(3) ? intsOf(ctx.tensor(3)) : undefined;
    steps = ctx.has(4) ? intsOf(ctx.tensor(4)) : undefined;
  }
  const ax = (axes ?? starts.map((_, i) => i)).map((a) => normAxis(a, r));
  const begin = new Array<number>(r).fill(0);
  const step = new Array<number>(r).fill(1);
  const shape = [...x.shape];
  ax.forEach((a, i) => {
    const dim = x.shape[a]!;
    const st = steps?.[i] ?? 1;
    if (st === 0) ctx.fail('Slice step must not be 0');
    let s = starts[i]!;
    let e = ends[i]!;
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    // Clamp as ONNX specifies: [0, dim] going forward, [-1, dim-1] going backward.
    if (st > 0) {
      s = Math.min(Math.max(s, 0), dim);
      e = Math.min(Math.max(e, 0), dim);
    } else {
      s = Math.min(Math.max(s, 0), dim - 1);
      e = Math.min(Math.max(e, -1), dim - 1);
    }
    begin[a] = s;
    step[a] = st;
    shape[a] = Math.max(0, Math.ceil((e - s) / st));
  });
  const strides = stridesOf(x.shape);
  const idx = tableIndex(shape, shape.map((len, d) => linearTable(len, strides[d]!, begin[d]!, step[d]!)));
  return [takeFlat(x, idx, shape)];
});

defineOnnxEvals(['Tile'], (ctx) => {
  const x = ctx.tensor(0);
  const reps = intsOf(ctx.tensor(1));
  if (reps.length !== x.shape.length) ctx.fail(`repeats has ${reps.length} entries for rank ${x.shape.length}`);
  const strides = stridesOf(x.shape);
  const shape = x.shape.map((d, i) => d * reps[i]!);
  const tables = shape.map((len, d) => {
    const t = new Float64Array(len);
    for (let j = 0; j < len; j++) t[j] = (j % x.shape[d]!) * strides[d]!;
    return t;
  });
  return [takeFlat(x, tableIndex(shape, tables), shape)];
});

/** Source coordinate of output coordinate j along a padded dim, or -1 for the pad value. */
function padCoord(mode: string, j: number, before: number, dim: number): number {
  const c = j - before;
  if (c >= 0 && c < dim) return c;
  if (mode === 'constant' || dim === 0) return -1;
  if (mode === 'edge') return c < 0 ? 0 : dim - 1;
  if (mode === 'wrap') return ((c % dim) + dim) % dim;
  // reflect: mirror without repeating the edge element (period 2·(dim−1)).
  if (dim === 1) return 0;
  const period = 2 * (dim - 1);
  const m = ((c % period) + period) % period;
  return m < dim ? m : period - m;
}

defineOnnxEvals(['Pad'], (ctx: EvalContext) => {
  const x = ctx.tensor(0);
  const r = x.shape.length;
  const mode = ctx.string('mode', 'constant');
  let pads: number[];
  let fill: unknown = x.dtype === 'i64' || x.dtype === 'u64' ? 0n : x.dtype === 'string' ? '' : 0;
  if (ctx.opset < 11) {
    pads = [...ctx.ints(ctx.opset < 2 ? 'paddings' : 'pads')];
    const v = ctx.float('value', 0);
    fill = typeof fill === 'bigint' ? BigInt(v) : v;
  } else {
    pads = intsOf(ctx.tensor(1));
    const cv = ctx.optTensor(2);
    if (cv && cv.data.length > 0) fill = cv.data[0];
  }
  const axes = ctx.has(3) ? intsOf(ctx.tensor(3)).map((a) => normAxis(a, r)) : Array.from({ length: r }, (_, i) => i);
  if (pads.length !== 2 * axes.length) ctx.fail(`pads has ${pads.length} entries for ${axes.length} axes`);
  const before = new Array<number>(r).fill(0);
  const after = new Array<number>(r).fill(0);
  axes.forEach((a, i) => {
    before[a] = pads[i]!;
    after[a] = pads[i + axes.length]!;
  });
  const shape = x.shape.map((d, i) => d + before[i]! + after[i]!);
  if (shape.some((d) => d < 0)) ctx.fail(`pads [${pads.join(', ')}] make a negative dim`);
  const strides = stridesOf(x.shape);
  const tables = shape.map((len, d) => {
    const t = new Float64Array(len);
    for (let j = 0; j < len; j++) {
      const c = padCoord(mode, j, before[d]!, x.shape[d]!);
      t[j] = c < 0 ? -Infinity : c * strides[d]!;
    }
    return t;
  });
  return [takeOrFill(x, tableIndex(shape, tables), shape, fill)];
});

defineOnnxEvals(['Concat'], (ctx) => {
  const parts = ctx.inputs.map((_, i) => ctx.tensor(i));
  const first = parts[0]!;
  const r = first.shape.length;
  const axis = normAxis(ctx.int('axis'), r);
  for (const p of parts) {
    if (p.dtype !== first.dtype) ctx.fail(`operands have dtypes ${first.dtype} and ${p.dtype}`);
    if (p.shape.length !== r || p.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
      ctx.fail(`cannot concatenate [${first.shape.join(', ')}] and [${p.shape.join(', ')}] on axis ${axis}`);
    }
  }
  const shape = [...first.shape];
  shape[axis] = parts.reduce((s, p) => s + p.shape[axis]!, 0);
  const out = allocData(first.dtype, numElements(shape));
  const [outer, , inner] = aroundAxis(shape, axis);
  const rowLen = shape[axis]! * inner;
  let offset = 0;
  for (const p of parts) {
    const block = p.shape[axis]! * inner;
    for (let o = 0; o < outer; o++) copyRange(out, o * rowLen + offset, p.data, o * block, block);
    offset += block;
  }
  return [makeTensor(first.dtype, shape, out)];
});

defineOnnxEvals(['Split'], (ctx) => {
  const x = ctx.tensor(0);
  const axis = normAxis(ctx.int('axis', 0), x.shape.length);
  const dim = x.shape[axis]!;
  const n = ctx.numOutputs;
  let sizes: number[];
  if (ctx.opset < 13 && ctx.attr('split')) sizes = [...ctx.ints('split')];
  else if (ctx.opset >= 13 && ctx.has(1)) sizes = intsOf(ctx.tensor(1));
  else if (ctx.opset < 13 && ctx.has(1)) sizes = intsOf(ctx.tensor(1)); // opset 2–12 also allowed an operand
  else {
    // Equal parts; from opset 18 the last part may be smaller (ceil division).
    const each = Math.ceil(dim / n);
    sizes = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(each, dim - i * each)));
  }
  if (sizes.reduce((a, b) => a + b, 0) !== dim) ctx.fail(`split sizes [${sizes.join(', ')}] do not add up to ${dim}`);
  const [outer, , inner] = aroundAxis(x.shape, axis);
  let start = 0;
  return sizes.map((len) => {
    const shape = [...x.shape];
    shape[axis] = len;
    const out = allocData(x.dtype, outer * len * inner);
    for (let o = 0; o < outer; o++) copyRange(out, o * len * inner, x.data, (o * dim + start) * inner, len * inner);
    start += len;
    return makeTensor(x.dtype, shape, out);
  });
});
