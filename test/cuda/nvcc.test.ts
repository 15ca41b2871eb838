// nvcc compile checks: the generated kernels of the fixture models and of the op family tests
// (test/cuda/helpers.ts checkCuda runs the same check on every program it builds) build for sm_80 and sm_90 with warnings as errors, and ptxas reports
// no register spills and no stack (local memory) in any kernel — the kernels declare none.
// Skipped, never failed, where nvcc is not installed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileCuda } from '../../backends/cuda/compile.ts';
import { findNvcc, parseResourceUsage } from '../../backends/cuda/nvcc.ts';
import { assertNoSpills } from './helpers.ts';
import { readInputs } from '../../compiler/conformance.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { parsePipeline } from '../../passes/pipeline.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures');

test('parses ptxas resource lines per entry', () => {
  const text = [
    "ptxas info    : Compiling entry function 'k_a' for 'sm_90'",
    'ptxas info    : Function properties for k_a',
    '    16 bytes stack frame, 8 bytes spill stores, 4 bytes spill loads',
    'ptxas info    : Used 40 registers, used 1 barriers, 4096 bytes smem',
    "ptxas info    : Compiling entry function 'k_b' for 'sm_90'",
    'ptxas info    : Function properties for k_b',
    '    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads',
    'ptxas info    : Used 12 registers, used 0 barriers',
  ].join('\n');
  assert.equal(parseResourceUsage(text, 90), [
    { entry: 'k_a', arch: 90, registers: 40, barriers: 1, stackBytes: 16, spillStoreBytes: 8, spillLoadBytes: 4, sharedBytes: 4096 },
    { entry: 'k_b', arch: 90, registers: 12, barriers: 0, stackBytes: 0, spillStoreBytes: 0, spillLoadBytes: 0, sharedBytes: 0 },
  ]);
});

test('the fixtures\' kernels compile with nvcc for sm_80 and sm_90: no spills, no local memory', () => {
  if (!findNvcc()) {
    console.log('  (nvcc not installed: skipped)');
    return;
  }
  for (const name of ['gpt2-tiny', 'vit-tiny', 'dit-block']) {
    const dir = path.join(root, name);
    const model = importOnnxFile(path.join(dir, 'model.onnx'));
    const inputs = readInputs(model.graph, path.join(dir, 'test_data_set_0')) as Tensor[];
    const art = compileCuda(model, { inputShapes: inputs.map((t) => t.shape), passes: parsePipeline('default') });
    assert.ok(art.manifest.kernels.length > 5, `${name}: ${art.manifest.kernels.length} kernels`);
    assertNoSpills(name, art.sources['kernels.cuh']);
  }
});

test.run();
