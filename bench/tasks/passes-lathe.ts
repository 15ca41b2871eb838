// Benchmark task (one process per run): lathe imports a model and runs the default pipeline on it
// (canonicalize, fuse-attention) with verify-each on, as `lathe opt --passes default` does.
// Phases: import, pipeline. The pass timings and node counts go into the result's info.
//   node --import tsx bench/tasks/passes-lathe.ts bench/out/vit_b_16.onnx
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { qualifiedOp } from '../../ir/graph.ts';
import { runPipeline } from '../../passes/manager.ts';
import { parsePipeline } from '../../passes/pipeline.ts';
import { DEFAULT_PIPELINE } from '../../passes/index.ts';
import { begin, taskArgs } from '../lib/child.ts';

const [file] = taskArgs('passes-lathe.ts MODEL.onnx', 1) as [string];
const timer = begin();
const model = timer.phase('import', () => importOnnxFile(file));
const pipeline = parsePipeline(DEFAULT_PIPELINE);
const result = timer.phase('pipeline', () => runPipeline(model, pipeline, { verifyEach: true, out: () => {} }));
const after = result.model.graph.nodes;
timer.info.nodesBefore = model.graph.nodes.length;
timer.info.nodesAfter = after.length;
timer.info.attention = after.filter((n) => qualifiedOp(n) === 'lathe.Attention').length;
for (const r of result.records) {
  timer.info[`pass:${r.pass}`] = Number(r.ms.toFixed(1));
  timer.info[`verify:${r.pass}`] = Number(r.verifyMs.toFixed(1));
}
timer.finish();
