// The golden harness on its own files (test/golden-selftest/, run with test-only passes), and
// its failure messages.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readGoldenFile, registerGoldenTests, runGoldenCase } from './golden-runner.ts';
import { testRegistry } from './passes/test-passes.ts';

const registry = testRegistry();
const dir = join(import.meta.dirname, 'golden-selftest');

registerGoldenTests(test, dir, registry, 'golden self-test ');

function tmpGolden(text: string) {
  const d = mkdtempSync(join(tmpdir(), 'lathe-golden-'));
  const p = join(d, 'case.lir');
  writeFileSync(p, text);
  return readGoldenFile(p);
}

test('a failing check names the check line and shows the numbered output', () => {
  const f = tmpGolden(`// RUN: drop-identity
graph @main(%x: f32[4]) -> (f32[4]) {
  %y = onnx.Identity(%x) : f32[4]
  return %y
}
// CHECK: onnx.Identity
`);
  const r = runGoldenCase(f, f.cases[0]!, registry);
  assert.not.ok(r.ok);
  if (r.ok) return;
  assert.match(r.message, /case\.lir:6: CHECK: onnx\.Identity/);
  assert.match(r.message, /not found/);
  assert.match(r.message, /\n3 \|   return %x/);
});

test('an unexpected pipeline error fails the case with the error; parse errors give file lines', () => {
  const f = tmpGolden(`// RUN: drop-identity
graph @main(%x: f32[4]) -> (f32[4]) { return %x }
// CHECK: return
// -----
graph @main(%x: f32[4]) -> (f32[4]) {
  return %nope
}
// CHECK: return
`);
  assert.ok(runGoldenCase(f, f.cases[0]!, registry).ok);
  const r = runGoldenCase(f, f.cases[1]!, registry);
  assert.not.ok(r.ok);
  if (!r.ok) assert.match(r.message, /case\.lir:6:/);
});

test('malformed golden files are refused', () => {
  assert.throws(() => tmpGolden(`graph @main() -> () { return }\n// CHECK: x\n`), /no '\/\/ RUN: <pipeline>' line/);
  assert.throws(() => tmpGolden(`// RUN: drop-identity\ngraph @main() -> () { return }\n`), /no CHECK lines/);
  assert.throws(() => tmpGolden(`// RUN: drop-identity\ngraph @main() -> () { return }\n// CHECK-NXT: x\n`), /unknown check 'CHECK-NXT'/);
});

test.run();
