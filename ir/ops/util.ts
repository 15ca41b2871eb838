// Shared pieces of op declarations: broadcasting, axis normalisation, dtype checks, and
// factories for the op families that differ only in name and allowed dtypes.
import type { DType } from '../dtype.ts';
import type { AttrSpec, InferContext, OpDef } from '../op.ts';
import { defineOp, exactly } from '../op.ts';
import { ONNX_DOMAIN } from '../graph.ts';
import { legacyBroadcast } from './nn-util.ts';
import type { Dim, Shape, TensorType, ValueType } from '../types.ts';
import { tensor } from '../types.ts';

/** Numpy-style multidirectional broadcasting of shapes, symbolic dims included. */
export function broadcastShapes(ctx: InferContext, shapes: readonly Shape[]): Shape {
  if (shapes.some((s) => s === null)) return null;
  const rank = Math.max(...shapes.map((s) => s!.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    for (const s of shapes) {
      const d = s![s!.length - rank + i];
      if (d === undefined || d === 1) continue;
      if (dim === 1) dim = d;
      else if (typeof dim === 'number' && typeof d === 'number' && dim !== d) {
        ctx.fail(`shapes [${shapes.map((x) => x!.join(', ')).join('] and [')}] do not broadcast`);
      } else if (dim !== d) dim = typeof d === 'number' ? d : typeof dim === 'number' ? dim : null;
    }
    out.push(dim);
  }
  return out;
}

/** An axis in [-rank, rank) made non-negative; a clear error when out of range. */
export function normalizeAxis(ctx: InferContext, axis: number, rank: number): number {
  if (axis < -rank || axis >= rank) ctx.fail(`axis ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

/** Require operand i's dtype to be one of `allowed`; returns its tensor type. */
export function expectDType(ctx: InferContext, i: number, allowed: readonly DType[]): TensorType {
  const t = ctx.tensor(i);
  if (!allowed.includes(t.dtype)) {
    ctx.fail(`operand ${i} has dtype ${t.dtype}; the op takes ${allowed.join(', ')}`);
  }
  return t;
}

/** Require operands `indices` to share one dtype; returns it. */
export function sameDType(ctx: InferContext, indices: readonly number[]): DType {
  const present = indices.filter((i) => ctx.has(i));
  const first = ctx.tensor(present[0]!).dtype;
  for (const i of present) {
    const d = ctx.tensor(i).dtype;
    if (d !== first) ctx.fail(`operands must share one dtype, got ${first} and ${d}`);
  }
  return first;
}

export function rankOf(t: TensorType, ctx: InferContext, what = 'operand'): number {
  if (t.shape === null) ctx.fail(`${what} must have a known rank`);
  return t.shape.length;
}

/** Declare an ONNX op with the given signature. */
export function onnxOp(
  name: string,
  inputs: { min: number; max: number },
  outputs: { min: number; max: number },
  attrs: Record<string, AttrSpec>,
  infer: (ctx: InferContext) => ValueType[],
  values?: OpDef['values'],
): OpDef {
  return defineOp({ domain: ONNX_DOMAIN, name, inputs, outputs, attrs, infer, values });
}

/** Elementwise unary ops: the result has the operand's type. */
export function unaryOps(names: readonly string[], allowed: readonly DType[], attrs: Record<string, AttrSpec> = {}): void {
  for (const name of names) {
    onnxOp(name, exactly(1), exactly(1), attrs, (ctx) => [expectDType(ctx, 0, allowed)]);
  }
}

/** Elementwise binary ops with broadcasting; the result dtype is the operands' or `resultDType`. */
export function binaryOps(
  names: readonly string[],
  allowed: readonly DType[],
  resultDType?: DType,
  attrs: Record<string, AttrSpec> = {},
  values?: OpDef['values'],
): void {
  for (const name of names) {
    onnxOp(name, exactly(2), exactly(1), attrs, (ctx) => {
      expectDType(ctx, 0, allowed);
      const dtype = sameDType(ctx, [0, 1]);
      const [a, b] = [ctx.tensor(0).shape, ctx.tensor(1).shape];
      // Before opset 7, broadcasting was opt-in (broadcast=1) and aligned B at `axis`.
      const shape = ctx.opset < 7 ? legacyBroadcast(ctx, a, b) : broadcastShapes(ctx, [a, b]);
      return [tensor(resultDType ?? dtype, shape)];
    }, values);
  }
}

export const attr = {
  int: { kind: 'int' } as AttrSpec,
  float: { kind: 'float' } as AttrSpec,
  string: { kind: 'string' } as AttrSpec,
  ints: { kind: 'ints' } as AttrSpec,
  floats: { kind: 'floats' } as AttrSpec,
  strings: { kind: 'strings' } as AttrSpec,
  tensor: { kind: 'tensor' } as AttrSpec,
  graph: { kind: 'graph', required: true } as AttrSpec,
};
