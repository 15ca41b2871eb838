// The recurrent layers RNN, GRU and LSTM, evaluated step by step in f64 exactly as the ONNX
// equations read. One driver handles what they share: layout 0 (time-major X [S, B, I]) and 1
// (batch-first X [B, S, I], opset 14), forward / reverse / bidirectional, per-batch
// sequence_lens (steps past a sequence's length leave zeros in Y and do not touch the state),
// initial states, and the activation list with its alpha/beta values.
import type { AttrReader } from '../../attr-reader.ts';
import { defineOnnxEvals } from '../registry.ts';
import type { EvalContext } from '../registry.ts';
import type { Tensor } from '../tensor.ts';
import { allocData, makeTensor, roundTo, toF64 } from '../tensor.ts';

type Fn = (x: number) => number;

/** An activation by its ONNX name; alpha/beta are taken only by the functions that use them. */
function activation(name: string, next: ActivationParam, fail: (m: string) => never): Fn {
  switch (name.toLowerCase()) {
    case 'sigmoid': return (x) => 1 / (1 + Math.exp(-x));
    case 'tanh': return Math.tanh;
    case 'relu': return (x) => (x > 0 ? x : 0);
    case 'softsign': return (x) => x / (1 + Math.abs(x));
    case 'softplus': return (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
    case 'affine': {
      const a = next('alpha', 1);
      const b = next('beta', 0);
      return (x) => a * x + b;
    }
    case 'leakyrelu': {
      const a = next('alpha', 0.01);
      return (x) => (x >= 0 ? x : a * x);
    }
    case 'thresholdedrelu': {
      const a = next('alpha', 1);
      return (x) => (x > a ? x : 0);
    }
    case 'scaledtanh': {
      const a = next('alpha', 1);
      const b = next('beta', 1);
      return (x) => a * Math.tanh(b * x);
    }
    case 'hardsigmoid': {
      const a = next('alpha', 0.2);
      const b = next('beta', 0.5);
      return (x) => Math.max(0, Math.min(1, a * x + b));
    }
    case 'elu': {
      const a = next('alpha', 1);
      return (x) => (x >= 0 ? x : a * (Math.exp(x) - 1));
    }
    default: return fail(`unknown recurrent activation '${name}'`);
  }
}

/** Takes the next activation_alpha (or activation_beta) value in list order, `dflt` once they run out. */
export type ActivationParam = (use: 'alpha' | 'beta', dflt: number) => number;

/**
 * The activations of each direction: `defaults.length` of them, defaults repeated when not
 * given, alpha/beta values handed out in list order to the activations that take them. Exported
 * so the WGSL and CUDA lowerings read the list exactly as this does; `make` builds one activation
 * (a function here, kernel text there) and `fail` reports a bad list.
 */
export function recurrentActivations<F>(
  ctx: AttrReader,
  defaults: readonly string[],
  dirs: number,
  fail: (why: string) => never,
  make: (name: string, next: ActivationParam) => F,
): F[][] {
  let names = [...ctx.strings('activations', [])];
  if (names.length === 0) names = Array.from({ length: dirs }, () => defaults).flat();
  else if (names.length === defaults.length && dirs === 2) names = [...names, ...names];
  if (names.length !== defaults.length * dirs) fail(`expected ${defaults.length * dirs} activations, got ${names.length}`);
  const alphas = ctx.floats('activation_alpha', []);
  const betas = ctx.floats('activation_beta', []);
  let ai = 0;
  let bi = 0;
  const next = (use: 'alpha' | 'beta', dflt: number) => {
    if (use === 'alpha') return ai < alphas.length ? alphas[ai++]! : dflt;
    return bi < betas.length ? betas[bi++]! : dflt;
  };
  const fns = names.map((n) => make(n, next));
  return Array.from({ length: dirs }, (_, d) => fns.slice(d * defaults.length, (d + 1) * defaults.length));
}

function activations(ctx: EvalContext, defaults: readonly string[], dirs: number): Fn[][] {
  return recurrentActivations(ctx, defaults, dirs, (why) => ctx.fail(why), (n, next) => activation(n, next, ctx.fail));
}

interface Cell {
  /** Gates per hidden unit: RNN 1, GRU 3 (z r h), LSTM 4 (i o f c). */
  gates: number;
  defaults: readonly string[];
  /**
   * One step for one batch row. `gx` holds W·x + Wb for every gate; the cell reads the state
   * `h` (and `c`), the recurrence weights R [gates·H, H] at `rOff` and their bias Rb at `rbOff`,
   * and writes the new state back into `h` and `c`.
   */
  step(s: StepArgs): void;
}

interface StepArgs {
  H: number;
  gx: Float64Array;
  h: Float64Array;
  c: Float64Array;
  R: Float64Array;
  rOff: number;
  B: Float64Array | undefined;
  rbOff: number;
  P: Float64Array | undefined;
  pOff: number;
  acts: Fn[];
  clip: (x: number) => number;
  scratch: Float64Array;
  linearBeforeReset: boolean;
  inputForget: boolean;
}

/** R[g·H + j, :] · v + Rb[g·H + j]. */
function rdot(a: StepArgs, row: number, v: Float64Array): number {
  const { H, R, rOff, B, rbOff } = a;
  let s = B ? B[rbOff + row]! : 0;
  const o = rOff + row * H;
  for (let k = 0; k < H; k++) s += R[o + k]! * v[k]!;
  return s;
}

const RNN: Cell = {
  gates: 1,
  defaults: ['Tanh'],
  step(a) {
    const { H, gx, h, scratch, acts, clip } = a;
    for (let j = 0; j < H; j++) scratch[j] = acts[0]!(clip(gx[j]! + rdot(a, j, h)));
    h.set(scratch.subarray(0, H));
  },
};

const GRU: Cell = {
  gates: 3,
  defaults: ['Sigmoid', 'Tanh'],
  step(a) {
    const { H, gx, h, scratch, acts, clip } = a;
    const [f, g] = acts as [Fn, Fn];
    // scratch: z [0, H), r [H, 2H), r ⊙ h [2H, 3H), new h [3H, 4H)
    for (let j = 0; j < H; j++) {
      scratch[j] = f(clip(gx[j]! + rdot(a, j, h)));
      scratch[H + j] = f(clip(gx[H + j]! + rdot(a, H + j, h)));
    }
    for (let j = 0; j < H; j++) scratch[2 * H + j] = scratch[H + j]! * h[j]!;
    const rh = scratch.subarray(2 * H, 3 * H);
    for (let j = 0; j < H; j++) {
      const pre = a.linearBeforeReset ? gx[2 * H + j]! + scratch[H + j]! * rdot(a, 2 * H + j, h) : gx[2 * H + j]! + rdot(a, 2 * H + j, rh);
      const hh = g(clip(pre));
      const z = scratch[j]!;
      scratch[3 * H + j] = (1 - z) * hh + z * h[j]!;
    }
    h.set(scratch.subarray(3 * H, 4 * H));
  },
};

const LSTM: Cell = {
  gates: 4,
  defaults: ['Sigmoid', 'Tanh', 'Tanh'],
  step(a) {
    const { H, gx, h, c, scratch, acts, clip, P, pOff } = a;
    const [f, g, hAct] = acts as [Fn, Fn, Fn];
    // Peepholes P [3H] in the order i, o, f; gate rows in W/R/B in the order i, o, f, c.
    for (let j = 0; j < H; j++) {
      const pi = P ? P[pOff + j]! : 0;
      const po = P ? P[pOff + H + j]! : 0;
      const pf = P ? P[pOff + 2 * H + j]! : 0;
      const i = f(clip(gx[j]! + rdot(a, j, h) + pi * c[j]!));
      // input_forget couples the gates: f = 1 - i (ONNX Runtime's reading of the attribute).
      const fg = a.inputForget ? 1 - i : f(clip(gx[2 * H + j]! + rdot(a, 2 * H + j, h) + pf * c[j]!));
      const cc = g(clip(gx[3 * H + j]! + rdot(a, 3 * H + j, h)));
      const cNew = fg * c[j]! + i * cc;
      const o = f(clip(gx[H + j]! + rdot(a, H + j, h) + po * cNew));
      scratch[j] = o * hAct(cNew);
      scratch[H + j] = cNew;
    }
    h.set(scratch.subarray(0, H));
    c.set(scratch.subarray(H, 2 * H));
  },
};

function runRecurrent(ctx: EvalContext, cell: Cell): (Tensor | undefined)[] {
  const x = ctx.tensor(0);
  const batchFirst = ctx.int('layout', 0) === 1;
  const [S, Bn, I] = (batchFirst ? [x.shape[1], x.shape[0], x.shape[2]] : x.shape) as [number, number, number];
  const W = toF64(ctx.tensor(1));
  const R = toF64(ctx.tensor(2));
  const rt = ctx.tensor(2);
  const H = ctx.attr('hidden_size') ? ctx.int('hidden_size') : rt.shape[2]!;
  const direction = ctx.string('direction', 'forward');
  const D = direction === 'bidirectional' ? 2 : 1;
  if (direction !== 'forward' && direction !== 'reverse' && direction !== 'bidirectional') ctx.fail(`unknown direction '${direction}'`);
  const G = cell.gates;
  if (rt.shape[0] !== D || rt.shape[1] !== G * H || ctx.tensor(1).shape[2] !== I) {
    ctx.fail(`W/R shapes [${ctx.tensor(1).shape.join(', ')}], [${rt.shape.join(', ')}] do not fit ${D} direction(s), hidden ${H}, input ${I}`);
  }
  const Bt = ctx.optTensor(3);
  const B = Bt ? toF64(Bt) : undefined;
  const lens = ctx.optTensor(4);
  const seqLen = (b: number) => (lens ? Number(lens.data[b]) : S);
  const h0 = ctx.optTensor(5);
  const c0 = G === 4 ? ctx.optTensor(6) : undefined;
  const Pt = G === 4 ? ctx.optTensor(7) : undefined;
  const P = Pt ? toF64(Pt) : undefined;
  const clipAt = ctx.attr('clip') ? ctx.float('clip') : Infinity;
  const clip = clipAt === Infinity ? (v: number) => v : (v: number) => Math.max(-clipAt, Math.min(clipAt, v));
  const acts = activations(ctx, cell.defaults, D);
  const linearBeforeReset = ctx.int('linear_before_reset', 0) !== 0;
  const inputForget = ctx.int('input_forget', 0) !== 0;
  const xd = toF64(x);
  // Index of element (step t, batch b, unit j) of X, and of (direction d, batch b) state rows.
  const xAt = (t: number, b: number) => (batchFirst ? (b * S + t) * I : (t * Bn + b) * I);
  const stateAt = (d: number, b: number) => (batchFirst ? (b * D + d) * H : (d * Bn + b) * H);
  const yAt = (t: number, d: number, b: number) => (batchFirst ? ((b * S + t) * D + d) * H : ((t * D + d) * Bn + b) * H);
  const Y = new Float64Array(S * D * Bn * H);
  const Yh = new Float64Array(D * Bn * H);
  const Yc = new Float64Array(D * Bn * H);
  const gx = new Float64Array(G * H);
  const h = new Float64Array(H);
  const c = new Float64Array(H);
  const scratch = new Float64Array(4 * H);
  const h0d = h0 ? toF64(h0) : undefined;
  const c0d = c0 ? toF64(c0) : undefined;
  for (let d = 0; d < D; d++) {
    const reverse = direction === 'reverse' || d === 1;
    const args: StepArgs = {
      H, gx, h, c, R, rOff: d * G * H * H, B, rbOff: d * 2 * G * H + G * H, P, pOff: d * 3 * H,
      acts: acts[d]!, clip, scratch, linearBeforeReset, inputForget,
    };
    for (let b = 0; b < Bn; b++) {
      const so = stateAt(d, b);
      for (let j = 0; j < H; j++) {
        h[j] = h0d ? h0d[so + j]! : 0;
        c[j] = c0d ? c0d[so + j]! : 0;
      }
      const len = seqLen(b);
      if (len < 0 || len > S) ctx.fail(`sequence_lens[${b}] = ${len} is outside [0, ${S}]`);
      for (let s = 0; s < len; s++) {
        const t = reverse ? len - 1 - s : s;
        const xo = xAt(t, b);
        for (let row = 0; row < G * H; row++) {
          let v = B ? B[d * 2 * G * H + row]! : 0;
          const wo = (d * G * H + row) * I;
          for (let i = 0; i < I; i++) v += W[wo + i]! * xd[xo + i]!;
          gx[row] = v;
        }
        cell.step(args);
        Y.set(h, yAt(t, d, b));
      }
      Yh.set(h, so);
      Yc.set(c, so);
    }
  }
  const out = (shape: number[], data: Float64Array): Tensor => {
    const t = allocData(x.dtype, data.length) as Float32Array | Float64Array;
    t.set(data);
    return roundTo(makeTensor(x.dtype, shape, t));
  };
  const stateShape = batchFirst ? [Bn, D, H] : [D, Bn, H];
  return [
    ctx.wants(0) ? out(batchFirst ? [Bn, S, D, H] : [S, D, Bn, H], Y) : undefined,
    ctx.wants(1) ? out(stateShape, Yh) : undefined,
    G === 4 && ctx.wants(2) ? out(stateShape, Yc) : undefined,
  ];
}

defineOnnxEvals(['RNN'], (ctx) => runRecurrent(ctx, RNN));
defineOnnxEvals(['GRU'], (ctx) => runRecurrent(ctx, GRU));
defineOnnxEvals(['LSTM'], (ctx) => runRecurrent(ctx, LSTM));
