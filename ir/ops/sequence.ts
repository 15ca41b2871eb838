// Sequence and optional ops. A sequence's element type is the merge of every tensor that may be
// in it (dims kept where they agree), since positions are run-time values.
import { dtypeFromOnnx } from '../dtype.ts';
import type { InferContext } from '../op.ts';
import { atLeast, between, exactly } from '../op.ts';
import type { Dim, SequenceType, TensorType, ValueType } from '../types.ts';
import { optionalOf, sequenceOf, tensor, typeToString } from '../types.ts';
import { attr, expectDType, normalizeAxis, onnxOp } from './util.ts';
import { INDEX, knownValues, mergeTypes } from './shape-util.ts';

function seqOperand(ctx: InferContext, i: number): SequenceType {
  const t = ctx.type(i);
  if (t.kind !== 'sequence') ctx.fail(`operand ${i} must be a sequence, got ${typeToString(t)}`);
  return t;
}

function seqTensorElem(ctx: InferContext, i: number): TensorType {
  const e = seqOperand(ctx, i).elem;
  if (e.kind !== 'tensor') ctx.fail(`operand ${i} must be a sequence of tensors, got ${typeToString(ctx.type(i))}`);
  return e;
}

function position(ctx: InferContext, i: number): void {
  if (!ctx.has(i)) return;
  const p = expectDType(ctx, i, INDEX);
  // The spec says scalar; ONNX's own test data also passes a one-element 1-D tensor.
  const one = p.shape === null || p.shape.length === 0 || (p.shape.length === 1 && (p.shape[0] === 1 || p.shape[0] === null));
  if (!one) ctx.fail(`position must be a scalar, got ${typeToString(p)}`);
}

onnxOp('SequenceEmpty', exactly(0), exactly(1), { dtype: attr.int }, (ctx) => {
  const d = dtypeFromOnnx(ctx.int('dtype', 1));
  if (typeof d !== 'string') return ctx.fail(`attribute 'dtype': ${d.unsupported}`);
  return [sequenceOf(tensor(d, null))];
});

onnxOp('SequenceConstruct', atLeast(1), exactly(1), {}, (ctx) => {
  let elem: ValueType = ctx.tensor(0);
  for (let i = 1; i < ctx.numInputs; i++) elem = mergeTypes(ctx, elem, ctx.tensor(i), `operand ${i}`);
  return [sequenceOf(elem)];
});

onnxOp('SequenceInsert', between(2, 3), exactly(1), {}, (ctx) => {
  const s = seqOperand(ctx, 0);
  position(ctx, 2);
  // An empty sequence's element shape is unknown; what goes in it decides nothing about later elements.
  return [sequenceOf(mergeTypes(ctx, s.elem, ctx.tensor(1), 'the inserted tensor'))];
});

onnxOp('SequenceAt', exactly(2), exactly(1), {}, (ctx) => {
  position(ctx, 1);
  return [seqOperand(ctx, 0).elem];
});

onnxOp('SequenceErase', between(1, 2), exactly(1), {}, (ctx) => {
  position(ctx, 1);
  return [seqOperand(ctx, 0)];
});

onnxOp('SequenceLength', exactly(1), exactly(1), {}, (ctx) => {
  seqOperand(ctx, 0);
  return [tensor('i64', [])];
});

onnxOp('ConcatFromSequence', exactly(1), exactly(1), { axis: { kind: 'int', required: true }, new_axis: attr.int }, (ctx) => {
  const e = seqTensorElem(ctx, 0);
  if (e.shape === null) return [tensor(e.dtype, null)];
  const stack = ctx.int('new_axis', 0) === 1;
  const a = normalizeAxis(ctx, ctx.int('axis'), e.shape.length + (stack ? 1 : 0));
  const out: Dim[] = [...e.shape];
  if (stack) out.splice(a, 0, null);
  else out[a] = null;
  return [tensor(e.dtype, out)];
});

onnxOp('SplitToSequence', between(1, 2), exactly(1), { axis: attr.int, keepdims: attr.int }, (ctx) => {
  const t = ctx.tensor(0);
  if (t.shape === null) return [sequenceOf(tensor(t.dtype, null))];
  const a = normalizeAxis(ctx, ctx.int('axis', 0), t.shape.length);
  let piece: Dim | 'drop';
  if (!ctx.has(1)) piece = ctx.int('keepdims', 1) === 1 ? 1 : 'drop';
  else {
    const s = expectDType(ctx, 1, INDEX);
    const v = knownValues(ctx, 1);
    // A scalar split is a chunk size (the last chunk may be shorter); a list gives every size.
    if (s.shape?.length === 0) piece = typeof v?.[0] === 'number' && t.shape[a] === v[0] ? v[0] : null;
    else piece = v && v.length > 0 && v.every((x) => x === v[0]) ? v[0]! : null;
  }
  const out = piece === 'drop' ? t.shape.filter((_, i) => i !== a) : t.shape.map((d, i) => (i === a ? piece as Dim : d));
  return [sequenceOf(tensor(t.dtype, out))];
});

onnxOp('SequenceMap', atLeast(1), atLeast(1), { body: attr.graph }, (ctx) => {
  seqOperand(ctx, 0);
  const ins = Array.from({ length: ctx.numInputs }, (_, i) => {
    const t = ctx.type(i);
    return t.kind === 'sequence' ? t.elem : t;
  });
  const outs = ctx.subgraph('body', ins);
  if (outs.length !== ctx.numOutputs) ctx.fail(`body returns ${outs.length} values for ${ctx.numOutputs} results`);
  return outs.map((t) => sequenceOf(t));
});

onnxOp('Optional', between(0, 1), exactly(1), { type: { kind: 'type' } }, (ctx) => {
  if (ctx.has(0)) {
    const t = ctx.type(0);
    const declared = ctx.attr('type');
    if (declared?.kind === 'type') mergeTypes(ctx, declared.value, t, 'the operand and the type attribute');
    return [optionalOf(t)];
  }
  const a = ctx.attr('type');
  if (a?.kind !== 'type') return ctx.fail('an empty Optional needs the type attribute');
  return [optionalOf(a.value)];
});

// Opset 18 lets these take a plain tensor or sequence too (then it is simply present).
onnxOp('OptionalGetElement', exactly(1), exactly(1), {}, (ctx) => {
  const t = ctx.type(0);
  if (t.kind === 'optional') return [t.elem];
  if (ctx.opset < 18) ctx.fail(`operand must be an optional, got ${typeToString(t)}`);
  return [t];
});

onnxOp('OptionalHasElement', between(0, 1), exactly(1), {}, (ctx) => {
  if (!ctx.has(0) && ctx.opset < 18) ctx.fail('needs an operand before opset 18');
  if (ctx.has(0) && ctx.type(0).kind !== 'optional' && ctx.opset < 18) ctx.fail('operand must be an optional');
  return [tensor('bool', [])];
});
