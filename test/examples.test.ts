// The worked custom-pass example (examples/custom-pass/) as a user runs it: `lathe opt` loading
// the pass from its .ts file, its output checked with FileCheck lines; the pass keeps the
// model's function; a broken plugin pass (plain .js) is named by the verifier.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runModel } from '../ir/interp/run.ts';
import { isTensor, tensorFrom, toF64 } from '../ir/interp/tensor.ts';
import { runPipeline } from '../passes/manager.ts';
import { parsePipeline } from '../passes/pipeline.ts';
import { PassRegistry } from '../passes/registry.ts';
import { loadModel } from '../compiler/load.ts';
import { swapReluMaxPool } from '../examples/custom-pass/swap-relu-maxpool.ts';
import { fileCheck, numbered, parseChecks } from './filecheck.ts';
import { registerGoldenTests } from './golden-runner.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const example = join(root, 'examples/custom-pass');

function lathe(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin/lathe.js'), ...args], { encoding: 'utf8', cwd: root });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function checkOutput(output: string, checks: string) {
  const r = fileCheck(output, parseChecks(checks));
  if (!r.ok) assert.unreachable(`${r.message}\n\noutput:\n${numbered(output)}`);
}

test('lathe opt --load-pass runs the example pass; the output matches its CHECK lines', () => {
  const r = lathe('opt', 'examples/custom-pass/input.lir', '--load-pass', 'examples/custom-pass/swap-relu-maxpool.ts', '--passes', 'swap-relu-maxpool', '--print-ir-after-change');
  assert.is(r.code, 0, r.err);
  checkOutput(
    r.out,
    `// CHECK-LABEL: graph @main
     // CHECK:      %conv1 = onnx.Conv(%image, %w1) : f32[1, 4, 8, 8]
     // CHECK-NEXT: %[[P:pool1_pooled]] = onnx.MaxPool(%conv1) {kernel_shape = [2, 2], strides = [2, 2]} : f32[1, 4, 4, 4]
     // CHECK-NEXT: %pool1 = onnx.Relu(%[[P]]) : f32[1, 4, 4, 4]
     // CHECK-NOT:  %relu1
     // The second Relu also feeds an output, so it stays before its pool.
     // CHECK:      %relu2 = onnx.Relu(%conv2)
     // CHECK-NEXT: %pool2 = onnx.MaxPool(%relu2)
     // CHECK-NEXT: return %pool2, %relu2`,
  );
  assert.match(r.err, /\/\/ ----- IR after 'swap-relu-maxpool' -----/);
});

test('the example pass keeps the model\'s function (reference interpreter, before and after)', () => {
  const registry = new PassRegistry();
  registry.register(swapReluMaxPool, 'example');
  const before = loadModel(join(example, 'input.lir'));
  const after = runPipeline(before, parsePipeline('swap-relu-maxpool', registry), { out: () => {} }).model;
  assert.is.not(after, before);
  const image = tensorFrom('f32', [1, 3, 8, 8], Array.from({ length: 192 }, (_, i) => Math.sin(i * 1.7) * 3));
  const want = runModel(before, [image]);
  const got = runModel(after, [image]);
  want.forEach((w, i) => {
    const g = got[i];
    assert.ok(isTensor(w) && isTensor(g));
    assert.equal([...toF64(g)], [...toF64(w)]);
  });
  // Nothing to do: the same object comes back, so the manager records "unchanged".
  const again = runPipeline(after, parsePipeline('swap-relu-maxpool', registry), { out: () => {} });
  assert.is(again.model, after);
  assert.is(again.records[0]!.changed, false);
});

test('a broken plugin pass (plain JS, .mjs) is named by verify-each, with exit status 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lathe-plugin-'));
  const file = join(dir, 'broken.mjs'); // .mjs: ES module syntax outside a "type": "module" package
  // Drops every Relu but leaves their readers pointing at the removed results.
  writeFileSync(file, `export const dropRelu = {
  name: 'drop-relu',
  summary: 'removes Relu nodes, forgetting their uses',
  options: {},
  run: (m) => ({ ...m, graph: { ...m.graph, nodes: m.graph.nodes.filter((n) => n.op !== 'Relu') } }),
};
export const helper = (x) => x; // not a pass: ignored
`);
  const r = lathe('opt', 'examples/custom-pass/input.lir', '--load-pass', file, '--passes', 'drop-relu');
  assert.is(r.code, 1, r.err);
  assert.match(r.err, /lathe opt: VerifyError: examples\/custom-pass\/input\.lir, node 'pool1', op onnx\.MaxPool, value 'relu1': pass 'drop-relu' broke the IR: operand 'relu1' is not defined/);
});

// The example's golden file, with the pass in a registry of its own.
const exampleRegistry = new PassRegistry();
exampleRegistry.register(swapReluMaxPool, 'examples/custom-pass/swap-relu-maxpool.ts');
registerGoldenTests(test, join(example, 'golden'), exampleRegistry, 'example golden ');

test.run();
