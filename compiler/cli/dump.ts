import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { printModel } from '../../ir/text/print.ts';
import { sidecarSink } from '../../ir/text/weights.ts';
import { loadModel } from '../load.ts';
import type { Command } from './command.ts';
import { onePositional } from './command.ts';

export const dump: Command = {
  name: 'dump',
  summary: 'print a model (ONNX or .lir) as IR text',
  help: `usage: lathe dump MODEL.onnx|FILE.lir [-o FILE.lir] [--inline-limit N]

Prints the model in lathe's IR text form. Constants up to --inline-limit elements (default 64)
are printed inline; larger ones are references into a weight file: the model's own file (ONNX
raw data and external data are referenced where they are, never copied) or, for weights that
live only in memory, a sidecar FILE.lir.weights written beside the output.
With -o the text goes to FILE.lir; weights outside FILE.lir's folder are copied into its sidecar,
so the dump can be moved together with its sidecar and re-loaded with 'lathe dump FILE.lir'.

options:
  -o, --output FILE.lir   write the text here instead of to standard output
  --inline-limit N        largest constant (in elements) printed inline (default 64)
  -h, --help              this help`,
  options: {
    output: { type: 'string', short: 'o' },
    'inline-limit': { type: 'string' },
  },
  run(args) {
    const input = onePositional(this, args, 'model');
    const model = loadModel(input);
    const inlineLimit = args.values['inline-limit'] === undefined ? undefined : Number(args.values['inline-limit']);
    const output = args.values.output as string | undefined;
    if (!output) {
      process.stdout.write(printModel(model, { baseDir: process.cwd(), inlineLimit }));
      return 0;
    }
    const out = resolve(output);
    mkdirSync(dirname(out), { recursive: true });
    const weights = sidecarSink(`${out}.weights`);
    const text = printModel(model, { baseDir: dirname(out), inlineLimit, weights });
    weights.close();
    writeFileSync(out, text);
    process.stderr.write(`wrote ${basename(out)}${weights.bytesWritten ? ` and ${basename(out)}.weights (${weights.bytesWritten} bytes)` : ''}\n`);
    return 0;
  },
};
