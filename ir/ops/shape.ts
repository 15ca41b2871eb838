// Ops that read or rewrite shapes without moving data: Shape, Size, Reshape, Flatten, Squeeze,
// Unsqueeze, Expand, ConstantOfShape. Shape/Size produce shape values and the others pass them
// through, so Shape → Gather → Unsqueeze → Concat → Reshape chains keep symbolic dims.
import type { InferContext } from '../op.ts';
import { between, exactly } from '../op.ts';
import type { Dim, Shape } from '../types.ts';
import { tensor } from '../types.ts';
import type { ConstTensor } from '../tensor-data.ts';
import { attr, expectDType, onnxOp } from './util.ts';
import {
  attrOrInput, dimsProduct, HUGE, knownLength, knownValues, MAX_VALUES, normalizeAxes, readNumbers, smallInt, unknownDims,
} from './shape-util.ts';

/** The values of operand 0 carried over unchanged (the op only changes the shape, not the elements). */
export function passValues(ctx: InferContext): readonly Dim[] | undefined {
  return smallInt(ctx, ctx.tensor(0).dtype, ctx.values(0));
}

/** Shape's [start, end) window over the dims, clamped as ONNX does (opset 15). */
function shapeWindow(ctx: InferContext, rank: number): [number, number] {
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  const start = clamp(ctx.int('start', 0));
  const end = clamp(ctx.int('end', HUGE));
  return [start, Math.max(start, end)];
}

onnxOp('Shape', exactly(1), exactly(1), { start: attr.int, end: attr.int }, (ctx) => {
  const s = ctx.tensor(0).shape;
  if (s === null) return [tensor('i64', [null])];
  const [a, b] = shapeWindow(ctx, s.length);
  return [tensor('i64', [b - a])];
}, (ctx) => {
  const s = ctx.tensor(0).shape;
  if (s === null) return undefined;
  const [a, b] = shapeWindow(ctx, s.length);
  return s.slice(a, b);
});

onnxOp('Size', exactly(1), exactly(1), {}, () => [tensor('i64', [])], (ctx) => {
  const s = ctx.tensor(0).shape;
  return s === null ? undefined : [dimsProduct(s)];
});

onnxOp(
  'Reshape',
  between(1, 2),
  exactly(1),
  { shape: attr.ints, consumed_inputs: attr.ints, allowzero: attr.int },
  (ctx) => {
    const data = ctx.tensor(0);
    const target = attrOrInput(ctx, 'shape', 1, 5);
    if (!target.present) ctx.fail('needs a target shape');
    if (ctx.opset >= 5) expectDType(ctx, 1, ['i64']);
    if (!target.values) return [tensor(data.dtype, unknownDims(knownLength(ctx, 1)))];
    return [tensor(data.dtype, reshapeDims(ctx, data.shape, target.values, ctx.int('allowzero', 0) === 1))];
  },
  passValues,
);

/** The result dims of Reshape: 0 copies the input dim (unless allowzero), -1 is inferred. */
function reshapeDims(ctx: InferContext, input: Shape, target: readonly Dim[], allowzero: boolean): Dim[] {
  let inferAt = -1;
  const out: Dim[] = target.map((v, i) => {
    if (v === 0 && !allowzero) {
      if (input === null) return null;
      if (i >= input.length) ctx.fail(`shape element ${i} is 0 (copy) but the input has rank ${input.length}`);
      return input[i]!;
    }
    if (v === -1) {
      if (inferAt >= 0) ctx.fail(`shape [${target.map(String).join(', ')}] has more than one -1`);
      inferAt = i;
      return null;
    }
    if (typeof v === 'number' && v < -1) ctx.fail(`shape element ${v} is invalid`);
    return v;
  });
  if (allowzero && inferAt >= 0 && out.includes(0)) ctx.fail('allowzero with both 0 and -1 in the shape is invalid');
  const describe = () => `cannot reshape [${input!.join(', ')}] to [${target.map(String).join(', ')}]`;
  if (inferAt >= 0) {
    if (input === null) return out;
    const q = quotient(input, out.filter((_, i) => i !== inferAt));
    if (q === 'indivisible') ctx.fail(describe());
    out[inferAt] = q;
  } else if (input !== null) {
    const a = dimsProduct(input);
    const b = dimsProduct(out);
    if (typeof a === 'number' && typeof b === 'number' && a !== b) ctx.fail(describe());
  }
  return out;
}

/**
 * product(num) / product(den) with symbols cancelled: a known number, a single leftover
 * symbol (e.g. [batch, seq, 768] / [seq, 768] = batch), or null when it cannot be told.
 */
function quotient(num: readonly Dim[], den: readonly Dim[]): Dim | 'indivisible' {
  if (num.includes(null) || den.includes(null)) return null;
  const syms = num.filter((d): d is string => typeof d === 'string');
  let n = 1;
  for (const d of num) if (typeof d === 'number') n *= d;
  let m = 1;
  for (const d of den) {
    if (typeof d === 'number') m *= d;
    else {
      const at = syms.indexOf(d as string);
      if (at < 0) return null;
      syms.splice(at, 1);
    }
  }
  if (m === 0) return null;
  if (syms.length === 0) return n % m === 0 ? n / m : 'indivisible';
  return syms.length === 1 && n === m ? syms[0]! : null;
}

onnxOp('Flatten', exactly(1), exactly(1), { axis: attr.int }, (ctx) => {
  const t = ctx.tensor(0);
  const axis = ctx.int('axis', 1);
  if (t.shape === null) return [tensor(t.dtype, [axis === 0 ? 1 : null, null])];
  const r = t.shape.length;
  if (axis < -r || axis > r) ctx.fail(`axis ${axis} is out of range for rank ${r}`);
  const a = axis < 0 ? axis + r : axis;
  return [tensor(t.dtype, [dimsProduct(t.shape.slice(0, a)), dimsProduct(t.shape.slice(a))])];
}, passValues);

onnxOp('Squeeze', between(1, 2), exactly(1), { axes: attr.ints }, (ctx) => {
  const t = ctx.tensor(0);
  const axes = attrOrInput(ctx, 'axes', 1, 13);
  if (t.shape === null) return [tensor(t.dtype, null)];
  if (!axes.present) {
    // Without axes every size-1 dim goes; a symbol might be 1 at run time, so the rank is unknown.
    if (!t.shape.every((d) => typeof d === 'number')) return [tensor(t.dtype, null)];
    return [tensor(t.dtype, t.shape.filter((d) => d !== 1))];
  }
  if (!axes.values || axes.values.some((a) => typeof a !== 'number')) {
    const k = axes.values?.length ?? knownLength(ctx, 1);
    return [tensor(t.dtype, unknownDims(k === undefined ? undefined : t.shape.length - k))];
  }
  const drop = normalizeAxes(ctx, axes.values as number[], t.shape.length);
  for (const a of drop) {
    const d = t.shape[a]!;
    if (typeof d === 'number' && d !== 1) ctx.fail(`cannot squeeze axis ${a} of size ${d}`);
  }
  return [tensor(t.dtype, t.shape.filter((_, i) => !drop.includes(i)))];
}, passValues);

onnxOp('Unsqueeze', between(1, 2), exactly(1), { axes: attr.ints }, (ctx) => {
  const t = ctx.tensor(0);
  const axes = attrOrInput(ctx, 'axes', 1, 13);
  if (!axes.present) ctx.fail('needs axes');
  if (t.shape === null) return [tensor(t.dtype, null)];
  if (!axes.values || axes.values.some((a) => typeof a !== 'number')) {
    const k = axes.values?.length ?? knownLength(ctx, 1);
    return [tensor(t.dtype, unknownDims(k === undefined ? undefined : t.shape.length + k))];
  }
  const rank = t.shape.length + axes.values.length;
  const add = normalizeAxes(ctx, axes.values as number[], rank);
  const rest = [...t.shape];
  return [tensor(t.dtype, Array.from({ length: rank }, (_, i) => (add.includes(i) ? 1 : rest.shift()!)))];
}, passValues);

onnxOp('Expand', exactly(2), exactly(1), {}, (ctx) => {
  const t = ctx.tensor(0);
  expectDType(ctx, 1, ['i64']);
  const target = knownValues(ctx, 1) ?? unknownDims(knownLength(ctx, 1));
  if (t.shape === null || target === null) return [tensor(t.dtype, null)];
  return [tensor(t.dtype, expandShape(ctx, t.shape, target))];
}, passValues);

/**
 * Expand's broadcast: unlike two operands of Add, an unknown target dim is 1 or the input's
 * dim, so the input's dim survives it.
 */
function expandShape(ctx: InferContext, input: readonly Dim[], target: readonly Dim[]): Dim[] {
  const rank = Math.max(input.length, target.length);
  return Array.from({ length: rank }, (_, i) => {
    const ai = input.length - rank + i;
    const bi = target.length - rank + i;
    const a = ai < 0 ? 1 : input[ai]!;
    const b = bi < 0 ? 1 : target[bi]!;
    if (b === 1 || b === null) return b === null && a === 1 ? null : a;
    if (a === 1 || a === null) return b;
    if (typeof a === 'number' && typeof b === 'number') {
      if (a !== b) ctx.fail(`cannot expand [${input.join(', ')}] to [${target.map(String).join(', ')}]`);
      return a;
    }
    if (typeof a === 'number') return a;
    if (typeof b === 'number') return b;
    return a === b ? a : null;
  });
}

onnxOp('ConstantOfShape', exactly(1), exactly(1), { value: attr.tensor }, (ctx) => {
  expectDType(ctx, 0, ['i64']);
  const a = ctx.attr('value');
  const value = a?.kind === 'tensor' ? (a.value as ConstTensor) : undefined;
  if (value && value.shape.reduce((x, y) => x * y, 1) !== 1) ctx.fail('value must hold exactly one element');
  const dims = knownValues(ctx, 0) ?? unknownDims(knownLength(ctx, 0));
  return [tensor(value?.dtype ?? 'f32', dims)];
}, (ctx) => {
  // A small integer fill of a known shape (ONNX's expanded LayerNorm builds [.., 1, 1] this way).
  const a = ctx.attr('value');
  const dims = knownValues(ctx, 0);
  if (a?.kind !== 'tensor' || !dims || !dims.every((d): d is number => typeof d === 'number') || dims.length > 1) return undefined;
  const fill = readNumbers(a.value)?.[0];
  const n = dims.length === 0 ? 1 : dims[0]!;
  if (fill === undefined || n > MAX_VALUES) return undefined;
  return smallInt(ctx, a.value.dtype, Array.from({ length: n }, () => fill));
});
