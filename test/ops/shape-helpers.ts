// A tiny model writer for the shape-op tests: inputs, integer/float constants and nodes by name,
// then inference; results are read back as type strings (`f32[batch, 3]`).
import '../../ir/ops/index.ts';
import type { DType } from '../../ir/dtype.ts';
import type { Attr, Constant, Graph, Model, Node, Value } from '../../ir/graph.ts';
import { inferModel, PLACEHOLDER } from '../../ir/infer.ts';
import { LatheError } from '../../ir/errors.ts';
import type { Dim, TensorType, ValueType } from '../../ir/types.ts';
import { tensor, typeToString } from '../../ir/types.ts';

/** `f32[batch, 3, ?]` → a tensor type (`*` for unknown rank). */
export function ty(s: string): TensorType {
  const m = /^(\w+)\[(.*)\]$/.exec(s.trim())!;
  if (m[2] === '*') return tensor(m[1] as DType, null);
  const dims: Dim[] = m[2]!.trim() === '' ? [] : m[2]!.split(',').map((d) => {
    const t = d.trim();
    return t === '?' ? null : /^-?\d+$/.test(t) ? Number(t) : t;
  });
  return tensor(m[1] as DType, dims);
}

export const at = {
  int: (value: number): Attr => ({ kind: 'int', value }),
  float: (value: number): Attr => ({ kind: 'float', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
  ints: (...value: number[]): Attr => ({ kind: 'ints', value }),
  floats: (...value: number[]): Attr => ({ kind: 'floats', value }),
  graph: (value: Graph): Attr => ({ kind: 'graph', value }),
};

export class G {
  private readonly inputs: Value[] = [];
  private readonly constants: Constant[] = [];
  private readonly nodes: Node[] = [];
  constructor(readonly name = 'main') {}

  in(name: string, type: string | ValueType): this {
    this.inputs.push({ name, type: typeof type === 'string' ? ty(type) : type });
    return this;
  }
  /** An i64 constant (1-D, or 0-D when `scalar`); bigint-safe, so INT64_MAX can be written. */
  i64(name: string, ints: readonly (number | bigint)[], scalar = false): this {
    const bytes = new Uint8Array(new BigInt64Array(ints.map((v) => BigInt(v))).buffer);
    this.constants.push({ name, tensor: { dtype: 'i64', shape: scalar ? [] : [ints.length], data: { kind: 'bytes', bytes } } });
    return this;
  }
  f32(name: string, values: readonly number[], shape: readonly number[] = [values.length]): this {
    const bytes = new Uint8Array(new Float32Array(values).buffer);
    this.constants.push({ name, tensor: { dtype: 'f32', shape, data: { kind: 'bytes', bytes } } });
    return this;
  }
  /** A bool constant: 0-D from one value, 1-D from a list. */
  bool(name: string, value: boolean | readonly boolean[]): this {
    const list = typeof value === 'boolean' ? [value] : value;
    const shape = typeof value === 'boolean' ? [] : [list.length];
    this.constants.push({ name, tensor: { dtype: 'bool', shape, data: { kind: 'bytes', bytes: new Uint8Array(list.map((b) => (b ? 1 : 0))) } } });
    return this;
  }
  node(op: string, inputs: readonly (string | null)[], outputs: string | readonly (string | null)[], attrs: Record<string, Attr> = {}, name?: string): this {
    const outs = typeof outputs === 'string' ? [outputs] : outputs;
    this.nodes.push({
      name: name ?? `${op}_${this.nodes.length}`,
      op,
      domain: 'ai.onnx',
      inputs,
      outputs: outs.map((o) => (o === null ? null : { name: o, type: PLACEHOLDER })),
      attrs,
    });
    return this;
  }
  graph(outputs: readonly string[]): Graph {
    return { name: this.name, inputs: this.inputs, constants: this.constants, nodes: this.nodes, outputs };
  }
  model(outputs: readonly string[], opset = 17): Model {
    return { graph: this.graph(outputs), opsets: { 'ai.onnx': opset } };
  }
  /** Infer and return every node result's type by name. */
  infer(outputs: readonly string[], opset = 17): Record<string, string> {
    const m = inferModel(this.model(outputs, opset), { mode: 'refine' });
    const types: Record<string, string> = {};
    for (const n of m.graph.nodes) for (const o of n.outputs) if (o) types[o.name] = typeToString(o.type);
    return types;
  }
}

/** The LatheError `fn` throws (fails the test when it throws none or something else). */
export function latheError(fn: () => unknown): LatheError {
  try {
    fn();
  } catch (e) {
    if (e instanceof LatheError) return e;
    throw e;
  }
  throw new Error('expected a LatheError');
}
