// Specialization: bind a model's symbolic dims (`batch`, `seq`) to sizes and re-infer, so every
// value has a static shape before lowering (the WGSL and CUDA kernels are emitted for concrete
// sizes). Sizes come from the input shapes the model will run with, or from explicit bindings.
import { LatheError } from '../../ir/errors.ts';
import type { Graph, Model, Node, Value } from '../../ir/graph.ts';
import { qualifiedOp } from '../../ir/graph.ts';
import { inferModel } from '../../ir/infer.ts';
import type { Dim, ValueType } from '../../ir/types.ts';
import { dimToString, typeToString } from '../../ir/types.ts';

export interface SpecializeOptions {
  /** Concrete shapes of the graph's inputs, by name or by position. */
  inputShapes?: ReadonlyMap<string, readonly number[]> | readonly (readonly number[] | undefined)[];
  /** Explicit sizes of symbols (`{ batch: 1, seq: 128 }`); must agree with inputShapes. */
  dims?: Readonly<Record<string, number>>;
  file?: string;
}

/** The model with every symbol bound and every tensor shape static; throws naming what is not. */
export function specialize(model: Model, options: SpecializeOptions = {}): Model {
  const g = model.graph;
  const sizes = new Map<string, { size: number; from: string }>(Object.entries(options.dims ?? {}).map(([k, v]) => [k, { size: v, from: 'dims' }]));
  const given = new Map<string, readonly number[]>();
  const shapes = options.inputShapes;
  if (shapes instanceof Map) {
    for (const [name, s] of shapes) {
      if (!g.inputs.some((v) => v.name === name)) {
        throw new LatheError('UsageError', `the model has no input '${name}' (inputs: ${g.inputs.map((v) => v.name).join(', ')})`);
      }
      given.set(name, s);
    }
  } else if (shapes) {
    (shapes as readonly (readonly number[] | undefined)[]).forEach((s, i) => {
      if (s && g.inputs[i]) given.set(g.inputs[i]!.name, s);
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
