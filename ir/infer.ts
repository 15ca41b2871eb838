// Type and shape inference over a whole graph, nested subgraphs included. The importer runs it in
// `refine` mode (types it infers meet the types ONNX declared, and the more precise wins; an
// incompatible pair is an error); the verifier runs it in `check` mode (each stored type must be
// compatible with what the op's rule infers).
import { attrReader } from './attr-reader.ts';
import { LatheError } from './errors.ts';
import type { Attr, Graph, Model, Node, Value } from './graph.ts';
import { constType, ONNX_DOMAIN, qualifiedOp } from './graph.ts';
import type { InferContext, OpDef } from './op.ts';
import { lookupOp, unsupportedOp } from './op.ts';
import type { ConstTensor } from './tensor-data.ts';
import { tensorBytes } from './tensor-data.ts';
import type { Dim, TensorType, ValueType } from './types.ts';
import { refineType, typesCompatible, typeToString } from './types.ts';

export type InferMode = 'refine' | 'check';

export interface InferOptions {
  mode: InferMode;
  /** Where messages should say the graph came from. */
  file?: string;
  /**
   * Called with the known contents of each result whose op propagates them (shape arithmetic:
   * `Shape → Gather → Concat`); passes such as fold-shapes read them.
   */
  onValues?: (name: string, values: readonly Dim[]) => void;
}

interface Binding {
  type: ValueType;
  constant?: ConstTensor;
  values?: readonly Dim[];
}

/** A lexical scope: a graph's own values, falling back to the graphs around it. */
class Scope {
  private readonly own = new Map<string, Binding>();
  constructor(readonly parent?: Scope) {}
  get(name: string): Binding | undefined {
    return this.own.get(name) ?? this.parent?.get(name);
  }
  set(name: string, b: Binding): void {
    this.own.set(name, b);
  }
}

/** Infer (refine) or check every type in a model; returns the model with refined types. */
export function inferModel(model: Model, options: InferOptions): Model {
  const state = { model, options, symbolCount: 0 };
  const { graph } = inferGraph(state, model.graph, new Scope(), undefined);
  return { ...model, graph };
}

interface State {
  model: Model;
  options: InferOptions;
  symbolCount: number;
}

function inferGraph(
  state: State,
  g: Graph,
  scope: Scope,
  inputTypes: readonly ValueType[] | undefined,
): { graph: Graph; outputTypes: ValueType[] } {
  const inputs: Value[] = g.inputs.map((v, i) => {
    const given = inputTypes?.[i];
    const type = given ? meet(state, v.type, given, { value: v.name }) : v.type;
    scope.set(v.name, { type });
    return { name: v.name, type };
  });
  for (const c of g.constants) scope.set(c.name, { type: constType(c), constant: c.tensor, values: smallIntValues(c.tensor) });
  const nodes = g.nodes.map((n) => inferNode(state, n, scope));
  const outputTypes = g.outputs.map((out) => {
    const b = scope.get(out);
    if (!b) {
      throw new LatheError('VerifyError', `graph @${g.name} returns '${out}', which is not defined`, {
        file: state.options.file,
        value: out,
      });
    }
    return b.type;
  });
  return { graph: { ...g, inputs, nodes }, outputTypes };
}

function inferNode(state: State, node: Node, scope: Scope): Node {
  const where = { file: state.options.file, node: node.name, op: qualifiedOp(node) };
  try {
    const def = lookupOp(node.domain, node.op) ?? unsupportedOp(node);
    checkSignature(def, node);
    const refinedSubgraphs = new Map<Attr, Graph[]>();
    const ctx = makeContext(state, node, scope, refinedSubgraphs);
    const inferred = def.infer(ctx);
    const outputs = node.outputs.map((o, i) => {
      if (!o) return o;
      const t = inferred[i];
      if (!t) return o;
      return { name: o.name, type: meet(state, o.type, t, { value: o.name }) };
    });
    outputs.forEach((o, i) => {
      if (!o) return;
      if (scope.get(o.name)) {
        throw new LatheError('VerifyError', `value '${o.name}' is defined more than once`, { value: o.name });
      }
      const values = i === 0 && def.values ? def.values(ctx) : undefined;
      if (values) state.options.onValues?.(o.name, values);
      scope.set(o.name, { type: o.type, values });
    });
    const attrs = rebuildAttrs(node, refinedSubgraphs);
    return { ...node, outputs, attrs };
  } catch (e) {
    if (e instanceof LatheError) throw e.at(where);
    throw new LatheError('ShapeError', `inference failed: ${(e as Error).message}`, where);
  }
}

/** Types the importer gives results it has no declaration for; inference replaces them. */
export const PLACEHOLDER: ValueType = Object.freeze({ kind: 'tensor', dtype: 'f32', shape: null, placeholder: true } as TensorType);
function isPlaceholder(t: ValueType): boolean {
  return (t as { placeholder?: boolean }).placeholder === true;
}

function meet(state: State, stored: ValueType, inferred: ValueType, where: { value: string }): ValueType {
  if (isPlaceholder(stored)) return inferred;
  if (!typesCompatible(stored, inferred)) {
    const verb = state.options.mode === 'refine' ? 'declared' : 'has';
    throw new LatheError(
      'ShapeError',
      `inconsistent type: value '${where.value}' ${verb} ${typeToString(stored)} but its op gives ${typeToString(inferred)}`,
      where,
    );
  }
  return state.options.mode === 'refine' ? refineType(stored, inferred) : stored;
}

function checkSignature(def: OpDef, node: Node): void {
  const nin = node.inputs.length;
  if (nin < def.inputs.min || nin > def.inputs.max) {
    throw new LatheError('VerifyError', `takes ${arityText(def.inputs)} operands, got ${nin}`);
  }
  const nout = node.outputs.length;
  if (nout < def.outputs.min || nout > def.outputs.max) {
    throw new LatheError('VerifyError', `has ${arityText(def.outputs)} results, got ${nout}`);
  }
  for (const [name, spec] of Object.entries(def.attrs)) {
    const a = node.attrs[name];
    if (!a && spec.required) throw new LatheError('VerifyError', `missing required attribute '${name}'`);
    if (a && a.kind !== spec.kind && !spec.legacyKinds?.includes(a.kind)) {
      throw new LatheError('VerifyError', `attribute '${name}' must be ${spec.kind}, got ${a.kind}`);
    }
  }
  for (const name of Object.keys(node.attrs)) {
    if (!def.attrs[name]) {
      const known = Object.keys(def.attrs);
      throw new LatheError(
        'VerifyError',
        `unknown attribute '${name}' (${known.length ? `known: ${known.join(', ')}` : 'the op takes none'})`,
      );
    }
  }
}

function arityText(a: { min: number; max: number }): string {
  if (a.min === a.max) return String(a.min);
  if (a.max === Infinity) return `at least ${a.min}`;
  return `${a.min} to ${a.max}`;
}

function makeContext(state: State, node: Node, scope: Scope, refined: Map<Attr, Graph[]>): InferContext {
  const binding = (i: number): Binding | undefined => {
    const name = node.inputs[i];
    if (name === null || name === undefined) return undefined;
    const b = scope.get(name);
    if (!b) throw new LatheError('VerifyError', `operand '${name}' is not defined before its use`, { value: name });
    return b;
  };
  const ctx: InferContext = {
    node,
    opset: state.model.opsets[node.domain || ONNX_DOMAIN] ?? 1,
    numInputs: node.inputs.length,
    numOutputs: node.outputs.length,
    has: (i) => i < node.inputs.length && node.inputs[i] !== null && node.inputs[i] !== '',
    type: (i) => {
      const b = binding(i);
      if (!b) throw new LatheError('VerifyError', `operand ${i} is required but omitted`);
      return b.type;
    },
    tensor: (i) => {
      const t = ctx.type(i);
      if (t.kind !== 'tensor') {
        throw new LatheError('ShapeError', `operand ${i} ('${node.inputs[i]}') must be a tensor, got ${typeToString(t)}`);
      }
      return t;
    },
    // checkSignature has already matched every present attribute to its spec.
    ...attrReader(node),
    constant: (i) => binding(i)?.constant,
    values: (i) => binding(i)?.values,
    subgraph: (attrName, inputTypes) => {
      const a = node.attrs[attrName];
      if (!a || a.kind !== 'graph') throw new LatheError('VerifyError', `missing graph attribute '${attrName}'`);
      const { graph, outputTypes } = inferGraph(state, a.value, new Scope(scope), inputTypes);
      refined.set(a, [graph]);
      return outputTypes;
    },
    fail: (message) => {
      throw new LatheError('ShapeError', message);
    },
    freshDim: (hint) => `${hint}_${state.symbolCount++}`,
  };
  return ctx;
}

function rebuildAttrs(node: Node, refined: Map<Attr, Graph[]>): Node['attrs'] {
  if (refined.size === 0) return node.attrs;
  const out: Record<string, Attr> = {};
  for (const [name, a] of Object.entries(node.attrs)) {
    const gs = refined.get(a);
    out[name] = gs && a.kind === 'graph' ? { kind: 'graph', value: gs[0]! } : a;
  }
  return out;
}

/** Contents of a small integer constant (≤ 64 elements), for shape arithmetic. */
function smallIntValues(t: ConstTensor): readonly Dim[] | undefined {
  if (t.shape.length > 1) return undefined;
  const n = t.shape.length === 0 ? 1 : t.shape[0]!;
  if (n > 64) return undefined;
  if (t.dtype !== 'i64' && t.dtype !== 'i32') return undefined;
  const b = tensorBytes(t);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(t.dtype === 'i64' ? Number(view.getBigInt64(i * 8, true)) : view.getInt32(i * 4, true));
  }
  return out;
}
