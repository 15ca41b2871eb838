// Elementwise fusion, a backend pre-pass on a specialized (statically shaped) model: chains and
// trees of elementwise nodes whose intermediate results have one use become one node
// `wgsl.Fused`, lowered to one kernel that computes every member as a WGSL expression and writes
// only the root's result (./ops/elementwise.ts `emitSteps`).
//
// The fused node: operands = the values the members read from outside (buffers to bind), one
// result = the root's, attribute `body` = a graph whose nodes are the members in order (they
// read outside values by name, as a subgraph may) returning the root's result, and `opset` = the
// model's ai.onnx opset the members are read at. The same body could later be handed to a matmul
// or reduction kernel as its epilogue: `emitSteps` takes the leaves' expressions from the caller.
//
// A producer joins its consumer's group only when both have the same number of elements, so
// fusion never recomputes a small tensor once per element of a broadcast (e.g. erf over [C]
// added to [N, C] stays two kernels).
import { attrReader } from '../../ir/attr-reader.ts';
import type { Graph, Model, Node } from '../../ir/graph.ts';
import { ONNX_DOMAIN, subgraphsOf } from '../../ir/graph.ts';
import type { TensorType } from '../../ir/types.ts';
import { isStaticShape, numElements } from '../../ir/types.ts';
import { storageElem } from './kernel.ts';
import type { Kernel } from './kernel.ts';
import type { LowerContext, StaticTensor } from './lowering.ts';
import { defineWgsl } from './lowering.ts';
import type { EwStep } from './ops/elementwise.ts';
import { ewKernel, ewOpFor } from './ops/elementwise.ts';
import { ctypeOf, dataOperands } from './ops/ew-table.ts';

export const FUSED_DOMAIN = 'wgsl';
export const FUSED_OP = 'Fused';

function staticTensor(n: Node): TensorType | undefined {
  const o = n.outputs[0];
  if (!o || n.outputs.length !== 1 || o.type.kind !== 'tensor' || !isStaticShape(o.type.shape)) return undefined;
  return o.type;
}

/** Can this node be a member of a fused group (one result, an elementwise op WGSL computes)? */
function fusible(n: Node): boolean {
  const op = ewOpFor(n);
  const t = staticTensor(n);
  if (!op || !t || n.op === 'CastLike') return false;
  if (!storageElem(t.dtype, false)) return false;
  // floatOnly ops on integer results (and f64 anywhere) are left to the single-node lowering,
  // which reports them.
  if (op.floatOnly && ctypeOf(t.dtype) !== 'f32') return false;
  return t.dtype !== 'f64';
}

/** Values read by the nodes of subgraphs (If/Loop bodies): never fused away. */
function capturedNames(g: Graph, into = new Set<string>()): Set<string> {
  for (const n of g.nodes) {
    for (const { graph } of subgraphsOf(n)) {
      for (const m of graph.nodes) for (const i of m.inputs) if (i) into.add(i);
      graph.outputs.forEach((o) => into.add(o));
      capturedNames(graph, into);
    }
  }
  return into;
}

export interface FuseOptions {
  /** Most members per fused node (a bound on kernel size). Default 32. */
  readonly maxNodes?: number;
}

/** The model with single-use elementwise groups replaced by `wgsl.Fused` nodes. */
export function fuseElementwise(model: Model, options: FuseOptions = {}): Model {
  const g = model.graph;
  const maxNodes = options.maxNodes ?? 32;
  const uses = new Map<string, Node[]>();
  for (const n of g.nodes) for (const i of n.inputs) if (i) uses.set(i, [...(uses.get(i) ?? []), n]);
  const pinned = new Set([...g.outputs, ...capturedNames(g)]);
  // Values known at compile time (constants, shapes, and what is computed from them only): the
  // lowering folds their nodes with the interpreter, which a fused node would defeat (a Slice's
  // `starts` must stay a known constant).
  const known = new Set(g.constants.map((c) => c.name));
  for (const n of g.nodes) {
    const fromKnown = ['Shape', 'Size', 'Constant'].includes(n.op) || (n.inputs.length > 0 && n.inputs.every((i) => i === null || known.has(i)));
    if (fromKnown) for (const o of n.outputs) if (o) known.add(o.name);
  }
  // Group ids, assigned from the last node backwards: a producer takes its consumer's group.
  const group = new Map<Node, number>();
  const size = new Map<number, number>();
  for (let k = g.nodes.length - 1; k >= 0; k--) {
    const n = g.nodes[k]!;
    if (!fusible(n) || known.has(n.outputs[0]!.name)) continue;
    const out = n.outputs[0]!.name;
    const users = uses.get(out) ?? [];
    const c = users[0];
    const joinable =
      users.length === 1 &&
      !pinned.has(out) &&
      c !== undefined &&
      group.has(c) &&
      // The consumer reads it once (Mul(x, x) of a member is fine but rare; keep it simple).
      c.inputs.filter((i) => i === out).length === 1 &&
      numElements(staticTensor(n)!.shape as number[]) === numElements(staticTensor(c)!.shape as number[]) &&
      size.get(group.get(c)!)! < maxNodes;
    const id = joinable ? group.get(c)! : k;
    group.set(n, id);
    size.set(id, (size.get(id) ?? 0) + 1);
  }
  const members = new Map<number, Node[]>();
  for (const n of g.nodes) {
    const id = group.get(n);
    if (id !== undefined) members.set(id, [...(members.get(id) ?? []), n]);
  }
  const nodes: Node[] = [];
  let fusedCount = 0;
  for (const n of g.nodes) {
    const id = group.get(n);
    const ms = id === undefined ? undefined : members.get(id)!;
    if (!ms || ms.length < 2) {
      nodes.push(n);
      continue;
    }
    if (n !== ms[ms.length - 1]) continue; // emitted at the root's place
    const inside = new Set(ms.map((m) => m.outputs[0]!.name));
    const externals: string[] = [];
    for (const m of ms) {
      for (const i of dataOperands(m.op, m.inputs.length).map((j) => m.inputs[j])) {
        if (i && !inside.has(i) && !externals.includes(i)) externals.push(i);
      }
    }
    const body: Graph = { name: `${n.name}_fused`, inputs: [], constants: [], nodes: ms, outputs: [n.outputs[0]!.name] };
    nodes.push({
      name: `${n.name}_fused${fusedCount++}`,
      op: FUSED_OP,
      domain: FUSED_DOMAIN,
      inputs: externals,
      outputs: [n.outputs[0]!],
      attrs: {
        body: { kind: 'graph', value: body },
        opset: { kind: 'int', value: model.opsets[ONNX_DOMAIN] ?? 1 },
      },
    });
  }
  // A member emitted above its root keeps topological order: its operands precede the root.
  return fusedCount ? { ...model, graph: { ...g, nodes } } : model;
}

/** `wgsl.Fused`: the body's members as steps of one elementwise kernel. */
function lowerFused(ctx: LowerContext): Kernel[] {
  const a = ctx.attr('body');
  if (!a || a.kind !== 'graph') ctx.unsupported('wgsl.Fused without a body');
  const body = a.value;
  const opset = ctx.int('opset', 17);
  const externals: StaticTensor[] = ctx.node.inputs.map((_, i) => ctx.input(i)!);
  const steps: EwStep[] = body.nodes.map((m) => {
    const t = m.outputs[0]!.type as TensorType;
    return {
      node: m,
      op: ewOpFor(m)!,
      inputs: m.inputs.map((name, i) => (dataOperands(m.op, m.inputs.length).includes(i) ? name : null)),
      output: m.outputs[0]!.name,
      outType: t.dtype,
      attrs: attrReader(m),
      opset,
    };
  });
  return ewKernel(ctx, { externals, steps, result: ctx.output(0)! }, `fused_${body.nodes.map((m) => m.op.toLowerCase()).join('_')}`.slice(0, 80));
}

defineWgsl(FUSED_DOMAIN, FUSED_OP, lowerFused);
