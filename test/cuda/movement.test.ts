// CUDA data-movement lowerings (backends/cuda/ops/movement.ts, scatter.ts, extra.ts) on the CPU
// harness, against the reference interpreter, in forward and reverse thread order: several
// dtypes (f32, f16, i64, bool, u8), odd shapes, the tiled transpose and the generic copy, every
// Pad mode, duplicate scatter indices with each reduction. Each test is one g++ build.
import { test } from 'uvu';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { makeTensor, toConst } from '../../ir/interp/tensor.ts';
import type { OpCase } from './helpers.ts';
import { checkCuda, opCase, rng } from './helpers.ts';

const r = rng(11);
const i64 = (v: number[], shape = [v.length]) => makeTensor('i64', shape, BigInt64Array.from(v.map(BigInt)));
const i32 = (v: number[], shape = [v.length]) => makeTensor('i32', shape, Int32Array.from(v));
const f32 = (v: number[], shape = [v.length]) => makeTensor('f32', shape, Float32Array.from(v));
/** Random values exact in f16 (multiples of 1/64 in [-8, 8]). */
const f16 = (shape: number[]) => {
  const t = r.int('i32', shape, -512, 512);
  return makeTensor('f16', shape, Float32Array.from(t.data as Int32Array, (v) => v / 64));
};
/** f16 values whose sums and products stay exact in f16 (reductions round at each update). */
const f16small = (shape: number[]) => makeTensor('f16', shape, Float32Array.from(r.int('i32', shape, -4, 4).data as Int32Array, (v) => v / 2));
const u8 = (shape: number[]) => r.int('u8', shape, 0, 255);
const bool = (shape: number[]) => r.int('bool', shape, 0, 1);
const i64r = (shape: number[]) => r.int('i64', shape, -1e6, 1e6);

/**
 * The case with its result's shape given: inference leaves a Compress result's length unknown
 * even when the condition is a constant; a model may still state it.
 */
function withShape(c: OpCase, shape: number[]): OpCase {
  const g = c.model.graph;
  const [node, ...rest] = g.nodes;
  const o = node!.outputs[0]!;
  if (o.type.kind !== 'tensor') throw new Error('expected a tensor result');
  const outputs = [{ ...o, type: { ...o.type, shape } }, ...node!.outputs.slice(1)];
  return { ...c, model: { ...c.model, graph: { ...g, nodes: [{ ...node!, outputs }, ...rest] } } };
}

/** The same op over several dtypes. */
const dtypes = (make: (x: (shape: number[]) => Tensor) => OpCase[]): OpCase[] => [r.f32, f16, i64r, bool, u8].flatMap((g) => make((s) => g(s)));

test('Transpose (tiled and strided), Expand, Slice, DepthToSpace, SpaceToDepth over dtypes', () => {
  checkCuda('movement views', [
    ...dtypes((x) => [
      opCase('Transpose', [x([3, 40, 50])], { perm: [0, 2, 1] }), // tiled, 2 partial tiles each way
      opCase('Transpose', [x([2, 33, 17, 20])], { perm: [0, 3, 1, 2] }), // tiled with batch dims
      opCase('Transpose', [x([2, 3, 4, 5])], { perm: [3, 1, 0, 2] }), // strided
      opCase('Expand', [x([3, 1, 5]), i64([2, 3, 4, 5])], {}, { consts: [1] }),
      opCase('Slice', [x([5, 6, 7]), i64([-1, 4]), i64([-100, 0]), i64([0, 2]), i64([-2, -1])], {}, { consts: [1, 2, 3, 4] }),
      opCase('DepthToSpace', [x([2, 8, 3, 5])], { blocksize: 2, mode: 'CRD' }),
      opCase('SpaceToDepth', [x([1, 3, 4, 6])], { blocksize: 2 }),
    ]),
    opCase('Transpose', [r.f32([37, 45])]), // default perm, tiled
    opCase('Transpose', [r.f32([37, 1, 45])], { perm: [2, 1, 0] }),
    opCase('Transpose', [r.f32([4, 100])]), // one extent under a tile: strided
    opCase('Transpose', [r.f32([2, 3])], { perm: [0, 1] }), // identity: an alias
    opCase('Expand', [r.f32([4]), i64([3, 1])], {}, { consts: [1] }),
    opCase('Expand', [r.f32([2, 3]), i64([2, 3])], {}, { consts: [1] }), // nothing broadcast: an alias
    opCase('Slice', [r.f32([5, 6, 7]), i64([1, -5]), i64([4, 100]), i64([0, 2]), i64([1, 2])], {}, { consts: [1, 2, 3, 4] }),
    opCase('Slice', [r.f32([40, 50]), i64([0, 49]), i64([40, -100]), i64([0, 1]), i64([1, -1])], {}, { consts: [1, 2, 3, 4] }),
    opCase('Slice', [r.f32([4, 6]), i64([5]), i64([9]), i64([0])], {}, { consts: [1, 2, 3] }), // empty result
    opCase('DepthToSpace', [r.f32([1, 8, 2, 3])], { blocksize: 2 }),
    opCase('DepthToSpace', [r.f32([1, 18, 20, 20])], { blocksize: 3 }),
  ]);
});

test('Concat, Split (attribute, operand, num_outputs), Tile, Pad (all modes, opsets)', () => {
  checkCuda('concat split tile pad', [
    ...dtypes((x) => [
      opCase('Concat', [x([2, 3, 4]), x([2, 1, 4]), x([2, 5, 4])], { axis: 1 }),
      opCase('Split', [x([2, 7, 3]), i64([1, 2, 4])], { axis: 1 }, { consts: [1], outputs: 3 }),
      opCase('Tile', [x([2, 3, 1]), i64([2, 1, 3])], {}, { consts: [1] }),
      opCase('Pad', [x([3, 4]), i64([1, 2, 2, 1])], { mode: 'reflect' }, { consts: [1] }),
    ]),
    opCase('Concat', [r.int('i64', [2, 3], -4, 4), r.int('i64', [2, 2], -4, 4)], { axis: -1 }),
    opCase('Concat', [r.f32([0, 3]), r.f32([2, 3])], { axis: 0 }),
    opCase('Split', [r.f32([4, 6])], { axis: 0 }, { outputs: 2 }),
    opCase('Split', [r.f32([7, 2])], { axis: 0, num_outputs: 3 }, { outputs: 3, opset: 18 }),
    opCase('Tile', [r.f32([5]), i64([3])], {}, { consts: [1] }),
    opCase('Tile', [r.f32([2, 3, 4]), i64([1, 1, 1])], {}, { consts: [1] }),
    ...['constant', 'reflect', 'edge', 'wrap'].flatMap((mode) => [
      opCase('Pad', [r.f32([2, 3, 4]), i64([0, 2, 1, 1, 2, 3]), f32([1.5], [])], { mode }, { consts: [1, 2] }),
      opCase('Pad', [r.f32([1, 5, 1, 3]), i64([0, 0, 2, 4, 0, 0, 1, 4])], { mode }, { consts: [1] }),
    ]),
    opCase('Pad', [r.f32([3, 4]), i64([1, 2]), null, i64([1])], {}, { consts: [1, 3] }),
    opCase('Pad', [r.f32([3, 4]), i64([-1, 1, 0, -2])], {}, { consts: [1] }), // negative pads crop
    opCase('Pad', [i64r([3, 4]), i64([1, 1, 1, 1]), i64([-7], [])], {}, { consts: [1] }), // fill read from its buffer
    opCase('Pad', [f16([3, 4]), i64([1, 0, 0, 2]), makeTensor('f16', [], Float32Array.from([-2.5]))], {}, { consts: [1, 2] }),
  ]);
});

test('Gather, GatherElements, GatherND (negative indices, i32 and i64, batch_dims)', () => {
  checkCuda('gathers', [
    ...dtypes((x) => [
      opCase('Gather', [x([5, 4]), i64([0, -1, 3, 2, 2, 4], [2, 3])]),
      opCase('GatherElements', [x([3, 4]), r.int('i64', [3, 2], -4, 3)], { axis: 1 }),
      opCase('GatherND', [x([2, 3, 4]), i64([1, 2, 0, -1], [2, 2, 1])], { batch_dims: 1 }),
    ]),
    opCase('Gather', [r.f32([3, 5, 2]), i64([4, -2], [2])], { axis: 1 }),
    opCase('Gather', [r.f32([3, 5, 2]), i64([-1], [])], { axis: -1 }),
    opCase('Gather', [r.f32([6]), r.int('i32', [4], -6, 5)]),
    opCase('GatherElements', [r.f32([4, 3, 5]), r.int('i32', [2, 3, 3], -4, 3)], { axis: 0 }),
    opCase('GatherElements', [r.f32([4, 3, 5]), r.int('i64', [4, 1, 5], -3, 2)], { axis: 1 }),
    opCase('GatherND', [r.f32([3, 4, 2]), i64([0, 1, 2, -1, 1, 3], [3, 2])]),
    opCase('GatherND', [r.f32([2, 3, 4, 5]), i64([1, 2, 0, 0, 2, 3, -1, 1], [2, 2, 2])], { batch_dims: 1 }),
  ]);
});

test('ScatterND, ScatterElements: duplicates keep the last update; reductions fold in order', () => {
  const data = r.f32([4, 3, 2]);
  const reductions = ['add', 'mul', 'max', 'min'];
  checkCuda('scatters', [
    opCase('ScatterND', [data, i64([1, -1], [2, 1]), r.f32([2, 3, 2])]),
    opCase('ScatterND', [data, i64([1, -3], [2, 1]), r.f32([2, 3, 2])], {}, { consts: [1] }), // constant, duplicate
    opCase('ScatterND', [data, i64([0, 1, 3, 2], [2, 2]), r.f32([2, 2])], {}, { consts: [1] }), // constant, distinct
    opCase('ScatterND', [i64r([5, 4]), i64([2, 0, 2, 4, 2], [5, 1]), i64r([5, 4])]), // runtime duplicates
    opCase('ScatterND', [bool([6]), i64([5, 0, 5], [3, 1]), bool([3])]),
    opCase('ScatterND', [f16([3, 4]), i64([1, 2, -1, 0], [2, 2]), f16([2])]),
    opCase('ScatterElements', [r.f32([3, 4]), i64([0, 1, 2, -1, 1, 2, 0, 0], [2, 4]), r.f32([2, 4])], { axis: 0 }),
    opCase('ScatterElements', [u8([3, 4]), i64([0, 0, 3, 0, 0, 0], [3, 2]), u8([3, 2])], { axis: 1 }), // duplicates
    opCase('ScatterElements', [r.f32([3, 4]), i32([3, 1, 2, 0], [2, 2]), r.f32([2, 2])], { axis: -1 }, { consts: [1] }),
    ...reductions.flatMap((reduction) => [
      opCase('ScatterND', [data, i64([1, 1, 0], [3, 1]), r.f32([3, 3, 2])], { reduction }),
      opCase('ScatterND', [i64r([4, 3]), i64([1, 2, 1, 2, 0, 0], [3, 2]), r.int('i64', [3], -5, 5)], { reduction }),
      opCase('ScatterND', [f16small([4, 2]), i64([3, -1, 0], [3, 1]), f16small([3, 2])], { reduction }),
      opCase('ScatterElements', [r.f32([3, 4]), i64([0, 0, 3, 1, 1, 1], [3, 2]), r.f32([3, 2])], { axis: 1, reduction }),
      opCase('ScatterElements', [r.int('i32', [2, 3, 4], -100, 100), i64([0, 0, -1, 1, 0, 2, 2, 2], [1, 2, 4]), r.int('i32', [1, 2, 4], -9, 9)], { axis: 1, reduction }, { opset: 18 }),
    ]),
  ]);
});

test('opset 9: Slice, Pad and Split attributes, Scatter', () => {
  checkCuda('opset 9', [
    opCase('Slice', [r.f32([4, 6])], { starts: [1, 2], ends: [3, 5] }, { opset: 9 }),
    opCase('Slice', [r.f32([4, 6, 5])], { starts: [-1, 1], ends: [1000, 4], axes: [0, 2] }, { opset: 9 }),
    opCase('Split', [r.f32([3, 6])], { axis: -1, split: [2, 4] }, { outputs: 2, opset: 9 }),
    opCase('Pad', [r.f32([3, 4])], { pads: [1, 1, 0, 2], value: 0.25 }, { opset: 9 }),
    opCase('Pad', [r.int('i32', [3, 4], -9, 9)], { pads: [0, 2, 1, 0], mode: 'edge' }, { opset: 9 }),
    opCase('Scatter', [r.f32([3, 3]), i64([1, 0, 2, 0, 2, 1], [2, 3]), r.f32([2, 3])], { axis: 0 }, { opset: 9 }),
  ]);
});

test('Trilu, ConstantOfShape, EyeLike, OneHot, Range, Compress, ReverseSequence', () => {
  checkCuda('extra', [
    ...dtypes((x) => [opCase('Trilu', [x([2, 4, 5]), i64([1], [])], {}, { consts: [1] }), opCase('Trilu', [x([5, 3])], { upper: 0 })]),
    opCase('Trilu', [r.f32([3, 6]), i64([-1], [])], { upper: 0 }), // k read from its buffer
    opCase('Trilu', [r.f32([3, 6]), i64([-100], [])], {}, { consts: [1] }),
    // Shapes over the fold limit (4096 elements), so the kernels run rather than the interpreter.
    opCase('ConstantOfShape', [i64([70, 70])], { value: { kind: 'tensor', value: toConst(f32([-0.75], [1])) } }, { consts: [0] }),
    opCase('ConstantOfShape', [i64([5000])], { value: { kind: 'tensor', value: toConst(i64([-3], [1])) } }, { consts: [0] }),
    opCase('ConstantOfShape', [i64([64, 65])], {}, { consts: [0] }),
    opCase('EyeLike', [r.f32([4, 6])], { k: 1 }),
    opCase('EyeLike', [r.f32([5, 3])], { k: -2, dtype: 7 }),
    opCase('EyeLike', [r.int('i32', [3, 3], 0, 1)], { dtype: 9 }),
    opCase('OneHot', [i64([0, 3, -1, 7, -5, 2], [2, 3]), i64([5], []), f32([-1, 4])], { axis: 1 }, { consts: [1] }),
    opCase('OneHot', [f32([1.7, -2.2, 9, 0.5]), i64([4], []), i64([0, 1])], {}, { consts: [1] }),
    opCase('OneHot', [i32([2, 0, 1], [3]), i64([3], []), makeTensor('f16', [2], Float32Array.from([0, 1]))], { axis: 0 }, { consts: [1] }),
    opCase('Range', [f32([2.5], []), f32([5002.5], []), f32([0.5], [])], {}, { consts: [0, 1, 2] }),
    opCase('Range', [i64([10000], []), i64([-2000], []), i64([-3], [])], {}, { consts: [0, 1, 2] }),
    opCase('Range', [i32([-7], []), i32([20000], []), i32([4], [])], {}, { consts: [0, 1, 2] }),
    withShape(opCase('Compress', [r.f32([3, 5, 2]), makeTensor('bool', [4], Uint8Array.from([0, 1, 0, 1]))], { axis: 1 }, { consts: [1] }), [3, 2, 2]),
    withShape(opCase('Compress', [i64r([3, 2]), makeTensor('bool', [5], Uint8Array.from([1, 0, 0, 1, 1]))], {}, { consts: [1] }), [3]),
    // A computed condition: scanned into a table on the device.
    withShape(opCase('Compress', [f16([4, 5, 3]), makeTensor('bool', [4], Uint8Array.from([1, 0, 1, 1]))], { axis: -2 }), [4, 3, 3]),
    withShape(opCase('Compress', [u8([2, 3]), makeTensor('bool', [6], Uint8Array.from([0, 0, 1, 0, 0, 1]))], {}), [2]),
    opCase('ReverseSequence', [r.f32([4, 3, 2]), i64([4, 1, 3])], { batch_axis: 1, time_axis: 0 }),
    opCase('ReverseSequence', [i64r([3, 5]), i64([5, 0, 2])], { batch_axis: 0, time_axis: 1 }),
  ]);
});

test.run();
