// Calibration for svdquant: run the reference interpreter over a few input sets and record, for
// each linear layer's activation X viewed as [tokens, K] (conv1x1: channels on axis 1, tokens
// N·H·W), the per-channel absmax, the global min/max, the token count and a sample of up to
// `maxRows` token rows. Only these statistics are kept, never whole activations.
//
// Rows are sampled by reservoir sampling (Algorithm R) with a fixed seed per activation, so the
// sample is uniform over every token of the whole run and the same from run to run; the kept
// rows are returned in the order they were seen, with their token indices.
//
// Results are cached in `<repo>/.cache/calibration/<key>.json` (header: layers, shapes, offsets)
// plus `<key>.bin` (the f32 arrays), keyed by a sha256 of the model (graph structure and the
// constants' bytes), the layers, maxRows and the input tensors' bytes. A hit skips the
// interpreter entirely. `cache: false` turns it off; a string names another folder.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { LatheError } from '../../ir/errors.ts';
import type { Attr, Graph, Model, Node } from '../../ir/graph.ts';
import { readValuePb } from '../../ir/interp/pb.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { RuntimeValue, Tensor } from '../../ir/interp/tensor.ts';
import { describe, isTensor, toBytes } from '../../ir/interp/tensor.ts';
import type { ConstTensor } from '../../ir/tensor-data.ts';
import { tensorBytes } from '../../ir/tensor-data.ts';
import type { ValueType } from '../../ir/types.ts';
import { typeToString } from '../../ir/types.ts';
import type { RandomInputOptions } from '../../compiler/random-inputs.ts';
import { randomInputs, rng } from '../../compiler/random-inputs.ts';
import type { LinearLayer } from './linear-layers.ts';

/** Bumped whenever what is computed or stored changes, so old cache files are not read. */
const CACHE_VERSION = 1;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Default cache folder: <repo>/.cache/calibration (gitignored). */
export const defaultCalibrationCacheDir = path.join(repoRoot, '.cache', 'calibration');

export type CalibrationSource =
  | { readonly source: 'folder'; readonly path: string; readonly sets: number }
  | { readonly source: 'generated'; readonly count: number; readonly seed: number }
  | { readonly source: 'given'; readonly count: number };

/** Input sets for `calibrate`, with where they came from. */
export interface CalibrationInputs {
  readonly source: CalibrationSource;
  readonly sets: readonly Map<string, Tensor>[];
}

/** One activation's statistics (layers reading the same activation share one object). */
export interface LayerStats {
  /** The activation value. */
  readonly x: string;
  readonly K: number;
  /** max |X[:, k]| over every token. */
  readonly absmax: Float32Array;
  /** Global min and max of X. */
  readonly min: number;
  readonly max: number;
  /** Tokens seen over the whole run. */
  readonly tokens: number;
  /** Number of sampled rows: min(tokens, maxRows). */
  readonly rowCount: number;
  /** Sampled token rows, [rowCount, K] row-major, in the order they were seen. */
  readonly rows: Float32Array;
  /** Each sampled row's index among all tokens of the run (increasing). */
  readonly rowTokens: Float64Array;
}

export interface CalibrationStats {
  /** By layer (node) name. */
  readonly layers: ReadonlyMap<string, LayerStats>;
  readonly source: CalibrationSource;
  readonly inputSets: number;
  readonly maxRows: number;
  /** The cache key (sha256, hex). */
  readonly key: string;
  /** Whether the stats were read from the cache (the interpreter did not run). */
  readonly fromCache: boolean;
  /** The cache file's header path when it was read or written; undefined with cache off. */
  readonly cacheFile?: string;
  /** Seconds the interpreter ran (0 on a cache hit). */
  readonly seconds: number;
}

export interface CalibrateOptions {
  /** Rows sampled per activation (default 256). */
  maxRows?: number;
  /** Show progress on stderr (a bar on a TTY; on a pipe a line per set once past 2 s). */
  progress?: boolean;
  /** Cache folder (default `<repo>/.cache/calibration`), or false for none. */
  cache?: string | false;
  /** Called after every interpreted node (tracing, tests); not called on a cache hit. */
  onNode?: (node: Node, results: readonly (RuntimeValue | undefined)[], depth: number) => void;
}

// ---- inputs ----

/**
 * Calibration inputs from a folder of ONNX TensorProto files: `input_0.pb`, `input_1.pb`, … in
 * the folder itself (one set) and/or in each subfolder (`test_data_set_0/input_0.pb`, …: one set
 * each, sorted by name). Files match the graph's inputs by position, as ONNX's test runner does;
 * trailing inputs with initializer defaults may be left out. Every file is read and checked up
 * front: an error names the file and what is wrong.
 */
export function loadCalibrationInputs(model: Model, folder: string): CalibrationInputs {
  const g = model.graph;
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new LatheError('UsageError', `calibration inputs: no such folder`, { file: folder });
  }
  const dirs: string[] = [];
  if (existsSync(path.join(folder, 'input_0.pb'))) dirs.push(folder);
  for (const e of readdirSync(folder).sort()) {
    const sub = path.join(folder, e);
    if (statSync(sub).isDirectory() && existsSync(path.join(sub, 'input_0.pb'))) dirs.push(sub);
  }
  if (dirs.length === 0) {
    throw new LatheError('UsageError', `calibration inputs: no input_0.pb in the folder or its subfolders`, { file: folder });
  }
  const defaults = new Set((g.inputDefaults ?? []).map((c) => c.name));
  const sets = dirs.map((dir) => {
    const files: string[] = [];
    for (let i = 0; existsSync(path.join(dir, `input_${i}.pb`)); i++) files.push(path.join(dir, `input_${i}.pb`));
    if (files.length > g.inputs.length) {
      throw new LatheError('UsageError', `calibration inputs: ${files.length} input files but the model takes ${g.inputs.length} inputs`, {
        file: files[g.inputs.length],
      });
    }
    const set = new Map<string, Tensor>();
    g.inputs.forEach((inp, i) => {
      const file = path.join(dir, `input_${i}.pb`);
      if (i >= files.length) {
        if (defaults.has(inp.name)) return;
        throw new LatheError('UsageError', `calibration inputs: missing for model input '${inp.name}' (${typeToString(inp.type)})`, {
          file,
          value: inp.name,
        });
      }
      const v = readValuePb(file, inp.type);
      const bad = !isTensor(v) ? `is ${describe(v)}` : tensorMismatch(v, inp.type);
      if (bad) {
        throw new LatheError('UsageError', `calibration inputs: the tensor for model input '${inp.name}' ${bad}; the model declares ${typeToString(inp.type)}`, {
          file,
          value: inp.name,
        });
      }
      set.set(inp.name, v as Tensor);
    });
    return set;
  });
  return { source: { source: 'folder', path: path.resolve(folder), sets: sets.length }, sets };
}

function tensorMismatch(t: Tensor, type: ValueType): string | undefined {
  if (type.kind !== 'tensor') return `is a tensor`;
  if (t.dtype !== type.dtype) return `is ${describe(t)} (dtype ${t.dtype}, not ${type.dtype})`;
  if (type.shape === null) return undefined;
  if (type.shape.length !== t.shape.length) return `is ${describe(t)} (rank ${t.shape.length}, not ${type.shape.length})`;
  for (let i = 0; i < t.shape.length; i++) {
    const d = type.shape[i];
    if (typeof d === 'number' && d !== t.shape[i]) return `is ${describe(t)} (dim ${i} is ${t.shape[i]}, not ${d})`;
  }
  return undefined;
}

/**
 * `count` seeded input sets from compiler/random-inputs.ts (set i uses seed + i). Symbolic dims
 * come from `options.dims` / `options.defaultDim` (default 1: give real sizes for real tokens).
 */
export function generatedCalibrationInputs(
  model: Model,
  count: number,
  seed = 0,
  options: Omit<RandomInputOptions, 'seed'> = {},
): CalibrationInputs {
  const sets = Array.from({ length: count }, (_, i) => randomInputs(model, { ...options, seed: seed + i }));
  return { source: { source: 'generated', count, seed }, sets };
}

/** One line for reports: where the calibration data came from. */
export function describeSource(s: CalibrationSource): string {
  switch (s.source) {
    case 'folder': return `${s.sets} input set(s) from ${s.path}`;
    case 'generated': return `${s.count} generated input set(s) (random normal, seed ${s.seed})`;
    case 'given': return `${s.count} input set(s) given in code`;
  }
}

// ---- hashing ----

const modelHashes = new WeakMap<Model, string>();

/**
 * sha256 of a model: opsets, inputs, outputs, nodes (attributes and subgraphs included) and
 * constants. Constants in memory are hashed by their bytes; constants in external files by path,
 * range, size and mtime (reading gigabytes of weights just to hash them is what the key avoids).
 */
export function modelHash(model: Model): string {
  let h = modelHashes.get(model);
  if (h) return h;
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ opsets: model.opsets }));
  hashGraph(hash, model.graph);
  h = hash.digest('hex');
  modelHashes.set(model, h);
  return h;
}

type Hash = ReturnType<typeof createHash>;

function hashConst(hash: Hash, c: ConstTensor): void {
  hash.update(`\0tensor ${c.dtype} [${c.shape.join(',')}] `);
  const d = c.data;
  if (d.kind === 'strings') hash.update(JSON.stringify(d.values));
  else if (d.kind === 'file') {
    const st = statSync(d.path, { throwIfNoEntry: false });
    hash.update(`file ${d.path} ${d.offset} ${d.length} ${st?.size ?? -1} ${st?.mtimeMs ?? -1}`);
  } else hash.update(tensorBytes(c));
}

function hashGraph(hash: Hash, g: Graph): void {
  hash.update(`\0graph ${JSON.stringify({ name: g.name, inputs: g.inputs, outputs: g.outputs })}`);
  for (const c of g.constants) {
    hash.update(`\0const ${c.name}`);
    hashConst(hash, c.tensor);
  }
  for (const c of g.inputDefaults ?? []) {
    hash.update(`\0default ${c.name}`);
    hashConst(hash, c.tensor);
  }
  for (const n of g.nodes) {
    hash.update(`\0node ${JSON.stringify({ name: n.name, op: n.op, domain: n.domain, inputs: n.inputs, outputs: n.outputs })}`);
    for (const k of Object.keys(n.attrs).sort()) hashAttr(hash, k, n.attrs[k]!);
  }
}

function hashAttr(hash: Hash, name: string, a: Attr): void {
  hash.update(`\0attr ${name} ${a.kind} `);
  switch (a.kind) {
    case 'tensor': hashConst(hash, a.value); break;
    case 'tensors': for (const t of a.value) hashConst(hash, t); break;
    case 'graph': hashGraph(hash, a.value); break;
    case 'graphs': for (const sg of a.value) hashGraph(hash, sg); break;
    default: hash.update(JSON.stringify(a.value));
  }
}

function inputsHash(sets: readonly Map<string, Tensor>[]): string {
  const hash = createHash('sha256');
  sets.forEach((set, i) => {
    for (const name of [...set.keys()].sort()) {
      const t = set.get(name)!;
      hash.update(`\0set ${i} ${name} ${t.dtype} [${t.shape.join(',')}] `);
      if (t.dtype === 'string') hash.update(JSON.stringify(t.data));
      else hash.update(toBytes(t));
    }
  });
  return hash.digest('hex');
}

/** The cache key of a calibration run. */
export function calibrationKey(model: Model, layers: readonly LinearLayer[], sets: readonly Map<string, Tensor>[], maxRows: number): string {
  const layerKey = layers.map((l) => [l.node, l.kind, l.x, l.K]);
  return createHash('sha256')
    .update(JSON.stringify({ v: CACHE_VERSION, model: modelHash(model), layers: layerKey, maxRows, inputs: inputsHash(sets) }))
    .digest('hex');
}

// ---- accumulation ----

/** Whether the activation is NC… (channels on axis 1) or …K (channels last). */
type Layout = 'channels-last' | 'nchw';
const layoutOf = (l: LinearLayer): Layout => (l.kind === 'conv1x1' ? 'nchw' : 'channels-last');

class Accumulator {
  readonly absmax: Float32Array;
  min = Infinity;
  max = -Infinity;
  tokens = 0;
  readonly rows: Float32Array;
  readonly rowTokens: Float64Array;
  private readonly next: () => number;
  constructor(
    readonly x: string,
    readonly K: number,
    readonly layout: Layout,
    readonly maxRows: number,
  ) {
    this.absmax = new Float32Array(K);
    this.rows = new Float32Array(maxRows * K);
    this.rowTokens = new Float64Array(maxRows);
    let seed = 0x5eed;
    for (let i = 0; i < x.length; i++) seed = Math.imul(seed ^ x.charCodeAt(i), 16777619);
    this.next = rng(seed >>> 0);
  }

  add(t: Tensor, where: string): void {
    const K = this.K;
    const s = t.shape;
    const data = t.data;
    if (!(data instanceof Float32Array || data instanceof Float64Array)) {
      throw new LatheError('UnsupportedType', `calibration: activation '${this.x}' is ${describe(t)}, not a float tensor`, { node: where, value: this.x });
    }
    let outer: number; // tokens = outer · inner; element (o, k, i) at (o·K + k)·inner + i
    let inner: number;
    if (this.layout === 'nchw') {
      if (s.length < 2 || s[1] !== K) throw new LatheError('ShapeError', `calibration: activation '${this.x}' is ${describe(t)}; expected ${K} channels on axis 1`, { node: where, value: this.x });
      outer = s[0]!;
      inner = 1;
      for (let i = 2; i < s.length; i++) inner *= s[i]!;
    } else {
      if (s.length < 1 || s[s.length - 1] !== K) throw new LatheError('ShapeError', `calibration: activation '${this.x}' is ${describe(t)}; expected last dim ${K}`, { node: where, value: this.x });
      outer = data.length / K;
      inner = 1;
    }
    const absmax = this.absmax;
    let mn = this.min;
    let mx = this.max;
    // Stats: one pass over the data in memory order.
    if (inner === 1) {
      for (let base = 0; base < data.length; base += K) {
        for (let k = 0; k < K; k++) {
          const v = data[base + k]!;
          const a = Math.abs(v);
          if (a > absmax[k]!) absmax[k] = a;
          if (v < mn) mn = v;
          if (v > mx) mx = v;
        }
      }
    } else {
      for (let o = 0; o < outer; o++) {
        for (let k = 0; k < K; k++) {
          const base = (o * K + k) * inner;
          let am = absmax[k]!;
          for (let i = 0; i < inner; i++) {
            const v = data[base + i]!;
            const a = Math.abs(v);
            if (a > am) am = a;
            if (v < mn) mn = v;
            if (v > mx) mx = v;
          }
          absmax[k] = am;
        }
      }
    }
    this.min = mn;
    this.max = mx;
    // Reservoir sampling over tokens (token t = o·inner + i).
    const n = outer * inner;
    for (let t = 0; t < n; t++) {
      const seen = this.tokens + t;
      let slot: number;
      if (seen < this.maxRows) slot = seen;
      else {
        slot = Math.floor(this.next() * (seen + 1));
        if (slot >= this.maxRows) continue;
      }
      this.rowTokens[slot] = seen;
      const dst = slot * K;
      if (inner === 1) for (let k = 0; k < K; k++) this.rows[dst + k] = data[t * K + k]!;
      else {
        const o = Math.floor(t / inner);
        const i = t - o * inner;
        for (let k = 0; k < K; k++) this.rows[dst + k] = data[(o * K + k) * inner + i]!;
      }
    }
    this.tokens += n;
  }

  finish(): LayerStats {
    const count = Math.min(this.tokens, this.maxRows);
    // Order the kept rows by when they were seen.
    const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => this.rowTokens[a]! - this.rowTokens[b]!);
    const rows = new Float32Array(count * this.K);
    const rowTokens = new Float64Array(count);
    order.forEach((src, dst) => {
      rows.set(this.rows.subarray(src * this.K, (src + 1) * this.K), dst * this.K);
      rowTokens[dst] = this.rowTokens[src]!;
    });
    return {
      x: this.x,
      K: this.K,
      absmax: this.absmax,
      min: this.tokens ? this.min : 0,
      max: this.tokens ? this.max : 0,
      tokens: this.tokens,
      rowCount: count,
      rows,
      rowTokens,
    };
  }
}

// ---- the run ----

/**
 * Calibration statistics for `layers` (from findLinearLayers) over the input sets. `inputs`:
 * loadCalibrationInputs / generatedCalibrationInputs, or any iterable of input maps (recorded
 * as source 'given').
 */
export function calibrate(
  model: Model,
  layers: readonly LinearLayer[],
  inputs: CalibrationInputs | Iterable<Map<string, Tensor>>,
  opts: CalibrateOptions = {},
): CalibrationStats {
  const maxRows = opts.maxRows ?? 256;
  if (!Number.isInteger(maxRows) || maxRows < 0) throw new LatheError('UsageError', `calibrate: maxRows must be a non-negative integer, got ${maxRows}`);
  const given = isCalibrationInputs(inputs) ? inputs : undefined;
  const sets = given ? given.sets : [...(inputs as Iterable<Map<string, Tensor>>)];
  const source: CalibrationSource = given ? given.source : { source: 'given', count: sets.length };
  if (sets.length === 0) throw new LatheError('UsageError', `calibrate: no input sets`);
  const key = calibrationKey(model, layers, sets, maxRows);
  const cacheDir = opts.cache === false ? undefined : (opts.cache ?? defaultCalibrationCacheDir);
  const base = { source, inputSets: sets.length, maxRows, key };

  if (cacheDir) {
    const hit = readCache(cacheDir, key, layers);
    if (hit) return { ...base, layers: hit, fromCache: true, cacheFile: path.join(cacheDir, `${key}.json`), seconds: 0 };
  }

  // One accumulator per (activation, layout); layers reading the same activation share it.
  const accs = new Map<string, Accumulator>();
  const byValue = new Map<string, Accumulator[]>();
  const layerAcc = new Map<string, Accumulator>();
  for (const l of layers) {
    const id = `${layoutOf(l)}\0${l.x}`;
    let acc = accs.get(id);
    if (!acc) {
      acc = new Accumulator(l.x, l.K, layoutOf(l), maxRows);
      accs.set(id, acc);
      const list = byValue.get(l.x) ?? [];
      list.push(acc);
      byValue.set(l.x, list);
    } else if (acc.K !== l.K) {
      throw new LatheError('ShapeError', `calibrate: layers read '${l.x}' with K ${acc.K} and ${l.K}`, { node: l.node, value: l.x });
    }
    layerAcc.set(l.node, acc);
  }

  const progress = opts.progress ? new Progress(sets.length) : undefined;
  const t0 = performance.now();
  sets.forEach((set, i) => {
    // Activations that are graph inputs are never a node's result: take them from the set.
    for (const [name, list] of byValue) {
      const v = set.get(name);
      if (v !== undefined) for (const acc of list) acc.add(v, `input set ${i}`);
    }
    runModel(model, set, {
      onNode: (node, results, depth) => {
        opts.onNode?.(node, results, depth);
        if (depth !== 0) return;
        node.outputs.forEach((o, j) => {
          const list = o ? byValue.get(o.name) : undefined;
          if (!list) return;
          const v = results[j];
          if (!isTensor(v)) return;
          for (const acc of list) acc.add(v, node.name);
        });
      },
    });
    progress?.update(i + 1);
  });
  const seconds = (performance.now() - t0) / 1000;
  progress?.done();

  const finished = new Map<Accumulator, LayerStats>();
  const stats = new Map<string, LayerStats>();
  for (const l of layers) {
    const acc = layerAcc.get(l.node)!;
    let s = finished.get(acc);
    if (!s) {
      s = acc.finish();
      if (s.tokens === 0) throw new LatheError('VerifyError', `calibrate: activation '${l.x}' of layer '${l.node}' was never computed`, { node: l.node, value: l.x });
      finished.set(acc, s);
    }
    stats.set(l.node, s);
  }
  let cacheFile: string | undefined;
  if (cacheDir) cacheFile = writeCache(cacheDir, key, layers, stats);
  return { ...base, layers: stats, fromCache: false, cacheFile, seconds };
}

function isCalibrationInputs(v: unknown): v is CalibrationInputs {
  return typeof v === 'object' && v !== null && 'source' in v && 'sets' in v && Array.isArray((v as CalibrationInputs).sets);
}

// ---- the cache ----

interface CacheHeader {
  version: number;
  key: string;
  bytes: number;
  /** Unique activations, each with its arrays' f32 offsets (in elements) into the .bin. */
  stats: { x: string; K: number; min: number; max: number; tokens: number; rowCount: number; absmax: number; rows: number; rowTokens: number }[];
  /** Layer (node) → index into stats. */
  layers: Record<string, number>;
}

function writeCache(dir: string, key: string, layers: readonly LinearLayer[], stats: ReadonlyMap<string, LayerStats>): string | undefined {
  const unique: LayerStats[] = [];
  const index = new Map<LayerStats, number>();
  const header: CacheHeader = { version: CACHE_VERSION, key, bytes: 0, stats: [], layers: {} };
  let offset = 0; // in 4-byte words; rowTokens (f64) take two
  const parts: Uint8Array[] = [];
  const push = (a: Float32Array | Float64Array) => {
    const at = offset;
    parts.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    offset += a.byteLength / 4;
    return at;
  };
  for (const l of layers) {
    const s = stats.get(l.node)!;
    let i = index.get(s);
    if (i === undefined) {
      i = unique.length;
      unique.push(s);
      index.set(s, i);
      header.stats.push({
        x: s.x, K: s.K, min: s.min, max: s.max, tokens: s.tokens, rowCount: s.rowCount,
        rowTokens: push(s.rowTokens), absmax: push(s.absmax), rows: push(s.rows),
      });
    }
    header.layers[l.node] = i;
  }
  header.bytes = offset * 4;
  const bin = path.join(dir, `${key}.bin`);
  const json = path.join(dir, `${key}.json`);
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `.${process.pid}.${Date.now()}`;
    const buf = Buffer.concat(parts);
    // rowTokens come first in each group, so f64 data sits at 8-byte offsets only if the
    // preceding arrays align; reading copies them (slice), so alignment does not matter.
    writeFileSync(bin + tmp, buf);
    renameSync(bin + tmp, bin);
    writeFileSync(json + tmp, JSON.stringify(header));
    renameSync(json + tmp, json);
    return json;
  } catch {
    return undefined; // a read-only checkout still calibrates, just without a cache
  }
}

function readCache(dir: string, key: string, layers: readonly LinearLayer[]): Map<string, LayerStats> | undefined {
  const json = path.join(dir, `${key}.json`);
  const bin = path.join(dir, `${key}.bin`);
  let header: CacheHeader;
  let buf: Buffer;
  try {
    header = JSON.parse(readFileSync(json, 'utf8')) as CacheHeader;
    if (header.version !== CACHE_VERSION || header.key !== key) return undefined;
    buf = readFileSync(bin);
    if (buf.length !== header.bytes) return undefined;
  } catch {
    return undefined;
  }
  // f32 arrays are views into the file's bytes (4-aligned: a lone file read starts its buffer);
  // f64 ones are copied, as they may sit at 4-byte offsets.
  const f32 = (at: number, n: number) =>
    (buf.byteOffset + at * 4) % 4 === 0 ? new Float32Array(buf.buffer, buf.byteOffset + at * 4, n) : new Float32Array(buf.buffer.slice(buf.byteOffset + at * 4, buf.byteOffset + (at + n) * 4));
  const f64 = (at: number, n: number) => new Float64Array(buf.buffer.slice(buf.byteOffset + at * 4, buf.byteOffset + at * 4 + n * 8));
  const unique = header.stats.map(
    (s): LayerStats => ({
      x: s.x, K: s.K, min: s.min, max: s.max, tokens: s.tokens, rowCount: s.rowCount,
      absmax: f32(s.absmax, s.K),
      rows: f32(s.rows, s.rowCount * s.K),
      rowTokens: f64(s.rowTokens, s.rowCount),
    }),
  );
  const out = new Map<string, LayerStats>();
  for (const l of layers) {
    const i = header.layers[l.node];
    if (i === undefined || !unique[i]) return undefined;
    out.set(l.node, unique[i]);
  }
  return out;
}

// ---- progress ----

class Progress {
  private readonly t0 = performance.now();
  private readonly tty = process.stderr.isTTY === true;
  private drawn = false;
  constructor(private readonly total: number) {
    if (this.tty) this.update(0);
  }
  update(done: number): void {
    const s = (performance.now() - this.t0) / 1000;
    if (this.tty) {
      const width = 20;
      const fill = Math.round((done / this.total) * width);
      process.stderr.write(`\rcalibrating [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${this.total} input sets, ${s.toFixed(1)} s`);
      this.drawn = true;
    } else if (s > 2) {
      process.stderr.write(`calibrating: ${done}/${this.total} input sets, ${s.toFixed(1)} s\n`);
    }
  }
  done(): void {
    if (this.drawn) process.stderr.write('\n');
  }
}
