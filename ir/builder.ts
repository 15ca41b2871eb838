// A builder for writing graphs in code (tests, passes, examples):
//
//   const b = new GraphBuilder('mlp');
//   const x = b.input('x', tensor('f32', ['batch', 64]));
//   const w = b.constant('w', f32Tensor([64, 32], weights));
//   const y = b.op('Relu', [b.op('MatMul', [x, w])]);
//   const model = b.returns(y).model();      // types inferred and checked here
//
// Attributes are plain JS values; their ONNX kind comes from the op's declaration, so
// `{ alpha: 1 }` is a float where the op says so.
import type { Attr, Attrs, Constant, Graph, Model, Node, Value } from './graph.ts';
import { ONNX_DOMAIN } from './graph.ts';
import { inferModel, PLACEHOLDER } from './infer.ts';
import { lookupOp } from './op.ts';
import './ops/index.ts';
import type { ConstTensor } from './tensor-data.ts';
import type { ValueType } from './types.ts';
import { LatheError } from './errors.ts';

export type AttrInput = number | string | readonly number[] | readonly string[] | Graph | Attr;

export interface OpOptions {
  domain?: string;
  /** Number of results (default 1). */
  results?: number;
  /** Node name (default `<op>_<n>`). */
  name?: string;
}

export class GraphBuilder {
  private readonly inputs: Value[] = [];
  private readonly constants: Constant[] = [];
  private readonly nodes: Node[] = [];
  private outputs: string[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(readonly name = 'main', readonly opsets: Record<string, number> = { [ONNX_DOMAIN]: 17 }) {}

  input(name: string, type: ValueType): string {
    this.inputs.push({ name: this.claim(name), type });
    return name;
  }

  constant(name: string, tensor: ConstTensor): string {
    this.constants.push({ name: this.claim(name), tensor });
    return name;
  }

  /** Add a node with one result; returns the result's name. */
  op(op: string, inputs: readonly (string | null)[], attrs: Record<string, AttrInput> = {}, options: OpOptions = {}): string {
    return this.opN(op, inputs, attrs, { ...options, results: options.results ?? 1 })[0]!;
  }

  /** Add a node with several results; returns their names. */
  opN(op: string, inputs: readonly (string | null)[], attrs: Record<string, AttrInput> = {}, options: OpOptions = {}): string[] {
    const domain = options.domain ?? ONNX_DOMAIN;
    const name = options.name ?? `${op}_${this.counter++}`;
    const outs = Array.from({ length: options.results ?? 1 }, () => this.fresh(op.toLowerCase()));
    this.nodes.push({
      name,
      op,
      domain,
      inputs: [...inputs],
      outputs: outs.map((o) => ({ name: o, type: PLACEHOLDER })),
      attrs: toAttrs(domain, op, attrs),
    });
    return outs;
  }

  returns(...names: string[]): this {
    this.outputs = names;
    return this;
  }

  /** The graph with every result type inferred (as a subgraph it sees `outerTypes` too). */
  graph(): Graph {
    return inferModel(this.rawModel(), { mode: 'refine' }).graph;
  }

  /** The graph without inference, for use as a subgraph of another builder's node. */
  subgraph(): Graph {
    return this.rawModel().graph;
  }

  model(): Model {
    return inferModel(this.rawModel(), { mode: 'refine' });
  }

  private rawModel(): Model {
    return {
      graph: { name: this.name, inputs: this.inputs, constants: this.constants, nodes: this.nodes, outputs: this.outputs },
      opsets: this.opsets,
    };
  }

  private claim(name: string): string {
    if (this.used.has(name)) throw new LatheError('VerifyError', `builder: value '${name}' is defined twice`, { value: name });
    this.used.add(name);
    return name;
  }

  private fresh(hint: string): string {
    let n = this.used.size;
    while (this.used.has(`${hint}${n}`)) n++;
    return this.claim(`${hint}${n}`);
  }
}

function toAttrs(domain: string, op: string, given: Record<string, AttrInput>): Attrs {
  const def = lookupOp(domain, op);
  const out: Record<string, Attr> = {};
  for (const [name, v] of Object.entries(given)) {
    const kind = def?.attrs[name]?.kind;
    out[name] = toAttr(v, kind, `${op}.${name}`);
  }
  return out;
}

function isAttr(v: AttrInput): v is Attr {
  return typeof v === 'object' && v !== null && 'kind' in v && 'value' in v;
}

function toAttr(v: AttrInput, kind: Attr['kind'] | undefined, what: string): Attr {
  if (isAttr(v)) return v;
  if (typeof v === 'number') return kind === 'float' || (kind === undefined && !Number.isInteger(v)) ? { kind: 'float', value: v } : { kind: 'int', value: v };
  if (typeof v === 'string') return { kind: 'string', value: v };
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string')) return { kind: 'strings', value: v as string[] };
    const nums = v as number[];
    const asFloat = kind === 'floats' || (kind === undefined && nums.some((x) => !Number.isInteger(x)));
    return asFloat ? { kind: 'floats', value: nums } : { kind: 'ints', value: nums };
  }
  if (typeof v === 'object' && v !== null && 'nodes' in v) return { kind: 'graph', value: v as Graph };
  throw new LatheError('VerifyError', `builder: cannot make attribute ${what} from ${JSON.stringify(v)}`);
}
