// ONNX conformance through the CUDA backend on the CPU harness, as a fixed sample: the whole suite
// is one command (`lathe conformance /usr/share/libonnx-testdata/data --target cuda-cpu -j 2`,
// each case a g++ build) but too slow for every test run, so this runs a set of cases chosen to
// cover every op the CUDA backend lowers that has a conformance case
// (test/cuda/conformance-sample.json, made from a full run by scripts/cuda-sample.ts). Each case
// must pass, and the sample must still cover every lowered op it covered when it was made.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONFORMANCE_ROOT } from '../../compiler/conformance.ts';
import { cudaLoweredOps } from '../../backends/cuda/lowering.ts';
import '../../backends/cuda/ops/index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const sample = JSON.parse(readFileSync(path.join(here, 'conformance-sample.json'), 'utf8')) as { cases: string[]; covers: string[] };

test('the sample covers every lowered op it was made for, and each of those ops is still lowered', () => {
  const lowered = new Set(cudaLoweredOps());
  const missing = sample.covers.filter((op) => !lowered.has(op));
  assert.equal(missing, [], 'ops the sample covers that have no CUDA lowering any more');
});

test('every case of the sample passes on the CUDA CPU harness', () => {
  // Two processes (`lathe conformance -j 2`): each case is a g++ build, and the suite's other
  // core would otherwise idle.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lathe-cuda-sample-'));
  const json = path.join(dir, 'results.json');
  const bin = path.join(here, '../../bin/lathe.js');
  const r = spawnSync(process.execPath, [bin, 'conformance', ...sample.cases.map((c) => path.join(CONFORMANCE_ROOT, c)), '--target', 'cuda-cpu', '-j', '2', '--json', json], { encoding: 'utf8' });
  assert.ok(existsSync(json), `lathe conformance wrote no results (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  const results = JSON.parse(readFileSync(json, 'utf8')) as { name: string; status: string; reason: string }[];
  rmSync(dir, { recursive: true, force: true });
  assert.equal(results.map((x) => x.name).sort(), [...sample.cases].sort(), 'every case ran');
  assert.equal(results.filter((x) => x.status !== 'pass').map((x) => `${x.name}: ${x.status} ${x.reason.slice(0, 300)}`), []);
});

test.run();
