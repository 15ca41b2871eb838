// ONNX conformance cases through the WGSL path (`lathe conformance --target wgsl`): the ops the
// runtime owns (aliases, Constant, Shape, Size: no kernel, or folded) plus Add, each compiled for
// its inputs, run on the adapter and compared with the expected outputs.
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONFORMANCE_ROOT, runCaseOn } from '../../compiler/conformance.ts';
import { gpuTest } from './helpers.ts';

const NODE = path.join(CONFORMANCE_ROOT, 'node');
const CASES = readdirSync(NODE).filter((d) =>
  /^test_(reshape|flatten|squeeze|unsqueeze|shape|size|add|add_bcast|identity|constant)(_|$)/.test(d) &&
  !/^test_(constant_pad|constantofshape|identity_opt|identity_sequence)/.test(d),
);

test('the case list is what the file expects', () => {
  assert.ok(CASES.length >= 45, `${CASES.length} cases`);
});

gpuTest(test, 'alias, Constant, Shape, Size and Add conformance cases pass on WGSL', async () => {
  const bad: string[] = [];
  for (const c of CASES) {
    const r = await runCaseOn(path.join(NODE, c), 'wgsl');
    if (r.status !== 'pass') bad.push(`${r.name}: ${r.status} ${r.reason}`);
  }
  assert.equal(bad, []);
});

gpuTest(test, 'an op without a lowering is a skip naming it, a wrong answer a failure', async () => {
  const r = await runCaseOn(path.join(NODE, 'test_tfidfvectorizer_tf_only_bigrams_skip0'), 'wgsl');
  assert.is(r.status, 'skip');
  assert.match(r.reason, /wgsl: .*op onnx.TfIdfVectorizer has no WGSL lowering/);
});

test.run();
