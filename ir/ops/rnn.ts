// Recurrent layers: RNN, GRU, LSTM. With layout=0 (the default) X is [seq, batch, input],
// Y is [seq, dirs, batch, hidden] and Y_h/Y_c are [dirs, batch, hidden]; layout=1 (opset 14)
// puts batch first: X [batch, seq, input], Y [batch, seq, dirs, hidden], Y_h [batch, dirs, hidden].
import { FLOATS } from '../dtype.ts';
import type { AttrSpec, InferContext } from '../op.ts';
import { between } from '../op.ts';
import type { Dim, Shape } from '../types.ts';
import { tensor } from '../types.ts';
import { attr, expectDType, onnxOp, sameDType } from './util.ts';
import { expectRank, fmt, unifyDim } from './nn-util.ts';

const commonAttrs: Record<string, AttrSpec> = {
  activation_alpha: attr.floats,
  activation_beta: attr.floats,
  activations: attr.strings,
  clip: attr.float,
  direction: attr.string,
  hidden_size: attr.int,
  layout: attr.int,
  output_sequence: attr.int, // opset 1 only
};

/**
 * `gates` is how many weight blocks W/R stack (1 RNN, 3 GRU, 4 LSTM); `states` is how many
 * state results follow Y (1, or 2 for LSTM's Y_c).
 */
function recurrentOp(name: string, gates: number, maxInputs: number, states: number, extra: Record<string, AttrSpec>): void {
  onnxOp(name, between(3, maxInputs), between(0, 1 + states), { ...commonAttrs, ...extra }, (ctx: InferContext) => {
    const x = expectDType(ctx, 0, FLOATS);
    const dtype = sameDType(ctx, [0, 1, 2, 3, 5, 6, 7].filter((i) => i < ctx.numInputs));
    const direction = ctx.string('direction', 'forward');
    if (!['forward', 'reverse', 'bidirectional'].includes(direction)) ctx.fail(`unknown direction '${direction}'`);
    const dirs = direction === 'bidirectional' ? 2 : 1;
    const layout = ctx.int('layout', 0);
    if (layout !== 0 && layout !== 1) ctx.fail(`layout must be 0 or 1, got ${layout}`);
    if (layout === 1 && ctx.opset < 14) ctx.fail(`layout needs opset 14 or later`);
    const w = ctx.tensor(1);
    const r = ctx.tensor(2);
    for (const [t, what] of [[x, 'X'], [w, 'W'], [r, 'R']] as const) expectRank(ctx, t, what, 3);
    const xs: Shape = x.shape ?? [null, null, null];
    const [seq, batch] = layout === 0 ? [xs[0]!, xs[1]!] : [xs[1]!, xs[0]!];
    const ws = w.shape ?? [null, null, null];
    const rs = r.shape ?? [null, null, null];
    // hidden_size may be omitted: R is [dirs, gates·hidden, hidden].
    let hidden: Dim = ctx.attr('hidden_size') ? ctx.int('hidden_size') : null;
    hidden = unifyDim(ctx, hidden, rs[2]!, 'hidden_size and R');
    const gh: Dim = typeof hidden === 'number' ? gates * hidden : null;
    unifyDim(ctx, ws[0]!, dirs, `W's direction axis (${fmt(ws)}) and direction '${direction}'`);
    unifyDim(ctx, rs[0]!, dirs, `R's direction axis (${fmt(rs)}) and direction '${direction}'`);
    unifyDim(ctx, ws[1]!, gh, `W's gate axis ${fmt(ws)} and ${gates}×hidden_size`);
    unifyDim(ctx, rs[1]!, gh, `R's gate axis ${fmt(rs)} and ${gates}×hidden_size`);
    unifyDim(ctx, ws[2]!, xs[2]!, `W's input axis ${fmt(ws)} and X's input size ${fmt(xs)}`);
    if (ctx.has(4)) expectDType(ctx, 4, ['i32']);
    const y = layout === 0 ? [seq, dirs, batch, hidden] : [batch, seq, dirs, hidden];
    const state = tensor(dtype, layout === 0 ? [dirs, batch, hidden] : [batch, dirs, hidden]);
    return [tensor(dtype, y), ...Array.from({ length: states }, () => state)];
  });
}

recurrentOp('RNN', 1, 6, 1, {});
recurrentOp('GRU', 3, 6, 1, { linear_before_reset: attr.int });
recurrentOp('LSTM', 4, 8, 2, { input_forget: attr.int });
