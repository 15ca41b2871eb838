// The reference interpreter: runs a model's nodes in order with the evaluators of ./ops/.
// Values live in lexical scopes (a subgraph reads the values around its node), constants are
// decoded when first used, and each value is dropped after its last use so memory stays bounded
// by the live set, not the whole model.
import { attrReader } from '../attr-reader.ts';
import { LatheError } from '../errors.ts';
import type { Attr, Constant, Graph, Model, Node } from '../graph.ts';
import { ONNX_DOMAIN, qualifiedOp, subgraphsOf } from '../graph.ts';
import type { ConstTensor } from '../tensor-data.ts';
import type { ValueType } from '../types.ts';
import { typeToString } from '../types.ts';
import type { EvalContext } from './registry.ts';
import { lookupEval } from './registry.ts';
import type { RuntimeValue, Tensor } from './tensor.ts';
import { describe, fromConst, isTensor } from './tensor.ts';
import './ops/index.ts';

export interface RunOptions {
  /**
   * Check each result against the type its node declares (dtype, rank, known dims). On by
   * default: a mismatch is a bug in an evaluator or in shape inference, worth hearing about.
   */
  checkTypes?: boolean;
  /**
   * Called after every node (subgraph nodes included, `depth` > 0) with its results: for
   * calibration statistics, tracing, or comparing intermediate values. Values are immutable;
   * keep references as long as needed.
   */
  onNode?: (node: Node, results: readonly (RuntimeValue | undefined)[], depth: number) => void;
}

interface State {
  model: Model;
  checkTypes: boolean;
  onNode?: RunOptions['onNode'];
  /** Decoded constants of subgraphs, kept for the run (a Loop body runs many times). */
  constCache: Map<ConstTensor, Tensor>;
}

/** A lexical scope: a graph's own values, falling back to the scopes around it. */
class Scope {
  readonly own = new Map<string, RuntimeValue>();
  /** Constants not yet decoded. */
  readonly lazy = new Map<string, ConstTensor>();
  readonly depth: number;
  constructor(
    readonly parent: Scope | undefined,
    private readonly state: State,
  ) {
    this.depth = parent ? parent.depth + 1 : 0;
  }
  get(name: string): RuntimeValue | undefined {
    const v = this.own.get(name);
    if (v !== undefined) return v;
    const c = this.lazy.get(name);
    if (c) {
      const t = this.parent ? cachedConst(this.state, c) : fromConst(c);
      this.own.set(name, t);
      this.lazy.delete(name);
      return t;
    }
    return this.parent?.get(name);
  }
  has(name: string): boolean {
    return this.own.has(name) || this.lazy.has(name) || (this.parent?.has(name) ?? false);
  }
  drop(name: string): void {
    this.own.delete(name);
    this.lazy.delete(name);
  }
}

function cachedConst(state: State, c: ConstTensor): Tensor {
  let t = state.constCache.get(c);
  if (!t) {
    t = fromConst(c);
    state.constCache.set(c, t);
  }
  return t;
}

/**
 * Run a model. `inputs` are by name, or by position over the graph's inputs (trailing inputs
 * that have ONNX initializer defaults may be left out). Returns the graph's outputs in order.
 */
export function runModel(
  model: Model,
  inputs: ReadonlyMap<string, RuntimeValue> | readonly RuntimeValue[],
  options: RunOptions = {},
): RuntimeValue[] {
  const state: State = { model, checkTypes: options.checkTypes ?? true, onNode: options.onNode, constCache: new Map() };
  const g = model.graph;
  const byName = new Map<string, RuntimeValue>();
  if (Array.isArray(inputs)) {
    if (inputs.length > g.inputs.length) {
      throw new LatheError('UsageError', `the model takes ${g.inputs.length} inputs, got ${inputs.length}`);
    }
    inputs.forEach((v, i) => byName.set(g.inputs[i]!.name, v));
  } else {
    for (const [name, v] of inputs as ReadonlyMap<string, RuntimeValue>) {
      if (!g.inputs.some((x) => x.name === name)) {
        throw new LatheError('UsageError', `the model has no input '${name}' (inputs: ${g.inputs.map((x) => x.name).join(', ')})`);
      }
      byName.set(name, v);
    }
  }
  const defaults = new Map((g.inputDefaults ?? []).map((c) => [c.name, c.tensor]));
  const values = g.inputs.map((inp) => {
    const v = byName.get(inp.name);
    if (v !== undefined) {
      checkValue(v, inp.type, `input '${inp.name}'`, { value: inp.name });
      return v;
    }
    const d = defaults.get(inp.name);
    if (d) return fromConst(d);
    throw new LatheError('UsageError', `input '${inp.name}' (${typeToString(inp.type)}) is not given`, { value: inp.name });
  });
  return runGraph(state, g, new Scope(undefined, state), values);
}

function runGraph(state: State, g: Graph, scope: Scope, inputs: readonly (RuntimeValue | undefined)[]): RuntimeValue[] {
  g.inputs.forEach((inp, i) => {
    const v = inputs[i];
    if (v !== undefined) scope.own.set(inp.name, v);
  });
  for (const c of g.constants) scope.lazy.set(c.name, c.tensor);
  const plan = livenessPlan(g);
  for (const name of plan.unused) scope.drop(name);
  g.nodes.forEach((node, i) => {
    const results = evalNode(state, node, scope);
    state.onNode?.(node, results, scope.depth);
    node.outputs.forEach((o, j) => {
      if (!o) return;
      const v = results[j];
      if (v === undefined) return;
      if (state.checkTypes) checkValue(v, o.type, `result '${o.name}'`, { node: node.name, op: qualifiedOp(node), value: o.name });
      scope.own.set(o.name, v);
    });
    for (const name of plan.freeAfter[i]!) scope.drop(name);
  });
  return g.outputs.map((name) => {
    const v = scope.get(name);
    if (v === undefined) throw new LatheError('VerifyError', `graph @${g.name} returns '${name}', which has no value`, { value: name });
    return v;
  });
}

function evalNode(state: State, node: Node, scope: Scope): readonly (RuntimeValue | undefined)[] {
  const where = { node: node.name, op: qualifiedOp(node) };
  const domain = node.domain || ONNX_DOMAIN;
  const opset = state.model.opsets[domain] ?? 1;
  const fn = lookupEval(domain, node.op);
  if (!fn) {
    throw new LatheError('UnsupportedOp', `the reference interpreter has no evaluator for ${qualifiedOp(node)} (opset ${opset})`, where);
  }
  const inputs = node.inputs.map((name) => {
    if (name === null || name === '') return undefined;
    const v = scope.get(name);
    if (v === undefined) throw new LatheError('VerifyError', `operand '${name}' has no value`, { ...where, value: name });
    return v;
  });
  try {
    return fn(makeContext(state, node, opset, inputs, scope));
  } catch (e) {
    if (e instanceof LatheError) throw e.at(where);
    if (e instanceof RangeError && /allocation|Array buffer|Invalid typed array length/i.test(e.message)) {
      throw new LatheError('ShapeError', `out of memory evaluating (inputs ${inputs.map(describe).join(', ')}): ${e.message}`, where);
    }
    throw new LatheError('ShapeError', `evaluation failed (inputs ${inputs.map(describe).join(', ')}): ${(e as Error).message}`, where);
  }
}

function makeContext(state: State, node: Node, opset: number, inputs: (RuntimeValue | undefined)[], scope: Scope): EvalContext {
  const ctx: EvalContext = {
    node,
    opset,
    inputs,
    numInputs: inputs.length,
    numOutputs: node.outputs.length,
    has: (i) => inputs[i] !== undefined,
    value: (i) => {
      const v = inputs[i];
      if (v === undefined) throw new LatheError('ShapeError', `operand ${i} is required but omitted`);
      return v;
    },
    tensor: (i) => {
      const v = ctx.value(i);
      if (!isTensor(v)) throw new LatheError('ShapeError', `operand ${i} must be a tensor, got ${describe(v)}`);
      return v;
    },
    optTensor: (i) => (inputs[i] === undefined ? undefined : ctx.tensor(i)),
    wants: (i) => node.outputs[i] !== undefined && node.outputs[i] !== null,
    ...attrReader(node),
    tensorAttr: (n) => {
      const a = node.attrs[n];
      if (!a) return undefined;
      if (a.kind !== 'tensor') throw new LatheError('VerifyError', `attribute '${n}' must be tensor, got ${a.kind}`);
      return cachedConst(state, a.value);
    },
    graph: (n) => {
      const a = node.attrs[n];
      if (!a || a.kind !== 'graph') throw new LatheError('VerifyError', `missing graph attribute '${n}'`);
      return a.value;
    },
    runGraph: (g, subInputs) => runGraph(state, g, new Scope(scope, state), subInputs),
    fail: (message) => {
      throw new LatheError('ShapeError', message);
    },
  };
  return ctx;
}

// ---- type checks ----

function checkValue(v: RuntimeValue, t: ValueType, what: string, where: { node?: string; op?: string; value?: string }): void {
  if ((t as { placeholder?: boolean }).placeholder) return;
  const bad = mismatch(v, t);
  if (bad) throw new LatheError('ShapeError', `${what} is ${describe(v)} but its declared type is ${typeToString(t)}${bad === true ? '' : ` (${bad})`}`, where);
}

/** Why a value does not fit a type, or false when it does. */
function mismatch(v: RuntimeValue, t: ValueType): string | boolean {
  if (isTensor(v)) {
    if (t.kind !== 'tensor') return true;
    if (v.dtype !== t.dtype) return true;
    if (t.shape === null) return false;
    if (t.shape.length !== v.shape.length) return 'rank differs';
    for (let i = 0; i < t.shape.length; i++) {
      const d = t.shape[i];
      if (typeof d === 'number' && d !== v.shape[i]) return `dim ${i} differs`;
    }
    return false;
  }
  if (v.kind === 'sequence') {
    if (t.kind !== 'sequence') return true;
    for (const item of v.items) if (mismatch(item, t.elem)) return 'an element differs';
    return false;
  }
  if (t.kind !== 'optional') return true;
  return v.value === undefined ? false : mismatch(v.value, t.elem);
}

// ---- liveness ----

export interface LivenessPlan {
  /** Names defined here that can be dropped after node i. */
  freeAfter: string[][];
  /** Names defined here (inputs, constants) that no node or output uses. */
  unused: string[];
}

const plans = new WeakMap<Graph, LivenessPlan>();
const freeVarCache = new WeakMap<Graph, Set<string>>();

/** When each value of a graph can be dropped (exported for tests). */
export function livenessPlan(g: Graph): LivenessPlan {
  let plan = plans.get(g);
  if (plan) return plan;
  const last = new Map<string, number>();
  g.nodes.forEach((n, i) => {
    for (const name of usesOf(n)) last.set(name, i);
  });
  const kept = new Set(g.outputs);
  const freeAfter: string[][] = g.nodes.map(() => []);
  const unused: string[] = [];
  const consider = (name: string, definedAt: number) => {
    if (kept.has(name)) return;
    const at = last.get(name);
    if (at === undefined || at < definedAt) {
      if (definedAt < 0) unused.push(name);
      else freeAfter[definedAt]!.push(name);
    } else freeAfter[at]!.push(name);
  };
  for (const v of g.inputs) consider(v.name, -1);
  for (const c of g.constants as readonly Constant[]) consider(c.name, -1);
  g.nodes.forEach((n, i) => {
    for (const o of n.outputs) if (o) consider(o.name, i);
  });
  plan = { freeAfter, unused };
  plans.set(g, plan);
  return plan;
}

/** Every name a node reads: its operands and the outer values its subgraphs read. */
function usesOf(n: Node): string[] {
  const names: string[] = [];
  for (const x of n.inputs) if (x) names.push(x);
  for (const { graph } of subgraphsOf(n)) names.push(...freeVars(graph));
  return names;
}

/** Names a graph reads from the scopes around it. */
function freeVars(g: Graph): Set<string> {
  let fv = freeVarCache.get(g);
  if (fv) return fv;
  const defined = new Set<string>([...g.inputs.map((v) => v.name), ...g.constants.map((c) => c.name)]);
  fv = new Set<string>();
  for (const n of g.nodes) {
    for (const name of usesOf(n)) if (!defined.has(name)) fv.add(name);
    for (const o of n.outputs) if (o) defined.add(o.name);
  }
  for (const name of g.outputs) if (!defined.has(name)) fv.add(name);
  freeVarCache.set(g, fv);
  return fv;
}
