// compileWgsl and its artifact folder on a small model built in code (symbolic batch, an i64 input,
// f32 and bool weights, broadcasting, an alias output): every file is there and consistent with the
// manifest and the plan, the weights are the constants in their storage types, the host module
// type-checks, and on a real adapter it runs and matches the reference interpreter.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeSafetensors } from '../../backends/safetensors.ts';
import { compileWgsl, writeWgslArtifacts } from '../../backends/wgsl/compile.ts';
import { gpuUnavailableReason, openGpu } from '../../backends/wgsl/gpu.ts';
import type { Manifest } from '../../backends/wgsl/manifest.ts';
import { specialize } from '../../backends/wgsl/specialize.ts';
import { GraphBuilder } from '../../ir/builder.ts';
import { runModel } from '../../ir/interp/run.ts';
import { makeTensor, type Tensor } from '../../ir/interp/tensor.ts';
import { constTensor } from '../../ir/tensor-data.ts';
import { tensor } from '../../ir/types.ts';
import { throwsLathe } from '../onnx/errors.ts';
import { hostInput, importHost, relError, scratchDir, tsc } from './compile-helpers.ts';
import { B, MASK, smallModel, W } from './compile-model.ts';

const model = smallModel();
const artifacts = compileWgsl(model, { dims: { batch: 2 } });
const dir = scratchDir('compile-test-');
const written = writeWgslArtifacts(artifacts, dir);
const m: Manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));

test('the folder holds every artifact, and manifest.json is what the host embeds', () => {
  for (const f of ['manifest.json', 'weights.safetensors', 'model.ts', 'model.d.ts', 'model.js']) assert.ok(existsSync(path.join(dir, f)), f);
  assert.equal(m, JSON.parse(JSON.stringify(artifacts.manifest)));
  assert.ok(written.files.includes('weights.safetensors'));
  assert.equal(m.inputs.map((t) => [t.name, t.dtype, t.shape, t.storage]), [['x', 'f32', [2, 6], 'f32'], ['ids', 'i64', [2, 6], 'i32']]);
  assert.equal(m.outputs.map((t) => [t.name, t.dtype, t.shape, t.storage]), [[model.graph.outputs[0], 'f32', [2, 6], 'f32'], [model.graph.outputs[1], 'f32', [12], 'f32']]);
  // The Reshape is an alias: both outputs read the same buffer.
  assert.is(m.outputs[0]!.buffer, m.outputs[1]!.buffer);
  assert.equal(m.dims, { batch: 2 });
});

test('kernels: one file per unique key, text equal to the kernel and embedded in model.ts', () => {
  const keys = m.kernels.map((k) => k.key);
  assert.is(new Set(keys).size, keys.length);
  assert.is(new Set(m.kernels.map((k) => k.file)).size, keys.length);
  m.kernels.forEach((k, i) => {
    const text = readFileSync(path.join(dir, k.file), 'utf8');
    assert.is(text, artifacts.kernelCode[i]);
    assert.ok(artifacts.host.ts.includes(text.trimEnd()), `${k.file} in model.ts`);
  });
  // Every kernel of the program is a dispatch, in order, pointing at the kernel with its key.
  assert.equal(m.dispatches.map((d) => d.name), artifacts.program.kernels.map((k) => k.name));
  artifacts.program.kernels.forEach((k, i) => assert.is(m.kernels[m.dispatches[i]!.kernel]!.key, k.key));
});

test('buffers and bindings agree with the plan; bindings fit their buffers; no buffer bound twice when written', () => {
  const plan = artifacts.program.plan;
  assert.is(m.buffers.length, plan.buffers.length);
  m.buffers.forEach((b, i) => assert.ok(b.size >= plan.buffers[i]!.bytes && b.size % 4 === 0));
  assert.ok(m.peakBytes <= m.totalBytes && m.peakBytes > 0);
  for (const d of m.dispatches) {
    const k = m.kernels[d.kernel]!;
    assert.is(d.bindings.length, k.bindings.length, d.name);
    assert.is(d.uniformData.length > 0, k.hasUniforms, d.name);
    d.bindings.forEach((b, i) => {
      assert.ok(b.offset + b.size <= m.buffers[b.buffer]!.size, `${d.name} binding ${i} fits buffer ${b.buffer}`);
      if (k.bindings[i]!.access === 'read_write') {
        assert.is(d.bindings.filter((o) => o.buffer === b.buffer).length, 1, `${d.name}: a written buffer is bound once (WebGPU's usage rule)`);
      }
    });
  }
  for (const t of [...m.inputs, ...m.outputs, ...m.weights.tensors]) assert.ok(t.bytes <= m.buffers[t.buffer]!.size, t.name);
});

test('weights.safetensors holds the constants the kernels read, in their storage types', () => {
  // A plain Uint8Array copy: a Buffer's slice() is a view, not the copy the checks below make.
  const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileSync(path.join(dir, 'weights.safetensors'))));
  assert.is(metadata.model, 'small');
  assert.equal([...tensors.keys()].sort(), m.weights.tensors.map((t) => t.name).sort());
  for (const t of m.weights.tensors) {
    const st = tensors.get(t.name)!;
    assert.is(st.dtype, t.storage);
    assert.is(st.bytes.length, t.bytes);
  }
  const f32 = (name: string) => [...new Float32Array(tensors.get(name)!.bytes.slice().buffer)];
  assert.equal(f32('w'), W.map(Math.fround));
  assert.equal(f32('b'), B.map(Math.fround));
  // bool is stored one i32 per element; the reshape's shape operand is used when compiling only.
  assert.equal([...new Int32Array(tensors.get('mask')!.bytes.slice().buffer)], MASK);
  assert.not.ok(tensors.has('flat_shape'));
});

test('model.ts and model.d.ts type-check under strict tsc', () => {
  for (const setup of ['browser', 'node'] as const) {
    const r = tsc(dir, setup);
    assert.is(r.code, 0, r.out);
  }
  assert.match(artifacts.host.dts, /export interface ModelInputs \{[^}]*x: Float32Array \| number\[\];[^}]*ids: BigInt64Array \| Int32Array \| number\[\];/s);
});

function inputs(): Tensor[] {
  const x = makeTensor('f32', [2, 6], Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 3));
  const ids = makeTensor('i64', [2, 6], BigInt64Array.from({ length: 12 }, (_, i) => BigInt((i * 7) % 5) - 2n));
  return [x, ids];
}

test('on a real adapter: the generated module runs and matches the interpreter', async () => {
  const gpu = await openGpu();
  if (!gpu) {
    console.log(`  (skipped: ${gpuUnavailableReason()})`);
    return;
  }
  const ins = inputs();
  const want = runModel(specialize(model, { dims: { batch: 2 } }), ins) as Tensor[];
  const host = await importHost(path.join(dir, 'model.ts'));
  const compiled = await host.createModel(gpu.device, readFileSync(path.join(dir, 'weights.safetensors')));
  assert.is(compiled.dispatchCount, m.dispatches.length);
  const got = await compiled.run({ x: hostInput(ins[0]!), ids: hostInput(ins[1]!) });
  m.outputs.forEach((o, i) => {
    const e = relError(got[o.name]!, want[i]!);
    assert.ok(e <= 1e-6, `${o.name}: relative error ${e}`);
  });
  compiled.destroy();
});

test('bad dims and models are errors naming what is wrong', () => {
  throwsLathe(() => compileWgsl(model), 'ShapeError', ["'x'", 'batch']);
  const b = new GraphBuilder('unlowered');
  const x = b.input('x', tensor('f32', [4]));
  // Bernoulli draws random numbers, which the WGSL backend does not lower.
  b.returns(b.op('Bernoulli', [b.op('Reshape', [x, b.constant('s', constTensor('i64', [2], [2, 2]))])], {}, { name: 'coin' }));
  throwsLathe(() => compileWgsl(b.model()), 'UnsupportedOp', ["'coin'", 'Bernoulli']);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
