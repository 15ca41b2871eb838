// The generated host module on a hand-made two-kernel program: it type-checks with tsc (model.ts,
// and model.d.ts on its own, both used by a typed consumer), its types reject wrong input names,
// and on a real adapter (lavapipe) model.ts and model.js run the kernels and give the right numbers.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateHost } from '../../backends/wgsl/host.ts';
import { f16ToF32, f32ToF16, type Model } from '../../backends/wgsl/host-runtime.ts';
import { gpuUnavailableReason, openGpu } from '../../backends/wgsl/gpu.ts';
import { scratchDir, tsc } from './compile-helpers.ts';
import { expected, handMadeProgram } from './host-fixture.ts';

const program = handMadeProgram();
const host = generateHost(program.manifest, program.kernels);
const dir = scratchDir('host-test-');
writeFileSync(path.join(dir, 'model.ts'), host.ts);
writeFileSync(path.join(dir, 'model.js'), host.js);
writeFileSync(path.join(dir, 'weights.safetensors'), program.weights);

/** A consumer that uses the typed API, and two calls its types must reject. */
const consumer = (from: string) => `import { createModel, manifest } from '${from}';
export async function use(device: GPUDevice, weights: ArrayBuffer): Promise<number> {
  const model = await createModel(device, weights);
  const r = await model.run({ x: new Float32Array(5), ids: new BigInt64Array(3) });
  const y: Float32Array = r.y;
  const o: Int32Array = r.o;
  // @ts-expect-error: there is no input 'z'
  await model.run({ x: [1, 2, 3, 4, 5], ids: [1, 2, 3], z: [0] });
  // @ts-expect-error: the input 'ids' is missing
  await model.run({ x: [1, 2, 3, 4, 5] });
  // @ts-expect-error: an output 'y' is floats, not integers
  const wrong: Int32Array = r.y;
  model.destroy();
  return y.length + o.length + manifest.dispatches.length + wrong.length;
}
`;

test('model.ts type-checks under strict tsc, with a typed consumer', () => {
  writeFileSync(path.join(dir, 'use.ts'), consumer('./model.ts'));
  for (const setup of ['browser', 'node'] as const) {
    const r = tsc(dir, setup);
    assert.is(r.code, 0, r.out);
  }
});

test('model.d.ts alone describes the same API', () => {
  const d = path.join(dir, 'dts');
  mkdirSync(d, { recursive: true });
  writeFileSync(path.join(d, 'model.d.ts'), host.dts);
  writeFileSync(path.join(d, 'use.ts'), consumer('./model.js'));
  for (const setup of ['browser', 'node'] as const) {
    const r = tsc(d, setup);
    assert.is(r.code, 0, r.out);
  }
  assert.match(host.dts, 'export declare function createModel(device: GPUDevice, weights: ArrayBuffer | Uint8Array): Promise<Model<ModelInputs, ModelOutputs>>');
});

test('the module is standalone: no imports, lathe internals not exported', () => {
  for (const text of [host.ts, host.js]) {
    assert.not.match(text, /^\s*import\s/m);
    assert.not.match(text, /require\(/);
  }
  assert.not.match(host.dts, 'createModelFromManifest');
  for (const k of program.kernels) assert.ok(host.ts.includes(k.trim()), 'kernel text embedded verbatim');
});

test('f16 conversion: exact on representable values, round to nearest even, overflow, subnormals', () => {
  const cases: [number, number][] = [[0, 0], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65520, 0x7c00], [1e9, 0x7c00], [2 ** -24, 1], [2 ** -25, 0], [3 * 2 ** -25, 2], [2 ** -14, 0x400], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [Infinity, 0x7c00]];
  for (const [x, h] of cases) assert.is(f32ToF16(x), h, `f32ToF16(${x})`);
  assert.ok(Number.isNaN(f16ToF32(f32ToF16(NaN))));
  for (let h = 0; h < 0x7c00; h += 37) assert.is(f32ToF16(f16ToF32(h)), h, `round trip ${h}`);
});

test('on a real adapter: model.ts and model.js run both kernels and agree with the expected values', async () => {
  const gpu = await openGpu();
  if (!gpu) {
    console.log(`  (skipped: ${gpuUnavailableReason()})`);
    return;
  }
  const x = [1.5, -2, 3.25, 0, 7];
  const ids = [10, -20, 30];
  const want = expected(x, ids);
  for (const file of ['model.ts', 'model.js']) {
    const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as { createModel(d: GPUDevice, w: Uint8Array): Promise<Model> };
    const model = await mod.createModel(gpu.device, program.weights);
    assert.is(model.dispatchCount, 2);
    const r = await model.run({ x: new Float32Array(x), ids: new BigInt64Array(ids.map(BigInt)) });
    assert.equal([...r.y], want.y, `${file} y`);
    assert.equal([...r.o], want.o, `${file} o`);
    // Twice in a row without awaiting: runs queue, both see their own inputs.
    const [a, b] = await Promise.all([model.run({ x, ids }), model.run({ x: x.map((v) => v * 2), ids })]);
    assert.equal([...a.y], want.y);
    assert.equal([...b.y], expected(x.map((v) => v * 2), ids).y);
    const err = await model.run({ x: [1], ids }).then(() => undefined, (e: Error) => e.message);
    assert.match(err ?? 'no error', "input 'x' has 1 elements");
    model.destroy();
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
