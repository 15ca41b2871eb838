// Elementwise fusion: which groups fuse (single-use chains, equal element counts, not graph
// outputs), that the fused kernel validates, and that the fused program computes what the
// interpreter computes on the unfused model.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Model } from '../../ir/graph.ts';
import { ONNX_DOMAIN } from '../../ir/graph.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { isTensor } from '../../ir/interp/tensor.ts';
import { constTensor } from '../../ir/tensor-data.ts';
import { tensor } from '../../ir/types.ts';
import { FUSED_OP, fuseElementwise } from '../../backends/wgsl/fuse.ts';
import { openGpu } from '../../backends/wgsl/gpu.ts';
import { lowerModel } from '../../backends/wgsl/lower.ts';
import { Session } from '../../backends/wgsl/runtime.ts';
import { DEFAULT_CAPS, mismatch, rng, validate } from './ops-harness.ts';

const r = rng(3);

/** x·w + b → Gelu → Clip, plus a broadcast erf over [C] that must stay apart, and a shared value. */
function model(): Model {
  const b = new GraphBuilder('m', { [ONNX_DOMAIN]: 21 });
  const x = b.input('x', tensor('f32', [4, 16]));
  const w = b.input('w', tensor('f32', [16]));
  const c = b.input('c', tensor('f32', [16]));
  const e = b.op('Erf', [c]); // [16]: not fused into the [4,16] chain
  const m = b.op('Mul', [x, w]);
  const a = b.op('Add', [m, e]);
  const g = b.op('Gelu', [a]);
  const s = b.op('Sigmoid', [g]); // used twice: ends a group
  const y1 = b.op('Clip', [s, null, null]);
  const y2 = b.op('Neg', [s]);
  const k = b.op('Cast', [b.op('Greater', [y1, y2])], { to: 1 });
  return b.returns(k, y2).model();
}

test('groups single-use elementwise chains', () => {
  const f = fuseElementwise(model());
  const ops = f.graph.nodes.map((n) => n.op);
  // Erf stays (fewer elements), Mul→Add→Gelu→Sigmoid fuse, Clip→Greater→Cast fuse (Neg is an output).
  assert.equal(ops, ['Erf', FUSED_OP, 'Neg', FUSED_OP]);
  const fused = f.graph.nodes.filter((n) => n.op === FUSED_OP);
  assert.equal(fused[0]!.inputs, ['x', 'w', 'erf_0'.replace('erf_0', f.graph.nodes[0]!.outputs[0]!.name)]);
  const body = fused[0]!.attrs.body!;
  assert.ok(body.kind === 'graph' && body.value.nodes.map((n) => n.op).join() === 'Mul,Add,Gelu,Sigmoid');
});

test('a model without fusible pairs is returned as is', () => {
  const b = new GraphBuilder('m', { [ONNX_DOMAIN]: 21 });
  const x = b.input('x', tensor('f32', [4]));
  const m = b.returns(b.op('Relu', [x])).model();
  assert.is(fuseElementwise(m), m);
});

test('values known at compile time (shape arithmetic) are left for folding', () => {
  const b = new GraphBuilder('m', { [ONNX_DOMAIN]: 21 });
  const x = b.input('x', tensor('f32', [4, 6]));
  const half = b.op('Div', [b.op('Shape', [x]), b.constant('two', constTensor('i64', [], [2]))]);
  const y = b.op('Relu', [b.op('Neg', [b.op('Cast', [half], { to: 1 })])]);
  const f = fuseElementwise(b.returns(y).model());
  assert.equal(f.graph.nodes.map((n) => n.op), ['Shape', 'Div', 'Cast', 'Neg', 'Relu']);
});

test('fused program validates and matches the interpreter', async () => {
  const m = model();
  const f = fuseElementwise(m);
  const inputs: Tensor[] = [r.f32([4, 16]), r.f32([16]), r.f32([16])];
  const want = runModel(m, inputs).filter(isTensor);
  const nullProgram = lowerModel(f, { caps: DEFAULT_CAPS });
  assert.is(nullProgram.kernels.length, 4);
  await validate(nullProgram.kernels);
  const gpu = await openGpu();
  if (!gpu) return;
  const program = lowerModel(f, { caps: gpu.caps });
  const session = await Session.create(gpu, program);
  try {
    const got = await session.run(inputs);
    want.forEach((w, i) => assert.not.ok(mismatch(got[i]!, w, 1e-4, 1e-5), `result ${i}`));
  } finally {
    session.destroy();
  }
});

test.run();
