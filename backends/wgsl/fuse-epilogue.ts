// Epilogue fusion, a WGSL pre-pass run after elementwise fusion (./fuse.ts) on a specialized
// model: a MatMul, Gemm or Conv whose result has one use, by an elementwise node or a
// `wgsl.Fused` group of the same element count, becomes one node `wgsl.GemmEpilogue` lowered to
// the producer's tiled-GEMM kernel with the chain applied to each accumulator element before the
// store (bias add broadcast along N, activations, a residual add of a same-shaped tensor, ...).
// The intermediate result is never stored and the elementwise kernel disappears.
//
// The fused node: operands = the producer's operands (omitted ones stay null), then the values
// the chain reads from outside; result = the chain's root result; attributes = the producer's,
// plus `epilogue_op` (MatMul | Gemm | Conv), `epilogue_inputs` (the producer's operand count),
// `epilogue_opset` and `epilogue_body`: a graph whose one input is the producer's result (with
// its type) and whose nodes are the chain's members, returning the root's result.
//
// Only in the WGSL backend (backends/wgsl/lower.ts); the CUDA backend does not run this pass.
import { attrReader } from '../../ir/attr-reader.ts';
import type { Graph, Model, Node, Value } from '../../ir/graph.ts';
import { ONNX_DOMAIN, subgraphsOf } from '../../ir/graph.ts';
import type { TensorType } from '../../ir/types.ts';
import { isStaticShape, numElements } from '../../ir/types.ts';
import { FUSED_DOMAIN, FUSED_OP } from './fuse.ts';
import type { Kernel } from './kernel.ts';
import { storageElem } from './kernel.ts';
import type { LowerContext, StaticTensor } from './lowering.ts';
import { defineWgsl } from './lowering.ts';
import { lowerConv } from './ops/conv.ts';
import type { EwStep } from './ops/elementwise.ts';
import { emitSteps, ewOpFor } from './ops/elementwise.ts';
import { ctypeOf, dataOperands } from './ops/ew-table.ts';
import type { StoreEpilogue } from './ops/gemm-tile.ts';
import { bindingDecl, broadcastStrides, offsetExpr } from './ops/kernel-util.ts';
import { lowerGemm, lowerMatMul } from './ops/matmul.ts';

export const EPILOGUE_OP = 'GemmEpilogue';

const PRODUCERS = new Set(['MatMul', 'Gemm', 'Conv']);
const FLOAT = new Set(['f32', 'f16']);

function staticFloat(v: Value | null | undefined): TensorType | undefined {
  if (!v || v.type.kind !== 'tensor' || !isStaticShape(v.type.shape) || !FLOAT.has(v.type.dtype)) return undefined;
  return v.type;
}

/** The chain's members when `c` can be an epilogue of value `y` (else undefined). */
function chainOf(c: Node, y: Value): readonly Node[] | undefined {
  const out = c.outputs[0];
  if (c.outputs.length !== 1 || !staticFloat(out)) return undefined;
  if (numElements(out!.type.kind === 'tensor' ? (out!.type.shape as number[]) : []) !== numElements((y.type as TensorType).shape as number[])) return undefined;
  let members: readonly Node[];
  if (c.domain === FUSED_DOMAIN && c.op === FUSED_OP) {
    const a = c.attrs.body;
    if (!a || a.kind !== 'graph') return undefined;
    members = a.value.nodes;
  } else {
    if (!ewOpFor(c) || c.op === 'CastLike') return undefined;
    members = [c];
  }
  // Float results only: the kernel's store and the epilogue function are f32 computations.
  for (const m of members) {
    if (!ewOpFor(m) || m.outputs.length !== 1 || !staticFloat(m.outputs[0]) || ctypeOf((m.outputs[0]!.type as TensorType).dtype) !== 'f32') return undefined;
  }
  return members;
}

/** Values read by the nodes of subgraphs (If/Loop bodies; not the bodies of wgsl.Fused): never fused away. */
function capturedNames(g: Graph, into = new Set<string>()): Set<string> {
  for (const n of g.nodes) {
    if (n.domain === FUSED_DOMAIN) continue;
    for (const { graph } of subgraphsOf(n)) {
      for (const m of graph.nodes) for (const i of m.inputs) if (i) into.add(i);
      graph.outputs.forEach((o) => into.add(o));
      capturedNames(graph, into);
    }
  }
  return into;
}

/** The model with each single-use elementwise chain after a MatMul/Gemm/Conv folded into it. */
export function fuseEpilogues(model: Model): Model {
  const g = model.graph;
  const uses = new Map<string, Node[]>();
  for (const n of g.nodes) for (const i of n.inputs) if (i) uses.set(i, [...(uses.get(i) ?? []), n]);
  const pinned = new Set([...g.outputs, ...capturedNames(g)]);
  // Values known at compile time are folded by the lowering with the interpreter; leave them.
  const known = new Set(g.constants.map((c) => c.name));
  for (const n of g.nodes) {
    const fromKnown = ['Shape', 'Size', 'Constant'].includes(n.op) || (n.inputs.length > 0 && n.inputs.every((i) => i === null || known.has(i)));
    if (fromKnown) for (const o of n.outputs) if (o) known.add(o.name);
  }
  const replaced = new Map<Node, Node | null>(); // producer → null (dropped), consumer → fused node
  let count = 0;
  for (const p of g.nodes) {
    if ((p.domain !== ONNX_DOMAIN && p.domain !== '') || !PRODUCERS.has(p.op) || p.outputs.length !== 1) continue;
    const y = p.outputs[0]!;
    if (!staticFloat(y) || known.has(y.name) || pinned.has(y.name)) continue;
    const users = uses.get(y.name) ?? [];
    if (users.length !== 1 || replaced.has(users[0]!)) continue;
    const c = users[0]!;
    const members = chainOf(c, y);
    if (!members) continue;
    const inside = new Set([y.name, ...members.map((m) => m.outputs[0]!.name)]);
    const externals: string[] = [];
    for (const m of members) {
      for (const i of dataOperands(m.op, m.inputs.length).map((j) => m.inputs[j])) {
        if (i && !inside.has(i) && !externals.includes(i)) externals.push(i);
      }
    }
    const root = c.outputs[0]!;
    const body: Graph = { name: `${p.name}_epilogue`, inputs: [y], constants: [], nodes: members, outputs: [root.name] };
    replaced.set(p, null);
    replaced.set(c, {
      name: `${p.name}_epilogue${count++}`,
      op: EPILOGUE_OP,
      domain: FUSED_DOMAIN,
      inputs: [...p.inputs, ...externals],
      outputs: [root],
      attrs: {
        ...p.attrs,
        epilogue_op: { kind: 'string', value: p.op },
        epilogue_inputs: { kind: 'int', value: p.inputs.length },
        epilogue_opset: { kind: 'int', value: model.opsets[ONNX_DOMAIN] ?? 1 },
        epilogue_body: { kind: 'graph', value: body },
      },
    });
  }
  if (!count) return model;
  // The fused node takes the consumer's place: every operand of both precedes it.
  const nodes: Node[] = [];
  for (const n of g.nodes) {
    const r = replaced.get(n);
    if (r === undefined) nodes.push(n);
    else if (r) nodes.push(r);
  }
  return { ...model, graph: { ...g, nodes } };
}

/** A WGSL f32 literal for any number (the epilogue bakes op parameters into the kernel). */
function lit(v: number): string {
  if (Number.isNaN(v)) return 'bitcast<f32>(0x7fc00000u)';
  if (v === Infinity) return 'bitcast<f32>(0x7f800000u)';
  if (v === -Infinity) return 'bitcast<f32>(0xff800000u)';
  const s = String(Math.fround(v));
  return /[.e]/.test(s) ? s : `${s}.0`;
}

const ROUND_F16 = 'fn ew_round_f16(x: f32) -> f32 { return unpack2x16float(pack2x16float(vec2<f32>(x, 0.0))).x; }';

/** `wgsl.GemmEpilogue`: the producer's kernel with the chain as its store epilogue. */
function lowerEpilogue(ctx: LowerContext): Kernel[] {
  const a = ctx.attr('epilogue_body');
  if (!a || a.kind !== 'graph') ctx.unsupported('wgsl.GemmEpilogue without a body');
  const body = a.value;
  const op = ctx.string('epilogue_op', '');
  const nIn = ctx.int('epilogue_inputs', 0);
  const opset = ctx.int('epilogue_opset', 17);
  const acc = body.inputs[0]!;
  const accType = acc.type as TensorType;
  const accTensor: StaticTensor = { name: acc.name, dtype: accType.dtype, shape: accType.shape as number[] };
  const result = ctx.output(0)!;
  const externals: StaticTensor[] = [];
  for (let i = nIn; i < ctx.node.inputs.length; i++) externals.push(ctx.input(i)!);
  const helpers = new Set<string>();
  // The producer's result as the interpreter holds it: rounded to f16 when it is f16.
  const accExpr = accType.dtype === 'f16' ? (helpers.add(ROUND_F16), 'ew_round_f16(v)') : 'v';
  const leaf = new Map<string, { expr: string; dtype: TensorType['dtype'] }>([[acc.name, { expr: accExpr, dtype: accType.dtype }]]);
  const bindings = externals.map((t) => {
    const elem = storageElem(t.dtype, ctx.caps.f16) ?? ctx.unsupported(`${t.name} is ${t.dtype}, which the WGSL backend cannot store`);
    return { value: t.name, access: 'read' as const, elem };
  });
  // Externals are read at the result's flat index o, broadcast to its shape.
  externals.forEach((t, i) => {
    const idx = offsetExpr('o', result.shape, broadcastStrides(t.shape, result.shape));
    const v = `ep${i}[${idx}]`;
    leaf.set(t.name, { expr: bindings[i]!.elem === 'f16' ? `f32(${v})` : v, dtype: t.dtype });
  });
  const steps: EwStep[] = body.nodes.map((m) => ({
    node: m,
    op: ewOpFor(m)!,
    inputs: m.inputs.map((name, i) => (dataOperands(m.op, m.inputs.length).includes(i) ? name : null)),
    output: m.outputs[0]!.name,
    outType: (m.outputs[0]!.type as TensorType).dtype,
    attrs: attrReader(m),
    opset,
  }));
  const { code, result: r } = emitSteps(steps, leaf, lit, (h) => helpers.add(h));
  const fn = `fn epilogue(v: f32, o: u32) -> f32 {\n${code.join('\n')}\n  return f32(${r});\n}`;
  const epi: StoreEpilogue = {
    result,
    bindings,
    code: (first) => [...bindings.map((b, i) => bindingDecl(first + i, `ep${i}`, b)), ...helpers, fn].join('\n'),
    key: `${externals.map((t) => `${t.dtype}${JSON.stringify(t.shape)}`).join(',')}|${fn}|${[...helpers].join('')}`,
  };
  // The producer's lowering sees its own operands and result.
  const inner: LowerContext = {
    ...ctx,
    input: (i) => (i < nIn ? ctx.input(i) : undefined),
    output: (i) => (i === 0 ? accTensor : undefined),
    constant: (i) => (i < nIn ? ctx.constant(i) : undefined),
  };
  if (op === 'MatMul') return lowerMatMul(inner, epi);
  if (op === 'Gemm') return lowerGemm(inner, epi);
  if (op === 'Conv') return lowerConv(inner, epi);
  return ctx.unsupported(`wgsl.GemmEpilogue of ${op}`);
}

defineWgsl(FUSED_DOMAIN, EPILOGUE_OP, lowerEpilogue);
