// The PyTorch-exported fixtures (GPT-2-style decoder, ViT, DiT block) import with every shape
// inferred (symbolic batch/seq kept, nothing unknown), verify, and round-trip through the text form,
// also through a .lir file with a weight sidecar.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { modelsEqual } from '../../ir/equal.ts';
import type { Graph } from '../../ir/graph.ts';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { parseModel } from '../../ir/text/parse.ts';
import { printModel } from '../../ir/text/print.ts';
import { sidecarSink } from '../../ir/text/weights.ts';
import { typeToString } from '../../ir/types.ts';
import { verifyModel } from '../../ir/verify.ts';

const fixtures = fileURLToPath(new URL('../../fixtures/', import.meta.url));

const expectedIO: Record<string, { inputs: string[]; outputs: string[] }> = {
  'gpt2-tiny': { inputs: ['i64[batch, seq]'], outputs: ['f32[batch, seq, 256]'] },
  'vit-tiny': { inputs: ['f32[batch, 3, 32, 32]'], outputs: ['f32[batch, 10]'] },
  'dit-block': { inputs: ['f32[batch, 16, 64]', 'f32[batch, 64]'], outputs: ['f32[batch, 16, 64]'] },
};

function resultTypes(g: Graph): Map<string, string> {
  const types = new Map<string, string>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) types.set(o.name, typeToString(o.type));
  return types;
}

for (const [name, io] of Object.entries(expectedIO)) {
  test(`${name}: imports with every shape known, verifies, round-trips`, () => {
    const file = join(fixtures, name, 'model.onnx');
    const model = importOnnxFile(file);
    verifyModel(model, { file });
    const g = model.graph;
    assert.equal(g.inputs.map((v) => typeToString(v.type)), io.inputs);
    const types = resultTypes(g);
    assert.equal(g.outputs.map((o) => types.get(o)), io.outputs);
    const unknown = [...types].filter(([, t]) => t.includes('?') || t.includes('*'));
    assert.equal(unknown, [], 'results whose shape inference left something unknown');

    // In memory, weights referenced where they lie in model.onnx.
    const text = printModel(model, { baseDir: join(fixtures, name) });
    const parsed = parseModel(text, { baseDir: join(fixtures, name) });
    assert.is(printModel(parsed, { baseDir: join(fixtures, name) }), text);
    assert.is(modelsEqual(parsed, model), null);
    verifyModel(parsed);

    // Through a file elsewhere: weights go to the sidecar, and the dump loads back equal.
    const dir = mkdtempSync(join(tmpdir(), 'lathe-fixture-'));
    const lir = join(dir, `${name}.lir`);
    const sink = sidecarSink(`${lir}.weights`);
    writeFileSync(lir, printModel(model, { baseDir: dir, weights: sink }));
    sink.close();
    const reloaded = parseModel(readFileSync(lir, 'utf8'), { file: lir, baseDir: dir });
    assert.is(modelsEqual(reloaded, model), null);
  });
}

test.run();
