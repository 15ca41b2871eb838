// Bad models must fail with a LatheError of the right kind whose message says where and why.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { importOnnxBytes } from '../../ir/onnx/import.ts';
import { onnx } from '../../ir/onnx/proto.ts';
import { AT, DT, f32, modelBytes, node, oneNode, vi } from './build.ts';
import { throwsLathe } from './errors.ts';

function valid(): Uint8Array {
  return modelBytes({
    graph: {
      input: [vi('x', DT.FLOAT, ['batch', 64])],
      initializer: [f32('w', [64], new Array(64).fill(1))],
      node: [node('Add', ['x', 'w'], ['y'])],
      output: [vi('y', DT.FLOAT, ['batch', 64])],
    },
  });
}

test('the valid base model imports', () => {
  importOnnxBytes(valid());
});

test('a truncated model is a ProtobufError', () => {
  const bytes = valid();
  for (const cut of [1, 10, bytes.length >> 1, bytes.length - 20, bytes.length - 1]) {
    throwsLathe(() => importOnnxBytes(bytes.subarray(0, cut), { file: 'cut.onnx' }), 'ProtobufError', ['cut.onnx', 'not a valid ONNX model']);
  }
});

test('random bytes are a ProtobufError', () => {
  // A fixed pseudo-random sequence, so a failure reproduces.
  let s = 12345;
  for (let trial = 0; trial < 50; trial++) {
    const bytes = new Uint8Array(200 + trial * 7).map(() => ((s = (s * 1103515245 + 12345) >>> 0) >>> 24));
    throwsLathe(() => importOnnxBytes(bytes), 'ProtobufError', ['not a valid ONNX model']);
  }
  throwsLathe(() => importOnnxBytes(new Uint8Array(0)), 'ProtobufError');
  throwsLathe(() => importOnnxBytes(new TextEncoder().encode('this is not a model\n')), 'ProtobufError');
});

test('a model without a graph is a ProtobufError', () => {
  const bytes = onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }] }).finish();
  throwsLathe(() => importOnnxBytes(bytes), 'ProtobufError', ['no graph']);
  throwsLathe(() => importOnnxBytes(new Uint8Array(0)), 'ProtobufError', ['no ir_version']);
});

test('an unknown op names the node, the op and what is supported', () => {
  throwsLathe(() => importOnnxBytes(oneNode(node('FrobnicateX', ['x'], ['y'], { name: 'frob' }))), 'UnsupportedOp', [
    "node 'frob'",
    'FrobnicateX',
    'supported ai.onnx ops:',
    'Add',
  ]);
});

test('an unknown domain names the node, the domain and the supported domains', () => {
  throwsLathe(() => importOnnxBytes(oneNode(node('Foo', ['x'], ['y'], { domain: 'com.example' }), { '': 17, 'com.example': 1 })), 'UnsupportedOp', [
    "node 'Foo_0'",
    "'com.example'",
    'supported domains: ai.onnx',
  ]);
  // Unknown, and not even imported: still UnsupportedOp, the more useful answer.
  throwsLathe(() => importOnnxBytes(oneNode(node('Foo', ['x'], ['y'], { domain: 'com.example' }))), 'UnsupportedOp', ["'com.example'"]);
  // A known domain the model forgot to import is a broken model.
  throwsLathe(() => importOnnxBytes(oneNode(node('Relu', ['x'], ['y']), { 'ai.onnx.ml': 1 })), 'VerifyError', ["'ai.onnx'", 'opset_import']);
});

test('an opset newer than 21 is UnsupportedOp naming it', () => {
  throwsLathe(() => importOnnxBytes(oneNode(node('Relu', ['x'], ['y']), { '': 99 })), 'UnsupportedOp', ['opset 99', '1 to 21']);
  throwsLathe(() => importOnnxBytes(oneNode(node('Relu', ['x'], ['y']), { 'ai.onnx': 22 })), 'UnsupportedOp', ['opset 22']);
});

test('a complex64 initializer is UnsupportedType naming it', () => {
  const bytes = modelBytes({
    graph: {
      input: [vi('x', DT.FLOAT, [2])],
      initializer: [{ name: 'cplx', dims: [2], dataType: DT.COMPLEX64, rawData: new Uint8Array(16) }],
      node: [node('Relu', ['x'], ['y'])],
      output: [vi('y', DT.FLOAT, [2])],
    },
  });
  throwsLathe(() => importOnnxBytes(bytes), 'UnsupportedType', ["'cplx'", 'COMPLEX64']);
});

test('a graph input of complex type is UnsupportedType naming the value', () => {
  const bytes = modelBytes({ graph: { input: [vi('z', DT.COMPLEX128, [2])], node: [], output: [vi('z', DT.COMPLEX128, [2])] } });
  throwsLathe(() => importOnnxBytes(bytes), 'UnsupportedType', ["value 'z'", 'COMPLEX128']);
});

test('raw_data shorter than the dims is TensorDataError', () => {
  const bytes = modelBytes({
    graph: {
      input: [vi('x', DT.FLOAT, [4])],
      initializer: [{ name: 'short', dims: [4], dataType: DT.FLOAT, rawData: new Uint8Array(12) }],
      node: [node('Add', ['x', 'short'], ['y'])],
      output: [vi('y', DT.FLOAT, [4])],
    },
  });
  throwsLathe(() => importOnnxBytes(bytes), 'TensorDataError', ["'short'", '16 bytes', 'has 12']);
});

test('a sparse tensor attribute is UnsupportedType naming node and attribute', () => {
  const sparse = { values: f32('v', [1], [1]), indices: { name: 'i', dims: [1], dataType: DT.INT64, int64Data: [0] }, dims: [4] };
  const n = node('Constant', [], ['y'], { name: 'c', attribute: [{ name: 'sparse_value', type: AT.SPARSE_TENSOR, sparseTensor: sparse }] });
  throwsLathe(() => importOnnxBytes(oneNode(n)), 'UnsupportedType', ["node 'c'", "'sparse_value'", 'sparse']);
  const many = node('Foo', ['x'], ['y'], { name: 'f', attribute: [{ name: 'ts', type: AT.SPARSE_TENSORS, sparseTensors: [sparse] }] });
  throwsLathe(() => importOnnxBytes(oneNode(many)), 'UnsupportedType', ["node 'f'", "'ts'", 'sparse']);
  const init = modelBytes({
    graph: { input: [vi('x', DT.FLOAT, [4])], sparseInitializer: [sparse], node: [node('Relu', ['x'], ['y'])], output: [vi('y', DT.FLOAT, [4])] },
  });
  throwsLathe(() => importOnnxBytes(init), 'UnsupportedType', ["sparse initializer 'v'"]);
});

test('attribute references and model-local functions are refused clearly', () => {
  const ref = node('Relu', ['x'], ['y'], { name: 'r', attribute: [{ name: 'alpha', type: AT.FLOAT, refAttrName: 'a' }] });
  throwsLathe(() => importOnnxBytes(oneNode(ref)), 'UnsupportedOp', ["node 'r'", "'alpha'", 'functions']);
  const fn = { name: 'MyFn', domain: 'local', input: ['a'], output: ['b'], node: [node('Relu', ['a'], ['b'])], opsetImport: [{ domain: '', version: 17 }] };
  const bytes = modelBytes({
    graph: { input: [vi('x', DT.FLOAT, [2])], node: [node('MyFn', ['x'], ['y'], { domain: 'local' })], output: [vi('y', DT.FLOAT, [2])] },
    opsets: { '': 17, local: 1 },
    functions: [fn],
  });
  throwsLathe(() => importOnnxBytes(bytes), 'UnsupportedOp', ['MyFn', 'model-local functions are not supported']);
});

test('ops in a training domain are UnsupportedOp', () => {
  const n = node('Adagrad', ['x'], ['y'], { domain: 'ai.onnx.preview.training' });
  const e = throwsLathe(() => importOnnxBytes(oneNode(n, { '': 17, 'ai.onnx.preview.training': 1 })), 'UnsupportedOp', ['Adagrad']);
  assert.ok(e.where.node);
});

test.run();
