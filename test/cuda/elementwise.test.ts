// CUDA elementwise lowerings (backends/cuda/ops/elementwise.ts, ew-table.ts) on the CPU harness,
// against the reference interpreter: every op on f32, the float ops on f16/bf16/f64, integer ops
// on every integer width (wrapping, division by 0 and -1, shifts), Cast between every stored
// dtype, broadcasting, the vectorized path, and fused chains lowered to one kernel.
// Run alone with `node --import tsx test/run.ts cuda/elementwise`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { DType } from '../../ir/dtype.ts';
import { GraphBuilder } from '../../ir/builder.ts';
import { ONNX_DOMAIN } from '../../ir/graph.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { tensorFrom, toConst } from '../../ir/interp/tensor.ts';
import { tensor } from '../../ir/types.ts';
import { constTensor } from '../../ir/tensor-data.ts';
import { lowerCudaModel } from '../../backends/cuda/lower.ts';
import { checkCuda, opCase, rng } from './helpers.ts';
import type { OpCase } from './helpers.ts';

const r = rng(11);
let seed = 1;
const next = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
/** Uniform values of any dtype in [lo, hi] (integers for integer dtypes). */
function vals(dtype: DType, shape: number[], lo: number, hi: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const float = ['f32', 'f16', 'bf16', 'f64'].includes(dtype);
  return tensorFrom(dtype, shape, Array.from({ length: n }, () => (float ? lo + (hi - lo) * next() : lo + Math.floor((hi - lo + 1) * next()))));
}
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 0.5, 1.5, 2.5, -0.5, -2.5, 1e-30, -3, 7];

const UNARY = ['Sigmoid', 'Tanh', 'Exp', 'Floor', 'Ceil', 'Round', 'Sin', 'Cos', 'Tan', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Erf', 'Softsign',
  'Softplus', 'Mish', 'Elu', 'Selu', 'Celu', 'LeakyRelu', 'HardSigmoid', 'HardSwish', 'ThresholdedRelu', 'Shrink', 'Gelu', 'Abs', 'Neg', 'Sign', 'Relu',
  'IsNaN', 'IsInf'];
const POSITIVE = ['Log', 'Sqrt', 'Reciprocal', 'Acosh'];
const UNIT = ['Asin', 'Acos', 'Atanh'];
const BINARY = ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Equal', 'Less', 'Greater', 'GreaterOrEqual', 'LessOrEqual'];

test('unary float ops on f32, with attributes and special values', () => {
  const cases: OpCase[] = [];
  for (const op of UNARY) cases.push(opCase(op, [r.f32([3, 17], -4, 4)]));
  for (const op of POSITIVE) cases.push(opCase(op, [r.f32([40], 1.01, 9)]));
  for (const op of UNIT) cases.push(opCase(op, [r.f32([40], -0.99, 0.99)]));
  cases.push(
    opCase('Gelu', [r.f32([64], -5, 5)], { approximate: 'tanh' }),
    opCase('Gelu', [r.f32([64], -5, 5)], { approximate: 'none' }, { opset: 20 }),
    opCase('Gelu', [r.f32([64], -5, 5)], { approximate: 'tanh' }, { domain: 'lathe' }),
    opCase('SiLU', [r.f32([64], -5, 5)], {}, { domain: 'lathe' }),
    opCase('Erf', [r.f32([64], -1e-3, 1e-3)]),
    opCase('Sigmoid', [r.f32([16], -100, 100)]),
    opCase('Softplus', [r.f32([16], -100, 100)]),
    opCase('Elu', [r.f32([16], -3, 3)], { alpha: 0.5 }),
    opCase('Selu', [r.f32([16], -3, 3)], { alpha: 1.5, gamma: 2 }),
    opCase('Celu', [r.f32([16], -3, 3)], { alpha: 2 }),
    opCase('LeakyRelu', [r.f32([16], -3, 3)], { alpha: 0.2 }),
    opCase('HardSigmoid', [r.f32([16], -6, 6)], { alpha: 0.3, beta: 0.4 }),
    opCase('ThresholdedRelu', [r.f32([16], -3, 3)], { alpha: 0.5 }),
    opCase('Shrink', [r.f32([16], -3, 3)], { lambd: 1, bias: 0.25 }),
    opCase('IsInf', [tensorFrom('f32', [SPECIAL.length], SPECIAL)], { detect_negative: 0 }),
    opCase('IsInf', [tensorFrom('f32', [SPECIAL.length], SPECIAL)], { detect_positive: 0 }),
  );
  // NaN, ±Inf, ±0 and halves: NaN propagation, half-to-even rounding, signs of zero.
  for (const op of ['Relu', 'Sign', 'Round', 'Floor', 'Abs', 'Neg', 'IsNaN', 'IsInf', 'Sigmoid', 'Tanh', 'Erf', 'HardSigmoid', 'HardSwish', 'Celu', 'Softplus', 'Exp']) {
    cases.push(opCase(op, [tensorFrom('f32', [SPECIAL.length], SPECIAL)]));
  }
  checkCuda('unary f32', cases);
});

test('binary, variadic and selection ops on f32 with broadcasting', () => {
  const cases: OpCase[] = [];
  const shapes: [number[], number[]][] = [[[4, 5], [4, 5]], [[2, 3, 4], [4]], [[2, 1, 4], [3, 1]], [[2, 3, 4], [3, 1]], [[5], []], [[1, 3, 1, 2], [2, 1, 5, 1]], [[3], [2, 3]]];
  for (const [sa, sb] of shapes) {
    if (sb.length <= sa.length && sb.every((d, i) => d === 1 || d === sa[sa.length - sb.length + i])) cases.push(opCase('PRelu', [r.f32(sa), r.f32(sb, 0.5, 2)]));
    for (const op of BINARY) cases.push(opCase(op, [r.f32(sa), r.f32(sb, 0.5, 2)]));
  }
  const sp = tensorFrom('f32', [SPECIAL.length], SPECIAL);
  const rev = tensorFrom('f32', [SPECIAL.length], [...SPECIAL].reverse());
  for (const op of ['Max', 'Min', 'Add', 'Div', 'Pow', 'Equal', 'Less']) cases.push(opCase(op, [sp, rev]));
  cases.push(opCase('Mod', [sp, rev], { fmod: 1 }));
  cases.push(
    opCase('Pow', [r.f32([30], 0.1, 3), r.f32([30], -2, 2)]),
    opCase('Pow', [r.f32([6], -3, -0.5), tensorFrom('i32', [6], [2, 3, 0, 1, -1, -2])]),
    opCase('Pow', [r.f32([6], -3, 3), tensorFrom('i64', [6], [2, 3, 0, 1, -1, -2])]),
    opCase('Pow', [tensorFrom('f32', [4], [1, -1, 1, 2]), tensorFrom('f32', [4], [NaN, Infinity, Infinity, 0.5])]),
    opCase('Mod', [r.f32([30], -5, 5), r.f32([30], -2, 2)], { fmod: 1 }),
    opCase('Mod', [r.f32([4], -5, 5), tensorFrom('f32', [4], [0, -0, 1, -1])], { fmod: 1 }),
    opCase('Where', [r.int('bool', [2, 5], 0, 1), r.f32([2, 5]), r.f32([5])]),
    opCase('Where', [r.int('bool', [3, 1], 0, 1), r.f32([1, 4]), r.f32([])]),
    opCase('Sum', [r.f32([2, 3]), r.f32([3]), r.f32([2, 1])]),
    opCase('Sum', [r.f32([7])]),
    opCase('Mean', [r.f32([2, 3]), r.f32([3]), r.f32([2, 1])]),
    opCase('Max', [r.f32([2, 3]), r.f32([3]), r.f32([2, 1])]),
    opCase('Min', [r.f32([2, 3]), r.f32([3]), r.f32([2, 1])]),
    opCase('Clip', [r.f32([20], -3, 3), r.f32([], -1, -1), r.f32([], 1, 1)]),
    opCase('Clip', [r.f32([20], -3, 3), r.f32([], -1, -1)]),
    opCase('Clip', [r.f32([20], -3, 3), null, r.f32([], 1, 1)]),
    opCase('Clip', [r.f32([20], -3, 3)]),
    opCase('Clip', [sp, r.f32([], 1, 1), r.f32([], -1, -1)]),
    opCase('Clip', [r.f32([20], -3, 3), r.f32([], -1, -1), r.f32([], 1, 1)], {}, { consts: [1, 2] }),
    // Same-shape operands take the vectorized path; 4099 elements fall back to lanes of 1.
    opCase('Mul', [r.f32([64, 33]), r.f32([64, 33])]),
    opCase('Sub', [r.f32([4099]), r.f32([])]),
  );
  checkCuda('binary f32', cases);
});

test('float ops on f16, bf16 (rounded after every op) and f64', () => {
  const cases: OpCase[] = [];
  for (const dt of ['f16', 'bf16'] as const) {
    for (const op of ['Sigmoid', 'Tanh', 'Exp', 'Relu', 'Gelu', 'Erf', 'Softplus', 'HardSwish', 'Neg', 'Abs', 'Round', 'Sqrt', 'IsNaN'])
      cases.push(opCase(op, [vals(dt, [4, 9], op === 'Sqrt' ? 0 : -4, 4)]));
    for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Pow', 'Mod', 'Less', 'Equal'])
      cases.push(opCase(op, [vals(dt, [4, 9], op === 'Pow' ? 0.1 : -4, 4), vals(dt, [9], 0.5, 3)], op === 'Mod' ? { fmod: 1 } : {}));
    cases.push(
      opCase('Sum', [vals(dt, [8], -100, 100), vals(dt, [8], -100, 100), vals(dt, [8], -1, 1)]),
      opCase('Mean', [vals(dt, [8], -100, 100), vals(dt, [8], -100, 100), vals(dt, [8], -1, 1)]),
      opCase('Where', [r.int('bool', [16], 0, 1), vals(dt, [16], -4, 4), vals(dt, [1], -4, 4)]),
      opCase('Clip', [vals(dt, [16], -4, 4), vals(dt, [], -1, -1), vals(dt, [], 2, 2)]),
      opCase('PRelu', [vals(dt, [2, 8], -4, 4), vals(dt, [8], 0, 1)]),
      // 16 halves per thread-vector of 8: the vectorized path on 2-byte elements.
      opCase('Mul', [vals(dt, [64], -4, 4), vals(dt, [64], -4, 4)]),
    );
  }
  checkCuda('f16 bf16', cases, { rtol: 1e-2, atol: 1e-3 });
});

test('f64 ops and integer ops on every width (wrapping, division by 0 and -1, shifts) are exact', () => {
  const cases: OpCase[] = [];
  for (const op of [...UNARY, 'Log', 'Sqrt', 'Reciprocal'])
    cases.push(opCase(op, [vals('f64', [2, 7], op === 'Log' || op === 'Sqrt' ? 0.1 : -4, 4)]));
  for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Pow', 'Mod', 'Less', 'Equal', 'PRelu'])
    cases.push(opCase(op, [vals('f64', [3, 7], op === 'Pow' ? 0.1 : -4, 4), vals('f64', [7], 0.5, 3)], op === 'Mod' ? { fmod: 1 } : {}));
  cases.push(opCase('Clip', [vals('f64', [9], -4, 4), vals('f64', [], -1, -1), vals('f64', [], 2, 2)]));
  cases.push(opCase('Mean', [vals('f64', [9], -4, 4), vals('f64', [9], -4, 4)]));
  const ints: DType[] = ['i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'i64', 'u64'];
  const range: Record<string, [number, number]> = {
    i8: [-128, 127], u8: [0, 255], i16: [-32768, 32767], u16: [0, 65535], i32: [-2147483648, 2147483647], u32: [0, 4294967295],
    i64: [-(2 ** 62), 2 ** 62], u64: [0, 2 ** 63],
  };
  for (const dt of ints) {
    const [lo, hi] = range[dt]!;
    const big = vals(dt, [3, 8], lo, hi);
    const big2 = vals(dt, [8], lo, hi);
    for (const op of ['Add', 'Sub', 'Mul', 'Max', 'Min', 'Equal', 'Less', 'Greater', 'GreaterOrEqual', 'LessOrEqual']) cases.push(opCase(op, [big, big2]));
    cases.push(opCase('Max', [big, big2, vals(dt, [1], lo, hi)]));
    const signed = dt.startsWith('i');
    for (const op of signed ? ['Abs', 'Neg', 'Sign', 'Relu'] : ['Abs', 'Sign']) cases.push(opCase(op, [big]));
    // Divisors include 0 and (signed) -1 against the minimum value.
    const num = tensorFrom(dt, [8], [lo, lo, 7, signed ? -7 : 9, 100, signed ? -100 : 3, 0, hi]);
    const den = tensorFrom(dt, [8], signed ? [-1, 0, 2, 2, -3, 3, 5, -1] : [1, 0, 2, 2, 3, 3, 5, 7]);
    for (const op of ['Div', 'Mod']) cases.push(opCase(op, [num, den]));
    cases.push(opCase('Mod', [num, den], { fmod: 1 }));
    if (dt === 'i32' || dt === 'i64') {
      // Pow's integer bases: i32 and i64; the exponent may have another dtype.
      const small = vals(dt, [12], -5, 5);
      cases.push(opCase('Pow', [small, vals(dt, [12], 0, dt === 'i64' ? 40 : 15)]));
      cases.push(opCase('Pow', [small, tensorFrom(dt, [12], [-1, -2, 0, 1, 2, 3, -1, -3, 4, 5, 6, 7])]));
      cases.push(opCase('Pow', [small, vals('f32', [12], -1, 4)]), opCase('Pow', [small, vals(dt === 'i32' ? 'i64' : 'i32', [12], -2, 9)]));
    }
    cases.push(opCase('Clip', [big, tensorFrom(dt, [], [signed ? -1000 : 1000]), tensorFrom(dt, [], [dt.endsWith('8') ? 100 : 100000])]));
    cases.push(opCase('Where', [r.int('bool', [8], 0, 1), big2, tensorFrom(dt, [1], [3])]));
    if (!signed) {
      const sh = tensorFrom(dt, [10], [0, 1, 3, 7, 8, 15, 16, 31, 32, 63]);
      cases.push(opCase('BitShift', [vals(dt, [10], 0, hi), sh], { direction: 'LEFT' }), opCase('BitShift', [vals(dt, [10], 0, hi), sh], { direction: 'RIGHT' }));
    }
  }
  const p = r.int('bool', [2, 5], 0, 1);
  const q = r.int('bool', [5], 0, 1);
  for (const op of ['And', 'Or', 'Xor', 'Equal']) cases.push(opCase(op, [p, q]));
  cases.push(opCase('Not', [p]), opCase('Where', [p, p, q]));
  checkCuda('f64 and integers', cases, { rtol: 1e-12, atol: 1e-14 });
});

test('Cast and CastLike between every stored dtype', () => {
  const types: [DType, number][] = [['f32', 1], ['u8', 2], ['i8', 3], ['u16', 4], ['i16', 5], ['i32', 6], ['i64', 7], ['bool', 9], ['f16', 10], ['f64', 11], ['u32', 12], ['u64', 13], ['bf16', 16]];
  const floats = [NaN, Infinity, -Infinity, 0, -0, 0.7, -0.7, 2.5, -2.5, 255.9, 300, -300, 65504, 70000, 3e9, -3e9, 1e20, -1e20, 1e-8, 123456.789];
  const source = (dt: DType): Tensor => {
    if (['f32', 'f64', 'f16', 'bf16'].includes(dt)) return tensorFrom(dt, [floats.length], floats);
    if (dt === 'bool') return tensorFrom(dt, [6], [0, 1, 1, 0, 1, 0]);
    const v = [0, 1, -1, 127, -128, 255, 256, 65535, -65536, 2 ** 31 - 1, -(2 ** 31), 2 ** 32 - 1, 2 ** 53 + 1, -(2 ** 60) - 1];
    if (dt === 'i64' || dt === 'u64') return tensorFrom(dt, [v.length + 2], [...v.map(BigInt), 2n ** 63n - 1n, -(2n ** 63n)].map((x) => (dt === 'u64' ? BigInt.asUintN(64, x) : x)));
    return tensorFrom(dt, [v.length], v);
  };
  const cases: OpCase[] = [];
  for (const [from] of types) for (const [to, code] of types) if (from !== to) cases.push(opCase('Cast', [source(from)], { to: code }));
  cases.push(opCase('CastLike', [source('f32'), tensorFrom('i8', [1], [0])]), opCase('CastLike', [source('i64'), tensorFrom('f16', [1], [0])]));
  cases.push(opCase('Cast', [source('f32')], { to: 1 })); // same dtype: an alias, no kernel
  checkCuda('cast', cases, { rtol: 0, atol: 0 });
});

test('opset 6: Clip bounds as attributes, legacy per-channel PRelu', () => {
  const o6 = { opset: 6 };
  checkCuda('opset 6', [
    opCase('Clip', [r.f32([20], -3, 3)], { min: -0.5, max: 0.5 }, o6),
    opCase('Clip', [r.f32([20], -3, 3)], { max: 0.5 }, o6),
    opCase('Clip', [r.f32([20], -3, 3)], {}, o6),
    opCase('PRelu', [r.f32([2, 3, 4]), r.f32([3], 0.1, 0.5)], {}, o6),
  ]);
});

/** y = x * sigmoid(x) + 1 over a [4, 33] input. */
function swishPlusOne(dtype: DType = 'f32'): OpCase {
  const b = new GraphBuilder('swish', { [ONNX_DOMAIN]: 21 });
  const x = b.input('x', tensor(dtype, [4, 33]));
  const one = b.constant('one', toConst(tensorFrom(dtype, [], [1])));
  const y = b.op('Add', [b.op('Mul', [x, b.op('Sigmoid', [x])]), one]);
  return { model: b.returns(y).model(), inputs: [vals(dtype, [4, 33], -6, 6)] };
}

test('fused chains are one kernel each and match the interpreter', () => {
  const swish = swishPlusOne();
  const k = lowerCudaModel(swish.model).kernels;
  assert.is(k.length, 1, 'x * sigmoid(x) + 1 is one kernel');
  assert.match(k[0]!.code, /lathe_sigmoid_f/);
  assert.is(lowerCudaModel(swish.model, { fuse: false }).kernels.length, 3);
  // A longer chain: broadcast operands, a Cast to f16 and back, Where on a comparison, Clip.
  const b = new GraphBuilder('chain', { [ONNX_DOMAIN]: 21 });
  const x = b.input('x', tensor('f32', [3, 8, 16]));
  const bias = b.input('bias', tensor('f32', [16]));
  const gate = b.input('gate', tensor('f32', [3, 1, 1]));
  const h = b.op('Cast', [b.op('Add', [x, bias])], { to: 10 });
  const g = b.op('Gelu', [b.op('Cast', [h], { to: 1 })]);
  const w = b.op('Where', [b.op('Greater', [g, gate]), g, b.op('Neg', [g])]);
  const lo = b.constant('lo', constTensor('f32', [], [-0.5]));
  const hi = b.constant('hi', constTensor('f32', [], [1.25]));
  const y = b.op('Clip', [b.op('Mul', [w, w]), lo, hi]);
  const chain: OpCase = { model: b.returns(y).model(), inputs: [r.f32([3, 8, 16], -3, 3), r.f32([16], -1, 1), r.f32([3, 1, 1], -0.5, 0.5)] };
  const ck = lowerCudaModel(chain.model).kernels;
  // Groups end where a value has several uses: [Add Cast Cast Gelu] (g feeds three nodes),
  // [Greater Neg Where] and [Mul Clip] (Mul reads w twice).
  assert.is(ck.length, 3, 'chain kernels');
  // An integer chain in i64.
  const bi = new GraphBuilder('ichain', { [ONNX_DOMAIN]: 21 });
  const a = bi.input('a', tensor('i64', [40]));
  const d = bi.input('d', tensor('i64', [40]));
  const yi = bi.op('Mod', [bi.op('Mul', [bi.op('Abs', [a]), bi.constant('three', constTensor('i64', [], [3]))]), d]);
  const ichain: OpCase = { model: bi.returns(yi).model(), inputs: [vals('i64', [40], -1000, 1000), vals('i64', [40], 1, 9)] };
  assert.is(lowerCudaModel(ichain.model).kernels.length, 1, 'i64 chain is one kernel');
  checkCuda('fused', [swish, swishPlusOne('f16'), chain, ichain], { rtol: 2e-3, atol: 1e-3 });
});

test('empty tensors launch nothing; the vectorized and broadcast paths are chosen by shape', () => {
  assert.is(lowerCudaModel(opCase('Add', [r.f32([0, 3]), r.f32([3])]).model).kernels.length, 0);
  const same = lowerCudaModel(opCase('Add', [r.f32([8, 32]), r.f32([8, 32])]).model).kernels[0]!;
  assert.match(same.code, /lathe_vec<float, 4>/);
  assert.equal(same.grid, [1, 1, 1]);
  const bc = lowerCudaModel(opCase('Add', [r.f32([8, 32]), r.f32([8, 1])]).model).kernels[0]!;
  assert.not.match(bc.code, /lathe_vec/);
  assert.match(bc.code, /in1\[\(i \/ 32u\)\]/);
});

test.run();
