// dce: remove what nothing reads. Nodes whose results are all unused (ONNX and lathe ops have no
// side effects; nodes of other domains are kept, as they might have some), unused constants,
// and, in nested graphs, the same; unused optional trailing results become omitted (`_`).
// Graph inputs stay: they are the model's (or the subgraph's positional) interface.
import { produce } from 'immer';
import type { Graph, Model, Node } from '../ir/graph.ts';
import { lookupOp } from '../ir/op.ts';
import '../ir/ops/index.ts';
import { isPure, mapSubgraphs, nodeReads } from './graph-edit.ts';
import type { Pass } from './pass.ts';

export type DceOptions = {
  /** Also remove constants nobody reads. */
  constants: boolean;
  /** Omit unused optional results (e.g. Dropout's mask, LayerNormalization's statistics). */
  results: boolean;
};

export const dce: Pass<DceOptions> = {
  name: 'dce',
  summary: 'remove nodes and constants whose values nobody reads, in subgraphs too',
  options: {
    constants: { type: 'boolean', default: true, summary: 'remove unused constants' },
    results: { type: 'boolean', default: true, summary: 'omit unused optional results' },
  },
  run: (model, ctx) => removeDead(model, ctx.options),
};

export function removeDead(model: Model, opts: Partial<DceOptions> = {}): Model {
  const o = { constants: opts.constants ?? true, results: opts.results ?? true };
  const g = dceGraph(model.graph, new Set(), o);
  if (g === model.graph) return model;
  return produce(model, (d) => {
    d.graph = g as typeof d.graph;
  });
}

/** `live`: names read after this graph by the scopes around it (they keep outer values alive). */
function dceGraph(g: Graph, outerLive: ReadonlySet<string>, o: { constants: boolean; results: boolean }): Graph {
  const live = new Set<string>([...outerLive, ...g.outputs]);
  const kept: Node[] = [];
  let changed = false;
  // Backwards: a node is live when one of its results is read by a live node (or returned).
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    let n = g.nodes[i]!;
    const used = n.outputs.some((r) => r && live.has(r.name));
    if (!used && isPure(n)) {
      changed = true;
      continue;
    }
    if (o.results) {
      const trimmed = omitUnusedResults(n, live);
      if (trimmed !== n) changed = true;
      n = trimmed;
    }
    // Subgraphs first, so the outer values they stop reading die too.
    const inner = mapSubgraphs(n, (sg) => dceGraph(sg, new Set(), o));
    if (inner !== n) changed = true;
    n = inner;
    for (const x of nodeReads(n)) live.add(x);
    kept.push(n);
  }
  kept.reverse();
  let constants = g.constants;
  if (o.constants) {
    constants = g.constants.filter((c) => live.has(c.name));
    if (constants.length !== g.constants.length) changed = true;
  }
  return changed ? { ...g, nodes: kept, constants } : g;
}

/** Optional results (past the op's required count) nobody reads are omitted; trailing ones dropped. */
function omitUnusedResults(n: Node, live: ReadonlySet<string>): Node {
  const def = lookupOp(n.domain, n.op);
  // Variadic results carry meaning in their count (Split's pieces, If/Loop/Scan's subgraph
  // results): those stay as they are.
  if (!def || def.outputs.max === Infinity) return n;
  const outputs = n.outputs.map((r, i) => (r && i >= def.outputs.min && !live.has(r.name) ? null : r));
  while (outputs.length > Math.max(def.outputs.min, 1) && outputs[outputs.length - 1] === null) outputs.pop();
  if (outputs.length === n.outputs.length && outputs.every((r, i) => r === n.outputs[i])) return n;
  return { ...n, outputs };
}
