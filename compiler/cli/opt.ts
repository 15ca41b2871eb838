import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { LatheError } from '../../ir/errors.ts';
import type { Model } from '../../ir/graph.ts';
import { printModel } from '../../ir/text/print.ts';
import { sidecarSink } from '../../ir/text/weights.ts';
import { runPipeline } from '../../passes/manager.ts';
import { loadModel } from '../load.ts';
import type { Command } from './command.ts';
import { onePositional } from './command.ts';
import { INSTRUMENT_HELP, INSTRUMENT_OPTIONS, PIPELINE_HELP, PIPELINE_OPTIONS, pipelineFromArgs, runOptionsFromArgs } from './pass-args.ts';

export const opt: Command = {
  name: 'opt',
  summary: 'run a pass pipeline on a model and print or save the result',
  help: `usage: lathe opt MODEL.onnx|FILE.lir --passes PIPELINE [-o FILE.lir|FILE.onnx] [options]

Runs the passes of PIPELINE in order on the model (verifying the model after each pass that
changed it, by default) and prints the result as IR text, or writes it with -o: a .lir file
(with a FILE.lir.weights sidecar for weights that live only in memory) or an ONNX model.
PIPELINE is comma-separated pass names with options in braces:
  canonicalize,fuse-attention,svdquant{rank=32 format=int4}
'default' stands for the default pipeline. 'lathe passes' lists every pass and its options.

options:
  -o, --output FILE       write FILE.lir (IR text) or FILE.onnx instead of printing
  --external-data         with -o FILE.onnx: weights go to FILE.onnx.data (for models over 2 GB)
${PIPELINE_HELP}
${INSTRUMENT_HELP}
  -h, --help              this help`,
  options: {
    output: { type: 'string', short: 'o' },
    'external-data': { type: 'boolean' },
    ...PIPELINE_OPTIONS,
    ...INSTRUMENT_OPTIONS,
  },
  async run(args) {
    const input = onePositional(this, args, 'model');
    const pipeline = await pipelineFromArgs(args);
    if (!pipeline) throw new LatheError('UsageError', `lathe opt needs --passes PIPELINE (e.g. --passes default)\n\n${this.help}`);
    const runOptions = runOptionsFromArgs(args, input);
    for (const name of runOptions.printIrBefore ?? []) {
      if (!pipeline.some((e) => e.pass.name === name)) {
        throw new LatheError('UsageError', `--print-ir-before ${name}: the pipeline has no pass '${name}' (it runs ${pipeline.map((e) => e.pass.name).join(', ') || 'nothing'})`);
      }
    }
    const model = loadModel(input);
    const result = runPipeline(model, pipeline, runOptions);
    const output = args.values.output as string | undefined;
    if (!output) {
      process.stdout.write(printModel(result.model, { baseDir: process.cwd() }));
      return 0;
    }
    const changed = result.records.filter((r) => r.changed).length;
    const ran = result.records.length;
    const note = `${ran} pass${ran === 1 ? '' : 'es'} ran, ${changed} changed the model`;
    if (output.endsWith('.onnx')) await writeOnnx(result.model, output, args.values['external-data'] === true);
    else if (output.endsWith('.lir')) writeLir(result.model, output);
    else throw new LatheError('UsageError', `-o takes a .lir or .onnx file, not ${output}`);
    process.stderr.write(`wrote ${basename(output)} (${note})\n`);
    return 0;
  },
};

function writeLir(model: Model, output: string): void {
  const out = resolve(output);
  mkdirSync(dirname(out), { recursive: true });
  const weights = sidecarSink(`${out}.weights`);
  const text = printModel(model, { baseDir: dirname(out), weights });
  weights.close();
  writeFileSync(out, text);
}

// The exporter is imported only when needed: printing IR must not depend on it loading.
async function writeOnnx(model: Model, output: string, externalData: boolean): Promise<void> {
  let exporter: typeof import('../../ir/onnx/export.ts');
  try {
    exporter = await import('../../ir/onnx/export.ts');
  } catch (e) {
    throw new LatheError('UsageError', `writing .onnx needs the ONNX exporter (ir/onnx/export.ts), which failed to load: ${(e as Error).message}; write a .lir instead`);
  }
  mkdirSync(dirname(resolve(output)), { recursive: true });
  exporter.exportOnnxFile(model, output, { externalData });
}
