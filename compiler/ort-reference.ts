// ONNX Runtime (CPU) as lathe's outside reference: `lathe check` and the real-model checks run a
// model in ONNX Runtime and in lathe's interpreter on the same inputs and compare every output.
// onnxruntime-node is a development dependency; importing this module needs it.
//
// Errors, per output (ONNX Runtime's values are the reference b, lathe's are a):
//   maxAbs  = max |a − b|                      the largest absolute difference
//   rel     = max |a − b| / max |b|            relative to the output's scale: the criterion
//   elemRel = max |a − b| / max(|b|, tiny)     the worst element on its own (tiny = 1e-6 · max |b|),
//                                              reported only: large wherever an output crosses zero
// Integer and boolean outputs must be equal element for element.
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import type { DType } from '../ir/dtype.ts';
import type { Model } from '../ir/graph.ts';
import { importOnnxFile } from '../ir/onnx/import.ts';
import { runModel } from '../ir/interp/run.ts';
import type { RuntimeValue, Tensor } from '../ir/interp/tensor.ts';
import { describe, fromBytes, isTensor, makeTensor, toBytes } from '../ir/interp/tensor.ts';

/** The agreement criterion: rel = max |a − b| / max |b| at most this. */
export const REL_TOLERANCE = 1e-4;

// ---- tensors to and from ONNX Runtime ----

const ORT_TYPES: Partial<Record<DType, ort.Tensor.Type>> = {
  f32: 'float32', f64: 'float64', f16: 'float16', i8: 'int8', u8: 'uint8', i16: 'int16', u16: 'uint16',
  i32: 'int32', u32: 'uint32', i64: 'int64', u64: 'uint64', bool: 'bool', string: 'string',
};
const LATHE_TYPES = new Map<string, DType>(Object.entries(ORT_TYPES).map(([d, t]) => [t, d as DType]));

/** A lathe run-time tensor as an ONNX Runtime tensor (copies the data). */
export function toOrtTensor(t: Tensor): ort.Tensor {
  const type = ORT_TYPES[t.dtype];
  if (!type) throw new Error(`ONNX Runtime (node) takes no ${t.dtype} tensors`);
  const dims = [...t.shape];
  if (type === 'string') return new ort.Tensor('string', [...(t.data as string[])], dims);
  const bytes = toBytes(t);
  const buf = bytes.buffer;
  switch (type) {
    case 'float32': return new ort.Tensor(type, new Float32Array(buf), dims);
    case 'float64': return new ort.Tensor(type, new Float64Array(buf), dims);
    case 'float16': return new ort.Tensor(type, new Uint16Array(buf), dims);
    case 'int8': return new ort.Tensor(type, new Int8Array(buf), dims);
    case 'uint8': return new ort.Tensor(type, new Uint8Array(buf), dims);
    case 'bool': return new ort.Tensor(type, new Uint8Array(buf), dims);
    case 'int16': return new ort.Tensor(type, new Int16Array(buf), dims);
    case 'uint16': return new ort.Tensor(type, new Uint16Array(buf), dims);
    case 'int32': return new ort.Tensor(type, new Int32Array(buf), dims);
    case 'uint32': return new ort.Tensor(type, new Uint32Array(buf), dims);
    case 'int64': return new ort.Tensor(type, new BigInt64Array(buf), dims);
    case 'uint64': return new ort.Tensor(type, new BigUint64Array(buf), dims);
    default: throw new Error(`no conversion for ${type}`);
  }
}

/** An ONNX Runtime tensor as a lathe run-time tensor. */
export function fromOrtTensor(t: ort.Tensor): Tensor {
  const dtype = LATHE_TYPES.get(t.type);
  if (!dtype) throw new Error(`ONNX Runtime returned a ${t.type} tensor, which lathe does not compare`);
  const shape = t.dims.map(Number);
  if (dtype === 'string') return makeTensor('string', shape, [...(t.data as string[])]);
  const d = t.data as ArrayBufferView;
  // Copy: ONNX Runtime may reuse its output buffers.
  return fromBytes(dtype, shape, new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice());
}

// ---- errors ----

export interface OutputError {
  name: string;
  /** lathe's value: dtype and shape. */
  dtype: string;
  shape: number[];
  /** max |a − b| (floats; for integers the count of differing elements is in `mismatches`). */
  maxAbs: number;
  /** max |b|: the scale `rel` divides by. */
  maxRef: number;
  /** max |a − b| / max |b| (0 when both are all zero): the criterion. */
  rel: number;
  /** max over elements of |a − b| / max(|b|, 1e-6 · max |b|): reported, not checked. */
  elemRel: number;
  /** Elements that differ (integers, booleans, strings) or whose NaN-ness differs (floats). */
  mismatches: number;
  /** Why the output cannot be compared at all (dtype or shape differs, not a tensor). */
  problem?: string;
  ok: boolean;
}

/** Errors of lathe's output `a` against ONNX Runtime's `b`. */
export function outputError(name: string, a: RuntimeValue, b: Tensor, relTolerance = REL_TOLERANCE): OutputError {
  const base = { name, dtype: isTensor(a) ? a.dtype : describe(a), shape: isTensor(a) ? [...a.shape] : [], maxAbs: NaN, maxRef: NaN, rel: NaN, elemRel: NaN, mismatches: 0 };
  if (!isTensor(a)) return { ...base, problem: `lathe gave ${describe(a)}, ONNX Runtime ${describe(b)}`, ok: false };
  if (a.dtype !== b.dtype) return { ...base, problem: `dtype ${a.dtype}, ONNX Runtime ${b.dtype}`, ok: false };
  if (a.shape.join() !== b.shape.join()) return { ...base, problem: `shape [${a.shape.join(', ')}], ONNX Runtime [${b.shape.join(', ')}]`, ok: false };
  const x = a.data;
  const y = b.data;
  const n = y.length;
  let mismatches = 0;
  const isFloatData = x instanceof Float32Array || x instanceof Float64Array;
  if (!isFloatData) {
    for (let i = 0; i < n; i++) if (x[i] !== y[i]) mismatches++;
    let maxAbs = 0;
    let maxRef = 0;
    if (!Array.isArray(x)) {
      for (let i = 0; i < n; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(Number(x[i]) - Number(y[i])));
        maxRef = Math.max(maxRef, Math.abs(Number(y[i])));
      }
    }
    const rel = maxAbs === 0 ? 0 : maxAbs / Math.max(maxRef, Number.MIN_VALUE);
    return { ...base, maxAbs, maxRef, rel, elemRel: rel, mismatches, ok: mismatches === 0 };
  }
  const xf = x as Float32Array | Float64Array;
  const yf = y as Float32Array | Float64Array;
  let maxAbs = 0;
  let maxRef = 0;
  for (let i = 0; i < n; i++) {
    const u = xf[i]!;
    const v = yf[i]!;
    if (Number.isNaN(u) || Number.isNaN(v)) {
      if (!(Number.isNaN(u) && Number.isNaN(v))) mismatches++;
      continue;
    }
    if (Number.isFinite(v)) maxRef = Math.max(maxRef, Math.abs(v));
    if (u === v) continue; // equal infinities too
    const diff = Math.abs(u - v);
    if (diff > maxAbs || Number.isNaN(diff)) maxAbs = diff;
  }
  const tiny = Math.max(1e-6 * maxRef, Number.MIN_VALUE);
  let elemRel = 0;
  for (let i = 0; i < n; i++) {
    const u = xf[i]!;
    const v = yf[i]!;
    if (u === v || Number.isNaN(u) || Number.isNaN(v)) continue;
    elemRel = Math.max(elemRel, Math.abs(u - v) / Math.max(Math.abs(v), tiny));
  }
  const rel = maxAbs === 0 ? 0 : maxAbs / Math.max(maxRef, Number.MIN_VALUE);
  return { ...base, maxAbs, maxRef, rel, elemRel, mismatches, ok: mismatches === 0 && rel <= relTolerance };
}

// ---- the comparison ----

export interface CompareOptions {
  /** The model as lathe imported it (imported from `modelPath` when not given). */
  model?: Model;
  /** Agreement criterion on `rel` (default REL_TOLERANCE). */
  relTolerance?: number;
  /** ONNX Runtime session options (default: its defaults, CPU). */
  ortOptions?: ort.InferenceSession.SessionOptions;
}

export interface CompareResult {
  outputs: OutputError[];
  /** Every output agrees. */
  ok: boolean;
  /** Wall times: lathe import, lathe run, ONNX Runtime session creation, ONNX Runtime run. */
  ms: { latheImport: number; latheRun: number; ortCreate: number; ortRun: number };
}

/**
 * Runs `modelPath` with lathe's interpreter and with ONNX Runtime (CPU) on `inputs` (by input
 * name) and returns each output's errors, ONNX Runtime being the reference. Throws if either
 * fails to run (the message says which).
 */
export async function compareWithOrt(modelPath: string, inputs: ReadonlyMap<string, Tensor>, options: CompareOptions = {}): Promise<CompareResult> {
  let t0 = performance.now();
  const model = options.model ?? importOnnxFile(modelPath);
  const latheImport = options.model ? 0 : performance.now() - t0;

  t0 = performance.now();
  const session = await ort.InferenceSession.create(modelPath, options.ortOptions ?? {});
  const ortCreate = performance.now() - t0;
  let expected: Tensor[];
  let ortRun: number;
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of inputs) feeds[name] = toOrtTensor(t);
    t0 = performance.now();
    const results = await session.run(feeds);
    ortRun = performance.now() - t0;
    expected = model.graph.outputs.map((name) => {
      const r = results[name];
      if (!r) throw new Error(`ONNX Runtime gave no output '${name}'`);
      return fromOrtTensor(r);
    });
  } catch (e) {
    throw new Error(`ONNX Runtime: ${(e as Error).message}`);
  } finally {
    await session.release();
  }

  t0 = performance.now();
  let actual: RuntimeValue[];
  try {
    actual = runModel(model, inputs);
  } catch (e) {
    throw new Error(`lathe: ${(e as Error).message}`);
  }
  const latheRun = performance.now() - t0;

  const outputs = model.graph.outputs.map((name, i) => outputError(name, actual[i]!, expected[i]!, options.relTolerance));
  return { outputs, ok: outputs.every((o) => o.ok), ms: { latheImport, latheRun, ortCreate, ortRun } };
}
