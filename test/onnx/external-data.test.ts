// External data: resolved inside the model's folder only, checked at import, read lazily.
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { importOnnxBytes, importOnnxFile } from '../../ir/onnx/import.ts';
import { tensorBytes } from '../../ir/tensor-data.ts';
import { DT, modelBytes, node, vi } from './build.ts';
import { throwsLathe } from './errors.ts';

// root/ holds outside.bin; root/model/ is the model folder.
const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'lathe-extdata-')));
const dir = path.join(root, 'model');
mkdirSync(path.join(dir, 'sub'), { recursive: true });
const weights = new Float32Array([0, 1.5, 2.5, 3.5]); // the tensor is elements 1..3
writeFileSync(path.join(dir, 'w.bin'), new Uint8Array(weights.buffer));
writeFileSync(path.join(dir, 'sub', 'w.bin'), new Uint8Array(weights.buffer));
writeFileSync(path.join(root, 'outside.bin'), new Uint8Array(weights.buffer));
symlinkSync(path.join(root, 'outside.bin'), path.join(dir, 'escape.bin'));
symlinkSync(path.join(dir, 'w.bin'), path.join(dir, 'alias.bin'));

/** Write a model whose initializer `w` (f32[3]) lives at `location` with the given entries. */
function modelWith(entries: Record<string, string>, name = 'm.onnx'): string {
  const bytes = modelBytes({
    graph: {
      input: [vi('x', DT.FLOAT, [3])],
      initializer: [
        {
          name: 'w',
          dims: [3],
          dataType: DT.FLOAT,
          dataLocation: 1,
          externalData: Object.entries(entries).map(([key, value]) => ({ key, value })),
        },
      ],
      node: [node('Add', ['x', 'w'], ['y'])],
      output: [vi('y', DT.FLOAT, [3])],
    },
  });
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

test('external data becomes a lazy file range that reads the right bytes', () => {
  for (const location of ['w.bin', 'sub/w.bin', './sub/../w.bin', 'alias.bin']) {
    const m = importOnnxFile(modelWith({ location, offset: '4', length: '12' }));
    const w = m.graph.constants[0]!.tensor;
    assert.equal(w.data, { kind: 'file', path: realpathSync(path.join(dir, location)), offset: 4, length: 12 });
    const b = tensorBytes(w);
    assert.equal([...new Float32Array(b.buffer, b.byteOffset, 3)], [1.5, 2.5, 3.5]);
  }
});

test('length may be left out', () => {
  const m = importOnnxFile(modelWith({ location: 'w.bin', offset: '4' }));
  assert.is((m.graph.constants[0]!.tensor.data as { length: number }).length, 12);
});

test('a missing external file is ExternalDataError', () => {
  throwsLathe(() => importOnnxFile(modelWith({ location: 'nope.bin' })), 'ExternalDataError', ["'w'", 'nope.bin', 'not found']);
});

test('a file shorter than offset + length is ExternalDataError', () => {
  throwsLathe(() => importOnnxFile(modelWith({ location: 'w.bin', offset: '8', length: '12' })), 'ExternalDataError', ["'w'", '16 bytes']);
});

test('a length shorter than the tensor needs is TensorDataError', () => {
  throwsLathe(() => importOnnxFile(modelWith({ location: 'w.bin', length: '8' })), 'TensorDataError', ["'w'", '12 bytes', 'length is 8']);
});

test('paths out of the model folder are refused', () => {
  throwsLathe(() => importOnnxFile(modelWith({ location: '../outside.bin' })), 'ExternalDataError', ['../outside.bin', 'leaves the model folder']);
  throwsLathe(() => importOnnxFile(modelWith({ location: 'sub/../../outside.bin' })), 'ExternalDataError', ['leaves the model folder']);
  throwsLathe(() => importOnnxFile(modelWith({ location: path.join(root, 'outside.bin') })), 'ExternalDataError', ['absolute']);
  throwsLathe(() => importOnnxFile(modelWith({ location: 'C:\\weights.bin' })), 'ExternalDataError', ['absolute']);
  throwsLathe(() => importOnnxFile(modelWith({ location: 'escape.bin' })), 'ExternalDataError', ['escape.bin', 'outside the model folder']);
  throwsLathe(() => importOnnxFile(modelWith({ location: 'sub' })), 'ExternalDataError', ['not a regular file']);
});

test('bad offsets and a missing location are ExternalDataError', () => {
  throwsLathe(() => importOnnxFile(modelWith({ location: 'w.bin', offset: '-4' })), 'ExternalDataError', ['offset']);
  throwsLathe(() => importOnnxFile(modelWith({ offset: '0' })), 'ExternalDataError', ['no location']);
});

test('bytes with external data but no model folder are ExternalDataError', () => {
  const file = modelWith({ location: 'w.bin', offset: '4' });
  throwsLathe(() => importOnnxBytes(readFileSync(file)), 'ExternalDataError', ['no model folder']);
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
