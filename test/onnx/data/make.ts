// Small ONNX files: one valid model, one with valid external data, and one file per kind of bad
// input, each with the error kind lathe must answer with. For CLI and error-message tests.
// Write them with: node --import tsx test/onnx/data/make.ts OUT_DIR
// They are generated, not committed: test/run.ts hands uvu every file under test/ that matches
// its pattern, and a .onnx file there would be imported as a test module.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorKind } from '../../../ir/errors.ts';
import { onnx } from '../../../ir/onnx/proto.ts';
import type { OnnxTypes } from '../../../ir/onnx/proto.ts';
import { AT, DT, f32, modelBytes, node, oneNode, vi } from '../build.ts';

function addRelu(extra: Partial<OnnxTypes.IGraphProto> = {}): Uint8Array {
  return modelBytes({
    graph: {
      input: [vi('x', DT.FLOAT, ['batch', 3])],
      initializer: [f32('w', [3], [1, 2, 3])],
      node: [node('Add', ['x', 'w'], ['a']), node('Relu', ['a'], ['y'])],
      output: [vi('y', DT.FLOAT, ['batch', 3])],
      ...extra,
    },
  });
}

/** `add_relu` whose weight `w` (f32[3]) is stored externally with these entries. */
function external(entries: Record<string, string>): Uint8Array {
  const externalData = Object.entries(entries).map(([key, value]) => ({ key, value }));
  return addRelu({ initializer: [{ name: 'w', dims: [3], dataType: DT.FLOAT, dataLocation: 1, externalData }] });
}

function garbage(n: number): Uint8Array {
  let s = 7;
  return new Uint8Array(n).map(() => (s = (s * 1103515245 + 12345) >>> 0) >>> 24);
}

/** File name → [contents, the outcome importing it must have]. */
export const FILES: Record<string, [Uint8Array, ErrorKind | 'ok']> = {
  'add_relu.onnx': [addRelu(), 'ok'],
  'ext_ok.onnx': [external({ location: 'ext_weights.bin', offset: '4', length: '12' }), 'ok'],
  'ext_weights.bin': [new Uint8Array(new Float32Array([0, 1, 2, 3]).buffer), 'ok'],
  'truncated.onnx': [addRelu().subarray(0, 60), 'ProtobufError'],
  'garbage.onnx': [garbage(256), 'ProtobufError'],
  'no_graph.onnx': [onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }] }).finish(), 'ProtobufError'],
  'unknown_op.onnx': [oneNode(node('FrobnicateX', ['x'], ['y'], { name: 'frob' })), 'UnsupportedOp'],
  'unknown_domain.onnx': [oneNode(node('Foo', ['x'], ['y'], { domain: 'com.example' }), { '': 17, 'com.example': 1 }), 'UnsupportedOp'],
  'opset99.onnx': [oneNode(node('Relu', ['x'], ['y']), { '': 99 }), 'UnsupportedOp'],
  'complex64.onnx': [addRelu({ initializer: [{ name: 'w', dims: [3], dataType: DT.COMPLEX64, rawData: new Uint8Array(24) }] }), 'UnsupportedType'],
  'short_raw_data.onnx': [addRelu({ initializer: [{ name: 'w', dims: [3], dataType: DT.FLOAT, rawData: new Uint8Array(8) }] }), 'TensorDataError'],
  'sparse_attr.onnx': [
    oneNode(node('Constant', [], ['y'], { attribute: [{ name: 'sparse_value', type: AT.SPARSE_TENSOR, sparseTensor: { values: f32('v', [1], [1]), dims: [4] } }] })),
    'UnsupportedType',
  ],
  'ext_missing.onnx': [external({ location: 'no_such_file.bin' }), 'ExternalDataError'],
  'ext_short.onnx': [external({ location: 'ext_weights.bin', offset: '8', length: '12' }), 'ExternalDataError'],
  'ext_parent.onnx': [external({ location: '../ext_weights.bin' }), 'ExternalDataError'],
  'ext_absolute.onnx': [external({ location: '/etc/hostname' }), 'ExternalDataError'],
};

export function writeDataFiles(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, [bytes]] of Object.entries(FILES)) writeFileSync(path.join(dir, name), bytes);
}

// Write only when run as a script (uvu may import this file when given a broad pattern).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node --import tsx test/onnx/data/make.ts OUT_DIR');
    process.exit(2);
  }
  writeDataFiles(dir);
  console.log(`wrote ${Object.keys(FILES).length} files to ${dir}`);
}
