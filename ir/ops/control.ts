// Control flow: If, Loop, Scan. Their bodies are subgraphs inferred through ctx.subgraph (which
// also lets them read values of the enclosing graphs). Types that can change from one path or
// iteration to the next are merged: dtype must agree, dims are kept only where they agree.
import type { InferContext } from '../op.ts';
import { atLeast, exactly } from '../op.ts';
import type { Dim, Shape, ValueType } from '../types.ts';
import { tensor, typeToString } from '../types.ts';
import { attr, expectDType, onnxOp } from './util.ts';
import { knownNumbers, mergeTypes } from './shape-util.ts';

onnxOp('If', exactly(1), atLeast(1), { then_branch: attr.graph, else_branch: attr.graph }, (ctx) => {
  expectDType(ctx, 0, ['bool']);
  const a = ctx.subgraph('then_branch', []);
  const b = ctx.subgraph('else_branch', []);
  if (a.length !== ctx.numOutputs || b.length !== ctx.numOutputs) {
    ctx.fail(`branches return ${a.length} and ${b.length} values for ${ctx.numOutputs} results`);
  }
  return a.map((t, i) => mergeTypes(ctx, t, b[i]!, `result ${i} of the two branches`));
});

/**
 * Infer a body whose carried values may change type: once with the initial types, again if
 * widened. `finals` are the types the op returns for them. A carried optional the body turns
 * into a plain value (ONNX's loop16_seq_none pattern) stays optional going in and is plain out.
 */
function inferCarried(
  ctx: InferContext,
  before: readonly ValueType[],
  initial: readonly ValueType[],
  after: readonly ValueType[],
  outAt: number,
): { finals: ValueType[]; outs: ValueType[] } {
  let carried = [...initial];
  let outs = ctx.subgraph('body', [...before, ...carried, ...after]);
  const check = () => {
    if (outs.length < outAt + carried.length) {
      ctx.fail(`body returns ${outs.length} values; at least ${outAt + carried.length} are needed`);
    }
  };
  check();
  const unwraps = (t: ValueType, o: ValueType) => t.kind === 'optional' && o.kind !== 'optional';
  const widened = carried.map((t, i) => {
    const o = outs[outAt + i]!;
    return unwraps(t, o) ? t : mergeTypes(ctx, t, o, `loop-carried value ${i}`);
  });
  if (widened.some((t, i) => typeToString(t) !== typeToString(carried[i]!))) {
    carried = widened;
    outs = ctx.subgraph('body', [...before, ...carried, ...after]);
    check();
  }
  const finals = carried.map((t, i) => {
    const o = outs[outAt + i]!;
    return unwraps(t, o) ? mergeTypes(ctx, (t as { elem: ValueType }).elem, o, `loop-carried value ${i}`) : t;
  });
  return { finals, outs };
}

/** A scan output: the per-iteration type with the iteration axis inserted. */
function stacked(ctx: InferContext, t: ValueType, count: Dim, axis: number, what: string): ValueType {
  if (t.kind !== 'tensor') ctx.fail(`${what} must be a tensor, got ${typeToString(t)}`);
  if (t.shape === null) return tensor(t.dtype, null);
  const r = t.shape.length + 1;
  if (axis < -r || axis >= r) ctx.fail(`${what}: axis ${axis} is out of range for rank ${r}`);
  const a = axis < 0 ? axis + r : axis;
  const out: Dim[] = [...t.shape];
  out.splice(a, 0, count);
  return tensor(t.dtype, out);
}

onnxOp('Loop', atLeast(2), atLeast(1), { body: attr.graph }, (ctx) => {
  if (ctx.has(0)) expectDType(ctx, 0, ['i64']);
  if (ctx.has(1)) expectDType(ctx, 1, ['bool']);
  const n = ctx.numInputs - 2;
  const initial = Array.from({ length: n }, (_, i) => ctx.type(2 + i));
  const { finals: carried, outs } = inferCarried(ctx, [tensor('i64', []), tensor('bool', [])], initial, [], 1);
  const k = outs.length - 1 - n;
  if (n + k !== ctx.numOutputs) ctx.fail(`body gives ${n} carried and ${k} scan values for ${ctx.numOutputs} results`);
  // The trip count is M only when no condition can stop the loop early.
  const trips: Dim = !ctx.has(1) ? (knownNumbers(ctx, 0)?.[0] ?? null) : null;
  const scans = outs.slice(1 + n).map((t, i) => stacked(ctx, t, trips, 0, `scan output ${i}`));
  return [...carried, ...scans];
});

onnxOp(
  'Scan',
  atLeast(1),
  atLeast(1),
  {
    body: attr.graph, num_scan_inputs: { kind: 'int', required: true }, directions: attr.ints,
    scan_input_axes: attr.ints, scan_input_directions: attr.ints, scan_output_axes: attr.ints,
    scan_output_directions: attr.ints,
  },
  (ctx) => (ctx.opset < 9 ? scan8(ctx) : scan9(ctx)),
);

/** The shape with `axis` removed (a per-iteration slice), and the removed dim. */
function sliceAxis(ctx: InferContext, i: number, axis: number): { elem: ValueType; len: Dim } {
  const t = ctx.tensor(i);
  if (t.shape === null) return { elem: tensor(t.dtype, null), len: null };
  const r = t.shape.length;
  if (axis < -r || axis >= r) ctx.fail(`scan input ${i}: axis ${axis} is out of range for rank ${r}`);
  const a = axis < 0 ? axis + r : axis;
  return { elem: tensor(t.dtype, t.shape.filter((_, j) => j !== a)), len: t.shape[a]! };
}

function scan9(ctx: InferContext): ValueType[] {
  const m = ctx.int('num_scan_inputs');
  const n = ctx.numInputs - m;
  if (m < 1 || n < 0) ctx.fail(`num_scan_inputs ${m} does not fit ${ctx.numInputs} operands`);
  const inAxes = ctx.ints('scan_input_axes', Array(m).fill(0));
  const slices = Array.from({ length: m }, (_, j) => sliceAxis(ctx, n + j, inAxes[j] ?? 0));
  const len = slices.map((s) => s.len).find((d) => d !== null) ?? null;
  const initial = Array.from({ length: n }, (_, i) => ctx.type(i));
  const { finals: carried, outs: full } = inferCarried(ctx, [], initial, slices.map((s) => s.elem), 0);
  const k = full.length - n;
  if (n + k !== ctx.numOutputs) ctx.fail(`body gives ${n} states and ${k} scan values for ${ctx.numOutputs} results`);
  const outAxes = ctx.ints('scan_output_axes', Array(k).fill(0));
  return [...carried, ...full.slice(n).map((t, i) => stacked(ctx, t, len, outAxes[i] ?? 0, `scan output ${i}`))];
}

/** Scan-8: operand 0 is sequence_lens, and every operand and result has a leading batch axis. */
function scan8(ctx: InferContext): ValueType[] {
  const m = ctx.int('num_scan_inputs');
  const n = ctx.numInputs - 1 - m;
  if (n < 0) ctx.fail(`num_scan_inputs ${m} does not fit ${ctx.numInputs} operands`);
  if (ctx.has(0)) expectDType(ctx, 0, ['i64']);
  const drop = (s: Shape, k: number): Shape => (s === null ? null : s.slice(k));
  const batchOf = (i: number): Dim => ctx.tensor(i).shape?.[0] ?? null;
  const states = Array.from({ length: n }, (_, i) => tensor(ctx.tensor(1 + i).dtype, drop(ctx.tensor(1 + i).shape, 1)));
  const slices = Array.from({ length: m }, (_, j) => tensor(ctx.tensor(1 + n + j).dtype, drop(ctx.tensor(1 + n + j).shape, 2)));
  const outs = ctx.subgraph('body', [...states, ...slices]);
  const k = outs.length - n;
  if (n + k !== ctx.numOutputs) ctx.fail(`body gives ${n} states and ${k} scan values for ${ctx.numOutputs} results`);
  const batch = ctx.numInputs > 1 ? batchOf(1) : null;
  const len = m > 0 ? (ctx.tensor(1 + n).shape?.[1] ?? null) : null;
  const lead = (t: ValueType, dims: Dim[]): ValueType => {
    if (t.kind !== 'tensor') ctx.fail(`body result ${typeToString(t)} must be a tensor`);
    return tensor(t.dtype, t.shape === null ? null : [...dims, ...t.shape]);
  };
  return [
    ...outs.slice(0, n).map((t, i) => mergeTypes(ctx, lead(t, [batch]), ctx.type(1 + i), `state ${i}`)),
    ...outs.slice(n).map((t) => lead(t, [batch, len])),
  ];
}
