// Pre-opset-7 broadcasting on WGSL: PRelu's per-channel 1-D slope (PyTorch's multi-parameter
// PReLU exports) must not be broadcast numpy-style (it was: a silent wrong answer).
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONFORMANCE_ROOT, runCaseOn } from '../../compiler/conformance.ts';
import { gpuTest } from './helpers.ts';

const DIR = path.join(CONFORMANCE_ROOT, 'pytorch-converted');
const CASES = ['test_PReLU_1d_multiparam', 'test_PReLU_2d_multiparam', 'test_PReLU_3d_multiparam'];

gpuTest(test, 'multi-parameter PReLU (opset 6) matches the expected outputs on WGSL', async () => {
  if (!existsSync(DIR)) return;
  for (const c of CASES) {
    const r = await runCaseOn(path.join(DIR, c), 'wgsl');
    assert.is(r.status, 'pass', `${r.name}: ${r.reason}`);
  }
});

test.run();
