import { constType } from '../../ir/graph.ts';
import { typeToString } from '../../ir/types.ts';
import { loadModel } from '../load.ts';
import { formatBytes, modelStats } from '../model-stats.ts';
import type { Command } from './command.ts';
import { onePositional } from './command.ts';

export const info: Command = {
  name: 'info',
  summary: 'summarize a model: inputs, outputs, op histogram, parameters, opsets',
  help: `usage: lathe info MODEL.onnx|FILE.lir [--json]

Prints the model's inputs and outputs with their types, its opsets and producer, an op
histogram (subgraphs included), and its parameter count and bytes.

options:
  --json       print the same facts as JSON
  -h, --help   this help`,
  options: { json: { type: 'boolean' } },
  run(args) {
    const input = onePositional(this, args, 'model');
    const model = loadModel(input);
    const g = model.graph;
    const stats = modelStats(model);
    const typeOf = new Map<string, string>();
    for (const v of g.inputs) typeOf.set(v.name, typeToString(v.type));
    for (const c of g.constants) typeOf.set(c.name, typeToString(constType(c)));
    for (const n of g.nodes) for (const o of n.outputs) if (o) typeOf.set(o.name, typeToString(o.type));
    const histogram = [...stats.ops.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const facts = {
      file: input,
      producer: model.producer ?? null,
      opsets: model.opsets,
      inputs: g.inputs.map((v) => ({ name: v.name, type: typeToString(v.type) })),
      outputs: g.outputs.map((name) => ({ name, type: typeOf.get(name) ?? '?' })),
      nodes: stats.nodes,
      subgraphs: stats.subgraphs,
      parameters: stats.parameters,
      parameterBytes: stats.parameterBytes,
      ops: Object.fromEntries(histogram),
    };
    if (args.values.json) {
      console.log(JSON.stringify(facts, null, 2));
      return 0;
    }
    const lines = [
      `model:      ${input}`,
      `producer:   ${facts.producer ?? '(unknown)'}`,
      `opsets:     ${Object.entries(model.opsets).map(([d, v]) => `${d} ${v}`).join(', ')}`,
      `inputs:`,
      ...facts.inputs.map((v) => `  %${v.name}: ${v.type}`),
      `outputs:`,
      ...facts.outputs.map((v) => `  %${v.name}: ${v.type}`),
      `parameters: ${stats.parameters.toLocaleString('en-US')} (${formatBytes(stats.parameterBytes)})`,
      `nodes:      ${stats.nodes}${stats.subgraphs ? ` (in ${stats.subgraphs + 1} graphs)` : ''}`,
      `ops:`,
      ...histogram.map(([op, n]) => `  ${String(n).padStart(6)}  ${op}`),
    ];
    console.log(lines.join('\n'));
    return 0;
  },
};
