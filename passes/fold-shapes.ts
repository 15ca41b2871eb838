// fold-shapes: shape arithmetic whose result is fully known becomes a constant. Type inference
// already tracks the contents of small integer tensors (`Shape` of a value with static dims,
// then `Gather`, `Concat`, `Unsqueeze`, `Slice`, … over them, and `Size`); wherever every element
// of such a result is a known number, the node is replaced by a constant with those elements.
// What stays symbolic (`batch`, `seq`) stays computed. Whatever operand constants remain are
// then evaluated by constant-fold (canonicalize runs both).
import { produce } from 'immer';
import type { Constant, Graph, Model, Node } from '../ir/graph.ts';
import { inferModel } from '../ir/infer.ts';
import { constTensor } from '../ir/tensor-data.ts';
import type { Dim } from '../ir/types.ts';
import { isPure, mapSubgraphs } from './graph-edit.ts';
import type { Pass } from './pass.ts';

export type FoldShapesOptions = Record<string, never>;

export const foldShapes: Pass<FoldShapesOptions> = {
  name: 'fold-shapes',
  summary: 'replace shape computations whose values are fully known (Shape of static dims, …) by constants',
  options: {},
  run: (model) => foldKnownShapes(model),
};

export function foldKnownShapes(model: Model): Model {
  const known = new Map<string, readonly Dim[]>();
  inferModel(model, { mode: 'check', onValues: (name, values) => known.set(name, values) });
  const g = foldGraph(model.graph, known);
  if (g === model.graph) return model;
  return produce(model, (d) => {
    d.graph = g as typeof d.graph;
  });
}

function foldGraph(g: Graph, known: ReadonlyMap<string, readonly Dim[]>): Graph {
  const added: Constant[] = [];
  let changed = false;
  const nodes: Node[] = [];
  for (const n0 of g.nodes) {
    const n = mapSubgraphs(n0, (sg) => foldGraph(sg, known));
    if (n !== n0) changed = true;
    const c = knownConstant(n, known);
    if (c) {
      added.push(c);
      changed = true;
    } else nodes.push(n);
  }
  return changed ? { ...g, constants: [...g.constants, ...added], nodes } : g;
}

/** The node's single result as a constant when its contents are all known numbers. */
function knownConstant(n: Node, known: ReadonlyMap<string, readonly Dim[]>): Constant | undefined {
  if (!isPure(n, { deterministic: true }) || n.op === 'Constant') return undefined;
  if (n.outputs.length !== 1 || !n.outputs[0]) return undefined;
  const r = n.outputs[0];
  const values = known.get(r.name);
  if (!values || !values.every((v): v is number => typeof v === 'number')) return undefined;
  const t = r.type;
  if (t.kind !== 'tensor' || (t.dtype !== 'i64' && t.dtype !== 'i32') || t.shape === null) return undefined;
  if (t.shape.length > 1 || !t.shape.every((d) => typeof d === 'number')) return undefined;
  const count = t.shape.length === 0 ? 1 : (t.shape[0] as number);
  if (count !== values.length) return undefined;
  return { name: r.name, tensor: constTensor(t.dtype, t.shape as number[], values) };
}
