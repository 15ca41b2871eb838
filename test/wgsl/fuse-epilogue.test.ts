// Epilogue fusion: which elementwise chains fold into a MatMul/Gemm/Conv kernel's store (single
// use, same element count, not a graph output), that the fused kernels validate, that the
// program has fewer kernels, and that it computes what the interpreter computes on the unfused
// model (bias along N, activations, residual adds, broadcast batches, ragged and vec4 stores).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Model } from '../../ir/graph.ts';
import { ONNX_DOMAIN } from '../../ir/graph.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { tensor } from '../../ir/types.ts';
import { EPILOGUE_OP, fuseEpilogues } from '../../backends/wgsl/fuse-epilogue.ts';
import { FUSED_OP, fuseElementwise } from '../../backends/wgsl/fuse.ts';
import { lowerModel } from '../../backends/wgsl/lower.ts';
import { compareWithInterpreter, randomTensor } from './helpers.ts';
import { DEFAULT_CAPS, validate } from './ops-harness.ts';

const rt = (shape: number[], seed: number) => randomTensor('f32', shape, seed);

interface Built {
  model: Model;
  inputs: Tensor[];
}

/** x[..., M, K] · w[K, N] + bias[N] → Gelu → + residual[..., M, N]. */
function mlp(lead: number[], M: number, K: number, N: number): Built {
  const b = new GraphBuilder('mlp', { [ONNX_DOMAIN]: 21 });
  const x = b.input('x', tensor('f32', [...lead, M, K]));
  const w = b.input('w', tensor('f32', [K, N]));
  const bias = b.input('bias', tensor('f32', [N]));
  const res = b.input('res', tensor('f32', [...lead, M, N]));
  const y = b.op('Add', [b.op('Gelu', [b.op('Add', [b.op('MatMul', [x, w]), bias])]), res]);
  return { model: b.returns(y).model(), inputs: [rt([...lead, M, K], 1), rt([K, N], 2), rt([N], 3), rt([...lead, M, N], 4)] };
}

const opsOf = (m: Model) => m.graph.nodes.map((n) => n.op);

test('a single-use chain after MatMul folds into one node', () => {
  const { model } = mlp([2], 8, 16, 12);
  const f = fuseEpilogues(fuseElementwise(model));
  assert.equal(opsOf(f), [EPILOGUE_OP]);
  const n = f.graph.nodes[0]!;
  assert.equal(n.inputs, ['x', 'w', 'bias', 'res']);
  assert.is(n.outputs[0]!.name, model.graph.outputs[0]);
  const body = n.attrs.epilogue_body!;
  assert.ok(body.kind === 'graph' && body.value.nodes.map((m) => m.op).join() === 'Add,Gelu,Add');
  assert.ok(n.attrs.epilogue_op?.kind === 'string' && n.attrs.epilogue_op.value === 'MatMul');
});

test('a single elementwise consumer (not a fused group) folds too', () => {
  const b = new GraphBuilder('m', { [ONNX_DOMAIN]: 21 });
  const a = b.input('a', tensor('f32', [6, 5]));
  const w = b.input('w', tensor('f32', [7, 5]));
  const y = b.op('Relu', [b.op('Gemm', [a, w], { transB: 1 })]);
  const f = fuseEpilogues(fuseElementwise(b.returns(y).model()));
  assert.equal(opsOf(f), [EPILOGUE_OP]);
  assert.equal(f.graph.nodes[0]!.inputs, ['a', 'w']);
});

test('left alone: shared results, graph outputs, broadcasting consumers', () => {
  const b = new GraphBuilder('m', { [ONNX_DOMAIN]: 21 });
  const x = b.input('x', tensor('f32', [4, 8]));
  const w = b.input('w', tensor('f32', [8, 4]));
  const v = b.input('v', tensor('f32', [3, 4, 4]));
  const m1 = b.op('MatMul', [x, w]); // two uses
  const y1 = b.op('Relu', [m1]);
  const y2 = b.op('Neg', [m1]);
  const m2 = b.op('MatMul', [x, w]); // a graph output
  const y3 = b.op('Sigmoid', [m2]);
  const m3 = b.op('MatMul', [x, w]); // its consumer has 3× the elements
  const y4 = b.op('Add', [m3, v]);
  const model = b.returns(y1, y2, m2, y3, y4).model();
  const f = fuseEpilogues(fuseElementwise(model));
  assert.not.ok(opsOf(f).includes(EPILOGUE_OP));
  assert.is(fuseEpilogues(model), model);
});

test('fused kernels validate and the program has fewer kernels', async () => {
  const { model } = mlp([2], 8, 16, 12);
  const fused = lowerModel(model, { caps: DEFAULT_CAPS });
  const unfused = lowerModel(fuseElementwise(model), { caps: DEFAULT_CAPS, fuse: false });
  assert.is(fused.kernels.length, 1);
  assert.ok(unfused.kernels.length >= 2);
  await validate(fused.kernels);
});

test('MatMul + bias + Gelu + residual matches the interpreter (vec4 and ragged stores)', async () => {
  for (const [lead, M, K, N] of [[[2], 8, 16, 12], [[], 70, 64, 36], [[3], 5, 7, 9], [[], 64, 64, 64]] as [number[], number, number, number][]) {
    const { model, inputs } = mlp(lead, M, K, N);
    await compareWithInterpreter(model, inputs);
  }
});

test('batched MatMul (both operands batched) + Mul/Sigmoid chain', async () => {
  const b = new GraphBuilder('m', { [ONNX_DOMAIN]: 21 });
  const a = b.input('a', tensor('f32', [2, 3, 10, 8]));
  const c = b.input('c', tensor('f32', [2, 3, 8, 6]));
  const s = b.input('s', tensor('f32', [3, 1, 1]));
  const mm = b.op('MatMul', [a, c]);
  const y = b.op('Mul', [b.op('Sigmoid', [b.op('Mul', [mm, s])]), mm]); // mm read twice by the chain
  const model = b.returns(y).model();
  const f = fuseEpilogues(fuseElementwise(model));
  assert.equal(opsOf(f), [EPILOGUE_OP]);
  await compareWithInterpreter(model, [rt([2, 3, 10, 8], 1), rt([2, 3, 8, 6], 2), rt([3, 1, 1], 3)]);
});

test('Gemm (transA, alpha, beta, C) + LeakyRelu, Conv + Relu + residual match the interpreter', async () => {
  {
    const b = new GraphBuilder('m', { [ONNX_DOMAIN]: 21 });
    const a = b.input('a', tensor('f32', [21, 37]));
    const w = b.input('w', tensor('f32', [44, 21]));
    const c = b.input('c', tensor('f32', [44]));
    const y = b.op('LeakyRelu', [b.op('Gemm', [a, w, c], { transA: 1, transB: 1, alpha: 0.5, beta: 2 })], { alpha: 0.2 });
    await compareWithInterpreter(b.returns(y).model(), [rt([21, 37], 1), rt([44, 21], 2), rt([44], 3)]);
  }
  {
    const b = new GraphBuilder('m', { [ONNX_DOMAIN]: 21 });
    const x = b.input('x', tensor('f32', [2, 3, 9, 9]));
    const w = b.input('w', tensor('f32', [8, 3, 3, 3]));
    const bias = b.input('bias', tensor('f32', [8]));
    const r = b.input('r', tensor('f32', [2, 8, 9, 9]));
    const conv = b.op('Conv', [x, w, bias], { pads: [1, 1, 1, 1] });
    const y = b.op('Add', [b.op('Relu', [conv]), r]);
    const model = b.returns(y).model();
    assert.equal(opsOf(fuseEpilogues(fuseElementwise(model))), [EPILOGUE_OP]);
    await compareWithInterpreter(model, [rt([2, 3, 9, 9], 1), rt([8, 3, 3, 3], 2), rt([8], 3), rt([2, 8, 9, 9], 4)]);
  }
});

test('the elementwise group stays a wgsl.Fused node when its producer is not a GEMM', () => {
  const b = new GraphBuilder('m', { [ONNX_DOMAIN]: 21 });
  const x = b.input('x', tensor('f32', [4, 8]));
  const y = b.op('Relu', [b.op('Neg', [b.op('Softmax', [x])])]);
  assert.equal(opsOf(fuseEpilogues(fuseElementwise(b.returns(y).model()))), ['Softmax', FUSED_OP]);
});

test.run();
