// The ONNX exporter on models written in code: what each part of a Model becomes in the
// ModelProto (decoded again with onnx-proto), the IR version it declares, and its refusals.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { modelsEqual } from '../../ir/equal.ts';
import type { Attr, Graph, Model, Node } from '../../ir/graph.ts';
import { convertOnnxBytes } from '../../ir/onnx/import.ts';
import { exportOnnx } from '../../ir/onnx/export.ts';
import { irForOnnxOpset } from '../../ir/onnx/export-ir.ts';
import { onnx, toNumber } from '../../ir/onnx/proto.ts';
import type { OnnxTypes } from '../../ir/onnx/proto.ts';
import type { ConstTensor } from '../../ir/tensor-data.ts';
import { constTensor, fromBytes } from '../../ir/tensor-data.ts';
import type { Shape, ValueType } from '../../ir/types.ts';
import { optionalOf, sequenceOf, tensor } from '../../ir/types.ts';
import { throwsLathe } from './errors.ts';

const f32 = (shape: Shape) => tensor('f32', shape);

function node(op: string, inputs: (string | null)[], outputs: ({ name: string; type: ValueType } | null)[], attrs: Record<string, Attr> = {}, domain = 'ai.onnx'): Node {
  return { name: `${op}_${outputs.find(Boolean)?.name ?? 'x'}`, op, domain, inputs, outputs, attrs };
}

function model(graph: Partial<Graph>, opsets: Record<string, number> = { 'ai.onnx': 17 }): Model {
  return { graph: { name: 'main', inputs: [], constants: [], nodes: [], outputs: [], ...graph }, opsets };
}

const decode = (bytes: Uint8Array) => onnx.ModelProto.decode(bytes);
/** The decoded graph; decoding fills every repeated field, so they are never null here. */
const graphOf = (bytes: Uint8Array) => decode(bytes).graph as OnnxTypes.GraphProto;

test('opsets, IR version and producer', () => {
  const m = decode(exportOnnx(model({}, { 'ai.onnx': 17, 'ai.onnx.ml': 3, lathe: 1 })));
  assert.equal(
    m.opsetImport.map((o) => [o.domain, toNumber(o.version)]),
    [['', 17], ['ai.onnx.ml', 3]],
    "ai.onnx is written as ''; the lathe domain is no ONNX domain",
  );
  assert.is(toNumber(m.irVersion), 8);
  assert.is(m.producerName, 'lathe');
  assert.is(decode(exportOnnx(model({}), { producer: 'me' })).producerName, 'me');
  assert.is(decode(exportOnnx(model({}), { producer: '' })).producerName, '');
});

test("IR version follows ONNX's table for the opset", () => {
  const table: [number, number][] = [[1, 3], [7, 3], [8, 3], [9, 4], [10, 5], [11, 6], [13, 7], [14, 7], [15, 8], [17, 8], [18, 8], [19, 9], [20, 9], [21, 10]];
  for (const [opset, ir] of table) {
    assert.is(irForOnnxOpset(opset), ir, `opset ${opset}`);
    // No initializers: nothing in the graph needs more than the opset's version.
    assert.is(toNumber(decode(exportOnnx(model({}, { 'ai.onnx': opset }))).irVersion), ir, `export at opset ${opset}`);
  }
  assert.is(toNumber(decode(exportOnnx(model({}), { irVersion: 10 })).irVersion), 10, 'an explicit version wins');
});

test('IR version rises for what the graph uses, and an explicit one too low is refused', () => {
  const w = { name: 'w', tensor: constTensor('f32', [1], [1]) };
  const ir = (m: Model) => toNumber(decode(exportOnnx(m)).irVersion);
  assert.is(ir(model({ constants: [w], outputs: ['w'] }, { 'ai.onnx': 7 })), 4, 'IR 3 needs every initializer to be an input');
  assert.is(ir(model({ inputDefaults: [w], inputs: [{ name: 'w', type: f32([1]) }], outputs: ['w'] }, { 'ai.onnx': 7 })), 3);
  const x = (type: ValueType) => model({ inputs: [{ name: 'x', type }], outputs: ['x'] }, { 'ai.onnx': 13 });
  assert.is(ir(x(optionalOf(f32([1])))), 8);
  assert.is(ir(x(tensor('f8e4m3fn', [1]))), 9);
  assert.is(ir(x(sequenceOf(tensor('i4', [1])))), 10);
  throwsLathe(() => exportOnnx(x(tensor('i4', [1])), { irVersion: 9 }), 'UsageError', ['IR version 9', 'i4', '10']);
  throwsLathe(() => exportOnnx(x(tensor('f32', [1])), { irVersion: 99 }), 'UsageError', ['99']);
});

test('inputs, outputs and value_info carry types: sizes, symbols, unknown dims and ranks', () => {
  const g: Partial<Graph> = {
    inputs: [{ name: 'x', type: f32(['batch', 3, null]) }, { name: 'r', type: f32(null) }],
    nodes: [
      node('Relu', ['x'], [{ name: 'h', type: f32(['batch', 3, null]) }]),
      node('Neg', ['h'], [{ name: 'y', type: f32(['batch', 3, 'n']) }]),
    ],
    outputs: ['y', 'r'],
  };
  const m = graphOf(exportOnnx(model(g)));
  const dims = (vi: OnnxTypes.IValueInfoProto) =>
    vi.type!.tensorType!.shape ? vi.type!.tensorType!.shape.dim!.map((d: OnnxTypes.TensorShapeProto.IDimension) => (d.dimParam ? d.dimParam : d.dimValue !== null && d.dimValue !== undefined ? toNumber(d.dimValue) : null)) : '*';
  assert.equal(m.input.map(dims), [['batch', 3, null], '*']);
  assert.equal(m.output.map((o) => o.name), ['y', 'r']);
  assert.equal(m.output.map(dims), [['batch', 3, 'n'], '*'], 'outputs are typed, graph inputs among them');
  assert.equal(m.valueInfo.map((v) => v.name), ['h'], 'intermediate values, outputs not repeated');
  assert.equal(dims(m.valueInfo[0]!), ['batch', 3, null]);
  assert.is(m.input[0]!.type!.tensorType!.elemType, onnx.TensorProto.DataType.FLOAT);
});

test('untyped results (importer placeholders) get no value_info', () => {
  const bytes = exportOnnx(model({ inputs: [{ name: 'x', type: f32([2]) }], nodes: [node('Relu', ['x'], [{ name: 'h', type: f32([2]) }]), node('Relu', ['h'], [{ name: 'y', type: f32([2]) }])], outputs: ['y'] }));
  const placeholder = convertOnnxBytes(bytes).graph; // h and y typed from value_info / outputs
  assert.is(placeholder.nodes[0]!.outputs[0]!.type.kind, 'tensor');
  const untyped = { ...placeholder, nodes: placeholder.nodes.map((n) => ({ ...n, outputs: n.outputs.map((o) => o && { ...o, type: { ...f32(null), placeholder: true } as ValueType }) })) };
  assert.equal(graphOf(exportOnnx(model(untyped))).valueInfo, []);
});

test('omitted operands and results are empty names; domains and names are kept', () => {
  const g: Partial<Graph> = {
    inputs: [{ name: 'x', type: f32([2]) }],
    nodes: [
      { name: 'clip', op: 'Clip', domain: 'ai.onnx', inputs: ['x', null, null], outputs: [{ name: 'y', type: f32([2]) }], attrs: {} },
      { name: 'ml', op: 'Scaler', domain: 'ai.onnx.ml', inputs: ['y'], outputs: [{ name: 'z', type: f32([2]) }, null], attrs: {} },
    ],
    outputs: ['z'],
  };
  const n = graphOf(exportOnnx(model(g, { 'ai.onnx': 17, 'ai.onnx.ml': 3 }))).node;
  assert.equal(n.map((x) => [x.name, x.domain, x.opType, x.input, x.output]), [
    ['clip', '', 'Clip', ['x', '', ''], ['y']],
    ['ml', 'ai.onnx.ml', 'Scaler', ['y'], ['z', '']],
  ]);
});

const i4 = fromBytes('i4', [3], new Uint8Array([0x21, 0x0f])); // 1, 2, -1: packed low nibble first
const str: ConstTensor = { dtype: 'string', shape: [2], data: { kind: 'strings', values: ['a', 'é'] } };

test('initializers: raw_data, packed 4-bit, strings, file ranges, input defaults', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lathe-export-'));
  const file = path.join(dir, 'w.bin');
  writeFileSync(file, new Uint8Array(new Float32Array([9, 1, 2]).buffer));
  const lazy: ConstTensor = { dtype: 'f32', shape: [2], data: { kind: 'file', path: file, offset: 4, length: 8 } };
  const g: Partial<Graph> = {
    inputs: [{ name: 'd', type: tensor('i64', [1]) }],
    constants: [
      { name: 'w', tensor: constTensor('f32', [2], [1.5, -2]) },
      { name: 'q', tensor: i4 },
      { name: 's', tensor: str },
      { name: 'l', tensor: lazy },
    ],
    inputDefaults: [{ name: 'd', tensor: constTensor('i64', [1], [7]) }],
    outputs: ['w', 'q', 's', 'l', 'd'],
  };
  const m = graphOf(exportOnnx(model(g)));
  assert.equal(m.initializer.map((t) => t.name), ['w', 'q', 's', 'l', 'd'], 'input defaults are initializers too');
  assert.equal(m.input.map((v) => v.name), ['d'], '... and stay inputs');
  const raw = (i: number) => [...m.initializer[i]!.rawData!];
  assert.equal(raw(0), [...new Uint8Array(new Float32Array([1.5, -2]).buffer)]);
  assert.equal(raw(1), [0x21, 0x0f]);
  assert.is(m.initializer[1]!.dataType, 22);
  assert.equal(m.initializer[2]!.stringData!.map((b) => new TextDecoder().decode(b)), ['a', 'é']);
  assert.equal(raw(3), [...new Uint8Array(new Float32Array([1, 2]).buffer)], 'file ranges are read at export');
  assert.equal(raw(4), [7, 0, 0, 0, 0, 0, 0, 0]);
});

/** Every attribute kind, read back by the importer's converter: the same attributes come back. */
test('attributes of every kind, subgraphs included, come back unchanged', () => {
  const body: Graph = {
    name: 'body',
    inputs: [{ name: 'b_in', type: f32([2]) }],
    constants: [{ name: 'b_c', tensor: constTensor('f32', [2], [1, 2]) }],
    nodes: [node('Add', ['b_in', 'x'], [{ name: 'b_out', type: f32([2]) }])],
    outputs: ['b_out'],
  };
  const attrs: Record<string, Attr> = {
    i: { kind: 'int', value: -3 },
    big: { kind: 'int', value: 2 ** 63 }, // INT64_MAX as the importer holds it
    small: { kind: 'int', value: -(2 ** 63) },
    f: { kind: 'float', value: 0.1 },
    nan: { kind: 'float', value: NaN },
    s: { kind: 'string', value: 'héllo' },
    t: { kind: 'tensor', value: i4 },
    g: { kind: 'graph', value: body },
    tp: { kind: 'type', value: optionalOf(sequenceOf(tensor('bf16', ['n', null]))) },
    is: { kind: 'ints', value: [1, 2 ** 63, -(2 ** 63), 0] },
    fs: { kind: 'floats', value: [1.5, -Infinity, Infinity] },
    ss: { kind: 'strings', value: ['', 'x'] },
    ts: { kind: 'tensors', value: [str, constTensor('u64', [1], [5])] },
    gs: { kind: 'graphs', value: [body, { ...body, name: 'other' }] },
    tps: { kind: 'types', value: [tensor('f16', null), tensor('bool', [])] },
  };
  const m = model({ inputs: [{ name: 'x', type: f32([2]) }], nodes: [node('Anything', ['x'], [{ name: 'y', type: f32([2]) }], attrs)], outputs: ['y'] });
  const back = convertOnnxBytes(exportOnnx(m, { producer: '' }));
  assert.is(modelsEqual(m, back), null);
  const sub = graphOf(exportOnnx(m)).node[0]!.attribute!.find((a) => a.name === 'g')!.g as OnnxTypes.GraphProto;
  assert.equal(sub.output[0]!.type!.tensorType!.elemType, onnx.TensorProto.DataType.FLOAT, 'subgraph outputs are typed');
  assert.equal(sub.initializer.map((t) => t.name), ['b_c']);
});

test("lathe's own ops cannot be exported: UnsupportedOp names the node and op", () => {
  const attn = { name: 'attn0', op: 'Attention', domain: 'lathe', inputs: ['x'], outputs: [{ name: 'y', type: f32([2]) }], attrs: {} };
  const top = model({ inputs: [{ name: 'x', type: f32([2]) }], nodes: [attn], outputs: ['y'] }, { 'ai.onnx': 17, lathe: 1 });
  throwsLathe(() => exportOnnx(top), 'UnsupportedOp', ["node 'attn0'", 'lathe.Attention', 'no longer expressible in ONNX']);
  const body: Graph = { name: 'body', inputs: [], constants: [], nodes: [attn], outputs: ['y'] };
  const nested = model({
    inputs: [{ name: 'x', type: f32([2]) }, { name: 'c', type: tensor('bool', []) }],
    nodes: [node('If', ['c'], [{ name: 'z', type: f32([2]) }], { then_branch: { kind: 'graph', value: body }, else_branch: { kind: 'graph', value: body } })],
    outputs: ['z'],
  });
  throwsLathe(() => exportOnnx(nested), 'UnsupportedOp', ["node 'attn0'", 'lathe.Attention']);
});

test('a node whose domain the model imports no opset of is refused', () => {
  const m = model({ inputs: [{ name: 'x', type: f32([2]) }], nodes: [{ ...node('Scaler', ['x'], [{ name: 'y', type: f32([2]) }]), domain: 'ai.onnx.ml' }], outputs: ['y'] });
  throwsLathe(() => exportOnnx(m), 'VerifyError', ["'ai.onnx.ml'", 'no opset']);
});

test('a model past 2 GB is refused before any weight is read, unless its weights go external', () => {
  // 3 GB of f32 in a file that does not exist: the check needs only dtype and shape.
  const huge: ConstTensor = { dtype: 'f32', shape: [750_000_000], data: { kind: 'file', path: '/nonexistent/w.bin', offset: 0, length: 3e9 } };
  const m = model({ constants: [{ name: 'w', tensor: huge }], outputs: ['w'] });
  throwsLathe(() => exportOnnx(m), 'UsageError', ['2.79 GiB', '2 GiB', 'external data']);
  // Also when the huge tensor is a Constant node's value, which never goes external.
  const attr = model({ nodes: [node('Constant', [], [{ name: 'w', type: f32([750_000_000]) }], { value: { kind: 'tensor', value: huge } })], outputs: ['w'] });
  throwsLathe(() => exportOnnx(attr, { externalData: { path: path.join(tmpdir(), 'lathe-unused.data') } }), 'UsageError', ['2 GiB', 'Constant']);
});

test.run();
