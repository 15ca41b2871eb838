// Helpers for the interpreter tests: run one node on given tensors (no type inference, so the
// tests depend only on the evaluators), naive reference loops, and approximate comparison.
import * as assert from 'uvu/assert';
import type { Attr, Graph, Model } from '../../ir/graph.ts';
import { ONNX_DOMAIN } from '../../ir/graph.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { RuntimeValue, Tensor } from '../../ir/interp/tensor.ts';
import { isTensor, tensorFrom } from '../../ir/interp/tensor.ts';
import type { DType } from '../../ir/dtype.ts';
import { tensor } from '../../ir/types.ts';

export type AttrValue = number | string | readonly number[] | readonly string[] | Attr;

export function toAttr(v: AttrValue): Attr {
  if (typeof v === 'object' && v !== null && 'kind' in v) return v as Attr;
  if (typeof v === 'number') return Number.isInteger(v) ? { kind: 'int', value: v } : { kind: 'float', value: v };
  if (typeof v === 'string') return { kind: 'string', value: v };
  const arr = v as readonly (number | string)[];
  if (arr.some((x) => typeof x === 'string')) return { kind: 'strings', value: arr as string[] };
  return arr.every((x) => Number.isInteger(x)) ? { kind: 'ints', value: arr as number[] } : { kind: 'floats', value: arr as number[] };
}
export const floats = (value: readonly number[]): Attr => ({ kind: 'floats', value });
export const float = (value: number): Attr => ({ kind: 'float', value });

/** A one-node model; `inputs` may contain undefined for omitted optional operands. */
export function oneNode(op: string, inputs: readonly (Tensor | undefined)[], attrs: Record<string, AttrValue> = {}, nOut = 1, opset = 17): { model: Model; feed: Map<string, RuntimeValue> } {
  const feed = new Map<string, RuntimeValue>();
  const names = inputs.map((t, i) => {
    if (!t) return null;
    feed.set(`in${i}`, t);
    return `in${i}`;
  });
  const graph: Graph = {
    name: 'g',
    inputs: inputs.flatMap((t, i) => (t ? [{ name: `in${i}`, type: tensor(t.dtype, t.shape) }] : [])),
    constants: [],
    nodes: [
      {
        name: `${op.toLowerCase()}_node`,
        op,
        domain: ONNX_DOMAIN,
        inputs: names,
        outputs: Array.from({ length: nOut }, (_, i) => ({ name: `out${i}`, type: { kind: 'tensor', dtype: 'f32', shape: null, placeholder: true } as never })),
        attrs: Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, toAttr(v)])),
      },
    ],
    outputs: Array.from({ length: nOut }, (_, i) => `out${i}`),
  };
  return { model: { graph, opsets: { [ONNX_DOMAIN]: opset } }, feed };
}

/** Run one node and return its tensor results. */
export function run(op: string, inputs: readonly (Tensor | undefined)[], attrs: Record<string, AttrValue> = {}, nOut = 1, opset = 17): Tensor[] {
  const { model, feed } = oneNode(op, inputs, attrs, nOut, opset);
  return runModel(model, feed).map((v) => {
    if (!isTensor(v)) throw new Error('expected a tensor result');
    return v;
  });
}
export const run1 = (op: string, inputs: readonly (Tensor | undefined)[], attrs: Record<string, AttrValue> = {}, opset = 17): Tensor =>
  run(op, inputs, attrs, 1, opset)[0]!;

export const t = (dtype: DType, shape: readonly number[], values: ArrayLike<number | bigint | string>): Tensor => tensorFrom(dtype, shape, values);
export const f32 = (shape: readonly number[], values: ArrayLike<number>): Tensor => tensorFrom('f32', shape, values);
export const i64 = (shape: readonly number[], values: ArrayLike<number | bigint>): Tensor => tensorFrom('i64', shape, values);

/** Deterministic pseudo-random values in [-1, 1). */
export function rand(n: number, seed = 1): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

export function assertClose(actual: Tensor, shape: readonly number[], expected: ArrayLike<number>, rtol = 1e-5, atol = 1e-6): void {
  assert.equal([...actual.shape], [...shape], 'shape');
  assert.is(actual.data.length, expected.length, 'element count');
  for (let i = 0; i < expected.length; i++) {
    const a = Number(actual.data[i]);
    const e = expected[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) assert.unreachable(`element ${i}: got ${a}, expected ${e}`);
  }
}

export function values(x: Tensor): (number | bigint | string)[] {
  return Array.from(x.data as ArrayLike<number | bigint | string>);
}
