// The host-side reading of RNN, GRU and LSTM nodes shared by the WGSL and CUDA lowerings: which
// operands and results are present, the layout, and the sizes checked against W and R. The
// activation list is read by the interpreter's recurrentActivations (ir/interp/ops/rnn.ts), so all
// three read it alike.
import type { CoreContext, StaticTensor } from '../lower-core.ts';

export interface CellSpec {
  readonly op: 'RNN' | 'GRU' | 'LSTM';
  /** Gates per hidden unit: RNN 1, GRU 3 (z r h), LSTM 4 (i o f c). */
  readonly gates: number;
  /** The activations of one direction when the node names none. */
  readonly defaults: readonly string[];
}

export const CELLS: Record<string, CellSpec> = {
  RNN: { op: 'RNN', gates: 1, defaults: ['Tanh'] },
  GRU: { op: 'GRU', gates: 3, defaults: ['Sigmoid', 'Tanh'] },
  LSTM: { op: 'LSTM', gates: 4, defaults: ['Sigmoid', 'Tanh', 'Tanh'] },
};

/** A recurrent node's operands and results (undefined where omitted; c0, peepholes and Y_c are LSTM's). */
export interface RecurrentOperands {
  readonly x: StaticTensor;
  readonly w: StaticTensor;
  readonly r: StaticTensor;
  readonly bias: StaticTensor | undefined;
  readonly lens: StaticTensor | undefined;
  readonly h0: StaticTensor | undefined;
  readonly c0: StaticTensor | undefined;
  readonly peep: StaticTensor | undefined;
  readonly yOut: StaticTensor | undefined;
  readonly yhOut: StaticTensor | undefined;
  readonly ycOut: StaticTensor | undefined;
}

export function recurrentOperands(ctx: CoreContext<unknown>, cell: CellSpec): RecurrentOperands {
  const lstm = cell.gates === 4;
  return {
    x: ctx.input(0)!,
    w: ctx.input(1)!,
    r: ctx.input(2)!,
    bias: ctx.input(3),
    lens: ctx.input(4),
    h0: ctx.input(5),
    c0: lstm ? ctx.input(6) : undefined,
    peep: lstm ? ctx.input(7) : undefined,
    yOut: ctx.output(0),
    yhOut: ctx.output(1),
    ycOut: lstm ? ctx.output(2) : undefined,
  };
}

/** The sizes of a recurrent node: S steps, Bn batch rows, I inputs, H hidden, D directions, G gates. */
export interface RecurrentGeometry {
  readonly batchFirst: boolean;
  readonly direction: 'forward' | 'reverse' | 'bidirectional';
  readonly S: number;
  readonly Bn: number;
  readonly I: number;
  readonly H: number;
  readonly D: number;
  readonly G: number;
}

/**
 * Layout (0: X [S, B, I], 1: batch-first [B, S, I]), hidden size and direction, with W and R
 * checked to fit them; what the backends cannot lower is reported through ctx.unsupported.
 */
export function recurrentGeometry(ctx: CoreContext<unknown>, cell: CellSpec, { x, w, r }: RecurrentOperands): RecurrentGeometry {
  const batchFirst = ctx.int('layout', 0) === 1;
  if (x.shape.length !== 3) ctx.unsupported(`X must be 3-D, got [${x.shape.join(', ')}]`);
  const [S, Bn, I] = (batchFirst ? [x.shape[1], x.shape[0], x.shape[2]] : x.shape) as [number, number, number];
  const H = ctx.attr('hidden_size') ? ctx.int('hidden_size') : r.shape[2]!;
  const direction = ctx.string('direction', 'forward');
  if (direction !== 'forward' && direction !== 'reverse' && direction !== 'bidirectional') return ctx.unsupported(`unknown direction '${direction}'`);
  const D = direction === 'bidirectional' ? 2 : 1;
  const G = cell.gates;
  if (r.shape[0] !== D || r.shape[1] !== G * H || r.shape[2] !== H || w.shape[0] !== D || w.shape[1] !== G * H || w.shape[2] !== I) {
    ctx.unsupported(`W/R shapes [${w.shape.join(', ')}], [${r.shape.join(', ')}] do not fit ${D} direction(s), hidden ${H}, input ${I}`);
  }
  return { batchFirst, direction, S, Bn, I, H, D, G };
}
