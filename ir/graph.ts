// The graph data model. Plain, immutable objects (readonly everywhere) so passes can edit them
// with immer's `produce` and a pass that throws leaves its input untouched.
//
// Values are named SSA values: each name is defined exactly once in a graph and the graphs nested
// in it (a subgraph may read values of the scopes around it, as ONNX allows, but may not redefine
// them). Nodes are kept in topological order.
import type { DType } from './dtype.ts';
import type { ConstTensor } from './tensor-data.ts';
import type { ValueType } from './types.ts';

/** A named, typed SSA value. */
export interface Value {
  readonly name: string;
  readonly type: ValueType;
}

/** Attribute values, typed as ONNX's AttributeProto kinds. */
export type Attr =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'tensor'; readonly value: ConstTensor }
  | { readonly kind: 'graph'; readonly value: Graph }
  | { readonly kind: 'type'; readonly value: ValueType }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'strings'; readonly value: readonly string[] }
  | { readonly kind: 'tensors'; readonly value: readonly ConstTensor[] }
  | { readonly kind: 'graphs'; readonly value: readonly Graph[] }
  | { readonly kind: 'types'; readonly value: readonly ValueType[] };

export type AttrKind = Attr['kind'];
export type Attrs = Readonly<Record<string, Attr>>;

/** One operation. */
export interface Node {
  /** Node name (from ONNX, or generated); unique within its graph, used in messages. */
  readonly name: string;
  /** Op name within its domain, e.g. `MatMul`. */
  readonly op: string;
  /** Op domain: `ai.onnx` for the ONNX default domain, `lathe` for lathe's own ops. */
  readonly domain: string;
  /** Operand value names; `null` marks an omitted optional input. */
  readonly inputs: readonly (string | null)[];
  /** Results; `null` marks an omitted optional output. */
  readonly outputs: readonly (Value | null)[];
  readonly attrs: Attrs;
}

/** A constant bound to a value name (an ONNX initializer or a folded Constant node). */
export interface Constant {
  readonly name: string;
  readonly tensor: ConstTensor;
}

export interface Graph {
  readonly name: string;
  readonly inputs: readonly Value[];
  /**
   * Constants visible in this graph. An ONNX initializer that is also a graph input (an
   * overridable default) stays a graph input; its default lives in `inputDefaults`.
   */
  readonly constants: readonly Constant[];
  readonly nodes: readonly Node[];
  /** Names of the values the graph returns (any value in scope). */
  readonly outputs: readonly string[];
  /** Defaults for graph inputs that ONNX also lists as initializers. */
  readonly inputDefaults?: readonly Constant[];
}

/** A whole program: the main graph plus the opset versions its ops are read at. */
export interface Model {
  readonly graph: Graph;
  /** Domain → opset version, e.g. `{ 'ai.onnx': 17 }`. */
  readonly opsets: Readonly<Record<string, number>>;
  /** Where the model came from (the ONNX producer), kept for `lathe info`. */
  readonly producer?: string;
}

export const ONNX_DOMAIN = 'ai.onnx';
export const LATHE_DOMAIN = 'lathe';

/** `onnx.MatMul`, `lathe.Attention`, `ml.LabelEncoder`: the printed, fully qualified op name. */
export function qualifiedOp(node: Pick<Node, 'op' | 'domain'>): string {
  return `${domainPrefix(node.domain)}.${node.op}`;
}

/** Short prefix of a domain in text: ai.onnx → onnx, ai.onnx.ml → ml, others as written. */
export function domainPrefix(domain: string): string {
  if (domain === ONNX_DOMAIN || domain === '') return 'onnx';
  if (domain === 'ai.onnx.ml') return 'onnx_ml';
  return domain;
}

export function domainFromPrefix(prefix: string): string {
  if (prefix === 'onnx') return ONNX_DOMAIN;
  if (prefix === 'onnx_ml') return 'ai.onnx.ml';
  return prefix;
}

/** The subgraphs held in a node's attributes, with the attribute they hang from. */
export function subgraphsOf(node: Node): { attr: string; graph: Graph }[] {
  const out: { attr: string; graph: Graph }[] = [];
  for (const [attr, a] of Object.entries(node.attrs)) {
    if (a.kind === 'graph') out.push({ attr, graph: a.value });
    else if (a.kind === 'graphs') for (const g of a.value) out.push({ attr, graph: g });
  }
  return out;
}

/** Every value a graph defines at its own level: inputs, constants, node outputs. */
export function definedValues(g: Graph): Value[] {
  const vals: Value[] = [...g.inputs];
  for (const c of g.constants) vals.push({ name: c.name, type: constType(c) });
  for (const n of g.nodes) for (const o of n.outputs) if (o) vals.push(o);
  return vals;
}

export function constType(c: Constant): ValueType {
  return { kind: 'tensor', dtype: c.tensor.dtype, shape: c.tensor.shape };
}

export type { DType };
