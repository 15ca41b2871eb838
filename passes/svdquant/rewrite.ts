// Replaces each quantized linear layer with SVDQuant's ops (docs/svdquant.md):
//
//   X ─┬─ Quantize4(·, 1/λ) ─ (QX, SX) ─ Linear4(·, ·, QW, SW, bias) ─┐
//      └─ LowRank(·, L1, L2, 1/λ) ─────────────────────────────────── Add ─ Y
//
// A 1×1 Conv sees its activation with the channels moved last (Transpose) and its result moved
// back. The layer's result keeps its name and type, so nothing downstream changes; the f32 weight
// (and a Gemm/Conv bias folded into Linear4's) is dropped where nothing else reads it.
import type { Constant, Graph, Model, Node } from '../../ir/graph.ts';
import { LATHE_DOMAIN, ONNX_DOMAIN } from '../../ir/graph.ts';
import { inferModel, PLACEHOLDER } from '../../ir/infer.ts';
import { fromConst, makeTensor, toConst, toF64 } from '../../ir/interp/tensor.ts';
import type { Quant4Format } from '../../ir/quant4.ts';
import { paddedK } from '../../ir/quant4.ts';
import { constTensor, fromBytes } from '../../ir/tensor-data.ts';
import type { ConstTensor } from '../../ir/tensor-data.ts';
import { allNames, NameGen, nodeReads } from '../graph-edit.ts';
import type { LayerResult } from './layer.ts';
import type { LinearLayer } from './linear-layers.ts';
import { constantsOf } from './linear-layers.ts';

export interface QuantizedLayer {
  readonly layer: LinearLayer;
  readonly result: LayerResult;
  /** Activation codes signed (false: unsigned INT4 for a non-negative input). */
  readonly signed: boolean;
}

export interface RewriteSettings {
  readonly format: Quant4Format;
  readonly group: number;
}

/** Bytes each new constant of a layer takes, for the report. */
export interface LayerBytes {
  readonly weights: number;
  readonly scales: number;
  readonly lowRank: number;
  readonly smooth: number;
}

export function layerBytes(q: QuantizedLayer): LayerBytes {
  const r = q.result;
  return {
    weights: r.weight.q.length,
    scales: r.weight.s.length * (r.weight.s instanceof Uint8Array ? 1 : 2),
    lowRank: ((r.l1?.length ?? 0) + (r.l2?.length ?? 0)) * 2,
    smooth: (r.invSmooth?.length ?? 0) * 4,
  };
}

export function rewriteLayers(model: Model, layers: readonly QuantizedLayer[], s: RewriteSettings): Model {
  if (layers.length === 0) return model;
  const g = model.graph;
  const names = new NameGen(allNames(g));
  const nodeNames = new NameGen(new Set(g.nodes.map((n) => n.name)));
  const consts = constantsOf(g);
  const constants: Constant[] = [];
  const byNode = new Map(layers.map((q) => [q.layer.node, q]));
  const nodes: Node[] = [];
  const removed: Node[] = [];
  for (const n of g.nodes) {
    const q = byNode.get(n.name);
    if (!q) {
      nodes.push(n);
      continue;
    }
    removed.push(n);
    nodes.push(...layerNodes(q, n, s, { names, nodeNames, consts, constants }));
  }
  const graph = dropUnread({ ...g, nodes, constants: [...g.constants, ...constants] }, removed);
  const opsets = LATHE_DOMAIN in model.opsets ? model.opsets : { ...model.opsets, [LATHE_DOMAIN]: 1 };
  return inferModel({ ...model, graph, opsets }, { mode: 'refine' });
}

interface Emit {
  readonly names: NameGen;
  readonly nodeNames: NameGen;
  readonly consts: Map<string, ConstTensor>;
  readonly constants: Constant[];
}

function layerNodes(q: QuantizedLayer, n: Node, s: RewriteSettings, e: Emit): Node[] {
  const { layer, result: r } = q;
  const { K, N } = layer;
  const base = n.name.replace(/[^A-Za-z0-9_.\/-]/g, '_') || 'linear';
  const out: Node[] = [];
  const constant = (hint: string, t: ConstTensor) => {
    const name = e.names.fresh(`${base}_${hint}`);
    e.constants.push({ name, tensor: t });
    return name;
  };
  const node = (op: string, inputs: (string | null)[], attrs: Node['attrs'], hint: string, domain = LATHE_DOMAIN, results = 1, finalOutput?: Node['outputs'][number]) => {
    const outputs = finalOutput ? [finalOutput] : Array.from({ length: results }, () => ({ name: e.names.fresh(`${base}_${hint}`), type: PLACEHOLDER }));
    out.push({ name: e.nodeNames.fresh(`${base}_${hint}`), op, domain, inputs, outputs, attrs });
    return outputs.map((o) => o!.name);
  };
  const Kp = paddedK(K, s.group);
  const groups = Kp / s.group;
  const qw = constant('qw', fromBytes('u8', [N, Kp / 2], r.weight.q));
  const sw = s.format === 'int4'
    ? constant('sw', toConst(makeTensor('f16', [N, groups], r.weight.s as Float32Array)))
    : constant('sw', fromBytes('u8', [N, groups], r.weight.s as Uint8Array));
  const inv = r.invSmooth ? constant('inv_smooth', toConst(makeTensor('f32', [K], r.invSmooth))) : null;

  // The bias: a constant one folded into Linear4 (× β for Gemm), anything else added after.
  let bias: string | null = null;
  let lateBias: string | undefined;
  if (layer.bias) {
    const c = e.consts.get(layer.bias);
    const beta = layer.gemm?.beta ?? 1;
    if (c) {
      const v = toF64(fromConst(c));
      bias = constant('bias', constTensor('f32', [N], Array.from({ length: N }, (_, i) => beta * v[v.length === 1 ? 0 : i]!)));
    } else {
      lateBias = beta === 1 ? layer.bias : node('Mul', [layer.bias, constant('beta', constTensor('f32', [], [beta]))], {}, 'beta', ONNX_DOMAIN)[0]!;
    }
  }

  // Channels last for a 1×1 Conv: [B, K, spatial…] → [B, spatial…, K].
  const rank = layer.kind === 'conv1x1' ? convRank(n, e) : 0;
  const toLast = Array.from({ length: rank }, (_, i) => (i === 0 ? 0 : i === rank - 1 ? 1 : i + 1));
  const back = Array.from({ length: rank }, (_, i) => (i === 0 ? 0 : i === 1 ? rank - 1 : i - 1));
  const x = layer.kind === 'conv1x1' ? node('Transpose', [layer.x], { perm: { kind: 'ints', value: toLast } }, 'nhwc', ONNX_DOMAIN)[0]! : layer.x;

  const qattrs: Node['attrs'] = {
    format: { kind: 'string', value: s.format },
    group: { kind: 'int', value: s.group },
    signed: { kind: 'int', value: q.signed ? 1 : 0 },
  };
  const [qx, sx] = node('Quantize4', inv ? [x, inv] : [x], qattrs, 'quantize', LATHE_DOMAIN, 2);
  const linAttrs = s.format === 'nvfp4' ? { ...qattrs, weight_scale: { kind: 'float' as const, value: r.weight.weightScale } } : qattrs;
  const last: string[] = [];
  const finalOut = n.outputs[0]!;
  const y4 = node('Linear4', bias ? [qx!, sx!, qw, sw, bias] : [qx!, sx!, qw, sw], linAttrs, 'w4a4')[0]!;
  last.push(y4);
  if (r.l1 && r.l2) {
    const rk = r.l1.length / K;
    const l1 = constant('lora_down', toConst(makeTensor('f16', [K, rk], r.l1)));
    const l2 = constant('lora_up', toConst(makeTensor('f16', [rk, N], r.l2)));
    last.push(node('LowRank', inv ? [x, l1, l2, inv] : [x, l1, l2], {}, 'lowrank')[0]!);
  }
  if (lateBias) last.push(lateBias);
  // Sum the parts; the last op (or the Transpose back) takes the layer's result name and type.
  let y = last[0]!;
  for (let i = 1; i < last.length; i++) {
    const final = i === last.length - 1 && layer.kind !== 'conv1x1';
    y = node('Add', [y, last[i]!], {}, 'sum', ONNX_DOMAIN, 1, final ? finalOut : undefined)[0]!;
  }
  if (layer.kind === 'conv1x1') node('Transpose', [y], { perm: { kind: 'ints', value: back } }, 'nchw', ONNX_DOMAIN, 1, finalOut);
  else if (last.length === 1) out[out.length - 1] = { ...out[out.length - 1]!, outputs: [finalOut] };
  return out;
}

/** The rank of a 1×1 Conv's activation (its weight's rank). */
function convRank(n: Node, e: Emit): number {
  const w = e.consts.get(n.inputs[1]!);
  if (!w) throw new Error(`svdquant: conv '${n.name}' lost its constant weight`);
  return w.shape.length;
}

/** Drops constants (and Constant nodes) that only the replaced layers read. */
function dropUnread(g: Graph, removed: readonly Node[]): Graph {
  const read = new Set<string>(g.outputs);
  for (const n of g.nodes) for (const x of nodeReads(n)) read.add(x);
  const candidates = new Set(removed.flatMap((n) => nodeReads(n)).filter((x) => !read.has(x)));
  if (candidates.size === 0) return g;
  return {
    ...g,
    constants: g.constants.filter((c) => !candidates.has(c.name)),
    nodes: g.nodes.filter((n) => !(n.op === 'Constant' && n.outputs.length === 1 && candidates.has(n.outputs[0]!.name))),
  };
}
