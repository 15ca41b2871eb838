// Benchmark task (one process per measurement): one model, end to end, lathe's WGSL against ONNX
// Runtime's WebGPU execution provider, both in this process on the same adapter (lavapipe through
// Dawn; ORT brings its own Dawn, pointed at the same Vulkan ICD).
//
// lathe: compile (specialize to the inputs' shapes, the default passes, lower, write the artifact
// folder with its generated host module), then the generated model.ts is imported and run as a
// user would: createModel(device, weights) and run(inputs), which includes the input upload and
// the output read-back. ORT: InferenceSession.create and run. First runs are timed alone; then WARM
// runs alternate lathe/ORT so drift in the machine's speed hits both alike; medians go in info.
// A lathe failure (an op without a lowering) is recorded and ORT is still measured.
//
//   node --import tsx bench/tasks/wgsl-run.ts MODEL.onnx INPUT_DIR OUT_DIR [WARM]
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import ort from 'onnxruntime-node';
import { compileWgsl, writeWgslArtifacts } from '../../backends/wgsl/compile.ts';
import { openGpu, prepareEnvironment, gpuUnavailableReason } from '../../backends/wgsl/gpu.ts';
import type { Model as HostModel, TensorInput, TensorOutput } from '../../backends/wgsl/host-runtime.ts';
import { loadModel } from '../../compiler/load.ts';
import { toOrtTensor } from '../../compiler/ort-reference.ts';
import { readTensorPb } from '../../ir/interp/pb.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { toF64 } from '../../ir/interp/tensor.ts';
import { parsePipeline } from '../../passes/pipeline.ts';
import { begin, taskArgs } from '../lib/child.ts';
import { median } from '../lib/measure.ts';

const [file, inputDir, outDir, warmArg] = taskArgs('wgsl-run.ts MODEL.onnx INPUT_DIR OUT_DIR [WARM]', 3) as [string, string, string, string?];
const warm = Number(warmArg ?? 3);

// VK_ICD_FILENAMES → lavapipe, before either Dawn creates its Vulkan instance (ORT's does so when
// the first WebGPU session is created, below).
prepareEnvironment();

const pbs = (prefix: string) =>
  readdirSync(inputDir)
    .filter((f) => new RegExp(`^${prefix}_\\d+\\.pb$`).test(f))
    .sort((a, b) => Number(a.match(/\d+/)![0]) - Number(b.match(/\d+/)![0]))
    .map((f) => readTensorPb(path.join(inputDir, f)).tensor);
const inputs = pbs('input');
const expected = pbs('output');

const gpu = await openGpu();
if (!gpu) throw new Error(`no WebGPU adapter: ${gpuUnavailableReason()}`);
const timer = begin();
timer.info.adapter = gpu.adapterName;

/** The interpreter's tensor as the generated host takes it. */
function hostInput(t: Tensor): TensorInput {
  const d = t.data;
  return d instanceof Float32Array || d instanceof Int32Array || d instanceof BigInt64Array ? d : Float32Array.from(toF64(t));
}
function relErr(got: ArrayLike<number>, want: ArrayLike<number | bigint>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    const w = Number(want[i]);
    diff = Math.max(diff, Math.abs(Number(got[i]) - w));
    scale = Math.max(scale, Math.abs(w));
  }
  return got.length !== want.length || Number.isNaN(diff) ? Infinity : scale ? diff / scale : diff;
}

// ---- lathe: compile, create ----
let lathe: { model: HostModel; feeds: Record<string, TensorInput>; outputs: readonly string[] } | undefined;
try {
  const model = loadModel(file);
  const artifacts = timer.phase('latheCompile', () => {
    const a = compileWgsl(model, { inputShapes: inputs.map((t) => t.shape), passes: parsePipeline('default'), passOptions: { out: () => {} }, file });
    writeWgslArtifacts(a, outDir);
    return a;
  });
  const m = artifacts.manifest;
  timer.info.dispatches = m.dispatches.length;
  timer.info.kernels = m.kernels.length;
  timer.info.buffers = m.buffers.length;
  timer.info.gpuBytes = m.totalBytes;
  timer.info.peakLiveBytes = m.peakBytes;
  const host = (await import(pathToFileURL(path.join(outDir, 'model.ts')).href)) as {
    createModel(d: GPUDevice, w: Uint8Array): Promise<HostModel<Record<string, TensorInput>, Record<string, TensorOutput>>>;
  };
  const weights = new Uint8Array(readFileSync(path.join(outDir, 'weights.safetensors')));
  const compiled = await timer.phaseAsync('latheCreate', () => host.createModel(gpu.device, weights));
  lathe = { model: compiled, feeds: Object.fromEntries(m.inputs.map((t, i) => [t.name, hostInput(inputs[i]!)])), outputs: m.outputs.map((o) => o.name) };
} catch (e) {
  timer.info.latheError = (e as Error).message.split('\n')[0]!.slice(0, 300);
}

// ---- ORT WebGPU: create ----
const session = await timer.phaseAsync('ortCreate', () => ort.InferenceSession.create(file, { executionProviders: ['webgpu'] }));
const ortFeeds = Object.fromEntries(session.inputNames.map((n, i) => [n, toOrtTensor(inputs[i]!)]));

// ---- first runs, then alternating warm runs ----
let latheOut: Record<string, TensorOutput> | undefined;
if (lathe) latheOut = await timer.phaseAsync('latheFirstRun', () => lathe!.model.run(lathe!.feeds));
const ortOut = await timer.phaseAsync('ortFirstRun', () => session.run(ortFeeds));
const latheTimes: number[] = [];
const ortTimes: number[] = [];
for (let i = 0; i < warm; i++) {
  if (lathe) {
    const t0 = performance.now();
    await lathe.model.run(lathe.feeds);
    latheTimes.push(performance.now() - t0);
  }
  const t0 = performance.now();
  await session.run(ortFeeds);
  ortTimes.push(performance.now() - t0);
}
timer.info.warmRuns = warm;
if (latheTimes.length) timer.info.latheWarmMs = median(latheTimes);
if (ortTimes.length) timer.info.ortWarmMs = median(ortTimes);

// ---- agreement: lathe vs ORT, and each vs the data set's expected outputs ----
session.outputNames.forEach((name, i) => {
  const o = ortOut[name]!.data as ArrayLike<number | bigint>;
  if (expected[i]) timer.info[`ortErr${i}`] = relErr(Array.from(o, Number), toF64(expected[i]!));
  if (latheOut && lathe) {
    const l = latheOut[lathe.outputs[i]!]!;
    timer.info[`latheVsOrtErr${i}`] = relErr(l, o);
    if (expected[i]) timer.info[`latheErr${i}`] = relErr(l, toF64(expected[i]!));
  }
});
timer.finish();
lathe?.model.destroy();
await session.release();
process.exit(0); // Dawn's threads would otherwise keep the process alive
