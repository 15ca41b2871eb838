// Benchmark task (one process per run): ONNX Runtime (CPU) runs a model on the inputs in a folder
// of input_N.pb files (written by bench/benchmarks/interp.ts): session creation, the first run
// (phase `run`, comparable with lathe's single run) and then WARM more runs, whose median goes
// into info.warmRunMs. THREADS 0 = ONNX Runtime's default intra-op thread count. By hand:
//   node --import tsx bench/tasks/interp-ort.ts bench/out/resnet50.onnx bench/out/interp-inputs/resnet50 1 5
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { readTensorPb } from '../../ir/interp/pb.ts';
import { begin, taskArgs } from '../lib/child.ts';
import { median } from '../lib/measure.ts';
import { toOrtTensor } from '../../compiler/ort-reference.ts';

const [file, inputDir, threadsArg, warmArg] = taskArgs('interp-ort.ts MODEL.onnx INPUT_DIR [THREADS] [WARM]', 2) as [string, string, string?, string?];
const threads = Number(threadsArg ?? 0);
const warm = Number(warmArg ?? 5);

const feeds: Record<string, ort.Tensor> = {};
for (const f of readdirSync(inputDir).filter((f) => /^input_\d+\.pb$/.test(f))) {
  const { name, tensor } = readTensorPb(path.join(inputDir, f));
  feeds[name] = toOrtTensor(tensor);
}

const timer = begin();
const options: ort.InferenceSession.SessionOptions = threads > 0 ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {};
const session = await timer.phaseAsync('create', () => ort.InferenceSession.create(file, options));
const results = await timer.phaseAsync('run', () => session.run(feeds));
const times: number[] = [];
for (let i = 0; i < warm; i++) {
  const t0 = performance.now();
  await session.run(feeds);
  times.push(performance.now() - t0);
}
timer.info.threads = threads || 'default';
timer.info.warmRuns = warm;
if (times.length) timer.info.warmRunMs = median(times);
session.outputNames.forEach((name, i) => {
  const d = results[name]!.data;
  if (!(d instanceof Float32Array)) return;
  let sum = 0;
  for (const v of d) sum += v;
  timer.info[`out${i}:${name}:sum`] = sum;
});
timer.finish();
await session.release();
