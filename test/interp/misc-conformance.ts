// A small ONNX-conformance runner for the interpreter tests of test/interp/misc-*.test.ts:
// import a case's model.onnx, read test_data_set_*/input_N.pb (TensorProto, SequenceProto or
// OptionalProto, chosen by the model's input type), run it, and compare with output_N.pb
// (floats: |a − e| ≤ 1e-5 + 1e-3·|e|, NaN matches NaN; everything else exactly).
//
// onnx-proto holds the ONNX v1.10 schema without SequenceProto/OptionalProto, so those two are
// read here with a minimal protobuf wire reader; their tensors go through the TensorProto decoder.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { decodeTensorPb } from '../../ir/interp/pb.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { RuntimeValue, Tensor } from '../../ir/interp/tensor.ts';
import { describe, fromBytes, isTensor, toBytes } from '../../ir/interp/tensor.ts';
import type { DType } from '../../ir/dtype.ts';
import type { ValueType } from '../../ir/types.ts';

export const NODE_ROOT = '/usr/share/libonnx-testdata/data/node';
export const haveConformance = existsSync(NODE_ROOT);

// ---- protobuf wire format (just what SequenceProto / OptionalProto need) ----

interface Field {
  no: number;
  /** Varint value (wire type 0) … */
  int?: number;
  /** … or length-delimited bytes (wire type 2). */
  bytes?: Uint8Array;
}

function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let p = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = buf[p++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  };
  while (p < buf.length) {
    const key = varint();
    const no = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) out.push({ no, int: varint() });
    else if (wire === 2) {
      const len = varint();
      out.push({ no, bytes: buf.subarray(p, p + len) });
      p += len;
    } else if (wire === 5) p += 4;
    else if (wire === 1) p += 8;
    else throw new Error(`unexpected protobuf wire type ${wire}`);
  }
  return out;
}

function elemDType(t: ValueType): DType {
  if (t.kind === 'tensor') return t.dtype;
  throw new Error(`sequences of ${t.kind} are not supported here`);
}

/** Decode a SequenceProto (tensor elements). */
export function decodeSequencePb(bytes: Uint8Array, type: ValueType & { kind: 'sequence' }): RuntimeValue {
  const items: Tensor[] = [];
  for (const f of fields(bytes)) if (f.no === 3 && f.bytes) items.push(decodeTensorPb(f.bytes).tensor);
  return { kind: 'sequence', dtype: elemDType(type.elem), items };
}

/** Decode an OptionalProto: tensor_value = 3, sequence_value = 5. */
export function decodeOptionalPb(bytes: Uint8Array, type: ValueType & { kind: 'optional' }): RuntimeValue {
  for (const f of fields(bytes)) {
    if (f.no === 3 && f.bytes) return { kind: 'optional', value: decodeTensorPb(f.bytes).tensor };
    if (f.no === 5 && f.bytes && type.elem.kind === 'sequence') return { kind: 'optional', value: decodeSequencePb(f.bytes, type.elem) as never };
  }
  return { kind: 'optional', value: undefined };
}

export function decodeValuePb(bytes: Uint8Array, type: ValueType): RuntimeValue {
  if (type.kind === 'sequence') return decodeSequencePb(bytes, type);
  if (type.kind === 'optional') return decodeOptionalPb(bytes, type);
  const t = decodeTensorPb(bytes).tensor;
  // ONNX's test generator (numpy has no bfloat16) wrote bf16 data as UINT16 tensors of the bits.
  if (t.dtype === 'u16' && type.dtype === 'bf16') return fromBytes('bf16', t.shape, toBytes(t));
  return t;
}

// ---- comparison ----

/** Why `got` differs from `want`, or undefined when it matches. */
export function mismatch(got: RuntimeValue | undefined, want: RuntimeValue, rtol = 1e-3, atol = 1e-5): string | undefined {
  if (got === undefined) return 'no value';
  if (isTensor(want)) {
    if (!isTensor(got)) return `got ${describe(got)}, want ${describe(want)}`;
    if (got.dtype !== want.dtype) return `dtype ${got.dtype}, want ${want.dtype}`;
    if (got.shape.join() !== want.shape.join()) return `shape [${got.shape}], want [${want.shape}]`;
    const g = got.data as ArrayLike<unknown>;
    const w = want.data as ArrayLike<unknown>;
    for (let i = 0; i < w.length; i++) {
      const a = g[i];
      const e = w[i];
      if (typeof e === 'number' && typeof a === 'number') {
        if (Number.isNaN(e) ? Number.isNaN(a) : a === e || Math.abs(a - e) <= atol + rtol * Math.abs(e)) continue;
      } else if (a === e) continue;
      return `element ${i}: got ${String(a)}, want ${String(e)}`;
    }
    return undefined;
  }
  if (isTensor(got) || got.kind !== want.kind) return `got ${describe(got)}, want ${describe(want)}`;
  if (want.kind === 'sequence') {
    const gs = got as typeof want;
    if (gs.items.length !== want.items.length) return `sequence of ${gs.items.length}, want ${want.items.length}`;
    for (let i = 0; i < want.items.length; i++) {
      const m = mismatch(gs.items[i], want.items[i]!, rtol, atol);
      if (m) return `item ${i}: ${m}`;
    }
    return undefined;
  }
  const go = got as typeof want;
  if (want.value === undefined) return go.value === undefined ? undefined : `got ${describe(go)}, want an empty optional`;
  return go.value === undefined ? 'got an empty optional' : mismatch(go.value, want.value, rtol, atol);
}

// ---- running cases ----

export interface CaseOutcome {
  name: string;
  ok: boolean;
  message?: string;
}

/** Run every test_data_set of one case folder (name without the `test_` prefix). */
export function runCase(name: string, checkTypes = true): CaseOutcome {
  const dir = path.join(NODE_ROOT, `test_${name}`);
  try {
    const model = importOnnxFile(path.join(dir, 'model.onnx'));
    const g = model.graph;
    const sets = readdirSync(dir).filter((d) => d.startsWith('test_data_set_')).sort();
    for (const set of sets) {
      const sd = path.join(dir, set);
      const inputs: RuntimeValue[] = [];
      for (let i = 0; existsSync(path.join(sd, `input_${i}.pb`)); i++) {
        inputs.push(decodeValuePb(readFileSync(path.join(sd, `input_${i}.pb`)), g.inputs[i]!.type));
      }
      const got = runModel(model, inputs, { checkTypes });
      const outTypes = g.outputs.map((o) => typeOfValue(model.graph, o));
      for (let i = 0; existsSync(path.join(sd, `output_${i}.pb`)); i++) {
        const want = decodeValuePb(readFileSync(path.join(sd, `output_${i}.pb`)), outTypes[i]!);
        const m = mismatch(got[i], want);
        if (m) return { name, ok: false, message: `${set} output ${i} (${g.outputs[i]}): ${m}` };
      }
    }
    return { name, ok: true };
  } catch (e) {
    return { name, ok: false, message: (e as Error).message.split('\n')[0] };
  }
}

function typeOfValue(g: import('../../ir/graph.ts').Graph, name: string): ValueType {
  for (const v of g.inputs) if (v.name === name) return v.type;
  for (const n of g.nodes) for (const o of n.outputs) if (o && o.name === name) return o.type;
  throw new Error(`graph output '${name}' not found`);
}

/** Case names (without `test_`) whose name starts with one of the prefixes. */
export function casesFor(...prefixes: string[]): string[] {
  if (!haveConformance) return [];
  return readdirSync(NODE_ROOT)
    .filter((d) => d.startsWith('test_'))
    .map((d) => d.slice(5))
    .filter((n) => prefixes.some((p) => n.startsWith(p)))
    .sort();
}

/**
 * Run the cases and return the unexpected outcomes: failures not in `expected` (case → reason)
 * and expected failures that now pass (so the list stays honest).
 */
export function conformanceReport(cases: readonly string[], expected: Readonly<Record<string, string>> = {}): { passed: number; total: number; unexpected: string[] } {
  const unexpected: string[] = [];
  let passed = 0;
  for (const c of cases) {
    const r = runCase(c);
    if (r.ok) passed++;
    if (r.ok && c in expected) unexpected.push(`${c}: listed as an expected failure but passes`);
    if (!r.ok && !(c in expected)) unexpected.push(`${c}: ${r.message}`);
  }
  return { passed, total: cases.length, unexpected };
}
