import * as path from 'node:path';
import { LatheError } from '../../ir/errors.ts';
import { errorStats } from '../../ir/interp/error-stats.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { describe, isTensor } from '../../ir/interp/tensor.ts';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { readInputs } from '../conformance.ts';
import { runWithOrt } from '../ort-reference.ts';
import type { Command } from './command.ts';
import { onePositional } from './command.ts';

export const check: Command = {
  name: 'check',
  summary: 'run a model in ONNX Runtime and in lathe\'s interpreter and compare the outputs',
  help: `usage: lathe check MODEL.onnx --inputs DIR [--rtol R]

Runs the model on the same inputs (DIR/input_N.pb, by position) in ONNX Runtime's CPU provider
and in lathe's reference interpreter, and prints per output the largest absolute error and the
relative error max|lathe − ORT| / max|ORT|. Exits 1 when an output's relative error exceeds
--rtol (default 1e-4) or its shape differs.

options:
  --inputs DIR   folder with input_N.pb files (required)
  --rtol R       largest relative error accepted (default 1e-4)
  -h, --help     this help`,
  options: {
    inputs: { type: 'string' },
    rtol: { type: 'string' },
  },
  async run(args) {
    const file = onePositional(this, args, 'model');
    const inputsDir = args.values.inputs as string | undefined;
    if (!inputsDir) throw new LatheError('UsageError', `lathe check needs --inputs DIR\n\n${this.help}`);
    const rtol = args.values.rtol === undefined ? 1e-4 : Number(args.values.rtol);
    if (!(rtol >= 0)) throw new LatheError('UsageError', `--rtol must be a non-negative number`);
    if (path.extname(file) !== '.onnx') throw new LatheError('UsageError', `lathe check compares against ONNX Runtime, so it takes an .onnx model`);
    const model = importOnnxFile(file);
    const g = model.graph;
    const inputs = readInputs(g, inputsDir);
    const byName = new Map<string, Tensor>();
    inputs.forEach((v, i) => {
      if (!isTensor(v)) throw new LatheError('UnsupportedType', `input '${g.inputs[i]!.name}' is a ${describe(v)}; lathe check compares tensor inputs only`);
      byName.set(g.inputs[i]!.name, v);
    });
    const reference = await runWithOrt(path.resolve(file), byName);
    const ours = runModel(model, inputs);
    let worst = 0;
    console.log(`${'output'.padEnd(24)} ${'shape'.padEnd(18)} ${'max abs err'.padStart(12)} ${'rel err'.padStart(10)}`);
    g.outputs.forEach((name, i) => {
      const ref = reference.get(name);
      const got = ours[i];
      if (!ref || !isTensor(got)) throw new LatheError('VerifyError', `output '${name}' is missing from one of the runs`, { value: name });
      const s = errorStats(got, ref);
      const rel = s.shapeMatches ? s.maxRel : Infinity;
      worst = Math.max(worst, rel, s.nanMismatches > 0 ? Infinity : 0);
      const shape = s.shapeMatches ? `[${ref.shape.join(', ')}]` : `[${got.shape}] vs [${ref.shape}]`;
      console.log(`${name.padEnd(24)} ${shape.padEnd(18)} ${s.maxAbs.toExponential(2).padStart(12)} ${rel.toExponential(2).padStart(10)}${s.nanMismatches ? `  ${s.nanMismatches} NaN mismatches` : ''}`);
    });
    const ok = worst <= rtol;
    console.log(ok ? `agrees with ONNX Runtime within ${rtol} relative` : `DIFFERS from ONNX Runtime: worst relative error ${worst.toExponential(2)} > ${rtol}`);
    return ok ? 0 : 1;
  },
};
