// Benchmark task (one process per run): lathe's reference interpreter runs a model once on the
// inputs in a folder of input_N.pb files (written by bench/benchmarks/interp.ts). Phases: import
// (importOnnxFile), inputs (reading the .pb files), run (runModel). The time of each op type (by
// the interpreter's onNode hook: the time since the previous node finished) and the slowest nodes
// go into the result's info. By hand:
//   node --import tsx bench/tasks/interp-lathe.ts bench/out/resnet50.onnx bench/out/interp-inputs/resnet50
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Node } from '../../ir/graph.ts';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { readTensorPb } from '../../ir/interp/pb.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { RuntimeValue, Tensor } from '../../ir/interp/tensor.ts';
import { describe, isTensor } from '../../ir/interp/tensor.ts';
import { begin, taskArgs } from '../lib/child.ts';

const [file, inputDir] = taskArgs('interp-lathe.ts MODEL.onnx INPUT_DIR', 2) as [string, string];

/** input_N.pb files of a folder, in N order, by tensor name. */
function readInputs(dir: string): Map<string, Tensor> {
  const files = readdirSync(dir)
    .filter((f) => /^input_\d+\.pb$/.test(f))
    .sort((a, b) => Number(a.slice(6, -3)) - Number(b.slice(6, -3)));
  return new Map(files.map((f) => {
    const { name, tensor } = readTensorPb(path.join(dir, f));
    return [name, tensor];
  }));
}

const timer = begin();
const model = timer.phase('import', () => importOnnxFile(file));
const inputs = timer.phase('inputs', () => readInputs(inputDir));

const byOp = new Map<string, { ms: number; count: number }>();
const slowest: { ms: number; what: string }[] = [];
// Operand shapes, for naming the slowest nodes: inputs, constants, then results as they appear.
const operands = new Map<string, string>();
for (const [name, t] of inputs) operands.set(name, describe(t));
for (const c of model.graph.constants) operands.set(c.name, `${c.tensor.dtype}[${c.tensor.shape.join(', ')}]`);
let last = 0;
// Each node's time is the time since the previous node finished (the hook's own bookkeeping is
// left out); a node with subgraphs gets what its subgraph nodes did not take.
const onNode = (node: Node, results: readonly (RuntimeValue | undefined)[]) => {
  const ms = performance.now() - last;
  const e = byOp.get(node.op) ?? { ms: 0, count: 0 };
  e.ms += ms;
  e.count++;
  byOp.set(node.op, e);
  slowest.push({ ms, what: `${node.name || '?'} ${node.op}(${node.inputs.map((x) => (x ? operands.get(x) ?? '?' : '-')).join(', ')})` });
  node.outputs.forEach((o, i) => {
    if (o) operands.set(o.name, describe(results[i]));
  });
  last = performance.now();
};
last = performance.now();
const outputs = timer.phase('run', () => runModel(model, inputs, { onNode }));

const total = [...byOp.values()].reduce((s, e) => s + e.ms, 0);
for (const [op, e] of [...byOp].sort((a, b) => b[1].ms - a[1].ms)) {
  timer.info[`op:${op}`] = Number(e.ms.toFixed(2));
  timer.info[`count:${op}`] = e.count;
}
timer.info.nodes = model.graph.nodes.length;
timer.info.opTotalMs = Number(total.toFixed(1));
slowest.sort((a, b) => b.ms - a.ms);
slowest.slice(0, 8).forEach((s, i) => (timer.info[`slow${i}`] = `${s.ms.toFixed(1)} ms ${s.what}`));
outputs.forEach((o, i) => {
  if (!isTensor(o) || !(o.data instanceof Float32Array)) return;
  let sum = 0;
  for (const v of o.data) sum += v;
  timer.info[`out${i}:${model.graph.outputs[i]}:sum`] = sum;
});
timer.finish();
