// Summary facts about a model, for `lathe info` and reports.
import { byteSize } from '../ir/dtype.ts';
import type { Graph, Model } from '../ir/graph.ts';
import { qualifiedOp, subgraphsOf } from '../ir/graph.ts';
import type { ConstTensor } from '../ir/tensor-data.ts';
import { numElements } from '../ir/types.ts';

export interface ModelStats {
  nodes: number;
  /** Qualified op name → count, subgraphs included. */
  ops: Map<string, number>;
  parameters: number;
  parameterBytes: number;
  subgraphs: number;
}

export function modelStats(model: Model): ModelStats {
  const stats: ModelStats = { nodes: 0, ops: new Map(), parameters: 0, parameterBytes: 0, subgraphs: 0 };
  const addTensor = (t: ConstTensor) => {
    const n = numElements(t.shape);
    stats.parameters += n;
    stats.parameterBytes += t.dtype === 'string' ? 0 : byteSize(t.dtype, n);
  };
  const walk = (g: Graph) => {
    for (const c of g.constants) addTensor(c.tensor);
    for (const c of g.inputDefaults ?? []) addTensor(c.tensor);
    for (const n of g.nodes) {
      stats.nodes++;
      const op = qualifiedOp(n);
      stats.ops.set(op, (stats.ops.get(op) ?? 0) + 1);
      for (const { graph } of subgraphsOf(n)) {
        stats.subgraphs++;
        walk(graph);
      }
    }
  };
  walk(model.graph);
  return stats;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}
