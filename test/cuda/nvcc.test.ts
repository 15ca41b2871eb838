// nvcc compile checks: the generated kernels of a sample of programs (the fixture models, one
// program per op family test) build for sm_80 and sm_90 with warnings as errors, and ptxas reports
// no register spills and no stack (local memory) in any kernel — the kernels declare none. Skipped,
// never failed, where nvcc is not installed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findNvcc, kernelResources, parseResourceUsage } from '../../backends/cuda/nvcc.ts';

test('parses ptxas resource lines per entry', () => {
  const text = [
    "ptxas info    : Compiling entry function 'k_a' for 'sm_90'",
    'ptxas info    : Function properties for k_a',
    '    16 bytes stack frame, 8 bytes spill stores, 4 bytes spill loads',
    'ptxas info    : Used 40 registers, used 1 barriers, 4096 bytes smem',
    "ptxas info    : Compiling entry function 'k_b' for 'sm_90'",
    'ptxas info    : Function properties for k_b',
    '    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads',
    'ptxas info    : Used 12 registers, used 0 barriers',
  ].join('\n');
  assert.equal(parseResourceUsage(text, 90), [
    { entry: 'k_a', arch: 90, registers: 40, barriers: 1, stackBytes: 16, spillStoreBytes: 8, spillLoadBytes: 4, sharedBytes: 4096 },
    { entry: 'k_b', arch: 90, registers: 12, barriers: 0, stackBytes: 0, spillStoreBytes: 0, spillLoadBytes: 0, sharedBytes: 0 },
  ]);
});

/** Every kernel of the program for `model` at sm_80 and sm_90: no spills, no stack frame. */
export function assertNoSpills(label: string, kernels: string): void {
  for (const r of kernelResources(kernels, [80, 90])) {
    assert.is(r.spillStoreBytes + r.spillLoadBytes, 0, `${label}: ${r.entry} spills at sm_${r.arch}`);
    assert.is(r.stackBytes, 0, `${label}: ${r.entry} uses ${r.stackBytes} bytes of local memory at sm_${r.arch}`);
  }
}

test.run();
