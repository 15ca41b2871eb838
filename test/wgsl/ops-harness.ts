// Harness for the elementwise / movement / reduction / normalization kernel tests: a one-node
// model (operands as graph inputs, or as constants where the lowering needs their values),
// lowered with the registered WGSL lowering; every kernel validated under Dawn's null backend,
// and run on the software adapter (lavapipe) with its uniforms packed by backends/wgsl/uniforms.ts,
// then compared with the reference interpreter.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { runCaseOn } from '../../compiler/conformance.ts';
import { attrReader } from '../../ir/attr-reader.ts';
import type { AttrInput } from '../../ir/builder.ts';
import { GraphBuilder } from '../../ir/builder.ts';
import { LatheError } from '../../ir/errors.ts';
import type { Model, Node } from '../../ir/graph.ts';
import { ONNX_DOMAIN, qualifiedOp } from '../../ir/graph.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { fromConst, isTensor, makeTensor, toConst, toF64 } from '../../ir/interp/tensor.ts';
import { isStaticShape } from '../../ir/types.ts';
import type { Kernel } from '../../backends/wgsl/kernel.ts';
import { storageElem } from '../../backends/wgsl/kernel.ts';
import type { DeviceCaps, LowerContext, StaticTensor } from '../../backends/wgsl/lowering.ts';
import { isAlias, isFolded, lookupWgsl } from '../../backends/wgsl/lowering.ts';
import { packUniforms } from '../../backends/wgsl/uniforms.ts';
import { adapterCaps, adapterDevice, DEFAULT_CAPS, validate } from './kernel-harness.ts';
import '../../backends/wgsl/ops/index.ts';

export { DEFAULT_CAPS, validate };

export interface OpCase {
  model: Model;
  /** Runtime inputs (graph inputs, in order). */
  inputs: Tensor[];
}

/** `inputs[i]` is a graph input, or a constant when `consts` includes i; null: omitted. */
export function opCase(
  op: string,
  inputs: readonly (Tensor | null)[],
  attrs: Record<string, AttrInput> = {},
  opts: { consts?: readonly number[]; outputs?: number; domain?: string; opset?: number } = {},
): OpCase {
  const b = new GraphBuilder('case', { [ONNX_DOMAIN]: opts.opset ?? 21, lathe: 1 });
  const rt: Tensor[] = [];
  const names = inputs.map((t, i) => {
    if (!t) return null;
    if (opts.consts?.includes(i)) return b.constant(`c${i}`, toConst(t));
    rt.push(t);
    return b.input(`in${i}`, { kind: 'tensor', dtype: t.dtype, shape: t.shape });
  });
  const n = opts.outputs ?? 1;
  const outs = b.opN(op, names, attrs, { domain: opts.domain ?? ONNX_DOMAIN, name: `${op}_0`, results: n });
  return { model: b.returns(...outs).model(), inputs: rt };
}

export function lowerOp(c: OpCase, caps: DeviceCaps = DEFAULT_CAPS, node: Node = c.model.graph.nodes[0]!) {
  const g = c.model.graph;
  const types = new Map(g.inputs.map((v) => [v.name, v.type]));
  const consts = new Map(g.constants.map((k) => [k.name, k.tensor]));
  for (const k of g.constants) types.set(k.name, { kind: 'tensor', dtype: k.tensor.dtype, shape: k.tensor.shape });
  for (const nd of g.nodes) for (const r of nd.outputs) if (r) types.set(r.name, r.type);
  const tensorOf = (name: string | null | undefined): StaticTensor | undefined => {
    if (!name) return undefined;
    const t = types.get(name);
    if (!t || t.kind !== 'tensor' || !isStaticShape(t.shape)) throw new Error(`${name} is not a static tensor`);
    return { name, dtype: t.dtype, shape: t.shape as number[] };
  };
  const ctx: LowerContext = {
    ...attrReader(node),
    node,
    opset: c.model.opsets[node.domain] ?? c.model.opsets[ONNX_DOMAIN] ?? 1,
    caps,
    input: (i) => tensorOf(node.inputs[i]),
    output: (i) => tensorOf(node.outputs[i]?.name),
    constant: (i) => consts.get(node.inputs[i] ?? ''),
    kernelName: (what) => `${node.name}/${what}`,
    unsupported: (why) => {
      throw new LatheError('UnsupportedOp', why, { node: node.name, op: qualifiedOp(node) });
    },
  };
  const lower = lookupWgsl(node);
  if (!lower) throw new Error(`no lowering for ${node.op}`);
  return { result: lower(ctx), tensorOf };
}

export function kernelsOf(c: OpCase, caps: DeviceCaps = DEFAULT_CAPS): Kernel[] {
  const { result } = lowerOp(c, caps);
  if (isAlias(result) || isFolded(result)) return [];
  return result;
}

export function reference(c: OpCase): Tensor[] {
  return runModel(c.model, c.inputs).map((v) => {
    if (!isTensor(v)) throw new Error('expected a tensor');
    return v;
  });
}

/** The bytes the device holds for a tensor: i64/bool/small ints as i32, u16 as u32. */
function deviceBytes(t: Tensor, elem: string): ArrayBuffer {
  const v = toF64(t);
  if (elem === 'f32') return Float32Array.from(v).buffer;
  if (elem === 'u32') return Uint32Array.from(v).buffer;
  return Int32Array.from(v).buffer;
}

/** Run the lowered node on the adapter; results as the device stores them (undefined: no adapter). */
export async function runOp(c: OpCase): Promise<Tensor[] | undefined> {
  const device = await adapterDevice();
  const caps0 = await adapterCaps();
  if (!device || !caps0) return undefined;
  const caps = { ...caps0, f16: false };
  const { result, tensorOf } = lowerOp(c, caps);
  const g = c.model.graph;
  const node = g.nodes[0]!;
  const S = GPUBufferUsage as any;
  const bufs = new Map<string, any>();
  const make = (bytes: number) => device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: S.STORAGE | S.COPY_SRC | S.COPY_DST });
  const put = (name: string, t: Tensor) => {
    const elem = storageElem(t.dtype, false)!;
    const data = deviceBytes(t, elem);
    const buf = make(data.byteLength);
    device.queue.writeBuffer(buf, 0, data);
    bufs.set(name, buf);
  };
  g.inputs.forEach((v, i) => put(v.name, c.inputs[i]!));
  for (const k of g.constants) put(k.name, fromConst(k.tensor));
  const outs = node.outputs.map((o) => tensorOf(o?.name));
  if (isFolded(result)) throw new Error('folded');
  if (isAlias(result)) {
    for (const a of result.alias) bufs.set(outs[a.output]!.name, bufs.get(node.inputs[a.input]!));
  } else {
    for (const o of outs) if (o) bufs.set(o.name, make(o.shape.reduce((a, b) => a * b, 1) * 4));
    const enc = device.createCommandEncoder();
    for (const k of result) {
      await validate([k]);
      const module = device.createShaderModule({ code: k.code, label: k.name });
      const pipe = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
      const entries: any[] = k.bindings.map((b, j) => {
        if (!bufs.has(b.value)) bufs.set(b.value, make(b.scratchBytes ?? 16));
        return { binding: j, resource: { buffer: bufs.get(b.value) } };
      });
      if (k.uniforms.length) {
        const data = packUniforms(k.uniforms);
        const ub = device.createBuffer({ size: data.byteLength, usage: S.UNIFORM | S.COPY_DST });
        device.queue.writeBuffer(ub, 0, data);
        entries.push({ binding: k.bindings.length, resource: { buffer: ub } });
      }
      const pass = enc.beginComputePass();
      pass.setPipeline(pipe);
      pass.setBindGroup(0, device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries }));
      pass.dispatchWorkgroups(...k.dispatch);
      pass.end();
    }
    device.queue.submit([enc.finish()]);
  }
  const res: Tensor[] = [];
  for (const o of outs) {
    if (!o) continue;
    const count = o.shape.reduce((a, b) => a * b, 1);
    const read = device.createBuffer({ size: Math.max(16, Math.ceil((count * 4) / 16) * 16), usage: S.MAP_READ | S.COPY_DST });
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(bufs.get(o.name), 0, read, 0, read.size);
    device.queue.submit([enc.finish()]);
    await read.mapAsync((GPUMapMode as any).READ);
    const bytes = read.getMappedRange().slice(0, count * 4);
    read.unmap();
    read.destroy();
    const elem = storageElem(o.dtype, false);
    const data = elem === 'f32' ? new Float32Array(bytes) : elem === 'u32' ? new Uint32Array(bytes) : new Int32Array(bytes);
    res.push(makeTensor(elem === 'f32' ? 'f32' : elem === 'u32' ? 'u32' : 'i32', o.shape, data));
  }
  return res;
}

/**
 * Validate the case's kernels on the null backend, run them on the adapter (where there is one)
 * and compare every result's shape and values with the reference interpreter.
 */
export async function checkOp(name: string, c: OpCase, rtol = 1e-4, atol = 1e-5): Promise<void> {
  await validate(kernelsOf(c));
  const got = await runOp(c);
  if (!got) return; // no adapter: validation only
  const want = reference(c);
  if (got.length !== want.length) throw new Error(`${name}: ${got.length} results, want ${want.length}`);
  want.forEach((w, i) => {
    if (got[i]!.shape.join() !== w.shape.join()) throw new Error(`${name}: result ${i} has shape [${got[i]!.shape}], want [${w.shape}]`);
    const m = mismatch(got[i]!, w, rtol, atol);
    if (m) throw new Error(`${name}: result ${i}: ${m}`);
  });
}

/** Worst |got − want| − (atol + rtol·|want|) over elements (≤ 0: within tolerance); NaNs must match. */
export function mismatch(got: Tensor, want: Tensor, rtol = 1e-4, atol = 1e-5): string | undefined {
  const a = toF64(got);
  const b = toF64(want);
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(y) ? !Number.isNaN(x) : !(Math.abs(x - y) <= atol + rtol * Math.abs(y)) && x !== y) return `element ${i}: got ${x}, want ${y}`;
  }
  return undefined;
}

/** Deterministic pseudo-random tensors. */
export function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return {
    f32: (shape: number[], lo = -2, hi = 2) => makeTensor('f32', shape, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * next())),
    int: (dtype: 'i32' | 'i64' | 'bool' | 'u8', shape: number[], lo: number, hi: number) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const v = Array.from({ length: n }, () => lo + Math.floor((hi - lo + 1) * next()));
      const data = dtype === 'i64' ? BigInt64Array.from(v.map(BigInt)) : dtype === 'i32' ? Int32Array.from(v) : Uint8Array.from(v);
      return makeTensor(dtype, shape, data);
    },
  };
}

/**
 * Every ONNX conformance case (node/) whose folder starts with one of `prefixes` passes on the
 * WGSL backend (or is skipped, where `expectSkip` names it); at least `min` cases exist. Nothing
 * to check without the data or an adapter.
 */
export async function checkConformanceCases(prefixes: readonly string[], min: number, expectSkip: ReadonlySet<string> = new Set()): Promise<void> {
  const data = '/usr/share/libonnx-testdata/data/node';
  if (!existsSync(data) || !(await adapterDevice())) return;
  const dirs = readdirSync(data).filter((d) => prefixes.some((p) => d.startsWith(p))).sort();
  if (dirs.length < min) throw new Error(`found ${dirs.length} conformance cases for ${prefixes.join(', ')}, want at least ${min}`);
  const failed: string[] = [];
  for (const d of dirs) {
    const res = await runCaseOn(path.join(data, d), 'wgsl');
    const want = expectSkip.has(d) ? 'skip' : 'pass';
    if (res.status !== want) failed.push(`${d}: ${res.status} (want ${want}) ${res.reason}`);
  }
  if (failed.length) throw new Error(`conformance cases not as expected:\n${failed.join('\n')}`);
}

