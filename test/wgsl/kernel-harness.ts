// A small harness for the linear-algebra / conv / pool / attention kernel tests: build a one-node
// model, lower it with the registered WGSL lowering, validate every kernel under Dawn's null
// backend, and run the kernels on the software adapter (lavapipe) to compare with the
// interpreter. It needs nothing from the runtime beyond the Kernel contract (bindings in order,
// baked sizes, no uniforms), so it works before and beside backends/wgsl/runtime.ts.
import { existsSync } from 'node:fs';
import { GraphBuilder } from '../../ir/builder.ts';
import { attrReader } from '../../ir/attr-reader.ts';
import type { AttrInput } from '../../ir/builder.ts';
import { LatheError } from '../../ir/errors.ts';
import type { Model } from '../../ir/graph.ts';
import { ONNX_DOMAIN, qualifiedOp } from '../../ir/graph.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { isTensor, makeTensor, toF64 } from '../../ir/interp/tensor.ts';
import { isStaticShape } from '../../ir/types.ts';
import type { Kernel } from '../../backends/wgsl/kernel.ts';
import type { DeviceCaps, LowerContext, StaticTensor } from '../../backends/wgsl/lowering.ts';
import { isAlias, lookupWgsl } from '../../backends/wgsl/lowering.ts';
import { LAVAPIPE_ICD, prepareEnvironment } from '../../backends/wgsl/gpu.ts';
import '../../backends/wgsl/ops/matmul.ts';
import '../../backends/wgsl/ops/conv.ts';
import '../../backends/wgsl/ops/pool.ts';
import '../../backends/wgsl/ops/attention.ts';

/** Dawn's default limits (what the null backend validates against) and SwiftShader-like caps. */
export const DEFAULT_CAPS: DeviceCaps = {
  f16: false,
  subgroups: false,
  maxWorkgroupInvocations: 256,
  maxWorkgroupStorageBytes: 16384,
  maxStorageBufferBindingBytes: 128 << 20,
  maxComputeWorkgroupsPerDimension: 65535,
};

export interface Case {
  model: Model;
  inputs: Tensor[];
}

/** A model of one node over the given input tensors (result types inferred). */
export function oneNode(op: string, inputs: readonly (Tensor | null)[], attrs: Record<string, AttrInput> = {}, domain = ONNX_DOMAIN): Case {
  const b = new GraphBuilder('case', { [ONNX_DOMAIN]: 21, lathe: 1 });
  const names = inputs.map((t, i) => (t ? b.input(`in${i}`, { kind: 'tensor', dtype: t.dtype, shape: t.shape }) : null));
  const y = b.op(op, names, attrs, { domain, name: `${op}_0` });
  return { model: b.returns(y).model(), inputs: inputs.filter((t): t is Tensor => t !== null) };
}

/** Lower the model's single node. */
export function lowerCase(c: Case, caps: DeviceCaps = DEFAULT_CAPS): Kernel[] {
  const g = c.model.graph;
  const node = g.nodes[0]!;
  const types = new Map(g.inputs.map((v) => [v.name, v.type]));
  for (const r of node.outputs) if (r) types.set(r.name, r.type);
  const tensorOf = (name: string | null | undefined): StaticTensor | undefined => {
    if (!name) return undefined;
    const t = types.get(name);
    if (!t || t.kind !== 'tensor' || !isStaticShape(t.shape)) throw new Error(`${name} is not a static tensor`);
    return { name, dtype: t.dtype, shape: t.shape };
  };
  const ctx: LowerContext = {
    ...attrReader(node),
    node,
    opset: c.model.opsets[node.domain] ?? 1,
    caps,
    input: (i) => tensorOf(node.inputs[i]),
    output: (i) => tensorOf(node.outputs[i]?.name),
    constant: () => undefined,
    kernelName: (what) => `${node.name}/${what}`,
    unsupported: (why) => {
      throw new LatheError('UnsupportedOp', why, { node: node.name, op: qualifiedOp(node) });
    },
  };
  const lower = lookupWgsl(node);
  if (!lower) throw new Error(`no lowering for ${node.op}`);
  const r = lower(ctx);
  if (isAlias(r)) throw new Error('expected kernels');
  return r;
}

/** The interpreter's result. */
export function reference(c: Case): Tensor {
  const [y] = runModel(c.model, c.inputs);
  if (!isTensor(y)) throw new Error('expected a tensor');
  return y;
}

// ---- Dawn ----
type GPUDeviceT = any;
const keep = globalThis as { __latheTestGpu?: unknown[] };

async function dawnDevice(flags: string[], features: string[] = []): Promise<GPUDeviceT | undefined> {
  const webgpu = (await import('webgpu')) as any;
  Object.assign(globalThis, webgpu.globals);
  const gpu = webgpu.create(flags);
  // Dawn crashes when the object from create() is collected: keep it for the process.
  (keep.__latheTestGpu ??= []).push(gpu);
  const adapter = await gpu.requestAdapter();
  if (!adapter) return undefined;
  const want = features.filter((x) => adapter.features.has(x));
  const limits = {
    maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
  };
  const device = await adapter.requestDevice({ requiredFeatures: want, requiredLimits: limits });
  keep.__latheTestGpu.push(device);
  return device;
}

let nullDevice: Promise<GPUDeviceT> | undefined;
/** Compile every kernel under Dawn's null backend; errors name the kernel and line. */
export async function validate(kernels: readonly Kernel[]): Promise<void> {
  nullDevice ??= dawnDevice(['backend=null']);
  const device = await nullDevice;
  for (const k of kernels) await compile(device, k);
}

async function compile(device: GPUDeviceT, k: Kernel): Promise<any> {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code: k.code, label: k.name });
  const info = await module.getCompilationInfo();
  const errs = info.messages.filter((m: any) => m.type === 'error');
  let pipeline;
  try {
    pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  } catch (e) {
    errs.push({ lineNum: 0, linePos: 0, message: String((e as Error).message) });
  }
  const scope = await device.popErrorScope();
  if (scope) errs.push({ lineNum: 0, linePos: 0, message: scope.message });
  if (errs.length) {
    const lines = k.code.split('\n');
    const msg = errs.map((m: any) => `${k.name} (${k.op}) line ${m.lineNum}:${m.linePos}: ${m.message}\n  ${lines[m.lineNum - 1] ?? ''}`).join('\n');
    throw new Error(msg);
  }
  return pipeline;
}

/** The lavapipe ICD written by scripts/setup-webgpu.sh (or LATHE_VK_ICD). */
export function lavapipeIcd(): string | undefined {
  const icd = process.env.LATHE_VK_ICD ?? LAVAPIPE_ICD;
  return existsSync(icd) ? icd : undefined;
}

let realDevice: Promise<GPUDeviceT | undefined> | undefined;
/** The software adapter's device, or undefined where lavapipe is not set up. */
export function adapterDevice(): Promise<GPUDeviceT | undefined> {
  const icd = lavapipeIcd();
  if (!icd) return Promise.resolve(undefined);
  process.env.VK_ICD_FILENAMES ??= icd;
  prepareEnvironment();
  realDevice ??= dawnDevice([], ['shader-f16']);
  return realDevice;
}

export async function adapterCaps(): Promise<DeviceCaps | undefined> {
  const d = await adapterDevice();
  if (!d) return undefined;
  return {
    f16: d.features.has('shader-f16'),
    subgroups: false,
    maxWorkgroupInvocations: d.limits.maxComputeInvocationsPerWorkgroup,
    maxWorkgroupStorageBytes: d.limits.maxComputeWorkgroupStorageSize,
    maxStorageBufferBindingBytes: d.limits.maxStorageBufferBindingSize,
    maxComputeWorkgroupsPerDimension: d.limits.maxComputeWorkgroupsPerDimension,
  };
}

/** Bytes of a tensor as the kernels store it (f32; bool and small ints widened to i32). */
function upload(t: Tensor): ArrayBuffer {
  if (t.dtype === 'f32') return new Float32Array(t.data as Float32Array).buffer;
  if (t.dtype === 'bool' || t.dtype === 'i32') return Int32Array.from(toF64(t)).buffer;
  throw new Error(`harness cannot upload ${t.dtype}`);
}

export interface RunResult {
  y: Tensor;
  /** Best of `repeats` GPU times of the kernels (submit to done), ms. */
  ms: number;
}

/** Run the lowered kernels of a case on the adapter; undefined where there is no adapter. */
export async function runOnAdapter(c: Case, repeats = 1): Promise<RunResult | undefined> {
  const device = await adapterDevice();
  const caps = await adapterCaps();
  if (!device || !caps) return undefined;
  const kernels = lowerCase(c, caps);
  const g = c.model.graph;
  const yv = g.nodes[0]!.outputs[0]!;
  const yShape = (yv.type as unknown as { shape: number[] }).shape;
  const yCount = yShape.reduce((a, b) => a * b, 1);
  const bufs = new Map<string, any>();
  const S = (GPUBufferUsage as any);
  const make = (bytes: number) => device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: S.STORAGE | S.COPY_SRC | S.COPY_DST });
  g.inputs.forEach((v, i) => {
    const data = upload(c.inputs[i]!);
    const buf = make(data.byteLength);
    device.queue.writeBuffer(buf, 0, data);
    bufs.set(v.name, buf);
  });
  bufs.set(yv.name, make(yCount * 4));
  const pipes: any[] = [];
  for (const k of kernels) pipes.push(await compile(device, k));
  const dispatch = async () => {
    const enc = device.createCommandEncoder();
    kernels.forEach((k, i) => {
      const entries = k.bindings.map((b, j) => ({ binding: j, resource: { buffer: bufs.get(b.value) ?? (bufs.set(b.value, make(yCount * 4)), bufs.get(b.value)) } }));
      const pass = enc.beginComputePass();
      pass.setPipeline(pipes[i]);
      pass.setBindGroup(0, device.createBindGroup({ layout: pipes[i].getBindGroupLayout(0), entries }));
      pass.dispatchWorkgroups(...k.dispatch);
      pass.end();
    });
    const t0 = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  let ms = Infinity;
  for (let r = 0; r < repeats; r++) ms = Math.min(ms, await dispatch());
  const read = device.createBuffer({ size: Math.max(16, Math.ceil((yCount * 4) / 16) * 16), usage: S.MAP_READ | S.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(bufs.get(yv.name), 0, read, 0, read.size);
  device.queue.submit([enc.finish()]);
  await read.mapAsync((GPUMapMode as any).READ);
  const out = new Float32Array(read.getMappedRange().slice(0, yCount * 4));
  read.unmap();
  for (const b of bufs.values()) b.destroy();
  read.destroy();
  return { y: makeTensor('f32', yShape, out), ms };
}

/** max |a − b| / max |b| (NaN where either has a NaN the other has not). */
export function relError(got: Tensor, want: Tensor): number {
  const a = toF64(got);
  const b = toF64(want);
  if (a.length !== b.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]!) !== Number.isNaN(b[i]!)) return NaN;
    if (Number.isNaN(b[i]!)) continue;
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return den === 0 ? num : num / den;
}

/** A deterministic pseudo-random f32 tensor in [-1, 1). */
export function randomTensor(shape: readonly number[], seed = 1): Tensor {
  let s = seed >>> 0 || 1;
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    d[i] = s / 2 ** 31 - 1;
  }
  return makeTensor('f32', shape, d);
}
