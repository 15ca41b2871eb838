// The `lathe` command as a user runs it: real processes, exit codes, and what they print.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin/lathe.js');
const gpt2 = join(root, 'fixtures/gpt2-tiny/model.onnx');

function lathe(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('help: the command list and each command\'s options', () => {
  const top = lathe('--help');
  assert.is(top.code, 0);
  for (const c of ['dump', 'verify', 'info']) assert.match(top.out, c);
  for (const c of ['dump', 'verify', 'info']) {
    const r = lathe(c, '--help');
    assert.is(r.code, 0);
    assert.match(r.out, `usage: lathe ${c}`);
  }
});

test('info summarizes a real model', () => {
  const r = lathe('info', gpt2);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /inputs:\n  %\S+: i64\[batch, seq\]/);
  assert.match(r.out, /parameters: [\d,]+ \(/);
  assert.match(r.out, /onnx\.MatMul/);
  assert.match(r.out, /ai\.onnx 17/);
  const json = JSON.parse(lathe('info', gpt2, '--json').out);
  assert.ok(json.parameters > 0 && json.ops['onnx.Softmax'] >= 2);
});

test('dump -o writes re-loadable text; dumping the dump gives the same text', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lathe-cli-'));
  const first = join(dir, 'gpt2.lir');
  assert.is(lathe('dump', gpt2, '-o', first).code, 0);
  const text = readFileSync(first, 'utf8');
  assert.match(text, /^lathe\.model/);
  assert.match(text, /@file\(/, 'large weights are references, not inline');
  const v = lathe('verify', first);
  assert.is(v.code, 0, v.err);
  assert.match(v.out, /ok/);
  const second = join(dir, 'again.lir');
  assert.is(lathe('dump', first, '-o', second).code, 0);
  // The second dump refers to the first one's weight file (same folder) instead of copying it.
  assert.is(readFileSync(second, 'utf8'), text);
});

test('bad input: a clear message naming the file, and a non-zero exit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lathe-cli-'));
  const truncated = join(dir, 'cut.onnx');
  writeFileSync(truncated, readFileSync(gpt2).subarray(0, 5000));
  let r = lathe('verify', truncated);
  assert.is(r.code, 1);
  assert.match(r.err, /ProtobufError/);
  assert.match(r.err, /cut\.onnx/);
  assert.not.match(r.err, /\n\s+at /, 'no stack trace');

  const bad = join(dir, 'bad.lir');
  writeFileSync(bad, 'graph @g(%x: f32[2]) -> (f32[2]) {\n  %y = onnx.Relu(%x : f32[2]\n  return %y\n}\n');
  r = lathe('dump', bad);
  assert.is(r.code, 1);
  assert.match(r.err, /ParseError/);
  assert.match(r.err, /bad\.lir:2:\d+/);

  const typo = join(dir, 'typo.lir');
  writeFileSync(typo, 'graph @g(%x: f32[2]) -> (f32[3]) {\n  %y = onnx.Relu(%x) : f32[3]\n  return %y\n}\n');
  r = lathe('verify', typo);
  assert.is(r.code, 1);
  assert.match(r.err, /ShapeError.*inconsistent/);

  r = lathe('verify', join(dir, 'missing.onnx'));
  assert.ok(r.code !== 0);
  assert.match(r.err, /missing\.onnx/);

  r = lathe('frobnicate');
  assert.is(r.code, 2);
  assert.match(r.err, /unknown command 'frobnicate'/);
  r = lathe('dump', gpt2, '--bogus');
  assert.is(r.code, 2);
});

test('a model whose external data leaves its folder is refused by the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lathe-cli-'));
  copyFileSync(join(root, 'test/onnx/data/make.ts'), join(dir, 'unused.ts'));
  // test/onnx covers every external-data case through the API; here only the exit path matters.
  const r = lathe('info', join(dir, 'unused.ts'));
  assert.is(r.code, 1);
  assert.match(r.err, /ProtobufError/);
});

test('run, conformance and check on a fixture', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lathe-cli-'));
  const data = join(root, 'fixtures/vit-tiny/test_data_set_0');
  let r = lathe('run', join(root, 'fixtures/vit-tiny/model.onnx'), '--inputs', data, '-o', dir);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /%logits: f32\[3, 10\]\s+min /);
  assert.ok(readFileSync(join(dir, 'output_0.pb')).length > 120);

  const json = join(dir, 'results.json');
  r = lathe('conformance', join(root, 'fixtures'), '--json', json);
  assert.is(r.code, 0, r.out + r.err);
  assert.match(r.out, /^4 passed, 0 failed, 0 skipped$/m);
  const results = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(results.map((x: { status: string }) => x.status), ['pass', 'pass', 'pass', 'pass']);
  // The same run in two processes (--jobs): the same cases, merged back into order.
  const json2 = join(dir, 'results2.json');
  r = lathe('conformance', join(root, 'fixtures'), '--jobs', '2', '--json', json2);
  assert.is(r.code, 0, r.out + r.err);
  assert.match(r.out, /^4 passed, 0 failed, 0 skipped$/m);
  assert.equal(JSON.parse(readFileSync(json2, 'utf8')).map((x: { name: string }) => x.name), results.map((x: { name: string }) => x.name));

  r = lathe('check', join(root, 'fixtures/vit-tiny/model.onnx'), '--inputs', data);
  assert.is(r.code, 0, r.out + r.err);
  assert.match(r.out, /logits\s+\[3, 10\]/);
  assert.match(r.out, /agrees with ONNX Runtime within 0.0001 relative/);

  r = lathe('run', join(root, 'fixtures/vit-tiny/model.onnx'));
  assert.is(r.code, 2);
  assert.match(r.err, /needs --inputs/);
});

test.run();
