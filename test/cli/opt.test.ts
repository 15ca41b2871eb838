// `lathe opt`, `lathe passes`, and --passes on `lathe run` / `lathe conformance`, as real
// processes (each start costs ~1.5 s, so each test checks several things at once).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModel } from '../../compiler/load.ts';
import { CONFORMANCE_TOLERANCE, mismatch } from '../../ir/interp/compare.ts';
import { readValuePb } from '../../ir/interp/pb.ts';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { verifyModel } from '../../ir/verify.ts';
import { valueType } from '../../compiler/conformance.ts';
import { DEFAULT_PIPELINE } from '../../passes/index.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const gpt2 = join(root, 'fixtures/gpt2-tiny');

function lathe(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin/lathe.js'), ...args], { encoding: 'utf8', cwd: root });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('lathe passes lists each pass with its options and the default pipeline', () => {
  const r = lathe('passes');
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /^dce\s+remove nodes/m);
  assert.match(r.out, /^\s+constants: boolean = true\s+\S/m);
  assert.match(r.out, `default pipeline: ${DEFAULT_PIPELINE || '(empty)'}`);
});

test('lathe opt on a real model: -o FILE.lir, --dump-dir, --time-passes; the result verifies', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lathe-opt-'));
  const out = join(dir, 'gpt2.lir');
  const dumps = join(dir, 'dumps');
  const r = lathe('opt', join(gpt2, 'model.onnx'), '--passes', 'dce,cse', '-o', out, '--dump-dir', dumps, '--time-passes');
  assert.is(r.code, 0, r.err);
  assert.match(r.err, /wrote gpt2\.lir \(2 passes ran, \d changed the model\)/);
  assert.match(r.err, /pass\s+ms\s+verify ms\s+changed\ndce\s+[\d.]+\s+[\d.]+\s+(yes|no)\ncse\s+/);
  assert.equal(readdirSync(dumps).filter((f) => f.endsWith('.lir')), ['000-input.lir', '001-dce.lir', '002-cse.lir']);
  verifyModel(loadModel(out));
  // Weights stay references (to the ONNX file or the shared dump weights), never inline.
  assert.ok(readFileSync(join(dumps, '000-input.lir'), 'utf8').length < 200_000);
});

test('lathe opt -o FILE.onnx writes a model the importer reads back; without -o it prints IR', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lathe-opt-'));
  const out = join(dir, 'out.onnx');
  const r = lathe('opt', 'examples/custom-pass/input.lir', '--passes', 'default', '-o', out);
  assert.is(r.code, 0, r.err);
  assert.ok(existsSync(out));
  verifyModel(importOnnxFile(out));
});

test('usage errors: unknown pass or option list what exists (exit 2); --passes is required', () => {
  const r = lathe('opt', 'examples/custom-pass/input.lir', '--passes', 'dce{constant=false}');
  assert.is(r.code, 2);
  assert.match(r.err, /pass 'dce' has no option 'constant'; its options are: constants \(true or false\), results \(true or false\)/);
});

test('lathe run --passes: the optimized model gives the expected outputs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lathe-run-'));
  const set = join(gpt2, 'test_data_set_0');
  const r = lathe('run', join(gpt2, 'model.onnx'), '--inputs', set, '--passes', 'default', '-o', dir);
  assert.is(r.code, 0, r.err);
  const g = importOnnxFile(join(gpt2, 'model.onnx')).graph;
  const type = valueType(g, g.outputs[0]!);
  const why = mismatch(readValuePb(join(dir, 'output_0.pb'), type), readValuePb(join(set, 'output_0.pb'), type), CONFORMANCE_TOLERANCE);
  assert.is(why, undefined);
});

test('lathe conformance --passes: a pipeline that keeps the outputs passes; a broken pass fails each case, named', () => {
  const ok = lathe('conformance', 'fixtures', '--passes', 'default');
  assert.is(ok.code, 0, ok.out + ok.err);
  assert.match(ok.out, /4 passed, 0 failed/);
  const bad = lathe('conformance', 'fixtures/vit-tiny', '--load-pass', 'test/passes/test-passes.ts', '--passes', 'break-ir');
  assert.is(bad.code, 1);
  assert.match(bad.out, /FAIL  fixtures\/vit-tiny  VerifyError: .*pass 'break-ir' broke the IR/);
});

test.run();
