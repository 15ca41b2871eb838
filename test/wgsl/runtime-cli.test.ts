// `lathe run --target wgsl` and `lathe conformance --target wgsl` as a user runs them.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONFORMANCE_ROOT } from '../../compiler/conformance.ts';
import { gpuTest } from './helpers.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin/lathe.js');
const node = (c: string) => join(CONFORMANCE_ROOT, 'node', c);

function lathe(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

gpuTest(test, 'run --target wgsl compares each output with the interpreter', async () => {
  const r = lathe('run', node('test_add_bcast/model.onnx'), '--inputs', node('test_add_bcast/test_data_set_0'), '--target', 'wgsl');
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /%sum vs interpreter: max \|a−b\| 0\.00, relative 0\.00  ok/);
  assert.match(r.out, /ran 1 nodes as WGSL in/);
});

gpuTest(test, 'conformance --target wgsl passes, skips what has no lowering', async () => {
  const r = lathe('conformance', node('test_reshape_negative_dim'), node('test_tfidfvectorizer_tf_only_bigrams_skip0'), '--target', 'wgsl');
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /SKIP  node\/test_tfidfvectorizer_tf_only_bigrams_skip0  wgsl: .*op onnx.TfIdfVectorizer has no WGSL lowering/);
  assert.match(r.out, /1 passed, 0 failed, 1 skipped/);
});

test('--target takes interp, wgsl or cuda-cpu', () => {
  const r = lathe('conformance', node('test_add'), '--target', 'cuda');
  assert.is(r.code, 2);
  assert.match(r.err, /--target takes interp, wgsl or cuda-cpu, not 'cuda'/);
});

test.run();
