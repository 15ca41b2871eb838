// Every family's kernels compile under Dawn's null backend for f16 storage (shader-f16 caps) and
// for SwiftShader-like portable caps (no f16, 256 invocations): the key and text depend on the
// caps, so both variants are checked. Numerics are covered by the ops-*.test.ts files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTensor } from '../../ir/interp/tensor.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { openValidationGpu, PORTABLE_CAPS } from '../../backends/wgsl/gpu.ts';
import { validateKernels } from '../../backends/wgsl/runtime.ts';
import type { OpCase } from './ops-harness.ts';
import { kernelsOf, opCase } from './ops-harness.ts';

const h = (shape: number[]): Tensor => makeTensor('f16', shape, new Uint16Array(shape.reduce((a, b) => a * b, 1)) as never);
const i64 = (v: number[]) => makeTensor('i64', [v.length], BigInt64Array.from(v.map(BigInt)));

function cases(): [string, OpCase][] {
  const x = h([2, 3, 8]);
  return [
    ['Add', opCase('Add', [x, h([8])])],
    ['Gelu', opCase('Gelu', [x])],
    ['Where', opCase('Where', [makeTensor('bool', [8], new Uint8Array(8)), x, h([8])])],
    ['Cast f16→i32', opCase('Cast', [x], { to: 6 })],
    ['ReduceMean', opCase('ReduceMean', [x, i64([1])], {}, { consts: [1] })],
    ['ArgMax', opCase('ArgMax', [x], { axis: 2 })],
    ['Softmax', opCase('Softmax', [x])],
    ['LayerNorm', opCase('LayerNormalization', [x, h([8]), h([8])])],
    ['InstanceNorm', opCase('InstanceNormalization', [x, h([3]), h([3])])],
    ['Transpose', opCase('Transpose', [x], { perm: [2, 0, 1] })],
    ['Pad', opCase('Pad', [x, i64([0, 1, 1, 0, 1, 1])], { mode: 'constant' }, { consts: [1] })],
    ['Gather', opCase('Gather', [x, i64([1, 0])], { axis: 1 })],
  ];
}

test('f16 storage kernels validate', async () => {
  const gpu = await openValidationGpu();
  if (!gpu.caps.f16) return;
  for (const [name, c] of cases()) {
    const ks = kernelsOf(c, { ...PORTABLE_CAPS, f16: true });
    assert.ok(ks.length > 0, name);
    assert.ok(ks.some((k) => k.code.startsWith('enable f16;')), `${name} uses f16 storage`);
    await validateKernels(gpu, ks);
  }
});

test('portable caps: f16 held as f32, at most 256 invocations', async () => {
  const gpu = await openValidationGpu();
  for (const [name, c] of cases()) {
    const ks = kernelsOf(c, PORTABLE_CAPS);
    for (const k of ks) {
      assert.not.ok(k.code.includes('enable f16') || k.code.includes('array<f16>'), `${name}: no f16 without shader-f16`);
      const wg = Number(/@workgroup_size\((\d+)/.exec(k.code)?.[1]);
      assert.ok(wg <= 256, `${name}: workgroup ${wg}`);
    }
    await validateKernels(gpu, ks);
  }
});

test.run();
