// Signal processing: DFT (opset 17 with `axis` an attribute, opset 20 with it an operand), STFT,
// the Hann / Hamming / Blackman windows and MelWeightMatrix. Complex values are a trailing dim
// of 2 (real, imaginary); real input has a trailing dim of 1. Transforms are plain O(n²) sums
// over a precomputed twiddle table, in f64.
import type { DType } from '../../dtype.ts';
import { dtypeFromOnnx, isFloat } from '../../dtype.ts';
import type { EvalContext } from '../registry.ts';
import { defineOnnxEvals } from '../registry.ts';
import type { Data, Tensor } from '../tensor.ts';
import { allocData, isBigDType, makeTensor, roundTo, scalarOf, toF64 } from '../tensor.ts';
import type { AnyArray } from './util.ts';

/** A tensor of `dtype` from f64 values (integer dtypes truncate, as a C cast does). */
function fromF64(dtype: DType, shape: readonly number[], v: Float64Array): Tensor {
  if (dtype === 'f64') return makeTensor(dtype, shape, v);
  const out = allocData(dtype, v.length) as AnyArray;
  const big = isBigDType(dtype);
  for (let i = 0; i < v.length; i++) out[i] = big ? BigInt(Math.trunc(v[i]!)) : isFloat(dtype) ? v[i]! : Math.trunc(v[i]!);
  return roundTo(makeTensor(dtype, shape, out as Data));
}

function outputDType(ctx: EvalContext): DType {
  const d = dtypeFromOnnx(ctx.int('output_datatype', 1));
  if (typeof d !== 'string') ctx.fail(`output_datatype: ${d.unsupported}`);
  return d;
}

/** cos and sin of 2πj/n for j < n. */
function twiddles(n: number): [Float64Array, Float64Array] {
  const c = new Float64Array(n);
  const s = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    c[j] = Math.cos((2 * Math.PI * j) / n);
    s[j] = Math.sin((2 * Math.PI * j) / n);
  }
  return [c, s];
}

/**
 * out[k] = Σ_{m<len} x[m]·e^{∓2πi·k·m/n} for k < bins (x past `len` counts as zero), with x read
 * from (re, im) at offset `xo` and step `xs` and written to `out` at `oo`, step `os`.
 */
function dft(
  re: Float64Array, im: Float64Array | undefined, xo: number, xs: number, len: number,
  n: number, bins: number, inverse: boolean, tw: [Float64Array, Float64Array],
  out: Float64Array, oo: number, os: number,
): void {
  const [c, s] = tw;
  const sign = inverse ? 1 : -1;
  const scale = inverse ? 1 / n : 1;
  const m1 = Math.min(len, n);
  for (let k = 0; k < bins; k++) {
    let sr = 0;
    let si = 0;
    for (let m = 0; m < m1; m++) {
      const j = (k * m) % n;
      const xr = re[xo + m * xs]!;
      const xi = im ? im[xo + m * xs]! : 0;
      // (xr + i·xi)(cos + i·sign·sin)
      sr += xr * c[j]! - xi * sign * s[j]!;
      si += xr * sign * s[j]! + xi * c[j]!;
    }
    out[oo + k * os] = sr * scale;
    out[oo + k * os + 1] = si * scale;
  }
}

defineOnnxEvals(['DFT'], (ctx) => {
  const x = ctx.tensor(0);
  const r = x.shape.length;
  const complex = x.shape[r - 1] === 2;
  if (!complex && x.shape[r - 1] !== 1) ctx.fail(`the last dim must be 1 (real) or 2 (complex), got [${x.shape.join(', ')}]`);
  let axis = ctx.opset < 20 ? ctx.int('axis', 1) : ctx.has(2) ? scalarOf(ctx.tensor(2)) : -2;
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r - 2) ctx.fail(`axis is outside the signal dims of [${x.shape.join(', ')}]`);
  const inverse = ctx.int('inverse', 0) !== 0;
  const onesided = ctx.int('onesided', 0) !== 0;
  const len = x.shape[axis]!;
  const n = ctx.has(1) ? scalarOf(ctx.tensor(1)) : len;
  if (n < 1) ctx.fail(`dft_length must be positive, got ${n}`);
  const bins = onesided ? Math.floor(n / 2) + 1 : n;
  const outShape = x.shape.map((d, i) => (i === axis ? bins : i === r - 1 ? 2 : d));
  // Lines along `axis`: outer dims before it, inner dims after it (without the complex dim).
  const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(axis + 1, r - 1).reduce((a, b) => a * b, 1);
  const cw = complex ? 2 : 1;
  const xd = toF64(x);
  // Split re/im so the kernel reads both with one stride.
  const re = new Float64Array(xd.length / cw);
  const im = complex ? new Float64Array(xd.length / cw) : undefined;
  for (let i = 0; i < re.length; i++) {
    re[i] = xd[i * cw]!;
    if (im) im[i] = xd[i * cw + 1]!;
  }
  const out = new Float64Array(outer * bins * inner * 2);
  const tw = twiddles(n);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      dft(re, im, o * len * inner + i, inner, len, n, bins, inverse, tw, out, (o * bins * inner + i) * 2, inner * 2);
    }
  }
  return [fromF64(x.dtype, outShape, out)];
});

defineOnnxEvals(['STFT'], (ctx) => {
  const x = ctx.tensor(0);
  if (x.shape.length !== 3) ctx.fail(`signal must be [batch, length, 1 or 2], got [${x.shape.join(', ')}]`);
  const [batch, L, cw] = x.shape as [number, number, number];
  const step = scalarOf(ctx.tensor(1));
  const win = ctx.optTensor(2);
  const w = win ? toF64(win) : undefined;
  const n = ctx.has(3) ? scalarOf(ctx.tensor(3)) : w ? w.length : ctx.fail('STFT needs a window or a frame_length');
  if (w && w.length !== n) ctx.fail(`the window has ${w.length} elements but frame_length is ${n}`);
  const onesided = ctx.int('onesided', 1) !== 0;
  const bins = onesided ? Math.floor(n / 2) + 1 : n;
  const frames = Math.floor((L - n) / step) + 1;
  if (frames < 1 || step < 1) ctx.fail(`no frames: length ${L}, frame_length ${n}, frame_step ${step}`);
  const xd = toF64(x);
  const re = new Float64Array(n);
  const im = cw === 2 ? new Float64Array(n) : undefined;
  const out = new Float64Array(batch * frames * bins * 2);
  const tw = twiddles(n);
  for (let b = 0; b < batch; b++) {
    for (let f = 0; f < frames; f++) {
      for (let m = 0; m < n; m++) {
        const at = (b * L + f * step + m) * cw;
        const wm = w ? w[m]! : 1;
        re[m] = xd[at]! * wm;
        if (im) im[m] = xd[at + 1]! * wm;
      }
      dft(re, im, 0, 1, n, n, bins, false, tw, out, (b * frames + f) * bins * 2, 2);
    }
  }
  return [fromF64(x.dtype, [batch, frames, bins, 2], out)];
});

/** A cosine-sum window Σ_k (-1)^k a_k cos(2πkj/N), N = size (periodic) or size - 1 (symmetric). */
function cosineWindow(ctx: EvalContext, a: readonly number[]): Tensor[] {
  const size = scalarOf(ctx.tensor(0));
  const N = ctx.int('periodic', 1) !== 0 ? size : size - 1;
  const v = new Float64Array(Math.max(0, size));
  for (let j = 0; j < v.length; j++) {
    let s = 0;
    for (let k = 0; k < a.length; k++) s += (k % 2 ? -1 : 1) * a[k]! * Math.cos((2 * Math.PI * k * j) / N);
    v[j] = s;
  }
  return [fromF64(outputDType(ctx), [v.length], v)];
}

defineOnnxEvals(['HannWindow'], (ctx) => cosineWindow(ctx, [0.5, 0.5]));
defineOnnxEvals(['HammingWindow'], (ctx) => cosineWindow(ctx, [25 / 46, 21 / 46]));
defineOnnxEvals(['BlackmanWindow'], (ctx) => cosineWindow(ctx, [0.42, 0.5, 0.08]));

// Triangular mel filters: num_mel_bins + 2 points evenly spaced in mel between the edges, each
// mapped to a spectrogram bin floor((dft_length + 1)·hz / sample_rate); filter i rises from
// point i to point i+1 and falls to point i+2 (peak 1). As ONNX defines it, the mel step divides
// the range by num_mel_bins + 2.
defineOnnxEvals(['MelWeightMatrix'], (ctx) => {
  const mels = scalarOf(ctx.tensor(0));
  const dftLength = scalarOf(ctx.tensor(1));
  const rate = scalarOf(ctx.tensor(2));
  const lo = scalarOf(ctx.tensor(3));
  const hi = scalarOf(ctx.tensor(4));
  const specBins = Math.floor(dftLength / 2) + 1;
  const toMel = (f: number) => 2595 * Math.log10(1 + f / 700);
  const loMel = toMel(lo);
  const stepMel = (toMel(hi) - loMel) / (mels + 2);
  const points = new Array<number>(mels + 2);
  for (let i = 0; i < mels + 2; i++) {
    const hz = 700 * (Math.pow(10, (i * stepMel + loMel) / 2595) - 1);
    points[i] = Math.floor(((dftLength + 1) * hz) / rate);
  }
  const out = new Float64Array(specBins * mels);
  const set = (j: number, i: number, v: number) => {
    if (j < 0 || j >= specBins) ctx.fail(`mel point ${j} is outside the ${specBins} spectrogram bins`);
    out[j * mels + i] = v;
  };
  for (let i = 0; i < mels; i++) {
    const [l, c, h] = [points[i]!, points[i + 1]!, points[i + 2]!];
    if (c === l) set(c, i, 1);
    else for (let j = l; j <= c; j++) set(j, i, (j - l) / (c - l));
    for (let j = c; j < h; j++) set(j, i, (h - j) / (h - c));
  }
  return [fromF64(outputDType(ctx), [specBins, mels], out)];
});
