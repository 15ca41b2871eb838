// Ops that only change a tensor's shape (data shared, since tensors are immutable) or make
// tensors from shapes and attributes: Reshape, Flatten, Squeeze, Unsqueeze, Expand, Shape, Size,
// Constant, ConstantOfShape, Range.
import { LatheError } from '../../errors.ts';
import { numElements } from '../../types.ts';
import type { EvalContext } from '../registry.ts';
import { defineOnnxEvals, evalError } from '../registry.ts';
import type { Data, Tensor } from '../tensor.ts';
import { allocData, isBigDType, makeTensor, tensorFrom } from '../tensor.ts';
import type { AnyArray } from './util.ts';
import { broadcastShape, broadcastTo, intsOf, normAxis, reshaped } from './util.ts';

const i64 = (shape: readonly number[], values: readonly number[]) => tensorFrom('i64', shape, values);

defineOnnxEvals(['Reshape'], (ctx) => {
  const x = ctx.tensor(0);
  const spec = ctx.opset < 5 ? [...ctx.ints('shape')] : intsOf(ctx.tensor(1));
  const allowZero = ctx.int('allowzero', 0) === 1;
  const shape = spec.map((d, i) => (d === 0 && !allowZero ? x.shape[i]! : d));
  const minus = shape.indexOf(-1);
  if (minus >= 0) {
    const known = shape.reduce((p, d, i) => (i === minus ? p : p * d), 1);
    const total = numElements(x.shape);
    if (known === 0 || total % known !== 0) ctx.fail(`cannot reshape [${x.shape.join(', ')}] to [${spec.join(', ')}]`);
    shape[minus] = total / known;
  }
  if (numElements(shape) !== x.data.length) ctx.fail(`cannot reshape [${x.shape.join(', ')}] to [${spec.join(', ')}]`);
  return [reshaped(x, shape)];
});

defineOnnxEvals(['Flatten'], (ctx) => {
  const x = ctx.tensor(0);
  const r = x.shape.length;
  let axis = ctx.int('axis', 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r) ctx.fail(`axis ${ctx.int('axis', 1)} is out of range for rank ${r}`);
  const outer = numElements(x.shape.slice(0, axis));
  return [reshaped(x, [outer, numElements(x.shape.slice(axis))])];
});

/** Axes from the attribute (older opsets) or the optional operand 1 (opset ≥ 13). */
function axesOf(ctx: EvalContext, fromOpset: number): number[] | undefined {
  if (ctx.opset < fromOpset) {
    const a = ctx.attr('axes');
    return a ? [...ctx.ints('axes')] : undefined;
  }
  const t = ctx.optTensor(1);
  return t ? intsOf(t) : undefined;
}

defineOnnxEvals(['Squeeze'], (ctx) => {
  const x = ctx.tensor(0);
  const r = x.shape.length;
  const axes = axesOf(ctx, 13)?.map((a) => normAxis(a, r));
  for (const a of axes ?? []) if (x.shape[a] !== 1) ctx.fail(`cannot squeeze axis ${a} of size ${x.shape[a]}`);
  const shape = x.shape.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
  return [reshaped(x, shape)];
});

defineOnnxEvals(['Unsqueeze'], (ctx) => {
  const x = ctx.tensor(0);
  const axes = axesOf(ctx, 13);
  if (!axes) throw evalError('Unsqueeze needs axes');
  const r = x.shape.length + axes.length;
  const norm = axes.map((a) => normAxis(a, r));
  if (new Set(norm).size !== norm.length) ctx.fail(`repeated axis in [${axes.join(', ')}]`);
  const shape: number[] = [];
  let k = 0;
  for (let i = 0; i < r; i++) shape.push(norm.includes(i) ? 1 : x.shape[k++]!);
  return [reshaped(x, shape)];
});

defineOnnxEvals(['Expand'], (ctx) => {
  const x = ctx.tensor(0);
  const shape = broadcastShape([x.shape, intsOf(ctx.tensor(1))]);
  return [broadcastTo(x, shape)];
});

defineOnnxEvals(['Shape'], (ctx) => {
  const s = ctx.value(0);
  if (!('dtype' in s) || 'kind' in s) ctx.fail('Shape needs a tensor');
  const dims = (s as Tensor).shape;
  const r = dims.length;
  const clamp = (v: number) => Math.min(r, Math.max(0, v < 0 ? v + r : v));
  const start = clamp(ctx.int('start', 0));
  const end = ctx.attr('end') ? clamp(ctx.int('end')) : r;
  const out = dims.slice(start, Math.max(start, end));
  return [i64([out.length], out)];
});

defineOnnxEvals(['Size'], (ctx) => [i64([], [ctx.tensor(0).data.length])]);

defineOnnxEvals(['Constant'], (ctx) => {
  const t = ctx.tensorAttr('value');
  if (t) return [t];
  const a = (n: string) => ctx.attr(n) !== undefined;
  if (a('value_float')) return [tensorFrom('f32', [], [ctx.float('value_float')])];
  if (a('value_floats')) { const v = ctx.floats('value_floats'); return [tensorFrom('f32', [v.length], v)]; }
  if (a('value_int')) return [i64([], [ctx.int('value_int')])];
  if (a('value_ints')) { const v = ctx.ints('value_ints'); return [i64([v.length], v)]; }
  if (a('value_string')) return [tensorFrom('string', [], [ctx.string('value_string')])];
  if (a('value_strings')) { const v = ctx.strings('value_strings'); return [tensorFrom('string', [v.length], v)]; }
  throw new LatheError('UnsupportedType', 'Constant has no value lathe can hold (sparse_value is not supported)');
});

defineOnnxEvals(['ConstantOfShape'], (ctx) => {
  const shape = intsOf(ctx.tensor(0));
  const v = ctx.tensorAttr('value');
  const dtype = v?.dtype ?? 'f32';
  const out = allocData(dtype, numElements(shape)) as AnyArray;
  const fill = v ? (v.data as AnyArray)[0] : 0;
  for (let i = 0; i < out.length; i++) out[i] = fill;
  return [makeTensor(dtype, shape, out as Data)];
});

defineOnnxEvals(['Range'], (ctx) => {
  const [s, l, d] = [ctx.tensor(0), ctx.tensor(1), ctx.tensor(2)];
  const dtype = s.dtype;
  if (isBigDType(dtype)) {
    const [start, limit, delta] = [s.data[0] as bigint, l.data[0] as bigint, d.data[0] as bigint];
    if (delta === 0n) ctx.fail('Range delta must not be 0');
    const diff = limit - start;
    // ceil(diff / delta) in exact integer arithmetic.
    let n = diff / delta;
    if (n * delta !== diff && (diff > 0n) === (delta > 0n)) n += 1n;
    const count = n > 0n ? Number(n) : 0;
    const out = allocData(dtype, count) as BigInt64Array;
    for (let i = 0; i < count; i++) out[i] = start + BigInt(i) * delta;
    return [makeTensor(dtype, [count], out)];
  }
  const [start, limit, delta] = [Number(s.data[0]), Number(l.data[0]), Number(d.data[0])];
  const count = Math.max(Math.ceil((limit - start) / delta), 0);
  const out = allocData(dtype, count) as AnyArray;
  for (let i = 0; i < count; i++) out[i] = start + i * delta;
  return [makeTensor(dtype, [count], out as Data)];
});
