// Assorted ops with no other family: OneHot, Trilu, EyeLike, ReverseSequence, DepthToSpace,
// SpaceToDepth, CenterCropPad and Dropout (inference, and training with a seeded mask).
import type { DType } from '../../dtype.ts';
import { dtypeFromOnnx } from '../../dtype.ts';
import { numElements } from '../../types.ts';
import type { EvalContext } from '../registry.ts';
import { defineOnnxEvals, evalError } from '../registry.ts';
import type { Data } from '../tensor.ts';
import { allocData, isBigDType, makeTensor, roundTo, scalarOf, toF64 } from '../tensor.ts';
import { transpose } from './layout.ts';
import { uniformStream } from './random-util.ts';
import type { AnyArray } from './util.ts';
import { intsOf, normAxis, reshaped, stridesOf, tableIndex, takeFlat, takeOrFill } from './util.ts';

/** The dtype an attribute names (ONNX TensorProto code), or `dflt` when absent. */
function dtypeAttr(ctx: EvalContext, name: string, dflt: DType): DType {
  if (ctx.attr(name) === undefined) return dflt;
  const d = dtypeFromOnnx(ctx.int(name));
  if (typeof d !== 'string') throw evalError(`${name}: ${d.unsupported}`);
  return d;
}

/** The 1 (or 0) of a dtype, as its typed array holds it. */
const unit = (dtype: DType, v: 0 | 1) => (isBigDType(dtype) ? BigInt(v) : dtype === 'string' ? String(v) : v);

defineOnnxEvals(['OneHot'], (ctx) => {
  const ind = ctx.tensor(0);
  // A non-integral depth is truncated (ONNX casts it to int).
  const depth = Math.trunc(scalarOf(ctx.tensor(1)));
  const values = ctx.tensor(2);
  const [off, on] = [(values.data as AnyArray)[0], (values.data as AnyArray)[1]];
  const r = ind.shape.length;
  const axis = normAxis(ctx.int('axis', -1), r + 1);
  const shape = [...ind.shape.slice(0, axis), depth, ...ind.shape.slice(axis)];
  const out = allocData(values.dtype, numElements(shape)) as AnyArray;
  for (let i = 0; i < out.length; i++) out[i] = off;
  const inner = numElements(ind.shape.slice(axis));
  const idx = toF64(ind);
  for (let i = 0; i < idx.length; i++) {
    // Negative indices count from the end; indices outside [-depth, depth) stay all "off".
    let k = Math.trunc(idx[i]!);
    if (k < 0) k += depth;
    if (k < 0 || k >= depth) continue;
    const outer = Math.floor(i / inner);
    out[(outer * depth + k) * inner + (i % inner)] = on;
  }
  return [makeTensor(values.dtype, shape, out as Data)];
});

defineOnnxEvals(['Trilu'], (ctx) => {
  const x = ctx.tensor(0);
  const k = ctx.has(1) ? scalarOf(ctx.tensor(1)) : 0;
  const upper = ctx.int('upper', 1) === 1;
  const r = x.shape.length;
  if (r < 2) ctx.fail('Trilu needs rank ≥ 2');
  const [R, C] = [x.shape[r - 2]!, x.shape[r - 1]!];
  const src = x.data as AnyArray;
  const out = allocData(x.dtype, src.length) as AnyArray;
  // Entries off the kept triangle stay zero (allocData zero-fills).
  for (let b = 0; b < src.length; b += R * C) {
    for (let i = 0; i < R; i++) {
      for (let j = 0; j < C; j++) {
        const keep = upper ? j - i >= k : j - i <= k;
        if (keep) out[b + i * C + j] = src[b + i * C + j];
      }
    }
  }
  return [makeTensor(x.dtype, x.shape, out as Data)];
});

defineOnnxEvals(['EyeLike'], (ctx) => {
  const x = ctx.tensor(0);
  if (x.shape.length !== 2) ctx.fail('EyeLike needs a 2-D input');
  const dtype = dtypeAttr(ctx, 'dtype', x.dtype);
  const k = ctx.int('k', 0);
  const [R, C] = x.shape as [number, number];
  const out = allocData(dtype, R * C) as AnyArray;
  for (let i = 0; i < R; i++) {
    const j = i + k;
    if (j >= 0 && j < C) out[i * C + j] = unit(dtype, 1);
  }
  return [makeTensor(dtype, [R, C], out as Data)];
});

defineOnnxEvals(['ReverseSequence'], (ctx) => {
  const x = ctx.tensor(0);
  const lens = intsOf(ctx.tensor(1));
  const batchAxis = ctx.int('batch_axis', 1);
  const timeAxis = ctx.int('time_axis', 0);
  const xs = stridesOf(x.shape);
  // Each element reads the element at time len−1−t of its batch when t < len, else itself.
  const idx = new Int32Array(x.data.length);
  const T = x.shape[timeAxis]!;
  const B = x.shape[batchAxis]!;
  for (let i = 0; i < idx.length; i++) {
    const t = Math.floor(i / xs[timeAxis]!) % T;
    const b = Math.floor(i / xs[batchAxis]!) % B;
    const len = lens[b]!;
    idx[i] = t < len ? i + (len - 1 - 2 * t) * xs[timeAxis]! : i;
  }
  return [takeFlat(x, idx, x.shape)];
});

defineOnnxEvals(['DepthToSpace'], (ctx) => {
  const x = ctx.tensor(0);
  const b = ctx.int('blocksize');
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const c = C / (b * b);
  if (x.shape.length !== 4 || !Number.isInteger(c)) ctx.fail(`cannot move depth of [${x.shape.join(', ')}] by blocks of ${b}`);
  // DCR reads depth as (block row, block column, channel); CRD as (channel, block row, block column).
  const crd = ctx.string('mode', 'DCR') === 'CRD';
  const split = crd ? reshaped(x, [N, c, b, b, H, W]) : reshaped(x, [N, b, b, c, H, W]);
  const moved = transpose(split, crd ? [0, 1, 4, 2, 5, 3] : [0, 3, 4, 1, 5, 2]);
  return [reshaped(moved, [N, c, H * b, W * b])];
});

defineOnnxEvals(['SpaceToDepth'], (ctx) => {
  const x = ctx.tensor(0);
  const b = ctx.int('blocksize');
  const [N, C, H, W] = x.shape as [number, number, number, number];
  if (x.shape.length !== 4 || H % b !== 0 || W % b !== 0) ctx.fail(`cannot move [${x.shape.join(', ')}] into depth by blocks of ${b}`);
  const split = reshaped(x, [N, C, H / b, b, W / b, b]);
  return [reshaped(transpose(split, [0, 3, 5, 1, 2, 4]), [N, C * b * b, H / b, W / b])];
});

defineOnnxEvals(['CenterCropPad'], (ctx) => {
  const x = ctx.tensor(0);
  const target = intsOf(ctx.tensor(1));
  const r = x.shape.length;
  const axes = ctx.attr('axes') ? ctx.ints('axes').map((a) => normAxis(a, r)) : x.shape.map((_, i) => i);
  if (axes.length !== target.length) ctx.fail(`shape has ${target.length} entries for ${axes.length} axes`);
  const shape = [...x.shape];
  axes.forEach((a, i) => (shape[a] = target[i]!));
  const xs = stridesOf(x.shape);
  // Per dim: output j reads input j + shift, where a crop starts at ⌊(in−out)/2⌋ and a pad puts
  // ⌊(out−in)/2⌋ zeros before the data (the odd one goes after).
  const tables = shape.map((len, d) => {
    const inDim = x.shape[d]!;
    const shift = Math.floor((inDim - len) / 2);
    const t = new Float64Array(len);
    for (let j = 0; j < len; j++) {
      const s = j + (inDim >= len ? shift : -Math.floor((len - inDim) / 2));
      t[j] = s >= 0 && s < inDim ? s * xs[d]! : -Infinity;
    }
    return t;
  });
  const fill = unit(x.dtype, 0);
  return [takeOrFill(x, tableIndex(shape, tables), shape, fill)];
});

/** The dtype result `i` declares, if it is a tensor with a known dtype (not inference's placeholder). */
function declaredDType(ctx: EvalContext, i: number): DType | undefined {
  const t = ctx.node.outputs[i]?.type;
  return t?.kind === 'tensor' && !(t as { placeholder?: boolean }).placeholder ? t.dtype : undefined;
}

defineOnnxEvals(['Dropout'], (ctx) => {
  const x = ctx.tensor(0);
  // Opset 12 moved ratio to an operand and added training_mode, the only way to ask for
  // training. Opsets 1–6 defaulted to training (is_test=0), but models of that age use Dropout
  // at inference, and every runtime (ONNX Runtime included) runs it as the identity there, so
  // this oracle for an inference compiler does too.
  const ratio = ctx.opset >= 12 ? (ctx.has(1) ? scalarOf(ctx.tensor(1)) : 0.5) : ctx.float('ratio', 0.5);
  const training = ctx.opset >= 12 && ctx.has(2) && scalarOf(ctx.tensor(2)) !== 0;
  // The mask is bool from opset 10, the data's dtype before.
  const maskDType = declaredDType(ctx, 1) ?? (ctx.opset >= 10 ? 'bool' : x.dtype);
  const n = x.data.length;
  const keep = new Uint8Array(n).fill(1);
  let y = x;
  if (training && ratio > 0) {
    // Each element is kept with probability 1 − ratio and scaled by 1/(1 − ratio). The mask is
    // drawn from lathe's seeded generator, so no run matches another framework's draw.
    const u = uniformStream(ctx.attr('seed') ? ctx.float('seed') : undefined);
    for (let i = 0; i < n; i++) keep[i] = u() >= ratio ? 1 : 0;
    const src = x.data as AnyArray;
    const out = allocData(x.dtype, n) as AnyArray;
    const s = ratio < 1 ? 1 / (1 - ratio) : 0;
    for (let i = 0; i < n; i++) out[i] = keep[i] ? src[i] * s : 0;
    y = roundTo(makeTensor(x.dtype, x.shape, out as Data));
  }
  if (!ctx.wants(1)) return [y];
  const mask = allocData(maskDType, n) as AnyArray;
  for (let i = 0; i < n; i++) mask[i] = unit(maskDType, keep[i] as 0 | 1);
  return [y, makeTensor(maskDType, x.shape, mask as Data)];
});
