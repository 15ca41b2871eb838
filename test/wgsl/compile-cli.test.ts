// `lathe compile` as a user runs it: a real process, its exit codes and messages, the folder it writes.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PROJECT_ROOT } from '../../backends/wgsl/gpu.ts';
import { parseDims } from '../../compiler/cli/compile.ts';
import { printModel } from '../../ir/text/print.ts';
import { throwsLathe } from '../onnx/errors.ts';
import { scratchDir } from './compile-helpers.ts';
import { smallModel } from './compile-model.ts';

const dir = scratchDir('compile-cli-');
const lir = path.join(dir, 'small.lir');
writeFileSync(lir, printModel(smallModel(), { baseDir: dir }));

function lathe(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin/lathe.js'), ...args], { encoding: 'utf8', cwd: PROJECT_ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('compile --target wgsl writes the artifact folder', () => {
  const out = path.join(dir, 'art');
  const r = lathe('compile', lir, '--target', 'wgsl', '-o', out, '--dim', 'batch=2');
  assert.is(r.code, 0, r.err);
  assert.match(r.err, /wrote .*: \d+ dispatches of \d+ kernels/);
  const m = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  assert.equal(m.inputs[0].shape, [2, 6]);
  for (const f of ['weights.safetensors', 'model.ts', 'model.d.ts', 'model.js', m.kernels[0].file]) assert.ok(existsSync(path.join(out, f)), f);
});

test('--f16 on an f32 model says that it changes nothing', () => {
  const r = lathe('compile', lir, '--target', 'wgsl', '-o', path.join(dir, 'f16'), '--dim', 'batch=1', '--f16', '--passes', '');
  assert.is(r.code, 0, r.err);
  assert.match(r.err, 'note: --f16: the model has no f16 values');
});

test('usage errors: --build without cuda, a bad --arch, a missing target or folder, a bad --dim', () => {
  const build = lathe('compile', lir, '--target', 'wgsl', '--build', '-o', path.join(dir, 'c'), '--dim', 'batch=1');
  assert.is(build.code, 2);
  assert.match(build.err, '--build and --arch are for --target cuda');
  const arch = lathe('compile', lir, '--target', 'cuda', '--arch', 'hopper', '-o', path.join(dir, 'c'), '--dim', 'batch=1');
  assert.is(arch.code, 2);
  assert.match(arch.err, "--arch takes compute capabilities like 80,90, not 'hopper'");
  assert.is(lathe('compile', lir, '-o', path.join(dir, 'x')).code, 2);
  assert.is(lathe('compile', lir, '--target', 'wgsl').code, 2);
  assert.is(lathe('compile', lir, '--target', 'metal', '-o', path.join(dir, 'x')).code, 2);
  const bad = lathe('compile', lir, '--target', 'wgsl', '-o', path.join(dir, 'x'), '--dim', 'batch');
  assert.is(bad.code, 2);
  assert.match(bad.err, 'NAME=SIZE');
  const unbound = lathe('compile', lir, '--target', 'wgsl', '-o', path.join(dir, 'x'));
  assert.is(unbound.code, 1);
  assert.match(unbound.err, 'batch');
});

test('parseDims', () => {
  assert.equal(parseDims(['batch=1', 'seq=16', 'batch=1']), { batch: 1, seq: 16 });
  throwsLathe(() => parseDims(['batch=1', 'batch=2']), 'UsageError', ['twice']);
  throwsLathe(() => parseDims(['batch=-1']), 'UsageError', ['NAME=SIZE']);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
