// Hand-written models that cover the whole data model: every dtype (every code of the narrow
// float types), every attribute kind, every value type, odd names and domains, omitted operands
// and results, nested graphs, input defaults, and weights in a sidecar file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_DTYPES, byteSize, DTYPES, type DType } from '../../ir/dtype.ts';
import type { Attr, Graph, Model, Node } from '../../ir/graph.ts';
import type { ConstTensor } from '../../ir/tensor-data.ts';
import { tensorBytes } from '../../ir/tensor-data.ts';
import { optionalOf, sequenceOf, tensor } from '../../ir/types.ts';
import { modelsEqual } from '../../ir/equal.ts';
import { loadModel, saveModel } from '../../ir/text/index.ts';
import { parseModel } from '../../ir/text/parse.ts';
import { printGraph, printModel } from '../../ir/text/print.ts';
import { sidecarSink } from '../../ir/text/weights.ts';
import { bytesTensor, f32Tensor, roundTrip } from './helpers.ts';

const tempDirs: string[] = [];
const tempDir = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
};
test.after(() => tempDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const node = (name: string, op: string, inputs: (string | null)[], outputs: Node['outputs'], attrs: Record<string, Attr> = {}, domain = 'ai.onnx'): Node =>
  ({ name, op, domain, inputs, outputs, attrs });
const model = (graph: Graph, extra: Partial<Model> = {}): Model => ({ graph, opsets: { 'ai.onnx': 17 }, ...extra });

/** Every code of a narrow type (all 2^bits patterns), or a spread of bytes for wide types. */
function everyCode(dtype: DType): ConstTensor {
  const bits = DTYPES[dtype].bits;
  if (bits <= 16) {
    const n = 2 ** bits;
    const bytes = new Uint8Array(byteSize(dtype, n));
    if (bits === 4) for (let i = 0; i < n; i += 2) bytes[i >> 1] = i | ((i + 1) << 4);
    else if (bits === 8) for (let i = 0; i < n; i++) bytes[i] = i;
    else new Uint16Array(bytes.buffer).forEach((_, i, a) => (a[i] = i));
    return bytesTensor(dtype, [n], bytes);
  }
  const n = 40;
  const bytes = new Uint8Array(byteSize(dtype, n));
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 151 + 7) & 0xff;
  return bytesTensor(dtype, [n], bytes);
}

test('every code of every dtype prints and parses back bit-exactly', () => {
  const constants = ALL_DTYPES.filter((d) => d !== 'string').map((d) => ({ name: `c_${d}`, tensor: everyCode(d) }));
  constants.push({ name: 'strs', tensor: { dtype: 'string', shape: [2, 2], data: { kind: 'strings', values: ['', 'a "q"', 'nl\n\t\u0000', '\u{1F600}\uD800'] } } });
  const m = model({ name: 'main', inputs: [], constants, nodes: [], outputs: constants.map((c) => c.name) });
  roundTrip(m, { inlineLimit: 1 << 20 });
});

test('float specials: -0, inf, canonical and payload NaNs, subnormals, extremes', () => {
  const f32 = f32Tensor([1.5, -0, Infinity, -Infinity, NaN, 1e-45, 3.4028234663852886e38, 0.1, -1.17549435e-38]);
  const payload = new Uint8Array(tensorBytes(f32));
  new DataView(payload.buffer).setUint32(0, 0xffc00001, true);
  const f64 = new Float64Array([0.1, -0, Infinity, NaN, 5e-324, Number.MAX_VALUE, 1e21, 123456789012345680000]);
  const f64b = new Uint8Array(f64.buffer);
  new DataView(f64b.buffer).setBigUint64(8 * 3, 0x7ff0000000000001n, true);
  const constants = [
    { name: 'f32', tensor: f32 },
    { name: 'f32payload', tensor: bytesTensor('f32', [9], payload) },
    { name: 'f64', tensor: bytesTensor('f64', [8], f64b) },
    { name: 'scalar', tensor: bytesTensor('i64', [], new Uint8Array(8).fill(0xff)) },
    { name: 'empty', tensor: bytesTensor('f32', [0, 3], []) },
  ];
  const { text } = roundTrip(model({ name: 'main', inputs: [], constants, nodes: [], outputs: [] }));
  assert.match(text, 'dense<[1.5, -0.0, inf, -inf, nan, 1e-45, 3.4028235e+38, 0.1, -1.1754944e-38]>');
  assert.match(text, '0xFFC00001');
  assert.match(text, '0x7FF0000000000001');
  assert.match(text, '%scalar = const i64[] dense<[-1]>');
});

test('every attribute kind, including empty lists of every kind', () => {
  const sub: Graph = { name: 'body', inputs: [{ name: 'i', type: tensor('i64', []) }], constants: [], nodes: [node('neg', 'Neg', ['x'], [{ name: 'n', type: tensor('f32', ['b', 3]) }])], outputs: ['n', 'i'] };
  const attrs: Record<string, Attr> = {
    i: { kind: 'int', value: -7 },
    big: { kind: 'int', value: 2 ** 62 },
    negzero: { kind: 'int', value: -0 },
    f: { kind: 'float', value: 0.1 },
    fnan: { kind: 'float', value: NaN },
    finf: { kind: 'float', value: -Infinity },
    fz: { kind: 'float', value: -0 },
    fint: { kind: 'float', value: 3 },
    s: { kind: 'string', value: 'he said "hi"\n\\' },
    t: { kind: 'tensor', value: f32Tensor([1, 2]) },
    g: { kind: 'graph', value: sub },
    ty: { kind: 'type', value: sequenceOf(optionalOf(tensor('bf16', null))) },
    is: { kind: 'ints', value: [1, -2, 2 ** 53 + 2] },
    fs: { kind: 'floats', value: [1, 0.5, NaN, -0] },
    ss: { kind: 'strings', value: ['a', ''] },
    ts: { kind: 'tensors', value: [f32Tensor([3]), bytesTensor('u4', [3], [0x21, 0x03])] },
    gs: { kind: 'graphs', value: [sub, { ...sub, name: 'body 2' }] },
    tys: { kind: 'types', value: [tensor('f32', []), optionalOf(tensor('i8', [1]))] },
    '': { kind: 'ints', value: [] },
    'odd name': { kind: 'floats', value: [] },
    __proto__: { kind: 'strings', value: [] },
    graph: { kind: 'tensors', value: [] },
    type: { kind: 'graphs', value: [] },
    '0': { kind: 'types', value: [] },
  };
  // `__proto__` in an object literal sets the prototype; make it a real key.
  Object.defineProperty(attrs, '__proto__', { value: { kind: 'strings', value: [] }, enumerable: true });
  const g: Graph = {
    name: 'main',
    inputs: [{ name: 'x', type: tensor('f32', ['b', 3]) }],
    constants: [],
    nodes: [node('n0', 'Everything', ['x'], [{ name: 'y', type: tensor('f32', ['b', 3]) }], attrs, 'lathe')],
    outputs: ['y'],
  };
  const { text } = roundTrip(model(g));
  assert.match(text, '"" = [] : ints');
  assert.match(text, 'big = 4611686018427387904');
  assert.match(text, 'fint = 3.0');
});

test('value types, symbols and names that need quoting', () => {
  const inputs = [
    { name: 'x', type: tensor('f32', ['batch', 256, null]) },
    { name: 'onnx::MatMul_12', type: tensor('bool', [null, '3', '?', 'seq len', '_', 'f32', 'graph', '']) },
    { name: '0', type: tensor('f16', null) },
    { name: '', type: sequenceOf(tensor('string', [])) },
    { name: 'a.b', type: optionalOf(sequenceOf(tensor('u64', [0]))) },
    { name: '_', type: tensor('i4', [1]) },
  ];
  const g: Graph = {
    name: 'main graph',
    inputs,
    constants: [],
    nodes: [
      node('/layer/MatMul', 'MatMul', ['x', ''], [{ name: 'm', type: tensor('f32', ['batch', 256, null]) }]),
      node('', 'Split', ['m', null, '_'], [null, { name: 'k', type: tensor('f32', [1]) }, null]),
      node('print', 'Print', [], [], {}, 'my/domain'),
      node('k', 'weird op', [null], [], {}, ''),
    ],
    outputs: ['k', '0', '0'],
  };
  const { text } = roundTrip(model(g));
  assert.match(text, `%"onnx::MatMul_12": bool[?, "3", "?", "seq len", "_", f32, graph, ""]`);
  assert.match(text, `%m = onnx.MatMul(%x, %"") : f32[batch, 256, ?] #"/layer/MatMul"`);
  assert.match(text, `_, %k, _ = onnx.Split(%m, _, %_) : _, f32[1], _ #""`);
  assert.match(text, `"my/domain".Print() #print`);
  assert.match(text, `"".\"weird op\"(_) #k`);
});

test('domains: short prefixes where they read back, quoted otherwise', () => {
  const domains = ['ai.onnx', '', 'ai.onnx.ml', 'onnx_ml', 'onnx', 'lathe', 'ai.onnx.preview.training', 'com.microsoft', 'a-b/c', 'return', 'default', 'const', 'graph'];
  const nodes = domains.map((d, i) => node(`n${i}`, i % 2 ? 'Op' : 'return', [], [], {}, d));
  const opsets = Object.fromEntries(domains.map((d, i) => [d, i + 1]));
  const { text } = roundTrip(model({ name: 'g', inputs: [], constants: [], nodes, outputs: [] }, { opsets, producer: '' }));
  assert.match(text, 'ai.onnx.preview.training.return() #n6');
  assert.match(text, 'onnx_ml.return() #n2');
  assert.match(text, '"onnx_ml".Op() #n3');
  assert.match(text, 'producer = ""');
});

test('subgraphs read outer values; input defaults keep their order', () => {
  const then: Graph = { name: 'then', inputs: [], constants: [{ name: 'c', tensor: f32Tensor([1, 2]) }], nodes: [node('a', 'Add', ['c', 'w'], [{ name: 't', type: tensor('f32', [2]) }])], outputs: ['t'] };
  const otherwise: Graph = { name: 'else', inputs: [], constants: [], nodes: [], outputs: ['w'] };
  const g: Graph = {
    name: 'main',
    inputs: [{ name: 'cond', type: tensor('bool', []) }, { name: 'w', type: tensor('f32', [2]) }],
    inputDefaults: [{ name: 'w', tensor: f32Tensor([5, 6]) }, { name: 'cond', tensor: bytesTensor('bool', [], [1]) }],
    constants: [],
    nodes: [node('if', 'If', ['cond'], [{ name: 'o', type: tensor('f32', [2]) }], { then_branch: { kind: 'graph', value: then }, else_branch: { kind: 'graph', value: otherwise } })],
    outputs: ['o'],
  };
  const { text } = roundTrip(model(g, { producer: 'pytorch 1.13' }));
  assert.match(text, '  default %w = f32[2] dense<[5.0, 6.0]>\n  default %cond = bool[] dense<[true]>');
  assert.match(text, 'graph @else() -> (f32[2]) {\n    return %w\n  }');
});

test('large constants go to a sidecar weight file, 64-byte aligned, and load lazily', () => {
  const dir = tempDir('lathe-text-');
  const big = f32Tensor(Array.from({ length: 100 }, (_, i) => i / 3));
  const big2 = bytesTensor('i4', [129], new Uint8Array(65).fill(0x5a).map((b, i) => (i === 64 ? 0x0a : b)));
  const g: Graph = {
    name: 'main',
    inputs: [],
    constants: [{ name: 'w1', tensor: bytesTensor('u8', [3], [1, 2, 3]) }, { name: 'w2', tensor: big }, { name: 'w3', tensor: big2 }, { name: 'shared', tensor: big }],
    nodes: [],
    outputs: [],
  };
  const weights = sidecarSink(join(dir, 'net.weights.bin'));
  const text = printModel(model(g), { baseDir: dir, weights });
  weights.close();
  assert.is(roundTrip(parseModel(text, { baseDir: dir }), { baseDir: dir }).text, text);
  assert.is(modelsEqual(parseModel(text, { baseDir: dir }), model(g)), null);
  assert.match(text, '%w1 = const u8[3] dense<[1, 2, 3]>');
  assert.match(text, '%w2 = const f32[100] @file("net.weights.bin", offset = 0, length = 400)');
  assert.match(text, '%w3 = const i4[129] @file("net.weights.bin", offset = 448, length = 65)');
  assert.match(text, '%shared = const f32[100] @file("net.weights.bin", offset = 0, length = 400)');
  assert.is(statSync(join(dir, 'net.weights.bin')).size, 513);

  // saveModel/loadModel, then re-save over the same files: ranges into the old sidecar are copied.
  const lir = join(dir, 'model.lir');
  saveModel(lir, model(g));
  const loaded = loadModel(lir);
  assert.is(loaded.graph.constants[1]!.tensor.data.kind, 'file');
  assert.is(modelsEqual(loaded, model(g)), null);
  saveModel(lir, loaded);
  assert.is(modelsEqual(loadModel(lir), model(g)), null);
  assert.is(readFileSync(lir, 'utf8'), printModel(loadModel(lir), { baseDir: dir }));
});

test('weights outside the folder are copied into the sink, and refer in place without one', () => {
  const dir = tempDir('lathe-text-');
  const out = tempDir('lathe-text-out-');
  writeFileSync(join(dir, 'raw.bin'), new Uint8Array(Float32Array.from([9, 8, 7, 6]).buffer));
  const g: Graph = { name: 'main', inputs: [], constants: [{ name: 'w', tensor: { dtype: 'f32', shape: [2], data: { kind: 'file', path: join(dir, 'raw.bin'), offset: 8, length: 8 } } }], nodes: [], outputs: ['w'] };
  const text = roundTrip(model(g), { baseDir: dir }).text;
  assert.match(text, '@file("raw.bin", offset = 8, length = 8)');
  const weights = sidecarSink(join(out, 'copy.weights.bin'));
  const copied = printModel(model(g), { baseDir: out, weights });
  weights.close();
  assert.match(copied, '@file("copy.weights.bin", offset = 0, length = 8)');
  assert.equal([...tensorBytes(parseModel(copied, { baseDir: out }).graph.constants[0]!.tensor)], [...tensorBytes(g.constants[0]!.tensor)]);
});

test('printGraph prints one graph; text with comments and no header parses', () => {
  const text = printGraph({ name: 'g', inputs: [{ name: 'x', type: tensor('f32', [2]) }], constants: [], nodes: [], outputs: ['x', 'nowhere'] });
  assert.is(text, 'graph @g(%x: f32[2]) -> (f32[2], ?) {\n  return %x, %nowhere\n}\n');
  const m = parseModel('// a comment\ngraph @g(%x: f32[2]) -> (?) { // results may be left unknown\n  return %x\n}');
  assert.equal(m.opsets, {});
  assert.equal(m.graph.outputs, ['x']);
});

test('modelsEqual names the first difference', () => {
  const a = model({ name: 'main', inputs: [{ name: 'x', type: tensor('f32', [3]) }], constants: [{ name: 'c', tensor: f32Tensor([1, NaN]) }], nodes: [], outputs: [] });
  assert.is(modelsEqual(a, a), null);
  assert.match(modelsEqual(a, { ...a, graph: { ...a.graph, inputs: [{ name: 'x', type: tensor('f32', ['3']) }] } })!, 'graph @main: input 0: type');
  assert.match(modelsEqual(a, { ...a, graph: { ...a.graph, constants: [{ name: 'c', tensor: f32Tensor([1, 2]) }] } })!, 'constant 0: contents differ at byte 6');
  assert.match(modelsEqual(a, { ...a, opsets: { 'ai.onnx': 18 } })!, 'opsets "ai.onnx": 17 vs 18');
  assert.is(modelsEqual(a, { ...a, graph: { ...a.graph, inputDefaults: [] } }), null);
});


test('the example in docs/ir-text.md parses and prints back as written', () => {
  const doc = readFileSync(new URL('../../docs/ir-text.md', import.meta.url), 'utf8');
  const example = /## An example\n\n```\n([\s\S]*?)```/.exec(doc)![1]!;
  const m = parseModel(example, { baseDir: '/models' });
  assert.is(printModel(m, { baseDir: '/models' }), example.replace(/^\/\/.*\n/, ''));
  assert.equal(m.graph.nodes.map((n) => `${n.domain}::${n.op}#${n.name}`), ['ai.onnx::MatMul#/layer/MatMul', 'ai.onnx::Dropout#y', 'ai.onnx::If#o', 'my.custom/domain::Print#']);
});

test.run();
