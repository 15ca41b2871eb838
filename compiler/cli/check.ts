import * as path from 'node:path';
import { LatheError } from '../../ir/errors.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { describe, isTensor } from '../../ir/interp/tensor.ts';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { readInputs } from '../conformance.ts';
import { randomInputs } from '../random-inputs.ts';
import type { Command } from './command.ts';
import { onePositional } from './command.ts';

export const check: Command = {
  name: 'check',
  summary: 'run a model in ONNX Runtime and in lathe\'s interpreter and compare the outputs',
  help: `usage: lathe check MODEL.onnx (--inputs DIR | --random [--seed N] [--dim NAME=SIZE]...) [--rtol R]

Runs the model on the same inputs in ONNX Runtime's CPU provider and in lathe's reference
interpreter, and prints per output the largest absolute error and the relative error
max|lathe − ORT| / max|ORT| (integer and boolean outputs must be equal). Exits 1 when an output
exceeds --rtol or its dtype or shape differs.

options:
  --inputs DIR      folder with input_N.pb files (ONNX TensorProto, by position)
  --random          seeded random inputs instead: floats normal(0, 1), integers in [0, 4)
  --seed N          seed for --random (default 0)
  --dim NAME=SIZE   size of a symbolic dim for --random (default 1); repeatable
  --rtol R          largest relative error accepted (default 1e-4)
  -h, --help        this help`,
  options: {
    inputs: { type: 'string' },
    random: { type: 'boolean' },
    seed: { type: 'string' },
    dim: { type: 'string', multiple: true },
    rtol: { type: 'string' },
  },
  async run(args) {
    const file = onePositional(this, args, 'model');
    if (path.extname(file) !== '.onnx') throw new LatheError('UsageError', `lathe check compares against ONNX Runtime, so it takes an .onnx model`);
    const rtol = args.values.rtol === undefined ? 1e-4 : Number(args.values.rtol);
    if (!(rtol >= 0)) throw new LatheError('UsageError', `--rtol must be a non-negative number`);
    const model = importOnnxFile(file);
    const inputs = args.values.random ? randomFeed(args.values) : fileFeed(model.graph, args.values.inputs as string | undefined, this.help);
    const { compareWithOrt } = await import('../ort-reference.ts'); // ONNX Runtime only when needed
    const result = await compareWithOrt(path.resolve(file), inputs(model), { model, relTolerance: rtol });
    console.log(`${'output'.padEnd(24)} ${'shape'.padEnd(18)} ${'max abs err'.padStart(12)} ${'rel err'.padStart(10)}`);
    for (const o of result.outputs) {
      const shape = `[${o.shape.join(', ')}]`;
      const detail = o.problem ?? (o.mismatches ? `${o.mismatches} elements differ` : '');
      console.log(`${o.name.padEnd(24)} ${shape.padEnd(18)} ${o.maxAbs.toExponential(2).padStart(12)} ${o.rel.toExponential(2).padStart(10)}${detail ? `  ${detail}` : ''}`);
    }
    console.log(result.ok ? `agrees with ONNX Runtime within ${rtol} relative` : `DIFFERS from ONNX Runtime (criterion: ${rtol} relative)`);
    return result.ok ? 0 : 1;
  },
};

type Feed = (model: ReturnType<typeof importOnnxFile>) => Map<string, Tensor>;

function fileFeed(g: ReturnType<typeof importOnnxFile>['graph'], dir: string | undefined, help: string): Feed {
  if (!dir) throw new LatheError('UsageError', `lathe check needs --inputs DIR or --random\n\n${help}`);
  return () => {
    const byName = new Map<string, Tensor>();
    readInputs(g, dir).forEach((v, i) => {
      if (!isTensor(v)) throw new LatheError('UnsupportedType', `input '${g.inputs[i]!.name}' is a ${describe(v)}; lathe check compares tensor inputs only`);
      byName.set(g.inputs[i]!.name, v);
    });
    return byName;
  };
}

function randomFeed(values: Record<string, unknown>): Feed {
  const dims: Record<string, number> = {};
  for (const d of (values.dim as string[] | undefined) ?? []) {
    const m = /^([^=]+)=(\d+)$/.exec(d);
    if (!m) throw new LatheError('UsageError', `--dim takes NAME=SIZE, got '${d}'`);
    dims[m[1]!] = Number(m[2]);
  }
  const seed = values.seed === undefined ? 0 : Number(values.seed);
  return (model) => randomInputs(model, { seed, dims });
}
