// CUDA normalizations and CumSum on the CPU harness against the interpreter: LayerNormalization
// (with Mean/InvStdDev), lathe.RMSNorm, InstanceNormalization, GroupNormalization (per channel at
// opset 21, per group at 18), MeanVarianceNormalization, BatchNormalization (inference and
// training mode), CumSum; odd sizes, rows longer than a block, interleaved rows, f16/f64. Run alone
// with `node --import tsx test/run.ts cuda/norm`.
import { test } from 'uvu';
import type { DType } from '../../ir/dtype.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { makeTensor, roundTo } from '../../ir/interp/tensor.ts';
import type { OpCase } from './helpers.ts';
import { checkCuda, opCase, rng } from './helpers.ts';

const r = rng(23);
const as = (t: Tensor, dtype: DType) =>
  roundTo(makeTensor(dtype, t.shape, dtype === 'f64' ? Float64Array.from(t.data as Float32Array) : Float32Array.from(t.data as Float32Array)));
const i64 = (v: number[]) => makeTensor('i64', [v.length], BigInt64Array.from(v.map(BigInt)));

test('LayerNormalization, RMSNorm, InstanceNormalization, GroupNormalization, MVN, BatchNormalization', () => {
  const cases: OpCase[] = [];
  const x = r.f32([6, 7, 45], -3, 5);
  cases.push(opCase('LayerNormalization', [x, r.f32([45]), r.f32([45])], { epsilon: 1e-5 }, { outputs: 3 })); // warp rows
  cases.push(opCase('LayerNormalization', [x, r.f32([7, 45]), r.f32([45])], { axis: 1 }, { outputs: 3 })); // block rows of 315
  cases.push(opCase('LayerNormalization', [x, r.f32([6, 7, 45])], { axis: 0 })); // one row, no bias
  cases.push(opCase('LayerNormalization', [r.f32([3, 1300], 2, 4), r.f32([1300]), r.f32([1])], {}, { outputs: 3 })); // 1300 > 512
  cases.push(opCase('LayerNormalization', [as(x, 'f16'), as(r.f32([45]), 'f16'), as(r.f32([45]), 'f16')], {}, { outputs: 3 }));
  cases.push(opCase('LayerNormalization', [as(x, 'f64'), as(r.f32([7, 45]), 'f64'), as(r.f32([45]), 'f64')], { axis: -2 }, { outputs: 3 }));
  cases.push(opCase('RMSNorm', [x, r.f32([45])], {}, { domain: 'lathe' }));
  cases.push(opCase('RMSNorm', [r.f32([2, 1100]), r.f32([1100])], { epsilon: 1e-6 }, { domain: 'lathe' }));
  cases.push(opCase('RMSNorm', [as(x, 'bf16'), as(r.f32([7, 45]), 'bf16')], { axis: 1 }, { domain: 'lathe' }));
  cases.push(opCase('InstanceNormalization', [r.f32([2, 3, 5, 7], 1, 3), r.f32([3]), r.f32([3])], { epsilon: 1e-3 }));
  cases.push(opCase('InstanceNormalization', [r.f32([2, 4, 40, 30]), r.f32([4]), r.f32([4])], {})); // planes of 1200
  cases.push(opCase('InstanceNormalization', [as(r.f32([3, 5, 33]), 'f64'), as(r.f32([5]), 'f64'), as(r.f32([5]), 'f64')], {}));
  cases.push(opCase('GroupNormalization', [r.f32([2, 6, 5, 7]), r.f32([6]), r.f32([6])], { num_groups: 3 }));
  cases.push(opCase('GroupNormalization', [r.f32([3, 8, 100]), r.f32([8]), r.f32([8])], { num_groups: 2, epsilon: 1e-3 })); // rows of 400
  cases.push(opCase('GroupNormalization', [as(r.f32([2, 4, 9]), 'f16'), as(r.f32([4]), 'f16'), as(r.f32([4]), 'f16')], { num_groups: 4 }));
  cases.push(opCase('MeanVarianceNormalization', [r.f32([3, 5, 6, 7])], {})); // axes 0, 2, 3: column rows
  cases.push(opCase('MeanVarianceNormalization', [r.f32([3, 37, 6])], { axes: [1] }));
  cases.push(opCase('MeanVarianceNormalization', [r.f32([4, 3, 70])], { axes: [-1] }));
  const bn = (shape: number[], dt: DType = 'f32') => {
    const c = shape[1]!;
    return [as(r.f32(shape), dt), as(r.f32([c], 0.5, 2), dt), as(r.f32([c]), dt), as(r.f32([c], -0.5, 0.5), dt), as(r.f32([c], 0.2, 2), dt)];
  };
  cases.push(opCase('BatchNormalization', bn([2, 5, 6, 7]), { epsilon: 1e-3 }));
  cases.push(opCase('BatchNormalization', bn([7, 3]), {}));
  cases.push(opCase('BatchNormalization', bn([2, 3, 11], 'f16'), {}));
  cases.push(opCase('BatchNormalization', bn([2, 3, 11], 'f64'), {}));
  cases.push(opCase('BatchNormalization', bn([3, 4, 5, 9]), { training_mode: 1, momentum: 0.8 }, { outputs: 3 }));
  cases.push(opCase('BatchNormalization', bn([40, 6]), { training_mode: 1 }, { outputs: 3 }));
  checkCuda('norms', cases, { rtol: 2e-3, atol: 2e-3 });
});

test('GroupNormalization at opset 18 (scale and bias per group)', () => {
  checkCuda('groupnorm 18', [
    opCase('GroupNormalization', [r.f32([2, 6, 5, 7]), r.f32([3]), r.f32([3])], { num_groups: 3 }, { opset: 18 }),
    opCase('GroupNormalization', [r.f32([3, 4, 130]), r.f32([2]), r.f32([2])], { num_groups: 2 }, { opset: 18 }),
  ], { rtol: 1e-3, atol: 1e-4 });
});

test('CumSum: axes, exclusive, reverse, long lines, integers', () => {
  const cases: OpCase[] = [];
  const cs = (x: Tensor, axis: number, attrs: Record<string, number> = {}) => opCase('CumSum', [x, i64([axis])], attrs, { consts: [1] });
  for (const [exclusive, reverse] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
    cases.push(cs(r.f32([3, 700]), 1, { exclusive, reverse })); // block scan, tiles of 512
    cases.push(cs(r.f32([5, 37, 9]), 1, { exclusive, reverse })); // a thread per line
    cases.push(cs(r.int('i32', [4, 45], -50, 50), -1, { exclusive, reverse }));
  }
  cases.push(cs(r.f32([7]), 0));
  cases.push(cs(as(r.f32([3, 100]), 'f64'), 1));
  cases.push(cs(r.int('i64', [33, 6], -1000, 1000), 0));
  cases.push(cs(r.int('u8', [2, 300], 0, 255), 1, { reverse: 1 })); // wraps mod 256
  checkCuda('cumsum', cases, { rtol: 1e-4, atol: 1e-4 });
});

test.run();
