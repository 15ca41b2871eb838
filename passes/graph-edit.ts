// Helpers for editing graphs, shared by the passes: who uses a value, who defines it, which
// values are constants, renaming uses (subgraphs included), fresh names, and walking a model's
// graphs. Everything here is pure: functions take immutable graphs and return new ones (or the
// same object when nothing changed), so passes can call them inside or outside immer's `produce`.
import type { Attr, Constant, Graph, Model, Node } from '../ir/graph.ts';
import { constType, LATHE_DOMAIN, ONNX_DOMAIN, subgraphsOf } from '../ir/graph.ts';
import type { ConstTensor } from '../ir/tensor-data.ts';
import { constTensor } from '../ir/tensor-data.ts';
import type { ValueType } from '../ir/types.ts';

/** Names a graph reads from the scopes around it (operands, nested subgraphs, returns). */
export function freeVars(g: Graph): Set<string> {
  const defined = new Set<string>([...g.inputs.map((v) => v.name), ...g.constants.map((c) => c.name)]);
  const fv = new Set<string>();
  for (const n of g.nodes) {
    for (const name of nodeReads(n)) if (!defined.has(name)) fv.add(name);
    for (const o of n.outputs) if (o) defined.add(o.name);
  }
  for (const name of g.outputs) if (!defined.has(name)) fv.add(name);
  return fv;
}

/** Every name a node reads: its operands, then the outer values its subgraphs read. */
export function nodeReads(n: Node): string[] {
  const names: string[] = [];
  for (const x of n.inputs) if (x) names.push(x);
  for (const { graph } of subgraphsOf(n)) names.push(...freeVars(graph));
  return names;
}

/**
 * How many times each name is read at this level of `g`: once per operand slot, once per node
 * whose subgraphs read it, once per `return`. A value read nowhere is absent.
 */
export function useCounts(g: Graph): Map<string, number> {
  const uses = new Map<string, number>();
  const add = (name: string) => uses.set(name, (uses.get(name) ?? 0) + 1);
  for (const n of g.nodes) {
    for (const x of n.inputs) if (x) add(x);
    const inner = new Set<string>();
    for (const { graph } of subgraphsOf(n)) for (const v of freeVars(graph)) inner.add(v);
    for (const v of inner) add(v);
  }
  for (const o of g.outputs) add(o);
  return uses;
}

/** The node (and result index) defining each node result of `g` (not inputs or constants). */
export function producers(g: Graph): Map<string, { node: Node; index: number }> {
  const out = new Map<string, { node: Node; index: number }>();
  for (const n of g.nodes) n.outputs.forEach((o, index) => o && out.set(o.name, { node: n, index }));
  return out;
}

/** Every value name defined anywhere in a graph and its subgraphs. */
export function allNames(g: Graph, into = new Set<string>()): Set<string> {
  for (const v of g.inputs) into.add(v.name);
  for (const c of g.constants) into.add(c.name);
  for (const n of g.nodes) {
    for (const o of n.outputs) if (o) into.add(o.name);
    for (const { graph } of subgraphsOf(n)) allNames(graph, into);
  }
  return into;
}

/** Hands out names no other value (or node) uses: `hint`, then `hint_1`, `hint_2`, … */
export class NameGen {
  constructor(private readonly taken: Set<string>) {}
  fresh(hint: string): string {
    let name = hint;
    for (let i = 1; this.taken.has(name); i++) name = `${hint}_${i}`;
    this.taken.add(name);
    return name;
  }
  claim(name: string): void {
    this.taken.add(name);
  }
}

/**
 * Rename reads of values (`from` → `to`) in `g`: operands, nested subgraphs' outer reads, and
 * returns. SSA means no inner scope can shadow a name, so the rename is global. Returns `g` itself
 * when nothing was read.
 */
export function renameUses(g: Graph, map: ReadonlyMap<string, string>, renameReturns = true): Graph {
  if (map.size === 0) return g;
  let changed = false;
  const nodes = g.nodes.map((n) => {
    const m = renameInNode(n, map);
    if (m !== n) changed = true;
    return m;
  });
  const outputs = renameReturns ? g.outputs.map((o) => map.get(o) ?? o) : g.outputs;
  if (outputs.some((o, i) => o !== g.outputs[i])) changed = true;
  return changed ? { ...g, nodes, outputs } : g;
}

function renameInNode(n: Node, map: ReadonlyMap<string, string>): Node {
  const inputs = n.inputs.map((x) => (x === null ? null : (map.get(x) ?? x)));
  const inputsChanged = inputs.some((x, i) => x !== n.inputs[i]);
  // Subgraph returns name values by position, so they may be renamed too.
  const attrs = mapSubgraphs(n, (sg) => renameUses(sg, map, true));
  if (!inputsChanged && attrs === n) return n;
  return { ...n, inputs: inputsChanged ? inputs : n.inputs, attrs: attrs === n ? n.attrs : attrs.attrs };
}

/** The node with each subgraph attribute replaced by `f(subgraph)`; the node itself if none changed. */
export function mapSubgraphs(n: Node, f: (g: Graph) => Graph): Node {
  let changed = false;
  const attrs: Record<string, Attr> = {};
  for (const [k, a] of Object.entries(n.attrs)) {
    if (a.kind === 'graph') {
      const g = f(a.value);
      if (g !== a.value) changed = true;
      attrs[k] = g === a.value ? a : { kind: 'graph', value: g };
    } else if (a.kind === 'graphs') {
      const gs = a.value.map(f);
      if (gs.some((g, i) => g !== a.value[i])) changed = true;
      attrs[k] = gs.every((g, i) => g === a.value[i]) ? a : { kind: 'graphs', value: gs };
    } else attrs[k] = a;
  }
  return changed ? { ...n, attrs } : n;
}

/**
 * What a scope knows about values: types and constant contents, looking outwards through the
 * graphs around it. Constants are graph constants and the results of `Constant` nodes.
 */
export class Scope {
  private readonly types = new Map<string, ValueType>();
  private readonly consts = new Map<string, ConstTensor>();
  constructor(
    readonly graph: Graph,
    readonly parent?: Scope,
  ) {
    for (const v of graph.inputs) this.types.set(v.name, v.type);
    for (const c of graph.constants) {
      this.types.set(c.name, constType(c));
      this.consts.set(c.name, c.tensor);
    }
    for (const n of graph.nodes) this.addNode(n);
  }
  addNode(n: Node): void {
    for (const o of n.outputs) if (o) this.types.set(o.name, o.type);
    const c = constantNodeValue(n);
    if (c && n.outputs[0]) this.consts.set(n.outputs[0].name, c);
  }
  addConstant(c: Constant): void {
    this.types.set(c.name, constType(c));
    this.consts.set(c.name, c.tensor);
  }
  type(name: string): ValueType | undefined {
    return this.types.get(name) ?? this.parent?.type(name);
  }
  constant(name: string): ConstTensor | undefined {
    return this.consts.get(name) ?? this.parent?.constant(name);
  }
}

/** The tensor an `onnx.Constant` node holds, whichever attribute spells it. */
export function constantNodeValue(n: Node): ConstTensor | undefined {
  if (n.op !== 'Constant' || (n.domain !== ONNX_DOMAIN && n.domain !== '')) return undefined;
  const [name, a] = Object.entries(n.attrs)[0] ?? [];
  if (!a) return undefined;
  switch (name) {
    case 'value': return a.kind === 'tensor' ? a.value : undefined;
    case 'value_float': return a.kind === 'float' ? constTensor('f32', [], [a.value]) : undefined;
    case 'value_int': return a.kind === 'int' ? constTensor('i64', [], [a.value]) : undefined;
    case 'value_floats': return a.kind === 'floats' ? constTensor('f32', [a.value.length], a.value) : undefined;
    case 'value_ints': return a.kind === 'ints' ? constTensor('i64', [a.value.length], a.value) : undefined;
    case 'value_string': return a.kind === 'string' ? { dtype: 'string', shape: [], data: { kind: 'strings', values: [a.value] } } : undefined;
    case 'value_strings':
      return a.kind === 'strings' ? { dtype: 'string', shape: [a.value.length], data: { kind: 'strings', values: a.value } } : undefined;
    default: return undefined;
  }
}

/** Ops whose results are not a function of their operands: never folded, merged or moved. */
const NONDETERMINISTIC = new Set(['RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Multinomial', 'Bernoulli']);

/**
 * Whether a node may be removed when its results are unused, or merged with an identical one:
 * ONNX and lathe ops have no side effects; ops of other domains might (a custom `Print`), so
 * they stay. Random ops are pure enough to drop but not to merge (`deterministic`).
 */
export function isPure(n: Node, opts: { deterministic?: boolean } = {}): boolean {
  const d = n.domain || ONNX_DOMAIN;
  if (d !== ONNX_DOMAIN && d !== LATHE_DOMAIN && d !== 'ai.onnx.ml') return false;
  if (opts.deterministic && NONDETERMINISTIC.has(n.op)) return false;
  return true;
}

export function isRandomOp(n: Node): boolean {
  return (n.domain === ONNX_DOMAIN || n.domain === '') && NONDETERMINISTIC.has(n.op);
}

/** The model with `f` applied to its main graph (the model itself if `f` changed nothing). */
export function withGraph(model: Model, f: (g: Graph) => Graph): Model {
  const g = f(model.graph);
  return g === model.graph ? model : { ...model, graph: g };
}

/** False when the node holds subgraphs (If, Loop, Scan): their results depend on running them. */
export function subgraphFree(n: Node): boolean {
  return subgraphsOf(n).length === 0;
}
