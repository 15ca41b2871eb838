import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LatheError } from '../../ir/errors.ts';
import { writeTensorPb } from '../../ir/interp/pb.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { RuntimeValue } from '../../ir/interp/tensor.ts';
import { describe, isTensor, toF64 } from '../../ir/interp/tensor.ts';
import { readInputs } from '../conformance.ts';
import { loadModel } from '../load.ts';
import type { Command } from './command.ts';
import { onePositional } from './command.ts';
import { runPipeline } from '../../passes/manager.ts';
import { PIPELINE_HELP, PIPELINE_OPTIONS, pipelineFromArgs, runOptionsFromArgs } from './pass-args.ts';

export const run: Command = {
  name: 'run',
  summary: 'run a model on the reference interpreter',
  help: `usage: lathe run MODEL.onnx|FILE.lir --inputs DIR [-o DIR] [--passes PIPELINE]

Reads DIR/input_0.pb, input_1.pb, … (ONNX TensorProto files, as in the ONNX conformance data,
matched to the graph's inputs by position), runs the model on lathe's reference interpreter,
prints each output's type and a summary of its values, and with -o writes output_N.pb files.
With --passes the pipeline runs on the model first (so the outputs are those of the optimized
model).

options:
  --inputs DIR     folder with input_N.pb files (required)
  -o, --output DIR write output_N.pb files here
${PIPELINE_HELP}
  -h, --help       this help`,
  options: {
    inputs: { type: 'string' },
    output: { type: 'string', short: 'o' },
    ...PIPELINE_OPTIONS,
  },
  async run(args) {
    const file = onePositional(this, args, 'model');
    const inputsDir = args.values.inputs as string | undefined;
    if (!inputsDir) throw new LatheError('UsageError', `lathe run needs --inputs DIR\n\n${this.help}`);
    const pipeline = await pipelineFromArgs(args);
    let model = loadModel(file);
    if (pipeline) model = runPipeline(model, pipeline, runOptionsFromArgs(args, file)).model;
    const inputs = readInputs(model.graph, inputsDir);
    const t0 = performance.now();
    const outputs = runModel(model, inputs);
    const ms = performance.now() - t0;
    const outDir = args.values.output as string | undefined;
    if (outDir) mkdirSync(outDir, { recursive: true });
    outputs.forEach((v, i) => {
      const name = model.graph.outputs[i]!;
      console.log(`%${name}: ${summarize(v)}`);
      if (outDir) {
        if (!isTensor(v)) throw new LatheError('UnsupportedType', `output '${name}' is a ${describe(v)}; only tensors can be written as .pb files`);
        writeTensorPb(path.join(outDir, `output_${i}.pb`), v, name);
      }
    });
    console.log(`ran ${model.graph.nodes.length} nodes in ${ms.toFixed(1)} ms${outDir ? `; wrote ${outputs.length} output(s) to ${outDir}` : ''}`);
    return 0;
  },
};

function summarize(v: RuntimeValue): string {
  if (!isTensor(v) || v.dtype === 'string') return describe(v);
  const x = toF64(v);
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const e of x) {
    if (e < min) min = e;
    if (e > max) max = e;
    sum += e;
  }
  const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toPrecision(6));
  return x.length === 0 ? describe(v) : `${describe(v)}  min ${fmt(min)}  max ${fmt(max)}  mean ${fmt(sum / x.length)}`;
}
