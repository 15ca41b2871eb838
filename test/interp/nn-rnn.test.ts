// RNN, GRU and LSTM in the reference interpreter: the ONNX conformance cases, ONNX Runtime on
// every direction × option the conformance data leaves out, layout 1 against layout 0, and a
// hand-computed step.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { transpose } from '../../ir/interp/ops/layout.ts';
import { agreesWithOrt, conformanceFamily, f32, i32, randF32, runLathe, nums } from './nn-helpers.ts';
import type { NodeCase } from './nn-helpers.ts';

test('conformance: RNN, GRU, LSTM', () => {
  conformanceFamily(/^test_(simple_rnn|rnn_seq_length|gru|lstm)_/);
});

const S = 5;
const B = 3;
const I = 3;
const H = 4;
const GATES = { RNN: 1, GRU: 3, LSTM: 4 } as const;
const ACTS = {
  RNN: ['LeakyRelu', 'ScaledTanh'],
  GRU: ['HardSigmoid', 'LeakyRelu', 'Affine', 'Elu'],
  LSTM: ['HardSigmoid', 'ScaledTanh', 'LeakyRelu', 'Sigmoid', 'Softsign', 'Affine'],
};

function recurrentCase(op: keyof typeof GATES, direction: string, attrs: NodeCase['attrs'] = {}): NodeCase {
  const G = GATES[op];
  const D = direction === 'bidirectional' ? 2 : 1;
  const inputs: (Tensor | null)[] = [
    randF32([S, B, I], 1), randF32([D, G * H, I], 2), randF32([D, G * H, H], 3), randF32([D, 2 * G * H], 4),
    i32([B], [5, 2, 4]), randF32([D, B, H], 5),
  ];
  if (op === 'LSTM') inputs.push(randF32([D, B, H], 6), randF32([D, 3 * H], 7));
  return { op, opset: 14, inputs, attrs: { hidden_size: H, direction, ...attrs }, outputs: op === 'LSTM' ? ['f32', 'f32', 'f32'] : ['f32', 'f32'] };
}

for (const op of ['RNN', 'GRU', 'LSTM'] as const) {
  test(`${op} agrees with ONNX Runtime: directions, sequence_lens, clip, activations`, async () => {
    for (const direction of ['forward', 'reverse', 'bidirectional']) {
      const D = direction === 'bidirectional' ? 2 : 1;
      await agreesWithOrt(`${op} ${direction}`, recurrentCase(op, direction));
      await agreesWithOrt(`${op} ${direction} clip`, recurrentCase(op, direction, { clip: { f: 0.3 } }));
      const acts = ACTS[op].slice(0, (ACTS[op].length / 2) * D);
      await agreesWithOrt(
        `${op} ${direction} activations`,
        recurrentCase(op, direction, { activations: { strings: acts }, activation_alpha: { floats: [0.3, 0.4, 0.5, 0.6] }, activation_beta: { floats: [0.7, 0.8, 0.9] } }),
      );
      if (op === 'GRU') await agreesWithOrt(`GRU ${direction} linear_before_reset`, recurrentCase(op, direction, { linear_before_reset: 1 }));
      if (op === 'LSTM') await agreesWithOrt(`LSTM ${direction} input_forget`, recurrentCase(op, direction, { input_forget: 1 }));
    }
  });
}

test('layout 1 (batch-first) matches layout 0 with transposed operands and results', () => {
  // ONNX Runtime does not load layout 1, so the time-major run is the reference.
  for (const op of ['RNN', 'GRU', 'LSTM'] as const) {
    const c0 = recurrentCase(op, 'bidirectional');
    const t = (x: Tensor | null, perm: number[]) => (x ? transpose(x, perm) : null);
    const ins = [...c0.inputs];
    ins[0] = t(ins[0]!, [1, 0, 2]);
    ins[5] = t(ins[5]!, [1, 0, 2]);
    if (op === 'LSTM') ins[6] = t(ins[6]!, [1, 0, 2]);
    const want = runLathe(c0);
    const got = runLathe({ ...c0, inputs: ins, attrs: { ...c0.attrs, layout: 1 } });
    assert.equal(nums(got[0]), nums(transpose(want[0]!, [2, 0, 1, 3])), `${op} Y`);
    for (let k = 1; k < want.length; k++) assert.equal(nums(got[k]), nums(transpose(want[k]!, [1, 0, 2])), `${op} state ${k}`);
    assert.equal(got[0]!.shape, [B, S, 2, H]);
  }
});

test('hand-computed steps: RNN and GRU with one unit', () => {
  // RNN: h1 = tanh(0.5·1 + 0.1), h2 = tanh(0.5·2 + 2·h1 + 0.1)   (Wb = 0.1, Rb = 0)
  const rnn = runLathe({
    op: 'RNN', opset: 14, inputs: [f32([2, 1, 1], [1, 2]), f32([1, 1, 1], [0.5]), f32([1, 1, 1], [2]), f32([1, 2], [0.1, 0])],
    attrs: { hidden_size: 1 }, outputs: ['f32', 'f32'],
  });
  const h1 = Math.tanh(0.6);
  const h2 = Math.tanh(1.1 + 2 * h1);
  assert.ok(Math.abs(rnn[0]!.data[0] as number - h1) < 1e-6 && Math.abs(rnn[1]!.data[0] as number - h2) < 1e-6);
  // GRU with zero weights except Wh = 1: z = r = σ(0) = 1/2, ĥ = tanh(x), h = ĥ/2 (h0 = 0).
  const gru = runLathe({
    op: 'GRU', opset: 14, inputs: [f32([1, 1, 1], [0.8]), f32([1, 3, 1], [0, 0, 1]), f32([1, 3, 1], [0, 0, 0])],
    attrs: { hidden_size: 1 }, outputs: ['f32', 'f32'],
  });
  assert.ok(Math.abs(gru[1]!.data[0] as number - Math.tanh(0.8) / 2) < 1e-6);
});

test.run();
