// svdquant's calibration (passes/svdquant/calibrate.ts): per-channel absmax, min, token counts
// and sampled rows checked against the activations the interpreter computes; the input sources
// (a folder of .pb files, generated sets) and their errors; the on-disk cache.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Model } from '../../ir/graph.ts';
import { writeTensorPb } from '../../ir/interp/pb.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { isTensor, tensorFrom } from '../../ir/interp/tensor.ts';
import { constTensor } from '../../ir/tensor-data.ts';
import { tensor } from '../../ir/types.ts';
import type { CalibrationStats } from '../../passes/svdquant/calibrate.ts';
import { calibrate, describeSource, generatedCalibrationInputs, loadCalibrationInputs } from '../../passes/svdquant/calibrate.ts';
import type { LinearLayer } from '../../passes/svdquant/linear-layers.ts';
import { findLinearLayers } from '../../passes/svdquant/linear-layers.ts';

const seq = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));

/** mm1: x·W1 (x a graph input); gemm: Relu(mm1)·WGᵀ + b; mm_q and mm_k share an activation; conv1: 1×1 on img. */
function calibModel(): Model {
  const b = new GraphBuilder('calib');
  const x = b.input('x', tensor('f32', [2, 8, 4]));
  const img = b.input('img', tensor('f32', [2, 3, 4, 4]));
  const w1 = b.constant('w1', constTensor('f32', [4, 6], seq(24, (i) => (i - 11) / 8)));
  const wg = b.constant('wg', constTensor('f32', [5, 6], seq(30, (i) => (i % 4) - 1.5)));
  const bg = b.constant('bg', constTensor('f32', [5], [0.5, -1, 2, 0, 1]));
  const wq = b.constant('wq', constTensor('f32', [6, 3], seq(18, (i) => i / 10)));
  const wk = b.constant('wk', constTensor('f32', [6, 3], seq(18, (i) => -i / 10)));
  const wc = b.constant('wc', constTensor('f32', [4, 3, 1, 1], seq(12, (i) => (i - 5) / 4)));
  const m1 = b.op('MatMul', [x, w1], {}, { name: 'mm1' }); // [2, 8, 6]
  const t = b.op('Tanh', [m1]);
  const q = b.op('MatMul', [t, wq], {}, { name: 'mm_q' });
  const k = b.op('MatMul', [t, wk], {}, { name: 'mm_k' });
  const flat = b.op('Reshape', [m1, b.constant('shp', constTensor('i64', [2], [16, 6]))]);
  const r = b.op('Relu', [flat]);
  const g = b.op('Gemm', [r, wg, bg], { transB: 1 }, { name: 'gemm' });
  const c = b.op('Conv', [img, wc], {}, { name: 'conv1' });
  return b.returns(q, k, g, c).model();
}

/** Every activation of every layer, per input set, as the interpreter computes them. */
function activations(model: Model, sets: readonly Map<string, Tensor>[]): Map<string, Tensor>[] {
  return sets.map((set) => {
    const values = new Map<string, Tensor>(set);
    runModel(model, set, {
      onNode: (n, results, depth) => {
        if (depth === 0) n.outputs.forEach((o, j) => o && isTensor(results[j]) && values.set(o.name, results[j] as Tensor));
      },
    });
    return values;
  });
}

/** X as token rows, over all sets in order. */
function tokenRows(l: LinearLayer, acts: Map<string, Tensor>[]): number[][] {
  const rows: number[][] = [];
  for (const values of acts) {
    const t = values.get(l.x)!;
    const d = t.data as Float32Array;
    if (l.kind === 'conv1x1') {
      const S = t.shape.slice(2).reduce((a, b) => a * b, 1);
      for (let n = 0; n < t.shape[0]!; n++) for (let s = 0; s < S; s++) rows.push(seq(l.K, (k) => d[(n * l.K + k) * S + s]!));
    } else for (let i = 0; i < d.length; i += l.K) rows.push(Array.from(d.subarray(i, i + l.K)));
  }
  return rows;
}

const tmp = () => mkdtempSync(path.join(tmpdir(), 'lathe-calib-'));

function checkAgainstInterpreter(model: Model, layers: readonly LinearLayer[], sets: readonly Map<string, Tensor>[], stats: CalibrationStats, maxRows: number) {
  const acts = activations(model, sets);
  for (const l of layers) {
    const s = stats.layers.get(l.node)!;
    assert.ok(s, `stats for ${l.node}`);
    const rows = tokenRows(l, acts);
    assert.is(s.tokens, rows.length, `${l.node}: tokens`);
    assert.is(s.K, l.K);
    const absmax = seq(l.K, (k) => Math.max(...rows.map((r) => Math.abs(r[k]!))));
    assert.equal(Array.from(s.absmax), absmax, `${l.node}: absmax`);
    assert.is(s.min, Math.min(...rows.flat()), `${l.node}: min`);
    assert.is(s.max, Math.max(...rows.flat()), `${l.node}: max`);
    assert.is(s.rowCount, Math.min(maxRows, rows.length), `${l.node}: rowCount`);
    assert.is(s.rows.length, s.rowCount * l.K);
    for (let i = 0; i < s.rowCount; i++) {
      const at = s.rowTokens[i]!;
      if (i > 0) assert.ok(at > s.rowTokens[i - 1]!, `${l.node}: rows in run order`);
      assert.equal(Array.from(s.rows.subarray(i * l.K, (i + 1) * l.K)), rows[at], `${l.node}: sampled row ${i} is token ${at} of X`);
    }
  }
}

test('absmax, min/max, tokens and sampled rows match the activations the interpreter computes', () => {
  const model = calibModel();
  const layers = findLinearLayers(model);
  assert.equal(layers.map((l) => l.kind), ['matmul', 'matmul', 'matmul', 'gemm', 'conv1x1']);
  const inputs = generatedCalibrationInputs(model, 3, 7);
  for (const maxRows of [10, 1000]) {
    const stats = calibrate(model, layers, inputs, { maxRows, cache: false });
    assert.is(stats.fromCache, false);
    assert.is(stats.inputSets, 3);
    checkAgainstInterpreter(model, layers, inputs.sets, stats, maxRows);
  }
  const stats = calibrate(model, layers, inputs, { maxRows: 10, cache: false });
  const L = (n: string) => stats.layers.get(n)!;
  assert.is(L('mm1').tokens, 3 * 16);
  assert.is(L('conv1').tokens, 3 * 2 * 16, 'conv tokens: N·H·W per set');
  assert.is(L('gemm').min, 0, 'Relu output: min 0');
  assert.is(L('mm_q'), L('mm_k'), 'layers reading one activation share its stats');
  // Sampled rows spread over the run, not just the first set.
  assert.ok(L('mm1').rowTokens[L('mm1').rowCount - 1]! >= 32, 'samples reach the last input set');
});

test('sampling is deterministic; the default maxRows is 256', () => {
  const model = calibModel();
  const layers = findLinearLayers(model);
  const inputs = generatedCalibrationInputs(model, 2, 1);
  const a = calibrate(model, layers, inputs, { maxRows: 5, cache: false });
  const b = calibrate(model, layers, inputs, { maxRows: 5, cache: false });
  for (const l of layers) {
    assert.equal(Array.from(a.layers.get(l.node)!.rowTokens), Array.from(b.layers.get(l.node)!.rowTokens));
    assert.equal(Array.from(a.layers.get(l.node)!.rows), Array.from(b.layers.get(l.node)!.rows));
  }
  assert.is(calibrate(model, layers, inputs, { cache: false }).maxRows, 256);
});

test('generated inputs: a seed per set, the source recorded; plain iterables are "given"', () => {
  const model = calibModel();
  const inputs = generatedCalibrationInputs(model, 3, 42);
  assert.equal(inputs.source, { source: 'generated', count: 3, seed: 42 });
  const x0 = inputs.sets[0]!.get('x')!.data;
  const x1 = inputs.sets[1]!.get('x')!.data;
  assert.not.equal(Array.from(x0 as Float32Array), Array.from(x1 as Float32Array));
  assert.match(describeSource(inputs.source), /3 generated input set\(s\).*seed 42/);
  function* gen() {
    yield* inputs.sets;
  }
  const stats = calibrate(model, findLinearLayers(model), gen(), { maxRows: 4, cache: false });
  assert.equal(stats.source, { source: 'given', count: 3 });
  assert.equal(
    Array.from(stats.layers.get('mm1')!.absmax),
    Array.from(calibrate(model, findLinearLayers(model), inputs, { maxRows: 4, cache: false }).layers.get('mm1')!.absmax),
  );
});

test('a cache hit returns identical stats without running the interpreter', () => {
  const dir = tmp();
  try {
    const model = calibModel();
    const layers = findLinearLayers(model);
    const inputs = generatedCalibrationInputs(model, 2, 3);
    let nodes = 0;
    const onNode = () => void nodes++;
    const first = calibrate(model, layers, inputs, { maxRows: 7, cache: dir, onNode });
    assert.is(first.fromCache, false);
    assert.ok(nodes > 0);
    assert.equal(readdirSync(dir).sort(), [`${first.key}.bin`, `${first.key}.json`]);
    nodes = 0;
    // A fresh model object with the same contents, and fresh copies of the inputs: same key.
    const again = calibrate(calibModel(), findLinearLayers(calibModel()), generatedCalibrationInputs(calibModel(), 2, 3), { maxRows: 7, cache: dir, onNode });
    assert.is(again.fromCache, true);
    assert.is(nodes, 0, 'the interpreter did not run');
    assert.is(again.key, first.key);
    assert.is(again.cacheFile, path.join(dir, `${first.key}.json`));
    for (const l of layers) {
      const a = first.layers.get(l.node)!;
      const b = again.layers.get(l.node)!;
      assert.equal({ ...b, absmax: Array.from(b.absmax), rows: Array.from(b.rows), rowTokens: Array.from(b.rowTokens) }, { ...a, absmax: Array.from(a.absmax), rows: Array.from(a.rows), rowTokens: Array.from(a.rowTokens) }, l.node);
    }
    assert.is(again.layers.get('mm_q'), again.layers.get('mm_k'), 'sharing survives the cache');
    // Another maxRows, other inputs, or another weight: a miss.
    assert.is(calibrate(model, layers, inputs, { maxRows: 8, cache: dir }).fromCache, false);
    assert.is(calibrate(model, layers, generatedCalibrationInputs(model, 2, 4), { maxRows: 7, cache: dir }).fromCache, false);
    const changed: Model = {
      ...model,
      graph: { ...model.graph, constants: model.graph.constants.map((c) => (c.name === 'w1' ? { ...c, tensor: constTensor('f32', [4, 6], seq(24, (i) => i)) } : c)) },
    };
    assert.is(calibrate(changed, layers, inputs, { maxRows: 7, cache: dir }).fromCache, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a folder of input_N.pb files: the folder itself and test_data_set_* subfolders', () => {
  const dir = tmp();
  try {
    const model = calibModel();
    const gen = generatedCalibrationInputs(model, 3, 9);
    const write = (d: string, set: Map<string, Tensor>) => {
      mkdirSync(d, { recursive: true });
      writeTensorPb(path.join(d, 'input_0.pb'), set.get('x')!, 'x');
      writeTensorPb(path.join(d, 'input_1.pb'), set.get('img')!, 'img');
    };
    write(dir, gen.sets[0]!);
    write(path.join(dir, 'test_data_set_0'), gen.sets[1]!);
    write(path.join(dir, 'test_data_set_1'), gen.sets[2]!);
    mkdirSync(path.join(dir, 'unrelated'));
    const loaded = loadCalibrationInputs(model, dir);
    assert.equal(loaded.source, { source: 'folder', path: path.resolve(dir), sets: 3 });
    assert.is(loaded.sets.length, 3);
    loaded.sets.forEach((set, i) => {
      assert.equal(Array.from(set.get('x')!.data as Float32Array), Array.from(gen.sets[i]!.get('x')!.data as Float32Array));
      assert.equal(set.get('img')!.shape, [2, 3, 4, 4]);
    });
    const layers = findLinearLayers(model);
    const a = calibrate(model, layers, loaded, { maxRows: 6, cache: false });
    const b = calibrate(model, layers, gen, { maxRows: 6, cache: false });
    assert.match(describeSource(a.source), /3 input set\(s\) from /);
    for (const l of layers) assert.equal(Array.from(a.layers.get(l.node)!.rows), Array.from(b.layers.get(l.node)!.rows));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad calibration folders: errors name the file and the problem', () => {
  const dir = tmp();
  const throwsWith = (f: () => unknown, ...parts: (string | RegExp)[]) => {
    try {
      f();
    } catch (e) {
      const msg = (e as Error).message;
      for (const p of parts) assert.ok(typeof p === 'string' ? msg.includes(p) : p.test(msg), `'${msg}' should mention ${p}`);
      return;
    }
    assert.unreachable('should have thrown');
  };
  try {
    const model = calibModel();
    throwsWith(() => loadCalibrationInputs(model, path.join(dir, 'nope')), path.join(dir, 'nope'), 'no such folder');
    throwsWith(() => loadCalibrationInputs(model, dir), dir, 'no input_0.pb');
    const x = generatedCalibrationInputs(model, 1, 0).sets[0]!.get('x')!;
    // Missing the second input.
    const s0 = path.join(dir, 'set_a');
    mkdirSync(s0);
    writeTensorPb(path.join(s0, 'input_0.pb'), x);
    throwsWith(() => loadCalibrationInputs(model, dir), path.join(s0, 'input_1.pb'), "missing for model input 'img'");
    // Wrong dtype.
    writeTensorPb(path.join(s0, 'input_1.pb'), tensorFrom('i64', [2, 3, 4, 4], seq(96, (i) => i)));
    throwsWith(() => loadCalibrationInputs(model, dir), path.join(s0, 'input_1.pb'), "model input 'img'", 'dtype i64, not f32');
    // Wrong shape.
    writeTensorPb(path.join(s0, 'input_1.pb'), tensorFrom('f32', [2, 3, 4, 5], seq(120, (i) => i)));
    throwsWith(() => loadCalibrationInputs(model, dir), path.join(s0, 'input_1.pb'), 'dim 3 is 5, not 4');
    // More files than inputs.
    writeTensorPb(path.join(s0, 'input_1.pb'), tensorFrom('f32', [2, 3, 4, 4], seq(96, (i) => i)));
    writeTensorPb(path.join(s0, 'input_2.pb'), x);
    throwsWith(() => loadCalibrationInputs(model, dir), path.join(s0, 'input_2.pb'), 'the model takes 2 inputs');
    rmSync(path.join(s0, 'input_2.pb'));
    // Not a TensorProto.
    writeFileSync(path.join(s0, 'input_0.pb'), Uint8Array.from([0xff, 0xff, 0xff, 0x07, 0x01]));
    throwsWith(() => loadCalibrationInputs(model, dir), path.join(s0, 'input_0.pb'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
