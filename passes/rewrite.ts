// Pattern rewriting: rules as data (a pattern with named captures + a function building the
// replacement), applied greedily to a fixpoint.
//
//   const siluRule: Rule = {
//     name: 'silu',
//     pattern: op('Mul', [any('x'), op('Sigmoid', [any('x')])]),    // Mul is commutative
//     rewrite: (m, b) => b.op('SiLU', [m.values.x!], {}, { domain: 'lathe' }),
//   };
//   rewriteGreedily(model, [siluRule], { maxIterations: 10 });
//
// A match may absorb an inner node only when every reader of that node's results is itself part
// of the match (or it would have to stay alive for its other readers, duplicating work); the
// root's results are replaced by the rewrite's values and the absorbed nodes are removed.
import { produce } from 'immer';
import { LatheError } from '../ir/errors.ts';
import type { Attr, Constant, Graph, Model, Node, Value } from '../ir/graph.ts';
import { LATHE_DOMAIN, ONNX_DOMAIN } from '../ir/graph.ts';
import { inferModel, PLACEHOLDER } from '../ir/infer.ts';
import '../ir/ops/index.ts';
import type { ConstTensor } from '../ir/tensor-data.ts';
import { tensorBytes } from '../ir/tensor-data.ts';
import type { TensorType, ValueType } from '../ir/types.ts';
import { isStaticShape, refineType, typesCompatible } from '../ir/types.ts';
import { fromConst, toF64 } from '../ir/interp/tensor.ts';
import { allNames, mapSubgraphs, NameGen, producers, renameUses, Scope, useCounts } from './graph-edit.ts';

// ---- patterns ----

/** What predicates see about a value. */
export interface ValueInfo {
  readonly name: string;
  readonly type: ValueType | undefined;
  /** Contents, when the value is a constant (graph constant or `Constant` node). */
  readonly constant: ConstTensor | undefined;
}
export type ValuePred = (v: ValueInfo) => boolean;

export interface OpPattern {
  readonly kind: 'op';
  readonly domain: string;
  readonly op: string;
  /** Operand patterns; absent: any operands. */
  readonly operands?: readonly Pattern[];
  /** Try both operand orders of a binary op. */
  readonly commutative: boolean;
  /** Names the matched node in `Match.nodes`. */
  readonly capture?: string;
  /** Which result of the producing node the operand must be (default 0). */
  readonly result?: number;
  readonly attrs?: (node: Node) => boolean;
  /** A predicate on the node's first result (its type, e.g.). */
  readonly where?: ValuePred;
}
export interface ValuePattern {
  readonly kind: 'value';
  readonly capture?: string;
  readonly pred?: ValuePred;
}
export interface AltPattern {
  readonly kind: 'alt';
  readonly options: readonly Pattern[];
}
export type Pattern = OpPattern | ValuePattern | AltPattern;

const COMMUTATIVE = new Set(['Add', 'Mul', 'And', 'Or', 'Xor', 'Equal', 'Max', 'Min', 'Sum', 'Mean']);

export interface OpPatternOptions {
  commutative?: boolean;
  capture?: string;
  result?: number;
  attrs?: (node: Node) => boolean;
  where?: ValuePred;
}

/** Match a node by op (`'Mul'` is ai.onnx; `'lathe.SiLU'` names another domain). */
export function op(name: string, operands?: readonly Pattern[], opts: OpPatternOptions = {}): OpPattern {
  const dot = name.lastIndexOf('.');
  const domain = dot < 0 ? ONNX_DOMAIN : name.slice(0, dot) === 'onnx' ? ONNX_DOMAIN : name.slice(0, dot);
  const opName = dot < 0 ? name : name.slice(dot + 1);
  const commutative = opts.commutative ?? (domain === ONNX_DOMAIN && COMMUTATIVE.has(opName) && operands?.length === 2);
  return { kind: 'op', domain, op: opName, operands, commutative, capture: opts.capture, result: opts.result, attrs: opts.attrs, where: opts.where };
}

/** Any value; with a name, captured (a name used twice must bind the same value). */
export function any(capture?: string, pred?: ValuePred): ValuePattern {
  return { kind: 'value', capture, pred };
}

export function oneOf(...options: Pattern[]): AltPattern {
  return { kind: 'alt', options };
}

/** A constant value (graph constant or Constant node). */
export function isConst(capture?: string, pred?: (t: ConstTensor) => boolean): ValuePattern {
  return any(capture, (v) => v.constant !== undefined && (!pred || pred(v.constant)));
}

/**
 * A numeric constant whose every element is `value` (relative tolerance `tol`, default 1e-6,
 * so exported f32 spellings of 1/√2 or √(2/π) match).
 */
export function constScalar(value: number, opts: { capture?: string; tol?: number } = {}): ValuePattern {
  const tol = opts.tol ?? 1e-6;
  return isConst(opts.capture, (t) => {
    const all = constValues(t);
    return all !== undefined && all.length > 0 && all.every((x) => Math.abs(x - value) <= tol * Math.max(1, Math.abs(value)));
  });
}

/** A constant's elements as numbers (small numeric constants only). */
export function constValues(t: ConstTensor, limit = 1 << 16): number[] | undefined {
  if (t.dtype === 'string') return undefined;
  let n = 1;
  for (const d of t.shape) n *= d;
  if (n > limit) return undefined;
  return Array.from(toF64(fromConst(t)));
}

/** The single value of a constant whose elements are all equal, else undefined. */
export function constSplat(t: ConstTensor | undefined): number | undefined {
  if (!t) return undefined;
  const v = constValues(t);
  if (!v || v.length === 0) return undefined;
  return v.every((x) => x === v[0] || (Number.isNaN(x) && Number.isNaN(v[0]!))) ? v[0] : undefined;
}

// Predicates on types, combinable with `all`.
export const all = (...ps: ValuePred[]): ValuePred => (v) => ps.every((p) => p(v));
const tensorOf = (v: ValueInfo): TensorType | undefined => (v.type?.kind === 'tensor' ? v.type : undefined);
export const dtypeIs = (...d: string[]): ValuePred => (v) => d.includes(tensorOf(v)?.dtype ?? '');
export const isFloat: ValuePred = dtypeIs('f16', 'bf16', 'f32', 'f64');
export const rankIs = (r: number): ValuePred => (v) => tensorOf(v)?.shape?.length === r;
export const staticShape: ValuePred = (v) => {
  const s = tensorOf(v)?.shape;
  return s !== undefined && isStaticShape(s);
};

// ---- rules ----

export interface Match {
  readonly root: Node;
  /** Captured values by name. */
  readonly values: Readonly<Record<string, string>>;
  /** Captured nodes by name. */
  readonly nodes: Readonly<Record<string, Node>>;
  /** Every node the pattern covered, root included. */
  readonly matched: readonly Node[];
}

/** Per result of the root: the value replacing it, or null (only for a result nobody reads). */
export type Replacement = string | readonly (string | null)[];

export interface Rule {
  readonly name: string;
  /** The root pattern; it matches a node (the node whose results get replaced). */
  readonly pattern: OpPattern;
  /** The replacement, built with `b`, or null to leave this match alone. */
  rewrite(m: Match, b: RewriteBuilder): Replacement | null;
}

export interface NewOpOptions {
  domain?: string;
  results?: number;
  /** Result types; inferred from the op's declaration when left out. */
  types?: readonly ValueType[];
  /** A hint for the result names. */
  name?: string;
}

/** What a rule's rewrite function can do: read facts, emit nodes and constants. */
export interface RewriteBuilder {
  info(name: string): ValueInfo;
  type(name: string): ValueType | undefined;
  tensorType(name: string): TensorType | undefined;
  constant(name: string): ConstTensor | undefined;
  /** The node of this graph defining `name` (not inputs, constants or outer values). */
  producer(name: string): Node | undefined;
  /** The model's opset for a domain (0 when the model does not import it). */
  opset(domain?: string): number;
  op(op: string, inputs: readonly (string | null)[], attrs?: Record<string, Attr>, opts?: NewOpOptions): string;
  opN(op: string, inputs: readonly (string | null)[], attrs?: Record<string, Attr>, opts?: NewOpOptions): string[];
  /** A new constant in the graph being rewritten; returns its name. */
  newConstant(t: ConstTensor, hint?: string): string;
}

// ---- matching ----

interface Binding {
  values: Record<string, string>;
  nodes: Record<string, Node>;
  matched: Node[];
}

interface MatchEnv {
  scope: Scope;
  producers: Map<string, { node: Node; index: number }>;
}

function info(env: MatchEnv, name: string): ValueInfo {
  return { name, type: env.scope.type(name), constant: env.scope.constant(name) };
}

function* matchValue(p: Pattern, name: string, env: MatchEnv, b: Binding): Generator<Binding> {
  if (p.kind === 'alt') {
    for (const o of p.options) yield* matchValue(o, name, env, b);
    return;
  }
  if (p.kind === 'value') {
    if (p.capture) {
      const had = b.values[p.capture];
      if (had !== undefined && had !== name) return;
    }
    if (p.pred && !p.pred(info(env, name))) return;
    yield p.capture ? { ...b, values: { ...b.values, [p.capture]: name } } : b;
    return;
  }
  const prod = env.producers.get(name);
  if (!prod || prod.index !== (p.result ?? 0)) return;
  yield* matchNode(p, prod.node, env, b);
}

function* matchNode(p: OpPattern, node: Node, env: MatchEnv, b: Binding): Generator<Binding> {
  if (node.op !== p.op || (node.domain || ONNX_DOMAIN) !== p.domain) return;
  if (p.attrs && !p.attrs(node)) return;
  if (p.where) {
    const out = node.outputs[0];
    if (!out || !p.where(info(env, out.name))) return;
  }
  if (p.capture) {
    const had = b.nodes[p.capture];
    if (had !== undefined && had !== node) return;
  }
  const next: Binding = {
    values: b.values,
    nodes: p.capture ? { ...b.nodes, [p.capture]: node } : b.nodes,
    matched: b.matched.includes(node) ? b.matched : [...b.matched, node],
  };
  if (!p.operands) {
    yield next;
    return;
  }
  if (node.inputs.length !== p.operands.length) return;
  const orders = p.commutative && p.operands.length === 2 ? [[0, 1], [1, 0]] : [p.operands.map((_, i) => i)];
  for (const order of orders) {
    yield* matchOperands(
      order.map((i) => p.operands![i]!),
      node.inputs,
      0,
      env,
      next,
    );
  }
}

function* matchOperands(pats: readonly Pattern[], inputs: readonly (string | null)[], i: number, env: MatchEnv, b: Binding): Generator<Binding> {
  if (i === pats.length) {
    yield b;
    return;
  }
  const name = inputs[i];
  if (name === null || name === undefined) return;
  for (const b1 of matchValue(pats[i]!, name, env, b)) yield* matchOperands(pats, inputs, i + 1, env, b1);
}

/**
 * Whether the match may absorb its inner nodes: every reader of an inner node's results must be
 * in the match (a value also read elsewhere, or returned, must stay).
 */
function absorbable(m: Binding, root: Node, uses: Map<string, number>): boolean {
  const inMatch = new Map<string, number>();
  for (const n of m.matched) for (const x of new Set(n.inputs)) if (x) inMatch.set(x, (inMatch.get(x) ?? 0) + n.inputs.filter((y) => y === x).length);
  for (const n of m.matched) {
    if (n === root) continue;
    for (const o of n.outputs) if (o && (uses.get(o.name) ?? 0) !== (inMatch.get(o.name) ?? 0)) return false;
  }
  return true;
}

/** The first absorbable match of `pattern` rooted at `node`, or undefined. */
export function matchAt(pattern: OpPattern, node: Node, scope: Scope, g: Graph, facts?: GraphFacts): Match | undefined {
  const { producers: prods, uses } = facts ?? graphFacts(g);
  const env: MatchEnv = { scope, producers: prods };
  for (const b of matchNode(pattern, node, env, { values: {}, nodes: {}, matched: [] })) {
    if (absorbable(b, node, uses)) return { root: node, values: b.values, nodes: b.nodes, matched: b.matched };
  }
  return undefined;
}

/** What matching reads about a graph, computed once per version of it. */
export interface GraphFacts {
  producers: Map<string, { node: Node; index: number }>;
  uses: Map<string, number>;
}
export function graphFacts(g: Graph): GraphFacts {
  return { producers: producers(g), uses: useCounts(g) };
}

// ---- the driver ----

export interface RewriteOptions {
  /** Sweeps over the graph before giving up (a sweep that changes nothing ends the run). */
  maxIterations?: number;
}

/**
 * Apply `rules` everywhere (subgraphs included) until none applies. Throws a PassError naming the
 * rules that still fired in the last allowed sweep when that takes more than `maxIterations`.
 * Returns the model itself when nothing changed.
 */
export function rewriteGreedily(model: Model, rules: readonly Rule[], opts: RewriteOptions = {}): Model {
  const state: DriverState = {
    model,
    rules,
    maxIterations: opts.maxIterations ?? 20,
    names: new NameGen(allNames(model.graph)),
    newDomains: new Set(),
  };
  const graph = rewriteGraph(state, model.graph, undefined);
  if (graph === model.graph) return model;
  return produce(model, (d) => {
    d.graph = graph as typeof d.graph;
    for (const dom of state.newDomains) d.opsets[dom] = 1;
  });
}

interface DriverState {
  model: Model;
  rules: readonly Rule[];
  maxIterations: number;
  names: NameGen;
  /** Domains of emitted nodes the model did not import yet (lathe's own ops at version 1). */
  newDomains: Set<string>;
}

function rewriteGraph(state: DriverState, input: Graph, parent: Scope | undefined): Graph {
  const isMain = parent === undefined;
  let g = input;
  const byOp = new Map<string, Rule[]>();
  for (const r of state.rules) {
    const k = `${r.pattern.domain}::${r.pattern.op}`;
    byOp.set(k, [...(byOp.get(k) ?? []), r]);
  }
  let fired = new Set<string>();
  let facts: GraphFacts & { graph: Graph | undefined; scope: Scope } = { graph: undefined, scope: new Scope(g, parent), ...graphFacts(g) };
  for (let sweep = 0; ; sweep++) {
    fired = new Set<string>();
    // Last node first: a pattern's root comes after the nodes it absorbs, so the largest match
    // (LayerNorm with its bias Add, not just its Div) is seen before its parts are.
    for (let i = g.nodes.length - 1; i >= 0; i = Math.min(i - 1, g.nodes.length - 1)) {
      const node = g.nodes[i]!;
      for (const rule of byOp.get(`${node.domain || ONNX_DOMAIN}::${node.op}`) ?? []) {
        if (facts.graph !== g) facts = { graph: g, scope: new Scope(g, parent), ...graphFacts(g) };
        const scope = facts.scope;
        const m = matchAt(rule.pattern, node, scope, g, facts);
        if (!m) continue;
        const next = apply(state, g, scope, m, rule, isMain);
        if (!next) continue;
        g = next;
        fired.add(rule.name);
        break;
      }
    }
    if (fired.size === 0) break;
    if (sweep + 1 >= state.maxIterations) {
      throw new LatheError(
        'PassError',
        `rewriting did not converge in ${state.maxIterations} sweeps over @${input.name}; rules still firing: ${[...fired].sort().join(', ')}`,
      );
    }
  }
  // Then the subgraphs, which see this graph's values.
  const scope = new Scope(g, parent);
  let changed = false;
  const nodes = g.nodes.map((n) => {
    const m = mapSubgraphs(n, (sg) => rewriteGraph(state, sg, scope));
    if (m !== n) changed = true;
    return m;
  });
  return changed ? { ...g, nodes } : g;
}

/** Apply one rule's rewrite to a match; the new graph, or undefined when the rule declined. */
function apply(state: DriverState, g: Graph, outer: Scope, m: Match, rule: Rule, isMain: boolean): Graph | undefined {
  // New values go in a scope of their own over the graph's, so a declined rewrite leaves no trace.
  const scope = new Scope({ name: g.name, inputs: [], constants: [], nodes: [], outputs: [] }, outer);
  const emitted: Node[] = [];
  const newConsts: Constant[] = [];
  const newValues = new Set<string>();
  const b: RewriteBuilder = {
    info: (name) => ({ name, type: scope.type(name), constant: scope.constant(name) }),
    type: (name) => scope.type(name),
    tensorType: (name) => {
      const t = scope.type(name);
      return t?.kind === 'tensor' ? t : undefined;
    },
    constant: (name) => scope.constant(name),
    producer: (name) => g.nodes.find((n) => n.outputs.some((o) => o?.name === name)),
    opset: (domain = ONNX_DOMAIN) => state.model.opsets[domain] ?? (domain === '' ? (state.model.opsets[ONNX_DOMAIN] ?? 0) : 0),
    op: (o, inputs, attrs, opts) => b.opN(o, inputs, attrs, { ...opts, results: 1 })[0]!,
    opN: (o, inputs, attrs = {}, opts = {}) => {
      const count = opts.results ?? 1;
      const hint = opts.name ?? `${m.root.outputs[0]?.name ?? m.root.name}/${o}`;
      const outs: Value[] = Array.from({ length: count }, (_, i) => ({
        name: state.names.fresh(count === 1 ? hint : `${hint}_${i}`),
        type: opts.types?.[i] ?? PLACEHOLDER,
      }));
      const node: Node = { name: outs[0]!.name, op: o, domain: opts.domain ?? ONNX_DOMAIN, inputs: [...inputs], outputs: outs, attrs };
      inferNew(state, scope, node, emitted, newConsts);
      emitted.push(node);
      for (const out of node.outputs) if (out) newValues.add(out.name);
      scope.addNode(node);
      return node.outputs.map((x) => x!.name);
    },
    newConstant: (t, hint = 'const') => {
      const name = state.names.fresh(hint);
      const c = { name, tensor: t };
      newConsts.push(c);
      scope.addConstant(c);
      return name;
    },
  };
  let rep: Replacement | null;
  try {
    rep = rule.rewrite(m, b);
  } catch (e) {
    if (e instanceof LatheError) throw new LatheError(e.kind, `rule '${rule.name}': ${e.detail}`, e.where);
    throw e;
  }
  if (rep === null) return undefined;
  const reps = typeof rep === 'string' ? [rep] : rep;
  const uses = useCounts(g);
  const renameNew = new Map<string, string>(); // new value → the root result's name
  const renameOld = new Map<string, string>(); // root result → an existing value
  for (let j = 0; j < m.root.outputs.length; j++) {
    const o = m.root.outputs[j];
    if (!o) continue;
    const r = reps[j] ?? null;
    if (r === null) {
      if ((uses.get(o.name) ?? 0) > 0) return undefined;
      continue;
    }
    if (r === o.name) return undefined; // "replace x by x": nothing to do
    if (newValues.has(r) && !renameNew.has(r)) renameNew.set(r, o.name);
    else if (isMain && g.outputs.includes(o.name)) return undefined; // the model's interface names stay
    else renameOld.set(o.name, r);
  }
  // Give the replacing new values the root's names (and its more precise stored types).
  const fixed = emitted.map((n) => {
    const outputs = n.outputs.map((o) => {
      if (!o) return o;
      const to = renameNew.get(o.name);
      if (!to) return o;
      const old = m.root.outputs.find((x) => x?.name === to)!;
      if (!typesCompatible(old.type, o.type)) {
        throw new LatheError('PassError', `rule '${rule.name}' replaced ${to} (${JSON.stringify(old.type)}) with a value of another type`);
      }
      return { name: to, type: refineType(old.type, o.type) };
    });
    const inputs = n.inputs.map((x) => (x === null ? null : (renameNew.get(x) ?? x)));
    const renamesFirst = n.outputs[0] && renameNew.has(n.outputs[0].name);
    return { ...n, name: renamesFirst ? m.root.name : freshNodeName(g, m.root.name, n.op), inputs, outputs };
  });
  for (const n of emitted) if (state.model.opsets[n.domain] === undefined) state.newDomains.add(n.domain);
  const at = g.nodes.indexOf(m.root);
  let nodes = [...g.nodes.slice(0, at), ...fixed, ...g.nodes.slice(at + 1)];
  let next: Graph = { ...g, nodes, constants: newConsts.length ? [...g.constants, ...newConsts] : g.constants };
  next = renameUses(next, renameOld, !isMain);
  // Drop the absorbed nodes nobody reads any more (latest first, so chains go in one pass).
  const after = useCounts(next);
  const dead = new Set<Node>();
  const absorbed = m.matched.filter((n) => n !== m.root).sort((x, y) => g.nodes.indexOf(y) - g.nodes.indexOf(x));
  for (const n of absorbed) {
    if (n.outputs.every((o) => !o || (after.get(o.name) ?? 0) === 0)) {
      dead.add(n);
      for (const x of n.inputs) if (x) after.set(x, (after.get(x) ?? 1) - 1);
    }
  }
  nodes = next.nodes.filter((n) => !dead.has(n));
  return { ...next, nodes };
}

function freshNodeName(g: Graph, base: string, op: string): string {
  const taken = new Set(g.nodes.map((n) => n.name));
  let name = `${base}/${op}`;
  for (let i = 1; taken.has(name); i++) name = `${base}/${op}_${i}`;
  return name;
}

/**
 * Give a new node's results their types: those the rule gave, else the op's inference run on a
 * small model holding the node, its operands' types and constant operands' contents.
 */
function inferNew(state: DriverState, scope: Scope, node: Node, emitted: readonly Node[], newConsts: readonly Constant[]): void {
  if (node.outputs.every((o) => o && o.type !== PLACEHOLDER)) return;
  const inputs: Value[] = [];
  const constants: Constant[] = [];
  const seen = new Set<string>();
  for (const x of node.inputs) {
    if (!x || seen.has(x)) continue;
    seen.add(x);
    const c = scope.constant(x) ?? newConsts.find((k) => k.name === x)?.tensor;
    const t = scope.type(x) ?? emitted.flatMap((n) => n.outputs).find((o) => o?.name === x)?.type;
    if (c) constants.push({ name: x, tensor: c });
    else if (t) inputs.push({ name: x, type: t });
    else throw new LatheError('PassError', `a rewrite reads '${x}', which is not defined`, { value: x });
  }
  const mini: Model = {
    graph: { name: 'rewrite', inputs, constants, nodes: [node], outputs: node.outputs.filter((o) => o).map((o) => o!.name) },
    opsets: { ...state.model.opsets, [LATHE_DOMAIN]: state.model.opsets[LATHE_DOMAIN] ?? 1 },
  };
  const inferred = inferModel(mini, { mode: 'refine' }).graph.nodes[0]!;
  (node as { outputs: readonly (Value | null)[] }).outputs = inferred.outputs;
}

/** Bytes of a constant, for equality tests (strings as JSON). */
export function constKey(t: ConstTensor): string {
  if (t.data.kind === 'strings') return `${t.dtype}[${t.shape.join(',')}]s${JSON.stringify(t.data.values)}`;
  return `${t.dtype}[${t.shape.join(',')}]${Buffer.from(tensorBytes(t)).toString('base64')}`;
}
