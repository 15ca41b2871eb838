// The linear layers svdquant can rewrite: nodes of the main graph computing `Y = X·W (+ bias)`
// with a constant float weight W: [K, N] and the activation X viewed as [tokens, K].
//
//   matmul   onnx.MatMul(X, W): W a constant 2-D f32/f16 [K, N]; X rank ≥ 1 with last dim K
//            (rank 1 is one token). X·W with X constant, or W of rank ≠ 2, is skipped.
//   gemm     onnx.Gemm(A, B, C?): B constant f32/f16; transA = 0 only (with transA = 1 the
//            tokens are A's columns, not its rows); transB either way; alpha is folded into the
//            weight by `weightMatrix`; C (constant or not) is accepted when it broadcasts as a
//            per-output-channel bias: shape [], [1], [N], [1, 1] or [1, N]. A C that varies
//            along the rows ([M, N], [M, 1]) or has an unknown shape is skipped. `bias` names C
//            and `gemm.beta` scales it (Y = alpha·A·B' + beta·C).
//   conv1x1  onnx.Conv(X, W, B?): W constant f32/f16 [N, K, 1, …, 1] (any spatial rank), group 1,
//            strides 1, dilations 1, pads 0 (any auto_pad: none pads a 1×1 stride-1 conv). The
//            activation's channel axis 1 is K: tokens are N·H·W. `bias` names B.
//
// Nodes that are one of these ops with a constant weight but do not qualify are listed in
// `skipped` with the reason (a strided or grouped conv, a 3×3 kernel, transA, an integer
// weight, …). A MatMul/Gemm/Conv whose weight is not a constant is not listed: it is not a
// linear layer at all (attention's Q·Kᵀ, say).
import type { Graph, Model, Node } from '../../ir/graph.ts';
import { ONNX_DOMAIN } from '../../ir/graph.ts';
import type { ConstTensor } from '../../ir/tensor-data.ts';
import type { ValueType } from '../../ir/types.ts';
import { fromConst } from '../../ir/interp/tensor.ts';
import { LatheError } from '../../ir/errors.ts';
import { constantNodeValue, producers } from '../graph-edit.ts';

export type LinearKind = 'matmul' | 'gemm' | 'conv1x1';

export interface LinearLayer {
  /** Node name. */
  readonly node: string;
  readonly kind: LinearKind;
  /** The activation value (for conv1x1, NC… with channels on axis 1). */
  readonly x: string;
  /** The weight's value name (a graph constant or a Constant node's result). */
  readonly weight: string;
  /** The node's result. */
  readonly output: string;
  /** Input channels (the reduction length). */
  readonly K: number;
  /** Output channels. */
  readonly N: number;
  /** The weight's element type (the activation has the same one). */
  readonly dtype: 'f32' | 'f16';
  /** Gemm's C or Conv's B: a per-output-channel bias (Gemm: scaled by gemm.beta). */
  readonly bias?: string;
  readonly gemm?: { readonly alpha: number; readonly beta: number; readonly transB: boolean };
  /** The activation provably cannot be negative (it comes from a Relu, Sigmoid, Softmax, …). */
  readonly nonNegativeInput: boolean;
}

export interface SkippedLayer {
  readonly node: string;
  /** `MatMul`, `Gemm` or `Conv`. */
  readonly op: string;
  readonly reason: string;
}

/** The layers found, in graph order; `skipped` lists the near misses with their reasons. */
export type LinearLayerList = LinearLayer[] & { readonly skipped: SkippedLayer[] };

/** Ops whose results are ≥ 0 (or NaN) for every input. */
const NON_NEGATIVE_OPS = new Set(['Relu', 'Sigmoid', 'Softmax', 'Abs', 'Exp', 'Sqrt', 'Softplus', 'HardSigmoid']);
/** Ops that only move or copy elements of their first operand. */
const MOVEMENT_OPS = new Set(['Reshape', 'Transpose', 'Flatten', 'Identity', 'Squeeze', 'Unsqueeze']);

const isOnnx = (n: Node) => n.domain === ONNX_DOMAIN || n.domain === '';

/** Constants of the main graph: graph constants and results of onnx.Constant nodes. */
export function constantsOf(g: Graph): Map<string, ConstTensor> {
  const out = new Map<string, ConstTensor>();
  for (const c of g.constants) out.set(c.name, c.tensor);
  for (const n of g.nodes) {
    const c = constantNodeValue(n);
    if (c && n.outputs[0]) out.set(n.outputs[0].name, c);
  }
  return out;
}

function typesOf(g: Graph): Map<string, ValueType> {
  const out = new Map<string, ValueType>();
  for (const v of g.inputs) out.set(v.name, v.type);
  for (const c of g.constants) out.set(c.name, { kind: 'tensor', dtype: c.tensor.dtype, shape: c.tensor.shape });
  for (const n of g.nodes) for (const o of n.outputs) if (o) out.set(o.name, o.type);
  return out;
}

const fmtShape = (s: readonly unknown[]) => `[${s.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;

export function findLinearLayers(model: Model): LinearLayerList {
  const g = model.graph;
  const consts = constantsOf(g);
  const types = typesOf(g);
  const prod = producers(g);
  const layers: LinearLayer[] = [];
  const skipped: SkippedLayer[] = [];

  const nonNegative = (name: string): boolean => {
    for (let depth = 0; depth < 64; depth++) {
      const p = prod.get(name);
      if (!p || !isOnnx(p.node) || p.index !== 0) return false;
      const op = p.node.op;
      if (NON_NEGATIVE_OPS.has(op)) return true;
      if (op === 'Clip') {
        // Clip(x, min): min a constant ≥ 0.
        const min = p.node.inputs[1] ? consts.get(p.node.inputs[1]) : undefined;
        if (!min || min.dtype === 'string') return false;
        const v = fromConst(min).data;
        return v.length === 1 && Number(v[0]) >= 0;
      }
      if (!MOVEMENT_OPS.has(op) || !p.node.inputs[0]) return false;
      name = p.node.inputs[0];
    }
    return false;
  };

  const tensorShape = (name: string) => {
    const t = types.get(name);
    return t?.kind === 'tensor' ? t.shape : null;
  };

  for (const n of g.nodes) {
    if (!isOnnx(n) || (n.op !== 'MatMul' && n.op !== 'Gemm' && n.op !== 'Conv')) continue;
    const xName = n.inputs[0];
    const wName = n.inputs[1];
    const out = n.outputs[0]?.name;
    if (!xName || !wName || !out) continue;
    const w = consts.get(wName);
    const skip = (reason: string) => skipped.push({ node: n.name, op: n.op, reason });
    if (!w) {
      if (n.op === 'MatMul' && consts.has(xName)) skip('the constant is the first operand (W·X), not the second');
      continue;
    }
    if (consts.has(xName)) {
      skip('both operands are constants (constant-fold it)');
      continue;
    }
    if (w.dtype !== 'f32' && w.dtype !== 'f16') {
      skip(`the weight is ${w.dtype}; only f32 and f16 weights are quantized`);
      continue;
    }
    const dtype = w.dtype;
    const xShape = tensorShape(xName);
    const attrNum = (name: string, dflt: number) => {
      const a = n.attrs[name];
      return a && (a.kind === 'int' || a.kind === 'float') ? a.value : dflt;
    };
    const attrInts = (name: string) => {
      const a = n.attrs[name];
      return a && a.kind === 'ints' ? a.value : undefined;
    };
    const base = { node: n.name, x: xName, weight: wName, output: out, dtype, nonNegativeInput: nonNegative(xName) };

    if (n.op === 'MatMul') {
      if (w.shape.length !== 2) {
        skip(`the constant weight has shape ${fmtShape(w.shape)}; only 2-D weights [K, N] are linear layers`);
        continue;
      }
      const [K, N] = w.shape as [number, number];
      if (xShape !== null) {
        const last = xShape[xShape.length - 1];
        if (xShape.length === 0) {
          skip('the activation is a scalar');
          continue;
        }
        if (typeof last === 'number' && last !== K) {
          skip(`the activation's last dim ${last} is not the weight's K = ${K}`);
          continue;
        }
      }
      layers.push({ ...base, kind: 'matmul', K, N });
      continue;
    }

    if (n.op === 'Gemm') {
      if (w.shape.length !== 2) {
        skip(`B has shape ${fmtShape(w.shape)}; Gemm needs a matrix`);
        continue;
      }
      if (attrNum('transA', 0) !== 0) {
        skip('transA = 1: the tokens would be the columns of A (only transA = 0 is handled)');
        continue;
      }
      const transB = attrNum('transB', 0) !== 0;
      const [K, N] = (transB ? [w.shape[1], w.shape[0]] : w.shape) as [number, number];
      const alpha = attrNum('alpha', 1);
      const beta = attrNum('beta', 1);
      let bias: string | undefined;
      const c = n.inputs[2];
      if (c) {
        const cs = tensorShape(c);
        if (cs === null) {
          skip(`C has an unknown shape; only a per-output bias ([N], [1, N] or a scalar) is handled`);
          continue;
        }
        const rowDim = cs.length === 2 ? cs[0] : 1;
        const colDim = cs.length >= 1 ? cs[cs.length - 1] : 1;
        if (cs.length > 2 || rowDim !== 1 || (colDim !== 1 && colDim !== N)) {
          skip(`C has shape ${fmtShape(cs)}; only a per-output bias ([N], [1, N] or a scalar) is handled`);
          continue;
        }
        bias = c;
      }
      layers.push({ ...base, kind: 'gemm', K, N, ...(bias ? { bias } : {}), gemm: { alpha, beta, transB } });
      continue;
    }

    // Conv
    if (w.shape.length < 3) {
      skip(`the weight has shape ${fmtShape(w.shape)}; Conv needs [N, K, kernel…]`);
      continue;
    }
    const kernel = w.shape.slice(2);
    const r = kernel.length;
    if (kernel.some((d) => d !== 1)) {
      skip(`the kernel is ${kernel.join('×')}, not 1×1`);
      continue;
    }
    const group = attrNum('group', 1);
    if (group !== 1) {
      skip(`group = ${group}; only group 1 is a plain linear layer`);
      continue;
    }
    const strides = attrInts('strides') ?? new Array<number>(r).fill(1);
    if (strides.some((s) => s !== 1)) {
      skip(`strides [${strides.join(', ')}]; only stride 1 is a per-pixel linear layer`);
      continue;
    }
    const dil = attrInts('dilations') ?? new Array<number>(r).fill(1);
    if (dil.some((s) => s !== 1)) {
      skip(`dilations [${dil.join(', ')}]; only dilation 1 is handled`);
      continue;
    }
    const pads = attrInts('pads') ?? [];
    if (pads.some((p) => p !== 0)) {
      skip(`pads [${pads.join(', ')}]; a padded 1×1 conv adds bias-only border pixels (only pads 0 is handled)`);
      continue;
    }
    const [N, K] = w.shape as [number, number];
    if (xShape !== null && typeof xShape[1] === 'number' && xShape[1] !== K) {
      skip(`the activation has ${xShape[1]} channels but the weight takes ${K}`);
      continue;
    }
    const bias = n.inputs[2] ?? undefined;
    layers.push({ ...base, kind: 'conv1x1', K, N, ...(bias ? { bias } : {}) });
  }
  return Object.assign(layers, { skipped });
}

/**
 * The layer's weight as W: [K, N], row-major f32 (Y = X·W): Gemm's transB and Conv's
 * [N, K, 1, 1] are transposed, and Gemm's alpha is folded in (each element rounded to f32).
 */
export function weightMatrix(model: Model, layer: LinearLayer): Float32Array {
  const c = constantsOf(model.graph).get(layer.weight);
  if (!c) throw new LatheError('VerifyError', `linear layer '${layer.node}': weight '${layer.weight}' is not a constant`, { node: layer.node, value: layer.weight });
  const src = fromConst(c).data as Float32Array; // f32, or f16 held in f32
  const { K, N } = layer;
  if (src.length !== K * N) {
    throw new LatheError('ShapeError', `linear layer '${layer.node}': weight has ${src.length} elements, expected ${K}×${N}`, { node: layer.node });
  }
  const out = new Float32Array(K * N);
  const transposed = layer.kind === 'conv1x1' || (layer.kind === 'gemm' && layer.gemm!.transB);
  if (transposed) {
    // src is [N, K]
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) out[k * N + n] = src[n * K + k]!;
  } else out.set(src);
  const alpha = layer.gemm?.alpha ?? 1;
  if (alpha !== 1) for (let i = 0; i < out.length; i++) out[i] = Math.fround(out[i]! * alpha);
  return out;
}
