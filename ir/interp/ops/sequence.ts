// Sequence and Optional values: SequenceEmpty/Construct/Insert/At/Erase/Length,
// ConcatFromSequence, SplitToSequence, SequenceMap, Optional, OptionalGetElement and
// OptionalHasElement. Sequences are immutable lists of tensors: every op builds a new one.
import type { DType } from '../../dtype.ts';
import { dtypeFromOnnx } from '../../dtype.ts';
import type { ValueType } from '../../types.ts';
import type { EvalContext } from '../registry.ts';
import { defineOnnxEvals, evalError } from '../registry.ts';
import type { Optional, RuntimeValue, Sequence, Tensor } from '../tensor.ts';
import { allocData, describe, isTensor, makeTensor, scalarOf } from '../tensor.ts';
import { evalAs } from './eval-as.ts';
import { aroundAxis, copyRange, intsOf, normAxis, reshaped } from './util.ts';

const seq = (dtype: DType, items: readonly Tensor[]): Sequence => ({ kind: 'sequence', dtype, items });
const i64Scalar = (v: number) => makeTensor('i64', [], new BigInt64Array([BigInt(v)]));

function sequenceArg(ctx: EvalContext, i: number): Sequence {
  const v = ctx.value(i);
  if (isTensor(v) || v.kind !== 'sequence') throw evalError(`operand ${i} must be a sequence, got ${describe(v)}`);
  return v;
}

/** The element dtype a result declares (for sequences that may come out empty). */
function declaredElemDType(ctx: EvalContext, out: number): DType | undefined {
  let t: ValueType | undefined = ctx.node.outputs[out]?.type;
  while (t && t.kind !== 'tensor') t = t.elem;
  return t && !(t as { placeholder?: boolean }).placeholder ? t.dtype : undefined;
}

/** A position operand: negative counts from the end; `n` (one past the end) only if `inclusive`. */
function position(ctx: EvalContext, i: number, n: number, dflt: number, inclusive: boolean): number {
  if (!ctx.has(i)) return dflt;
  const p = scalarOf(ctx.tensor(i));
  const q = p < 0 ? p + n : p;
  if (q < 0 || q > (inclusive ? n : n - 1)) ctx.fail(`position ${p} is out of range for a sequence of ${n}`);
  return q;
}

defineOnnxEvals(['SequenceEmpty'], (ctx) => {
  const d = dtypeFromOnnx(ctx.int('dtype', 1));
  if (typeof d !== 'string') throw evalError(`dtype: ${d.unsupported}`);
  return [seq(d, [])];
});

defineOnnxEvals(['SequenceConstruct'], (ctx) => {
  const items = ctx.inputs.map((_, i) => ctx.tensor(i));
  if (items.some((t) => t.dtype !== items[0]!.dtype)) ctx.fail('sequence elements must share one dtype');
  return [seq(items[0]!.dtype, items)];
});

defineOnnxEvals(['SequenceInsert'], (ctx) => {
  const s = sequenceArg(ctx, 0);
  const t = ctx.tensor(1);
  if (t.dtype !== s.dtype) ctx.fail(`inserting ${t.dtype} into a sequence of ${s.dtype}`);
  const p = position(ctx, 2, s.items.length, s.items.length, true);
  return [seq(s.dtype, [...s.items.slice(0, p), t, ...s.items.slice(p)])];
});

defineOnnxEvals(['SequenceAt'], (ctx) => {
  const s = sequenceArg(ctx, 0);
  return [s.items[position(ctx, 1, s.items.length, 0, false)]!];
});

defineOnnxEvals(['SequenceErase'], (ctx) => {
  const s = sequenceArg(ctx, 0);
  const p = position(ctx, 1, s.items.length, s.items.length - 1, false);
  return [seq(s.dtype, s.items.filter((_, i) => i !== p))];
});

defineOnnxEvals(['SequenceLength'], (ctx) => [i64Scalar(sequenceArg(ctx, 0).items.length)]);

defineOnnxEvals(['ConcatFromSequence'], (ctx) => {
  const s = sequenceArg(ctx, 0);
  if (s.items.length === 0) ctx.fail('cannot concatenate an empty sequence');
  let items: RuntimeValue[] = [...s.items];
  if (ctx.int('new_axis', 0) === 1) {
    // Stacking: give every element a new dim of 1 at the axis (valid range [-r-1, r]), then
    // Concat on it; Concat normalizes the same axis against rank r+1.
    const r = s.items[0]!.shape.length;
    const a = normAxis(ctx.int('axis'), r + 1);
    items = s.items.map((t) => reshaped(t, [...t.shape.slice(0, a), 1, ...t.shape.slice(a)]));
  }
  return [evalAs(ctx, 'Concat', items)[0]];
});

defineOnnxEvals(['SplitToSequence'], (ctx) => {
  const x = ctx.tensor(0);
  const axis = normAxis(ctx.int('axis', 0), x.shape.length);
  const dim = x.shape[axis]!;
  const split = ctx.optTensor(1);
  let sizes: number[];
  // keepdims only applies when no split is given (then every part has length 1).
  let squeeze = false;
  if (!split) {
    sizes = new Array<number>(dim).fill(1);
    squeeze = ctx.int('keepdims', 1) === 0;
  } else if (split.shape.length === 0) {
    // A scalar split is a chunk length; the last chunk takes what is left.
    const each = scalarOf(split);
    if (each <= 0) ctx.fail(`split ${each} must be positive`);
    sizes = [];
    for (let at = 0; at < dim; at += each) sizes.push(Math.min(each, dim - at));
  } else {
    sizes = intsOf(split);
    if (sizes.reduce((a, b) => a + b, 0) !== dim) ctx.fail(`split sizes [${sizes.join(', ')}] do not add up to ${dim}`);
  }
  const [outer, , inner] = aroundAxis(x.shape, axis);
  let start = 0;
  const items = sizes.map((len) => {
    const shape = [...x.shape];
    shape[axis] = len;
    const out = allocData(x.dtype, outer * len * inner);
    for (let o = 0; o < outer; o++) copyRange(out, o * len * inner, x.data, (o * dim + start) * inner, len * inner);
    start += len;
    if (squeeze) shape.splice(axis, 1);
    return makeTensor(x.dtype, shape, out);
  });
  return [seq(x.dtype, items)];
});

defineOnnxEvals(['SequenceMap'], (ctx) => {
  const body = ctx.graph('body');
  const first = sequenceArg(ctx, 0);
  const n = first.items.length;
  // Sequence operands are walked in step; tensor operands go to every iteration unchanged.
  const args = ctx.inputs.map((v, i) => {
    if (v === undefined || isTensor(v)) return v;
    if (v.kind !== 'sequence') throw evalError(`operand ${i} must be a tensor or a sequence, got ${describe(v)}`);
    if (v.items.length !== n) ctx.fail(`sequence operand ${i} has ${v.items.length} elements, the first has ${n}`);
    return v;
  });
  const results: Tensor[][] = body.outputs.map(() => []);
  for (let k = 0; k < n; k++) {
    const outs = ctx.runGraph(body, args.map((v) => (v === undefined || isTensor(v) ? v : (v as Sequence).items[k])));
    outs.forEach((o, j) => {
      if (!isTensor(o)) throw evalError(`the body's result ${j} is ${describe(o)}, not a tensor`);
      results[j]!.push(o);
    });
  }
  return results.map((items, j) => {
    const dtype = items[0]?.dtype ?? declaredElemDType(ctx, j);
    if (!dtype) ctx.fail(`cannot tell the element type of empty result ${j}`);
    return seq(dtype, items);
  });
});

defineOnnxEvals(['Optional'], (ctx): RuntimeValue[] => {
  if (!ctx.has(0)) return [{ kind: 'optional', value: undefined }];
  const v = ctx.value(0);
  if (!isTensor(v) && v.kind === 'optional') ctx.fail('an optional cannot hold an optional');
  return [{ kind: 'optional', value: v as Tensor | Sequence }];
});

defineOnnxEvals(['OptionalGetElement'], (ctx) => {
  const v = ctx.value(0);
  // From opset 18 a plain tensor or sequence passes through unchanged.
  if (isTensor(v) || v.kind === 'sequence') return [v];
  if (v.value === undefined) ctx.fail('the optional is empty');
  return [v.value];
});

defineOnnxEvals(['OptionalHasElement'], (ctx) => {
  // From opset 18 the operand may be omitted (no element) or be a plain tensor or sequence.
  const v = ctx.inputs[0];
  const has = v !== undefined && (isTensor(v) || v.kind !== 'optional' || (v as Optional).value !== undefined);
  return [makeTensor('bool', [], new Uint8Array([has ? 1 : 0]))];
});
