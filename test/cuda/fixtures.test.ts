// The fixture models (GPT-2-style decoder, ViT, DiT block) end to end through the CUDA backend
// on the CPU harness, after the default pass pipeline (fused attention, norms, GELU), against
// the reference interpreter on the original model: relative error at most 1e-4 for f32.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCudaCpu } from '../../backends/cuda/run-cpu.ts';
import { readInputs } from '../../compiler/conformance.ts';
import { maxRelError } from '../../ir/interp/compare.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { runPipeline } from '../../passes/manager.ts';
import { parsePipeline } from '../../passes/pipeline.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures');

for (const name of ['gpt2-tiny', 'vit-tiny', 'dit-block']) {
  test(`${name} on the CUDA CPU harness matches the interpreter (rel ≤ 1e-4)`, () => {
    const model = importOnnxFile(path.join(root, name, 'model.onnx'));
    const inputs = readInputs(model.graph, path.join(root, name, 'test_data_set_0')) as Tensor[];
    const want = runModel(model, inputs) as Tensor[];
    const optimized = runPipeline(model, parsePipeline('default')).model;
    const got = runCudaCpu(optimized, inputs);
    assert.is(got.length, want.length);
    want.forEach((w, i) => {
      const err = maxRelError(got[i]!, w);
      assert.ok(err <= 1e-4, `${name} output ${i}: relative error ${err}`);
    });
  });
}

test.run();
