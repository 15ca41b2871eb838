// Convolution geometry shared by both backends' Conv, ConvInteger and QLinearConv kernels, and
// ConvTranspose's for the gather kernels: groups, kernel, strides, dilations
// and the begin pads as the interpreter derives them (explicit, or from output_shape / auto_pad).
import type { EvalContext } from '../../ir/interp/registry.ts';
import type { Window } from '../../ir/interp/ops/window.ts';
import { windowGeometry } from '../../ir/interp/ops/window.ts';
import type { CoreContext, StaticTensor } from '../lower-core.ts';

export interface ConvTransposePlan {
  readonly C: number;
  readonly inSp: number[];
  readonly r: number;
  readonly group: number;
  readonly Cg: number;
  readonly Mg: number;
  readonly M: number;
  readonly kernel: number[];
  readonly strides: number[];
  readonly dilations: number[];
  readonly outSp: number[];
  readonly padBegin: number[];
}

export function convTransposePlan(ctx: CoreContext<unknown>, x: StaticTensor, w: StaticTensor, y: StaticTensor): ConvTransposePlan {
  const C = x.shape[1]!;
  const inSp = x.shape.slice(2);
  const r = inSp.length;
  const group = ctx.int('group', 1);
  const Mg = w.shape[1]!;
  const kernel = ctx.attr('kernel_shape') ? [...ctx.ints('kernel_shape')] : w.shape.slice(2);
  const strides = [...ctx.ints('strides', new Array(r).fill(1))];
  const dilations = [...ctx.ints('dilations', new Array(r).fill(1))];
  const outSp = y.shape.slice(2);
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  let padBegin = ctx.ints('pads', new Array(2 * r).fill(0)).slice(0, r);
  if (ctx.attr('output_shape') || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const outPad = ctx.ints('output_padding', new Array(r).fill(0));
    padBegin = inSp.map((i, d) => {
      const total = strides[d]! * (i - 1) + outPad[d]! + (kernel[d]! - 1) * dilations[d]! + 1 - outSp[d]!;
      return autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2);
    });
  } else if (autoPad === 'VALID') padBegin = new Array(r).fill(0);
  return { C, inSp, r, group, Cg: C / group, Mg, M: Mg * group, kernel, strides, dilations, outSp, padBegin };
}

/** The geometry of Conv, ConvInteger and QLinearConv: channels C (M out), groups, the window over the spatial dims. */
export interface ConvGeometry {
  readonly C: number;
  readonly inSp: readonly number[];
  readonly M: number;
  readonly group: number;
  readonly kernel: readonly number[];
  readonly win: Window;
  /** Input and output channels per group. */
  readonly Cg: number;
  readonly Mg: number;
}

export function convGeometry(ctx: CoreContext<unknown>, x: StaticTensor, w: StaticTensor): ConvGeometry {
  const [, C] = x.shape as [number, number];
  const inSp = x.shape.slice(2);
  const M = w.shape[0]!;
  const group = ctx.int('group', 1);
  const kernel = ctx.attr('kernel_shape') ? [...ctx.ints('kernel_shape')] : w.shape.slice(2);
  const win = windowGeometry(ctx as unknown as EvalContext /* it reads only attributes */, inSp, kernel);
  const Cg = C / group;
  const Mg = M / group;
  if (!Number.isInteger(Cg) || !Number.isInteger(Mg) || w.shape[1] !== Cg) return ctx.unsupported(`channels do not fit: X has ${C}, W is [${w.shape.join(', ')}], group ${group}`);
  return { C, inSp, M, group, kernel, win, Cg, Mg };
}
