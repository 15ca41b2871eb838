// The lowering driver shared by the WGSL and CUDA backends. A specialized graph (every shape
// static) is walked node by node; each node is (1) folded by the reference interpreter when its
// operands are constants and its results small, (2) folded by a backend rule (Constant, Shape), or
// (3) lowered by the backend's registered lowering into kernels or an alias (a result that is an
// operand's bytes seen with another shape). No lowering is an UnsupportedOp error naming the node:
// there is no CPU fallback. The kernels' bindings then give the buffer plan (liveness reuse).
// Each backend supplies its storage types, its registry and its kernel type; the walk, the
// checks and the plan are the same.
import type { AttrReader } from '../ir/attr-reader.ts';
import { attrReader } from '../ir/attr-reader.ts';
import type { DType } from '../ir/dtype.ts';
import { LatheError } from '../ir/errors.ts';
import type { Graph, Model, Node } from '../ir/graph.ts';
import { ONNX_DOMAIN, qualifiedOp, subgraphsOf } from '../ir/graph.ts';
import { runModel } from '../ir/interp/run.ts';
import type { Tensor } from '../ir/interp/tensor.ts';
import { toConst } from '../ir/interp/tensor.ts';
import type { ConstTensor } from '../ir/tensor-data.ts';
import { numElements, typeToString } from '../ir/types.ts';
import type { BufferPlan, PlanRole, PlanValue } from './plan.ts';
import { planBuffers } from './plan.ts';

/** A statically shaped tensor operand or result. */
export interface StaticTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/** A buffer a kernel reads or writes: a graph value, or scratch named by the kernel. */
export interface CoreBinding {
  readonly value: string;
  readonly access: 'read' | 'read_write';
  /** The storage element the kernel sees; must be the value's storage element. */
  readonly elem: string;
  /** For a scratch buffer (no graph value): its size in bytes. */
  readonly scratchBytes?: number;
}

export interface CoreKernel {
  readonly name: string;
  readonly bindings: readonly CoreBinding[];
}

export interface CoreContext<Caps> extends AttrReader {
  readonly node: Node;
  readonly opset: number;
  readonly caps: Caps;
  /** Operand i, or undefined where it is omitted. */
  input(i: number): StaticTensor | undefined;
  /** Result i, or undefined where it is omitted. */
  output(i: number): StaticTensor | undefined;
  /** Operand i's contents when it is a constant (weights, shape operands). */
  constant(i: number): ConstTensor | undefined;
  /** A kernel name unique in the program: `<node>/<what>`. */
  kernelName(what: string): string;
  /** Throw an UnsupportedOp error naming this node and op (no silent CPU fallback). */
  unsupported(why: string): never;
}

/** Result i is operand `input`'s buffer (same bytes, maybe another shape). */
export interface Alias {
  readonly alias: { readonly output: number; readonly input: number }[];
}

/** Results known when compiling, uploaded like weights (no kernel runs). */
export interface Folded {
  readonly folded: { readonly output: number; readonly tensor: ConstTensor }[];
}

export function isAlias(r: unknown[] | Alias | Folded): r is Alias {
  return !Array.isArray(r) && 'alias' in r;
}

export function isFolded(r: unknown[] | Alias | Folded): r is Folded {
  return !Array.isArray(r) && 'folded' in r;
}

/** A tensor value as a program stores it. */
export interface CoreTensor<E extends string> {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Element type in its buffer. */
  readonly elem: E;
  /** Bytes of its elements in the buffer. */
  readonly bytes: number;
}

export interface CoreProgram<K, Caps, E extends string> {
  readonly caps: Caps;
  readonly inputs: readonly CoreTensor<E>[];
  /** Graph outputs, in order (an output may be an alias of an input or a constant). */
  readonly outputs: readonly CoreTensor<E>[];
  /** Every value the program stores or aliases, by name (scratch buffers too). */
  readonly values: ReadonlyMap<string, CoreTensor<E>>;
  /** Kernels in launch order. */
  readonly kernels: readonly K[];
  /** Constants the kernels or outputs read (weights, folded Constant nodes), uploaded once. */
  readonly constants: readonly { readonly name: string; readonly tensor: ConstTensor }[];
  /** Value → the value whose buffer holds its bytes (resolved to the root). */
  readonly aliases: ReadonlyMap<string, string>;
  /** Buffers of the root values. */
  readonly plan: BufferPlan;
}

/** What a backend tells the driver. */
export interface BackendRules<K extends CoreKernel, Caps, E extends string> {
  /** 'WGSL' or 'CUDA', for messages. */
  readonly label: string;
  storageElem(dtype: DType): E | undefined;
  elemBytes(elem: E): number;
  /** A value stored otherwise than its dtype's storageElem (WGSL: u8 codes four to a u32 word),
   *  with its element type and bytes; undefined: the dtype's storage. */
  valueStorage?(name: string, dtype: DType, elements: number): { elem: E; bytes: number } | undefined;
  /** The dtype a scratch buffer of this element is recorded with. */
  scratchDtype(elem: E): DType;
  lookupFold(node: Node): ((ctx: CoreContext<Caps>) => Folded) | undefined;
  lookup(node: Node): ((ctx: CoreContext<Caps>) => K[] | Alias) | undefined;
  /** Buffer plan limits: the largest buffer one kernel may bind. */
  readonly maxBindingBytes?: number;
  readonly limitName?: string;
  /** Buffer sizes round up to this. */
  readonly alignment?: number;
}

export interface CoreOptions<Caps> {
  readonly caps: Caps;
  readonly file?: string;
  /**
   * Evaluate a node whose operands are all constants and whose results are small (at most this
   * many elements) with the reference interpreter while compiling, and upload its results as
   * constants: the shape arithmetic of exported models then costs no kernels. 0 turns it off.
   */
  readonly foldLimit?: number;
}

/** The buffer holding value `name` (through aliases). */
export function rootOf(p: { readonly aliases: ReadonlyMap<string, string> }, name: string): string {
  return p.aliases.get(name) ?? name;
}

/** Lower graph `g` (of `model`, prepared and static) with the backend's rules. */
export function lowerGraph<K extends CoreKernel, Caps, E extends string>(
  model: Model,
  g: Graph,
  rules: BackendRules<K, Caps, E>,
  options: CoreOptions<Caps>,
): CoreProgram<K, Caps, E> {
  const { caps, file } = options;
  const values = new Map<string, CoreTensor<E>>();
  const tensorOf = (name: string, dtype: DType, shape: readonly number[], where: { node?: string; op?: string }): CoreTensor<E> => {
    const special = rules.valueStorage?.(name, dtype, numElements(shape));
    if (special) return { name, dtype, shape, ...special };
    const elem = rules.storageElem(dtype);
    if (!elem) {
      throw new LatheError('UnsupportedType', `value '${name}' is ${dtype}, which the ${rules.label} backend cannot store`, { file, ...where, value: name });
    }
    return { name, dtype, shape, elem, bytes: numElements(shape) * rules.elemBytes(elem) };
  };
  const add = (t: CoreTensor<E>) => values.set(t.name, t);

  const graphConsts = new Map(g.constants.map((c) => [c.name, c.tensor]));
  for (const v of g.inputs) {
    if (v.type.kind !== 'tensor' || !v.type.shape) throw new LatheError('ShapeError', `input '${v.name}' is ${typeToString(v.type)}`, { file, value: v.name });
    add(tensorOf(v.name, v.type.dtype, v.type.shape as number[], {}));
  }
  const opset = (n: Node) => model.opsets[n.domain || ONNX_DOMAIN] ?? 1;
  const aliases = new Map<string, string>();
  const root = (name: string) => aliases.get(name) ?? name;
  const folded = new Map<string, ConstTensor>();
  const kernels: K[] = [];
  const kernelNames = new Set<string>();
  const constOf = (name: string | null | undefined): ConstTensor | undefined => {
    if (!name) return undefined;
    const c = folded.get(name) ?? graphConsts.get(name);
    if (c) return c;
    // An alias of a constant (a reshaped weight) is that constant seen with its own shape.
    const r = aliases.get(name);
    const rc = r === undefined ? undefined : (folded.get(r) ?? graphConsts.get(r));
    const t = values.get(name);
    return rc && t ? { ...rc, shape: t.shape } : undefined;
  };
  const staticOf = (name: string): StaticTensor | undefined => {
    const v = values.get(name);
    if (v) return { name, dtype: v.dtype, shape: v.shape };
    const c = constOf(name);
    return c ? { name, dtype: c.dtype, shape: c.shape } : undefined;
  };

  for (const node of g.nodes) {
    const where = { file, node: node.name, op: qualifiedOp(node) };
    const evaluated = foldByInterpreter(model, node, constOf, options.foldLimit ?? 4096, where);
    if (evaluated) {
      node.outputs.forEach((o, i) => {
        if (o) folded.set(o.name, evaluated[i]!);
      });
      continue;
    }
    for (const o of node.outputs) {
      if (!o) continue;
      if (o.type.kind !== 'tensor' || !o.type.shape) throw new LatheError('ShapeError', `result '${o.name}' is ${typeToString(o.type)}`, { ...where, value: o.name });
      add(tensorOf(o.name, o.type.dtype, o.type.shape as number[], where));
    }
    const lower = rules.lookupFold(node) ?? rules.lookup(node);
    if (!lower) {
      throw new LatheError('UnsupportedOp', `op ${qualifiedOp(node)} has no ${rules.label} lowering (lathe does not fall back to the CPU)`, where);
    }
    const ctx: CoreContext<Caps> = {
      node,
      opset: opset(node),
      caps,
      ...attrReader(node),
      input: (i) => {
        const name = node.inputs[i];
        if (!name) return undefined;
        const t = staticOf(name);
        if (!t) throw new LatheError('VerifyError', `operand '${name}' is not defined`, { ...where, value: name });
        return t;
      },
      output: (i) => {
        const o = node.outputs[i];
        return o ? staticOf(o.name) : undefined;
      },
      constant: (i) => constOf(node.inputs[i]),
      kernelName: (what) => {
        let name = `${node.name}/${what}`;
        for (let k = 2; kernelNames.has(name); k++) name = `${node.name}/${what}_${k}`;
        kernelNames.add(name);
        return name;
      },
      unsupported: (why) => {
        throw new LatheError('UnsupportedOp', `no ${rules.label} lowering for this case: ${why}`, where);
      },
    };
    let r: K[] | Alias | Folded;
    try {
      r = lower(ctx);
    } catch (e) {
      if (e instanceof LatheError) throw e.at(where);
      throw new LatheError('BackendError', `${rules.label} lowering failed: ${(e as Error).message}`, where);
    }
    if (isFolded(r)) {
      for (const { output, tensor } of r.folded) {
        const o = node.outputs[output];
        if (!o) continue;
        const t = values.get(o.name)!;
        if (tensor.dtype !== t.dtype || numElements(tensor.shape) !== numElements(t.shape)) {
          throw new LatheError('BackendError', `folded result '${o.name}' is ${tensor.dtype}[${tensor.shape.join(', ')}], its type ${t.dtype}[${t.shape.join(', ')}]`, where);
        }
        folded.set(o.name, { ...tensor, shape: t.shape });
      }
    } else if (isAlias(r)) {
      for (const { output, input } of r.alias) {
        const o = node.outputs[output];
        const i = node.inputs[input];
        if (!o || !i) throw new LatheError('BackendError', `alias of result ${output} to operand ${input}, one of which is omitted`, where);
        const src = values.get(o.name)!;
        const dst = staticOf(i)!;
        if (rules.storageElem(dst.dtype) !== src.elem || numElements(dst.shape) !== numElements(src.shape)) {
          throw new LatheError('BackendError', `result '${o.name}' (${src.dtype}[${src.shape.join(', ')}]) cannot alias '${i}' (${dst.dtype}[${dst.shape.join(', ')}])`, where);
        }
        aliases.set(o.name, root(i));
        if (!values.has(i)) add(tensorOf(i, dst.dtype, dst.shape, where)); // a constant
      }
    } else {
      for (const k of r) {
        for (const b of k.bindings) {
          if (b.scratchBytes !== undefined) {
            if (values.has(b.value)) throw new LatheError('BackendError', `kernel '${k.name}' declares scratch '${b.value}', which is a graph value`, where);
            const elem = b.elem as E;
            add({ name: b.value, dtype: rules.scratchDtype(elem), shape: [Math.ceil(b.scratchBytes / rules.elemBytes(elem))], elem, bytes: b.scratchBytes });
            continue;
          }
          const t = staticOf(b.value);
          if (!t) throw new LatheError('BackendError', `kernel '${k.name}' binds '${b.value}', which is no value of the graph (a scratch binding needs scratchBytes)`, where);
          if (!values.has(b.value)) add(tensorOf(b.value, t.dtype, t.shape, where)); // a constant
          const want = values.get(b.value)!.elem;
          if (b.elem !== want) {
            throw new LatheError('BackendError', `kernel '${k.name}' binds '${b.value}' as ${b.elem}, but it is stored as ${want}`, where);
          }
        }
        kernels.push(k);
      }
    }
  }

  // Roles and buffer plan over root values.
  const outputs = g.outputs.map((name) => {
    const c = constOf(name);
    const t = values.get(name) ?? (c && tensorOf(name, c.dtype, c.shape, {}));
    if (!t) throw new LatheError('VerifyError', `graph output '${name}' is not defined`, { file, value: name });
    values.set(name, t);
    return t;
  });
  const inputNames = new Set(g.inputs.map((v) => v.name));
  const outputRoots = new Set(g.outputs.map(root));
  const used = new Set<string>(outputRoots);
  for (const k of kernels) for (const b of k.bindings) used.add(root(b.value));
  const constants: { name: string; tensor: ConstTensor }[] = [];
  const planValues: PlanValue[] = [];
  for (const v of g.inputs) planValues.push({ name: v.name, bytes: values.get(v.name)!.bytes, role: 'input' });
  for (const name of used) {
    if (inputNames.has(name)) continue;
    const c = constOf(name);
    const role: PlanRole = c ? 'constant' : outputRoots.has(name) ? 'output' : 'intermediate';
    if (c) constants.push({ name, tensor: c });
    planValues.push({ name, bytes: values.get(name)!.bytes, role });
  }
  const steps = kernels.map((k) => ({
    name: k.name,
    reads: k.bindings.filter((b) => b.access === 'read').map((b) => root(b.value)),
    writes: k.bindings.filter((b) => b.access === 'read_write').map((b) => root(b.value)),
  }));
  for (const s of steps) {
    for (const w of s.writes) {
      const role = planValues.find((v) => v.name === w)?.role;
      if (role === 'input' || role === 'constant') {
        throw new LatheError('BackendError', `kernel '${s.name}' writes ${role} '${w}' (through an alias?)`, { file, value: w });
      }
    }
  }
  const plan = planBuffers(planValues, steps, { maxBindingBytes: rules.maxBindingBytes, limitName: rules.limitName, alignment: rules.alignment });
  return {
    caps,
    inputs: g.inputs.map((v) => values.get(v.name)!),
    outputs,
    values,
    kernels,
    constants,
    aliases,
    plan,
  };
}

const NEVER_FOLD = /^(Random|Bernoulli|Multinomial)/;

/** The results of an all-constant, small node, computed by the reference interpreter; else undefined. */
function foldByInterpreter(
  model: Model,
  node: Node,
  constOf: (name: string | null | undefined) => ConstTensor | undefined,
  limit: number,
  where: { file?: string; node: string; op: string },
): ConstTensor[] | undefined {
  if (limit <= 0 || NEVER_FOLD.test(node.op) || subgraphsOf(node).length) return undefined;
  const present = node.inputs.filter((n): n is string => !!n);
  if (present.length === 0) return undefined;
  const constants: { name: string; tensor: ConstTensor }[] = [];
  for (const name of present) {
    const c = constOf(name);
    if (!c || c.data.kind === 'strings') return undefined;
    if (!constants.some((k) => k.name === name)) constants.push({ name, tensor: c });
  }
  let elements = 0;
  for (const o of node.outputs) {
    if (!o) continue;
    if (o.type.kind !== 'tensor' || !o.type.shape || o.type.dtype === 'string') return undefined;
    elements += numElements(o.type.shape as number[]);
  }
  if (elements > limit) return undefined;
  const outputs = node.outputs.filter((o) => o !== null).map((o) => o!.name);
  try {
    const got = runModel({ ...model, graph: { name: 'fold', inputs: [], constants, nodes: [node], outputs } }, []);
    let k = 0;
    return node.outputs.map((o) => (o ? toConst(got[k++] as Tensor) : (undefined as unknown as ConstTensor)));
  } catch (e) {
    if (e instanceof LatheError) throw e.at(where);
    throw e;
  }
}

/**
 * Refuse, before specialization, a top-level node with subgraphs (If, Loop, Scan) that the backend
 * does not lower: such a node is never folded, and specializing its branches for the run's sizes
 * can fail first with a message about a branch the model would not take.
 */
export function refuseUnloweredControlFlow(model: Model, lookup: (node: Node) => unknown, label: string, file?: string): void {
  for (const node of model.graph.nodes) {
    if (subgraphsOf(node).length && !lookup(node)) {
      throw new LatheError('UnsupportedOp', `op ${qualifiedOp(node)} has no ${label} lowering (lathe does not fall back to the CPU)`, { file, node: node.name, op: qualifiedOp(node) });
    }
  }
}
