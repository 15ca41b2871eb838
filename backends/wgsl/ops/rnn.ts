// The recurrent layers RNN, GRU and LSTM as one kernel each: one workgroup per (direction, batch
// row) walks the sequence in order, its threads sharing the hidden units. Each step computes the
// gates of every unit (W·x + Wb + R·h + Rb, in f32), then, after a barrier, the new state; the
// state lives in a scratch storage buffer (any hidden size), so every phase ends with a storage
// barrier. Layout 0 (time-major) and 1 (batch-first), forward / reverse / bidirectional,
// sequence_lens (steps past a row's length leave zeros in Y and keep the state), initial states,
// peepholes, linear_before_reset, input_forget, clip and the activation list with its
// alpha/beta values read as the interpreter (ir/interp/ops/rnn.ts) reads them.
import type { ActivationParam } from '../../../ir/interp/ops/rnn.ts';
import { recurrentActivations } from '../../../ir/interp/ops/rnn.ts';
import type { Kernel } from '../kernel.ts';
import type { LowerContext, StaticTensor } from '../lowering.ts';
import type { CellSpec } from '../../shared/rnn-plan.ts';
import { CELLS, recurrentGeometry, recurrentOperands } from '../../shared/rnn-plan.ts';
import { defineOnnxWgsl } from '../lowering.ts';
import type { BoundVar } from '../template.ts';
import { buildKernel, elementDispatch, grid, threadIndex, WORKGROUP_INDEX } from '../template.ts';
import { elemOf, readVar, writeVar } from './common.ts';
import { f, u } from './kernel-util.ts';

const HELPERS = [
  'fn rnn_sigmoid(x: f32) -> f32 { if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); } let e = exp(x); return e / (1.0 + e); }',
  'fn rnn_tanh(x: f32) -> f32 { if (abs(x) > 10.0) { return sign(x); } return tanh(x); }',
  'fn rnn_log1p(x: f32) -> f32 { let v = 1.0 + x; if (v == 1.0) { return x; } return log(v) * x / (v - 1.0); }',
  'fn rnn_softplus(x: f32) -> f32 { if (x > 0.0) { return x + rnn_log1p(exp(-x)); } return rnn_log1p(exp(x)); }',
];

/** The WGSL expression of an activation applied to `x`, alpha/beta taken in the interpreter's order. */
function activationExpr(ctx: LowerContext, name: string, next: ActivationParam): (x: string) => string {
  switch (name.toLowerCase()) {
    case 'sigmoid': return (x) => `rnn_sigmoid(${x})`;
    case 'tanh': return (x) => `rnn_tanh(${x})`;
    case 'relu': return (x) => `max(${x}, 0.0)`;
    case 'softsign': return (x) => `(${x}) / (1.0 + abs(${x}))`;
    case 'softplus': return (x) => `rnn_softplus(${x})`;
    case 'affine': {
      const a = next('alpha', 1);
      const b = next('beta', 0);
      return (x) => `(${f(a)} * (${x}) + ${f(b)})`;
    }
    case 'leakyrelu': {
      const a = next('alpha', 0.01);
      return (x) => `select(${f(a)} * (${x}), ${x}, ${x} >= 0.0)`;
    }
    case 'thresholdedrelu': {
      const a = next('alpha', 1);
      return (x) => `select(0.0, ${x}, ${x} > ${f(a)})`;
    }
    case 'scaledtanh': {
      const a = next('alpha', 1);
      const b = next('beta', 1);
      return (x) => `(${f(a)} * rnn_tanh(${f(b)} * (${x})))`;
    }
    case 'hardsigmoid': {
      const a = next('alpha', 0.2);
      const b = next('beta', 0.5);
      return (x) => `clamp(${f(a)} * (${x}) + ${f(b)}, 0.0, 1.0)`;
    }
    case 'elu': {
      const a = next('alpha', 1);
      return (x) => `select(${f(a)} * (exp(${x}) - 1.0), ${x}, ${x} >= 0.0)`;
    }
    default: return ctx.unsupported(`unknown recurrent activation '${name}'`);
  }
}

/** Each direction's activations (as the interpreter's `activations`). */
function activations(ctx: LowerContext, defaults: readonly string[], dirs: number): ((x: string) => string)[][] {
  return recurrentActivations(ctx, defaults, dirs, (why) => ctx.unsupported(why), (n, next) => activationExpr(ctx, n, next));
}

function lowerRecurrent(ctx: LowerContext, cell: CellSpec): Kernel[] {
  const operands = recurrentOperands(ctx, cell);
  const { x, w, r, bias, lens, h0, c0, peep, yOut, yhOut, ycOut } = operands;
  if (elemOf(ctx, x) !== 'f32' && elemOf(ctx, x) !== 'f16') ctx.unsupported(`${cell.op} on ${x.dtype}`);
  const { batchFirst, direction, S, Bn, I, H, D, G } = recurrentGeometry(ctx, cell, operands);
  if (!yOut && !yhOut && !ycOut) return [];
  if (D * Bn === 0 || H === 0) return [];
  const acts = activations(ctx, cell.defaults, D);
  const clipAt = ctx.attr('clip') ? ctx.float('clip') : undefined;
  const clip = (v: string) => (clipAt === undefined ? v : `clamp(${v}, ${f(-clipAt)}, ${f(clipAt)})`);
  const linearBeforeReset = ctx.int('linear_before_reset', 0) !== 0;
  const inputForget = ctx.int('input_forget', 0) !== 0;

  // The state scratch, per (direction, batch) unit: h, c, new h, and GRU's z and r⊙h, H each;
  // then the biases [D, 2GH], the peepholes [D, 3H] and the sequence lengths [B] (as f32),
  // copied there by a first kernel so the step kernel binds at most 7 storage buffers.
  const SLOTS = 5;
  const units = D * Bn;
  const stateLen = units * SLOTS * H;
  const biasOff = stateLen;
  const peepOff = biasOff + (bias ? D * 2 * G * H : 0);
  const lensOff = peepOff + (peep ? D * 3 * H : 0);
  const total = lensOff + (lens ? Bn : 0);
  const scratch: BoundVar = { name: 'st', binding: { value: `${ctx.node.name}/rnn_state`, access: 'read_write', elem: 'f32', scratchBytes: total * 4 } };
  const stateAt = batchFirst ? `(b * ${u(D)} + d) * ${u(H)}` : `(d * ${u(Bn)} + b) * ${u(H)}`;

  const initVars: BoundVar[] = [];
  const opt = (name: string, t: StaticTensor | undefined) => {
    if (t) initVars.push(readVar(ctx, name, t));
  };
  opt('bs', bias);
  opt('lens', lens);
  opt('h0', h0);
  opt('c0', c0);
  opt('pp', peep);
  initVars.push(scratch);
  const initN = Math.max(units * H, D * 2 * G * H, D * 3 * H, Bn);
  const IWG = 64;
  const init = buildKernel({
    name: ctx.kernelName(`${cell.op.toLowerCase()}_init`),
    node: ctx.node.name,
    op: ctx.node.op,
    key: `${cell.op.toLowerCase()}_init`,
    vars: initVars,
    uniforms: [],
    workgroupSize: IWG,
    body: [
      `  let i = ${threadIndex(IWG)};`,
      `  if (i < ${u(units * H)}) {`,
      `    let unit = i / ${u(H)};`,
      `    let j = i % ${u(H)};`,
      `    let d = unit / ${u(Bn)};`,
      `    let b = unit % ${u(Bn)};`,
      `    let so = ${stateAt};`,
      `    let sb = unit * ${u(SLOTS * H)};`,
      `    st[sb + j] = ${h0 ? 'f32(h0[so + j])' : '0.0'};`,
      `    st[sb + ${u(H)} + j] = ${c0 ? 'f32(c0[so + j])' : '0.0'};`,
      '  }',
      ...(bias ? [`  if (i < ${u(D * 2 * G * H)}) { st[${u(biasOff)} + i] = f32(bs[i]); }`] : []),
      ...(peep ? [`  if (i < ${u(D * 3 * H)}) { st[${u(peepOff)} + i] = f32(pp[i]); }`] : []),
      ...(lens ? [`  if (i < ${u(Bn)}) { st[${u(lensOff)} + i] = f32(clamp(i32(lens[i]), 0, ${S})); }`] : []),
    ].join('\n'),
    dispatch: elementDispatch(initN, IWG, ctx.caps),
  });

  // The step kernel's bindings: operands read, the scratch, results written.
  // The scratch is declared (scratchBytes) by the init kernel only; this one binds it by name.
  const stateVar: BoundVar = { name: 'st', binding: { value: scratch.binding.value, access: 'read_write', elem: 'f32' } };
  const vars: BoundVar[] = [readVar(ctx, 'xs', x), readVar(ctx, 'wt', w), readVar(ctx, 'rt', r), stateVar];
  const outVar = (name: string, t: StaticTensor | undefined) => {
    if (t) vars.push(writeVar(ctx, name, t));
  };
  outVar('yo', yOut);
  outVar('yh', yhOut);
  outVar('yc', ycOut);
  const elemOfVar = new Map(vars.map((v) => [v.name, v.binding.elem]));
  const store = (name: string, v: string) => `${elemOfVar.get(name)}(${v})`;

  let wg = 32;
  while (wg < H && wg < 256) wg *= 2;
  wg = Math.min(wg, ctx.caps.maxWorkgroupInvocations || 256);

  // Offsets (u32 WGSL) of X row (t, b), state row (d, b) and Y row (t, d, b).
  const xAt = (t: string) => (batchFirst ? `(b * ${u(S)} + ${t}) * ${u(I)}` : `(${t} * ${u(Bn)} + b) * ${u(I)}`);
  const yAt = (t: string) => (batchFirst ? `((b * ${u(S)} + ${t}) * ${u(D)} + d) * ${u(H)}` : `((${t} * ${u(D)} + d) * ${u(Bn)} + b) * ${u(H)}`);
  const slot = (k: number, j: string) => `st[sb + ${u(k * H)} + ${j}]`;
  const [H_, C_, N_, Z_, RH_] = [0, 1, 2, 3, 4];

  const helpers = [
    ...HELPERS,
    // W·x_t + Wb for gate row `row` of direction d (Wb = B[d, row]).
    `fn gx(d: u32, row: u32, xo: u32) -> f32 {
  var s = ${bias ? `st[${u(biasOff)} + d * ${u(2 * G * H)} + row]` : '0.0'};
  let wo = (d * ${u(G * H)} + row) * ${u(I)};
  for (var i = 0u; i < ${u(I)}; i++) { s += f32(wt[wo + i]) * f32(xs[xo + i]); }
  return s;
}`,
    // R[d, row, :]·v + Rb[d, row], v the state slot `k` of the unit at `sb`.
    `fn rdot(d: u32, row: u32, sb: u32, k: u32) -> f32 {
  var s = ${bias ? `st[${u(biasOff)} + d * ${u(2 * G * H)} + ${u(G * H)} + row]` : '0.0'};
  let ro = (d * ${u(G * H)} + row) * ${u(H)};
  for (var i = 0u; i < ${u(H)}; i++) { s += f32(rt[ro + i]) * st[sb + k * ${u(H)} + i]; }
  return s;
}`,
  ];

  const barrier = '    storageBarrier();\n    workgroupBarrier();';
  // Inactive steps (past the row's length) skip the units' work but still reach every barrier.
  const perUnit = (lines: string[]) => [`    for (var j = j0; j < ${u(H)}; j += ${u(wg)}) {`, ...lines.map((l) => `      ${l}`), '    }'].join('\n');

  // The step body for direction `dExpr` of a given activation set: phases separated by barriers.
  const stepFor = (a: ((x: string) => string)[]): string => {
    const phases: string[] = [];
    if (cell.op === 'RNN') {
      phases.push(perUnit([`let pre = ${clip('gx(d, j, xo) + rdot(d, j, sb, 0u)')};`, `${slot(N_, 'j')} = ${a[0]!('pre')};`]));
    } else if (cell.op === 'GRU') {
      const [fa, ga] = a as [(x: string) => string, (x: string) => string];
      const first = [
        `let pz = ${clip('gx(d, j, xo) + rdot(d, j, sb, 0u)')};`,
        `let z = ${fa('pz')};`,
        `let pr = ${clip(`gx(d, ${u(H)} + j, xo) + rdot(d, ${u(H)} + j, sb, 0u)`)};`,
        `let rg = ${fa('pr')};`,
        `${slot(Z_, 'j')} = z;`,
        `${slot(RH_, 'j')} = rg * ${slot(H_, 'j')};`,
      ];
      if (linearBeforeReset) {
        first.push(`let ph = ${clip(`gx(d, ${u(2 * H)} + j, xo) + rg * rdot(d, ${u(2 * H)} + j, sb, 0u)`)};`, `let hh = ${ga('ph')};`, `${slot(N_, 'j')} = (1.0 - z) * hh + z * ${slot(H_, 'j')};`);
        phases.push(perUnit(first));
      } else {
        phases.push(perUnit(first));
        phases.push(
          perUnit([
            `let ph = ${clip(`gx(d, ${u(2 * H)} + j, xo) + rdot(d, ${u(2 * H)} + j, sb, ${u(RH_)})`)};`,
            `let hh = ${ga('ph')};`,
            `let z = ${slot(Z_, 'j')};`,
            `${slot(N_, 'j')} = (1.0 - z) * hh + z * ${slot(H_, 'j')};`,
          ]),
        );
      }
    } else {
      const [fa, ga, ha] = a as [(x: string) => string, (x: string) => string, (x: string) => string];
      const pe = (k: number) => (peep ? `st[${u(peepOff)} + d * ${u(3 * H)} + ${u(k * H)} + j]` : '0.0');
      const lines = [
        `let cp = ${slot(C_, 'j')};`,
        `let pi = ${clip(`gx(d, j, xo) + rdot(d, j, sb, 0u) + ${pe(0)} * cp`)};`,
        `let ig = ${fa('pi')};`,
        ...(inputForget
          ? ['let fg = 1.0 - ig;']
          : [`let pf = ${clip(`gx(d, ${u(2 * H)} + j, xo) + rdot(d, ${u(2 * H)} + j, sb, 0u) + ${pe(2)} * cp`)};`, `let fg = ${fa('pf')};`]),
        `let pc = ${clip(`gx(d, ${u(3 * H)} + j, xo) + rdot(d, ${u(3 * H)} + j, sb, 0u)`)};`,
        `let cc = ${ga('pc')};`,
        'let cn = fg * cp + ig * cc;',
        `let po = ${clip(`gx(d, ${u(H)} + j, xo) + rdot(d, ${u(H)} + j, sb, 0u) + ${pe(1)} * cn`)};`,
        `let og = ${fa('po')};`,
        `${slot(N_, 'j')} = og * ${ha('cn')};`,
        // c[j] is read only by this thread (the unit's own peephole and update).
        `${slot(C_, 'j')} = cn;`,
      ];
      phases.push(perUnit(lines));
    }
    return phases.join(`\n${barrier}\n`);
  };

  const stepBody = (d: number) => stepFor(acts[d]!);
  const sameActs = D === 1 || stepBody(0) === stepBody(1);
  const step = sameActs ? stepBody(0) : `    if (d == 0u) {\n${stepBody(0)}\n    } else {\n${stepBody(1)}\n    }`;
  // Directions with different activations take different branches, but d is uniform in the
  // workgroup, so the barriers inside stay in uniform control flow.
  const reverse = direction === 'reverse' ? 'true' : direction === 'bidirectional' ? 'd == 1u' : 'false';

  const body = [
    `  let unit = ${WORKGROUP_INDEX};`,
    `  if (unit >= ${u(units)}) { return; }`,
    `  let d = unit / ${u(Bn)};`,
    `  let b = unit % ${u(Bn)};`,
    `  let sb = unit * ${u(SLOTS * H)};`,
    `  let so = ${stateAt};`,
    `  let len = ${lens ? `u32(st[${u(lensOff)} + b])` : u(S)};`,
    `  let rev = ${reverse};`,
    `  for (var s = 0u; s < ${u(S)}; s++) {`,
    '    let live = s < len;',
    '    let t = select(s, len - 1u - s, rev && live);',
    `    let xo = ${xAt('t')};`,
    `    let j0 = select(${u(H)}, lid.x, live);`,
    step,
    barrier,
    `    for (var j = lid.x; j < ${u(H)}; j += ${u(wg)}) {`,
    `      if (live) { ${slot(H_, 'j')} = ${slot(N_, 'j')}; }`,
    ...(yOut ? [`      yo[${yAt('t')} + j] = ${store('yo', `select(0.0, ${slot(N_, 'j')}, live)`)};`] : []),
    '    }',
    barrier,
    '  }',
    `  for (var j = lid.x; j < ${u(H)}; j += ${u(wg)}) {`,
    ...(yhOut ? [`    yh[so + j] = ${store('yh', slot(H_, 'j'))};`] : []),
    ...(ycOut ? [`    yc[so + j] = ${store('yc', slot(C_, 'j'))};`] : []),
    '  }',
  ];
  return [
    init,
    buildKernel({
      name: ctx.kernelName(cell.op.toLowerCase()),
      node: ctx.node.name,
      op: ctx.node.op,
      key: `${cell.op.toLowerCase()}/S${S}B${Bn}I${I}H${H}D${D}`,
      vars,
      uniforms: [],
      workgroupSize: wg,
      helpers,
      body: body.join('\n'),
      dispatch: grid(units, ctx.caps),
    }),
  ];
}

defineOnnxWgsl(['RNN'], (ctx) => lowerRecurrent(ctx, CELLS.RNN!));
defineOnnxWgsl(['GRU'], (ctx) => lowerRecurrent(ctx, CELLS.GRU!));
defineOnnxWgsl(['LSTM'], (ctx) => lowerRecurrent(ctx, CELLS.LSTM!));
