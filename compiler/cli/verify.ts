import { verifyModel } from '../../ir/verify.ts';
import { loadModel } from '../load.ts';
import type { Command } from './command.ts';
import { onePositional } from './command.ts';

export const verify: Command = {
  name: 'verify',
  summary: 'check a model against the IR rules and every op\'s type rules',
  help: `usage: lathe verify MODEL.onnx|FILE.lir

Checks SSA form, definition before use, subgraph scoping, constant sizes, op signatures and
attributes, and that every stored type agrees with what the op's inference gives.
Exits 0 and prints 'ok' when the model verifies; otherwise prints the first problem and exits 1.

options:
  -h, --help   this help`,
  options: {},
  run(args) {
    const input = onePositional(this, args, 'model');
    const model = loadModel(input);
    verifyModel(model, { file: input });
    const n = model.graph.nodes.length;
    console.log(`${input}: ok (${n} nodes)`);
    return 0;
  },
};
