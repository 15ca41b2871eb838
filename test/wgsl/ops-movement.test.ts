// Data movement lowerings: kernels validate under Dawn's null backend and agree exactly with the
// reference interpreter on the software adapter.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTensor } from '../../ir/interp/tensor.ts';
import type { OpCase } from './ops-harness.ts';
import { kernelsOf, mismatch, opCase, reference, rng, runOp, validate, checkOp } from './ops-harness.ts';

const r = rng(5);
const i64 = (v: number[], shape = [v.length]) => makeTensor('i64', shape, BigInt64Array.from(v.map(BigInt)));

const check = (name: string, c: OpCase) => checkOp(name, c, 0, 0);

test('Transpose, Expand, Slice', async () => {
  await check('Transpose', opCase('Transpose', [r.f32([2, 3, 4, 5])], { perm: [0, 2, 3, 1] }));
  await check('Transpose default', opCase('Transpose', [r.f32([3, 7])]));
  await check('Transpose i32', opCase('Transpose', [r.int('i32', [2, 3, 4], -5, 5)], { perm: [2, 0, 1] }));
  await check('Expand', opCase('Expand', [r.f32([3, 1]), i64([2, 3, 4])], {}, { consts: [1] }));
  await check('Slice', opCase('Slice', [r.f32([5, 6, 7]), i64([1, -5]), i64([4, 100]), i64([0, 2]), i64([1, 2])], {}, { consts: [1, 2, 3, 4] }));
  await check('Slice negative step', opCase('Slice', [r.f32([5, 6]), i64([-1, 4]), i64([-100, 0]), i64([0, 1]), i64([-2, -1])], {}, { consts: [1, 2, 3, 4] }));
  await check('Slice opset 9', opCase('Slice', [r.f32([4, 6])], { starts: [1, 2], ends: [3, 5] }, { opset: 9 }));
});

test('Concat, Split', async () => {
  await check('Concat', opCase('Concat', [r.f32([2, 3, 4]), r.f32([2, 1, 4]), r.f32([2, 5, 4])], { axis: 1 }));
  await check('Concat last', opCase('Concat', [r.int('i64', [2, 3], -4, 4), r.int('i64', [2, 2], -4, 4)], { axis: -1 }));
  await check('Split', opCase('Split', [r.f32([2, 6, 3]), i64([1, 2, 3])], { axis: 1 }, { consts: [1], outputs: 3 }));
  await check('Split equal', opCase('Split', [r.f32([4, 6])], { axis: 0 }, { outputs: 2 }));
});

test('Pad, Tile, DepthToSpace, SpaceToDepth', async () => {
  for (const mode of ['constant', 'reflect', 'edge', 'wrap']) {
    await check(`Pad ${mode}`, opCase('Pad', [r.f32([2, 3, 4]), i64([0, 2, 1, 1, 2, 3]), makeTensor('f32', [], Float32Array.from([1.5]))], { mode }, { consts: [1, 2] }));
  }
  await check('Pad axes', opCase('Pad', [r.f32([3, 4]), i64([1, 2]), null, i64([1])], {}, { consts: [1, 3] }));
  await check('Tile', opCase('Tile', [r.f32([2, 3]), i64([2, 3])], {}, { consts: [1] }));
  await check('DepthToSpace DCR', opCase('DepthToSpace', [r.f32([1, 8, 2, 3])], { blocksize: 2 }));
  await check('DepthToSpace CRD', opCase('DepthToSpace', [r.f32([2, 8, 2, 3])], { blocksize: 2, mode: 'CRD' }));
  await check('SpaceToDepth', opCase('SpaceToDepth', [r.f32([2, 3, 4, 6])], { blocksize: 2 }));
});

test('Gather, GatherElements, GatherND', async () => {
  await check('Gather axis 0', opCase('Gather', [r.f32([5, 4]), i64([0, -1, 3, 2, 2, 4], [2, 3])]));
  await check('Gather axis 1', opCase('Gather', [r.f32([3, 5, 2]), i64([4, -2], [2])], { axis: 1 }));
  await check('Gather i32 ind', opCase('Gather', [r.f32([6]), r.int('i32', [4], -6, 5)]));
  await check('GatherElements', opCase('GatherElements', [r.f32([3, 4]), r.int('i64', [3, 2], -4, 3)], { axis: 1 }));
  await check('GatherND', opCase('GatherND', [r.f32([3, 4, 2]), i64([0, 1, 2, -1, 1, 3], [3, 2])]));
  await check('GatherND batch', opCase('GatherND', [r.f32([2, 3, 4]), i64([1, 2, 0, -1], [2, 2, 1])], { batch_dims: 1 }));
});


test('ScatterND, ScatterElements', async () => {
  const data = r.f32([4, 3, 2]);
  await check('ScatterND', opCase('ScatterND', [data, i64([1, -1], [2, 1]), r.f32([2, 3, 2])]));
  await check('ScatterND k2', opCase('ScatterND', [data, i64([0, 1, 3, 2], [2, 2]), r.f32([2, 2])]));
  for (const reduction of ['add', 'mul', 'max', 'min']) {
    await check(`ScatterND ${reduction}`, opCase('ScatterND', [data, i64([1, 1, 0], [3, 1]), r.f32([3, 3, 2])], { reduction }));
    await check(`ScatterElements ${reduction}`, opCase('ScatterElements', [r.f32([3, 4]), i64([0, 0, 3, 1, 1, 1], [3, 2]), r.f32([3, 2])], { axis: 1, reduction }));
  }
  await check('ScatterElements', opCase('ScatterElements', [r.f32([3, 4]), i64([0, 1, 2, -1, 1, 2, 0, 0], [2, 4]), r.f32([2, 4])], { axis: 0 }));
});

test.run();
