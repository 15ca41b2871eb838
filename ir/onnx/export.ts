// The ONNX exporter: lathe Model → ModelProto bytes, so a graph lathe has optimized can run in
// ONNX Runtime or any other ONNX tool. The inverse of import.ts: importing what this writes gives
// back the same Model (test/onnx/export-roundtrip.test.ts). Every inferred type is written as
// value_info, so readers see the shapes lathe knows without redoing inference.
import { existsSync, realpathSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { LatheError } from '../errors.ts';
import type { Constant, Graph, Model } from '../graph.ts';
import { constType, LATHE_DOMAIN, ONNX_DOMAIN, qualifiedOp, subgraphsOf } from '../graph.ts';
import type { ConstTensor } from '../tensor-data.ts';
import { expectedBytes } from '../tensor-data.ts';
import type { ValueType } from '../types.ts';
import type { ExternalDataOptions } from './export-external.ts';
import { DEFAULT_THRESHOLD, ExternalWriter, goesExternal } from './export-external.ts';
import { irNeeds } from './export-ir.ts';
import { attrToProto, tensorToProto, valueInfo } from './export-proto.ts';
import type { OnnxTypes } from './proto.ts';
import { onnx } from './proto.ts';

export type { ExternalDataOptions } from './export-external.ts';

export interface ExportOptions {
  /** IR version to declare; by default the one ONNX released with the model's opsets. */
  irVersion?: number;
  /** producer_name to write (default 'lathe'; '' writes none). */
  producer?: string;
  /** Write initializers of at least `threshold` bytes to a separate file. */
  externalData?: ExternalDataOptions;
}

/** Protobuf messages (and so ONNX files) cannot exceed 2 GB. */
export const PROTOBUF_LIMIT = 2 ** 31 - 1;
/** The newest IR version the exporter writes (ONNX 1.18; ONNX Runtime 1.30 reads it). */
export const MAX_IR_VERSION = 11;

export function exportOnnx(model: Model, opts: ExportOptions = {}): Uint8Array {
  checkExpressible(model.graph, model.opsets);
  const irVersion = chooseIrVersion(model, opts);
  const ext = opts.externalData;
  if (ext) checkNotOverwritingSource(model.graph, ext.path);
  checkSize(model.graph, ext ? (ext.threshold ?? DEFAULT_THRESHOLD) : Infinity);

  const sink = ext ? new ExternalWriter(ext) : undefined;
  let bytes: Uint8Array;
  try {
    const graph = graphToProto(model.graph, () => undefined, sink);
    const producer = opts.producer ?? 'lathe';
    bytes = onnx.ModelProto.encode({
      irVersion,
      opsetImport: Object.entries(model.opsets)
        // The lathe domain is no ONNX domain; checkExpressible made sure no node uses it.
        .filter(([domain]) => domain !== LATHE_DOMAIN)
        .map(([domain, version]) => ({ domain: domain === ONNX_DOMAIN ? '' : domain, version })),
      ...(producer ? { producerName: producer } : {}),
      graph,
    }).finish();
  } finally {
    sink?.close();
  }
  if (bytes.length > PROTOBUF_LIMIT) throw tooLarge(bytes.length, ext !== undefined);
  return bytes;
}

/**
 * Writes the model to `file`. With `externalData`, the weights go to `externalData.path`
 * (default `<file>.data`), which must lie in the model's folder or below it.
 */
export function exportOnnxFile(
  model: Model,
  file: string,
  opts: Omit<ExportOptions, 'externalData'> & { externalData?: Partial<ExternalDataOptions> | boolean } = {},
): void {
  let externalData: ExternalDataOptions | undefined;
  if (opts.externalData) {
    const given = opts.externalData === true ? {} : opts.externalData;
    const dataPath = path.resolve(given.path ?? `${file}.data`);
    const location = path.relative(path.dirname(path.resolve(file)), dataPath);
    externalData = { threshold: given.threshold, location, path: dataPath };
  }
  const bytes = exportOnnx(model, { ...opts, externalData });
  try {
    writeFileSync(file, bytes);
  } catch (e) {
    throw new LatheError('UsageError', `cannot write model file: ${(e as Error).message}`, { file });
  }
}

/**
 * Ops of lathe's own domain have no ONNX definition: no ONNX reader can run them. And every
 * node's domain must be imported, or readers refuse the model.
 */
function checkExpressible(g: Graph, opsets: Model['opsets']): void {
  for (const n of g.nodes) {
    if (n.domain === LATHE_DOMAIN) {
      const op = qualifiedOp(n);
      throw new LatheError(
        'UnsupportedOp',
        `${op} is one of lathe's own ops, which ONNX does not define: after the pass that made it the graph is no longer expressible in ONNX, so it cannot be exported (export before that pass, or leave it out)`,
        { node: n.name, op },
      );
    }
    if (opsets[n.domain] === undefined) {
      throw new LatheError('VerifyError', `domain '${n.domain}' is used but the model imports no opset of it`, { node: n.name, op: qualifiedOp(n) });
    }
    for (const s of subgraphsOf(n)) checkExpressible(s.graph, opsets);
  }
}

function chooseIrVersion(model: Model, opts: ExportOptions): number {
  const needs = irNeeds(model, opts.externalData !== undefined);
  const chosen = Math.max(needs.fromOpsets, needs.fromFeatures);
  const want = opts.irVersion;
  if (want === undefined) return chosen;
  if (!Number.isInteger(want) || want < 3 || want > MAX_IR_VERSION) {
    throw new LatheError('UsageError', `IR version ${want} cannot be written (lathe writes IR versions 3 to ${MAX_IR_VERSION})`);
  }
  if (want < needs.fromFeatures) {
    throw new LatheError('UsageError', `IR version ${want} cannot hold this model: its ${needs.reason} need IR version ${needs.fromFeatures} or later`);
  }
  return want;
}

/** Type lookup through the graph and the scopes around it (a subgraph may return outer values). */
type Scope = (name: string) => ValueType | undefined;

function graphToProto(g: Graph, outer: Scope, sink: ExternalWriter | undefined): OnnxTypes.IGraphProto {
  const local = new Map<string, ValueType>();
  for (const v of g.inputs) local.set(v.name, v.type);
  for (const c of g.constants) local.set(c.name, constType(c));
  for (const n of g.nodes) for (const o of n.outputs) if (o) local.set(o.name, o.type);
  const scope: Scope = (name) => local.get(name) ?? outer(name);

  const outputs = new Set(g.outputs);
  const initializer = (c: Constant) => tensorToProto(c.tensor, c.name, sink?.place(c.tensor));
  const valueInfos: OnnxTypes.IValueInfoProto[] = [];
  for (const n of g.nodes) {
    for (const o of n.outputs) if (o && !outputs.has(o.name)) valueInfos.push(valueInfo(o.name, o.type));
  }
  return {
    name: g.name,
    input: g.inputs.map((v) => valueInfo(v.name, v.type)),
    // Input defaults are initializers that are also inputs: ONNX's overridable defaults.
    initializer: [...g.constants, ...(g.inputDefaults ?? [])].map(initializer),
    node: g.nodes.map((n) => ({
      name: n.name,
      opType: n.op,
      domain: n.domain === ONNX_DOMAIN ? '' : n.domain,
      input: n.inputs.map((i) => i ?? ''),
      output: n.outputs.map((o) => o?.name ?? ''),
      attribute: Object.entries(n.attrs).map(([k, a]) => attrToProto(k, a, (sub) => graphToProto(sub, scope, sink))),
    })),
    output: g.outputs.map((name) => valueInfo(name, scope(name))),
    // Untyped values (placeholders) carry no information; valueInfo gives them no type.
    valueInfo: valueInfos.filter((v) => v.type),
  };
}

/**
 * Refuses before any bytes are read or encoded when the tensors kept inline alone pass the
 * protobuf limit (protobufjs would silently wrap lengths past 4 GB).
 */
function checkSize(g: Graph, threshold: number): void {
  let inline = 0;
  const count = (t: ConstTensor, external: boolean) => {
    if (external && goesExternal(t, threshold)) return;
    inline += t.data.kind === 'strings' ? t.data.values.reduce((s, v) => s + v.length * 3 + 2, 0) : expectedBytes(t.dtype, t.shape);
  };
  const walk = (graph: Graph) => {
    for (const c of [...graph.constants, ...(graph.inputDefaults ?? [])]) count(c.tensor, true);
    for (const n of graph.nodes) {
      for (const a of Object.values(n.attrs)) {
        if (a.kind === 'tensor') count(a.value, false);
        else if (a.kind === 'tensors') for (const t of a.value) count(t, false);
      }
      for (const s of subgraphsOf(n)) walk(s.graph);
    }
  };
  walk(g);
  if (inline > PROTOBUF_LIMIT) throw tooLarge(inline, threshold !== Infinity);
}

function tooLarge(bytes: number, external: boolean): LatheError {
  const gb = (bytes / 2 ** 30).toFixed(2);
  const fix = external
    ? 'lower the external data threshold (tensors held in node attributes, such as Constant values, always stay inline)'
    : 'export with external data (weights in a separate file)';
  return new LatheError('UsageError', `the model needs ${gb} GiB inline, past protobuf's 2 GiB limit for an ONNX file: ${fix}`);
}

/** Truncating the data file that lazily loaded weights still read from would destroy them. */
function checkNotOverwritingSource(g: Graph, dataPath: string): void {
  const target = existsSync(dataPath) ? realpathSync(dataPath) : path.resolve(dataPath);
  const walk = (graph: Graph) => {
    for (const c of [...graph.constants, ...(graph.inputDefaults ?? [])]) {
      const d = c.tensor.data;
      if (d.kind === 'file' && path.resolve(d.path) === target) {
        throw new LatheError('UsageError', `the external data file ${dataPath} is where constant '${c.name}' is read from; write the data to another file`, { value: c.name });
      }
    }
    for (const n of graph.nodes) for (const s of subgraphsOf(n)) walk(s.graph);
  };
  walk(g);
}
