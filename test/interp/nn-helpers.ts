// Helpers for the nn-*.test.ts interpreter tests: run an op family's ONNX conformance cases
// (through compiler/conformance.ts) with explicit expected failures, and check one-node models
// against ONNX Runtime where the conformance data (ONNX 1.12, opsets ≤ 17) has no case: the
// model is built as ONNX bytes, imported like any model, and run by both.
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import * as assert from 'uvu/assert';
import ort from 'onnxruntime-node';
import * as conformance from '../../compiler/conformance.ts';
import { mismatch } from '../../ir/interp/compare.ts';

const CONFORMANCE_DIR = path.join(conformance.CONFORMANCE_ROOT, 'node');
import { importOnnxBytes } from '../../ir/onnx/import.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { isTensor, tensorFrom } from '../../ir/interp/tensor.ts';
import type { DType } from '../../ir/dtype.ts';
import { onnxCode } from '../../ir/dtype.ts';
import type { OnnxTypes } from '../../ir/onnx/proto.ts';
import { AT, modelBytes, vi } from '../onnx/build.ts';

export const haveConformance = existsSync(CONFORMANCE_DIR);

/**
 * Run every conformance case whose folder name matches `pattern`; `expectFail` names the cases
 * known not to pass, each with its reason. Asserts the rest pass and returns the count passed.
 */
export function conformanceFamily(pattern: RegExp, expectFail: Record<string, string> = {}): number {
  if (!haveConformance) return 0;
  const dirs = readdirSync(CONFORMANCE_DIR).filter((d) => pattern.test(d)).sort();
  assert.ok(dirs.length > 0, `no conformance case matches ${pattern}`);
  const bad: string[] = [];
  let passed = 0;
  for (const d of dirs) {
    const r = conformance.runCase(path.join(CONFORMANCE_DIR, d));
    if (d in expectFail) {
      if (r.status === 'pass') bad.push(`${d}: listed as an expected failure (${expectFail[d]}) but passes`);
      continue;
    }
    if (r.status === 'pass') passed++;
    else bad.push(`${d}: ${r.status}: ${r.reason}`);
  }
  assert.ok(bad.length === 0, bad.join('\n'));
  return passed;
}

// ---- one-node models checked against ONNX Runtime ----

export type AttrSpec =
  | number
  | string
  | { f: number }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { strings: readonly string[] };

function attrProto(name: string, v: AttrSpec): OnnxTypes.IAttributeProto {
  const enc = (s: string) => new TextEncoder().encode(s);
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: AT.INT, i: v } : { name, type: AT.FLOAT, f: v };
  if (typeof v === 'string') return { name, type: AT.STRING, s: enc(v) };
  if ('f' in v) return { name, type: AT.FLOAT, f: v.f };
  if ('ints' in v) return { name, type: AT.INTS, ints: [...v.ints] };
  if ('floats' in v) return { name, type: AT.FLOATS, floats: [...v.floats] };
  return { name, type: AT.STRINGS, strings: v.strings.map(enc) };
}

export interface NodeCase {
  op: string;
  opset: number;
  /** Operands in order; null leaves an optional operand out. */
  inputs: readonly (Tensor | null)[];
  attrs?: Record<string, AttrSpec>;
  /** Result dtypes, one per result (null leaves an optional result out). */
  outputs: readonly (DType | null)[];
}

const ORT_TYPE: Partial<Record<DType, string>> = { f32: 'float32', f64: 'float64', i64: 'int64', i32: 'int32', u8: 'uint8', i8: 'int8' };

export function nodeModel(c: NodeCase): Uint8Array {
  const inNames = c.inputs.map((t, i) => (t ? `x${i}` : ''));
  const outNames = c.outputs.map((d, i) => (d ? `y${i}` : ''));
  return modelBytes({
    opsets: { '': c.opset },
    graph: {
      input: c.inputs.flatMap((t, i) => (t ? [vi(`x${i}`, onnxCode(t.dtype), [...t.shape])] : [])),
      node: [
        {
          opType: c.op,
          input: inNames,
          output: outNames,
          attribute: Object.entries(c.attrs ?? {}).map(([k, v]) => attrProto(k, v)),
        },
      ],
      output: c.outputs.flatMap((d, i) => (d ? [vi(`y${i}`, onnxCode(d), null)] : [])),
    },
  });
}

/** Run a one-node model in lathe's interpreter (through the importer, with shape inference). */
export function runLathe(c: NodeCase): Tensor[] {
  const model = importOnnxBytes(nodeModel(c));
  const feed = new Map<string, Tensor>();
  c.inputs.forEach((t, i) => t && feed.set(`x${i}`, t));
  return runModel(model, feed).map((v) => {
    if (!isTensor(v)) throw new Error('expected tensor results');
    return v;
  });
}

/** Run a one-node model in ONNX Runtime (CPU, one thread). */
export async function runOrt(c: NodeCase): Promise<Tensor[]> {
  const session = await ort.InferenceSession.create(nodeModel(c), { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    c.inputs.forEach((t, i) => {
      if (!t) return;
      const type = ORT_TYPE[t.dtype];
      if (!type) throw new Error(`no ONNX Runtime type for ${t.dtype}`);
      feeds[`x${i}`] = new ort.Tensor(type as 'float32', t.data as Float32Array, [...t.shape]);
    });
    const res = await session.run(feeds);
    return c.outputs.flatMap((d, i) => {
      if (!d) return [];
      const o = res[`y${i}`]!;
      return [tensorFrom(d, o.dims.map(Number), o.data as ArrayLike<number>)];
    });
  } finally {
    await session.release();
  }
}

/** Assert lathe and ONNX Runtime agree on a one-node model (floats within rtol/atol). */
export async function agreesWithOrt(label: string, c: NodeCase, rtol = 1e-4, atol = 1e-5): Promise<void> {
  const want = await runOrt(c);
  const got = runLathe(c);
  assert.is(got.length, want.length, `${label}: result count`);
  want.forEach((w, i) => {
    const why = mismatch(got[i]!, w, { rtol, atol });
    assert.ok(why === undefined, `${label}: result ${i}: ${why}`);
  });
}

/** Deterministic pseudo-random values in [lo, hi) (a small LCG, so tests are repeatable). */
export function rand(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0 || 1;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((s >>> 8) / 2 ** 24) * (hi - lo);
  }
  return out;
}

export const f32 = (shape: readonly number[], values: ArrayLike<number>): Tensor => tensorFrom('f32', shape, values);
export const i64 = (shape: readonly number[], values: ArrayLike<number>): Tensor => tensorFrom('i64', shape, values);
export const i32 = (shape: readonly number[], values: ArrayLike<number>): Tensor => tensorFrom('i32', shape, values);
export const randF32 = (shape: readonly number[], seed: number, lo = -1, hi = 1): Tensor =>
  f32(shape, rand(shape.reduce((a, b) => a * b, 1), seed, lo, hi));

/** A tensor's elements as plain numbers (i64 included), for assertions. */
export const nums = (t: Tensor | undefined): number[] => Array.from(t!.data as ArrayLike<number | bigint>, (v) => Number(v));
