// Specialization: bind a model's symbolic dims (`batch`, `seq`) to sizes and re-infer, so every
// value has a static shape before lowering (the WGSL and CUDA kernels are emitted for concrete
// sizes). Sizes come from the input shapes the model will run with, or from explicit bindings.
import { LatheError } from '../../ir/errors.ts';
import type { Graph, Model, Node, Value } from '../../ir/graph.ts';
import { ONNX_DOMAIN, qualifiedOp, subgraphsOf } from '../../ir/graph.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { toConst } from '../../ir/interp/tensor.ts';
import type { ConstTensor } from '../../ir/tensor-data.ts';
import { numElements } from '../../ir/types.ts';
import { inferModel } from '../../ir/infer.ts';
import type { Dim, ValueType } from '../../ir/types.ts';
import { dimToString, typeToString } from '../../ir/types.ts';

export interface SpecializeOptions {
  /** Concrete shapes of the graph's inputs, by name or by position. */
  inputShapes?: ReadonlyMap<string, readonly number[]> | readonly (readonly number[] | undefined)[];
  /** Explicit sizes of symbols (`{ batch: 1, seq: 128 }`); must agree with inputShapes. */
  dims?: Readonly<Record<string, number>>;
  /**
   * Inputs compiled as constants of these values (see valueInputs): the program no longer takes
   * them, and is right only for these values.
   */
  inputValues?: ReadonlyMap<string, ConstTensor>;
  file?: string;
}

/**
 * Operands whose values decide a result's shape or an op's behaviour (Slice's starts, Reshape's
 * shape, a reduction's axes, ...): the kernels need them when compiling. By op, ONNX domain.
 */
const VALUE_OPERANDS: Readonly<Record<string, readonly number[]>> = {
  Slice: [1, 2, 3, 4], Pad: [1, 2, 3], Dropout: [1, 2], Range: [0, 1, 2], TopK: [1], Reshape: [1], Expand: [1],
  Tile: [1], ConstantOfShape: [0], Squeeze: [1], Unsqueeze: [1], Resize: [1, 2, 3], Upsample: [1], OneHot: [1],
  Split: [1], CenterCropPad: [1], DFT: [1, 2], STFT: [1, 3], Trilu: [1], CumSum: [1],
  BlackmanWindow: [0], HannWindow: [0], HammingWindow: [0], MelWeightMatrix: [0, 1, 2, 3, 4],
  ReduceSum: [1], ReduceMean: [1], ReduceMax: [1], ReduceMin: [1], ReduceProd: [1], ReduceL1: [1], ReduceL2: [1],
  ReduceLogSum: [1], ReduceLogSumExp: [1], ReduceSumSquare: [1],
};

/** At most this many elements: a value operand is a handful of integers, never a data tensor. */
const VALUE_INPUT_LIMIT = 64;

/**
 * The graph inputs a run can compile as constants: small tensors used only as value operands
 * (VALUE_OPERANDS), such as a Slice's starts fed as an input. `lathe run --target wgsl` and
 * conformance compile for each data set, so they bake these inputs' values (specialize's
 * inputValues) as they bake input shapes. Inputs read inside subgraphs are never baked.
 */
export function valueInputs(model: Model, inputs: readonly Tensor[]): Map<string, ConstTensor> {
  const g = model.graph;
  const uses = new Map<string, boolean>(); // input → every use is a value operand
  const inSubgraph = new Set<string>();
  const visitSub = (graph: Graph) => {
    for (const n of graph.nodes) {
      for (const i of n.inputs) if (i) inSubgraph.add(i);
      for (const sg of subgraphsOf(n)) visitSub(sg.graph);
    }
  };
  for (const n of g.nodes) {
    const positions = (n.domain || ONNX_DOMAIN) === ONNX_DOMAIN ? VALUE_OPERANDS[n.op] : undefined;
    n.inputs.forEach((name, i) => {
      if (!name) return;
      uses.set(name, (uses.get(name) ?? true) && !!positions?.includes(i));
    });
    for (const sg of subgraphsOf(n)) visitSub(sg.graph);
  }
  const baked = new Map<string, ConstTensor>();
  g.inputs.forEach((v, i) => {
    const t = inputs[i];
    if (!t || !uses.get(v.name) || inSubgraph.has(v.name) || g.outputs.includes(v.name)) return;
    if (Array.isArray(t.data) || numElements(t.shape) > VALUE_INPUT_LIMIT) return;
    baked.set(v.name, toConst(t));
  });
  return baked;
}

/** The model with every symbol bound and every tensor shape static; throws naming what is not. */
export function specialize(model: Model, options: SpecializeOptions = {}): Model {
  const g = bakeInputs(model.graph, options.inputValues);
  const sizes = new Map<string, { size: number; from: string }>(Object.entries(options.dims ?? {}).map(([k, v]) => [k, { size: v, from: 'dims' }]));
  const given = new Map<string, readonly number[]>();
  const shapes = options.inputShapes;
  if (shapes instanceof Map) {
    for (const [name, s] of shapes) {
      if (!model.graph.inputs.some((v) => v.name === name)) {
        throw new LatheError('UsageError', `the model has no input '${name}' (inputs: ${model.graph.inputs.map((v) => v.name).join(', ')})`);
      }
      given.set(name, s);
    }
  } else if (shapes) {
    (shapes as readonly (readonly number[] | undefined)[]).forEach((s, i) => {
      if (s && model.graph.inputs[i]) given.set(model.graph.inputs[i]!.name, s);
    });
  }

  // Bind symbols from the given input shapes; a known size must match, a symbol bound twice must agree.
  const inputs: Value[] = g.inputs.map((v) => {
    const shape = given.get(v.name);
    if (!shape) return v;
    if (v.type.kind !== 'tensor') throw new LatheError('UnsupportedType', `input '${v.name}' is ${typeToString(v.type)}, not a tensor`, { value: v.name });
    const decl = v.type.shape;
    if (decl && decl.length !== shape.length) {
      throw new LatheError('ShapeError', `input '${v.name}' is ${typeToString(v.type)} but was given shape [${shape.join(', ')}]`, { value: v.name });
    }
    decl?.forEach((d, i) => {
      const n = shape[i]!;
      if (typeof d === 'number' && d !== n) {
        throw new LatheError('ShapeError', `input '${v.name}' is ${typeToString(v.type)} but was given shape [${shape.join(', ')}] (dim ${i})`, { value: v.name });
      }
      if (typeof d === 'string') {
        const prev = sizes.get(d);
        if (prev && prev.size !== n) {
          throw new LatheError('ShapeError', `symbol '${d}' is ${prev.size} (from ${prev.from}) but ${n} in input '${v.name}'`, { value: v.name });
        }
        sizes.set(d, { size: n, from: `input '${v.name}'` });
      }
    });
    return { name: v.name, type: { kind: 'tensor', dtype: v.type.dtype, shape: [...shape] } };
  });

  const bind = (t: ValueType): ValueType => {
    if (t.kind !== 'tensor') return { ...t, elem: bind(t.elem) } as ValueType;
    if (!t.shape) return t;
    return { ...t, shape: t.shape.map((d: Dim) => (typeof d === 'string' && sizes.has(d) ? sizes.get(d)!.size : d)) };
  };
  const bound: Graph = {
    ...g,
    inputs: inputs.map((v) => ({ name: v.name, type: bind(v.type) })),
    nodes: g.nodes.map((n) => ({ ...n, outputs: n.outputs.map((o) => (o ? { name: o.name, type: bind(o.type) } : o)) })),
  };
  const out = inferModel({ ...model, graph: bound }, { mode: 'refine', file: options.file });
  checkStatic(out.graph, options.file);
  return out;
}

/** The graph with the given inputs turned into constants of their values. */
function bakeInputs(g: Graph, values: ReadonlyMap<string, ConstTensor> | undefined): Graph {
  if (!values?.size) return g;
  for (const name of values.keys()) {
    if (!g.inputs.some((v) => v.name === name)) throw new LatheError('UsageError', `the model has no input '${name}' to compile as a constant`);
  }
  return {
    ...g,
    inputs: g.inputs.filter((v) => !values.has(v.name)),
    constants: [...g.constants, ...[...values].map(([name, tensor]) => ({ name, tensor }))],
  };
}

/** Every input and node result of the graph has a static tensor shape, or a LatheError says which not. */
export function checkStatic(g: Graph, file?: string): void {
  for (const v of g.inputs) {
    const why = notStatic(v.type);
    if (why) {
      throw new LatheError('ShapeError', `input '${v.name}' is ${typeToString(v.type)}: ${why}; give its shape (or the sizes of its symbols) to compile it`, {
        file,
        value: v.name,
      });
    }
  }
  for (const n of g.nodes) {
    for (const o of n.outputs) {
      if (!o) continue;
      const why = notStatic(o.type);
      if (why) {
        throw new LatheError('ShapeError', `result '${o.name}' stays ${typeToString(o.type)} after specialization: ${why}`, where(n, o, file));
      }
    }
  }
}

function where(n: Node, o: Value, file?: string) {
  return { file, node: n.name, op: qualifiedOp(n), value: o.name };
}

function notStatic(t: ValueType): string | undefined {
  if (t.kind !== 'tensor') return `a ${t.kind} is not a tensor`;
  if (t.shape === null) return 'its rank is unknown';
  const bad = t.shape.filter((d) => typeof d !== 'number');
  if (bad.length) return `dims ${bad.map(dimToString).join(', ')} are not known`;
  return undefined;
}
