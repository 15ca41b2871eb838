// Signal processing as the interpreter defines it (ir/interp/ops/signal.ts): DFT (opset 17 with
// `axis` an attribute, 20 with it an operand), STFT, the Hann / Hamming / Blackman windows and
// MelWeightMatrix. Complex values are a trailing dim of 2, real input a trailing dim of 1. The
// transforms are direct O(n²) sums, one thread per output bin, with twiddles computed in the
// shader from the exact integer (k·m mod n) in f32.
//
// Scalar operands that size a result (dft_length, frame_length, a window's size, the mel
// parameters) may be graph inputs: the result's shape is then fixed by specialization, and the
// kernel reads the scalar from its buffer at run time (i64 held as i32). Where they are
// constants, lower.ts has usually folded the whole node (windows, MelWeightMatrix); otherwise
// the value is baked into the WGSL.
import { fromConst, toNumbers } from '../../../ir/interp/tensor.ts';
import { dftGeometry } from '../../shared/signal-plan.ts';
import { numElements } from '../index-helper.ts';
import type { Kernel } from '../kernel.ts';
import type { LowerContext } from '../lowering.ts';
import { defineOnnxWgsl } from '../lowering.ts';
import type { BoundVar } from '../template.ts';
import { perElementKernel } from '../template.ts';
import { readVar, writeVar } from './common.ts';
import { ctypeOf } from './ew-table.ts';
import { f, u } from './kernel-util.ts';

const TWO_PI = f(2 * Math.PI);

function perElement(ctx: LowerContext, what: string, key: string, n: number, vars: BoundVar[], body: string[], helpers: string[] = []): Kernel[] {
  return perElementKernel(ctx, what, key, n, vars, body, { helpers });
}

/**
 * A scalar operand as a WGSL expression of type `type`: a literal where it is a constant, else a
 * read of its buffer (bound as `name`, pushed onto `vars`). Undefined where omitted.
 */
function scalarOperand(ctx: LowerContext, i: number, name: string, vars: BoundVar[], type: 'i32' | 'f32'): string | undefined {
  if (!ctx.node.inputs[i]) return undefined;
  const c = ctx.constant(i);
  if (c) {
    const v = toNumbers(fromConst(c));
    if (v.length !== 1) ctx.unsupported(`${ctx.node.op}'s operand ${i} must be a scalar`);
    return type === 'i32' ? `${Math.trunc(v[0]!) | 0}` : f(v[0]!);
  }
  const t = ctx.input(i)!;
  if (numElements(t.shape) !== 1) ctx.unsupported(`${ctx.node.op}'s operand ${i} must be a scalar`);
  const v = readVar(ctx, name, t);
  vars.push(v);
  return `${type}(${name}[0])`;
}

const floatOnly = (ctx: LowerContext, dtype: import('../../../ir/dtype.ts').DType) => {
  if (ctypeOf(dtype) !== 'f32') ctx.unsupported(`${ctx.node.op} on ${dtype}`);
};

/** Twiddle tables are baked for transform lengths up to this (beyond it: f32 cos/sin). */
const MAX_TABLE = 2048;

/** (hi, lo) f32 pair of an f64 value. */
function split(v: number): [number, number] {
  const hi = Math.fround(v);
  return [hi, Math.fround(v - hi)];
}

/**
 * Helpers for the transform sums. Results often cancel to 0 out of large terms (the DFT of a
 * ramp), so f32 sums would miss the interpreter's f64 by more than the tolerance: the sums are
 * kept as double-f32 (hi, lo) pairs with exact products (fma) and exact additions (two-sum), and
 * the twiddles cos/sin(2πj/n) come from tables computed here in f64 and stored as (hi, lo)
 * pairs, one per length the result's static shape allows (`lengths`), chosen at run time by n.
 */
function dftHelpers(lengths: readonly number[]): string[] {
  const tables = lengths.filter((n) => n >= 1 && n <= MAX_TABLE);
  const out = [
    'fn df_two_sum(a: f32, b: f32) -> vec2<f32> { let s = a + b; let bb = s - a; return vec2<f32>(s, (a - (s - bb)) + (b - bb)); }',
    // acc += x·(c.x + c.y), the product exact through fma.
    `fn df_mac(acc: vec2<f32>, x: f32, c: vec2<f32>) -> vec2<f32> {
  let p = x * c.x;
  let e = fma(x, c.x, -p);
  let s = df_two_sum(acc.x, p);
  return df_two_sum(s.x, s.y + acc.y + e + x * c.y);
}`,
  ];
  tables.forEach((n, t) => {
    const items: string[] = [];
    for (let j = 0; j < n; j++) {
      const [ch, cl] = split(Math.cos((2 * Math.PI * j) / n));
      const [sh, sl] = split(Math.sin((2 * Math.PI * j) / n));
      items.push(`vec4<f32>(${f(ch)}, ${f(cl)}, ${f(sh)}, ${f(sl)})`);
    }
    out.push(`const TW${t} = array<vec4<f32>, ${n}>(${items.join(', ')});`);
  });
  out.push(
    `fn twiddle(j: u32, n: u32) -> vec4<f32> {
${tables.map((n, t) => `  if (n == ${u(n)}) { return TW${t}[j]; }`).join('\n')}
  let ang = ${TWO_PI} * f32(j) / f32(n);
  return vec4<f32>(cos(ang), 0.0, sin(ang), 0.0);
}`,
  );
  return out;
}

/**
 * WGSL accumulating (sr, si) = Σ_{m < count} x[m]·e^{sign·2πi·k·m/n}, x read as (re, im) by
 * `xre(m)`, `xim(m)` (im undefined: real), `n` an i32 expression.
 */
function dftLoop(count: string, n: string, sign: number, xre: (m: string) => string, xim: ((m: string) => string) | undefined): string[] {
  const neg = sign < 0 ? '-' : '';
  return [
    'var ar = vec2<f32>(0.0, 0.0);',
    'var ai = vec2<f32>(0.0, 0.0);',
    `let nn = u32(${n});`,
    `for (var m = 0u; m < ${count}; m++) {`,
    '  let tw = twiddle((k * m) % nn, nn);',
    // e^{sign·iθ} = c + i·s with s = sign·sin θ.
    `  let c = tw.xy;`,
    `  let s = ${neg}tw.zw;`,
    `  let xr = ${xre('m')};`,
    ...(xim
      ? [`  let xi = ${xim('m')};`, '  ar = df_mac(df_mac(ar, xr, c), -xi, s);', '  ai = df_mac(df_mac(ai, xr, s), xi, c);']
      : ['  ar = df_mac(ar, xr, c);', '  ai = df_mac(ai, xr, s);']),
    '}',
    'let sr = ar.x + ar.y;',
    'let si = ai.x + ai.y;',
  ];
}

/** The transform lengths n a result of `bins` bins allows (onesided: ⌊n/2⌋ + 1 = bins). */
const lengthsFor = (bins: number, onesided: boolean, known?: number): number[] =>
  known !== undefined ? [known] : onesided ? [2 * (bins - 1), 2 * (bins - 1) + 1].filter((n) => n >= 1) : [bins];

defineOnnxWgsl(['DFT'], (ctx) => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  floatOnly(ctx, x.dtype);
  const { cw, inverse, len, bins, outer, inner } = dftGeometry(ctx, x, y, 'WGSL');
  const onesided = ctx.int('onesided', 0) !== 0;
  const xv = readVar(ctx, 'x', x);
  const yv = writeVar(ctx, 'y', y);
  const vars = [xv, yv];
  // dft_length: a constant, a graph input read at run time, or the axis length.
  const n = scalarOperand(ctx, 1, 'dl', vars, 'i32') ?? `${len}`;
  const known = !ctx.node.inputs[1] ? len : ctx.constant(1) ? Number(n) : undefined;
  const load = (at: string) => (xv.binding.elem === 'f32' ? `x[${at}]` : `f32(x[${at}])`);
  const xAt = (m: string) => `((o * ${u(len)} + ${m}) * ${u(inner)} + i) * ${u(cw)}`;
  const body = [
    `let i = flat % ${u(inner)};`,
    `let k = (flat / ${u(inner)}) % ${u(bins)};`,
    `let o = flat / ${u(inner * bins)};`,
    `let cnt = min(${u(len)}, u32(${n}));`,
    ...dftLoop('cnt', n, inverse ? 1 : -1, (m) => load(xAt(m)), cw === 2 ? (m) => load(`${xAt(m)} + 1u`) : undefined),
    `let scale = ${inverse ? `1.0 / f32(${n})` : '1.0'};`,
    `y[flat * 2u] = ${yv.binding.elem}(sr * scale);`,
    `y[flat * 2u + 1u] = ${yv.binding.elem}(si * scale);`,
  ];
  return perElement(ctx, 'dft', `${cw}/${inverse}`, outer * bins * inner, vars, body, dftHelpers(lengthsFor(bins, onesided, known)));
});

defineOnnxWgsl(['STFT'], (ctx) => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  floatOnly(ctx, x.dtype);
  if (x.shape.length !== 3) return ctx.unsupported(`signal must be [batch, length, 1 or 2], got [${x.shape.join(', ')}]`);
  const [batch, L, cw] = x.shape as [number, number, number];
  const [, frames, bins] = y.shape as [number, number, number];
  const xv = readVar(ctx, 'x', x);
  const yv = writeVar(ctx, 'y', y);
  const vars = [xv, yv];
  const step = scalarOperand(ctx, 1, 'fs', vars, 'i32')!;
  const win = ctx.node.inputs[2] ? ctx.input(2) : undefined;
  const wv = win ? readVar(ctx, 'win', win) : undefined;
  if (wv) vars.push(wv);
  // The frame length: the window's (static) length, else the frame_length operand.
  const n = win ? `${win.shape[0]!}` : scalarOperand(ctx, 3, 'fl', vars, 'i32') ?? ctx.unsupported('STFT needs a window or a frame_length');
  const known = win || ctx.constant(3) ? Number(n) : undefined;
  const onesided = ctx.int('onesided', 1) !== 0;
  const load = (v: BoundVar, at: string) => (v.binding.elem === 'f32' ? `${v.name}[${at}]` : `f32(${v.name}[${at}])`);
  const wAt = (m: string) => (wv ? ` * ${load(wv, m)}` : '');
  const xAt = (m: string) => `(b * ${u(L)} + fr * u32(${step}) + ${m}) * ${u(cw)}`;
  const body = [
    `let k = flat % ${u(bins)};`,
    `let fr = (flat / ${u(bins)}) % ${u(frames)};`,
    `let b = flat / ${u(bins * frames)};`,
    ...dftLoop(`u32(${n})`, n, -1, (m) => `${load(xv, xAt(m))}${wAt(m)}`, cw === 2 ? (m) => `${load(xv, `${xAt(m)} + 1u`)}${wAt(m)}` : undefined),
    `y[flat * 2u] = ${yv.binding.elem}(sr);`,
    `y[flat * 2u + 1u] = ${yv.binding.elem}(si);`,
  ];
  return perElement(ctx, 'stft', `${cw}/${wv ? 'w' : 'nw'}`, batch * frames * bins, vars, body, dftHelpers(lengthsFor(bins, onesided, known)));
});

/** A cosine-sum window Σ_k (−1)^k a_k cos(2πkj/N), N = size (periodic) or size − 1 (symmetric). */
function cosineWindow(ctx: LowerContext, a: readonly number[]): Kernel[] {
  const y = ctx.output(0)!;
  const yv = writeVar(ctx, 'y', y);
  const vars = [yv];
  const size = scalarOperand(ctx, 0, 'sz', vars, 'i32')!;
  const periodic = ctx.int('periodic', 1) !== 0;
  const terms = a.map((c, k) => (k === 0 ? f(c) : `${k % 2 ? '-' : '+'} ${f(c)} * cos(${TWO_PI} * f32((${k}u * flat) % nn) / f32(nn))`));
  const e = yv.binding.elem;
  // Integer results truncate toward zero, as the interpreter's C-style cast.
  return perElement(ctx, 'window', `${a.length}/${periodic}/${e}`, numElements(y.shape), vars, [
    `let nn = u32(${size}${periodic ? '' : ' - 1'});`,
    `let v = ${terms.join(' ')};`,
    `y[flat] = ${e}(v);`,
  ]);
}

defineOnnxWgsl(['HannWindow'], (ctx) => cosineWindow(ctx, [0.5, 0.5]));
defineOnnxWgsl(['HammingWindow'], (ctx) => cosineWindow(ctx, [25 / 46, 21 / 46]));
defineOnnxWgsl(['BlackmanWindow'], (ctx) => cosineWindow(ctx, [0.42, 0.5, 0.08]));

// MelWeightMatrix: element (j, i) of the [spectrogram bins, mel bins] result computes the three
// points of filter i (num_mel_bins + 2 points evenly spaced in mel, each mapped to the bin
// ⌊(dft_length + 1)·hz / sample_rate⌋) and its triangle's value at j: rising from point i to
// point i+1 (1 at its peak), falling to point i+2.
defineOnnxWgsl(['MelWeightMatrix'], (ctx) => {
  const y = ctx.output(0)!;
  const yv = writeVar(ctx, 'y', y);
  const vars = [yv];
  const mels = scalarOperand(ctx, 0, 'nm', vars, 'i32')!;
  const dftLength = scalarOperand(ctx, 1, 'dl', vars, 'i32')!;
  const rate = scalarOperand(ctx, 2, 'sr', vars, 'f32')!;
  const lo = scalarOperand(ctx, 3, 'lo', vars, 'f32')!;
  const hi = scalarOperand(ctx, 4, 'hi', vars, 'f32')!;
  const [specBins, M] = y.shape as [number, number];
  const e = yv.binding.elem;
  const helper = `fn mel_point(p: i32, lo_mel: f32, step_mel: f32, dft: i32, rate: f32) -> i32 {
  let hz = 700.0 * (pow(10.0, (f32(p) * step_mel + lo_mel) / 2595.0) - 1.0);
  return i32(floor(f32(dft + 1) * hz / rate));
}
fn to_mel(hz: f32) -> f32 { return 2595.0 * log(1.0 + hz / 700.0) / ${f(Math.LN10)}; }`;
  return perElement(
    ctx,
    'melweight',
    e,
    specBins * M,
    vars,
    [
      `let i = i32(flat % ${u(M)});`,
      `let j = i32(flat / ${u(M)});`,
      `let mels = ${mels};`,
      `let dft = ${dftLength};`,
      `let rate = ${rate};`,
      `let lo_mel = to_mel(${lo});`,
      `let step_mel = (to_mel(${hi}) - lo_mel) / f32(mels + 2);`,
      'let pl = mel_point(i, lo_mel, step_mel, dft, rate);',
      'let pc = mel_point(i + 1, lo_mel, step_mel, dft, rate);',
      'let ph = mel_point(i + 2, lo_mel, step_mel, dft, rate);',
      'var v = 0.0;',
      'if (j == pc) { v = 1.0; }',
      'else if (j >= pl && j < pc) { v = f32(j - pl) / f32(pc - pl); }',
      'else if (j > pc && j < ph) { v = f32(ph - j) / f32(ph - pc); }',
      `y[flat] = ${e}(v);`,
    ],
    [helper],
  );
});
