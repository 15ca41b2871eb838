// Softmax and LogSoftmax in one kernel per row: max, Σ exp(x − max), then every element written.
// Before opset 13 a row is all dims from `axis` (default 1) on; from 13, the one `axis` (default
// −1), read in place at its stride.
import { defineOnnxWgsl } from '../lowering.ts';
import type { LowerContext } from '../lowering.ts';
import { softmaxAxes } from '../../shared/softmax-axes.ts';
import { writeVar } from './common.ts';
import { ctypeOf } from './ew-table.ts';
import { FLOAT_SPECIALS, NEG_INF, rowKernel } from './rows.ts';

function softmaxLowering(log: boolean) {
  return (ctx: LowerContext) => {
    const x = ctx.input(0)!;
    const r = x.shape.length;
    if (ctypeOf(x.dtype) !== 'f32') ctx.unsupported(`${ctx.node.op} on ${x.dtype}`);
    const reduced = softmaxAxes(ctx, r);
    return rowKernel(ctx, {
      what: log ? 'logsoftmax' : 'softmax',
      reduced,
      vars: [writeVar(ctx, 'y', ctx.output(0)!)],
      phases: [
        { name: 'm', init: NEG_INF, map: (v) => v, combine: (a, b) => `max(${a}, ${b})`, subgroup: 'Max' },
        { name: 's', init: '0.0', map: (v) => `exp(${v} - m)`, combine: (a, b) => `(${a} + ${b})`, subgroup: 'Add' },
      ],
      rowLets: log ? ['let ls = log(s);'] : ['let inv = 1.0 / s;'],
      elemWrites: (store) => [`y[at] = ${store(log ? 'v - m - ls' : 'exp(v - m) * inv', 'y')};`],
      helpers: [FLOAT_SPECIALS],
    });
  };
}

defineOnnxWgsl(['Softmax'], softmaxLowering(false));
defineOnnxWgsl(['LogSoftmax'], softmaxLowering(true));
