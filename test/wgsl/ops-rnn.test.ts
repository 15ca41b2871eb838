// RNN, GRU and LSTM on the WGSL backend: every kernel validates under Dawn's null backend and on
// the software adapter agrees with the reference interpreter (f32 against its f64), over the
// layouts, directions, sequence lengths, initial states, peepholes, linear_before_reset, clip and
// activations with alpha/beta; their ONNX conformance cases pass on the WGSL backend.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LatheError } from '../../ir/errors.ts';
import { makeTensor } from '../../ir/interp/tensor.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import type { AttrInput } from '../../ir/builder.ts';
import { runCaseOn } from '../../compiler/conformance.ts';
import { adapterDevice } from './kernel-harness.ts';
import { kernelsOf, lowerOp, mismatch, opCase, reference, rng, runOp, validate, checkOp, checkConformanceCases } from './ops-harness.ts';
import type { OpCase } from './ops-harness.ts';

const r = rng(23);

const check = checkOp;

type Cell = 'RNN' | 'GRU' | 'LSTM';
const GATES: Record<Cell, number> = { RNN: 1, GRU: 3, LSTM: 4 };

interface Opts {
  S: number;
  B: number;
  I: number;
  H: number;
  dir?: 'forward' | 'reverse' | 'bidirectional';
  layout?: 0 | 1;
  bias?: boolean;
  lens?: number[];
  h0?: boolean;
  c0?: boolean;
  peep?: boolean;
  attrs?: Record<string, AttrInput>;
  outputs?: number;
  /** Omit Y (result 0). */
  noY?: boolean;
}

function recurrent(cell: Cell, o: Opts): OpCase {
  const G = GATES[cell];
  const D = o.dir === 'bidirectional' ? 2 : 1;
  const layout = o.layout ?? 0;
  const xShape = layout ? [o.B, o.S, o.I] : [o.S, o.B, o.I];
  const stShape = layout ? [o.B, D, o.H] : [D, o.B, o.H];
  const ins: (Tensor | null)[] = [r.f32(xShape, -1, 1), r.f32([D, G * o.H, o.I], -0.6, 0.6), r.f32([D, G * o.H, o.H], -0.6, 0.6)];
  ins.push(o.bias ? r.f32([D, 2 * G * o.H], -0.5, 0.5) : null);
  ins.push(o.lens ? makeTensor('i32', [o.B], Int32Array.from(o.lens)) : null);
  ins.push(o.h0 ? r.f32(stShape, -1, 1) : null);
  if (cell === 'LSTM') {
    ins.push(o.c0 ? r.f32(stShape, -1, 1) : null);
    ins.push(o.peep ? r.f32([D, 3 * o.H], -0.5, 0.5) : null);
  }
  while (ins.length > 3 && ins[ins.length - 1] === null) ins.pop();
  const attrs: Record<string, AttrInput> = { hidden_size: o.H, direction: o.dir ?? 'forward', ...(layout ? { layout } : {}), ...(o.attrs ?? {}) };
  const c = opCase(cell, ins, attrs, { outputs: o.outputs ?? (cell === 'LSTM' ? 3 : 2) });
  if (o.noY) {
    const node = c.model.graph.nodes[0]!;
    const y = node.outputs[0]!.name;
    (node.outputs as unknown[])[0] = null;
    (c.model.graph as unknown as { outputs: string[] }).outputs = c.model.graph.outputs.filter((n) => n !== y);
  }
  return c;
}

for (const cell of ['RNN', 'GRU', 'LSTM'] as const) {
  test(`${cell}: directions, layouts, bias, initial state`, async () => {
    for (const dir of ['forward', 'reverse', 'bidirectional'] as const) {
      for (const layout of [0, 1] as const) {
        await check(`${cell} ${dir} layout ${layout}`, recurrent(cell, { S: 4, B: 3, I: 5, H: 6, dir, layout, bias: true, h0: true, c0: true }));
      }
    }
    await check(`${cell} no bias, no state`, recurrent(cell, { S: 3, B: 2, I: 3, H: 4 }));
    await check(`${cell} hidden 40 (units over the workgroup)`, recurrent(cell, { S: 3, B: 2, I: 7, H: 40, dir: 'bidirectional', bias: true }));
    await check(`${cell} Y omitted`, recurrent(cell, { S: 3, B: 2, I: 3, H: 5, bias: true, noY: true }));
    await check(`${cell} Y only`, recurrent(cell, { S: 3, B: 2, I: 3, H: 5, bias: true, outputs: 1 }));
  });

  test(`${cell}: sequence_lens`, async () => {
    for (const dir of ['forward', 'reverse', 'bidirectional'] as const) {
      for (const layout of [0, 1] as const) {
        await check(`${cell} lens ${dir} layout ${layout}`, recurrent(cell, { S: 5, B: 4, I: 3, H: 4, dir, layout, bias: true, h0: true, lens: [5, 2, 0, 3] }));
      }
    }
  });

  test(`${cell}: clip and activations with alpha/beta`, async () => {
    await check(`${cell} clip`, recurrent(cell, { S: 4, B: 2, I: 3, H: 5, bias: true, attrs: { clip: 0.3 } }));
    const sets: Record<Cell, string[][]> = {
      RNN: [['Relu'], ['LeakyRelu'], ['Affine'], ['ScaledTanh'], ['HardSigmoid'], ['Elu'], ['Softsign'], ['Softplus'], ['ThresholdedRelu'], ['Sigmoid']],
      GRU: [['HardSigmoid', 'Affine'], ['Sigmoid', 'LeakyRelu'], ['Softsign', 'ScaledTanh'], ['Sigmoid', 'Elu']],
      LSTM: [['HardSigmoid', 'Tanh', 'Affine'], ['Sigmoid', 'Softplus', 'ScaledTanh'], ['Sigmoid', 'Relu', 'Elu']],
    };
    for (const acts of sets[cell]) {
      const attrs = { activations: acts, activation_alpha: [0.7, 0.3, 1.4], activation_beta: [0.2, 1.1, -0.4] };
      await check(`${cell} ${acts}`, recurrent(cell, { S: 3, B: 2, I: 3, H: 4, bias: true, h0: true, attrs }));
      await check(`${cell} ${acts} bidirectional`, recurrent(cell, { S: 3, B: 2, I: 3, H: 4, bias: true, dir: 'bidirectional', attrs }));
    }
    // Different activations per direction.
    const both = [...sets[cell][0]!, ...sets[cell][1]!];
    await check(`${cell} per-direction activations`, recurrent(cell, { S: 3, B: 2, I: 3, H: 4, bias: true, dir: 'bidirectional', attrs: { activations: both, activation_alpha: [0.5, 0.9, 1.2, 0.8] } }));
  });
}

test('GRU linear_before_reset', async () => {
  for (const dir of ['forward', 'bidirectional'] as const) {
    await check(`GRU lbr ${dir}`, recurrent('GRU', { S: 4, B: 3, I: 3, H: 5, dir, bias: true, h0: true, attrs: { linear_before_reset: 1 } }));
    await check(`GRU lbr ${dir} lens`, recurrent('GRU', { S: 4, B: 3, I: 3, H: 5, dir, bias: true, lens: [1, 4, 2], attrs: { linear_before_reset: 1 } }));
  }
});

test('LSTM peepholes, input_forget, initial cell state', async () => {
  for (const dir of ['forward', 'reverse', 'bidirectional'] as const) {
    await check(`LSTM peepholes ${dir}`, recurrent('LSTM', { S: 4, B: 2, I: 3, H: 5, dir, bias: true, h0: true, c0: true, peep: true }));
  }
  await check('LSTM input_forget', recurrent('LSTM', { S: 4, B: 2, I: 3, H: 5, bias: true, c0: true, peep: true, attrs: { input_forget: 1 } }));
  await check('LSTM peepholes batch-first lens', recurrent('LSTM', { S: 4, B: 3, I: 3, H: 5, layout: 1, dir: 'bidirectional', bias: true, c0: true, peep: true, lens: [4, 1, 3] }));
});

test('an unknown activation is unsupported', () => {
  const c = recurrent('RNN', { S: 2, B: 1, I: 2, H: 3, attrs: { activations: ['Swish'] } });
  try {
    lowerOp(c);
    assert.unreachable('expected UnsupportedOp');
  } catch (e) {
    assert.ok(e instanceof LatheError && e.kind === 'UnsupportedOp', String(e));
    assert.match((e as Error).message, /Swish/);
  }
});

test('conformance cases on the WGSL backend', async () => {
  await checkConformanceCases(['test_rnn', 'test_simple_rnn', 'test_gru', 'test_lstm'], 12);
});

test.run();
