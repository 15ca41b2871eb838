// Indexing ops: the Gather family reads elements at given indices, the Scatter family writes
// them. Gather of a 1-D shape value by constant indices is how exports pick a dim out of Shape,
// so it propagates shape values.
import type { InferContext } from '../op.ts';
import { exactly } from '../op.ts';
import type { Dim } from '../types.ts';
import { tensor } from '../types.ts';
import { attr, expectDType, normalizeAxis, onnxOp, sameDType } from './util.ts';
import { INDEX, knownNumbers, smallInt } from './shape-util.ts';

onnxOp('Gather', exactly(2), exactly(1), { axis: attr.int }, (ctx) => {
  const data = ctx.tensor(0);
  const idx = expectDType(ctx, 1, INDEX);
  if (data.shape === null || idx.shape === null) return [tensor(data.dtype, null)];
  if (data.shape.length === 0) ctx.fail('cannot gather from a scalar');
  const a = normalizeAxis(ctx, ctx.int('axis', 0), data.shape.length);
  return [tensor(data.dtype, [...data.shape.slice(0, a), ...idx.shape, ...data.shape.slice(a + 1)])];
}, (ctx) => {
  const v = ctx.values(0);
  const idx = knownNumbers(ctx, 1);
  if (!v || !idx || ctx.tensor(0).shape?.length !== 1 || (ctx.tensor(1).shape?.length ?? 2) > 1) return undefined;
  const out: Dim[] = [];
  for (const i of idx) {
    const j = i < 0 ? i + v.length : i;
    if (j < 0 || j >= v.length) ctx.fail(`index ${i} is out of range for ${v.length} elements`);
    out.push(v[j]!);
  }
  return smallInt(ctx, ctx.tensor(0).dtype, out);
});

onnxOp('GatherElements', exactly(2), exactly(1), { axis: attr.int }, (ctx) => {
  const data = ctx.tensor(0);
  const idx = expectDType(ctx, 1, INDEX);
  if (data.shape && idx.shape) {
    if (data.shape.length !== idx.shape.length) ctx.fail(`indices rank ${idx.shape.length} differs from data rank ${data.shape.length}`);
    normalizeAxis(ctx, ctx.int('axis', 0), data.shape.length);
  }
  return [tensor(data.dtype, idx.shape)];
});

onnxOp('GatherND', exactly(2), exactly(1), { batch_dims: attr.int }, (ctx) => {
  const data = ctx.tensor(0);
  const idx = expectDType(ctx, 1, ['i64']);
  const b = ctx.int('batch_dims', 0);
  if (data.shape === null || idx.shape === null) return [tensor(data.dtype, null)];
  const q = idx.shape.length;
  if (q < 1) ctx.fail('indices must have rank 1 or more');
  const last = idx.shape[q - 1];
  if (typeof last !== 'number') return [tensor(data.dtype, null)];
  if (b + last > data.shape.length) ctx.fail(`indices address ${b + last} axes of a rank ${data.shape.length} operand`);
  return [tensor(data.dtype, [...idx.shape.slice(0, q - 1), ...data.shape.slice(b + last)])];
});

const REDUCTIONS = ['none', 'add', 'mul', 'max', 'min'];

/** Scatter-style ops: updates land in a copy of data, so the result has data's type. */
function scatter(ctx: InferContext) {
  const data = ctx.tensor(0);
  expectDType(ctx, 1, ctx.node.op === 'ScatterND' ? ['i64'] : INDEX);
  sameDType(ctx, [0, 2]);
  const red = ctx.string('reduction', 'none');
  if (!REDUCTIONS.includes(red)) ctx.fail(`reduction '${red}' is not one of ${REDUCTIONS.join(', ')}`);
  if (ctx.attr('axis') && data.shape) normalizeAxis(ctx, ctx.int('axis'), data.shape.length);
  return [data];
}

onnxOp('Scatter', exactly(3), exactly(1), { axis: attr.int }, scatter);
onnxOp('ScatterElements', exactly(3), exactly(1), { axis: attr.int, reduction: attr.string }, scatter);
onnxOp('ScatterND', exactly(3), exactly(1), { reduction: attr.string }, scatter);
