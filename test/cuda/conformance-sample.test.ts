// ONNX conformance through the CUDA backend on the CPU harness, as a fixed sample: the whole suite
// is one command (`lathe conformance /usr/share/libonnx-testdata/data --target cuda-cpu -j 2`,
// each case a g++ build) but too slow for every test run, so this runs a set of cases chosen to
// cover every op the CUDA backend lowers that has a conformance case
// (test/cuda/conformance-sample.json, made from a full run by scripts/cuda-sample.ts). Each case
// must pass, and the sample must still cover every lowered op it covered when it was made.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONFORMANCE_ROOT, runCaseOn } from '../../compiler/conformance.ts';
import { cudaLoweredOps } from '../../backends/cuda/lowering.ts';
import '../../backends/cuda/ops/index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const sample = JSON.parse(readFileSync(path.join(here, 'conformance-sample.json'), 'utf8')) as { cases: string[]; covers: string[] };

test('the sample covers every lowered op it was made for, and each of those ops is still lowered', () => {
  const lowered = new Set(cudaLoweredOps());
  const missing = sample.covers.filter((op) => !lowered.has(op));
  assert.equal(missing, [], 'ops the sample covers that have no CUDA lowering any more');
});

test('every case of the sample passes on the CUDA CPU harness', async () => {
  const failed: string[] = [];
  for (const name of sample.cases) {
    const r = await runCaseOn(path.join(CONFORMANCE_ROOT, name), 'cuda-cpu');
    if (r.status !== 'pass') failed.push(`${name}: ${r.status} ${r.reason.slice(0, 300)}`);
  }
  assert.equal(failed, []);
});

test.run();
