// Reductions, Softmax and normalizations: kernels validate under Dawn's null backend and agree
// with the reference interpreter on the software adapter.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTensor } from '../../ir/interp/tensor.ts';
import type { OpCase } from './ops-harness.ts';
import { openGpu, openValidationGpu } from '../../backends/wgsl/gpu.ts';
import { runWgsl, validateKernels } from '../../backends/wgsl/runtime.ts';
import { kernelsOf, mismatch, opCase, reference, rng, runOp, validate, checkOp } from './ops-harness.ts';

const r = rng(11);
const i64 = (v: number[]) => makeTensor('i64', [v.length], BigInt64Array.from(v.map(BigInt)));

const check = checkOp;

const OPS = ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSum', 'ReduceLogSumExp'];

test('Reduce* over assorted axes', async () => {
  const cases: [number[], number[], number][] = [[[4, 300], [1], 1], [[2, 3, 5], [0, 2], 0], [[3, 7, 2], [1], 1], [[2000, 4], [-1], 0], [[6, 5], [], 1], [[2, 3, 4, 5], [1, 3], 1]];
  for (const op of OPS) {
    for (const [shape, axes, keepdims] of cases) {
      const lo = op === 'ReduceProd' ? 0.8 : op === 'ReduceLogSum' ? 0.1 : -2;
      const hi = op === 'ReduceProd' ? 1.2 : 2;
      const x = r.f32(shape, lo, hi);
      const c = axes.length ? opCase(op, [x, i64(axes)], { keepdims }, { consts: [1] }) : opCase(op, [x], { keepdims });
      await check(`${op} ${shape} axes ${axes}`, c, 2e-4);
    }
  }
  await check('ReduceSum i32', opCase('ReduceSum', [r.int('i32', [5, 40], -9, 9), i64([1])], {}, { consts: [1] }));
  await check('ReduceMax i32', opCase('ReduceMax', [r.int('i32', [5, 40], -9, 9), i64([0])], {}, { consts: [1] }));
  await check('ReduceSum opset 11 attr', opCase('ReduceSum', [r.f32([3, 4, 5])], { axes: [0, 2] }, { opset: 11 }));
});

test('ArgMax / ArgMin', async () => {
  for (const op of ['ArgMax', 'ArgMin']) {
    await check(op, opCase(op, [r.f32([3, 100, 4])], { axis: 1 }));
    await check(`${op} ties last`, opCase(op, [r.int('i32', [4, 50], 0, 3)], { axis: 1, select_last_index: 1 }));
    await check(`${op} ties first`, opCase(op, [r.int('i32', [4, 50], 0, 3)], { axis: -1, keepdims: 0 }));
  }
});

test('Softmax / LogSoftmax', async () => {
  for (const op of ['Softmax', 'LogSoftmax']) {
    await check(op, opCase(op, [r.f32([4, 1000], -8, 8)]));
    await check(`${op} axis 1`, opCase(op, [r.f32([2, 9, 3], -8, 8)], { axis: 1 }));
    await check(`${op} short rows`, opCase(op, [r.f32([3000, 5], -8, 8)]));
    await check(`${op} opset 11`, opCase(op, [r.f32([2, 3, 4], -8, 8)], { axis: 1 }, { opset: 11 }));
  }
});

test('normalizations', async () => {
  const x = r.f32([2, 5, 96]);
  await check('LayerNorm', opCase('LayerNormalization', [x, r.f32([96]), r.f32([96])], { epsilon: 1e-5 }, {}), 2e-4);
  await check('LayerNorm axis 1 + stats', opCase('LayerNormalization', [x, r.f32([5, 96]), r.f32([96])], { axis: 1 }, { outputs: 3 }), 2e-4);
  await check('LayerNorm no bias', opCase('LayerNormalization', [r.f32([4000, 8]), r.f32([8])]), 2e-4);
  await check('RMSNorm', opCase('RMSNorm', [x, r.f32([96])], { epsilon: 1e-6 }, { domain: 'lathe' }), 2e-4);
  await check('InstanceNorm', opCase('InstanceNormalization', [r.f32([2, 3, 7, 9]), r.f32([3]), r.f32([3])]), 2e-4);
  await check('BatchNorm', opCase('BatchNormalization', [r.f32([2, 3, 4, 5]), r.f32([3]), r.f32([3]), r.f32([3]), r.f32([3], 0.5, 2)]));
  await check('MVN', opCase('MeanVarianceNormalization', [r.f32([2, 3, 4, 5])]), 2e-4);
});

// The runtime's own device (openGpu) offers subgroups on lavapipe, so this runs the subgroup
// variant of the row reductions end to end; the null backend validates it in any case.
test('subgroup reductions', async () => {
  const cases: OpCase[] = [
    opCase('ReduceSum', [r.f32([3, 500]), i64([1])], {}, { consts: [1] }),
    opCase('ReduceMax', [r.int('i32', [3, 100], -50, 50), i64([1])], {}, { consts: [1] }),
    opCase('ReduceLogSumExp', [r.f32([4, 77]), i64([1])], {}, { consts: [1] }),
    opCase('Softmax', [r.f32([5, 300], -6, 6)]),
    opCase('LayerNormalization', [r.f32([3, 200]), r.f32([200]), r.f32([200])]),
    opCase('RMSNorm', [r.f32([3, 64]), r.f32([64])], {}, { domain: 'lathe' }),
  ];
  const vgpu = await openValidationGpu();
  for (const c of cases) {
    const ks = kernelsOf(c, { ...vgpu.caps, subgroups: true });
    assert.ok(ks[0]!.code.includes('subgroup'), c.model.graph.nodes[0]!.op);
    if (vgpu.caps.subgroups) await validateKernels(vgpu, ks);
  }
  const gpu = await openGpu();
  if (!gpu) return;
  for (const c of cases) {
    const got = await runWgsl(c.model, c.inputs, { gpu });
    const m = mismatch(got[0]!, reference(c)[0]!, 2e-4, 1e-5);
    assert.not.ok(m, `${c.model.graph.nodes[0]!.op} (subgroups ${gpu.caps.subgroups}): ${m}`);
  }
});

test.run();
