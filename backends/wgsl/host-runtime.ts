// The run-time half of a generated host module (backends/wgsl/host.ts copies this file, minus its
// import, into every model.ts). It depends on nothing but WebGPU: it creates the planned buffers,
// uploads the weights from the safetensors bytes, compiles each unique kernel once, records one
// bind group and uniform buffer per dispatch, and on run() uploads the inputs, encodes every
// dispatch into one compute pass, copies the outputs to mappable buffers and reads them back.
//
// Written as a module of its own (not a string in the generator) so that the project's own
// type-check and tests cover exactly the code every generated model runs.
import type { Manifest, ManifestTensor, StorageElem } from './manifest.ts';

/** What run() accepts for an input: the storage type's array, or one it converts from. */
export type TensorInput = Float32Array | Float64Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | Uint8Array | Uint16Array | Int8Array | Int16Array | number[];
/** What run() returns: f32 and f16 storage as Float32Array, i32 as Int32Array, u32 as Uint32Array. */
export type TensorOutput = Float32Array | Int32Array | Uint32Array;

export interface Model<I = Record<string, TensorInput>, O = Record<string, TensorOutput>> {
  /** The embedded manifest: inputs, outputs, buffers, kernels, dispatches. */
  readonly manifest: Manifest;
  /** Dispatches per run. */
  readonly dispatchCount: number;
  /** Runs the model once; calls made while one runs wait their turn. */
  run(inputs: I): Promise<O>;
  /** Frees every GPU buffer; the model cannot run afterwards. */
  destroy(): void;
}

const BYTES: Record<StorageElem, number> = { f32: 4, f16: 2, i32: 4, u32: 4 };
// The WebGPU spec's flag values, written out: Node hosts (Dawn's `webgpu` package) give a device
// without putting GPUBufferUsage & co. on globalThis, and the module must run there too.
const MAP_READ = 0x1, COPY_SRC = 0x4, COPY_DST = 0x8, UNIFORM = 0x40, STORAGE = 0x80;
const COMPUTE_STAGE = 0x4;
const MAP_MODE_READ = 0x1;
const align4 = (n: number) => Math.ceil(n / 4) * 4;

/** Builds a model from its manifest, its kernels' WGSL (parallel to manifest.kernels) and weights. */
export async function createModelFromManifest<I, O>(
  manifest: Manifest,
  kernelCode: readonly string[],
  device: GPUDevice,
  weights: ArrayBuffer | Uint8Array,
): Promise<Model<I, O>> {
  for (const f of manifest.features) {
    if (!device.features.has(f as GPUFeatureName)) throw new Error(`${manifest.model}: the device lacks feature '${f}', which these kernels need`);
  }
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  const buffers = manifest.buffers.map((b) =>
    device.createBuffer({ label: `${manifest.model}/buffer${b.id}`, size: Math.max(4, align4(b.size)), usage: STORAGE | COPY_DST | COPY_SRC }),
  );
  const owned: GPUBuffer[] = [...buffers];
  try {
    uploadWeights(device, manifest, buffers, weights instanceof Uint8Array ? weights : new Uint8Array(weights));
    const pipelines = await Promise.all(manifest.kernels.map((k, i) => compileKernel(device, manifest, i, kernelCode[i] ?? '')));
    const passes = manifest.dispatches.map((d) => {
      const entries: GPUBindGroupEntry[] = d.bindings.map((b, i) => ({ binding: i, resource: { buffer: buffers[b.buffer]!, offset: b.offset, size: align4(b.size) } }));
      if (manifest.kernels[d.kernel]!.hasUniforms) {
        const data = new Uint32Array(d.uniformData);
        const ub = device.createBuffer({ label: `${d.name}/uniforms`, size: Math.max(16, data.byteLength), usage: UNIFORM | COPY_DST });
        owned.push(ub);
        device.queue.writeBuffer(ub, 0, data);
        entries.push({ binding: d.bindings.length, resource: { buffer: ub } });
      }
      const { pipeline, layout } = pipelines[d.kernel]!;
      return { pipeline, workgroups: d.workgroups, bindGroup: device.createBindGroup({ label: d.name, layout, entries }) };
    });
    const staging = manifest.outputs.map((o) => {
      const b = device.createBuffer({ label: `${o.name}/readback`, size: Math.max(4, align4(o.bytes)), usage: MAP_READ | COPY_DST });
      owned.push(b);
      return b;
    });
    const oom = await device.popErrorScope();
    const invalid = await device.popErrorScope();
    if (oom || invalid) throw new Error(`${manifest.model}: setting up the model failed: ${(oom ?? invalid)!.message}`);

    let queue: Promise<unknown> = Promise.resolve();
    let destroyed = false;
    const runOnce = async (inputs: Record<string, TensorInput>): Promise<Record<string, TensorOutput>> => {
      if (destroyed) throw new Error(`${manifest.model}: run() after destroy()`);
      for (const name of Object.keys(inputs)) {
        if (!manifest.inputs.some((t) => t.name === name)) throw new Error(`${manifest.model}: no input named '${name}' (inputs: ${manifest.inputs.map((t) => t.name).join(', ')})`);
      }
      for (const t of manifest.inputs) {
        const x = inputs[t.name];
        if (x === undefined) throw new Error(`${manifest.model}: input '${t.name}' is missing`);
        const bytes = toStorage(x, t);
        device.queue.writeBuffer(buffers[t.buffer]!, t.offset, bytes.buffer, bytes.byteOffset, bytes.byteLength);
      }
      const enc = device.createCommandEncoder({ label: manifest.model });
      const pass = enc.beginComputePass();
      for (const p of passes) {
        pass.setPipeline(p.pipeline);
        pass.setBindGroup(0, p.bindGroup);
        pass.dispatchWorkgroups(p.workgroups[0], p.workgroups[1], p.workgroups[2]);
      }
      pass.end();
      manifest.outputs.forEach((o, i) => enc.copyBufferToBuffer(buffers[o.buffer]!, o.offset, staging[i]!, 0, align4(o.bytes)));
      device.queue.submit([enc.finish()]);
      await Promise.all(staging.map((s) => s.mapAsync(MAP_MODE_READ)));
      const out: Record<string, TensorOutput> = {};
      manifest.outputs.forEach((o, i) => {
        out[o.name] = fromStorage(staging[i]!.getMappedRange().slice(0, o.bytes), o.storage);
        staging[i]!.unmap();
      });
      return out;
    };
    return {
      manifest,
      dispatchCount: passes.length,
      run(inputs: I): Promise<O> {
        const next = queue.then(() => runOnce(inputs as Record<string, TensorInput>));
        queue = next.catch(() => undefined);
        return next as Promise<O>;
      },
      destroy() {
        destroyed = true;
        for (const b of owned) b.destroy();
      },
    };
  } catch (e) {
    for (const b of owned) b.destroy();
    throw e;
  }
}

/** Reads the safetensors header and copies each weight into its buffer. */
function uploadWeights(device: GPUDevice, m: Manifest, buffers: GPUBuffer[], file: Uint8Array): void {
  if (m.weights.tensors.length === 0) return;
  const bad = (why: string) => new Error(`${m.model}: ${m.weights.file}: ${why}`);
  if (file.byteLength < 8) throw bad('too short to be a safetensors file');
  const headerLen = Number(new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true));
  if (8 + headerLen > file.byteLength) throw bad('truncated header');
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + headerLen))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const dataStart = 8 + headerLen;
  for (const w of m.weights.tensors) {
    const h = header[w.name];
    if (!h) throw bad(`has no tensor '${w.name}'`);
    const [begin, end] = h.data_offsets;
    if (end - begin !== w.bytes || h.dtype !== w.storage.toUpperCase()) throw bad(`tensor '${w.name}' is ${h.dtype} of ${end - begin} bytes; the kernels want ${w.storage} of ${w.bytes}`);
    if (dataStart + end > file.byteLength) throw bad(`tensor '${w.name}' lies past the end of the file`);
    let bytes = file.subarray(dataStart + begin, dataStart + end);
    if (bytes.byteLength % 4) {
      // writeBuffer moves whole 4-byte words: pad an odd-length f16 tensor with a copy.
      const padded = new Uint8Array(align4(bytes.byteLength));
      padded.set(bytes);
      bytes = padded;
    }
    device.queue.writeBuffer(buffers[w.buffer]!, w.offset, bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}

async function compileKernel(device: GPUDevice, m: Manifest, index: number, code: string): Promise<{ pipeline: GPUComputePipeline; layout: GPUBindGroupLayout }> {
  const k = m.kernels[index]!;
  const where = `${m.model}: kernel ${k.file} (first used by ${m.dispatches.find((d) => d.kernel === index)?.name ?? 'no dispatch'})`;
  const module = device.createShaderModule({ label: k.file, code });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((msg) => msg.type === 'error');
  if (errors.length) throw new Error(`${where} does not compile:\n${errors.map((e) => `  ${e.lineNum}:${e.linePos} ${e.message}`).join('\n')}`);
  // An explicit layout: 'auto' would drop bindings a kernel declares but never reads.
  const entries: GPUBindGroupLayoutEntry[] = k.bindings.map((b, i) => ({
    binding: i,
    visibility: COMPUTE_STAGE,
    buffer: { type: b.access === 'read' ? 'read-only-storage' : 'storage' },
  }));
  if (k.hasUniforms) entries.push({ binding: k.bindings.length, visibility: COMPUTE_STAGE, buffer: { type: 'uniform' } });
  const layout = device.createBindGroupLayout({ label: k.file, entries });
  try {
    const pipeline = await device.createComputePipelineAsync({
      label: k.file,
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    return { pipeline, layout };
  } catch (e) {
    throw new Error(`${where}: no pipeline: ${(e as Error).message}`);
  }
}

/** An input as the bytes its buffer holds, checking its length against the shape. */
function toStorage(x: TensorInput, t: ManifestTensor): Uint8Array {
  const n = t.bytes / BYTES[t.storage];
  if (x.length !== n) throw new Error(`input '${t.name}' has ${x.length} elements; its shape [${t.shape.join(', ')}] needs ${n}`);
  const view = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  switch (t.storage) {
    case 'f32': {
      if (x instanceof Float32Array) return view(x);
      const f = Float32Array.from(x as ArrayLike<number>, Number);
      // f64 is stored in f32: a finite value that overflows it is an error, not a silent Inf.
      f.forEach((v, i) => {
        if (!Number.isFinite(v) && Number.isFinite(Number((x as ArrayLike<number>)[i]))) throw new Error(`input '${t.name}': ${(x as ArrayLike<number>)[i]} at element ${i} does not fit the f32 the kernels read`);
      });
      return view(f);
    }
    case 'i32':
      return view(x instanceof Int32Array ? x : Int32Array.from(x as ArrayLike<number>, (v) => checkInt(v, t.name, -0x80000000, 0x7fffffff)));
    case 'u32':
      return view(x instanceof Uint32Array ? x : Uint32Array.from(x as ArrayLike<number>, (v) => checkInt(v, t.name, 0, 0xffffffff)));
    case 'f16': {
      // Padded to whole 4-byte words, which writeBuffer moves.
      const out = new Uint16Array(align4(n * 2) / 2);
      if (x instanceof Uint16Array) out.set(x); // already f16 bit patterns
      else for (let i = 0; i < n; i++) out[i] = f32ToF16(Number((x as ArrayLike<number>)[i]));
      return view(out);
    }
  }
}

function checkInt(v: number | bigint, name: string, lo: number, hi: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new Error(`input '${name}': ${v} does not fit the 32-bit integers the kernels read`);
  return n;
}

function fromStorage(bytes: ArrayBuffer, storage: StorageElem): TensorOutput {
  switch (storage) {
    case 'f32': return new Float32Array(bytes);
    case 'i32': return new Int32Array(bytes);
    case 'u32': return new Uint32Array(bytes);
    case 'f16': return Float32Array.from(new Uint16Array(bytes), f16ToF32);
  }
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE binary16 bits of x, rounded to nearest even (overflow → ±Inf, NaN kept). */
export function f32ToF16(x: number): number {
  f32Scratch[0] = x;
  const b = u32Scratch[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000; // the implicit bit, then shift into the subnormal range
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let r = m >>> shift;
    if (rest > half || (rest === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && r & 1)) r++; // may carry into the exponent: correct
  return sign | r;
}

export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
