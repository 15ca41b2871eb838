// The real-models check (compiler/ort-reference.ts, as bench/real-models.ts uses it) on the committed fixtures: lathe's reference
// interpreter and ONNX Runtime (CPU) run each fixtures/*/model.onnx on its test_data_set_0 inputs
// and agree within rel = max|a-b| / max|b| ≤ 1e-4 on every output. The big models (resnet50,
// vit_b_16, the npm-packaged ones) stay in `node --import tsx bench/real-models.ts`.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { readTensorPb } from '../../ir/interp/pb.ts';
import { makeTensor } from '../../ir/interp/tensor.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { compareWithOrt, outputError, REL_TOLERANCE } from '../../compiler/ort-reference.ts';
import { randomInputs } from '../../compiler/random-inputs.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');

const fixtureNames = () =>
  readdirSync(FIXTURES)
    .filter((n) => statSync(join(FIXTURES, n)).isDirectory() && existsSync(join(FIXTURES, n, 'model.onnx')))
    .sort();

function testInputs(dir: string): Map<string, Tensor> {
  const files = readdirSync(dir)
    .filter((f) => /^input_\d+\.pb$/.test(f))
    .sort((a, b) => Number(a.slice(6, -3)) - Number(b.slice(6, -3)));
  return new Map(files.map((f) => {
    const { name, tensor } = readTensorPb(join(dir, f));
    return [name, tensor] as const;
  }));
}

test('fixtures are there to check', () => {
  assert.ok(fixtureNames().length >= 3, `fixtures: ${fixtureNames().join(', ')}`);
});

for (const name of fixtureNames()) {
  test(`${name}: lathe's interpreter agrees with ONNX Runtime within ${REL_TOLERANCE} (test_data_set_0)`, async () => {
    const file = join(FIXTURES, name, 'model.onnx');
    const inputs = testInputs(join(FIXTURES, name, 'test_data_set_0'));
    assert.ok(inputs.size > 0, `${name}: no inputs`);
    const r = await compareWithOrt(file, inputs, { ortOptions: { intraOpNumThreads: 1, interOpNumThreads: 1 } });
    assert.ok(r.outputs.length > 0);
    for (const o of r.outputs) {
      assert.ok(o.ok, `${name}: output ${o.name}: ${o.problem ?? `rel ${o.rel} (max |a-b| ${o.maxAbs}, max |b| ${o.maxRef}), ${o.mismatches} mismatches`}`);
      assert.ok(o.maxRef > 0, `${name}: output ${o.name} is all zero, which checks nothing`);
    }
    assert.ok(r.ok);
  });
}

test('randomInputs: seeded, symbolic dims sized, rules applied', () => {
  const model = importOnnxFile(join(FIXTURES, 'gpt2-tiny', 'model.onnx'));
  const input = model.graph.inputs[0]!;
  assert.is(input.type.kind, 'tensor');
  const a = randomInputs(model, { seed: 3, defaultDim: 5 });
  const b = randomInputs(model, { seed: 3, defaultDim: 5 });
  const c = randomInputs(model, { seed: 4, defaultDim: 5 });
  const ta = a.get(input.name)!;
  assert.equal([...ta.shape].every((d) => d > 0), true);
  assert.ok(ta.shape.includes(5), `shape [${ta.shape.join(', ')}]`);
  assert.equal(Array.from(ta.data as ArrayLike<unknown>), Array.from(b.get(input.name)!.data as ArrayLike<unknown>));
  assert.not.equal(Array.from(ta.data as ArrayLike<unknown>), Array.from(c.get(input.name)!.data as ArrayLike<unknown>));
  const d = randomInputs(model, { inputs: { [input.name]: { shape: [1, 3], value: 2 } } });
  assert.equal(d.get(input.name)!.shape, [1, 3]);
  assert.equal(Array.from(d.get(input.name)!.data as ArrayLike<unknown>, Number), [2, 2, 2]);
});

test('gpt2-tiny: random token ids of another length agree too', async () => {
  const file = join(FIXTURES, 'gpt2-tiny', 'model.onnx');
  const model = importOnnxFile(file);
  const r = await compareWithOrt(file, randomInputs(model, { seed: 1, defaultDim: 3 }), { model, ortOptions: { intraOpNumThreads: 1 } });
  assert.ok(r.ok, JSON.stringify(r.outputs));
});

test('outputError: the relative error is max|a-b| / max|b|; shapes, dtypes and NaNs are checked', () => {
  const f = (xs: number[]) => makeTensor('f32', [xs.length], Float32Array.from(xs));
  const e = outputError('y', f([1, 2, 4.002]), f([1, 2, 4]));
  assert.ok(Math.abs(e.maxAbs - 0.002) < 1e-6);
  assert.ok(Math.abs(e.rel - 0.0005) < 1e-6);
  assert.is(e.ok, false);
  assert.is(outputError('y', f([1, 2, 4.0002]), f([1, 2, 4])).ok, true);
  assert.is(outputError('y', f([0, 0]), f([0, 0])).rel, 0);
  assert.is(outputError('y', f([1, NaN]), f([1, 2])).ok, false);
  assert.is(outputError('y', f([1, NaN]), f([1, NaN])).ok, true);
  assert.ok(outputError('y', f([1, 2]), f([1, 2, 3])).problem);
  const i = (xs: number[]) => makeTensor('i32', [xs.length], Int32Array.from(xs));
  assert.is(outputError('y', i([1, 2, 3]), i([1, 2, 4])).mismatches, 1);
  assert.is(outputError('y', i([1, 2, 3]), f([1, 2, 3])).ok, false);
});

test.run();
