// Analyses shared by passes. Each is computed on demand through `ctx.analysis(x)` and cached by
// the pass manager until a pass changes the model without listing it in `preserves`.
import type { Graph, Model, Node } from '../ir/graph.ts';
import { subgraphsOf } from '../ir/graph.ts';
import type { Analysis } from './pass.ts';

/** Where a value is used: as operand `index` of `node`, or as graph output `index` of `graph`. */
export type Use =
  | { readonly kind: 'operand'; readonly node: Node; readonly index: number; readonly graph: Graph }
  | { readonly kind: 'output'; readonly graph: Graph; readonly index: number };

export type Definition =
  | { readonly kind: 'input'; readonly graph: Graph; readonly index: number }
  | { readonly kind: 'constant'; readonly graph: Graph; readonly index: number }
  | { readonly kind: 'result'; readonly graph: Graph; readonly node: Node; readonly index: number };

export interface UseDef {
  /** How each value in the model (subgraphs included) is defined. */
  readonly defs: ReadonlyMap<string, Definition>;
  /** Every use of each value, in graph order (a subgraph's uses right where its node is). */
  readonly uses: ReadonlyMap<string, readonly Use[]>;
  /** The node producing `name`, if a node does. */
  producer(name: string): Node | undefined;
  /** The uses of `name` ([] when unused). */
  usesOf(name: string): readonly Use[];
  /**
   * The nodes reading `name`, each once. A use inside a subgraph counts for the node holding
   * that subgraph in the value's own graph (removing that node removes the use).
   */
  consumers(name: string): readonly Node[];
  /** Whether `name` has no use at all (nor as an output of its graph). */
  isUnused(name: string): boolean;
}

/**
 * Use-def chains for the whole model. Values are unique model-wide (SSA across nested scopes),
 * so one map serves every graph; uses inside a subgraph of values from an outer scope are
 * recorded both as the inner operand use and, through `consumers`, as the outer holding node.
 */
export const useDef: Analysis<UseDef> = {
  name: 'use-def',
  compute(model: Model): UseDef {
    const defs = new Map<string, Definition>();
    const uses = new Map<string, Use[]>();
    const consumers = new Map<string, Node[]>();
    const addUse = (name: string, u: Use) => {
      const list = uses.get(name);
      if (list) list.push(u);
      else uses.set(name, [u]);
    };
    const addConsumer = (name: string, n: Node) => {
      const list = consumers.get(name);
      if (!list) consumers.set(name, [n]);
      else if (list[list.length - 1] !== n && !list.includes(n)) list.push(n);
    };
    /** Walks a graph; `holders` are the nodes (outermost first) whose subgraphs contain it. */
    const walk = (g: Graph, holders: readonly { node: Node; scope: ReadonlySet<string> }[]) => {
      const here = new Set<string>();
      g.inputs.forEach((v, index) => {
        defs.set(v.name, { kind: 'input', graph: g, index });
        here.add(v.name);
      });
      g.constants.forEach((c, index) => {
        defs.set(c.name, { kind: 'constant', graph: g, index });
        here.add(c.name);
      });
      // A use of an outer value from inside a subgraph makes the holding node (at the level
      // where the value is defined) a consumer of it.
      const outerConsumer = (name: string) => {
        for (const h of holders) if (h.scope.has(name)) return addConsumer(name, h.node);
      };
      for (const node of g.nodes) {
        node.inputs.forEach((name, index) => {
          if (name === null) return;
          addUse(name, { kind: 'operand', node, index, graph: g });
          if (here.has(name)) addConsumer(name, node);
          else outerConsumer(name);
        });
        for (const { graph } of subgraphsOf(node)) walk(graph, [...holders, { node, scope: here }]);
        node.outputs.forEach((o, index) => {
          if (!o) return;
          defs.set(o.name, { kind: 'result', graph: g, node, index });
          here.add(o.name);
        });
      }
      g.outputs.forEach((name, index) => {
        addUse(name, { kind: 'output', graph: g, index });
        if (!here.has(name)) outerConsumer(name);
      });
    };
    walk(model.graph, []);
    return {
      defs,
      uses,
      producer(name) {
        const d = defs.get(name);
        return d?.kind === 'result' ? d.node : undefined;
      },
      usesOf: (name) => uses.get(name) ?? [],
      consumers: (name) => consumers.get(name) ?? [],
      isUnused: (name) => !uses.has(name),
    };
  },
};
