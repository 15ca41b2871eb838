// Dropout (inference), Trilu, ConstantOfShape, BitShift, Hardmax and OneHot: every kernel validates under
// Dawn's null backend and on the software adapter agrees with the reference interpreter; their
// ONNX conformance cases pass on the WGSL backend.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LatheError } from '../../ir/errors.ts';
import { makeTensor, toConst } from '../../ir/interp/tensor.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { runCaseOn } from '../../compiler/conformance.ts';
import { adapterDevice } from './kernel-harness.ts';
import { kernelsOf, lowerOp, mismatch, opCase, reference, rng, runOp, validate, checkOp, checkConformanceCases } from './ops-harness.ts';
import type { OpCase } from './ops-harness.ts';

const r = rng(11);

const check = (name: string, c: OpCase) => checkOp(name, c, 0, 0);

const scalar = (dtype: 'i64' | 'f32' | 'bool', v: number): Tensor =>
  makeTensor(dtype, [], dtype === 'i64' ? BigInt64Array.of(BigInt(v)) : dtype === 'f32' ? Float32Array.of(v) : Uint8Array.of(v));

test('Dropout at inference: y aliases x, the mask is all true', async () => {
  const x = r.f32([3, 5]);
  const plain = opCase('Dropout', [x]);
  const { result } = lowerOp(plain);
  assert.equal(result, { alias: [{ output: 0, input: 0 }] });
  await check('Dropout', plain);
  await check('Dropout mask', opCase('Dropout', [x], {}, { outputs: 2 }));
  await check('Dropout ratio, training off', opCase('Dropout', [x, scalar('f32', 0.3), scalar('bool', 0)], {}, { consts: [1, 2], outputs: 2 }));
  await check('Dropout training, ratio 0', opCase('Dropout', [x, scalar('f32', 0), scalar('bool', 1)], {}, { consts: [1, 2], outputs: 2 }));
  await check('Dropout opset 7', opCase('Dropout', [x], { ratio: 0.2 }, { opset: 7 }));
  await check('Dropout opset 10 mask', opCase('Dropout', [x], {}, { opset: 10, outputs: 2 }));
});

test('Dropout in training mode is unsupported', () => {
  const c = opCase('Dropout', [r.f32([4]), scalar('f32', 0.5), scalar('bool', 1)], {}, { consts: [1, 2] });
  try {
    lowerOp(c);
    assert.unreachable('expected UnsupportedOp');
  } catch (e) {
    assert.ok(e instanceof LatheError && e.kind === 'UnsupportedOp', String(e));
    assert.match((e as Error).message, /training/);
  }
});

test('Trilu upper/lower, k, batched', async () => {
  for (const shape of [[4, 5], [2, 3, 6, 4], [1, 7], [5, 1]]) {
    for (const upper of [0, 1]) {
      const x = r.f32(shape);
      await check(`Trilu ${shape} upper=${upper}`, opCase('Trilu', [x], { upper }));
      for (const k of [-2, -1, 1, 3, 9, -9]) {
        await check(`Trilu ${shape} upper=${upper} k=${k}`, opCase('Trilu', [x, scalar('i64', k)], { upper }, { consts: [1] }));
      }
    }
  }
  // k as a graph input (read by the kernel from its buffer)
  await check('Trilu runtime k', opCase('Trilu', [r.f32([2, 4, 5]), scalar('i64', -1)], { upper: 1 }));
  await check('Trilu i64', opCase('Trilu', [r.int('i64', [3, 4], -9, 9), scalar('i64', 1)], { upper: 0 }, { consts: [1] }));
});

test('ConstantOfShape', async () => {
  const shape = (v: number[]) => makeTensor('i64', [v.length], BigInt64Array.from(v.map(BigInt)));
  const val = (dtype: 'f32' | 'i32' | 'i64', v: number) => ({
    kind: 'tensor' as const,
    value: toConst(makeTensor(dtype, [1], dtype === 'i64' ? BigInt64Array.of(BigInt(v)) : dtype === 'i32' ? Int32Array.of(v) : Float32Array.of(v))),
  });
  await check('ConstantOfShape default', opCase('ConstantOfShape', [shape([2, 3])], {}, { consts: [0] }));
  for (const [dtype, v] of [['f32', 2.5], ['i32', -7], ['i64', 12]] as const) {
    await check(`ConstantOfShape ${dtype}`, opCase('ConstantOfShape', [shape([3, 1, 4])], { value: val(dtype, v) }, { consts: [0] }));
  }
});

test('BitShift u8/u16/u32 left/right, broadcast', async () => {
  const u = (dtype: 'u8' | 'u16' | 'u32', shape: number[], v: number[]) =>
    makeTensor(dtype, shape, dtype === 'u8' ? Uint8Array.from(v) : dtype === 'u16' ? Uint16Array.from(v) : Uint32Array.from(v));
  for (const [dtype, bits] of [['u8', 8], ['u16', 16], ['u32', 32]] as const) {
    const max = 2 ** bits - 1;
    const a = u(dtype, [2, 6], [1, 2, 3, max, max - 5, 77, 128, 5, 0, 9, 255, 31]);
    const s = u(dtype, [2, 6], [0, 1, 3, 1, 4, bits - 1, 7, bits, bits + 3, 2, 5, 0]);
    for (const direction of ['LEFT', 'RIGHT']) {
      await check(`BitShift ${dtype} ${direction}`, opCase('BitShift', [a, s], { direction }));
      await check(`BitShift ${dtype} ${direction} broadcast`, opCase('BitShift', [a, u(dtype, [6], [0, 1, 2, 3, 4, 5])], { direction }));
      await check(`BitShift ${dtype} ${direction} scalar`, opCase('BitShift', [a, u(dtype, [], [2])], { direction }));
    }
  }
});

test('Hardmax: axes, opsets, ties to the first index', async () => {
  const x = r.f32([3, 4, 5]);
  for (const opset of [11, 13]) {
    for (const axis of [0, 1, 2, -1, -2]) await check(`Hardmax opset ${opset} axis ${axis}`, opCase('Hardmax', [x], { axis }, { opset }));
    await check(`Hardmax opset ${opset} default`, opCase('Hardmax', [x], {}, { opset }));
  }
  const ties = makeTensor('f32', [3, 4], Float32Array.from([1, 3, 3, 2, 5, 5, 5, 5, -1, -2, -1, -3]));
  await check('Hardmax ties', opCase('Hardmax', [ties]));
  await check('Hardmax ties axis 0', opCase('Hardmax', [ties], { axis: 0 }));
  await check('Hardmax long rows', opCase('Hardmax', [r.f32([3, 1000])]));
  await check('Hardmax many short rows', opCase('Hardmax', [r.f32([2048, 7])]));
});

test('OneHot: axes, negative and out-of-range indices, float indices', async () => {
  const ind = makeTensor('i64', [2, 3], BigInt64Array.from([0n, 2n, -1n, 5n, -4n, 1n]));
  const depth = scalar('i64', 4);
  for (const dtype of ['f32', 'i64'] as const) {
    const values = dtype === 'f32' ? makeTensor('f32', [2], Float32Array.of(-1, 3.5)) : makeTensor('i64', [2], BigInt64Array.of(0n, 7n));
    for (const axis of [-1, 0, 1, 2, -3]) await check(`OneHot ${dtype} axis ${axis}`, opCase('OneHot', [ind, depth, values], { axis }, { consts: [1] }));
  }
  const find = makeTensor('f32', [5], Float32Array.of(0, 1.7, -1.2, 3.9, 2));
  await check('OneHot float indices', opCase('OneHot', [find, scalar('f32', 3), makeTensor('f32', [2], Float32Array.of(0, 1))], {}, { consts: [1] }));
});

// Conformance: every case of these ops passes on the WGSL backend (the uint64 BitShift cases
// too: u64 is stored as u32 and their values fit).
test('conformance cases on the WGSL backend', async () => {
  await checkConformanceCases(['test_dropout', 'test_trilu', 'test_tril', 'test_triu', 'test_constantofshape', 'test_bitshift', 'test_hardmax', 'test_onehot'], 46);
});

test.run();
