// CUDA RNN, GRU and LSTM (backends/cuda/ops/rnn.ts) on the CPU harness against the interpreter,
// forward and reverse thread order: directions, layouts, sequence_lens, initial states, biases,
// peepholes, linear_before_reset, input_forget, clip, every activation with alpha/beta, hidden
// sizes over one block's threads, f16/f64. Each test is one g++ build. Run alone with
// `node --import tsx test/run.ts cuda/rnn`.
import { test } from 'uvu';
import type { DType } from '../../ir/dtype.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { makeTensor, roundTo } from '../../ir/interp/tensor.ts';
import type { OpCase } from './helpers.ts';
import { checkCuda, opCase, rng } from './helpers.ts';

const r = rng(41);
const i32 = (v: number[]) => makeTensor('i32', [v.length], Int32Array.from(v));
const as = (t: Tensor, dtype: DType) =>
  roundTo(makeTensor(dtype, t.shape, dtype === 'f64' ? Float64Array.from(t.data as Float32Array) : Float32Array.from(t.data as Float32Array)));

type Attrs = Record<string, number | string | number[] | string[]>;

/** A recurrent case: X [S, B, I] (or [B, S, I] with layout 1), weights for D directions, G gates. */
function cell(op: 'RNN' | 'GRU' | 'LSTM', S: number, B: number, I: number, H: number, attrs: Attrs = {}, o: { bias?: boolean; lens?: number[]; h0?: boolean; c0?: boolean; peep?: boolean; dtype?: DType; outputs?: number } = {}): OpCase {
  const G = op === 'RNN' ? 1 : op === 'GRU' ? 3 : 4;
  const D = attrs.direction === 'bidirectional' ? 2 : 1;
  const bf = attrs.layout === 1;
  const dt = o.dtype ?? 'f32';
  const t = (shape: number[], s = 0.5) => as(r.f32(shape, -s, s), dt);
  const inputs: (Tensor | null)[] = [t(bf ? [B, S, I] : [S, B, I], 1), t([D, G * H, I]), t([D, G * H, H])];
  inputs.push(o.bias ? t([D, 2 * G * H]) : null);
  inputs.push(o.lens ? i32(o.lens) : null);
  inputs.push(o.h0 ? t(bf ? [B, D, H] : [D, B, H]) : null);
  if (op === 'LSTM') {
    inputs.push(o.c0 ? t(bf ? [B, D, H] : [D, B, H]) : null);
    inputs.push(o.peep ? t([D, 3 * H]) : null);
  }
  while (inputs[inputs.length - 1] === null) inputs.pop();
  return opCase(op, inputs, { hidden_size: H, ...attrs }, { outputs: o.outputs ?? (op === 'LSTM' ? 3 : 2) });
}

test('RNN, GRU, LSTM: directions, layouts, lengths, states, biases, clip', () => {
  const cases: OpCase[] = [];
  for (const op of ['RNN', 'GRU', 'LSTM'] as const) {
    cases.push(cell(op, 5, 3, 4, 6));
    cases.push(cell(op, 4, 2, 3, 5, { direction: 'reverse' }, { bias: true, h0: true, c0: true }));
    cases.push(cell(op, 6, 3, 4, 7, { direction: 'bidirectional' }, { bias: true, lens: [6, 2, 0], h0: true, c0: true, peep: true }));
    cases.push(cell(op, 5, 2, 3, 4, { direction: 'bidirectional', layout: 1 }, { bias: true, lens: [3, 5], h0: true, c0: true }));
    cases.push(cell(op, 3, 2, 5, 40, { clip: 0.3 }, { bias: true })); // 40 units over 64 threads
    cases.push(cell(op, 2, 1, 3, 300, {}, { bias: true, h0: true })); // more units than threads
    cases.push(cell(op, 4, 2, 3, 5, {}, { bias: true, outputs: 1 })); // Y only
    cases.push(cell(op, 4, 2, 3, 5, { direction: 'reverse', layout: 1 }, { lens: [2, 4], dtype: 'f16', bias: true }));
    cases.push(cell(op, 4, 2, 3, 5, { direction: 'bidirectional' }, { lens: [1, 4], dtype: 'f64', bias: true, h0: true, peep: true }));
  }
  cases.push(cell('GRU', 5, 2, 3, 6, { linear_before_reset: 1 }, { bias: true, h0: true }));
  cases.push(cell('GRU', 5, 2, 3, 6, { linear_before_reset: 1, direction: 'bidirectional' }, { bias: true, lens: [5, 3] }));
  cases.push(cell('LSTM', 5, 2, 3, 6, { input_forget: 1 }, { bias: true, peep: true }));
  checkCuda('recurrent', cases, { rtol: 2e-3, atol: 2e-4 });
});

test('RNN, GRU, LSTM: every activation with alpha/beta, per-direction lists', () => {
  const cases: OpCase[] = [];
  const acts: [string, number[], number[]][] = [
    ['Relu', [], []], ['Tanh', [], []], ['Sigmoid', [], []], ['Affine', [0.7], [0.2]], ['LeakyRelu', [0.2], []],
    ['ThresholdedRelu', [0.1], []], ['ScaledTanh', [1.3], [0.6]], ['HardSigmoid', [0.3], [0.4]], ['Elu', [0.9], []],
    ['Softsign', [], []], ['Softplus', [], []],
  ];
  for (const [a, alpha, beta] of acts) {
    cases.push(cell('RNN', 4, 2, 3, 5, { activations: [a], ...(alpha.length ? { activation_alpha: alpha } : {}), ...(beta.length ? { activation_beta: beta } : {}) }, { bias: true }));
  }
  cases.push(cell('RNN', 4, 2, 3, 5, { direction: 'bidirectional', activations: ['Relu', 'Affine'], activation_alpha: [0.5], activation_beta: [0.1] }, { bias: true }));
  cases.push(cell('GRU', 4, 2, 3, 5, { activations: ['HardSigmoid', 'Softsign'], activation_alpha: [0.25], activation_beta: [0.45] }, { bias: true }));
  cases.push(cell('GRU', 4, 2, 3, 5, { direction: 'bidirectional', activations: ['Sigmoid', 'Tanh', 'HardSigmoid', 'Elu'] }, { bias: true, lens: [2, 4] }));
  cases.push(cell('LSTM', 4, 2, 3, 5, { activations: ['HardSigmoid', 'ScaledTanh', 'Affine'], activation_alpha: [0.2, 1.1, 0.8], activation_beta: [0.5, 0.9, 0.05] }, { bias: true, peep: true }));
  cases.push(cell('LSTM', 4, 2, 3, 5, { direction: 'bidirectional', activations: ['Sigmoid', 'Tanh', 'Tanh', 'Sigmoid', 'Relu', 'Softplus'] }, { bias: true, c0: true }));
  checkCuda('recurrent activations', cases, { rtol: 2e-3, atol: 2e-4 });
});

test.run();
