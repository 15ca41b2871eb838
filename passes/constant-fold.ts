// constant-fold: Constant nodes become graph constants (any size: the bytes are referenced),
// and a node whose operands are all constants (graph constants, Constant nodes, in
// this graph or around it) is run through the reference interpreter and its results become
// constants of the graph, under the node's result names. Results larger than `max-elements`
// stay computed (folding would bloat the weights); random ops, nodes with subgraphs, and ops
// the interpreter cannot run or that fail on these inputs are left as they are.
import { produce } from 'immer';
import type { Constant, Graph, Model, Node } from '../ir/graph.ts';
import { runModel } from '../ir/interp/run.ts';
import { isTensor, toConst } from '../ir/interp/tensor.ts';
import { numElements } from '../ir/types.ts';
import { constantNodeValue, isPure, mapSubgraphs, Scope, subgraphFree } from './graph-edit.ts';
import type { Pass } from './pass.ts';

export type ConstantFoldOptions = {
  'max-elements': number;
};

export const constantFold: Pass<ConstantFoldOptions> = {
  name: 'constant-fold',
  summary: 'evaluate nodes whose operands are all constants and keep their results as constants',
  options: {
    'max-elements': { type: 'number', default: 1 << 16, summary: 'largest result (elements) folded' },
  },
  run: (model, ctx) => foldConstants(model, ctx.options),
};

export function foldConstants(model: Model, opts: Partial<ConstantFoldOptions> = {}): Model {
  const maxElements = opts['max-elements'] ?? 1 << 16;
  const g = foldGraph(model, model.graph, undefined, maxElements);
  if (g === model.graph) return model;
  return produce(model, (d) => {
    d.graph = g as typeof d.graph;
  });
}

function foldGraph(model: Model, g: Graph, parent: Scope | undefined, maxElements: number): Graph {
  const scope = new Scope({ ...g, nodes: [] }, parent);
  const added: Constant[] = [];
  const nodes: Node[] = [];
  let changed = false;
  for (const n0 of g.nodes) {
    const n = mapSubgraphs(n0, (sg) => foldGraph(model, sg, scope, maxElements));
    if (n !== n0) changed = true;
    const folded = tryFold(model, n, scope, maxElements);
    if (folded) {
      for (const c of folded) {
        added.push(c);
        scope.addConstant(c);
      }
      changed = true;
      continue;
    }
    scope.addNode(n);
    nodes.push(n);
  }
  return changed ? { ...g, constants: [...g.constants, ...added], nodes } : g;
}

/** The node's results as constants, or undefined when it is not folded. */
function tryFold(model: Model, n: Node, scope: Scope, maxElements: number): Constant[] | undefined {
  if (!isPure(n, { deterministic: true }) || n.outputs.length === 0 || subgraphFree(n) === false) return undefined;
  // A Constant node becomes a graph constant whatever its size: the same bytes, referenced, not
  // copied, so there is nothing to bloat.
  const held = constantNodeValue(n);
  if (held && n.outputs.length === 1 && n.outputs[0]) return [{ name: n.outputs[0].name, tensor: held }];
  // Known-size results only: the interpreter's work is bounded by what we would keep.
  for (const r of n.outputs) {
    if (!r) continue;
    if (r.type.kind !== 'tensor' || r.type.shape === null) return undefined;
    if (r.type.shape.every((d) => typeof d === 'number') && numElements(r.type.shape as number[]) > maxElements) return undefined;
  }
  const constants: Constant[] = [];
  for (const x of n.inputs) {
    if (x === null) continue;
    const c = scope.constant(x);
    if (!c) return undefined;
    if (!constants.some((k) => k.name === x)) constants.push({ name: x, tensor: c });
  }
  const outs = n.outputs.filter((r) => r !== null).map((r) => r!.name);
  const one: Model = {
    graph: { name: 'fold', inputs: [], constants, nodes: [n], outputs: outs },
    opsets: model.opsets,
  };
  let results;
  try {
    results = runModel(one, []);
  } catch {
    return undefined; // no evaluator, or it fails on these values: leave it to run time
  }
  const out: Constant[] = [];
  for (let i = 0; i < outs.length; i++) {
    const v = results[i];
    if (!isTensor(v) || v.data.length > maxElements) return undefined;
    out.push({ name: outs[i]!, tensor: toConst(v) });
  }
  return out;
}
