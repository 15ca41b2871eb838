// The ONNX importer: ModelProto bytes → lathe Model, then type/shape inference in `refine` mode
// (types ONNX declares meet the types the ops infer). Conversion is a straight walk over the
// proto; tensors, attributes, types and external data each have their own module.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { LatheError } from '../errors.ts';
import type { Attr, Constant, Graph, Model, Node, Value } from '../graph.ts';
import { ONNX_DOMAIN, qualifiedOp } from '../graph.ts';
import { inferModel, PLACEHOLDER } from '../infer.ts';
import { knownDomains } from '../op.ts';
import '../ops/index.ts';
import type { ValueType } from '../types.ts';
import { attrFromProto } from './attributes.ts';
import type { OnnxTypes, Where } from './proto.ts';
import { fail, onnx, toNumber } from './proto.ts';
import type { TensorContext } from './tensor.ts';
import { tensorFromProto } from './tensor.ts';
import { valueTypeFromProto } from './types.ts';

/** The newest ai.onnx opset lathe reads. */
export const MAX_ONNX_OPSET = 21;

export interface ImportOptions {
  /** The model's path, for messages. */
  file?: string;
  /** Folder that external data locations are relative to (and must stay inside). */
  baseDir?: string;
  /** The absolute path `bytes` were read from, so raw weights can name where they lie on disk. */
  sourcePath?: string;
}

/** Read, decode, convert and infer types of an ONNX model file. */
export function importOnnxFile(file: string): Model {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new LatheError('UsageError', `cannot read model file: ${(e as Error).message}`, { file });
  }
  return importOnnxBytes(bytes, { file, baseDir: path.dirname(path.resolve(file)), sourcePath: path.resolve(file) });
}

/** Decode, convert and infer types of ONNX model bytes. Constants keep views into `bytes`. */
export function importOnnxBytes(bytes: Uint8Array, opts: ImportOptions = {}): Model {
  const model = convertOnnxBytes(bytes, opts);
  try {
    return inferModel(model, { mode: 'refine', file: opts.file });
  } catch (e) {
    // Not every inference error carries the file (e.g. an op missing from the registry).
    if (e instanceof LatheError && opts.file) throw e.at({ file: opts.file });
    throw e;
  }
}

/** Decode and convert without inference: node results the model does not type are PLACEHOLDER. */
export function convertOnnxBytes(bytes: Uint8Array, opts: ImportOptions = {}): Model {
  const proto = decodeModel(bytes, opts.file);
  try {
    const source = opts.sourcePath ? { path: opts.sourcePath, bytes } : undefined;
    return convertModel(proto, opts, source);
  } catch (e) {
    if (e instanceof LatheError) throw e;
    // Only a malformed proto gets conversion this far off the rails (e.g. garbage that decoded).
    throw invalid(opts.file, (e as Error).message);
  }
}

function invalid(file: string | undefined, why: string): LatheError {
  const subject = file ? `file ${file}` : 'the bytes';
  return new LatheError('ProtobufError', `${subject} is not a valid ONNX model: ${why}`);
}

/** protobufjs decodes some garbage without complaint, so check the fields every model has. */
export function decodeModel(bytes: Uint8Array, file?: string): OnnxTypes.ModelProto {
  let m: OnnxTypes.ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw invalid(file, (e as Error).message);
  }
  const ir = toNumber(m.irVersion);
  if (ir < 1 || ir > 64) throw invalid(file, ir === 0 ? 'no ir_version' : `implausible ir_version ${ir}`);
  if (!m.graph) throw invalid(file, 'no graph');
  // IR version 3 made opset_import mandatory; a model cut short after its graph loses it.
  if (ir >= 3 && m.opsetImport.length === 0) throw invalid(file, 'no opset_import (truncated?)');
  return m;
}

interface Ctx extends TensorContext {
  file?: string;
  opsets: Readonly<Record<string, number>>;
  /** `domain::name` of model-local functions. */
  functions: ReadonlySet<string>;
}

const normDomain = (d: string | null | undefined): string => (!d || d === 'ai.onnx' ? ONNX_DOMAIN : d);

function convertModel(m: OnnxTypes.ModelProto, opts: ImportOptions, source: TensorContext['source']): Model {
  const where = { file: opts.file };
  const opsets: Record<string, number> = {};
  for (const o of m.opsetImport) opsets[normDomain(o.domain)] = toNumber(o.version);
  // Before IR version 3 the opset was implicit: the first one.
  if (m.opsetImport.length === 0) opsets[ONNX_DOMAIN] = 1;
  const onnxOpset = opsets[ONNX_DOMAIN];
  if (onnxOpset !== undefined && (onnxOpset < 1 || onnxOpset > MAX_ONNX_OPSET)) {
    fail('UnsupportedOp', `ai.onnx opset ${onnxOpset} is not supported (lathe reads opsets 1 to ${MAX_ONNX_OPSET})`, where);
  }
  const functions = new Set((m.functions ?? []).map((f) => `${normDomain(f.domain)}::${f.name}`));
  const ctx: Ctx = { file: opts.file, baseDir: opts.baseDir, source, opsets, functions };
  const graph = convertGraph(m.graph!, ctx, true);
  const producer = [m.producerName, m.producerVersion].filter(Boolean).join(' ');
  return { graph, opsets, ...(producer ? { producer } : {}) };
}

function convertGraph(g: OnnxTypes.IGraphProto, ctx: Ctx, isMain: boolean): Graph {
  const at = (value: string): Where => ({ file: ctx.file, value });
  if (g.sparseInitializer?.length) {
    const name = g.sparseInitializer[0]!.values?.name ?? '';
    fail('UnsupportedType', `sparse initializer '${name}' is not supported by lathe`, at(name));
  }
  // Types the model declares for values inside the graph (value_info and graph outputs).
  const declared = new Map<string, ValueType>();
  for (const vi of [...(g.valueInfo ?? []), ...(g.output ?? [])]) {
    const t = valueTypeFromProto(vi.type, at(vi.name ?? ''));
    if (t && vi.name) declared.set(vi.name, t);
  }
  const inits = new Map<string, Constant>();
  for (const t of g.initializer ?? []) {
    const name = t.name ?? '';
    inits.set(name, { name, tensor: tensorFromProto(t, ctx, at(name)) });
  }

  const inputs: Value[] = (g.input ?? []).map((vi) => {
    const name = vi.name ?? '';
    const init = inits.get(name);
    const type =
      valueTypeFromProto(vi.type, at(name)) ??
      (init ? { kind: 'tensor' as const, dtype: init.tensor.dtype, shape: init.tensor.shape } : undefined) ??
      // Subgraph inputs (Loop, Scan bodies) may leave their types to the op that calls them.
      (isMain ? fail('UnsupportedType', `graph input '${name}' has no type`, at(name)) : PLACEHOLDER);
    return { name, type };
  });
  const inputNames = new Set(inputs.map((v) => v.name));
  const constants = [...inits.values()].filter((c) => !inputNames.has(c.name));
  const inputDefaults = [...inits.values()].filter((c) => inputNames.has(c.name));

  const used = new Set<string>();
  const nodes = (g.node ?? []).map((n, i) => convertNode(n, i, used, declared, ctx));
  const outputs = (g.output ?? []).map((vi) => vi.name ?? '');
  return {
    name: g.name || (isMain ? 'main' : 'body'),
    inputs,
    constants,
    nodes,
    outputs,
    ...(inputDefaults.length ? { inputDefaults } : {}),
  };
}

function convertNode(
  n: OnnxTypes.INodeProto,
  index: number,
  used: Set<string>,
  declared: ReadonlyMap<string, ValueType>,
  ctx: Ctx,
): Node {
  const op = n.opType ?? '';
  const domain = normDomain(n.domain);
  const name = uniqueName(n.name || `${op || 'node'}_${index}`, used);
  const where: Where = { file: ctx.file, node: name, op: qualifiedOp({ op, domain }) };
  if (!op) fail('ProtobufError', 'node has no op_type', where);
  checkDomain(op, domain, ctx, where);

  const attrs: Record<string, Attr> = {};
  const attrCtx = { baseDir: ctx.baseDir, source: ctx.source, graph: (sub: OnnxTypes.IGraphProto) => convertGraph(sub, ctx, false) };
  for (const a of n.attribute ?? []) attrs[a.name ?? ''] = attrFromProto(a, attrCtx, where);

  return {
    name,
    op,
    domain,
    inputs: (n.input ?? []).map((s) => s || null),
    outputs: (n.output ?? []).map((s) => (s ? { name: s, type: declared.get(s) ?? PLACEHOLDER } : null)),
    attrs,
  };
}

function checkDomain(op: string, domain: string, ctx: Ctx, where: Where): void {
  if (ctx.functions.has(`${domain}::${op}`)) {
    fail('UnsupportedOp', `${op} is a model-local function of domain '${domain}'; model-local functions are not supported yet`, where);
  }
  if (domain !== ONNX_DOMAIN && !knownDomains().includes(domain)) {
    const known = [...new Set([ONNX_DOMAIN, ...knownDomains()])].join(', ');
    fail('UnsupportedOp', `op ${op} of domain '${domain}' is not supported: lathe knows no ops in that domain (supported domains: ${known})`, where);
  }
  if (ctx.opsets[domain] === undefined) {
    fail('VerifyError', `domain '${domain}' is not listed in the model's opset_import`, where);
  }
}

/** ONNX node names are optional and not always unique; lathe's are both. */
function uniqueName(base: string, used: Set<string>): string {
  let name = base;
  for (let k = 1; used.has(name); k++) name = `${base}_${k}`;
  used.add(name);
  return name;
}
