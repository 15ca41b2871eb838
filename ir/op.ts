// The op registry. Every op is declared once, as data plus an inference function: its domain and
// name, operand and result arity, typed attributes with defaults, type/shape inference (symbolic
// where shapes are), optional propagation of small integer "shape values", and extra verifier
// rules. The importer, the verifier, the printer's type checks and later the interpreter and the
// backends all read ops from here.
import type { DType } from './dtype.ts';
import type { AttrReader } from './attr-reader.ts';
import { LatheError } from './errors.ts';
import type { Attr, AttrKind, Graph, Node } from './graph.ts';
import { ONNX_DOMAIN } from './graph.ts';
import type { ConstTensor } from './tensor-data.ts';
import type { Dim, TensorType, ValueType } from './types.ts';

export interface AttrSpec {
  readonly kind: AttrKind;
  /** Required attributes must be present; others may be absent (and read with a default). */
  readonly required?: boolean;
  /** Other kinds an older opset gave the same attribute (Cast-1..5 wrote `to` as a string). */
  readonly legacyKinds?: readonly AttrKind[];
}

export interface Arity {
  readonly min: number;
  /** `Infinity` for variadic. */
  readonly max: number;
}

/**
 * What an op's inference function sees: the node, its operand types, its attributes, the known
 * contents of constant or shape-valued operands, and a way to infer its subgraphs.
 */
/** Attribute accessors (AttrReader): a missing attribute returns the default, or fails if none. */
export interface InferContext extends AttrReader {
  readonly node: Node;
  /** The opset version of the node's domain in this model. */
  readonly opset: number;
  readonly numInputs: number;
  readonly numOutputs: number;
  /** Whether operand i is present (not omitted and within range). */
  has(i: number): boolean;
  /** The type of operand i (it must be present). */
  type(i: number): ValueType;
  /** The tensor type of operand i; a clear error if it is a sequence or optional. */
  tensor(i: number): TensorType;
  /** The constant operand i, when it is a constant (initializer or folded). */
  constant(i: number): ConstTensor | undefined;
  /**
   * The contents of a small integer operand when known, element by element: a number, a symbol
   * (e.g. the `batch` dim that Shape produced), or null where that element is unknown.
   * Undefined when nothing is known (not even the length).
   */
  values(i: number): readonly Dim[] | undefined;
  /** Infer a subgraph held in attribute `attr` with the given input types; its output types. */
  subgraph(attr: string, inputTypes: readonly ValueType[]): ValueType[];
  /** Throw a ShapeError naming this node. */
  fail(message: string): never;
  /** A fresh symbol for a data-dependent dim (e.g. NonZero's count). */
  freshDim(hint: string): string;
}

export interface OpDef {
  readonly domain: string;
  readonly name: string;
  /** One-line description, shown by `lathe ops`. */
  readonly summary?: string;
  readonly inputs: Arity;
  readonly outputs: Arity;
  readonly attrs: Readonly<Record<string, AttrSpec>>;
  /** Result types, one per result the node has (omitted optional results may be skipped). */
  infer(ctx: InferContext): ValueType[];
  /** Known contents of result 0 when it is a small integer tensor (shape arithmetic). */
  values?(ctx: InferContext): readonly Dim[] | undefined;
}

const registry = new Map<string, OpDef>();
const key = (domain: string, name: string) => `${domain}::${name}`;

export function defineOp(def: OpDef): OpDef {
  const k = key(def.domain, def.name);
  if (registry.has(k)) throw new Error(`op ${def.domain}.${def.name} is declared twice`);
  registry.set(k, def);
  return def;
}

export function lookupOp(domain: string, name: string): OpDef | undefined {
  return registry.get(key(domain === '' ? ONNX_DOMAIN : domain, name));
}

export function allOps(): OpDef[] {
  return [...registry.values()].sort((a, b) => key(a.domain, a.name).localeCompare(key(b.domain, b.name)));
}

export function knownDomains(): string[] {
  return [...new Set([...registry.values()].map((d) => d.domain))].sort();
}

/** Fail with UnsupportedOp, naming the op, the node and what the registry does support. */
export function unsupportedOp(node: Node): never {
  const inDomain = allOps().filter((d) => d.domain === (node.domain || ONNX_DOMAIN));
  const hint = inDomain.length
    ? `supported ${node.domain} ops: ${inDomain.map((d) => d.name).join(', ')}`
    : `unknown domain '${node.domain}'; supported domains: ${knownDomains().join(', ')}`;
  throw new LatheError('UnsupportedOp', `op ${node.domain}.${node.op} is not supported (${hint})`, {
    node: node.name,
    op: node.op,
  });
}

export const exactly = (n: number): Arity => ({ min: n, max: n });
export const between = (min: number, max: number): Arity => ({ min, max });
export const atLeast = (min: number): Arity => ({ min, max: Infinity });

export type { DType, Graph };
