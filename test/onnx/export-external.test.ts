// Exporting with external data: initializers at or above the threshold go to a separate file
// (aligned, location relative to the model's folder), the rest stay inline, and lathe's importer
// reads the pair back as the same model. ONNX Runtime loading such files is checked in
// export-ort.test.ts.
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { modelsEqual } from '../../ir/equal.ts';
import type { Model } from '../../ir/graph.ts';
import { exportOnnx, exportOnnxFile } from '../../ir/onnx/export.ts';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { onnx, toNumber } from '../../ir/onnx/proto.ts';
import type { OnnxTypes } from '../../ir/onnx/proto.ts';
import { constTensor } from '../../ir/tensor-data.ts';
import { tensor } from '../../ir/types.ts';
import { throwsLathe } from './errors.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');
const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'lathe-export-ext-')));

const big = constTensor('f32', [300], Array.from({ length: 300 }, (_, i) => i / 7)); // 1200 bytes
const small = constTensor('f32', [3], [1, 2, 3]);
const m: Model = {
  graph: {
    name: 'main',
    inputs: [{ name: 'x', type: tensor('f32', [300]) }],
    constants: [{ name: 'big', tensor: big }, { name: 'small', tensor: small }, { name: 'big2', tensor: big }],
    nodes: [],
    outputs: ['big', 'small', 'big2'],
  },
  opsets: { 'ai.onnx': 17 },
};

const entries = (t: OnnxTypes.ITensorProto) => Object.fromEntries((t.externalData ?? []).map((e: OnnxTypes.IStringStringEntryProto) => [e.key, e.value]));
const graphOf = (file: string) => onnx.ModelProto.decode(readFileSync(file)).graph as OnnxTypes.GraphProto;

test('tensors at or above the threshold go external, aligned; the rest stay inline', () => {
  const dir = path.join(root, 'a');
  mkdirSync(dir);
  const file = path.join(dir, 'm.onnx');
  exportOnnxFile(m, file, { externalData: true, producer: '' });
  const g = graphOf(file);
  const [b, s, b2] = g.initializer;
  assert.equal(entries(b!), { location: 'm.onnx.data', offset: '0', length: '1200' }, 'default: <model>.data beside it');
  assert.equal(entries(b2!), { location: 'm.onnx.data', offset: '1200', length: '1200' }, '1200 is a multiple of 16');
  assert.is(b!.dataLocation, onnx.TensorProto.DataLocation.EXTERNAL);
  assert.is(s!.rawData!.length, 12, 'below the 1024-byte default threshold: inline');
  assert.is(statSync(`${file}.data`).size, 2400);
  assert.is(toNumber(onnx.ModelProto.decode(readFileSync(file)).irVersion), 8);
  // The importer reads it back as the same model (constants now file ranges, same bytes).
  const back = importOnnxFile(file);
  assert.is(modelsEqual(m, back), null);
  assert.is(back.graph.constants[0]!.tensor.data.kind, 'file');
});

test('a location in a subfolder, a custom threshold, and a file-backed model copied across', () => {
  const dir = path.join(root, 'b');
  mkdirSync(path.join(dir, 'w'), { recursive: true });
  const file = path.join(dir, 'm.onnx');
  exportOnnxFile(m, file, { externalData: { path: path.join(dir, 'w', 'all.bin'), threshold: 8 }, producer: '' });
  const g = graphOf(file);
  assert.equal(g.initializer.map((t) => entries(t).location), ['w/all.bin', 'w/all.bin', 'w/all.bin']);
  assert.equal(g.initializer.map((t) => entries(t).offset), ['0', '1200', '1216'], 'small (12 bytes) padded to 16');
  // Export the re-imported model (its weights are file ranges now) elsewhere: bytes are copied.
  const back = importOnnxFile(file);
  const file2 = path.join(root, 'b2.onnx');
  exportOnnxFile(back, file2, { externalData: { threshold: 8 }, producer: '' });
  assert.is(modelsEqual(m, importOnnxFile(file2)), null);
});

test('fixtures round-trip through external data', () => {
  for (const n of ['gpt2-tiny', 'vit-tiny', 'dit-block']) {
    const first = importOnnxFile(path.join(FIXTURES, n, 'model.onnx'));
    const file = path.join(root, `${n}.onnx`);
    exportOnnxFile(first, file, { externalData: true, producer: first.producer ?? '' });
    assert.is(modelsEqual(first, importOnnxFile(file)), null, n);
    assert.ok(statSync(`${file}.data`).size > 100_000, `${n}: weights went external`);
  }
});

test('locations outside the model folder are refused', () => {
  const dir = path.join(root, 'c');
  mkdirSync(dir);
  throwsLathe(() => exportOnnxFile(m, path.join(dir, 'm.onnx'), { externalData: { path: path.join(root, 'out.bin') } }), 'UsageError', ["'../out.bin'", "'..'"]);
  throwsLathe(() => exportOnnx(m, { externalData: { path: path.join(dir, 'x.bin'), location: '/abs/x.bin' } }), 'UsageError', ['absolute']);
});

test('the data file a model reads its weights from is not overwritten', () => {
  const dir = path.join(root, 'd');
  mkdirSync(dir);
  const file = path.join(dir, 'm.onnx');
  exportOnnxFile(m, file, { externalData: true });
  const back = importOnnxFile(file);
  throwsLathe(() => exportOnnxFile(back, file, { externalData: true }), 'UsageError', ['m.onnx.data', "constant 'big'"]);
  assert.is(statSync(`${file}.data`).size, 2400, 'untouched');
});

test.run();
