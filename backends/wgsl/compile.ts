// Compiling a model to WGSL artifacts: specialize its symbolic dims, run the passes, lower it to a Program
// (kernels, buffer plan, constants), then write a folder a WebGPU host can run with no lathe:
//
//   kernels/<op>-<n>.wgsl   one file per unique kernel key (dispatches share them)
//   weights.safetensors      the constants, in the storage types the kernels read (i64 → i32, ...)
//   manifest.json            inputs/outputs, buffers (plan sizes), kernels, dispatches, peak memory
//   model.ts, model.d.ts, model.js   the host module (backends/wgsl/host.ts)
//
// Compiling needs no device: it targets the limits every adapter lathe supports offers
// (PORTABLE_CAPS: 256 invocations, 16 KiB workgroup storage), with shader-f16 when asked.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { LatheError } from '../../ir/errors.ts';
import type { Model } from '../../ir/graph.ts';
import { fromConst } from '../../ir/interp/tensor.ts';
import { runPipeline, type RunOptions } from '../../passes/manager.ts';
import type { Pipeline } from '../../passes/pipeline.ts';
import type { SafetensorsEntry } from '../safetensors.ts';
import { writeSafetensorsFile } from '../safetensors.ts';
import { PORTABLE_CAPS } from './gpu.ts';
import { compactJson, generateHost, type HostModule } from './host.ts';
import type { Kernel } from './kernel.ts';
import type { DeviceCaps } from './lowering.ts';
import { lowerModel, rootOf, type Program, type ProgramTensor } from './lower.ts';
import type { Manifest, ManifestBuffer, ManifestTensor } from './manifest.ts';
import { MANIFEST_FORMAT } from './manifest.ts';
import { toStorage } from './runtime.ts';
import { narrowed } from './kernel.ts';
import { specialize } from './specialize.ts';
import { packUniforms } from './uniforms.ts';

export interface CompileWgslOptions {
  /** Sizes of the model's symbolic dims (`{ batch: 1, seq: 16 }`). */
  readonly dims?: Readonly<Record<string, number>>;
  /** Or the shapes of the inputs it will run with, by position (the dims are read off them). */
  readonly inputShapes?: readonly (readonly number[] | undefined)[];
  /** Allow f16 storage and arithmetic (the device must offer shader-f16). */
  readonly f16?: boolean;
  /** The device limits to compile for (default PORTABLE_CAPS). */
  readonly caps?: DeviceCaps;
  /**
   * Passes to run after the dims are bound and before lowering (shape arithmetic folds away only
   * once shapes are static); none when not given.
   */
  readonly passes?: Pipeline;
  readonly passOptions?: RunOptions;
  /** The model's file, for messages. */
  readonly file?: string;
}

export interface WgslArtifacts {
  readonly manifest: Manifest;
  /** The WGSL of manifest.kernels[i]. */
  readonly kernelCode: readonly string[];
  readonly host: HostModule;
  /** The constants as safetensors entries; their bytes are made only when written. */
  readonly weights: readonly SafetensorsEntry[];
  readonly program: Program;
  /** Things the user should know (e.g. --f16 on a model with no f16 values). */
  readonly notes: readonly string[];
}

const padded = (n: number) => Math.max(4, Math.ceil(n / 4) * 4);

/** Lowers the model and builds the artifacts in memory (weights stay lazy). */
export function compileWgsl(model: Model, options: CompileWgslOptions = {}): WgslArtifacts {
  const f16 = options.f16 ?? false;
  const caps: DeviceCaps = { ...(options.caps ?? PORTABLE_CAPS), f16 };
  let spec = specialize(model, { dims: options.dims, inputShapes: options.inputShapes, file: options.file });
  if (options.passes?.length) spec = runPipeline(spec, options.passes, { file: options.file, ...options.passOptions }).model;
  const program = lowerModel(spec, { caps, file: options.file });
  const notes: string[] = [];
  if (f16 && ![...program.values.values()].some((v) => v.elem === 'f16')) {
    notes.push('--f16: the model has no f16 values, so no kernel uses f16 (lathe has no pass converting an f32 model to f16 yet)');
  }
  const narrow = [...new Set([...program.values.values()].filter((v) => narrowed(v.dtype)).map((v) => v.dtype))];
  if (narrow.length) {
    notes.push(`WGSL has no 64-bit types: ${narrow.join(', ')} values are stored and computed in 32 bits (f64 as f32, i64 as i32, u64 as u32); uploads that do not fit are refused`);
  }

  // Unique kernels by key; equal keys must mean equal text (the runtime caches pipelines by key).
  const kernelIndex = new Map<string, number>();
  const unique: Kernel[] = [];
  const perOp = new Map<string, number>();
  const kernelFiles: string[] = [];
  for (const k of program.kernels) {
    const seen = kernelIndex.get(k.key);
    if (seen !== undefined) {
      if (unique[seen]!.code !== k.code) {
        throw new LatheError('BackendError', `kernels '${unique[seen]!.name}' and '${k.name}' share the key '${k.key}' but not their WGSL (a lowering's key misses something its text depends on)`, { node: k.node, op: k.op });
      }
      continue;
    }
    kernelIndex.set(k.key, unique.length);
    unique.push(k);
    const op = k.op.replace(/^.*\./, '').replace(/[^A-Za-z0-9_-]/g, '_');
    const n = perOp.get(op) ?? 0;
    perOp.set(op, n + 1);
    kernelFiles.push(`kernels/${op}-${n}.wgsl`);
  }

  const bufferOf = (name: string) => {
    const id = program.plan.assignment.get(rootOf(program, name));
    if (id === undefined) throw new LatheError('BackendError', `value '${name}' has no buffer in the plan`, { value: name });
    return id;
  };
  const tensor = (t: ProgramTensor): ManifestTensor => ({ name: t.name, dtype: t.dtype, shape: [...t.shape], storage: t.elem, buffer: bufferOf(t.name), offset: 0, bytes: t.bytes });
  const kinds = { input: 'input', output: 'output', constant: 'weight', intermediate: 'activation' } as const;
  const buffers: ManifestBuffer[] = program.plan.buffers.map((b) => ({ id: b.id, size: padded(b.bytes), kind: kinds[b.role], values: [...b.values] }));
  const weightTensors = program.constants.map((c) => tensor(program.values.get(c.name)!));

  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    model: model.graph.name || 'model',
    dims: boundDims(model, spec, options.dims),
    f16,
    features: unique.some((k) => k.bindings.some((b) => b.elem === 'f16') || /\benable f16;/.test(k.code)) ? ['shader-f16'] : [],
    inputs: program.inputs.map(tensor),
    outputs: program.outputs.map(tensor),
    weights: { file: 'weights.safetensors', tensors: weightTensors },
    buffers,
    kernels: unique.map((k, i) => ({
      key: k.key,
      file: kernelFiles[i]!,
      bindings: k.bindings.map((b) => ({ access: b.access, elem: b.elem })),
      hasUniforms: k.uniforms.length > 0,
    })),
    // A dispatch of zero workgroups does nothing (an empty tensor): left out.
    dispatches: program.kernels
      .filter((k) => k.dispatch.every((d) => d > 0))
      .map((k) => ({
        name: k.name,
        node: k.node,
        op: k.op,
        kernel: kernelIndex.get(k.key)!,
        bindings: k.bindings.map((b) => ({ buffer: bufferOf(b.value), offset: 0, size: padded(program.values.get(b.value)!.bytes), value: b.value })),
        uniforms: Object.fromEntries(k.uniforms.map((u) => [u.name, Array.isArray(u.value) ? [...(u.value as number[])] : (u.value as number)])),
        uniformData: k.uniforms.length ? [...new Uint32Array(packUniforms(k.uniforms))] : [],
        workgroups: [k.dispatch[0], k.dispatch[1], k.dispatch[2]] as const,
      })),
    totalBytes: buffers.reduce((s, b) => s + b.size, 0),
    peakBytes: program.plan.peakLiveBytes,
  };

  // Each weight's bytes are made when the writer reaches it, then dropped: converted to its
  // storage type (the same conversion the in-process runtime uploads), exact length, no padding.
  const weights: SafetensorsEntry[] = program.constants.map((c) => {
    const t = program.values.get(c.name)!;
    return {
      name: c.name,
      dtype: t.elem,
      // u8 codes packed four to a u32 word (ops/svdquant.ts) are stored as those words.
      shape: t.dtype === 'u8' && t.elem === 'u32' ? [t.bytes / 4] : [...t.shape],
      bytes: () => toStorage(fromConst(c.tensor), t, 'constant').subarray(0, t.bytes),
    };
  });
  const kernelCode = unique.map((k) => k.code);
  return { manifest, kernelCode, host: generateHost(manifest, kernelCode), weights, program, notes };
}

/** The sizes the symbolic dims of the inputs got (from `dims` or from the input shapes). */
function boundDims(before: Model, after: Model, given: Readonly<Record<string, number>> = {}): Record<string, number> {
  const dims: Record<string, number> = { ...given };
  before.graph.inputs.forEach((v, i) => {
    const s = v.type.kind === 'tensor' ? v.type.shape : null;
    const t = after.graph.inputs[i]?.type;
    const bound = t?.kind === 'tensor' ? t.shape : null;
    s?.forEach((d, j) => {
      if (typeof d === 'string' && typeof bound?.[j] === 'number') dims[d] = bound[j] as number;
    });
  });
  return dims;
}

/** What writeWgslArtifacts wrote, relative to the folder. */
export interface WrittenArtifacts {
  readonly dir: string;
  readonly files: readonly string[];
  readonly weightBytes: number;
}

/** Writes the artifact folder (replacing the kernels/ folder of an earlier compile). */
export function writeWgslArtifacts(a: WgslArtifacts, dir: string): WrittenArtifacts {
  const out = path.resolve(dir);
  rmSync(path.join(out, 'kernels'), { recursive: true, force: true });
  mkdirSync(path.join(out, 'kernels'), { recursive: true });
  const files: string[] = [];
  const put = (rel: string, text: string) => {
    writeFileSync(path.join(out, rel), text);
    files.push(rel);
  };
  a.manifest.kernels.forEach((k, i) => put(k.file, a.kernelCode[i]!));
  const layout = writeSafetensorsFile(path.join(out, a.manifest.weights.file), a.weights, { format: 'lathe-wgsl', model: a.manifest.model });
  files.push(a.manifest.weights.file);
  put('manifest.json', `${compactJson(a.manifest)}\n`);
  put('model.ts', a.host.ts);
  put('model.d.ts', a.host.dts);
  put('model.js', a.host.js);
  return { dir: out, files, weightBytes: layout.totalBytes };
}
