// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss on WGSL: the ONNX conformance cases (not
// the _expanded ones, which are built of other ops) run through the WGSL path and must all pass
// (f64 cases would be a skip, f64 storage being unsupported; the current suite has none), and
// hand-made cases agree with the reference interpreter on the software adapter.
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONFORMANCE_ROOT, runCaseOn } from '../../compiler/conformance.ts';
import type { OpCase } from './ops-harness.ts';
import { kernelsOf, mismatch, opCase, reference, rng, runOp, validate, checkOp } from './ops-harness.ts';
import { gpuTest } from './helpers.ts';

const NODE = path.join(CONFORMANCE_ROOT, 'node');
const CASES = readdirSync(NODE).filter((d) => /^test_(nllloss|sce)_/.test(d) && !d.includes('_expanded'));

gpuTest(test, 'NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss conformance cases pass on WGSL', async () => {
  assert.ok(CASES.length >= 50, `${CASES.length} cases`);
  const bad: string[] = [];
  for (const c of CASES) {
    const r = await runCaseOn(path.join(NODE, c), 'wgsl');
    const f64Skip = r.status === 'skip' && /f64/.test(r.reason);
    if (r.status !== 'pass' && !f64Skip) bad.push(`${c}: ${r.status} ${r.reason}`);
  }
  assert.equal(bad, []);
});

const r = rng(23);

const check = checkOp;

test('hand-made losses agree with the interpreter', async () => {
  for (const reduction of ['none', 'sum', 'mean']) {
    // [N, C, d1, d2] with N·d1·d2 = 300 elements (> one reduction workgroup), some targets ignored.
    const x = r.f32([3, 5, 10, 10], -3, 0);
    const target = r.int('i64', [3, 10, 10], 0, 4);
    const weight = r.f32([5], 0.2, 1.5);
    await check(`NLL ${reduction}`, opCase('NegativeLogLikelihoodLoss', [x, target, weight], { reduction, ignore_index: 2 }), 2e-4, 1e-4);
    await check(`NLL ${reduction} no weight`, opCase('NegativeLogLikelihoodLoss', [r.f32([7, 4]), r.int('i64', [7], 0, 3)], { reduction }), 2e-4, 1e-4);
    // Long class rows (a workgroup per row) and both results.
    const scores = r.f32([4, 300, 3]);
    const labels = r.int('i64', [4, 3], -1, 299);
    await check(`SCE ${reduction}`, opCase('SoftmaxCrossEntropyLoss', [scores, labels], { reduction, ignore_index: -1 }, { outputs: 2 }), 2e-4, 1e-4);
    await check(`SCE ${reduction} weight, loss only`, opCase('SoftmaxCrossEntropyLoss', [r.f32([6, 8]), r.int('i64', [6], 0, 7), r.f32([8], 0.1, 2)], { reduction }), 2e-4, 1e-4);
  }
});

test.run();
