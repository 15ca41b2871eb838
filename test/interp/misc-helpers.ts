// Hand-checked evaluator cases for test/interp/misc-*.test.ts: run one op's evaluator on given
// operands and plain-JS attributes, without building a model (so a case states only what it
// checks). Attribute kinds follow the JS value: integer → int, other number → float, string,
// number[] → ints (floats when any is fractional; force with `floats`), string[] → strings.
import type { Attr, Attrs, Graph, Node } from '../../ir/graph.ts';
import type { DType } from '../../ir/dtype.ts';
import '../../ir/interp/ops/index.ts';
import type { EvalContext } from '../../ir/interp/registry.ts';
import { lookupEval } from '../../ir/interp/registry.ts';
import type { RuntimeValue, Tensor } from '../../ir/interp/tensor.ts';
import { describe, isTensor, tensorFrom } from '../../ir/interp/tensor.ts';

export type AttrInput = number | string | readonly number[] | readonly string[] | { floats: readonly number[] } | { graph: Graph };

function toAttr(v: AttrInput): Attr {
  if (typeof v === 'number') return Number.isInteger(v) ? { kind: 'int', value: v } : { kind: 'float', value: v };
  if (typeof v === 'string') return { kind: 'string', value: v };
  if ('floats' in v) return { kind: 'floats', value: v.floats };
  if ('graph' in v) return { kind: 'graph', value: v.graph };
  const arr = v as readonly (number | string)[];
  if (arr.some((x) => typeof x === 'string')) return { kind: 'strings', value: arr as readonly string[] };
  const nums = arr as readonly number[];
  return nums.every(Number.isInteger) ? { kind: 'ints', value: nums } : { kind: 'floats', value: nums };
}

export interface EvalOptions {
  opset?: number;
  /** How many results the node has (default 1). */
  outputs?: number;
}

/** Evaluate `op` on `inputs` (undefined = omitted) with `attrs`. */
export function evalOp(
  op: string,
  inputs: readonly (RuntimeValue | undefined)[],
  attrs: Record<string, AttrInput> = {},
  opts: EvalOptions = {},
): (RuntimeValue | undefined)[] {
  const fn = lookupEval('ai.onnx', op);
  if (!fn) throw new Error(`no evaluator for ${op}`);
  const nodeAttrs: Attrs = Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, toAttr(v)]));
  const nOut = opts.outputs ?? 1;
  const node: Node = {
    name: 'n',
    op,
    domain: 'ai.onnx',
    inputs: inputs.map((_, i) => `in${i}`),
    outputs: Array.from({ length: nOut }, (_, i) => ({ name: `out${i}`, type: { kind: 'tensor', dtype: 'f32', shape: null, placeholder: true } as never })),
    attrs: nodeAttrs,
  };
  const get = <T,>(name: string, kind: Attr['kind'], d: T | undefined): T => {
    const a = nodeAttrs[name];
    if (!a) {
      if (d === undefined) throw new Error(`missing attribute '${name}'`);
      return d;
    }
    if (a.kind === 'int' && kind === 'float') return a.value as T;
    if (a.kind !== kind) throw new Error(`attribute '${name}' is ${a.kind}, read as ${kind}`);
    return a.value as T;
  };
  const value = (i: number) => {
    const v = inputs[i];
    if (v === undefined) throw new Error(`operand ${i} omitted`);
    return v;
  };
  const tensor = (i: number): Tensor => {
    const v = value(i);
    if (!isTensor(v)) throw new Error(`operand ${i} is ${describe(v)}`);
    return v;
  };
  const ctx: EvalContext = {
    node,
    opset: opts.opset ?? 21,
    inputs,
    numInputs: inputs.length,
    numOutputs: nOut,
    has: (i) => inputs[i] !== undefined,
    value,
    tensor,
    optTensor: (i) => (inputs[i] === undefined ? undefined : tensor(i)),
    wants: (i) => i < nOut,
    int: (n, d) => get(n, 'int', d),
    float: (n, d) => get(n, 'float', d),
    string: (n, d) => get(n, 'string', d),
    ints: (n, d) => get(n, 'ints', d),
    floats: (n, d) => get(n, 'floats', d),
    strings: (n, d) => get(n, 'strings', d),
    attr: (n) => nodeAttrs[n],
    tensorAttr: () => undefined,
    graph: (n) => get<Graph>(n, 'graph', undefined),
    runGraph: () => {
      throw new Error('subgraphs are not supported by evalOp');
    },
    fail: (m) => {
      throw new Error(m);
    },
  };
  return [...fn(ctx)];
}

/** Shorthand for a tensor from plain values. */
export const t = (dtype: DType, shape: readonly number[], values: ArrayLike<number | bigint | string>): Tensor => tensorFrom(dtype, shape, values);

/** A tensor's elements as plain JS values (numbers, or strings; bigints become numbers). */
export function vals(v: RuntimeValue | undefined): (number | string)[] {
  if (!isTensor(v)) throw new Error(`expected a tensor, got ${describe(v)}`);
  return Array.from(v.data as ArrayLike<number | bigint | string>, (x) => (typeof x === 'bigint' ? Number(x) : x));
}

export function shapeOf(v: RuntimeValue | undefined): number[] {
  if (!isTensor(v)) throw new Error(`expected a tensor, got ${describe(v)}`);
  return [...v.shape];
}
