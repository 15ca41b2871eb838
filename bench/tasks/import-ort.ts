// Benchmark task (one process per run): ONNX Runtime (CPU) creates an inference session from an
// ONNX file, with its default options (which include its graph optimizations). Run by
// bench/run.ts; by hand:
//   node --import tsx bench/tasks/import-ort.ts bench/out/vit_b_16.onnx
import ort from 'onnxruntime-node';
import { begin, taskArgs } from '../lib/child.ts';

const [file] = taskArgs('import-ort.ts MODEL.onnx', 1) as [string];
const timer = begin();
const session = await timer.phaseAsync('create', () => ort.InferenceSession.create(file));
timer.info.inputs = session.inputNames.join(',');
timer.info.outputs = session.outputNames.join(',');
timer.finish();
await session.release();
