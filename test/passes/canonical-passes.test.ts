// The canonical passes as passes: registered with their options, reachable from pipeline text,
// identity on a model they have nothing to do on; and lathe's own ops (ir/ops/lathe.ts) compute
// what the formulas they replace compute.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Model } from '../../ir/graph.ts';
import { LATHE_DOMAIN } from '../../ir/graph.ts';
import { runModel } from '../../ir/interp/run.ts';
import { tensorFrom, toF64 } from '../../ir/interp/tensor.ts';
import { parseModel } from '../../ir/text/parse.ts';
import { verifyModel } from '../../ir/verify.ts';
import { runPipeline } from '../../passes/manager.ts';
import { parsePipeline } from '../../passes/pipeline.ts';
import { passRegistry } from '../../passes/registry.ts';
import { runPass } from '../../passes/canonicalize.ts';

const NAMES = ['dce', 'cse', 'constant-fold', 'fold-shapes', 'remove-noops', 'recognize-layernorm', 'recognize-gelu', 'recognize-silu', 'recognize-rmsnorm', 'canonicalize'];

test('every canonical pass is registered and runs from pipeline text with options', () => {
  const r = passRegistry();
  for (const n of NAMES) assert.ok(r.lookup(n), `${n} is registered`);
  const m = parseModel(`lathe.model {opsets = {onnx = 17}}
graph @main(%x: f32[8]) -> (f32[8]) {
  %a = const f32[8] dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]>
  %b = onnx.Neg(%a) : f32[8]
  %y = onnx.Add(%x, %b) : f32[8]
  return %y
}`);
  const small = runPipeline(m, parsePipeline('constant-fold{max-elements=4}', r)).model;
  assert.ok(small.graph.nodes.some((n) => n.op === 'Neg'), 'over max-elements: kept');
  const folded = runPipeline(m, parsePipeline('canonicalize{max-rounds=5 max-elements=8}', r)).model;
  assert.not.ok(folded.graph.nodes.some((n) => n.op === 'Neg'));
});

test('each pass returns its input itself when it has nothing to do', () => {
  const m = parseModel(`lathe.model {opsets = {onnx = 17}}
graph @main(%x: f32[batch, 8], %w: f32[8, 4]) -> (f32[batch, 4]) {
  %y = onnx.MatMul(%x, %w) : f32[batch, 4]
  %z = onnx.Relu(%y) : f32[batch, 4]
  return %z
}`);
  for (const n of NAMES) assert.is(runPass(passRegistry().lookup(n)!, m), m, n);
});

/** Run a one-input model on values; the outputs as numbers. */
function run(m: Model, x: number[], shape: number[]): number[] {
  verifyModel(m);
  return Array.from(toF64(runModel(m, [tensorFrom('f32', shape, x)])[0] as never));
}

const close = (a: number[], b: number[], tol = 1e-6) => a.every((v, i) => Math.abs(v - b[i]!) <= tol * Math.max(1, Math.abs(b[i]!)));

test('lathe.Gelu and lathe.SiLU compute the formulas they replace', () => {
  const xs = [-4, -1.5, -0.3, 0, 0.2, 1, 2.5, 6];
  const one = (op: string, attrs = '') =>
    parseModel(`lathe.model {opsets = {onnx = 20, lathe = 1}}
graph @main(%x: f32[8]) -> (f32[8]) {
  %y = ${op}(%x)${attrs} : f32[8]
  return %y
}`);
  assert.ok(close(run(one('lathe.Gelu', ' {approximate = "none"}'), xs, [8]), run(one('onnx.Gelu'), xs, [8])));
  assert.ok(close(run(one('lathe.Gelu', ' {approximate = "tanh"}'), xs, [8]), run(one('onnx.Gelu', ' {approximate = "tanh"}'), xs, [8])));
  assert.ok(close(run(one('lathe.SiLU'), xs, [8]), xs.map((v) => v / (1 + Math.exp(-v)))));
});

test('lathe.RMSNorm normalizes by the root mean square over the trailing axes', () => {
  const m = parseModel(`lathe.model {opsets = {onnx = 17, lathe = 1}}
graph @main(%x: f32[2, 3]) -> (f32[2, 3]) {
  %g = const f32[3] dense<[1.0, 2.0, 0.5]>
  %y = lathe.RMSNorm(%x, %g) {axis = -1, epsilon = 0.0} : f32[2, 3]
  return %y
}`);
  const xs = [1, 2, 3, -4, 0, 4];
  const rms = [Math.sqrt(14 / 3), Math.sqrt(32 / 3)];
  const g = [1, 2, 0.5];
  assert.ok(close(run(m, xs, [2, 3]), xs.map((v, i) => (v / rms[Math.floor(i / 3)]!) * g[i % 3]!)));
});

test('lathe ops reject what they cannot take', () => {
  const bad = parseModel(`lathe.model {opsets = {onnx = 17, lathe = 1}}
graph @main(%x: f32[2, 3], %g: f32[4]) -> (f32[2, 3]) {
  %y = lathe.RMSNorm(%x, %g) {axis = -1} : f32[2, 3]
  return %y
}`);
  assert.throws(() => verifyModel(bad), /does not broadcast/);
  assert.is(LATHE_DOMAIN, 'lathe');
});

test.run();
