// The three exported fixtures compiled end to end, as `lathe compile` does (their dims bound by
// their test_data_set_0 inputs, the default passes), run through the generated host module on a
// real adapter, and compared with the reference interpreter on the same inputs. Without an adapter
// only the compile and the artifacts' consistency are checked.
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeSafetensors } from '../../backends/safetensors.ts';
import { compileWgsl, writeWgslArtifacts } from '../../backends/wgsl/compile.ts';
import { gpuUnavailableReason, openGpu, PROJECT_ROOT } from '../../backends/wgsl/gpu.ts';
import { readInputs } from '../../compiler/conformance.ts';
import { loadModel } from '../../compiler/load.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { parsePipeline } from '../../passes/pipeline.ts';
import { hostInput, importHost, relError, scratchDir } from './compile-helpers.ts';

const FIXTURES = ['gpt2-tiny', 'vit-tiny', 'dit-block'];
// f32 kernels against the f32 interpreter: reassociated sums (tiled matmuls, tree reductions)
// differ in the last bits, which layers of a model amplify a little.
const TOLERANCE = 1e-4;

const dir = scratchDir('compile-fixtures-');

for (const name of FIXTURES) {
  test(`${name}: compiles, and the generated host module matches the interpreter`, async () => {
    const file = path.join(PROJECT_ROOT, 'fixtures', name, 'model.onnx');
    const model = loadModel(file);
    const inputs = readInputs(model.graph, path.join(PROJECT_ROOT, 'fixtures', name, 'test_data_set_0')) as Tensor[];
    const a = compileWgsl(model, { inputShapes: inputs.map((t) => t.shape), passes: parsePipeline('default'), passOptions: { out: () => {} }, file });
    const out = path.join(dir, name);
    writeWgslArtifacts(a, out);
    const m = a.manifest;
    assert.ok(m.dispatches.length > 0);
    const weights = new Uint8Array(readFileSync(path.join(out, 'weights.safetensors')));
    const stored = decodeSafetensors(weights).tensors;
    for (const w of m.weights.tensors) assert.is(stored.get(w.name)?.bytes.length, w.bytes, w.name);

    const gpu = await openGpu();
    if (!gpu) {
      console.log(`  (${name}: run skipped: ${gpuUnavailableReason()})`);
      return;
    }
    const want = runModel(model, inputs) as Tensor[];
    const host = await importHost(path.join(out, 'model.ts'));
    const compiled = await host.createModel(gpu.device, weights);
    try {
      const got = await compiled.run(Object.fromEntries(m.inputs.map((t, i) => [t.name, hostInput(inputs[i]!)])));
      m.outputs.forEach((o, i) => {
        const e = relError(got[o.name]!, want[i]!);
        assert.ok(e <= TOLERANCE, `${name} output '${o.name}': max|gpu − interp| / max|interp| = ${e} (tolerance ${TOLERANCE})`);
      });
    } finally {
      compiled.destroy();
    }
  });
}

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
