// What the attention matcher reads about one graph: producers (here and in the graphs around
// it), how often each value is read, types, and the contents of constants. Built once per graph
// per run of fuse-attention; the graph is not edited while a view of it is in use.
import { isFloat } from '../ir/dtype.ts';
import type { Graph, Node } from '../ir/graph.ts';
import { ONNX_DOMAIN } from '../ir/graph.ts';
import { fromConst, toF64 } from '../ir/interp/tensor.ts';
import type { ConstTensor } from '../ir/tensor-data.ts';
import type { Dim, TensorType } from '../ir/types.ts';
import { numElements } from '../ir/types.ts';
import { Scope, useCounts } from './graph-edit.ts';

/** Constants larger than this are not decoded to look for a triangle (a 4096² mask is 16M). */
const MAX_DECODE = 1 << 24;

export class GraphView {
  readonly scope: Scope;
  private readonly here = new Map<string, Node>();
  private readonly counts: Map<string, number>;
  private readonly returned: Set<string>;
  private readonly decoded = new Map<string, { shape: readonly number[]; data: Float64Array } | null>();

  constructor(
    readonly graph: Graph,
    /** The ai.onnx opset of the model (Softmax's axis rule and Unsqueeze's axes depend on it). */
    readonly opset: number,
    readonly parent?: GraphView,
  ) {
    this.scope = new Scope(graph, parent?.scope);
    for (const n of graph.nodes) for (const o of n.outputs) if (o) this.here.set(o.name, n);
    this.counts = useCounts(graph);
    this.returned = new Set(graph.outputs);
  }

  /** The node defining `name` in this graph or a graph around it. */
  producer(name: string): Node | undefined {
    return this.here.get(name) ?? this.parent?.producer(name);
  }

  /** The node defining `name` in this very graph: only these may be removed. */
  producerHere(name: string): Node | undefined {
    return this.here.get(name);
  }

  /** Reads of `name` at this level: operand slots, subgraphs reading it, returns. */
  uses(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  /** Whether `name` is read exactly once here, and not returned by the graph. */
  usedOnce(name: string): boolean {
    return this.uses(name) === 1 && !this.returned.has(name);
  }

  /** The nodes of this graph reading `name` as an operand. */
  consumers(name: string): Node[] {
    return this.graph.nodes.filter((n) => n.inputs.includes(name));
  }

  tensorType(name: string): TensorType | undefined {
    const t = this.scope.type(name);
    return t?.kind === 'tensor' ? t : undefined;
  }

  shape(name: string): readonly Dim[] | undefined {
    return this.tensorType(name)?.shape ?? undefined;
  }

  rank(name: string): number | undefined {
    return this.shape(name)?.length;
  }

  /** A constant's elements as f64 with its shape (undefined for non-constants and huge ones). */
  constant(name: string): { shape: readonly number[]; data: Float64Array } | undefined {
    if (this.decoded.has(name)) return this.decoded.get(name) ?? undefined;
    const c = this.scope.constant(name);
    let out: { shape: readonly number[]; data: Float64Array } | null = null;
    if (c && c.dtype !== 'string' && numElements(c.shape) <= MAX_DECODE) {
      const t = fromConst(c);
      out = { shape: t.shape, data: toF64(t) };
    }
    this.decoded.set(name, out);
    return out ?? undefined;
  }

  /** A tensor attribute's elements as f64 (undefined when huge or strings). */
  decode(c: ConstTensor): Float64Array | undefined {
    if (c.dtype === 'string' || numElements(c.shape) > MAX_DECODE) return undefined;
    return toF64(fromConst(c));
  }

  /** A constant integer list (Slice starts, Unsqueeze axes, …), else undefined. */
  ints(name: string | null | undefined): number[] | undefined {
    if (!name) return undefined;
    const c = this.constant(name);
    return c && c.data.length <= 64 ? Array.from(c.data) : undefined;
  }
}

/** Whether `n` is the ONNX op `op`. */
export function isOnnx(n: Node | undefined, op: string): n is Node {
  return n !== undefined && n.op === op && (n.domain === ONNX_DOMAIN || n.domain === '');
}

/** Two dims known to be equal: the same size, or the same symbol. */
export function sameDim(a: Dim | undefined, b: Dim | undefined): boolean {
  return a !== null && a !== undefined && a === b;
}

/**
 * The value of a scalar computed from constants only (one element): a constant, or Sqrt,
 * Reciprocal, Neg, Cast, Identity of one, or a Mul/Div/Add/Sub of two. `1/sqrt(d)` written as
 * `Div(1, Sqrt(d))` is still recognised when nothing folded it first.
 */
export function scalarConstant(view: GraphView, name: string, depth = 4): number | undefined {
  const c = view.constant(name);
  if (c) return c.data.length === 1 ? c.data[0] : undefined;
  const n = view.producer(name);
  if (!n || depth === 0 || !(n.domain === ONNX_DOMAIN || n.domain === '')) return undefined;
  const arg = (i: number) => (n.inputs[i] ? scalarConstant(view, n.inputs[i]!, depth - 1) : undefined);
  const a = arg(0);
  if (a === undefined) return undefined;
  switch (n.op) {
    case 'Identity': return a;
    case 'Sqrt': return Math.sqrt(a);
    case 'Reciprocal': return 1 / a;
    case 'Neg': return -a;
    case 'Cast': return n.outputs[0] && isFloat(view.tensorType(n.outputs[0].name)?.dtype ?? 'f32') ? a : Math.trunc(a);
  }
  const b = arg(1);
  if (b === undefined) return undefined;
  switch (n.op) {
    case 'Mul': return a * b;
    case 'Div': return a / b;
    case 'Add': return a + b;
    case 'Sub': return a - b;
  }
  return undefined;
}
