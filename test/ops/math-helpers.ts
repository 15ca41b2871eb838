// Helpers for the op inference tests: build a one-node model from type strings, infer it, and
// return the result types as strings.
import * as assert from 'uvu/assert';
import '../../ir/ops/index.ts';
import type { DType } from '../../ir/dtype.ts';
import { isLatheError } from '../../ir/errors.ts';
import type { Attr, Constant, Model, Value } from '../../ir/graph.ts';
import { inferModel, PLACEHOLDER } from '../../ir/infer.ts';
import type { Dim, TensorType } from '../../ir/types.ts';
import { tensor, typeToString } from '../../ir/types.ts';

/** `f32[batch, 3, ?]` → a tensor type (`*` for unknown rank, `?` for an unknown dim). */
export function parseType(s: string): TensorType {
  const m = /^(\w+)\[(.*)\]$/.exec(s.trim());
  if (!m) throw new Error(`bad type ${s}`);
  if (m[2] === '*') return tensor(m[1] as DType, null);
  const dims: Dim[] = m[2]!.trim() === '' ? [] : m[2]!.split(',').map((d) => {
    const t = d.trim();
    return t === '?' ? null : /^\d+$/.test(t) ? Number(t) : t;
  });
  return tensor(m[1] as DType, dims);
}

/** A constant integer operand (i64 unless `dtype` says), 1-D unless `scalar`. */
export interface IntConst {
  ints: readonly number[];
  dtype?: 'i64' | 'i32';
  scalar?: boolean;
}

export type Operand = string | IntConst | null;

export const a = {
  int: (value: number): Attr => ({ kind: 'int', value }),
  float: (value: number): Attr => ({ kind: 'float', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
  ints: (...value: number[]): Attr => ({ kind: 'ints', value }),
  floats: (...value: number[]): Attr => ({ kind: 'floats', value }),
  strings: (...value: string[]): Attr => ({ kind: 'strings', value }),
};

export interface RunOptions {
  attrs?: Record<string, Attr>;
  /** How many results the node has (default 1); `null` entries omit one. */
  outputs?: number | readonly boolean[];
  opset?: number;
}

function constant(name: string, c: IntConst): Constant {
  const dtype = c.dtype ?? 'i64';
  const bytes =
    dtype === 'i64'
      ? new Uint8Array(new BigInt64Array(c.ints.map((v) => BigInt(v))).buffer)
      : new Uint8Array(new Int32Array(c.ints).buffer);
  return { name, tensor: { dtype, shape: c.scalar ? [] : [c.ints.length], data: { kind: 'bytes', bytes } } };
}

/** Infer one `op` node; returns its result types as strings (`-` for an omitted result). */
export function infer(op: string, operands: readonly Operand[], opts: RunOptions = {}): string[] {
  const inputs: Value[] = [];
  const constants: Constant[] = [];
  const names = operands.map((o, i) => {
    if (o === null) return null;
    const name = `in${i}`;
    if (typeof o === 'string') inputs.push({ name, type: parseType(o) });
    else constants.push(constant(name, o));
    return name;
  });
  const outs = typeof opts.outputs === 'object' ? opts.outputs : Array<boolean>(opts.outputs ?? 1).fill(true);
  const outputs = outs.map((present, i) => (present ? { name: `out${i}`, type: PLACEHOLDER } : null));
  const model: Model = {
    graph: {
      name: 'g',
      inputs,
      constants,
      nodes: [{ name: `my_${op.toLowerCase()}`, op, domain: 'ai.onnx', inputs: names, outputs, attrs: opts.attrs ?? {} }],
      outputs: outputs.filter((o) => o !== null).map((o) => o!.name),
    },
    opsets: { 'ai.onnx': opts.opset ?? 17 },
  };
  const result = inferModel(model, { mode: 'refine' });
  return result.graph.nodes[0]!.outputs.map((o) => (o ? typeToString(o.type) : '-'));
}

/** Assert that inferring fails with a ShapeError (or `kind`) naming the node, matching `pattern`. */
export function throwsShape(fn: () => unknown, pattern: RegExp, kind = 'ShapeError'): void {
  try {
    fn();
  } catch (e) {
    assert.ok(isLatheError(e), `expected a LatheError, got ${String(e)}`);
    assert.is(e.kind, kind, e.message);
    assert.match(e.message, /node 'my_\w+'/);
    assert.match(e.message, pattern);
    return;
  }
  assert.unreachable('expected an error');
}
