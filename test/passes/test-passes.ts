// Test-only passes, registered in test registries (never in the global one): small, real
// transformations for exercising the manager, the golden harness and the CLI.
import { produce } from 'immer';
import { LatheError } from '../../ir/errors.ts';
import type { Model } from '../../ir/graph.ts';
import { useDef } from '../../passes/analyses.ts';
import type { Pass } from '../../passes/pass.ts';
import { PassRegistry } from '../../passes/registry.ts';

/** Removes onnx.Identity nodes in the main graph, reading their operand instead. */
export const dropIdentity: Pass<{ keepOutputs: boolean }> = {
  name: 'drop-identity',
  summary: 'remove Identity nodes (test pass)',
  options: { keepOutputs: { type: 'boolean', default: false, summary: 'keep Identities whose result the graph returns' } },
  preserves: [],
  run(model, ctx) {
    const g = model.graph;
    const returned = new Set(g.outputs);
    const drop = g.nodes.filter((n) => n.op === 'Identity' && n.inputs[0] && !(ctx.options.keepOutputs && returned.has(n.outputs[0]!.name)));
    if (drop.length === 0) return model;
    const alias = new Map(drop.map((n) => [n.outputs[0]!.name, n.inputs[0]!]));
    const resolve = (name: string): string => (alias.has(name) ? resolve(alias.get(name)!) : name);
    return produce(model, (m) => {
      m.graph.nodes = m.graph.nodes.filter((n) => !drop.some((d) => d.name === n.name));
      for (const n of m.graph.nodes) n.inputs = n.inputs.map((i) => (i === null ? null : resolve(i)));
      m.graph.outputs = m.graph.outputs.map(resolve);
    });
  },
};

/** Renames the first node's result without renaming its uses: a pass that breaks SSA. */
export const breakIr: Pass<{}> = {
  name: 'break-ir',
  summary: 'leave a dangling operand (test pass)',
  options: {},
  run: (model) =>
    produce(model, (m) => {
      const o = m.graph.nodes[0]!.outputs[0]!;
      o.name = `${o.name}_renamed`;
    }),
};

/** Edits half the model, then throws: the input must come out untouched. */
export const throwHalfway: Pass<{ lathe: boolean }> = {
  name: 'throw-halfway',
  summary: 'edit, then throw (test pass)',
  options: { lathe: { type: 'boolean', default: true, summary: 'throw a LatheError naming a node (else a TypeError)' } },
  run: (model, ctx) =>
    produce(model, (m) => {
      m.graph.nodes = [];
      m.graph.name = 'edited';
      if (ctx.options.lathe) throw new LatheError('ShapeError', 'cannot go on', { node: model.graph.nodes[0]?.name });
      (undefined as unknown as { x: number }).x;
    }),
};

/** Edits the input object in place, as a pass must not: the frozen input stops it. */
export const mutateInPlace: Pass<{}> = {
  name: 'mutate-in-place',
  summary: 'assign into its input (test pass)',
  options: {},
  run(model) {
    (model.graph as { name: string }).name = 'mutated';
    return model;
  },
};

/** Reads use-def; changes nothing unless `touch`. */
export const readUseDef: Pass<{ touch: boolean }> = {
  name: 'read-use-def',
  summary: 'read the use-def analysis (test pass)',
  options: {
    touch: { type: 'boolean', default: false, summary: 'return a new (equal) model' },
  },
  run(model, ctx) {
    ctx.analysis(useDef);
    return ctx.options.touch ? touched(model) : model;
  },
};

export const readUseDefPreserving: Pass<{}> = {
  name: 'read-use-def-preserving',
  summary: 'read use-def and return a new model that keeps it valid (test pass)',
  options: {},
  preserves: ['use-def'],
  run(model, ctx) {
    ctx.analysis(useDef);
    return touched(model);
  },
};

const touched = (m: Model): Model => ({ ...m, graph: { ...m.graph } });

/** A pass with options of every kind, for pipeline parsing. */
export const quantize: Pass<{ rank: number; format: string; fast: boolean; tag: string }> = {
  name: 'fake-quant',
  summary: 'does nothing; has options (test pass)',
  options: {
    rank: { type: 'number', default: 16, summary: 'rank' },
    format: { type: 'string', default: 'int4', choices: ['int4', 'nvfp4'], summary: 'format' },
    fast: { type: 'boolean', default: false, summary: 'fast' },
    tag: { type: 'string', default: '', summary: 'free text' },
  },
  run: (m) => m,
};

export function testRegistry(): PassRegistry {
  const r = new PassRegistry();
  for (const p of [dropIdentity, breakIr, throwHalfway, mutateInPlace, readUseDef, readUseDefPreserving, quantize]) r.register(p, 'test/passes/test-passes.ts');
  return r;
}
