// Resize (opsets 10–19) and Upsample (7, 9). Each resized axis gets, per output position, the
// source coordinate its coordinate_transformation_mode gives and from it a short list of taps
// (source index, weight): one for nearest, two for linear, four for cubic, more when antialias
// widens the filter for downsampling. Nearest gathers through an index map (exact for every
// dtype); linear and cubic are separable, so they run as one 1-D pass per axis in f64.
//
// Before opset 11 (Upsample, Resize-10) there are no attributes beyond `mode`: coordinates are
// asymmetric, and nearest truncates (ceil when downsampling), as ONNX Runtime does.
import { isFloat } from '../../dtype.ts';
import type { EvalContext } from '../registry.ts';
import { defineOnnxEvals } from '../registry.ts';
import type { Data, Tensor } from '../tensor.ts';
import { allocData, isBigDType, makeTensor, roundTo, toF64, toNumbers } from '../tensor.ts';
import type { AnyArray } from './util.ts';
import { normAxis, stridesOf, tableIndex, takeOrFill } from './util.ts';

interface Axis {
  inLen: number;
  outLen: number;
  scale: number;
  roiStart: number;
  roiEnd: number;
}

interface Taps {
  /** Taps per output position. */
  n: number;
  idx: Int32Array;
  w: Float64Array;
  /** Output positions whose source coordinate lies outside the input (tf_crop_and_resize). */
  outside: Uint8Array;
}

interface Options {
  mode: 'nearest' | 'linear' | 'cubic';
  coord: string;
  nearest: (x: number, down: boolean) => number;
  cubicA: number;
  excludeOutside: boolean;
  antialias: boolean;
  extrapolation: number;
}

/**
 * Source coordinate of output position x along an axis, in f32 arithmetic (`f` rounds each
 * step) as ONNX Runtime computes it: nearest rounding at exact halves depends on it.
 */
function sourceCoord(coord: string, x: number, a: Axis): number {
  const f = Math.fround;
  const { inLen, outLen } = a;
  const scale = f(a.scale);
  const halfPixel = () => f(f(f(x + 0.5) / scale) - 0.5);
  switch (coord) {
    case 'half_pixel': return halfPixel();
    case 'half_pixel_symmetric': {
      const adjustment = f(outLen / f(scale * inLen));
      const offset = f(f(inLen / 2) * f(1 - adjustment));
      return f(offset + halfPixel());
    }
    case 'pytorch_half_pixel': return outLen > 1 ? halfPixel() : 0;
    // The ONNX reference (and its conformance data) divides by the unrounded resized length
    // scale·inLen here, not by the integer output size as ONNX Runtime does.
    case 'align_corners': return outLen === 1 ? 0 : f(f(x * (inLen - 1)) / f(f(scale * inLen) - 1));
    case 'asymmetric': return f(x / scale);
    case 'tf_half_pixel_for_nn': return f(f(x + 0.5) / scale);
    case 'tf_crop_and_resize': {
      const [s, e] = [f(a.roiStart), f(a.roiEnd)];
      return outLen > 1
        ? f(f(s * (inLen - 1)) + f(f(f(x * f(e - s)) * (inLen - 1)) / (outLen - 1)))
        : f(f(0.5 * f(s + e)) * (inLen - 1));
    }
    default: throw new Error(`unknown coordinate_transformation_mode '${coord}'`);
  }
}

const NEAREST: Record<string, (x: number, down: boolean) => number> = {
  round_prefer_floor: (x) => -Math.round(-x),
  round_prefer_ceil: (x) => Math.round(x),
  floor: Math.floor,
  ceil: Math.ceil,
  // Upsample and Resize-10 (ONNX Runtime's "simple" mode).
  legacy: (x, down) => (down ? Math.ceil(x) : Math.trunc(x)),
};

/** Interpolation kernels: the triangle (linear) and Keys' cubic with parameter A. */
function kernelWeight(mode: 'linear' | 'cubic', A: number, t: number): number {
  const x = Math.abs(t);
  if (mode === 'linear') return Math.max(0, 1 - x);
  if (x <= 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
  if (x < 2) return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return 0;
}

function axisTaps(a: Axis, o: Options): Taps {
  const { inLen, outLen } = a;
  const crop = o.coord === 'tf_crop_and_resize';
  const outside = new Uint8Array(outLen);
  if (o.mode === 'nearest') {
    const idx = new Int32Array(outLen);
    for (let x = 0; x < outLen; x++) {
      const s = sourceCoord(o.coord, x, a);
      if (crop && (s < 0 || s > inLen - 1)) outside[x] = 1;
      idx[x] = Math.min(inLen - 1, Math.max(0, o.nearest(s, a.scale < 1)));
    }
    return { n: 1, idx, w: new Float64Array(outLen).fill(1), outside };
  }
  // Support 1 (linear) or 2 (cubic), widened by 1/scale when antialiasing a downsample: taps
  // floor(s) + start … floor(s) + start + n - 1, weights kernel((tap - s)·scale).
  const support = o.mode === 'linear' ? 1 : 2;
  const ks = o.antialias && a.scale < 1 ? a.scale : 1;
  const start = Math.floor(-support / ks) + 1;
  const n = 2 - 2 * start;
  const idx = new Int32Array(outLen * n);
  const w = new Float64Array(outLen * n);
  for (let x = 0; x < outLen; x++) {
    const s = sourceCoord(o.coord, x, a);
    if (crop && (s < 0 || s > inLen - 1)) outside[x] = 1;
    const base = Math.floor(s);
    const ratio = s - base;
    let sum = 0;
    for (let t = 0; t < n; t++) {
      const j = base + start + t;
      let wt = kernelWeight(o.mode, o.cubicA, (start + t - ratio) * ks);
      if (o.excludeOutside && (j < 0 || j >= inLen)) wt = 0;
      idx[x * n + t] = Math.min(inLen - 1, Math.max(0, j)); // edge padding
      w[x * n + t] = wt;
      sum += wt;
    }
    if ((o.excludeOutside || ks !== 1) && sum !== 0) for (let t = 0; t < n; t++) w[x * n + t]! /= sum;
  }
  return { n, idx, w, outside };
}

/** Resample axis `d` of a [outer, inLen, inner] f64 array with the taps of that axis. */
function pass(src: Float64Array, shape: readonly number[], d: number, taps: Taps, outLen: number, extrapolation: number): Float64Array {
  const outer = shape.slice(0, d).reduce((p, q) => p * q, 1);
  const inner = shape.slice(d + 1).reduce((p, q) => p * q, 1);
  const inLen = shape[d]!;
  const out = new Float64Array(outer * outLen * inner);
  const { n, idx, w, outside } = taps;
  for (let o = 0; o < outer; o++) {
    for (let x = 0; x < outLen; x++) {
      const ob = (o * outLen + x) * inner;
      if (outside[x]) {
        out.fill(extrapolation, ob, ob + inner);
        continue;
      }
      for (let t = 0; t < n; t++) {
        const wt = w[x * n + t]!;
        if (wt === 0) continue;
        const ib = (o * inLen + idx[x * n + t]!) * inner;
        for (let i = 0; i < inner; i++) out[ob + i]! += wt * src[ib + i]!;
      }
    }
  }
  return out;
}

function resize(ctx: EvalContext, x: Tensor, axes: Axis[], o: Options): Tensor {
  const r = x.shape.length;
  const outShape = axes.map((a) => a.outLen);
  const taps = axes.map((a) => axisTaps(a, o));
  if (o.mode === 'nearest') {
    const strides = stridesOf(x.shape);
    const tables = taps.map((t, d) => {
      const tb = new Float64Array(axes[d]!.outLen);
      for (let i = 0; i < tb.length; i++) tb[i] = t.outside[i] ? -Infinity : t.idx[i]! * strides[d]!;
      return tb;
    });
    const fill = isBigDType(x.dtype) ? BigInt(Math.trunc(o.extrapolation)) : o.extrapolation;
    return roundTo(takeOrFill(x, tableIndex(outShape, tables), outShape, fill));
  }
  if (x.dtype === 'string' || x.dtype === 'bool') ctx.fail(`${o.mode} resize is not defined on ${x.dtype}`);
  let cur = toF64(x);
  const shape = [...x.shape];
  for (let d = 0; d < r; d++) {
    const a = axes[d]!;
    const t = taps[d]!;
    const identity = a.inLen === a.outLen && !t.outside.some((v) => v) && t.idx.every((j, k) => (t.w[k] === 0) || (j === Math.floor(k / t.n) && t.w[k] === 1));
    if (identity) continue;
    cur = pass(cur, shape, d, t, a.outLen, o.extrapolation);
    shape[d] = a.outLen;
  }
  if (x.dtype === 'f64') return makeTensor('f64', outShape, cur === x.data ? Float64Array.from(cur) : cur);
  const out = allocData(x.dtype, cur.length) as AnyArray;
  const big = isBigDType(x.dtype);
  // Integer results truncate toward zero (a C cast), as the ONNX reference stores them.
  for (let i = 0; i < cur.length; i++) out[i] = big ? BigInt(Math.trunc(cur[i]!)) : isFloat(x.dtype) ? cur[i]! : Math.trunc(cur[i]!);
  return roundTo(makeTensor(x.dtype, outShape, out as Data));
}

function modeOf(ctx: EvalContext): Options['mode'] {
  const m = ctx.string('mode', 'nearest').toLowerCase();
  if (m === 'nearest') return 'nearest';
  if (m === 'linear' || m === 'bilinear' || m === 'trilinear') return 'linear';
  if (m === 'cubic' || m === 'bicubic') return 'cubic';
  return ctx.fail(`unknown resize mode '${m}'`);
}

/** Upsample and Resize-10: scales only, asymmetric coordinates, floor-sized outputs. */
function legacy(ctx: EvalContext, scales: readonly number[]): Tensor[] {
  const x = ctx.tensor(0);
  if (scales.length !== x.shape.length) ctx.fail(`${scales.length} scales for rank ${x.shape.length}`);
  const axes = x.shape.map((d, i) => ({ inLen: d, outLen: Math.floor(d * scales[i]!), scale: scales[i]!, roiStart: 0, roiEnd: 1 }));
  const opts: Options = {
    mode: modeOf(ctx), coord: 'asymmetric', nearest: NEAREST.legacy!, cubicA: -0.75,
    excludeOutside: false, antialias: false, extrapolation: 0,
  };
  return [resize(ctx, x, axes, opts)];
}

defineOnnxEvals(['Upsample'], (ctx) => legacy(ctx, ctx.opset < 9 ? ctx.floats('scales') : toNumbers(ctx.tensor(1))));

defineOnnxEvals(['Resize'], (ctx) => {
  if (ctx.opset < 11) return legacy(ctx, toNumbers(ctx.tensor(1)));
  const x = ctx.tensor(0);
  const r = x.shape.length;
  const axesList = ctx.attr('axes') ? ctx.ints('axes').map((a) => normAxis(a, r)) : x.shape.map((_, i) => i);
  const k = axesList.length;
  const roi = ctx.optTensor(1);
  const scalesT = ctx.optTensor(2);
  const sizesT = ctx.optTensor(3);
  const scalesIn = scalesT && scalesT.data.length > 0 ? toNumbers(scalesT) : undefined;
  const sizesIn = sizesT && sizesT.data.length > 0 ? toNumbers(sizesT) : undefined;
  if (!scalesIn === !sizesIn) ctx.fail('exactly one of scales and sizes must be given');
  const axes: Axis[] = x.shape.map((d) => ({ inLen: d, outLen: d, scale: 1, roiStart: 0, roiEnd: 1 }));
  if (scalesIn) {
    if (scalesIn.length !== k) ctx.fail(`${scalesIn.length} scales for ${k} axes`);
    axesList.forEach((ax, i) => {
      const s = scalesIn[i]!;
      if (!(s > 0)) ctx.fail(`scale ${s} must be positive`);
      axes[ax] = { ...axes[ax]!, scale: s, outLen: Math.floor(x.shape[ax]! * s) };
    });
  } else {
    const sizes = sizesIn!;
    if (sizes.length !== k) ctx.fail(`${sizes.length} sizes for ${k} axes`);
    const policy = ctx.string('keep_aspect_ratio_policy', 'stretch');
    if (policy === 'stretch') {
      axesList.forEach((ax, i) => {
        axes[ax] = { ...axes[ax]!, outLen: sizes[i]!, scale: sizes[i]! / x.shape[ax]! };
      });
    } else {
      // One scale for every listed axis: the largest that fits (not_larger) or the smallest that
      // covers (not_smaller) the requested sizes.
      const ratios = axesList.map((ax, i) => sizes[i]! / x.shape[ax]!);
      const s = policy === 'not_larger' ? Math.min(...ratios) : policy === 'not_smaller' ? Math.max(...ratios) : ctx.fail(`unknown keep_aspect_ratio_policy '${policy}'`);
      for (const ax of axesList) axes[ax] = { ...axes[ax]!, scale: s, outLen: Math.round(s * x.shape[ax]!) };
    }
  }
  const coord = ctx.string('coordinate_transformation_mode', 'half_pixel');
  if (coord === 'tf_crop_and_resize') {
    if (!roi || roi.data.length !== 2 * k) return ctx.fail(`tf_crop_and_resize needs roi of ${2 * k} values`);
    const rv = toNumbers(roi);
    axesList.forEach((ax, i) => {
      axes[ax] = { ...axes[ax]!, roiStart: rv[i]!, roiEnd: rv[i + k]! };
    });
  }
  const nearestMode = ctx.string('nearest_mode', 'round_prefer_floor');
  const nearest = NEAREST[nearestMode];
  if (!nearest || nearestMode === 'legacy') ctx.fail(`unknown nearest_mode '${nearestMode}'`);
  const opts: Options = {
    mode: modeOf(ctx), coord, nearest, cubicA: ctx.float('cubic_coeff_a', -0.75),
    excludeOutside: ctx.int('exclude_outside', 0) !== 0, antialias: ctx.int('antialias', 0) !== 0,
    extrapolation: ctx.float('extrapolation_value', 0),
  };
  try {
    return [resize(ctx, x, axes, opts)];
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('unknown coordinate')) ctx.fail(e.message);
    throw e;
  }
});
