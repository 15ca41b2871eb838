// Seeded random inputs for a model's graph inputs, for checks on models that come without test
// data (`lathe check --random`, the real-model checks).
import type { DType } from '../ir/dtype.ts';
import type { Model } from '../ir/graph.ts';
import { LatheError } from '../ir/errors.ts';
import type { Tensor } from '../ir/interp/tensor.ts';
import { fromBytes, makeTensor, toBytes } from '../ir/interp/tensor.ts';

/** A small, fast, seeded generator (mulberry32): uniform floats in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** How one input is made (overrides the defaults of `randomInputs`). */
export interface InputRule {
  /** The concrete shape (replaces the declared one; needed for unknown dims). */
  shape?: readonly number[];
  /** Fill every element with this value (e.g. a sample rate, a zero state). */
  value?: number;
  /** Floats: standard deviation of the normal values (default 1). Integers: values in [0, range). */
  scale?: number;
  range?: number;
}

export interface RandomInputOptions {
  /** Seed; each input draws from its own stream (seed and name), so order does not matter. */
  seed?: number;
  /** Sizes of symbolic dims by name (dims not named here: `defaultDim`). */
  dims?: Readonly<Record<string, number>>;
  /** Size of a symbolic or unknown dim not in `dims` (default 1). */
  defaultDim?: number;
  /** Per-input rules, by input name. */
  inputs?: Readonly<Record<string, InputRule>>;
}

/**
 * Seeded inputs for every graph input of `model` (except those with initializer defaults):
 * floats normal(0, 1), integers uniform in [0, 4), booleans fair coins; symbolic dims from
 * `dims` (else `defaultDim`).
 */
export function randomInputs(model: Model, options: RandomInputOptions = {}): Map<string, Tensor> {
  const seed = options.seed ?? 0;
  const defaults = new Set((model.graph.inputDefaults ?? []).map((c) => c.name));
  const out = new Map<string, Tensor>();
  for (const inp of model.graph.inputs) {
    const rule = options.inputs?.[inp.name] ?? {};
    if (defaults.has(inp.name) && !options.inputs?.[inp.name]) continue;
    if (inp.type.kind !== 'tensor') throw new LatheError('UnsupportedType', `input '${inp.name}' is a ${inp.type.kind}; only tensor inputs can be made`);
    const { dtype } = inp.type;
    let shape: number[];
    if (rule.shape) shape = [...rule.shape];
    else if (inp.type.shape === null) throw new LatheError('ShapeError', `input '${inp.name}' has no declared rank; give its shape`);
    else shape = inp.type.shape.map((d) => (typeof d === 'number' ? d : (d !== null && options.dims?.[d]) || options.defaultDim || 1));
    out.set(inp.name, fillTensor(dtype, shape, rule, rng(seed ^ hashString(inp.name))));
  }
  return out;
}

function fillTensor(dtype: DType, shape: readonly number[], rule: InputRule, next: () => number): Tensor {
  const t = makeTensor(dtype, shape);
  const d = t.data;
  const n = d.length;
  if (Array.isArray(d)) {
    for (let i = 0; i < n; i++) d[i] = rule.value !== undefined ? String(rule.value) : `s${Math.floor(next() * 1000)}`;
    return t;
  }
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    const range = rule.range ?? 4;
    for (let i = 0; i < n; i++) d[i] = BigInt(rule.value ?? Math.floor(next() * range));
    return t;
  }
  if (dtype === 'bool') {
    for (let i = 0; i < n; i++) d[i] = rule.value !== undefined ? (rule.value ? 1 : 0) : next() < 0.5 ? 1 : 0;
    return t;
  }
  const isFloat = d instanceof Float32Array || d instanceof Float64Array;
  if (!isFloat) {
    const range = rule.range ?? 4;
    for (let i = 0; i < n; i++) d[i] = rule.value ?? Math.floor(next() * range);
    return t;
  }
  if (rule.value !== undefined) {
    d.fill(rule.value);
    return t;
  }
  const scale = rule.scale ?? 1;
  // Box-Muller, two normals per pair of uniforms.
  for (let i = 0; i < n; i += 2) {
    const u = 1 - next();
    const v = next();
    const r = scale * Math.sqrt(-2 * Math.log(u));
    d[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) d[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  // Narrow floats (f16 etc.) are held in f32 arrays and must be representable: round them.
  if (dtype !== 'f32' && dtype !== 'f64') return fromBytes(dtype, shape, toBytes(t));
  return t;
}
