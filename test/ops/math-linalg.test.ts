// Shape inference of matrix products, contractions and reductions.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Model } from '../../ir/graph.ts';
import { inferModel, PLACEHOLDER } from '../../ir/infer.ts';
import { typeToString } from '../../ir/types.ts';
import { a, infer, parseType, throwsShape } from './math-helpers.ts';

test('MatMul: batch broadcast, 1-D operands, symbols', () => {
  assert.equal(infer('MatMul', ['f32[batch, seq, 768]', 'f32[768, 3072]']), ['f32[batch, seq, 3072]']);
  assert.equal(infer('MatMul', ['f32[2, 1, 4, 5]', 'f32[3, 5, 6]']), ['f32[2, 3, 4, 6]']);
  assert.equal(infer('MatMul', ['f32[5]', 'f32[2, 5, 6]']), ['f32[2, 6]']);
  assert.equal(infer('MatMul', ['f32[2, 4, 5]', 'f32[5]']), ['f32[2, 4]']);
  assert.equal(infer('MatMul', ['f32[5]', 'f32[5]']), ['f32[]']);
  assert.equal(infer('MatMul', ['f32[b, h, s, d]', 'f32[b, h, d, t]']), ['f32[b, h, s, t]']);
  assert.equal(infer('MatMul', ['f32[*]', 'f32[3, 4]']), ['f32[*]']);
});

test('MatMul: inner-dim mismatch and dtype errors name the node', () => {
  throwsShape(() => infer('MatMul', ['f32[2, 3]', 'f32[4, 5]']), /inner dimensions of \[2, 3\] × \[4, 5\] differ: 3 vs 4/);
  throwsShape(() => infer('MatMul', ['f32[2, 3]', 'f16[3, 5]']), /share one dtype, got f32 and f16/);
  throwsShape(() => infer('MatMul', ['bool[2, 3]', 'bool[3, 5]']), /operand 0 has dtype bool/);
  throwsShape(() => infer('MatMul', ['f32[2, 2, 3]', 'f32[3, 3, 5]']), /do not broadcast/);
});

test('Gemm: transposes and C broadcast', () => {
  assert.equal(infer('Gemm', ['f32[m, 4]', 'f32[4, 5]', 'f32[5]']), ['f32[m, 5]']);
  assert.equal(infer('Gemm', ['f32[4, 3]', 'f32[5, 4]'], { attrs: { transA: a.int(1), transB: a.int(1), alpha: a.float(0.5) } }), ['f32[3, 5]']);
  throwsShape(() => infer('Gemm', ['f32[3, 4]', 'f32[5, 6]', 'f32[6]']), /differ: 4 vs 5/);
  throwsShape(() => infer('Gemm', ['f32[3, 4]', 'f32[4, 6]', 'f32[4]']), /C \[4\] does not broadcast to \[3, 6\]/);
  throwsShape(() => infer('Gemm', ['f32[3, 4]', 'f32[4, 6]'], { opset: 9 }), /C is required before opset 11/);
  assert.equal(infer('Gemm', ['f32[3, 4]', 'f32[4, 6]', 'f32[3, 6]'], { opset: 6, attrs: { broadcast: a.int(0) } }), ['f32[3, 6]']);
});

test('MatMulInteger and QLinearMatMul', () => {
  assert.equal(infer('MatMulInteger', ['u8[4, 3]', 'u8[3, 2]', 'u8[]', 'u8[]']), ['i32[4, 2]']);
  const q = infer('QLinearMatMul', ['u8[2, 4]', 'f32[]', 'u8[]', 'i8[4, 3]', 'f32[]', 'i8[]', 'f32[]', 'i8[]']);
  assert.equal(q, ['i8[2, 3]']);
  throwsShape(() => infer('MatMulInteger', ['u8[4, 3]', 'u8[4, 2]']), /differ: 3 vs 4/);
});

test('Einsum: batch matmul, implicit output, ellipsis, diagonal, errors', () => {
  const eq = (e: string) => ({ attrs: { equation: a.string(e) } });
  assert.equal(infer('Einsum', ['f32[batch, 3, 4]', 'f32[batch, 4, 5]'], eq('bij,bjk->bik')), ['f32[batch, 3, 5]']);
  assert.equal(infer('Einsum', ['f32[3, 4]', 'f32[4, 5]'], eq('ij,jk')), ['f32[3, 5]']);
  assert.equal(infer('Einsum', ['f32[3, 4]'], eq('ij->ji')), ['f32[4, 3]']);
  assert.equal(infer('Einsum', ['f32[3, 4]'], eq('ij->')), ['f32[]']);
  assert.equal(infer('Einsum', ['f32[2, 6, 3, 3]'], eq('...ii->...i')), ['f32[2, 6, 3]']);
  assert.equal(infer('Einsum', ['f32[n, 7, 3, 4]', 'f32[1, 4, 5]'], eq('...ij,...jk->...ik')), ['f32[n, 7, 3, 5]']);
  assert.equal(infer('Einsum', ['f32[5]', 'f32[5]'], eq('i,i')), ['f32[]']);
  throwsShape(() => infer('Einsum', ['f32[3, 4]', 'f32[5, 6]'], eq('ij,jk->ik')), /label 'j' differ: 4 vs 5/);
  throwsShape(() => infer('Einsum', ['f32[3, 4]'], eq('ijk->k')), /does not match operand 0/);
  throwsShape(() => infer('Einsum', ['f32[3, 4]'], eq('ij->iz')), /output label 'z'/);
});

test('Det', () => {
  assert.equal(infer('Det', ['f32[b, 3, 3]']), ['f32[b]']);
  throwsShape(() => infer('Det', ['f32[3, 4]']), /matrix dimensions .* differ: 3 vs 4/);
});

test('ReduceMean/ReduceSum: keepdims, axes attribute vs input by opset', () => {
  const x = 'f32[batch, seq, 768]';
  assert.equal(infer('ReduceMean', [x], { opset: 17, attrs: { axes: a.ints(-1) } }), ['f32[batch, seq, 1]']);
  assert.equal(infer('ReduceMean', [x], { opset: 17, attrs: { axes: a.ints(1), keepdims: a.int(0) } }), ['f32[batch, 768]']);
  assert.equal(infer('ReduceMean', [x, { ints: [-1] }], { opset: 18 }), ['f32[batch, seq, 1]']);
  assert.equal(infer('ReduceSum', [x, { ints: [0, 2] }], { opset: 13, attrs: { keepdims: a.int(0) } }), ['f32[seq]']);
  assert.equal(infer('ReduceSum', [x], { opset: 11, attrs: { axes: a.ints(0, 2) } }), ['f32[1, seq, 1]']);
  // No axes: all axes, unless noop_with_empty_axes.
  assert.equal(infer('ReduceMax', [x], { opset: 18, attrs: { keepdims: a.int(0) } }), ['f32[]']);
  assert.equal(infer('ReduceSum', [x, { ints: [] }], { opset: 13, attrs: { noop_with_empty_axes: a.int(1) } }), [`f32[batch, seq, 768]`]);
  throwsShape(() => infer('ReduceMean', [x, { ints: [1] }], { opset: 17 }), /needs opset 18/);
  throwsShape(() => infer('ReduceSum', [x], { opset: 13, attrs: { axes: a.ints(1) } }), /became input 1 at opset 13/);
  throwsShape(() => infer('ReduceL2', [x], { attrs: { axes: a.ints(3) } }), /axis 3 is out of range for rank 3/);
});

test('Reduce with an axes input of unknown contents', () => {
  assert.equal(infer('ReduceSum', ['f32[2, 1, 4]', 'i64[2]'], { opset: 13 }), ['f32[?, 1, ?]']);
  assert.equal(infer('ReduceSum', ['f32[2, 1, 4]', 'i64[2]'], { opset: 13, attrs: { keepdims: a.int(0) } }), ['f32[?]']);
  assert.equal(infer('ReduceSum', ['f32[2, 1, 4]', 'i64[?]'], { opset: 13, attrs: { keepdims: a.int(0) } }), ['f32[*]']);
});

test('all Reduce* ops declare keepdims and the legacy axes attribute', () => {
  for (const op of ['ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceMin', 'ReduceProd', 'ReduceSumSquare']) {
    assert.equal(infer(op, ['f32[2, 3, 4]'], { opset: 13, attrs: { axes: a.ints(1), keepdims: a.int(1) } }), ['f32[2, 1, 4]'], op);
  }
});

test('ArgMax/ArgMin give i64; TopK gives values and indices', () => {
  assert.equal(infer('ArgMax', ['f32[n, 10]'], { attrs: { axis: a.int(1) } }), ['i64[n, 1]']);
  assert.equal(infer('ArgMin', ['f32[n, 10]'], { attrs: { axis: a.int(-1), keepdims: a.int(0), select_last_index: a.int(1) } }), ['i64[n]']);
  assert.equal(infer('TopK', ['f32[n, 10]', { ints: [3] }], { outputs: 2 }), ['f32[n, 3]', 'i64[n, 3]']);
  assert.equal(infer('TopK', ['f32[n, 10]', 'i64[1]'], { outputs: 2, attrs: { axis: a.int(0) } }), ['f32[?, 10]', 'i64[?, 10]']);
  assert.equal(infer('TopK', ['f32[4, 10]'], { opset: 9, outputs: 2, attrs: { k: a.int(2), axis: a.int(0) } }), ['f32[2, 10]', 'i64[2, 10]']);
  throwsShape(() => infer('TopK', ['f32[4, 10]', { ints: [11] }], { outputs: 2 }), /k = 11 exceeds the axis size 10/);
});

test('CumSum keeps its shape and checks the axis', () => {
  assert.equal(infer('CumSum', ['f32[n, 5]', { ints: [1], scalar: true }]), ['f32[n, 5]']);
  throwsShape(() => infer('CumSum', ['f32[n, 5]', { ints: [2], scalar: true }]), /axis 2 is out of range/);
});

test('ReduceProd and Max propagate known sizes (shape arithmetic)', () => {
  const i64 = (ints: number[]) => new Uint8Array(new BigInt64Array(ints.map(BigInt)).buffer);
  const node = (name: string, op: string, inputs: string[], attrs = {}) => ({
    name, op, domain: 'ai.onnx', inputs, outputs: [{ name, type: PLACEHOLDER }], attrs,
  });
  const model: Model = {
    graph: {
      name: 'g',
      inputs: [{ name: 'x', type: parseType('f32[n, 64]') }],
      constants: [
        { name: 'dims', tensor: { dtype: 'i64', shape: [3], data: { kind: 'bytes', bytes: i64([2, 1, 3]) } } },
        { name: 'four', tensor: { dtype: 'i64', shape: [1], data: { kind: 'bytes', bytes: i64([4]) } } },
      ],
      nodes: [
        node('prod', 'ReduceProd', ['dims'], { keepdims: a.int(1) }),
        node('k', 'Max', ['prod', 'four']),
        { ...node('top', 'TopK', ['x', 'k']), outputs: [{ name: 'top', type: PLACEHOLDER }, { name: 'idx', type: PLACEHOLDER }] },
      ],
      outputs: ['top'],
    },
    opsets: { 'ai.onnx': 17 },
  };
  const nodes = inferModel(model, { mode: 'refine' }).graph.nodes;
  assert.is(typeToString(nodes[2]!.outputs[0]!.type), 'f32[n, 6]');
});

test.run();
