// Running a model's generated CUDA on the CPU (`--target cuda-cpu`): the model is specialized to
// the inputs, lowered and emitted exactly as `lathe compile --target cuda` writes it; a small
// driver that calls the C API (create, run with host buffers, destroy) is compiled with g++
// against the CPU harness (cpu/cuda_cpu.h: blocks on worker threads, CUDA threads as fibers) and
// run in its own process, so a kernel that crashes or deadlocks fails the run, not lathe.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DType } from '../../ir/dtype.ts';
import { LatheError } from '../../ir/errors.ts';
import type { Model } from '../../ir/graph.ts';
import { decodeTable, encodeBits, narrowFormat, roundToFormat } from '../../ir/interp/float.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { makeTensor } from '../../ir/interp/tensor.ts';
import { writeSafetensorsFile } from '../safetensors.ts';
import { specialize, valueInputs } from '../wgsl/specialize.ts';
import type { FiberOrder } from './cpu/build.ts';
import { compileCpu, defaultCacheDir, firstErrorLines, runCpu } from './cpu/build.ts';
import type { CudaArtifacts, CudaManifestTensor } from './emit.ts';
import { emitCuda, WEIGHTS_FILE } from './emit.ts';
import { lowerCudaModel } from './lower.ts';
import { lookupCuda } from './lowering.ts';
import { refuseUnloweredControlFlow } from '../lower-core.ts';
import { withInputDefaults } from '../shared/inputs.ts';

export interface CudaCpuOptions {
  readonly file?: string;
  /** The order fibers run in (forward, reverse, random): a missing barrier shows in the others. */
  readonly order?: FiberOrder;
  readonly seed?: number;
  /** An AddressSanitizer + UndefinedBehaviorSanitizer build. */
  readonly sanitize?: boolean;
  /** Worker threads running blocks. */
  readonly workers?: number;
}

/** Specialize to the inputs, lower, emit, build for the CPU harness, run once. */
export function runCudaCpu(model: Model, inputs: readonly Tensor[], options: CudaCpuOptions = {}): Tensor[] {
  // Trailing inputs left out take their ONNX initializer defaults, as in the interpreter.
  inputs = withInputDefaults(model, inputs);
  const inputValues = valueInputs(model, inputs);
  refuseUnloweredControlFlow(model, lookupCuda, 'CUDA', options.file);
  const spec = specialize(model, { inputShapes: inputs.map((t) => t.shape), inputValues, file: options.file });
  const program = lowerCudaModel(spec, { file: options.file });
  const art = emitCuda(program, { model: model.graph.name || 'model' });
  const fed = inputs.filter((_, i) => !inputValues.has(model.graph.inputs[i]!.name));
  return runArtifactsOnCpu(art, fed, options);
}

/** Build the emitted sources with the driver below (cached by their hash) and run them. */
export function runArtifactsOnCpu(art: CudaArtifacts, inputs: readonly Tensor[], options: CudaCpuOptions = {}): Tensor[] {
  const m = art.manifest;
  if (inputs.length !== m.inputs.length) throw new LatheError('UsageError', `the program takes ${m.inputs.length} inputs, ${inputs.length} given`);
  const hash = createHash('sha256');
  for (const [name, text] of Object.entries(art.sources)) hash.update(name).update('\0').update(text).update('\0');
  const dir = path.join(defaultCacheDir, 'models', hash.digest('hex').slice(0, 24));
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(art.sources)) writeFileSync(path.join(dir, name), text);

  let exe: string;
  try {
    exe = compileCpu(`// ${path.basename(dir)}\n${DRIVER}`, { includeDirs: [dir], sanitize: options.sanitize });
  } catch (e) {
    throw new LatheError('BackendError', `the generated CUDA does not compile for the CPU harness:\n${(e as Error).message}`, { file: dir });
  }
  // The weights go with each run, not with the cached build: programs with the same sources
  // (same shapes) can carry different constants.
  const run = path.join(dir, `run-${process.pid}-${Date.now()}`);
  mkdirSync(run, { recursive: true });
  const weights = path.join(run, WEIGHTS_FILE);
  writeSafetensorsFile(weights, art.weights, { format: 'lathe-cuda', model: m.model });
  inputs.forEach((t, i) => writeFileSync(path.join(run, `input_${i}.bin`), toBytes(t, m.inputs[i]!)));
  const r = runCpu(exe, [weights, run], { order: options.order, seed: options.seed, workers: options.workers });
  if (r.status !== 0) {
    const why = r.timedOut ? 'timed out' : r.signal ? `was killed by ${r.signal}` : `exited with ${r.status}`;
    throw new LatheError('BackendError', `the CUDA program on the CPU harness ${why}:\n${firstErrorLines(r.stderr) || r.stderr.slice(-2000)}`, { file: dir });
  }
  const outputs = m.outputs.map((t, i) => fromBytes(readFileSync(path.join(run, `output_${i}.bin`)), t));
  rmSync(run, { recursive: true, force: true });
  return outputs;
}

// Reads input_<i>.bin from the run folder, runs once with host buffers, writes output_<i>.bin.
const DRIVER = `#include "model.cu"
#include <cstdio>
#include <string>
#include <vector>

static bool read_file(const std::string& p, std::vector<unsigned char>& out, size_t want) {
  FILE* f = std::fopen(p.c_str(), "rb");
  if (!f) return false;
  out.resize(want);
  size_t got = want ? std::fread(out.data(), 1, want, f) : 0;
  int extra = std::fgetc(f);
  std::fclose(f);
  return got == want && extra == EOF;
}

int main(int argc, char** argv) {
  if (argc != 3) { std::fprintf(stderr, "usage: %s WEIGHTS RUN_DIR\\n", argv[0]); return 2; }
  const std::string dir = argv[2];
  lathe_model* m = nullptr;
  if (lathe_model_create(argv[1], &m) != LATHE_OK) { std::fprintf(stderr, "error: %s\\n", lathe_last_error()); return 3; }
  const int ni = lathe_model_num_inputs(), no = lathe_model_num_outputs();
  std::vector<std::vector<unsigned char>> in(ni), out(no);
  std::vector<const void*> in_ptr(ni + 1);
  std::vector<void*> out_ptr(no + 1);
  for (int i = 0; i < ni; i++) {
    if (!read_file(dir + "/input_" + std::to_string(i) + ".bin", in[i], lathe_model_input_bytes(i))) {
      std::fprintf(stderr, "error: input %d (%s): cannot read %zu bytes\\n", i, lathe_model_input_name(i), lathe_model_input_bytes(i));
      return 4;
    }
    in_ptr[i] = in[i].data();
  }
  for (int i = 0; i < no; i++) { out[i].resize(lathe_model_output_bytes(i)); out_ptr[i] = out[i].data(); }
  if (lathe_model_run(m, in_ptr.data(), out_ptr.data(), 0) != LATHE_OK) { std::fprintf(stderr, "error: %s\\n", lathe_last_error()); return 5; }
  for (int i = 0; i < no; i++) {
    FILE* f = std::fopen((dir + "/output_" + std::to_string(i) + ".bin").c_str(), "wb");
    if (!f || (out[i].size() && std::fwrite(out[i].data(), 1, out[i].size(), f) != out[i].size())) { std::fprintf(stderr, "error: cannot write output %d\\n", i); return 6; }
    std::fclose(f);
  }
  lathe_model_destroy(m);
  return 0;
}
`;

/** A tensor's elements as the bytes of its dtype (what the kernels read). */
export function toBytes(t: Tensor, want: CudaManifestTensor): Uint8Array {
  const d = t.data;
  if (Array.isArray(d)) throw new LatheError('UnsupportedType', `input '${want.name}' is a string tensor`, { value: want.name });
  if (t.dtype !== want.dtype) throw new LatheError('UsageError', `input '${want.name}' is ${t.dtype}; the program takes ${want.dtype}`, { value: want.name });
  const f = narrowFormat(t.dtype as DType);
  if (f && (t.dtype === 'f16' || t.dtype === 'bf16')) {
    const bits = new Uint16Array(d.length);
    // encodeBits takes representable values: round first (an f16 tensor built by hand may hold any f32).
    for (let i = 0; i < d.length; i++) bits[i] = encodeBits(roundToFormat(Number(d[i]), f), f);
    return new Uint8Array(bits.buffer);
  }
  const view = d as unknown as ArrayBufferView;
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  if (bytes.length !== want.bytes) throw new LatheError('UsageError', `input '${want.name}' has ${bytes.length} bytes; its shape [${want.shape.join(', ')}] needs ${want.bytes}`, { value: want.name });
  return bytes;
}

const ARRAYS: Partial<Record<DType, { new (b: ArrayBuffer): ArrayLike<number | bigint> }>> = {
  f32: Float32Array, f64: Float64Array, i8: Int8Array, u8: Uint8Array, i16: Int16Array, u16: Uint16Array,
  i32: Int32Array, u32: Uint32Array, i64: BigInt64Array, u64: BigUint64Array, bool: Uint8Array,
};

/** Output bytes as the interpreter's tensor of its dtype. */
export function fromBytes(b: Buffer, t: CudaManifestTensor): Tensor {
  if (b.length !== t.bytes) throw new LatheError('BackendError', `output '${t.name}' came back with ${b.length} bytes, not ${t.bytes}`, { value: t.name });
  const copy = new Uint8Array(b).buffer;
  if (t.dtype === 'f16' || t.dtype === 'bf16') {
    const table = decodeTable(narrowFormat(t.dtype)!);
    return makeTensor(t.dtype, t.shape, Float32Array.from(new Uint16Array(copy), (h) => table[h]!));
  }
  const A = ARRAYS[t.dtype];
  if (!A) throw new LatheError('UnsupportedType', `output '${t.name}' is ${t.dtype}, which the CUDA backend does not store`, { value: t.name });
  return makeTensor(t.dtype, t.shape, new A(copy) as never);
}
