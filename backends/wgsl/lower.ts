// Lowering a specialized model (every shape static) into a WGSL Program: the kernels in order,
// the values they touch with their storage types, the constants to upload, the aliases (results
// that are an operand's bytes seen with another shape) and the buffer plan. Every node must have
// a lowering: an op without one is an UnsupportedOp error naming the node (no CPU fallback).
import { attrReader } from '../../ir/attr-reader.ts';
import type { DType } from '../../ir/dtype.ts';
import { LatheError } from '../../ir/errors.ts';
import type { Model, Node } from '../../ir/graph.ts';
import { ONNX_DOMAIN, qualifiedOp, subgraphsOf } from '../../ir/graph.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { toConst } from '../../ir/interp/tensor.ts';
import type { ConstTensor } from '../../ir/tensor-data.ts';
import { numElements, typeToString } from '../../ir/types.ts';
import type { BufferPlan, PlanRole, PlanValue } from '../plan.ts';
import { planBuffers } from '../plan.ts';
import type { Kernel, KernelBinding } from './kernel.ts';
import { storageElem } from './kernel.ts';
import type { DeviceCaps, LowerContext, StaticTensor } from './lowering.ts';
import { isAlias, isFolded, lookupWgsl, lookupWgslFold, noLowering } from './lowering.ts';
import { checkStatic } from './specialize.ts';
import './ops/index.ts';
import { fuseElementwise } from './fuse.ts';
import { explicitLegacyBroadcast } from './legacy-broadcast.ts';

/** A tensor value as the program stores it. */
export interface ProgramTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Element type in its buffer (see storageElem: i64 → i32, bool → i32, f16 → f32 without shader-f16). */
  readonly elem: KernelBinding['elem'];
  /** Bytes of its elements in the buffer (before rounding the buffer up). */
  readonly bytes: number;
}

export interface Program {
  readonly caps: DeviceCaps;
  /** Graph inputs, in order. */
  readonly inputs: readonly ProgramTensor[];
  /** Graph outputs, in order (an output may be an alias of an input or a constant). */
  readonly outputs: readonly ProgramTensor[];
  /** Every value the program stores or aliases, by name (scratch buffers too, dtype u32/f32 by elem). */
  readonly values: ReadonlyMap<string, ProgramTensor>;
  /** Kernels in dispatch order. */
  readonly kernels: readonly Kernel[];
  /** Constants the kernels or outputs read (weights, folded Constant nodes), uploaded once. */
  readonly constants: readonly { readonly name: string; readonly tensor: ConstTensor }[];
  /** Value → the value whose buffer holds its bytes (resolved to the root: never an alias itself). */
  readonly aliases: ReadonlyMap<string, string>;
  /** Buffers of the root values (aliases are not in it; look them up through `aliases`). */
  readonly plan: BufferPlan;
}

export interface LowerOptions {
  readonly caps: DeviceCaps;
  readonly file?: string;
  /**
   * Evaluate a node whose operands are all constants and whose results are small (at most this
   * many elements) with the reference interpreter while compiling, and upload its results as
   * constants: the shape arithmetic of exported models (Shape → Gather → Concat → Reshape) then
   * costs no kernels. Default 4096; 0 turns it off. Random ops are never folded.
   */
  readonly foldLimit?: number;
  /** Group single-use elementwise chains into one kernel each (fuse.ts). Default true. */
  readonly fuse?: boolean;
}

const ELEM_BYTES = { f32: 4, f16: 2, i32: 4, u32: 4 } as const;

/** The buffer holding value `name` (through aliases). */
export function rootOf(p: Pick<Program, 'aliases'>, name: string): string {
  return p.aliases.get(name) ?? name;
}

export function lowerModel(model: Model, options: LowerOptions): Program {
  const { caps, file } = options;
  const numpyStyle = explicitLegacyBroadcast(model);
  const g = (options.fuse ?? true ? fuseElementwise(numpyStyle) : numpyStyle).graph;
  checkStatic(g, file);
  const values = new Map<string, ProgramTensor>();
  const tensorOf = (name: string, dtype: DType, shape: readonly number[], where: { node?: string; op?: string }): ProgramTensor => {
    const elem = storageElem(dtype, caps.f16);
    if (!elem) {
      throw new LatheError('UnsupportedType', `value '${name}' is ${dtype}, which the WGSL backend cannot store`, { file, ...where, value: name });
    }
    return { name, dtype, shape, elem, bytes: numElements(shape) * ELEM_BYTES[elem] };
  };
  const add = (t: ProgramTensor) => values.set(t.name, t);

  const graphConsts = new Map(g.constants.map((c) => [c.name, c.tensor]));
  for (const v of g.inputs) {
    if (v.type.kind !== 'tensor' || !v.type.shape) throw new LatheError('ShapeError', `input '${v.name}' is ${typeToString(v.type)}`, { file, value: v.name });
    add(tensorOf(v.name, v.type.dtype, v.type.shape as number[], {}));
  }
  const opset = (n: Node) => model.opsets[n.domain || ONNX_DOMAIN] ?? 1;
  const aliases = new Map<string, string>();
  const root = (name: string) => aliases.get(name) ?? name;
  const folded = new Map<string, ConstTensor>();
  const kernels: Kernel[] = [];
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
    const fold = lookupWgslFold(node);
    const lower = fold ?? lookupWgsl(node) ?? noLowering(node);
    const ctx: LowerContext = {
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
        throw new LatheError('UnsupportedOp', `no WGSL lowering for this case: ${why}`, where);
      },
    };
    let r;
    try {
      r = lower(ctx);
    } catch (e) {
      if (e instanceof LatheError) throw e.at(where);
      throw new LatheError('BackendError', `WGSL lowering failed: ${(e as Error).message}`, where);
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
        const dstElem = storageElem(dst.dtype, caps.f16);
        if (dstElem !== src.elem || numElements(dst.shape) !== numElements(src.shape)) {
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
            add({ name: b.value, dtype: b.elem === 'f16' ? 'f16' : b.elem, shape: [Math.ceil(b.scratchBytes / ELEM_BYTES[b.elem])], elem: b.elem, bytes: b.scratchBytes });
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
    const t = values.get(name) ?? (constOf(name) && tensorOf(name, constOf(name)!.dtype, constOf(name)!.shape, {}));
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
  const plan = planBuffers(planValues, steps, { maxBindingBytes: caps.maxStorageBufferBindingBytes, limitName: 'maxStorageBufferBindingSize' });
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

/** A short human summary: kernels, buffers, bytes. */
export function describeProgram(p: Program): string {
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB`;
  return `${p.kernels.length} kernels, ${p.plan.buffers.length} buffers (${mib(p.plan.totalBytes)}; peak live ${mib(p.plan.peakLiveBytes)}), ${p.constants.length} constants, ${p.aliases.size} aliases`;
}
