// The WGSL path end to end on the software adapter: specialize → lower → plan → run, against the
// reference interpreter; storage conversions; errors (compile errors with line, unknown ops,
// unknown dims, buffer limits); the null backend validating kernels.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { attrReader } from '../../ir/attr-reader.ts';
import { GraphBuilder } from '../../ir/builder.ts';
import { LatheError } from '../../ir/errors.ts';
import { tensorFrom } from '../../ir/interp/tensor.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { constTensor } from '../../ir/tensor-data.ts';
import { tensor } from '../../ir/types.ts';
import { openValidationGpu } from '../../backends/wgsl/gpu.ts';
import type { Kernel } from '../../backends/wgsl/kernel.ts';
import type { Program } from '../../backends/wgsl/lower.ts';
import { lowerModel } from '../../backends/wgsl/lower.ts';
import { pipelineFor, runWgsl, Session, validateKernels } from '../../backends/wgsl/runtime.ts';
import { specialize, valueInputs } from '../../backends/wgsl/specialize.ts';
import { runModel } from '../../ir/interp/run.ts';
import { existsSync } from 'node:fs';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { readInputs } from '../../compiler/conformance.ts';
import { runCudaCpu } from '../../backends/cuda/run-cpu.ts';
import { plainAddKernel } from '../../backends/wgsl/ops/basic.ts';
import { compareWithInterpreter, gpuTest, oneNodeModel, randomTensor, validateOnNullBackend } from './helpers.ts';

async function throwsLathe(fn: () => unknown, kind: string, re: RegExp): Promise<LatheError> {
  try {
    await fn();
  } catch (e) {
    assert.instance(e, LatheError, String(e));
    const le = e as LatheError;
    assert.is(le.kind, kind, le.message);
    assert.match(le.message, re);
    return le;
  }
  throw new assert.Assertion({ message: `expected a ${kind}`, operator: 'throws' } as never);
}

/** A kernel for a hand-written WGSL body (one f32 in, one f32 out, n elements). */
function handKernel(name: string, code: string, n: number): Kernel {
  return {
    name,
    node: 'hand',
    op: 'test.Hand',
    key: `hand/${name}/${code.length}`,
    code,
    bindings: [
      { value: 'x', access: 'read', elem: 'f32' },
      { value: 'y', access: 'read_write', elem: 'f32' },
    ],
    uniforms: [],
    dispatch: [Math.ceil(n / 64), 1, 1],
  };
}

gpuTest(test, 'the adapter is lavapipe with shader-f16', async (gpu) => {
  assert.match(gpu.adapterName, /llvmpipe/);
  assert.ok(gpu.caps.f16);
  assert.ok(gpu.caps.maxStorageBufferBindingBytes >= 128 * 2 ** 20);
});

/** The program of `x + y` (f32[n]) with its kernels replaced by the plain Add kernel. */
function plainAddProgram(caps: Program['caps'], n: number): Program {
  const b = new GraphBuilder('add');
  const x = b.input('x', tensor('f32', [n]));
  const y = b.input('y', tensor('f32', [n]));
  const m = b.returns(b.op('Add', [x, y], {}, { name: 'add' })).model();
  const p = lowerModel(specialize(m), { caps });
  const node = m.graph.nodes[0]!;
  const kernels = plainAddKernel({
    ...attrReader(node),
    node,
    opset: 17,
    caps,
    input: (i) => ({ name: node.inputs[i]!, dtype: 'f32', shape: [n] }),
    output: () => ({ name: node.outputs[0]!.name, dtype: 'f32', shape: [n] }),
    constant: () => undefined,
    kernelName: (w) => `add/${w}`,
    unsupported: (why) => {
      throw new Error(why);
    },
  });
  // Same bindings as whatever kernel the elementwise family emits: the plan still fits.
  return { ...p, kernels };
}

test('the plain Add kernel validates on the null backend', async () => {
  const gpu = await openValidationGpu();
  const p = plainAddProgram(gpu.caps, 1000);
  assert.is(p.kernels.length, 1);
  await validateKernels(gpu, p.kernels);
});

gpuTest(test, 'the plain Add kernel runs for real and is exact', async (gpu) => {
  const n = 100_003;
  const s = await Session.create(gpu, plainAddProgram(gpu.caps, n));
  try {
    const a = randomTensor('f32', [n], 1);
    const c = randomTensor('f32', [n], 2);
    const [got] = await s.run([a, c]);
    for (let i = 0; i < n; i++) if (got!.data[i] !== Math.fround(Number(a.data[i]) + Number(c.data[i]))) assert.unreachable(`element ${i}`);
  } finally {
    s.destroy();
  }
});

gpuTest(test, 'an elementwise chain with a constant, an alias and a broadcast matches the interpreter', async () => {
  const b = new GraphBuilder('chain');
  const x = b.input('x', tensor('f32', ['batch', 4, 8]));
  const w = b.constant('w', constTensor('f32', [8], [1, 2, 3, 4, 5, 6, 7, 8].map((v) => v / 8)));
  const s = b.op('Add', [x, x]);
  const r = b.op('Reshape', [s, b.constant('shape', constTensor('i64', [2], [-1, 8]))]);
  const m = b.returns(b.op('Add', [r, b.op('Identity', [r])])).model();
  void w;
  const res = await compareWithInterpreter(m, [randomTensor('f32', [3, 4, 8], 7)]);
  if (res) assert.ok(res.maxAbs[0]! <= 1e-6);
});

gpuTest(test, 'an output that aliases an input, and a graph output that is a constant', async (gpu) => {
  const b = new GraphBuilder('alias');
  const x = b.input('x', tensor('f32', [2, 3]));
  const k = b.constant('k', constTensor('f32', [2], [5, 6]));
  const m = b.returns(b.op('Reshape', [x, b.constant('s', constTensor('i64', [1], [6]))]), k).model();
  const x0 = tensorFrom('f32', [2, 3], [1, 2, 3, 4, 5, 6]);
  const [y, kk] = await runWgsl(m, [x0], { gpu });
  assert.equal([...y!.data], [1, 2, 3, 4, 5, 6]);
  assert.equal(y!.shape, [6]);
  assert.equal([...kk!.data], [5, 6]);
});

gpuTest(test, 'i64, bool and f16 values round-trip through storage', async (gpu) => {
  const b = new GraphBuilder('types');
  const i = b.input('i', tensor('i64', [3]));
  const f = b.input('f', tensor('f16', [5]));
  const q = b.input('q', tensor('bool', [2]));
  const m = b.returns(b.op('Identity', [i]), b.op('Identity', [f]), b.op('Identity', [q])).model();
  const ins = [tensorFrom('i64', [3], [-5n, 0n, 2147483647n]), tensorFrom('f16', [5], [0.1, 1, -2.5, 65504, 1e-7]), tensorFrom('bool', [2], [1, 0])];
  const out = await runWgsl(m, ins, { gpu });
  assert.equal([...out[0]!.data], [-5n, 0n, 2147483647n]);
  assert.equal([...out[1]!.data], [...ins[1]!.data]);
  assert.equal([...out[2]!.data], [1, 0]);
  await throwsLathe(() => runWgsl(m, [tensorFrom('i64', [3], [0n, 2n ** 40n, 0n]), ins[1]!, ins[2]!], { gpu }), 'UnsupportedType', /'i'.*1099511627776 at element 1, outside i32/);
});

gpuTest(test, 'f64 and u64 are computed in 32 bits; a value beyond f32 is refused, not turned into Inf', async (gpu) => {
  const b = new GraphBuilder('wide');
  const d = b.input('d', tensor('f64', [3]));
  const u = b.input('u', tensor('u64', [2]));
  const m = b.returns(b.op('Add', [d, d]), b.op('Identity', [u])).model();
  const out = await runWgsl(m, [tensorFrom('f64', [3], [0.5, -3, 1e30]), tensorFrom('u64', [2], [7n, 4294967295n])], { gpu });
  assert.ok(out[0]!.data instanceof Float64Array);
  assert.equal([...out[0]!.data], [1, -6, Math.fround(1e30) * 2]);
  assert.equal([...out[1]!.data], [7n, 4294967295n]);
  await throwsLathe(() => runWgsl(m, [tensorFrom('f64', [3], [0, 1e200, 0]), tensorFrom('u64', [2], [0n, 0n])], { gpu }), 'UnsupportedType', /'d' \(f64\) holds 1e\+200 at element 1, outside f32/);
  await throwsLathe(() => runWgsl(m, [tensorFrom('f64', [3], [0, 0, 0]), tensorFrom('u64', [2], [2n ** 33n, 0n])], { gpu }), 'UnsupportedType', /'u' \(u64\) holds 8589934592 at element 0, outside u32/);
});

gpuTest(test, 'inputs that only give a Slice its starts and ends are compiled as constants of their values', async (gpu) => {
  const b = new GraphBuilder('slice_inputs');
  const x = b.input('x', tensor('f32', [4, 5]));
  const starts = b.input('starts', tensor('i64', [2]));
  const ends = b.input('ends', tensor('i64', [2]));
  const m = b.returns(b.op('Slice', [x, starts, ends])).model();
  const x0 = randomTensor('f32', [4, 5], 3);
  const ins = [x0, tensorFrom('i64', [2], [1n, 0n]), tensorFrom('i64', [2], [3n, -1n])];
  assert.equal([...valueInputs(m, ins).keys()], ['starts', 'ends']);
  const [y] = await runWgsl(m, ins, { gpu });
  assert.equal(y!.shape, [2, 4]);
  assert.equal([...y!.data], [...(runModel(m, ins)[0] as Tensor).data]);
  // A data input is never baked, even when small.
  const b2 = new GraphBuilder('data_input');
  const v = b2.input('v', tensor('i64', [2]));
  const m2 = b2.returns(b2.op('Add', [v, v])).model();
  assert.equal(valueInputs(m2, [tensorFrom('i64', [2], [1n, 2n])]).size, 0);
});

gpuTest(test, 'a WGSL compile error names the kernel, node, op and line', async (gpu) => {
  const code = `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  y[gid.x] = x[gid.x] + undefined_thing;
}`;
  const e = await throwsLathe(() => pipelineFor(gpu, handKernel('broken', code, 4)), 'BackendError', /kernel 'broken' does not compile:\n  line 5:\d+: .*undefined_thing/);
  assert.is(e.where.node, 'hand');
  assert.is(e.where.op, 'test.Hand');
  assert.match(e.message, /y\[gid.x\] = x\[gid.x\] \+ undefined_thing;/);
});

gpuTest(test, 'pipelines are cached by kernel key', async (gpu) => {
  const code = `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) { if (gid.x < arrayLength(&y)) { y[gid.x] = x[gid.x] * 2.0; } }`;
  const a = await pipelineFor(gpu, handKernel('twice', code, 4));
  const b = await pipelineFor(gpu, { ...handKernel('twice', code, 4), name: 'other/twice' });
  assert.is(a, b);
});

test('an op without a WGSL lowering is an UnsupportedOp naming node and op', async () => {
  const b = new GraphBuilder('nolow');
  const x = b.input('x', tensor('f32', [4]));
  // Bernoulli draws random numbers, which the WGSL backend does not do.
  const m = b.returns(b.op('Bernoulli', [b.op('Reshape', [x, b.constant('s', constTensor('i64', [2], [2, 2]))])], {}, { name: 'the_coin' })).model();
  const gpu = await openValidationGpu();
  const e = await throwsLathe(() => lowerModel(specialize(m), { caps: gpu.caps }), 'UnsupportedOp', /node 'the_coin', op onnx.Bernoulli: op onnx.Bernoulli has no WGSL lowering/);
  assert.is(e.where.node, 'the_coin');
});

test('an If (no GPU lowering) is refused naming it, before its branches are specialized', async () => {
  const dir = '/usr/share/libonnx-testdata/data/node/test_if';
  if (!existsSync(dir)) return;
  const m = importOnnxFile(`${dir}/model.onnx`);
  const inputs = readInputs(m.graph, `${dir}/test_data_set_0`) as Tensor[];
  const gpu = await openValidationGpu();
  await throwsLathe(() => runWgsl(m, inputs, { gpu }), 'UnsupportedOp', /op onnx.If has no WGSL lowering/);
  await throwsLathe(() => runCudaCpu(m, inputs), 'UnsupportedOp', /op onnx.If has no CUDA lowering/);
});

test('specialize binds symbols from input shapes and rejects what stays unknown', () => {
  const b = new GraphBuilder('sym');
  const x = b.input('x', tensor('f32', ['batch', 'seq']));
  const y = b.input('y', tensor('f32', ['batch', 'seq']));
  const m = b.returns(b.op('Add', [x, y])).model();
  const s = specialize(m, { inputShapes: [[2, 5], [2, 5]] });
  const out = s.graph.nodes[0]!.outputs[0]!.type;
  assert.equal(out.kind === 'tensor' && out.shape, [2, 5]);
  const s2 = specialize(m, { dims: { batch: 3, seq: 1 } });
  assert.equal(s2.graph.inputs[1]!.type.kind === 'tensor' && s2.graph.inputs[1]!.type.shape, [3, 1]);
  assert.throws(() => specialize(m, { inputShapes: [[2, 5], [3, 5]] }), /symbol 'batch' is 2 \(from input 'x'\) but 3 in input 'y'/);
  // y's symbols are bound by x's shape: y need not be given.
  const s3 = specialize(m, { inputShapes: [[2, 5]] });
  assert.equal(s3.graph.inputs[1]!.type.kind === 'tensor' && s3.graph.inputs[1]!.type.shape, [2, 5]);
  assert.throws(() => specialize(m, { inputShapes: [[2, 5]].slice(1) }), /input 'x' is f32\[batch, seq\]: dims batch, seq are not known; give its shape/);
  assert.throws(() => specialize(m, { inputShapes: [[2, 5, 1], [2, 5]] }), /input 'x' is f32\[batch, seq\] but was given shape \[2, 5, 1\]/);
});

test('a tensor over maxStorageBufferBindingSize is an error naming the limit', async () => {
  const gpu = await openValidationGpu();
  const b = new GraphBuilder('big');
  const x = b.input('x', tensor('f32', [1024, 1024, 64]));
  const m = b.returns(b.op('Identity', [x])).model();
  await throwsLathe(() => lowerModel(specialize(m), { caps: { ...gpu.caps, maxStorageBufferBindingBytes: 128 * 2 ** 20 } }), 'BackendError', /input 'x' needs 268435456 bytes, more than the device's maxStorageBufferBindingSize of 134217728/);
});

test('the null backend validates the plain Add kernel and reports a broken one', async () => {
  const m = oneNodeModel('Identity', [{ dtype: 'f32', shape: [4] }]);
  const p = await validateOnNullBackend(m, [[4]]);
  assert.is(p.kernels.length, 0);
  assert.is(p.aliases.size, 1);
  const gpu = await openValidationGpu();
  const broken = handKernel('nb', '@compute @workgroup_size(1) fn main() { let a: u32 = 1.5; }', 1);
  await throwsLathe(() => pipelineFor(gpu, broken), 'BackendError', /kernel 'nb' does not compile:\n  line 1:/);
});

gpuTest(test, 'a session runs twice with new inputs', async (gpu) => {
  const b = new GraphBuilder('twice');
  const x = b.input('x', tensor('f32', [8]));
  const m = b.returns(b.op('Add', [x, x])).model();
  const p = lowerModel(specialize(m), { caps: gpu.caps });
  const s = await Session.create(gpu, p);
  try {
    const a = await s.run([tensorFrom('f32', [8], [1, 2, 3, 4, 5, 6, 7, 8])]);
    const c = await s.run([tensorFrom('f32', [8], [8, 7, 6, 5, 4, 3, 2, 1])]);
    assert.equal([...a[0]!.data], [2, 4, 6, 8, 10, 12, 14, 16]);
    assert.equal([...c[0]!.data], [16, 14, 12, 10, 8, 6, 4, 2]);
    await throwsLathe(() => s.run([tensorFrom('f32', [4], [1, 2, 3, 4])]), 'UsageError', /input 'x' is f32\[4\] but the program was compiled for f32\[8\]/);
  } finally {
    s.destroy();
  }
});

test.run();
