// Signal processing (opset 17+): DFT, STFT, the window generators, MelWeightMatrix. Complex
// values are a trailing axis of 2 (real, imaginary); real signals have a trailing 1.
import { FLOATS } from '../dtype.ts';
import type { InferContext } from '../op.ts';
import { between, exactly } from '../op.ts';
import type { Dim } from '../types.ts';
import { tensor } from '../types.ts';
import { attr, expectDType, normalizeAxis, onnxOp } from './util.ts';
import { dimMap, dtypeAttr, expectRank, fmt, scalarValue } from './nn-util.ts';

const INDEX = ['i32', 'i64'] as const;

/** A scalar (or 1-element) integer operand's contents: a dim, null when unknown. */
function sizeOperand(ctx: InferContext, i: number, what: string): Dim {
  const t = expectDType(ctx, i, INDEX);
  if (t.shape !== null && t.shape.length > 1) ctx.fail(`${what} must be a scalar, got ${fmt(t.shape)}`);
  const v = scalarValue(ctx, i);
  if (typeof v === 'number' && v < 0) ctx.fail(`${what} must be non-negative, got ${v}`);
  return v ?? null;
}

const onesidedLen = (n: Dim): Dim => dimMap(n, (v) => Math.floor(v / 2) + 1);

// DFT: the axis was an attribute (default 1) at opset 17 and is input 2 (default -2) from 20.
onnxOp('DFT', between(1, 3), exactly(1), { axis: attr.int, inverse: attr.int, onesided: attr.int }, (ctx) => {
  const x = expectDType(ctx, 0, FLOATS);
  let axis: Dim;
  if (ctx.opset >= 20) {
    if (ctx.attr('axis')) ctx.fail(`attribute 'axis' became input 2 at opset 20`);
    axis = ctx.has(2) ? (axisOperand(ctx) ?? null) : -2;
  } else {
    if (ctx.has(2)) ctx.fail(`the axis input needs opset 20 or later`);
    axis = ctx.int('axis', 1);
  }
  const len = ctx.has(1) ? sizeOperand(ctx, 1, 'dft_length') : undefined;
  if (x.shape === null) return [tensor(x.dtype, null)];
  expectRank(ctx, x, 'input', 2, Infinity);
  const r = x.shape.length;
  const last = x.shape[r - 1]!;
  if (typeof last === 'number' && last !== 1 && last !== 2) ctx.fail(`the last axis must be 1 (real) or 2 (complex), got ${fmt(x.shape)}`);
  const onesided = ctx.int('onesided', 0) !== 0;
  const inverse = ctx.int('inverse', 0) !== 0;
  if (axis === null || typeof axis === 'string') return [tensor(x.dtype, x.shape.map((d, i) => (i === r - 1 ? 2 : null)))];
  const a = normalizeAxis(ctx, axis, r);
  if (a === r - 1) ctx.fail(`axis ${axis} is the complex axis; the DFT axis must be one of the signal axes`);
  const n = len === undefined ? x.shape[a]! : len;
  // Onesided inverse (IRFFT, opset 20) returns a real signal whose length needs dft_length.
  if (onesided && inverse) {
    return [tensor(x.dtype, x.shape.map((d, i) => (i === a ? (len ?? null) : i === r - 1 ? null : d)))];
  }
  return [tensor(x.dtype, x.shape.map((d, i) => (i === a ? (onesided ? onesidedLen(n) : n) : i === r - 1 ? 2 : d)))];
});

/** DFT's axis input (opset 20): a scalar i64, when its contents are known. */
function axisOperand(ctx: InferContext): Dim | undefined {
  expectDType(ctx, 2, ['i64']);
  return scalarValue(ctx, 2);
}

// STFT: signal [batch, length, 1|2] → [batch, frames, bins, 2], frames = ⌊(length − frame) / step⌋ + 1.
onnxOp('STFT', between(2, 4), exactly(1), { onesided: attr.int }, (ctx) => {
  const x = expectDType(ctx, 0, FLOATS);
  expectRank(ctx, x, 'signal', 3);
  const step = sizeOperand(ctx, 1, 'frame_step');
  let frame: Dim = ctx.has(3) ? sizeOperand(ctx, 3, 'frame_length') : null;
  if (ctx.has(2)) {
    const w = expectDType(ctx, 2, FLOATS);
    expectRank(ctx, w, 'window', 1);
    const wl = w.shape?.[0] ?? null;
    if (typeof frame === 'number' && typeof wl === 'number' && frame !== wl) ctx.fail(`frame_length ${frame} differs from the window length ${wl}`);
    frame = frame ?? wl;
  }
  if (!ctx.has(2) && !ctx.has(3)) ctx.fail(`STFT needs a window or a frame_length`);
  const [batch, length, last] = x.shape ?? [null, null, null];
  if (typeof last === 'number' && last !== 1 && last !== 2) ctx.fail(`signal's last axis must be 1 or 2, got ${last}`);
  let frames: Dim = null;
  if (typeof length === 'number' && typeof frame === 'number' && typeof step === 'number') {
    if (frame > length) ctx.fail(`frame_length ${frame} exceeds the signal length ${length}`);
    if (step === 0) ctx.fail(`frame_step must be positive`);
    frames = Math.floor((length - frame) / step) + 1;
  }
  const bins = ctx.int('onesided', 1) !== 0 ? onesidedLen(frame) : frame;
  return [tensor(x.dtype, [batch!, frames, bins, 2])];
});

// Window generators: a 1-D window of `size` elements in output_datatype (default f32).
for (const name of ['HannWindow', 'HammingWindow', 'BlackmanWindow']) {
  onnxOp(name, exactly(1), exactly(1), { output_datatype: attr.int, periodic: attr.int }, (ctx) => {
    const size = sizeOperand(ctx, 0, 'size');
    const dtype = dtypeAttr(ctx, 'output_datatype', 'f32');
    return [tensor(dtype, [size])];
  });
}

// MelWeightMatrix: [⌊dft_length/2⌋ + 1, num_mel_bins].
onnxOp('MelWeightMatrix', exactly(5), exactly(1), { output_datatype: attr.int }, (ctx) => {
  const bins = sizeOperand(ctx, 0, 'num_mel_bins');
  const dft = sizeOperand(ctx, 1, 'dft_length');
  sizeOperand(ctx, 2, 'sample_rate');
  expectDType(ctx, 3, FLOATS);
  expectDType(ctx, 4, FLOATS);
  return [tensor(dtypeAttr(ctx, 'output_datatype', 'f32'), [onesidedLen(dft), bins])];
});
