// Control flow: If, Loop, Scan. Bodies run through ctx.runGraph, so they read the values in
// scope around their node. Per-iteration outputs are stacked along a new leading axis.
import type { DType } from '../../dtype.ts';
import type { EvalContext } from '../registry.ts';
import { defineOnnxEvals, evalError } from '../registry.ts';
import type { RuntimeValue, Tensor } from '../tensor.ts';
import { allocData, describe, isTensor, makeTensor, tensorFrom } from '../tensor.ts';
import { transpose } from './layout.ts';
import { copyRange, normAxis } from './util.ts';

function asTensor(v: RuntimeValue | undefined, what: string): Tensor {
  if (!isTensor(v)) throw evalError(`${what} must be a tensor, got ${describe(v)}`);
  return v;
}

/** Stack equally shaped tensors along a new axis 0. */
function stack(items: readonly Tensor[], dtype: DType, emptyShape: readonly number[]): Tensor {
  if (items.length === 0) return makeTensor(dtype, [0, ...emptyShape]);
  const first = items[0]!;
  const n = first.data.length;
  const out = allocData(first.dtype, n * items.length);
  items.forEach((t, i) => {
    if (t.data.length !== n || t.shape.join() !== first.shape.join()) {
      throw evalError(`iterations produced shapes [${first.shape.join(', ')}] and [${t.shape.join(', ')}]; they cannot be stacked`);
    }
    copyRange(out, i * n, t.data, 0, n);
  });
  return makeTensor(first.dtype, [items.length, ...first.shape], out);
}

/** dtype and shape after the stacked axis, from the node's declared result type. */
function declaredElem(ctx: EvalContext, i: number): { dtype: DType; shape: number[] } {
  const t = ctx.node.outputs[i]?.type;
  if (t && t.kind === 'tensor') {
    const rest = t.shape?.slice(1).map((d) => (typeof d === 'number' ? d : 0)) ?? [];
    return { dtype: t.dtype, shape: rest };
  }
  return { dtype: 'f32', shape: [] };
}

defineOnnxEvals(['If'], (ctx) => {
  const cond = ctx.tensor(0);
  if (cond.data.length !== 1) ctx.fail(`If condition must have one element, got [${cond.shape.join(', ')}]`);
  const branch = ctx.graph(cond.data[0] ? 'then_branch' : 'else_branch');
  return ctx.runGraph(branch, []);
});

defineOnnxEvals(['Loop'], (ctx) => {
  const body = ctx.graph('body');
  const maxTrips = ctx.has(0) ? Number(ctx.tensor(0).data[0]) : Infinity;
  let cond = ctx.has(1) ? Boolean(ctx.tensor(1).data[0]) : true;
  const nCarried = ctx.numInputs - 2;
  let carried: (RuntimeValue | undefined)[] = ctx.inputs.slice(2);
  const nScan = body.outputs.length - 1 - nCarried;
  if (nScan < 0) ctx.fail(`the body returns ${body.outputs.length} values for ${nCarried} loop-carried values`);
  const scans: Tensor[][] = Array.from({ length: nScan }, () => []);
  for (let i = 0; i < maxTrips && cond; i++) {
    const outs = ctx.runGraph(body, [tensorFrom('i64', [], [i]), tensorFrom('bool', [], [cond ? 1 : 0]), ...carried]);
    cond = Boolean(asTensor(outs[0], 'the Loop body condition').data[0]);
    carried = outs.slice(1, 1 + nCarried);
    outs.slice(1 + nCarried).forEach((v, k) => scans[k]!.push(asTensor(v, `Loop scan output ${k}`)));
  }
  const stacked = scans.map((items, k) => {
    const { dtype, shape } = declaredElem(ctx, nCarried + k);
    return stack(items, items[0]?.dtype ?? dtype, shape);
  });
  return [...carried, ...stacked];
});

/** Slices of `t` along `axis` (reversed when `reverse`), each a tensor without that axis. */
function unstack(t: Tensor, axis: number, reverse: boolean): Tensor[] {
  const front = axis === 0 ? t : transpose(t, [axis, ...t.shape.map((_, i) => i).filter((i) => i !== axis)]);
  const len = front.shape[0]!;
  const shape = front.shape.slice(1);
  const n = shape.reduce((a, b) => a * b, 1);
  const items = Array.from({ length: len }, (_, i) => {
    const out = allocData(t.dtype, n);
    copyRange(out, 0, front.data, i * n, n);
    return makeTensor(t.dtype, shape, out);
  });
  return reverse ? items.reverse() : items;
}

/** Scan (opset ≥ 9) over unbatched inputs: returns final states then scan outputs. */
function scan9(ctx: EvalContext, states: RuntimeValue[], scanIn: Tensor[], declaredBase: number): RuntimeValue[] {
  const body = ctx.graph('body');
  const m = scanIn.length;
  const inAxes = [...ctx.ints('scan_input_axes', new Array(m).fill(0))];
  // Scan-8 calls the input directions `directions`.
  const inDirs = [...ctx.ints(ctx.opset < 9 ? 'directions' : 'scan_input_directions', new Array(m).fill(0))];
  const slices = scanIn.map((t, i) => unstack(t, normAxis(inAxes[i]!, t.shape.length), inDirs[i] === 1));
  const steps = slices[0]?.length ?? 0;
  if (slices.some((s) => s.length !== steps)) ctx.fail('scan inputs have different lengths along their scan axes');
  const nStates = states.length;
  const k = body.outputs.length - nStates;
  const outAxes = [...ctx.ints('scan_output_axes', new Array(k).fill(0))];
  const outDirs = [...ctx.ints('scan_output_directions', new Array(k).fill(0))];
  const scans: Tensor[][] = Array.from({ length: k }, () => []);
  let cur = states;
  for (let t = 0; t < steps; t++) {
    const outs = ctx.runGraph(body, [...cur, ...slices.map((s) => s[t]!)]);
    cur = outs.slice(0, nStates);
    outs.slice(nStates).forEach((v, j) => scans[j]!.push(asTensor(v, `Scan output ${j}`)));
  }
  const stacked = scans.map((items, j) => {
    const { dtype, shape } = declaredElem(ctx, declaredBase + nStates + j);
    const s = stack(outDirs[j] === 1 ? [...items].reverse() : items, items[0]?.dtype ?? dtype, shape);
    const axis = normAxis(outAxes[j]!, s.shape.length);
    if (axis === 0) return s;
    const perm = s.shape.map((_, i) => i).slice(1);
    perm.splice(axis, 0, 0);
    return transpose(s, perm);
  });
  return [...cur, ...stacked];
}

defineOnnxEvals(['Scan'], (ctx) => {
  const m = ctx.int('num_scan_inputs');
  if (ctx.opset >= 9) {
    const inputs = ctx.inputs.map((v) => v!);
    const nStates = inputs.length - m;
    return scan9(ctx, inputs.slice(0, nStates), inputs.slice(nStates).map((v, i) => asTensor(v, `scan input ${i}`)), 0);
  }
  // Opset 8: operand 0 is optional sequence_lens and every operand has a leading batch axis;
  // each batch element is an independent opset-9 scan along (what was) axis 1.
  if (ctx.has(0)) ctx.fail('Scan-8 with sequence_lens is not supported');
  const inputs = ctx.inputs.slice(1).map((v, i) => asTensor(v, `Scan operand ${i + 1}`));
  const nStates = inputs.length - m;
  const batch = inputs[0]?.shape[0] ?? 0;
  const perBatch = inputs.map((t) => unstack(t, 0, false));
  const results: RuntimeValue[][] = [];
  for (let b = 0; b < batch; b++) {
    const row = perBatch.map((s) => s[b]!);
    results.push(scan9(ctx, row.slice(0, nStates), row.slice(nStates), 0));
  }
  const nOut = ctx.numOutputs;
  return Array.from({ length: nOut }, (_, j) => {
    const items = results.map((r) => asTensor(r[j], `Scan result ${j}`));
    return stack(items, items[0]?.dtype ?? 'f32', []);
  });
});
