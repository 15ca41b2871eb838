import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { convertOnnxBytes, importOnnxBytes } from '../../ir/onnx/import.ts';
import { typeToString } from '../../ir/types.ts';
import type { Graph, Model } from '../../ir/graph.ts';
import { AT, DT, f32, modelBytes, node, vi } from './build.ts';

const typeOf = (m: Model, name: string): string => {
  for (const n of m.graph.nodes) for (const o of n.outputs) if (o?.name === name) return typeToString(o.type);
  const v = m.graph.inputs.find((i) => i.name === name);
  if (v) return typeToString(v.type);
  throw new Error(`no value ${name}`);
};

function addRelu(): Uint8Array {
  return modelBytes({
    graph: {
      input: [vi('x', DT.FLOAT, ['batch', 3])],
      initializer: [f32('w', [3], [1, 2, 3])],
      node: [node('Add', ['x', 'w'], ['a']), node('Relu', ['a'], ['y'], { name: 'relu' })],
      output: [vi('y', DT.FLOAT, null)],
    },
    opsets: { '': 14 },
  });
}

test('Add/Relu imports with inferred types, symbolic dims and generated names', () => {
  const m = importOnnxBytes(addRelu(), { file: 'add_relu.onnx' });
  assert.equal(m.opsets, { 'ai.onnx': 14 });
  assert.is(m.producer, 'lathe-test 1');
  assert.is(typeOf(m, 'x'), 'f32[batch, 3]');
  assert.is(typeOf(m, 'a'), 'f32[batch, 3]');
  assert.is(typeOf(m, 'y'), 'f32[batch, 3]');
  assert.equal(m.graph.nodes.map((n) => [n.name, n.op, n.domain]), [['Add_0', 'Add', 'ai.onnx'], ['relu', 'Relu', 'ai.onnx']]);
  assert.equal(m.graph.outputs, ['y']);
  assert.equal(m.graph.constants.map((c) => [c.name, c.tensor.dtype, c.tensor.shape]), [['w', 'f32', [3]]]);
});

test('raw_data initializers are views into the model bytes, not copies', () => {
  const bytes = addRelu();
  const m = importOnnxBytes(bytes);
  const data = m.graph.constants[0]!.tensor.data;
  assert.is(data.kind, 'bytes');
  if (data.kind !== 'bytes') return;
  assert.ok(data.bytes.buffer === bytes.buffer, 'same ArrayBuffer');
  assert.equal([...new Float32Array(data.bytes.slice().buffer)], [1, 2, 3]);
});

test('an initializer listed as a graph input stays an input with a default', () => {
  const m = importOnnxBytes(
    modelBytes({
      graph: {
        input: [vi('x', DT.FLOAT, [3]), vi('w', DT.FLOAT, [3])],
        initializer: [f32('w', [3], [1, 2, 3])],
        node: [node('Add', ['x', 'w'], ['y'])],
        output: [vi('y', DT.FLOAT, [3])],
      },
    }),
  );
  assert.equal(m.graph.inputs.map((i) => i.name), ['x', 'w']);
  assert.is(m.graph.constants.length, 0);
  assert.equal(m.graph.inputDefaults?.map((c) => c.name), ['w']);
});

test('value_info types reach node results; unknown dims become ?', () => {
  const m = convertOnnxBytes(
    modelBytes({
      graph: {
        input: [vi('x', DT.FLOAT, [null, 'n'])],
        node: [node('Relu', ['x'], ['a']), node('Relu', ['a'], ['y'])],
        valueInfo: [vi('a', DT.FLOAT, [null, 'n'])],
        output: [vi('y', DT.FLOAT, [])],
      },
    }),
  );
  assert.is(typeToString(m.graph.nodes[0]!.outputs[0]!.type), 'f32[?, n]');
  assert.is(typeToString(m.graph.nodes[1]!.outputs[0]!.type), 'f32[]');
});

test('empty input and output names are omitted operands and results', () => {
  const m = convertOnnxBytes(
    modelBytes({ graph: { input: [vi('x', DT.FLOAT, [2])], node: [node('Foo', ['x', '', 'x'], ['y', ''])], output: [vi('y', DT.FLOAT, [2])] } }),
  );
  const n = m.graph.nodes[0]!;
  assert.equal(n.inputs, ['x', null, 'x']);
  assert.is(n.outputs[1], null);
});

test('duplicate and missing node names are made unique', () => {
  const m = convertOnnxBytes(
    modelBytes({
      graph: {
        input: [vi('x', DT.FLOAT, [2])],
        node: [node('Relu', ['x'], ['a'], { name: 'r' }), node('Relu', ['a'], ['b'], { name: 'r' }), node('Relu', ['b'], ['c'])],
        output: [vi('c', DT.FLOAT, [2])],
      },
    }),
  );
  assert.equal(m.graph.nodes.map((n) => n.name), ['r', 'r_1', 'Relu_2']);
});

test('attributes of every kind convert', () => {
  const sub = {
    name: 'body',
    input: [vi('s', DT.FLOAT, [1])],
    node: [node('Relu', ['s'], ['t'])],
    output: [vi('t', DT.FLOAT, [1])],
  };
  const tp = { tensorType: { elemType: DT.INT64, shape: { dim: [{ dimParam: 'k' }] } } };
  const attribute = [
    { name: 'i', type: AT.INT, i: 7 },
    { name: 'big', type: AT.INT, i: { low: -1, high: 0x7fffffff, unsigned: false } as never },
    { name: 'f', type: AT.FLOAT, f: 0.1 },
    { name: 's', type: AT.STRING, s: new TextEncoder().encode('héllo') },
    { name: 't', type: AT.TENSOR, t: f32('', [2], [1, 2]) },
    { name: 'g', type: AT.GRAPH, g: sub },
    { name: 'ints', type: AT.INTS, ints: [1, -2, 3] },
    { name: 'floats', type: AT.FLOATS, floats: [0.5, 1e-5] },
    { name: 'strings', type: AT.STRINGS, strings: [new TextEncoder().encode('a'), new TextEncoder().encode('b')] },
    { name: 'tensors', type: AT.TENSORS, tensors: [f32('a', [1], [1]), f32('b', [], [2])] },
    { name: 'graphs', type: AT.GRAPHS, graphs: [sub, sub] },
    { name: 'tp', type: AT.TYPE_PROTO, tp },
    { name: 'tps', type: AT.TYPE_PROTOS, typeProtos: [tp, { sequenceType: { elemType: tp } }, { optionalType: { elemType: tp } }] },
  ];
  const m = convertOnnxBytes(
    modelBytes({ graph: { input: [vi('x', DT.FLOAT, [2])], node: [node('Foo', ['x'], ['y'], { attribute })], output: [vi('y', DT.FLOAT, [2])] } }),
  );
  const a = m.graph.nodes[0]!.attrs;
  assert.equal(a.i, { kind: 'int', value: 7 });
  assert.equal(a.big, { kind: 'int', value: 2 ** 63 });
  assert.equal(a.f, { kind: 'float', value: 0.1 });
  assert.equal(a.s, { kind: 'string', value: 'héllo' });
  assert.is(a.t!.kind, 'tensor');
  assert.equal(a.ints, { kind: 'ints', value: [1, -2, 3] });
  assert.equal(a.floats, { kind: 'floats', value: [0.5, 1e-5] });
  assert.equal(a.strings, { kind: 'strings', value: ['a', 'b'] });
  assert.equal(a.tensors!.kind === 'tensors' && a.tensors!.value.map((t) => t.shape), [[1], []]);
  const g = a.g!.kind === 'graph' ? a.g!.value : (undefined as never as Graph);
  assert.is(g.name, 'body');
  assert.is(typeToString(g.inputs[0]!.type), 'f32[1]');
  assert.is(typeToString(g.nodes[0]!.outputs[0]!.type), 'f32[1]');
  assert.equal(g.outputs, ['t']);
  assert.is(a.graphs!.kind === 'graphs' && a.graphs!.value.length, 2);
  assert.is(a.tp!.kind === 'type' && typeToString(a.tp!.value), 'i64[k]');
  assert.equal(a.tps!.kind === 'types' && a.tps!.value.map(typeToString), ['i64[k]', 'seq<i64[k]>', 'opt<i64[k]>']);
});

test('Constant nodes stay nodes; their tensor is a view into the model bytes', () => {
  const bytes = modelBytes({
    graph: {
      input: [vi('x', DT.FLOAT, [2])],
      node: [node('Constant', [], ['c'], { attribute: [{ name: 'value', type: AT.TENSOR, t: f32('', [2], [5, 6]) }] }), node('Add', ['x', 'c'], ['y'])],
      output: [vi('y', DT.FLOAT, [2])],
    },
  });
  const m = convertOnnxBytes(bytes);
  assert.is(m.graph.constants.length, 0);
  const c = m.graph.nodes[0]!;
  assert.is(c.op, 'Constant');
  const v = c.attrs.value!;
  assert.ok(v.kind === 'tensor' && v.value.data.kind === 'bytes' && v.value.data.bytes.buffer === bytes.buffer);
});

test.run();
