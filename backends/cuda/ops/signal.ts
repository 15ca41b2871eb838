// Signal processing as the interpreter defines it (ir/interp/ops/signal.ts): DFT (opset 17 with
// `axis` an attribute, 20 with it an operand), STFT, the Hann / Hamming / Blackman windows and
// MelWeightMatrix. Complex values are a trailing dim of 2, real input a trailing dim of 1. The
// transforms are direct O(n²) sums, one thread per output bin, in double as the interpreter's
// (the sums often cancel to 0 out of large terms), with each twiddle computed from the exact
// integer (k·m mod n).
//
// Scalar operands that size a result (dft_length, frame_length, a window's size, the mel
// parameters) may be graph inputs: the result's shape is then fixed by specialization and the
// kernel reads what it still needs from the buffer. Where they are constants the value is baked
// in (the driver has usually folded a node whose operands are all constants).
import { fromConst, toNumbers } from '../../../ir/interp/tensor.ts';
import { dftGeometry } from '../../shared/signal-plan.ts';
import type { CudaBinding, CudaElem } from '../kernel.ts';
import type { CudaContext } from '../lowering.ts';
import { defineOnnxCuda } from '../lowering.ts';
import { elemOf, literal, load, numElements, perElementKernel, readBinding, storeD, u, writeBinding } from './index-util.ts';

// sin(πx) and cos(πx): CUDA's sincospi reduces the argument exactly (cos/sin of a large double
// take a slow path through local memory; separate sinpi/cospi calls spill at sm_90). The CPU
// harness has no sincospi.
const TRIG_PI = `__device__ __forceinline__ void lathe_sincospi(double x, double* s, double* c) {
#ifdef LATHE_CUDA_CPU
  *s = sin(3.141592653589793 * x);
  *c = cos(3.141592653589793 * x);
#else
  sincospi(x, s, c);
#endif
}
__device__ __forceinline__ double lathe_cospi(double x) {
  double s, c;
  lathe_sincospi(x, &s, &c);
  return c;
}`;

/**
 * A scalar operand as a C double expression: a literal where it is a constant, else a read of its
 * buffer (bound as `param`, pushed onto `bindings`). Undefined where omitted.
 */
function scalarOperand(ctx: CudaContext, i: number, param: string, bindings: CudaBinding[]): string | undefined {
  if (!ctx.node.inputs[i]) return undefined;
  const c = ctx.constant(i);
  if (c) {
    const v = toNumbers(fromConst(c));
    if (v.length !== 1) return ctx.unsupported(`${ctx.node.op}'s operand ${i} must be a scalar`);
    return literal(v[0]!, 'f64');
  }
  const t = ctx.input(i)!;
  if (numElements(t.shape) !== 1) return ctx.unsupported(`${ctx.node.op}'s operand ${i} must be a scalar`);
  bindings.push(readBinding(ctx, param, t));
  return `(double)${load(`${param}[0]`, elemOf(ctx, t))}`;
}

/** The same as an integer (long long) expression. */
const asInt = (v: string) => `(long long)(${v})`;

/**
 * C accumulating (sr, si) = Σ_{m < count} x[m]·e^{sign·2πi·k·m/n} in double, x read as (re, im) by
 * `xre(m)`, `xim(m)` (im undefined: real), `n` an unsigned variable ≥ 1.
 */
function dftLoop(count: string, sign: number, xre: (m: string) => string, xim: ((m: string) => string) | undefined): string[] {
  return [
    // j = k·m mod n, stepped by k (< n) each term: no 64-bit products, no division in the loop.
    'const unsigned kn = k % n;',
    'unsigned j = 0u;',
    'double sr = 0.0, si = 0.0;',
    // Unrolled, the double sincospi calls of a short transform spill at sm_90.
    '#ifdef __CUDA_ARCH__',
    '#pragma unroll 1',
    '#endif',
    `for (unsigned m = 0u; m < ${count}; ++m) {`,
    '  const double ang = (2.0 * (double)j) / (double)n;',
    '  j += kn;',
    '  if (j >= n) j -= n;',
    '  double s, c;',
    '  lathe_sincospi(ang, &s, &c);',
    ...(sign < 0 ? ['  s = -s;'] : []),
    `  const double xr = ${xre('m')};`,
    ...(xim ? [`  const double xi = ${xim('m')};`, '  sr += xr * c - xi * s;', '  si += xr * s + xi * c;'] : ['  sr += xr * c;', '  si += xr * s;']),
    '}',
  ];
}

defineOnnxCuda(['DFT'], (ctx) => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  const xe = elemOf(ctx, x);
  if (xe === 'bool') return ctx.unsupported('DFT on bool');
  const { cw, inverse, len, bins, outer, inner } = dftGeometry(ctx, x, y, 'CUDA');
  const total = outer * bins * inner;
  if (total === 0) return [];
  const bindings: CudaBinding[] = [readBinding(ctx, 'x', x), writeBinding(ctx, 'y', y)];
  // dft_length: a constant, a graph input read at run time, or the axis length (n ≥ 1 is
  // required; a smaller run-time value is raised to 1 so nothing divides by zero).
  const dl = scalarOperand(ctx, 1, 'dl', bindings);
  const ye = elemOf(ctx, y);
  const ld = (at: string) => `(double)${load(`x[${at}]`, xe)}`;
  const xAt = (m: string) => `((o * ${u(len)} + ${m}) * ${u(inner)} + i) * ${u(cw)}`;
  const body = [
    `const unsigned i = flat % ${u(inner)};`,
    `const unsigned k = (flat / ${u(inner)}) % ${u(bins)};`,
    `const unsigned o = flat / ${u(inner * bins)};`,
    ...(dl ? [`const long long nr = ${asInt(dl)};`, 'const unsigned n = nr < 1 ? 1u : (nr > 0x7fffffffll ? 0x7fffffffu : (unsigned)nr);'] : [`const unsigned n = ${u(len)};`]),
    `const unsigned cnt = n < ${u(len)} ? n : ${u(len)};`,
    ...dftLoop('cnt', inverse ? 1 : -1, (m) => ld(xAt(m)), cw === 2 ? (m) => ld(`${xAt(m)} + 1u`) : undefined),
    `const double scale = ${inverse ? '1.0 / (double)n' : '1.0'};`,
    `y[flat * 2u] = ${storeD('sr * scale', ye)};`,
    `y[flat * 2u + 1u] = ${storeD('si * scale', ye)};`,
  ];
  return [perElementKernel(ctx, 'dft', bindings, total, body, [TRIG_PI])];
});

defineOnnxCuda(['STFT'], (ctx) => {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  const xe = elemOf(ctx, x);
  if (xe === 'bool') return ctx.unsupported('STFT on bool');
  if (x.shape.length !== 3) return ctx.unsupported(`signal must be [batch, length, 1 or 2], got [${x.shape.join(', ')}]`);
  const [, L, cw] = x.shape as [number, number, number];
  const [batch, frames, bins] = y.shape as [number, number, number];
  const total = batch * frames * bins;
  if (total === 0) return [];
  const bindings: CudaBinding[] = [readBinding(ctx, 'x', x), writeBinding(ctx, 'y', y)];
  const step = scalarOperand(ctx, 1, 'fs', bindings)!;
  const win = ctx.node.inputs[2] ? ctx.input(2) : undefined;
  if (win) bindings.push(readBinding(ctx, 'win', win));
  // The frame length: the window's (static) length, else the frame_length operand.
  const fl = win ? `${win.shape[0]!}.0` : scalarOperand(ctx, 3, 'fl', bindings);
  if (fl === undefined) return ctx.unsupported('STFT needs a window or a frame_length');
  const ye = elemOf(ctx, y);
  const we = win ? elemOf(ctx, win) : undefined;
  const wAt = (m: string) => (we ? ` * (double)${load(`win[${m}]`, we)}` : '');
  const xAt = (m: string) => `((unsigned long long)b * ${L}ull + (unsigned long long)fr * stp + ${m}) * ${cw}ull`;
  const ld = (at: string) => `(double)${load(`x[${at}]`, xe)}`;
  const body = [
    `const unsigned k = flat % ${u(bins)};`,
    `const unsigned fr = (flat / ${u(bins)}) % ${u(frames)};`,
    `const unsigned b = flat / ${u(bins * frames)};`,
    `const unsigned long long stp = (unsigned long long)${asInt(step)};`,
    `const long long nr = ${asInt(fl)};`,
    'const unsigned n = nr < 1 ? 1u : (nr > 0x7fffffffll ? 0x7fffffffu : (unsigned)nr);',
    // A frame reaching past the signal (an inconsistent run-time frame_step or length) is cut there.
    `const unsigned long long start = (unsigned long long)b * ${L}ull + (unsigned long long)fr * stp;`,
    `const unsigned long long end = (unsigned long long)(b + 1u) * ${L}ull;`,
    'const unsigned cnt = (unsigned)(start + (unsigned long long)n <= end ? (unsigned long long)n : (start < end ? end - start : 0ull));',
    ...dftLoop('cnt', -1, (m) => `${ld(xAt(m))}${wAt(m)}`, cw === 2 ? (m) => `${ld(`${xAt(m)} + 1ull`)}${wAt(m)}` : undefined),
    `y[flat * 2u] = ${storeD('sr', ye)};`,
    `y[flat * 2u + 1u] = ${storeD('si', ye)};`,
  ];
  return [perElementKernel(ctx, 'stft', bindings, total, body, [TRIG_PI])];
});

/**
 * A cosine-sum window Σ_k (−1)^k a_k cos(2πkj/N), N = size (periodic) or size − 1 (symmetric).
 * The size is the result's static length, so the operand is never read.
 */
function cosineWindow(ctx: CudaContext, a: readonly number[]) {
  const y = ctx.output(0)!;
  const size = y.shape[0]!;
  if (size === 0) return [];
  const N = ctx.int('periodic', 1) !== 0 ? size : size - 1;
  const terms = a.map((c, k) => (k === 0 ? literal(c, 'f64') : `${k % 2 ? '-' : '+'} ${literal(c, 'f64')} * lathe_cospi((${2 * k}.0 * (double)flat) / ${N}.0)`));
  return [perElementKernel(ctx, 'window', [writeBinding(ctx, 'y', y)], size, [`const double v = ${terms.join(' ')};`, `y[flat] = ${storeD('v', elemOf(ctx, y))};`], [TRIG_PI])];
}

defineOnnxCuda(['HannWindow'], (ctx) => cosineWindow(ctx, [0.5, 0.5]));
defineOnnxCuda(['HammingWindow'], (ctx) => cosineWindow(ctx, [25 / 46, 21 / 46]));
defineOnnxCuda(['BlackmanWindow'], (ctx) => cosineWindow(ctx, [0.42, 0.5, 0.08]));

const MEL = `__device__ __forceinline__ double lathe_mel_of_hz(double hz) { return 2595.0 * log10(1.0 + hz / 700.0); }
// Spectrogram bin of mel point p: floor((dft_length + 1)·hz / sample_rate).
__device__ __forceinline__ double lathe_mel_point(double p, double lo_mel, double step_mel, double dft, double rate) {
  const double hz = 700.0 * (pow(10.0, (p * step_mel + lo_mel) / 2595.0) - 1.0);
  return floor(((dft + 1.0) * hz) / rate);
}`;

// MelWeightMatrix: element (j, i) of the [spectrogram bins, mel bins] result computes the three
// points of filter i (num_mel_bins + 2 points evenly spaced in mel) and its triangle's value at j:
// rising from point i to point i+1 (1 at its peak), falling to point i+2.
defineOnnxCuda(['MelWeightMatrix'], (ctx) => {
  const y = ctx.output(0)!;
  const [specBins, M] = y.shape as [number, number];
  if (specBins * M === 0) return [];
  const bindings: CudaBinding[] = [writeBinding(ctx, 'y', y)];
  // num_mel_bins is the result's static width; the others are read.
  const dft = scalarOperand(ctx, 1, 'dl', bindings)!;
  const rate = scalarOperand(ctx, 2, 'sr', bindings)!;
  const lo = scalarOperand(ctx, 3, 'lo', bindings)!;
  const hi = scalarOperand(ctx, 4, 'hi', bindings)!;
  return [
    perElementKernel(ctx, 'melweight', bindings, specBins * M, [
      `const double i = (double)(flat % ${u(M)});`,
      `const double j = (double)(flat / ${u(M)});`,
      `const double dft = (double)${asInt(dft)};`,
      `const double rate = ${rate};`,
      `const double lo_mel = lathe_mel_of_hz(${lo});`,
      `const double step_mel = (lathe_mel_of_hz(${hi}) - lo_mel) / ${M + 2}.0;`,
      'const double pl = lathe_mel_point(i, lo_mel, step_mel, dft, rate);',
      'const double pc = lathe_mel_point(i + 1.0, lo_mel, step_mel, dft, rate);',
      'const double ph = lathe_mel_point(i + 2.0, lo_mel, step_mel, dft, rate);',
      'double v = 0.0;',
      'if (j == pc) v = 1.0;',
      'else if (j >= pl && j < pc) v = (j - pl) / (pc - pl);',
      'else if (j > pc && j < ph) v = (ph - j) / (ph - pc);',
      `y[flat] = ${storeD('v', elemOf(ctx, y))};`,
    ], [MEL]),
  ];
});
