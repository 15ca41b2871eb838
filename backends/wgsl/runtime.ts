// Running a WGSL Program on a WebGPU device (Dawn in Node). A Session creates the pipelines
// (cached per device by kernel key), the planned buffers, uploads the constants and the uniforms
// once; each run() uploads the inputs (converted to their storage types), dispatches every kernel
// in one command encoder, and reads the outputs back as the interpreter's tensors.
// Failures are LatheErrors of kind BackendError naming the kernel, op and node: a WGSL compile
// error with its line, a validation error, a dispatch over the device's limits, a lost device.
import type { DType } from '../../ir/dtype.ts';
import { LatheError } from '../../ir/errors.ts';
import { encodeBits, narrowFormat, roundToFormat } from '../../ir/interp/float.ts';
import type { Model } from '../../ir/graph.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { fromConst, makeTensor, roundTo } from '../../ir/interp/tensor.ts';
import { decodeTable } from '../../ir/interp/float.ts';
import type { Gpu } from './gpu.ts';
import { openGpu, gpuUnavailableReason } from './gpu.ts';
import type { Kernel } from './kernel.ts';
import type { Program, ProgramTensor } from './lower.ts';
import { lowerModel, rootOf } from './lower.ts';
import { withInputDefaults } from '../shared/inputs.ts';
import { specialize, valueInputs } from './specialize.ts';
import { refuseUnloweredControlFlow } from '../lower-core.ts';
import { lookupWgsl } from './lowering.ts';
import { packUniforms } from './uniforms.ts';

// WebGPU's flag values (the spec's constants; Dawn's globals hold the same numbers).
const BUF = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
const MAP_READ = 0x1;
const STAGE_COMPUTE = 0x4;

const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

function kernelWhere(k: Kernel) {
  return { node: k.node, op: k.op };
}

/** The full pipeline-cache key: the WGSL key plus the binding layout it is created with. */
function layoutKey(k: Kernel): string {
  return `${k.key}|${k.bindings.map((b) => (b.access === 'read' ? 'r' : 'w')).join('')}${k.uniforms.length ? 'u' : ''}`;
}

/** The compute pipeline of a kernel, compiled once per device and key; compile errors name the WGSL line. */
export function pipelineFor(gpu: Gpu, k: Kernel): Promise<GPUComputePipeline> {
  let cache = pipelineCache.get(gpu.device);
  if (!cache) pipelineCache.set(gpu.device, (cache = new Map()));
  const key = layoutKey(k);
  let p = cache.get(key);
  if (!p) {
    p = compile(gpu, k);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

async function compile(gpu: Gpu, k: Kernel): Promise<GPUComputePipeline> {
  const { device } = gpu;
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: k.name, code: k.code });
  const info = await module.getCompilationInfo();
  const scopeError = await device.popErrorScope();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length || scopeError) {
    const lines = k.code.split('\n');
    const text = errors.length
      ? errors
          .map((m) => `line ${m.lineNum}:${m.linePos}: ${m.message}${m.lineNum > 0 ? `\n    ${lines[m.lineNum - 1]?.trim() ?? ''}` : ''}`)
          .join('\n  ')
      : scopeError!.message;
    throw new LatheError('BackendError', `WGSL of kernel '${k.name}' does not compile:\n  ${text}`, kernelWhere(k));
  }
  const layout = device.createBindGroupLayout({
    label: k.name,
    entries: [
      ...k.bindings.map((b, i) => ({
        binding: i,
        visibility: STAGE_COMPUTE,
        buffer: { type: (b.access === 'read' ? 'read-only-storage' : 'storage') as GPUBufferBindingType },
      })),
      ...(k.uniforms.length ? [{ binding: k.bindings.length, visibility: STAGE_COMPUTE, buffer: { type: 'uniform' as GPUBufferBindingType } }] : []),
    ],
  });
  try {
    return await device.createComputePipelineAsync({
      label: k.name,
      layout: device.createPipelineLayout({ label: k.name, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
  } catch (e) {
    throw new LatheError('BackendError', `pipeline of kernel '${k.name}' is invalid: ${(e as Error).message}`, kernelWhere(k));
  }
}

/** Compile (validate) every kernel of a program without running anything: for the null backend. */
export async function validateKernels(gpu: Gpu, kernels: readonly Kernel[]): Promise<void> {
  for (const k of kernels) await pipelineFor(gpu, k);
}

export interface SessionOptions {
  /** Submit and wait after each kernel, so a device loss or error names the exact kernel (slow). */
  readonly syncEachKernel?: boolean;
}

/** A program ready to run on a device: pipelines, buffers, constants and uniforms in place. */
export class Session {
  private readonly buffers: GPUBuffer[] = [];
  private readonly bindGroups: GPUBindGroup[] = [];
  private readonly pipelines: GPUComputePipeline[] = [];
  private destroyed = false;

  private constructor(
    readonly gpu: Gpu,
    readonly program: Program,
    private readonly options: SessionOptions,
  ) {}

  static async create(gpu: Gpu, program: Program, options: SessionOptions = {}): Promise<Session> {
    const s = new Session(gpu, program, options);
    try {
      await s.init();
    } catch (e) {
      s.destroy();
      throw e;
    }
    return s;
  }

  private bufferOf(name: string): GPUBuffer {
    const id = this.program.plan.assignment.get(rootOf(this.program, name));
    if (id === undefined) throw new LatheError('BackendError', `value '${name}' has no buffer in the plan`, { value: name });
    return this.buffers[id]!;
  }

  private async init(): Promise<void> {
    const { device, caps } = this.gpu;
    const p = this.program;
    if (p.caps.f16 && !caps.f16) throw new LatheError('BackendError', 'the program was lowered for shader-f16, which this device lacks');
    const maxGroups = caps.maxComputeWorkgroupsPerDimension;
    for (const k of p.kernels) {
      if (k.dispatch.some((d) => d > maxGroups || d < 0 || !Number.isInteger(d))) {
        throw new LatheError('BackendError', `kernel '${k.name}' dispatches [${k.dispatch.join(', ')}] workgroups; the device allows ${maxGroups} per dimension (maxComputeWorkgroupsPerDimension)`, kernelWhere(k));
      }
    }
    this.pipelines.push(...(await Promise.all(p.kernels.map((k) => pipelineFor(this.gpu, k)))));
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    for (const b of p.plan.buffers) {
      this.buffers.push(
        device.createBuffer({
          label: `${b.role}#${b.id} ${b.values.slice(0, 3).join(',')}${b.values.length > 3 ? ',…' : ''}`,
          size: b.bytes,
          usage: BUF.STORAGE | BUF.COPY_DST | BUF.COPY_SRC,
        }),
      );
    }
    for (const c of p.constants) {
      const t = p.values.get(c.name)!;
      device.queue.writeBuffer(this.bufferOf(c.name), 0, toStorage(fromConst(c.tensor), t, 'constant'));
    }
    p.kernels.forEach((k, i) => {
      const entries: GPUBindGroupEntry[] = k.bindings.map((b, j) => ({ binding: j, resource: { buffer: this.bufferOf(b.value), size: padded(p.values.get(b.value)!.bytes) } }));
      if (k.uniforms.length) {
        const data = packUniforms(k.uniforms);
        const ub = device.createBuffer({ label: `${k.name}/uniforms`, size: data.byteLength, usage: BUF.UNIFORM | BUF.COPY_DST });
        device.queue.writeBuffer(ub, 0, data);
        this.buffers.push(ub);
        entries.push({ binding: k.bindings.length, resource: { buffer: ub } });
      }
      this.bindGroups.push(device.createBindGroup({ label: k.name, layout: this.pipelines[i]!.getBindGroupLayout(0), entries }));
    });
    const oom = await device.popErrorScope();
    const invalid = await device.popErrorScope();
    if (oom) throw new LatheError('BackendError', `out of device memory allocating ${p.plan.totalBytes} bytes of buffers: ${oom.message}`);
    if (invalid) throw new LatheError('BackendError', `setting up the program failed validation: ${invalid.message}`, kernelFromMessage(p, invalid.message));
  }

  /** Run once: inputs by position (or name), outputs in the graph's order as interpreter tensors. */
  async run(inputs: readonly Tensor[] | ReadonlyMap<string, Tensor>): Promise<Tensor[]> {
    if (this.destroyed) throw new LatheError('BackendError', 'the session was destroyed');
    const { device } = this.gpu;
    const p = this.program;
    this.checkLost(undefined);
    const byName = inputs instanceof Map ? inputs : new Map(p.inputs.map((t, i) => [t.name, (inputs as readonly Tensor[])[i]!]));
    for (const t of p.inputs) {
      const v = byName.get(t.name);
      if (!v) throw new LatheError('UsageError', `input '${t.name}' (${t.dtype}[${t.shape.join(', ')}]) is not given`, { value: t.name });
      if (v.dtype !== t.dtype || v.shape.join() !== t.shape.join()) {
        throw new LatheError('UsageError', `input '${t.name}' is ${v.dtype}[${v.shape.join(', ')}] but the program was compiled for ${t.dtype}[${t.shape.join(', ')}]`, { value: t.name });
      }
      device.queue.writeBuffer(this.bufferOf(t.name), 0, toStorage(v, t, 'input'));
    }
    device.pushErrorScope('validation');
    const readbacks = p.outputs.map((t) =>
      device.createBuffer({ label: `readback ${t.name}`, size: padded(t.bytes), usage: BUF.MAP_READ | BUF.COPY_DST }),
    );
    try {
      if (this.options.syncEachKernel) {
        for (let i = 0; i < p.kernels.length; i++) {
          const enc = device.createCommandEncoder({ label: p.kernels[i]!.name });
          this.encode(enc, i, i + 1);
          device.queue.submit([enc.finish()]);
          await device.queue.onSubmittedWorkDone();
          this.checkLost(p.kernels[i]);
        }
        const enc = device.createCommandEncoder({ label: 'readback' });
        this.copyOut(enc, readbacks);
        device.queue.submit([enc.finish()]);
      } else {
        const enc = device.createCommandEncoder({ label: 'program' });
        this.encode(enc, 0, p.kernels.length);
        this.copyOut(enc, readbacks);
        device.queue.submit([enc.finish()]);
      }
      const invalid = await device.popErrorScope();
      if (invalid) throw new LatheError('BackendError', `running the program failed validation: ${invalid.message}`, kernelFromMessage(p, invalid.message));
      try {
        await Promise.all(readbacks.map((b) => b.mapAsync(MAP_READ)));
      } catch (e) {
        this.checkLost(undefined);
        throw new LatheError('BackendError', `reading the outputs back failed: ${(e as Error).message}`);
      }
      this.checkLost(undefined);
      return p.outputs.map((t, i) => {
        const bytes = readbacks[i]!.getMappedRange().slice(0);
        return fromStorage(bytes, t);
      });
    } finally {
      for (const b of readbacks) b.destroy();
    }
  }

  private encode(enc: GPUCommandEncoder, from: number, to: number): void {
    const pass = enc.beginComputePass({ label: 'lathe' });
    for (let i = from; i < to; i++) {
      const k = this.program.kernels[i]!;
      pass.setPipeline(this.pipelines[i]!);
      pass.setBindGroup(0, this.bindGroups[i]!);
      if (k.dispatch.every((d) => d > 0)) pass.dispatchWorkgroups(k.dispatch[0], k.dispatch[1], k.dispatch[2]);
    }
    pass.end();
  }

  private copyOut(enc: GPUCommandEncoder, readbacks: GPUBuffer[]): void {
    this.program.outputs.forEach((t, i) => enc.copyBufferToBuffer(this.bufferOf(t.name), 0, readbacks[i]!, 0, padded(t.bytes)));
  }

  private checkLost(k: Kernel | undefined): void {
    const lost = this.gpu.lost;
    if (!lost) return;
    const ks = this.program.kernels;
    const which = k
      ? `while running kernel '${k.name}'`
      : ks.length
        ? `during a submission of ${ks.length} kernels ('${ks[0]!.name}' … '${ks[ks.length - 1]!.name}'); run with syncEachKernel to find the kernel`
        : '';
    throw new LatheError('BackendError', `the WebGPU device was lost ${which}: ${lost}`, k ? kernelWhere(k) : {});
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of this.buffers) b.destroy();
  }
}

/** The kernel a Dawn message names by label (`[ComputePipeline "Add_1/add"]`), for the error's location. */
function kernelFromMessage(p: Program, message: string): { node?: string; op?: string } {
  const k = p.kernels.find((x) => message.includes(`"${x.name}"`));
  return k ? kernelWhere(k) : {};
}

/** Buffer sizes and copies are multiples of 4 bytes. */
function padded(bytes: number): number {
  return Math.max(4, Math.ceil(bytes / 4) * 4);
}

// ---- host ↔ storage conversion ----

/** A tensor's elements as the bytes of its storage type (a fresh, non-shared, 4-byte-padded buffer). */
export function toStorage(v: Tensor, t: ProgramTensor, what: string): Uint8Array<ArrayBuffer> {
  const n = v.data.length;
  const out = new ArrayBuffer(padded(t.bytes));
  const d = v.data;
  if (Array.isArray(d)) throw new LatheError('UnsupportedType', `${what} '${t.name}' is a string tensor`, { value: t.name });
  switch (t.elem) {
    case 'f32': {
      const a = new Float32Array(out, 0, n);
      if (d instanceof Float32Array) a.set(d);
      else for (let i = 0; i < n; i++) a[i] = Number(d[i]);
      if (d instanceof Float64Array) checkF32Range(d, a, t, what);
      break;
    }
    case 'f16': {
      const a = new Uint16Array(out, 0, n);
      const f = narrowFormat('f16')!;
      for (let i = 0; i < n; i++) a[i] = encodeBits(roundToFormat(Number(d[i]), f), f); // encodeBits takes representable values
      break;
    }
    case 'i32': {
      const a = new Int32Array(out, 0, n);
      if (!(d instanceof BigInt64Array || d instanceof BigUint64Array)) {
        a.set(d as ArrayLike<number>); // i8/i16/u8/bool/i32: exact in i32
        break;
      }
      for (let i = 0; i < n; i++) {
        const x = d[i]!;
        if (typeof x === 'bigint') {
          if (x > 2147483647n || x < -2147483648n) {
            throw new LatheError('UnsupportedType', `${what} '${t.name}' (${t.dtype}) holds ${x} at element ${i}, outside i32, which the WGSL backend stores ${t.dtype} as`, { value: t.name });
          }
          a[i] = Number(x);
        } else a[i] = x;
      }
      break;
    }
    case 'u32': {
      if (t.dtype === 'u8') {
        new Uint8Array(out).set(d as Uint8Array); // 4-bit codes packed four bytes to a word (ops/svdquant.ts)
        break;
      }
      const a = new Uint32Array(out, 0, n);
      for (let i = 0; i < n; i++) {
        const x = Number(d[i]);
        if (x > 0xffffffff) {
          throw new LatheError('UnsupportedType', `${what} '${t.name}' (${t.dtype}) holds ${d[i]} at element ${i}, outside u32, which the WGSL backend stores ${t.dtype} as`, { value: t.name });
        }
        a[i] = x;
      }
      break;
    }
  }
  return new Uint8Array(out);
}

/** f64 values stored in f32 must fit it: a finite value that overflows to ±Inf is an error, not a wrong answer. */
function checkF32Range(d: Float64Array, a: Float32Array, t: ProgramTensor, what: string): void {
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(a[i]!) && Number.isFinite(d[i]!)) {
      throw new LatheError('UnsupportedType', `${what} '${t.name}' (f64) holds ${d[i]} at element ${i}, outside f32, which the WGSL backend stores f64 as`, { value: t.name });
    }
  }
}

/** Read-back bytes as the interpreter's tensor of the value's dtype (f16/bf16 computed in f32 are rounded here). */
export function fromStorage(bytes: ArrayBuffer, t: ProgramTensor): Tensor {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const dtype: DType = t.dtype;
  switch (t.elem) {
    case 'f32': {
      const src = new Float32Array(bytes, 0, n);
      if (dtype === 'f64') return makeTensor(dtype, t.shape, Float64Array.from(src));
      return roundTo(makeTensor(dtype, t.shape, dtype === 'f32' ? src : Float32Array.from(src)));
    }
    case 'f16': {
      const table = decodeTable(narrowFormat('f16')!);
      const src = new Uint16Array(bytes, 0, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[src[i]!]!;
      return makeTensor(dtype, t.shape, out);
    }
    case 'i32': {
      const src = new Int32Array(bytes, 0, n);
      switch (dtype) {
        case 'i32': return makeTensor(dtype, t.shape, src);
        case 'i64': return makeTensor(dtype, t.shape, BigInt64Array.from(src, (x) => BigInt(x)));
        case 'i8': return makeTensor(dtype, t.shape, Int8Array.from(src));
        case 'i16': return makeTensor(dtype, t.shape, Int16Array.from(src));
        case 'u8': return makeTensor(dtype, t.shape, Uint8Array.from(src));
        case 'bool': return makeTensor(dtype, t.shape, Uint8Array.from(src, (x) => (x !== 0 ? 1 : 0)));
        default: throw new LatheError('UnsupportedType', `cannot read ${dtype} back from i32 storage`, { value: t.name });
      }
    }
    case 'u32': {
      if (dtype === 'u8') return makeTensor(dtype, t.shape, new Uint8Array(bytes, 0, n).slice()); // packed bytes
      const src = new Uint32Array(bytes, 0, n);
      if (dtype === 'u64') return makeTensor(dtype, t.shape, BigUint64Array.from(src, (x) => BigInt(x)));
      return makeTensor(dtype, t.shape, dtype === 'u16' ? Uint16Array.from(src) : src);
    }
  }
}

// ---- one-call convenience ----

export interface RunWgslOptions extends SessionOptions {
  /** The device (default: the real adapter from openGpu()). */
  readonly gpu?: Gpu;
  readonly file?: string;
}

/** Specialize to the inputs' shapes, lower, run once on the device, and free its buffers. */
export async function runWgsl(model: Model, inputs: readonly Tensor[], options: RunWgslOptions = {}): Promise<Tensor[]> {
  const gpu = options.gpu ?? (await openGpu());
  if (!gpu) throw new LatheError('BackendError', `no WebGPU adapter: ${gpuUnavailableReason()}`);
  // Trailing inputs left out take their ONNX initializer defaults, as in the interpreter.
  inputs = withInputDefaults(model, inputs);
  // Compiled for these inputs: their shapes, and the values of inputs that only set shapes or
  // axes (a Slice's starts given as an input), which become constants of the program.
  const inputValues = valueInputs(model, inputs);
  refuseUnloweredControlFlow(model, lookupWgsl, 'WGSL', options.file);
  const spec = specialize(model, { inputShapes: inputs.map((t) => t.shape), inputValues, file: options.file });
  const program = lowerModel(spec, { caps: gpu.caps, file: options.file });
  const session = await Session.create(gpu, program, options);
  try {
    return await session.run(inputs.filter((_, i) => !inputValues.has(model.graph.inputs[i]!.name)));
  } finally {
    session.destroy();
  }
}
