import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LatheError } from '../../ir/errors.ts';
import { writeTensorPb } from '../../ir/interp/pb.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { RuntimeValue } from '../../ir/interp/tensor.ts';
import { describe, isTensor, toF64 } from '../../ir/interp/tensor.ts';
import { CONFORMANCE_TOLERANCE, mismatch } from '../../ir/interp/compare.ts';
import type { Model } from '../../ir/graph.ts';
import { readInputs } from '../conformance.ts';
import { orderFromArgs, targetFromArgs } from './conformance.ts';
import { loadModel } from '../load.ts';
import type { Command } from './command.ts';
import { onePositional } from './command.ts';
import { runPipeline } from '../../passes/manager.ts';
import { PIPELINE_HELP, PIPELINE_OPTIONS, pipelineFromArgs, runOptionsFromArgs } from './pass-args.ts';

export const run: Command = {
  name: 'run',
  summary: 'run a model on the reference interpreter',
  help: `usage: lathe run MODEL.onnx|FILE.lir --inputs DIR [-o DIR] [--target interp|wgsl|cuda-cpu] [--passes PIPELINE]

Reads DIR/input_0.pb, input_1.pb, … (ONNX TensorProto files, as in the ONNX conformance data,
matched to the graph's inputs by position), runs the model on lathe's reference interpreter,
prints each output's type and a summary of its values, and with -o writes output_N.pb files.
With --passes the pipeline runs on the model first (so the outputs are those of the optimized
model).
With --target wgsl the model is compiled to WGSL kernels for the inputs' shapes and run on the
WebGPU adapter (lavapipe, set up by scripts/setup-webgpu.sh); it also runs on the interpreter
and prints each output's error against it (max absolute and relative difference), and exits 1
when an output differs beyond the conformance tolerance (relative 1e-3, absolute 1e-5).
With --target cuda-cpu the model is compiled to CUDA (what lathe compile --target cuda writes)
and run on the CPU harness (g++, CUDA threads as fibers), compared with the interpreter the same
way; --order forward|reverse|random picks the order a block's threads run in.

options:
  --inputs DIR     folder with input_N.pb files (required)
  -o, --output DIR write output_N.pb files here
  --target T       interp (the reference interpreter, default), wgsl or cuda-cpu
  --order O        cuda-cpu: forward (default), reverse or random thread order
${PIPELINE_HELP}
  -h, --help       this help`,
  options: {
    inputs: { type: 'string' },
    output: { type: 'string', short: 'o' },
    target: { type: 'string' },
    order: { type: 'string' },
    ...PIPELINE_OPTIONS,
  },
  async run(args) {
    const file = onePositional(this, args, 'model');
    const inputsDir = args.values.inputs as string | undefined;
    if (!inputsDir) throw new LatheError('UsageError', `lathe run needs --inputs DIR\n\n${this.help}`);
    const target = targetFromArgs(args.values.target);
    const pipeline = await pipelineFromArgs(args);
    let model = loadModel(file);
    if (pipeline) model = runPipeline(model, pipeline, runOptionsFromArgs(args, file)).model;
    const inputs = readInputs(model.graph, inputsDir);
    const t0 = performance.now();
    const order = orderFromArgs(args.values.order);
    const outputs = target === 'wgsl' ? await runOnWgsl(model, inputs, file) : target === 'cuda-cpu' ? await runOnCudaCpu(model, inputs, file, order) : runModel(model, inputs);
    const ms = performance.now() - t0;
    let failed = false;
    if (target !== 'interp') {
      const want = runModel(model, inputs);
      outputs.forEach((v, i) => {
        const name = model.graph.outputs[i]!;
        const why = mismatch(v, want[i]!, CONFORMANCE_TOLERANCE);
        if (why) failed = true;
        console.log(`%${name} vs interpreter: ${errorSummary(v, want[i]!)}${why ? `  MISMATCH: ${why}` : '  ok'}`);
      });
    }
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
    console.log(`ran ${model.graph.nodes.length} nodes${target === 'wgsl' ? ' as WGSL' : target === 'cuda-cpu' ? ' as CUDA on the CPU harness' : ''} in ${ms.toFixed(1)} ms${outDir ? `; wrote ${outputs.length} output(s) to ${outDir}` : ''}`);
    return failed ? 1 : 0;
  },
};

async function runOnWgsl(model: Model, inputs: RuntimeValue[], file: string): Promise<RuntimeValue[]> {
  const { runWgsl } = await import('../../backends/wgsl/runtime.ts');
  const tensors = inputs.map((v, i) => {
    if (!isTensor(v)) throw new LatheError('UnsupportedType', `input ${i} is a ${describe(v)}; the WGSL backend takes tensors`);
    return v;
  });
  return runWgsl(model, tensors, { file });
}

async function runOnCudaCpu(model: Model, inputs: RuntimeValue[], file: string, order: 'forward' | 'reverse' | 'random' | undefined): Promise<RuntimeValue[]> {
  const { runCudaCpu } = await import('../../backends/cuda/run-cpu.ts');
  const tensors = inputs.map((v, i) => {
    if (!isTensor(v)) throw new LatheError('UnsupportedType', `input ${i} is a ${describe(v)}; the CUDA backend takes tensors`);
    return v;
  });
  return runCudaCpu(model, tensors, { file, order });
}

/** Max absolute and relative (to max |want|) difference of two numeric tensors. */
function errorSummary(got: RuntimeValue, want: RuntimeValue): string {
  if (!isTensor(got) || !isTensor(want) || got.dtype === 'string' || got.data.length !== want.data.length) return `${describe(got)} vs ${describe(want)}`;
  const a = toF64(got);
  const b = toF64(want);
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > abs || (Number.isNaN(d) && !(Number.isNaN(a[i]!) && Number.isNaN(b[i]!)))) abs = Number.isNaN(d) ? Infinity : d;
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return `max |a−b| ${abs.toPrecision(3)}, relative ${(scale > 0 ? abs / scale : abs).toPrecision(3)}`;
}

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
